//! Properties: every normaliser is idempotent on its own clean output.

use super::date::parse_date;
use super::name::clean_name;
use super::status::parse_status;
use super::text::{clean_text, compact};
use crate::gb11643::{check_digit, parse_id};
use crate::model::{Cell, DateValue, IdKind, StatusValue};
use chrono::NaiveDate;
use proptest::prelude::*;

/// Names the way clerks type them: CJK, dot variants, spaces, stray Latin.
const NAMEISH: &str =
    "[李王小明阿依木沙倩·•・．.‧ \u{3000}\u{00A0}\u{200B}\u{FEFF}\ta-zA-Z0-9Ａ１e\u{301}]{0,12}";
/// IDs the way they arrive: digits, full-width digits, x, quotes, spaces.
const IDISH: &str = "['‘ \u{3000}]{0,2}[0-9０-９]{0,18}[xXＸ0-9]?[ \u{200B}]{0,2}";

proptest! {
    #[test]
    fn text_is_idempotent(s in any::<String>()) {
        let c = clean_text(&s);
        prop_assert_eq!(clean_text(&c), c.clone());
        let k = compact(&s);
        prop_assert_eq!(compact(&k), k);
    }

    #[test]
    fn names_are_idempotent(s in NAMEISH) {
        let (c, _) = clean_name(&s);
        prop_assert_eq!(clean_name(&c).0, c);
    }

    #[test]
    fn names_are_idempotent_on_any_text(s in any::<String>()) {
        let (c, _) = clean_name(&s);
        prop_assert_eq!(clean_name(&c).0, c);
    }

    #[test]
    fn ids_are_idempotent(s in IDISH) {
        let first = parse_id(&Cell::Text(s));
        let again = parse_id(&Cell::Text(first.clean.to_string()));
        prop_assert_eq!(&again.clean, &first.clean);
        if first.kind != IdKind::Truncated {
            prop_assert_eq!(again.kind, first.kind);
        }
    }

    #[test]
    fn valid_ids_survive_any_dressing(birth in 0i64..4000, seq in 0u32..1000, pad in "[ '\u{3000}]{0,3}") {
        let d = NaiveDate::from_ymd_opt(2006, 1, 1).unwrap() + chrono::Duration::days(birth);
        let first17 = format!("610922{}{seq:03}", d.format("%Y%m%d"));
        let id = format!("{first17}{}", check_digit(&first17).unwrap());
        let p = parse_id(&Cell::Text(format!("{pad}{}{pad}", id.to_lowercase())));
        prop_assert_eq!(&p.kind, &IdKind::Valid);
        prop_assert_eq!(p.birth_date(), Some(d));
        prop_assert_eq!(p.clean, id);
    }

    #[test]
    fn number_ids_are_never_valid(n in 100_000_000_000_000u64..999_999_999_999_999_999u64) {
        let p = parse_id(&Cell::Number(n as f64));
        prop_assert_ne!(&p.kind, &IdKind::Valid);
        let again = parse_id(&Cell::Text(p.clean.to_string()));
        prop_assert_eq!(again.clean, p.clean);
    }

    #[test]
    fn dates_are_idempotent(days in 0i64..60_000, style in 0usize..7) {
        let d = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + chrono::Duration::days(days);
        let text = match style {
            0 => d.format("%Y-%m-%d").to_string(),
            1 => d.format("%Y/%-m/%-d").to_string(),
            2 => d.format("%Y.%m.%d").to_string(),
            3 => d.format("%Y年%-m月%-d日").to_string(),
            4 => d.format("%Y%m%d").to_string(),
            5 => d.format("%Y-%m-%d 00:00:00").to_string(),
            _ => d.format("%Y.%-m").to_string(),
        };
        let v = parse_date(&Cell::Text(text.clone()));
        match &v {
            DateValue::Day(x) => prop_assert_eq!(*x, d),
            DateValue::Month(y, m) => {
                prop_assert_eq!((*y, *m), (chrono::Datelike::year(&d), chrono::Datelike::month(&d)))
            }
            other => prop_assert!(false, "{text} → {other:?}"),
        }
        prop_assert_eq!(parse_date(&Cell::Text(v.display())), v);
    }

    #[test]
    fn any_date_text_is_idempotent(s in any::<String>()) {
        let v = parse_date(&Cell::Text(s));
        if matches!(v, DateValue::Day(_) | DateValue::Month(..)) {
            prop_assert_eq!(parse_date(&Cell::Text(v.display())), v);
        }
    }

    #[test]
    fn statuses_are_idempotent(s in any::<String>(), r in "(辍学|送教上门|生病|)") {
        if let StatusValue::Known(st) = parse_status(&s, &r) {
            prop_assert_eq!(parse_status(st.label_zh(), ""), StatusValue::Known(st));
        }
    }
}
