//! A small gazetteer of China's provinces and prefecture-level cities, to
//! tell whether a free text (在江苏苏州跟父母读书, 到省城上学) names a place
//! outside the county of the round.
//!
//! Only places above the county are listed: a child who studies in another
//! province or another prefecture-level city studies outside the county.
//! The county itself (from the configuration or the roster's 县 column) is
//! never "outside", nor is any place its own name contains.

/// Provinces, autonomous regions, municipalities and special administrative
/// regions, by the short name clerks write (江苏, not 江苏省).
#[rustfmt::skip]
const PROVINCES: &[&str] = &[
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西", "山东",
    "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏",
    "宁夏", "新疆", "香港", "澳门",
];

/// Prefecture-level cities and prefectures, by their short name.
#[rustfmt::skip]
const CITIES: &[&str] = &[
    // 河北
    "石家庄", "唐山", "秦皇岛", "邯郸", "邢台", "保定", "张家口", "承德", "沧州", "廊坊", "衡水",
    // 山西
    "太原", "大同", "阳泉", "长治", "晋城", "朔州", "晋中", "运城", "忻州", "临汾", "吕梁",
    // 内蒙古
    "呼和浩特", "包头", "乌海", "赤峰", "通辽", "鄂尔多斯", "呼伦贝尔", "巴彦淖尔", "乌兰察布", "兴安盟", "锡林郭勒", "阿拉善",
    // 辽宁
    "沈阳", "大连", "鞍山", "抚顺", "本溪", "丹东", "锦州", "营口", "阜新", "辽阳", "盘锦", "铁岭", "朝阳", "葫芦岛",
    // 吉林
    "长春", "四平", "辽源", "通化", "白山", "松原", "白城", "延边",
    // 黑龙江
    "哈尔滨", "齐齐哈尔", "鸡西", "鹤岗", "双鸭山", "大庆", "伊春", "佳木斯", "七台河", "牡丹江", "黑河", "绥化", "大兴安岭",
    // 江苏
    "南京", "无锡", "徐州", "常州", "苏州", "南通", "连云港", "淮安", "盐城", "扬州", "镇江", "泰州", "宿迁",
    // 浙江
    "杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴", "金华", "衢州", "舟山", "台州", "丽水",
    // 安徽
    "合肥", "芜湖", "蚌埠", "淮南", "马鞍山", "淮北", "铜陵", "安庆", "黄山", "滁州", "阜阳", "宿州", "六安", "亳州", "池州",
    "宣城",
    // 福建
    "福州", "厦门", "莆田", "三明", "泉州", "漳州", "南平", "龙岩", "宁德",
    // 江西
    "南昌", "景德镇", "萍乡", "九江", "新余", "鹰潭", "赣州", "吉安", "宜春", "抚州", "上饶",
    // 山东
    "济南", "青岛", "淄博", "枣庄", "东营", "烟台", "潍坊", "济宁", "泰安", "威海", "日照", "临沂", "德州", "聊城", "滨州",
    "菏泽",
    // 河南
    "郑州", "开封", "洛阳", "平顶山", "安阳", "鹤壁", "新乡", "焦作", "濮阳", "许昌", "漯河", "三门峡", "南阳", "商丘", "信阳",
    "周口", "驻马店", "济源",
    // 湖北
    "武汉", "黄石", "十堰", "宜昌", "襄阳", "鄂州", "荆门", "孝感", "荆州", "黄冈", "咸宁", "随州", "恩施", "仙桃", "潜江",
    "天门",
    // 湖南
    "长沙", "株洲", "湘潭", "衡阳", "邵阳", "岳阳", "常德", "张家界", "益阳", "郴州", "永州", "怀化", "娄底", "湘西",
    // 广东
    "广州", "韶关", "深圳", "珠海", "汕头", "佛山", "江门", "湛江", "茂名", "肇庆", "惠州", "梅州", "汕尾", "河源", "阳江",
    "清远", "东莞", "中山", "潮州", "揭阳", "云浮",
    // 广西
    "南宁", "柳州", "桂林", "梧州", "北海", "防城港", "钦州", "贵港", "玉林", "百色", "贺州", "河池", "来宾", "崇左",
    // 海南
    "海口", "三亚", "三沙", "儋州",
    // 四川
    "成都", "自贡", "攀枝花", "泸州", "德阳", "绵阳", "广元", "遂宁", "内江", "乐山", "南充", "眉山", "宜宾", "广安", "达州",
    "雅安", "巴中", "资阳", "阿坝", "甘孜", "凉山",
    // 贵州
    "贵阳", "六盘水", "遵义", "安顺", "毕节", "铜仁", "黔西南", "黔东南", "黔南",
    // 云南
    "昆明", "曲靖", "玉溪", "保山", "昭通", "丽江", "普洱", "临沧", "楚雄", "红河", "文山", "西双版纳", "大理", "德宏", "怒江",
    "迪庆",
    // 西藏
    "拉萨", "日喀则", "昌都", "林芝", "山南", "那曲", "阿里",
    // 陕西
    "西安", "铜川", "宝鸡", "咸阳", "渭南", "延安", "汉中", "榆林", "安康", "商洛",
    // 甘肃
    "兰州", "嘉峪关", "金昌", "白银", "天水", "武威", "张掖", "平凉", "酒泉", "庆阳", "定西", "陇南", "临夏", "甘南",
    // 青海
    "西宁", "海东", "海北", "黄南", "海南州", "果洛", "玉树", "海西",
    // 宁夏
    "银川", "石嘴山", "吴忠", "固原", "中卫",
    // 新疆
    "乌鲁木齐", "克拉玛依", "吐鲁番", "哈密", "昌吉", "博尔塔拉", "巴音郭楞", "阿克苏", "克孜勒苏", "喀什", "和田", "伊犁", "塔城",
    "阿勒泰", "石河子",
];

