//! Dates as workbooks hold them: real dates (Excel serials), serial or
//! 8-digit numbers, and text in the usual Chinese spellings, including
//! month-only dates.

use super::text::compact;
use crate::model::{Cell, DateValue};
use chrono::{Days, NaiveDate};
use regex::Regex;
use std::sync::LazyLock;

/// Excel 1900-system serial → date (the time of day is ignored). Serial 60
/// is Excel's nonexistent 1900-02-29 and gives None, as does anything
/// below 1 or past 9999-12-31.
pub fn excel_serial_to_date(serial: f64) -> Option<NaiveDate> {
    if !serial.is_finite() || !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as u64;
    if days == 60 {
        return None;
    }
    // Serials below 60 count from 1899-12-31; from 61 on, Excel's phantom
    // leap day shifts the base one day back.
    let base = if days < 60 {
        NaiveDate::from_ymd_opt(1899, 12, 31)?
    } else {
        NaiveDate::from_ymd_opt(1899, 12, 30)?
    };
    base.checked_add_days(Days::new(days))
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

fn ym(y: &str, m: &str) -> Option<DateValue> {
    let y: i32 = y.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    ((1..=12).contains(&m) && (1800..=2200).contains(&y)).then_some(DateValue::Month(y, m))
}

static FULL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[T ]?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$",
    )
    .expect("static regex")
});
static COMPACT8: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{4})(\d{2})(\d{2})$").expect("static regex"));
static MONTH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{4})[-/.年](\d{1,2})月?$").expect("static regex"));
static COMPACT6: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{4})(\d{2})$").expect("static regex"));

/// Parse date text (already NFKC'd and without whitespace).
fn parse_text(t: &str) -> Option<DateValue> {
    if let Some(c) = FULL.captures(t) {
        return ymd(&c[1], &c[2], &c[3]).map(DateValue::Day);
    }
    if let Some(c) = COMPACT8.captures(t) {
        return ymd(&c[1], &c[2], &c[3]).map(DateValue::Day);
    }
    if let Some(c) = MONTH.captures(t) {
        return ym(&c[1], &c[2]);
    }
    if let Some(c) = COMPACT6.captures(t) {
        return ym(&c[1], &c[2]);
    }
    None
}

/// A stated date (birth date column).
pub fn parse_date(cell: &Cell) -> DateValue {
    match cell {
        Cell::Empty => DateValue::Missing,
        Cell::Date(s) => excel_serial_to_date(*s)
            .map(DateValue::Day)
            .unwrap_or_else(|| DateValue::Unparsed(cell.display().into())),
        Cell::Number(n) => {
            parse_number(*n).unwrap_or_else(|| DateValue::Unparsed(cell.display().into()))
        }
        Cell::Text(s) => {
            let t = compact(s);
            if t.is_empty() {
                return DateValue::Missing;
            }
            // Drop Excel's midnight when text holds "2010-05-03 00:00:00".
            parse_text(&t)
                .or_else(|| {
                    // A number exported as text: "20100512.0".
                    let digits = t.trim_end_matches('0').strip_suffix('.')?;
                    (digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| parse_text(digits))?
                })
                .unwrap_or_else(|| DateValue::Unparsed(s.trim().into()))
        }
        Cell::Bool(_) | Cell::Error(_) => DateValue::Unparsed(cell.display().into()),
    }
}

