//! What an ID cell holds: text cleaned (NFKC, quotes, spaces, invisible
//! characters, lower-case x), numbers Excel has cut to 15 significant
//! digits, 15-digit legacy IDs, disability card numbers → [`IdInfo`].

use super::{birth_date, check_digit, upgrade_15, well_formed18};
use crate::model::{Cell, IdInfo, IdKind};
use crate::normalize::text::{fixed_point, is_invisible, is_nfkc, is_space};
use unicode_normalization::UnicodeNormalization;

/// Text ID cleaned: NFKC, apostrophes/quotes, spaces and invisible
/// characters removed, lower-case x made upper-case.
fn clean_id_text(s: &str) -> String {
    let settled = s.chars().all(|c| {
        !is_invisible(c)
            && !is_space(c)
            && !matches!(c, '\'' | '‘' | '’' | '`' | '"' | '“' | '”' | 'x')
    }) && is_nfkc(s);
    if settled {
        return s.to_string();
    }
    fixed_point(s, |t| {
        t.nfkc()
            .filter(|c| {
                !is_invisible(*c)
                    && !is_space(*c)
                    && !matches!(c, '\'' | '‘' | '’' | '`' | '"' | '“' | '”')
            })
            .map(|c| if c == 'x' { 'X' } else { c })
            .collect()
    })
}

/// What Excel shows for a number: 15 significant digits, the rest zeros.
/// None when the number is not a non-negative whole number.
fn excel_digits(n: f64) -> Option<String> {
    if !n.is_finite() || n < 0.0 || n.fract() != 0.0 {
        return None;
    }
    if n < 1e15 {
        return Some(format!("{}", n as u64));
    }
    // "6.10922201005031e17": mantissa digits rounded to 15 significant.
    let sci = format!("{n:.14e}");
    let (mant, exp) = sci.split_once('e')?;
    let exp: usize = exp.parse().ok()?;
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = digits;
    while out.len() < exp + 1 {
        out.push('0');
    }
    Some(out)
}

/// Text such as "6.10922E+17" (a csv written from a number column): the
/// digits Excel would show, when they are at least 15.
fn scientific_text(s: &str) -> Option<String> {
    let (mant, exp) = s.split_once(['E', 'e'])?;
    let exp: i32 = exp.trim_start_matches('+').parse().ok()?;
    if !(14..=20).contains(&exp) {
        return None;
    }
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.len() != 1
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > exp as usize
    {
        return None;
    }
    let mut out = format!("{int}{frac}");
    while out.len() < exp as usize + 1 {
        out.push('0');
    }
    Some(out)
}

/// Classify an ID cell (GB 11643: 18 digits with a check digit, or a 15-digit legacy ID).
///
/// ```
/// use taizhang::model::{Cell, IdKind};
/// use taizhang::gb11643::parse_id;
/// let i = parse_id(&Cell::Text("'11010519491231002x ".into()));
/// assert_eq!(i.kind, IdKind::Valid);
/// assert_eq!(i.clean, "11010519491231002X");
/// ```
pub fn parse_id(cell: &Cell) -> IdInfo {
    let raw = cell.display();
    let info = |clean: String, kind: IdKind| IdInfo {
        raw: raw.as_str().into(),
        clean: clean.into(),
        kind,
    };
    match cell {
        Cell::Empty => return info(String::new(), IdKind::Missing),
        Cell::Number(n) => {
            return match excel_digits(*n) {
                Some(d) if d.len() > 15 => info(d, IdKind::Truncated),
                // 15 digits fit a double exactly: nothing was lost.
                Some(d) if d.len() == 15 => classify_text(d, &raw),
                Some(d) => info(d, IdKind::BadFormat),
                None => info(raw.trim().to_string(), IdKind::BadFormat),
            };
        }
        Cell::Text(_) => {}
        _ => return info(raw.trim().to_string(), IdKind::BadFormat),
    }
    let clean = clean_id_text(&raw);
    if clean.is_empty() {
        return info(clean, IdKind::Missing);
    }
    if let Some(d) = scientific_text(&clean) {
        return info(d, IdKind::Truncated);
    }
    classify_text(clean, &raw)
}

fn classify_text(clean: String, raw: &str) -> IdInfo {
    // A disability card number: the 18-character ID followed by a category
    // digit and a grade digit (20 characters; 22 also occur). When its first
    // 18 characters are a valid ID, that ID is the person's.
    if matches!(clean.len(), 20 | 22)
        && clean.is_ascii()
        && clean.as_bytes()[18..].iter().all(u8::is_ascii_digit)
        && classify(&clean[..18]) == IdKind::Valid
    {
        return IdInfo {
            raw: raw.into(),
            clean: clean[..18].into(),
            kind: IdKind::Valid,
        };
    }
    let kind = classify(&clean);
    IdInfo {
        raw: raw.into(),
        clean: clean.into(),
        kind,
    }
}

