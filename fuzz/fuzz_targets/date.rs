//! Date parsing on arbitrary text, numbers and date serials.
#![no_main]
use libfuzzer_sys::fuzz_target;
use taizhang::model::Cell;
use taizhang::normalize::date::parse_date;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let num = || f64::from_le_bytes(rest[..8].try_into().unwrap());
    let cell = match kind % 4 {
        0 if rest.len() >= 8 => Cell::Number(num()),
        1 if rest.len() >= 8 => Cell::Date(num()),
        _ => Cell::Text(String::from_utf8_lossy(rest).into_owned()),
    };
    let _ = parse_date(&cell);
});
