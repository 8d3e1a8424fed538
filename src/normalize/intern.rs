//! One shared copy of each distinct value: the village, group, status,
//! school … that thousands of rows of a table repeat.

use crate::hash::MixSet;
use arcstr::ArcStr;

/// Hands out one [`ArcStr`] per distinct text, so records holding the same
/// value point to one copy. Empty text is the static empty string (no heap).
/// One interner serves one thread; two threads may each hold a copy of a
/// value, which changes nothing but a few bytes.
#[derive(Debug, Default)]
pub struct Interner {
    seen: MixSet<ArcStr>,
}

impl Interner {
    pub fn new() -> Interner {
        Interner::default()
    }

    /// The shared copy of `s`.
    pub fn get(&mut self, s: &str) -> ArcStr {
        if s.is_empty() {
            return ArcStr::new();
        }
        if let Some(a) = self.seen.get(s) {
            return a.clone();
        }
        let a = ArcStr::from(s);
        self.seen.insert(a.clone());
        a
    }

    /// Distinct values held.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_text_shares_one_copy() {
        let mut i = Interner::new();
        let a = i.get("金星村");
        let b = i.get(&String::from("金星村"));
        assert_eq!(a, "金星村");
        assert!(ArcStr::ptr_eq(&a, &b));
        assert!(!ArcStr::ptr_eq(&a, &i.get("先联村")));
        assert_eq!(i.len(), 2);
        let e = i.get("");
        assert!(e.is_empty() && ArcStr::is_static(&e));
        assert_eq!(i.len(), 2, "empty text is not stored");
    }
}