fn parse_number(n: f64) -> Option<DateValue> {
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    if n.fract() == 0.0 {
        let i = n as u64;
        // 20100503 typed into a number cell.
        if (18_000_101..=22_001_231).contains(&i) {
            return parse_text(&i.to_string());
        }
        // 201005
        if (180_001..=220_012).contains(&i) {
            return parse_text(&i.to_string());
        }
        // A bare year (1900..2100) is no date; serials of 1905 are implausible.
        if (1800..=2200).contains(&i) {
            return None;
        }
    } else if (1800.0..2201.0).contains(&n) {
        // 2010.5 typed into a number cell: year.month. 2011.10 typed so is
        // the number 2011.1: January or October.
        let text = format!("{n}");
        if let Some(y) = text.strip_suffix(".1") {
            return y.parse().ok().map(DateValue::JanuaryOrOctober);
        }
        return parse_text(&text);
    }
    if (1.0..80_000.0).contains(&n) {
        return excel_serial_to_date(n).map(DateValue::Day);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> DateValue {
        DateValue::Day(NaiveDate::from_ymd_opt(y, m, dd).unwrap())
    }
    fn t(s: &str) -> DateValue {
        parse_date(&Cell::Text(s.into()))
    }

    #[test]
    fn serials() {
        assert_eq!(
            excel_serial_to_date(1.0),
            NaiveDate::from_ymd_opt(1900, 1, 1)
        );
        assert_eq!(
            excel_serial_to_date(59.0),
            NaiveDate::from_ymd_opt(1900, 2, 28)
        );
        assert_eq!(excel_serial_to_date(60.0), None);
        assert_eq!(
            excel_serial_to_date(61.0),
            NaiveDate::from_ymd_opt(1900, 3, 1)
        );
        assert_eq!(
            excel_serial_to_date(40301.0),
            NaiveDate::from_ymd_opt(2010, 5, 3)
        );
        assert_eq!(
            excel_serial_to_date(40301.75),
            NaiveDate::from_ymd_opt(2010, 5, 3)
        );
        assert_eq!(excel_serial_to_date(0.0), None);
        assert_eq!(parse_date(&Cell::Date(40301.0)), d(2010, 5, 3));
        assert_eq!(parse_date(&Cell::Number(40301.0)), d(2010, 5, 3));
        assert_eq!(parse_date(&Cell::Number(20100503.0)), d(2010, 5, 3));
        assert_eq!(parse_date(&Cell::Number(2010.5)), DateValue::Month(2010, 5));
        assert_eq!(
            parse_date(&Cell::Number(2010.12)),
            DateValue::Month(2010, 12)
        );
        assert_eq!(parse_date(&Cell::Number(20100512.0)), d(2010, 5, 12));
        // 2011.10 typed into a number cell is the number 2011.1.
        let jan_or_oct = parse_date(&Cell::Number(2011.1));
        assert_eq!(jan_or_oct, DateValue::JanuaryOrOctober(2011));
        assert_eq!(jan_or_oct.agrees(&d(2011, 10, 3)), Some(true));
        assert_eq!(jan_or_oct.agrees(&d(2011, 1, 30)), Some(true));
        assert_eq!(jan_or_oct.agrees(&d(2011, 11, 3)), Some(false));
        assert_eq!(jan_or_oct.agrees(&DateValue::Month(2011, 10)), Some(true));
        // Typed as text, 2011.1 is January.
        assert_eq!(t("2011.1"), DateValue::Month(2011, 1));
        assert_eq!(
            parse_date(&Cell::Number(2010.0)),
            DateValue::Unparsed("2010".into())
        );
    }

    #[test]
    fn text_forms() {
        for s in [
            "2010-05-03",
            "2010/5/3",
            "2010.05.03",
            "2010年5月3日",
            "20100503",
            "2010-05-03 00:00:00",
            " ２０１０－０５－０３ ",
            "2010年05月03日",
            "20100503.0",
            "20100503.00",
        ] {
            assert_eq!(t(s), d(2010, 5, 3), "{s}");
        }
        for s in ["2010.5", "2010-05", "2010年5月", "2010/5", "201005"] {
            assert_eq!(t(s), DateValue::Month(2010, 5), "{s}");
        }
    }

    #[test]
    fn invalid() {
        assert_eq!(t("2010-02-30"), DateValue::Unparsed("2010-02-30".into()));
        assert_eq!(t("2010.13"), DateValue::Unparsed("2010.13".into()));
        assert_eq!(t("不详"), DateValue::Unparsed("不详".into()));
        assert_eq!(t("  "), DateValue::Missing);
        assert_eq!(parse_date(&Cell::Empty), DateValue::Missing);
    }
}
