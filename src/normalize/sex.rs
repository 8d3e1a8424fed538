//! Sex as workbooks write it: 男/女, 男性/女性, 1/2, M/F.

use super::text::compact;
use crate::model::{Cell, Sex};

/// None for an empty or unreadable cell.
pub fn parse_sex(cell: &Cell) -> Option<Sex> {
    match cell {
        Cell::Number(n) if *n == 1.0 => Some(Sex::Male),
        Cell::Number(n) if *n == 2.0 => Some(Sex::Female),
        Cell::Text(s) => match compact(s).to_lowercase().as_str() {
            "男" | "男性" | "1" | "1.0" | "m" | "male" | "男孩" => Some(Sex::Male),
            "女" | "女性" | "2" | "2.0" | "f" | "female" | "女孩" => Some(Sex::Female),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_spellings() {
        for s in ["男", " 男性", "1", "M", "m", "１"] {
            assert_eq!(parse_sex(&Cell::Text(s.into())), Some(Sex::Male), "{s}");
        }
        for s in ["女", "女性 ", "2", "F"] {
            assert_eq!(parse_sex(&Cell::Text(s.into())), Some(Sex::Female), "{s}");
        }
        assert_eq!(parse_sex(&Cell::Number(1.0)), Some(Sex::Male));
        assert_eq!(parse_sex(&Cell::Number(2.0)), Some(Sex::Female));
        assert_eq!(parse_sex(&Cell::Number(3.0)), None);
        assert_eq!(parse_sex(&Cell::Text("未知".into())), None);
        assert_eq!(parse_sex(&Cell::Empty), None);
    }
}
