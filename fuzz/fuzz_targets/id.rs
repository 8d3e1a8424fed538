//! ID normalisation and validation on arbitrary text and numbers, and the
//! masking of free text (no full ID may survive it).
#![no_main]
use libfuzzer_sys::fuzz_target;
use taizhang::model::Cell;
use taizhang::gb11643::{mask_text, parse_id};

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let cell = match kind % 3 {
        0 if rest.len() >= 8 => Cell::Number(f64::from_le_bytes(rest[..8].try_into().unwrap())),
        _ => Cell::Text(String::from_utf8_lossy(rest).into_owned()),
    };
    let _ = parse_id(&cell);
    let text = String::from_utf8_lossy(rest);
    let masked = mask_text(&text);
    // No run of 17 digits and a digit/X survives masking.
    let b: Vec<char> = masked.chars().collect();
    let mut run = 0;
    for c in b {
        if c.is_ascii_digit() {
            run += 1;
            assert!(run < 18, "full ID left in masked text: {masked:?}");
        } else {
            assert!(!(run == 17 && matches!(c, 'X' | 'x')), "full ID left: {masked:?}");
            run = 0;
        }
    }
});