/// Words that name a place outside the county without naming it.
#[rustfmt::skip]
const ELSEWHERE: &[&str] = &[
    "县外", "省外", "市外", "外省", "外县", "外市", "外地", "异地", "外出", "随迁", "省城", "省会", "随父母", "跟父母", "随爸妈",
    "跟爸妈", "随父", "随母", "出省", "出县", "外县市",
];

/// Words that put a text inside the county, whatever else it names.
#[rustfmt::skip]
const HOME: &[&str] = &[
    "本县", "县内", "县城", "本地", "当地", "本镇", "本乡", "镇上", "乡里", "本村", "村里", "镇里", "本辖区", "老家",
];

/// What follows a name when it is not the city: 朝阳小学, 新乡村, 中山路.
#[rustfmt::skip]
const NOT_A_CITY_AFTER: &[&str] = &[
    "小学", "中学", "学校", "初中", "路", "街", "村", "镇", "乡", "组", "社区", "大道", "巷",
];

/// The county of the round, as a key: NFKC, no whitespace, and its
/// 县/区/市/旗 suffix removed (宁陕县 → 宁陕).
pub fn county_key(county: &str) -> String {
    let c = super::text::compact(county);
    let mut k = c.as_str();
    for suf in ["自治县", "自治旗", "县", "区", "市", "旗"] {
        if let Some(rest) = k.strip_suffix(suf)
            && rest.chars().count() >= 2
        {
            k = rest;
            break;
        }
    }
    k.to_string()
}

/// Where a text places the child, relative to the county.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whereabouts {
    /// The text names the county or a place inside it.
    Home,
    /// The text names a place outside the county.
    Away,
    /// The text names no place.
    Unplaced,
}

/// Whether `key` (compact text) places the child inside or outside the
/// county `county` (a [`county_key`], empty when the county is unknown).
pub fn whereabouts(key: &str, county: &str) -> Whereabouts {
    if HOME.iter().any(|w| key.contains(w)) {
        return Whereabouts::Home;
    }
    if !county.is_empty() && key.contains(county) {
        return Whereabouts::Home;
    }
    if ELSEWHERE.iter().any(|w| key.contains(w)) {
        return Whereabouts::Away;
    }
    let named = PROVINCES.iter().chain(CITIES).any(|place| {
        (county.is_empty() || !county.contains(place))
            && key.match_indices(place).any(|(i, m)| {
                let after = &key[i + m.len()..];
                !NOT_A_CITY_AFTER.iter().any(|w| after.starts_with(w))
            })
    });
    if named {
        Whereabouts::Away
    } else {
        Whereabouts::Unplaced
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Whereabouts::*;

    #[test]
    fn provinces_and_cities_are_away() {
        for t in [
            "在江苏苏州跟父母读书",
            "在浙江上学",
            "广东东莞就读",
            "到省城上学",
            "在西安读书",
            "新疆乌鲁木齐",
        ] {
            assert_eq!(whereabouts(t, "宁陕"), Away, "{t}");
        }
    }

    #[test]
    fn the_county_and_local_words_are_home() {
        assert_eq!(whereabouts("在宁陕县城关小学就读", "宁陕"), Home);
        assert_eq!(whereabouts("在本县读书", ""), Home);
        assert_eq!(whereabouts("在县城上学", "宁陕"), Home);
    }

    #[test]
    fn school_and_village_names_are_not_cities() {
        assert_eq!(whereabouts("在朝阳小学就读", "宁陕"), Unplaced);
        assert_eq!(whereabouts("新乡村教学点", "宁陕"), Unplaced);
        assert_eq!(whereabouts("中山路学校", ""), Unplaced);
        assert_eq!(whereabouts("就读", ""), Unplaced);
    }

    #[test]
    fn county_suffix_is_dropped() {
        assert_eq!(county_key("宁陕县"), "宁陕");
        assert_eq!(county_key(" 吴江区 "), "吴江");
        assert_eq!(county_key("汉阴"), "汉阴");
    }
}
