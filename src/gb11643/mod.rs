//! Chinese resident identity numbers (GB 11643-1999): everything taizhang
//! knows about them lives here.
//!
//! An 18-character ID is a 6-digit region code (positions 1–6), the birth
//! date `YYYYMMDD` (7–14), a 3-digit sequence (15–17) whose last digit is
//! odd for a man and even for a woman, and a check character (18) computed
//! by ISO 7064 MOD 11-2 over the first 17 digits (`0`–`9` or `X`). The
//! legacy 15-digit form drops the century `19` and the check character.
//!
//! - this file: the check character, 15→18 upgrade, birth date and sex of
//!   an ID, and the one masking rule for every ID shown to a person;
//! - [`cell`]: what a workbook cell holds (cleaning, numbers Excel cut to
//!   15 significant digits, disability card numbers) → [`IdInfo`];
//! - [`compare`]: two IDs compared segment by segment, and the repairs the
//!   linker tries (one wrong digit, two adjacent digits swapped).
//!
//! [`IdInfo`]: crate::model::IdInfo

pub mod cell;
pub mod compare;

pub use cell::parse_id;
pub use compare::{IdLevel, compare_ids, repairs, segment_zh};

use crate::model::Sex;
use chrono::NaiveDate;

/// Weights of the first 17 digits in the MOD 11-2 sum.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The check character for each value of the weighted sum modulo 11.
pub const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The check character (as an ASCII byte) for 17 ASCII digits; None if
/// there are not exactly 17 or one is not a digit.
pub fn check_byte(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (b, w) in first17.iter().zip(WEIGHTS) {
        if !b.is_ascii_digit() {
            return None;
        }
        sum += (*b - b'0') as u32 * w;
    }
    Some(CHECK_CHARS[(sum % 11) as usize] as u8)
}

/// The check character for the first 17 digits; None unless `first17` is
/// exactly 17 ASCII digits.
///
/// ```
/// assert_eq!(taizhang::gb11643::check_digit("11010519491231002"), Some('X'));
/// ```
pub fn check_digit(first17: &str) -> Option<char> {
    check_byte(first17.as_bytes()).map(char::from)
}

/// `first17` with its check character appended; None unless 17 digits.
pub fn with_check(first17: &str) -> Option<String> {
    check_digit(first17).map(|c| format!("{first17}{c}"))
}

/// 18 characters whose check character fits the first 17 digits.
pub fn passes(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 18 && check_byte(&b[..17]) == Some(b[17])
}

/// 18 characters: 17 digits and a final digit or `X`.
pub fn well_formed18(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X')
}

/// 15-digit legacy ID → 18 digits: "19" inserted after the 6-digit region
/// code, check character appended. None unless exactly 15 ASCII digits.
pub fn upgrade_15(id15: &str) -> Option<String> {
    if id15.len() != 15 || !id15.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    with_check(&format!("{}19{}", &id15[..6], &id15[6..]))
}

/// The 8 birth-date digits of an 18-character ID, or of a 15-digit legacy
/// ID with the century 19 put back; whether they form a real date or not.
pub fn birth_digits(id: &str) -> Option<String> {
    match id.len() {
        15 => id.get(6..12).map(|d| format!("19{d}")),
        _ => id.get(6..14).map(str::to_string),
    }
}

/// Birth date of an 18-character ID, when it is a real date in 1900 or
/// later.
pub fn birth_date(id18: &str) -> Option<NaiveDate> {
    let digits = id18.get(6..14)?;
    let d = match ymd_digits(digits) {
        Some((y, m, d)) => NaiveDate::from_ymd_opt(y, m, d)?,
        // Not eight ASCII digits: chrono's reading of the text.
        None => NaiveDate::parse_from_str(digits, "%Y%m%d").ok()?,
    };
    (chrono::Datelike::year(&d) >= 1900).then_some(d)
}

/// Year, month and day of eight ASCII digits `YYYYMMDD` (what chrono's
/// `%Y%m%d` reads from them, without its format machinery: this runs
/// several times per child).
fn ymd_digits(s: &str) -> Option<(i32, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num =
        |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |n, &c| n * 10 + u32::from(c - b'0'));
    Some((num(0..4) as i32, num(4..6), num(6..8)))
}

/// The sex digit of an 18-character ID: position 17, the last of the
/// sequence.
pub fn sex_digit(id18: &str) -> Option<char> {
    id18.chars().nth(16).filter(char::is_ascii_digit)
}

/// Sex of an 18-character ID: the 17th digit is odd for a man, even for a
/// woman.
pub fn sex(id18: &str) -> Option<Sex> {
    let d = sex_digit(id18)?.to_digit(10)?;
    Some(if d % 2 == 1 { Sex::Male } else { Sex::Female })
}

