//! Stage 1: workbooks and csv files → [`Table`]s of [`RawRow`]s.
//! (stub: being written)

use crate::model::{Cell, Role, Table};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Every message is plain Chinese and names the file (and sheet/cell).
    #[error("{message}")]
    Input { path: PathBuf, message: String },
}

/// Read every data sheet of one input. `role` forces the role (command-line
/// `--roster`, `--survey` …); None recognises it from title and headers.
/// `township`: roster rows of another 乡镇 are skipped and counted.
/// `first_index`: the [`Table::index`] given to the first table returned.
pub fn read_input(
    path: &Path,
    role: Option<Role>,
    township: Option<&str>,
    first_index: usize,
) -> Result<Vec<Table>, ReadError> {
    let _ = (role, township, first_index);
    Err(ReadError::Input {
        path: path.to_path_buf(),
        message: "unimplemented".into(),
    })
}

/// Every non-empty cell of every sheet (for rebuilding xls/ods/csv inputs
/// as annotated xlsx copies).
#[derive(Clone, Debug)]
pub struct Grid {
    pub sheet: String,
    /// (1-based row, 1-based col, value)
    pub cells: Vec<(u32, u32, Cell)>,
    /// Merged ranges as (first_row, first_col, last_row, last_col), 1-based.
    pub merges: Vec<(u32, u32, u32, u32)>,
}

pub fn read_grids(path: &Path) -> Result<Vec<Grid>, ReadError> {
    Err(ReadError::Input {
        path: path.to_path_buf(),
        message: "unimplemented".into(),
    })
}
pub fn detect_format(path: &Path) -> Result<crate::model::Format, ReadError> {
    Err(ReadError::Input {
        path: path.to_path_buf(),
        message: "unimplemented".into(),
    })
}