fn classify(clean: &str) -> IdKind {
    let b = clean.as_bytes();
    if b.len() == 15 && b.iter().all(u8::is_ascii_digit) {
        return match upgrade_15(clean) {
            Some(up) if birth_date(&up).is_some() => IdKind::Legacy15 {
                upgraded: up.into(),
            },
            Some(_) => IdKind::BadDate,
            None => IdKind::BadFormat,
        };
    }
    if !well_formed18(clean) {
        return IdKind::BadFormat;
    }
    if birth_date(clean).is_none() {
        return IdKind::BadDate;
    }
    match check_digit(&clean[..17]) {
        Some(c) if c as u8 == b[17] => IdKind::Valid,
        Some(expected) => IdKind::BadChecksum { expected },
        None => IdKind::BadFormat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gb11643::tests::fake;
    use chrono::NaiveDate;

    #[test]
    fn published_example_is_valid() {
        assert_eq!(check_digit("11010519491231002"), Some('X'));
        let i = parse_id(&Cell::Text("11010519491231002X".into()));
        assert_eq!(i.kind, IdKind::Valid);
        assert_eq!(i.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31));
        assert_eq!(i.sex(), Some(crate::model::Sex::Female));
    }

    #[test]
    fn disability_card_number_holds_the_id() {
        let id = fake("20100512", "123");
        for card in [format!("{id}12"), format!("{id}1203")] {
            let i = parse_id(&Cell::Text(card.clone()));
            assert_eq!(i.kind, IdKind::Valid, "{card}");
            assert_eq!(i.clean, id);
            assert_eq!(i.raw, card);
        }
        // Not a valid ID in front: the whole text is a bad format.
        let mut bad = id.clone();
        bad.replace_range(17..18, if id.ends_with('0') { "1" } else { "0" });
        assert_eq!(
            parse_id(&Cell::Text(format!("{bad}12"))).kind,
            IdKind::BadFormat
        );
        assert_eq!(
            parse_id(&Cell::Text(format!("{id}1"))).kind,
            IdKind::BadFormat
        );
    }

    #[test]
    fn legacy_fifteen_is_upgraded() {
        let i = parse_id(&Cell::Text("110105491231002".into()));
        assert_eq!(
            i.kind,
            IdKind::Legacy15 {
                upgraded: "11010519491231002X".into()
            }
        );
        assert_eq!(i.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31));
    }

    #[test]
    fn text_variants_are_cleaned() {
        let id = fake("20100503", "123");
        let lower = id.replace('X', "x");
        let full: String = id
            .chars()
            .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or(c))
            .collect();
        for t in [
            format!("'{id}"),
            format!(" {id}\u{3000}"),
            format!("{} {}", &id[..6], &id[6..]),
            lower,
            full.replace('X', "Ｘ"),
        ] {
            let i = parse_id(&Cell::Text(t.clone()));
            assert_eq!(i.clean, id, "{t}");
            assert_eq!(i.kind, IdKind::Valid, "{t}");
        }
    }

    #[test]
    fn wrong_check_digit() {
        let id = fake("20100503", "123");
        let last = id.chars().last().unwrap();
        let wrong = if last == '5' { '6' } else { '5' };
        let bad = format!("{}{wrong}", &id[..17]);
        let i = parse_id(&Cell::Text(bad));
        assert_eq!(i.kind, IdKind::BadChecksum { expected: last });
    }

    #[test]
    fn bad_date_and_format() {
        let first17 = "61092220100230123"; // 30 February
        let id = format!("{first17}{}", check_digit(first17).unwrap());
        assert_eq!(parse_id(&Cell::Text(id)).kind, IdKind::BadDate);
        assert_eq!(
            parse_id(&Cell::Text("61092220100503123".into())).kind,
            IdKind::BadFormat
        );
        assert_eq!(
            parse_id(&Cell::Text("6109222010050312AB".into())).kind,
            IdKind::BadFormat
        );
        assert_eq!(parse_id(&Cell::Text("无".into())).kind, IdKind::BadFormat);
        assert_eq!(parse_id(&Cell::Text("  ".into())).kind, IdKind::Missing);
        assert_eq!(parse_id(&Cell::Empty).kind, IdKind::Missing);
    }

    #[test]
    fn numbers_are_truncated_never_valid() {
        // A real-looking ID stored as a number, even one whose digits check.
        let id = (100..200)
            .map(|s| fake("20100503", &s.to_string()))
            .find(|id| !id.ends_with('X'))
            .unwrap();
        let i = parse_id(&Cell::Number(id.parse::<f64>().unwrap()));
        assert_eq!(i.kind, IdKind::Truncated);
        assert_eq!(i.clean, format!("{}000", &id[..15]));
        let i = parse_id(&Cell::Number(610922201005031234.0));
        assert_eq!(i.kind, IdKind::Truncated);
        assert_eq!(i.clean, "610922201005031000");
        let i = parse_id(&Cell::Text("6.10922E+17".into()));
        assert_eq!(i.kind, IdKind::Truncated);
        assert_eq!(i.clean, "610922000000000000");
        assert_eq!(parse_id(&Cell::Number(12345.0)).kind, IdKind::BadFormat);
    }
}
