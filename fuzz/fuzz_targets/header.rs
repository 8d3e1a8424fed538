//! Header detection (and role recognition, data rows, the no-header
//! message) on arbitrary grids: cells drawn from header words, numbers,
//! footer words and random text, plus arbitrary merged ranges.
#![no_main]
use libfuzzer_sys::fuzz_target;
use taizhang::model::Cell;
use taizhang::read::fuzzing::header_on_grid;

const WORDS: &[&str] = &[
    "姓名", "身份证号码", "证件号码", "性别", "出生日期", "村（社区）", "组", "户主姓名",
    "就读状态", "就读学校", "年级", "未在校原因", "佐证材料", "调查人", "乡镇", "序号",
    "学龄人口数", "在校人数", "本县", "县外", "失学辍学", "合计", "注：", "附件1", "附件3",
    "在校生状况", "预警类型", "", " ", "\n", "（必填）", "61092220100503123X", "金星村",
];

fuzz_target!(|data: &[u8]| {
    let mut cells = Vec::new();
    let mut merges = Vec::new();
    let mut it = data.chunks_exact(4);
    for ch in &mut it {
        let (r, c) = (ch[0] as u32 % 40 + 1, ch[1] as u32 % 24 + 1);
        match ch[2] % 8 {
            0 => merges.push((r, c, r + (ch[3] as u32 % 8), c + (ch[3] as u32 / 32))),
            1 => cells.push((r, c, Cell::Number(ch[3] as f64))),
            2 => cells.push((r, c, Cell::Error("#REF!".into()))),
            3 => cells.push((r, c, Cell::Date(ch[3] as f64 * 300.0))),
            4 => cells.push((
                r,
                c,
                Cell::Text(format!("{}{}", WORDS[ch[3] as usize % WORDS.len()], ch[3] as char)),
            )),
            _ => cells.push((r, c, Cell::Text(WORDS[ch[3] as usize % WORDS.len()].into()))),
        }
    }
    let _ = header_on_grid(cells, merges);
});
