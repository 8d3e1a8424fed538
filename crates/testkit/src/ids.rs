//! Invented resident IDs (GB 11643) for fixtures: always a correct check
//! character unless a helper says it breaks one.

use taizhang::gb11643;

/// The region code of the invented county every fixture lives in.
pub const COUNTY: &str = "610922";

/// `first17` with its check character appended. Panics unless `first17`
/// is 17 ASCII digits (a fixture bug).
pub fn with_check(first17: &str) -> String {
    gb11643::with_check(first17).unwrap_or_else(|| panic!("not 17 digits for an ID: {first17:?}"))
}

/// A valid ID of county 610922: birth `YYYYMMDD`, sequence 0..=999 (its
/// last digit odd for a boy).
pub fn fake_id(birth: &str, seq: u32) -> String {
    with_check(&format!("{COUNTY}{birth}{:03}", seq % 1000))
}

/// `id` with the first two sequence digits (positions 15 and 16) each
/// moved up by one (9 → 0) and the check character recomputed: a valid ID
/// of the same region, birth date and sex, as a clerk retypes it.
pub fn sequence_retyped(id: &str) -> String {
    let bump = |d: u8| if d == b'9' { b'0' } else { d + 1 };
    let mut first17: Vec<u8> = id.as_bytes()[..17].to_vec();
    first17[14] = bump(first17[14]);
    first17[15] = bump(first17[15]);
    with_check(std::str::from_utf8(&first17).expect("ASCII digits"))
}

/// `id` with the neighbouring county's region code (610921 ↔ 610922) and
/// the check character recomputed.
pub fn region_retyped(id: &str) -> String {
    let region = if &id[..6] == "610921" {
        "610922"
    } else {
        "610921"
    };
    with_check(&format!("{region}{}", &id[6..17]))
}

/// What Excel keeps of an ID typed into a number cell: the first 15 digits,
/// then zeros.
pub fn excel_number(id: &str) -> f64 {
    let digits: String = id.chars().filter(char::is_ascii_digit).take(15).collect();
    digits.parse::<f64>().unwrap_or(0.0) * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_ids_pass_the_check() {
        let id = fake_id("20100503", 123);
        assert_eq!(&id[..14], "61092220100503");
        assert!(gb11643::passes(&id));
        for other in [sequence_retyped(&id), region_retyped(&id)] {
            assert!(gb11643::passes(&other), "{other}");
            assert_ne!(other, id);
            assert_eq!(&other[6..14], "20100503");
        }
        assert_eq!(region_retyped(&region_retyped(&id)), id);
        assert_eq!(excel_number(&id), 610922201005031000.0);
    }
}