/// The one masking rule for every ID shown to a person (terminal, 报告.html,
/// quoted cells): `610922201005031234` → `610922***********4`. Only the
/// 6-digit region code stays, plus the check character of an 18-character
/// ID; the birth date and the sequence digits are hidden, so the full ID can
/// never be rebuilt from a masked ID and a birth date printed beside it.
/// Runs of other lengths keep the first 6 characters when longer than 10,
/// else everything is starred.
pub fn mask(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let n = chars.len();
    if n <= 10 {
        return "*".repeat(n);
    }
    let tail = usize::from(n == 18);
    let mut out: String = chars[..6].iter().collect();
    out.push_str(&"*".repeat(n - 6 - tail));
    out.extend(&chars[n - tail..]);
    out
}

/// Mask every ID-looking run in free text: any run of 14 or more digits
/// (an 18-character ID may end in X), so an ID with a digit lost or added
/// is masked too.
pub fn mask_text(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let mut end = i;
        if end - start == 17 && i < chars.len() && matches!(chars[i], 'X' | 'x') {
            end += 1;
            i += 1;
        }
        let run: String = chars[start..end].iter().collect();
        // 15 and 18 digits are IDs; 14–17 and 19+ are IDs with a digit lost or added.
        if end - start >= 14 {
            out.push_str(&mask(&run));
        } else {
            out.push_str(&run);
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fake child ID for county 610922 with a correct check character.
    pub(crate) fn fake(birth: &str, seq: &str) -> String {
        with_check(&format!("610922{birth}{seq}")).unwrap()
    }

    #[test]
    fn published_examples() {
        assert_eq!(check_digit("11010519491231002"), Some('X'));
        assert_eq!(check_digit("44052418800101001"), Some('4'));
        assert_eq!(check_digit("1101051949123100"), None);
        assert_eq!(check_digit("1101051949123100A"), None);
        assert!(passes("11010519491231002X"));
        assert!(!passes("110105194912310021"));
        assert_eq!(
            birth_date("11010519491231002X"),
            NaiveDate::from_ymd_opt(1949, 12, 31)
        );
        assert_eq!(sex("11010519491231002X"), Some(Sex::Female));
        assert_eq!(sex_digit("11010519491231002X"), Some('2'));
    }

    #[test]
    fn birth_dates_read_as_chrono_reads_them() {
        // Every day of two years, impossible days and odd text: the digit
        // reading gives what chrono's `%Y%m%d` gives.
        let mut texts: Vec<String> = Vec::new();
        for y in ["1899", "2012", "2013"] {
            for m in 0..=13 {
                for d in 0..=32 {
                    texts.push(format!("{y}{m:02}{d:02}"));
                }
            }
        }
        texts.extend(
            ["2010 503", "+2010503", "201005O3", "2010-5-3", "20100503x"].map(String::from),
        );
        for t in texts {
            let id = format!("610922{t}0012");
            let chrono = NaiveDate::parse_from_str(id.get(6..14).unwrap_or(""), "%Y%m%d")
                .ok()
                .filter(|d| chrono::Datelike::year(d) >= 1900);
            assert_eq!(birth_date(&id), chrono, "{t}");
        }
    }

    #[test]
    fn fifteen_and_eighteen() {
        assert_eq!(
            upgrade_15("110105491231002").as_deref(),
            Some("11010519491231002X")
        );
        assert_eq!(upgrade_15("12345"), None);
        assert_eq!(birth_digits("110105491231002").as_deref(), Some("19491231"));
        assert_eq!(
            birth_digits("61092220100230123X").as_deref(),
            Some("20100230")
        );
    }

    #[test]
    fn birth_date_must_be_real() {
        assert_eq!(birth_date("61092220100230123X"), None);
        assert_eq!(birth_date("61092218991231123X"), None);
        assert_eq!(birth_date("6109222010"), None);
        let id = fake("20100503", "123");
        assert_eq!(birth_date(&id), NaiveDate::from_ymd_opt(2010, 5, 3));
        assert_eq!(sex(&id), Some(Sex::Male));
        assert_eq!(sex(&fake("20100503", "124")), Some(Sex::Female));
    }

    #[test]
    fn masking() {
        assert_eq!(mask("61092220100503123X"), "610922***********X");
        assert_eq!(mask("110105491231002"), "110105*********");
        assert_eq!(mask("12345"), "*****");
        assert_eq!(
            mask_text("身份证号61092220100503123x与110105491231002不符，电话13800001111"),
            "身份证号610922***********x与110105*********不符，电话13800001111"
        );
        // An ID with a digit lost or added is still masked; a phone number is not.
        assert_eq!(mask_text("61092220120206405"), "610922***********");
        assert_eq!(mask_text("1234567890123456789"), "123456*************");
        // Quoted cells of a file whose header was not found.
        assert_eq!(
            mask_text("张三 61092220100503123X 男"),
            "张三 610922***********X 男"
        );
        assert_eq!(mask_text("610922201005031234"), "610922***********4");
        assert_eq!(mask_text("第3行 2010"), "第3行 2010");
    }
}
