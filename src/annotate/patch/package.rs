//! The input package: its entries by name, read on demand, and the error
//! helpers every part uses.

use crate::annotate::AnnotateError;
use crate::annotate::sheet::SheetError;
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use zip::ZipArchive;

pub(super) struct Pkg<R: Read + Seek> {
    pub zip: ZipArchive<R>,
    /// Entry names in the input's order.
    pub names: Vec<String>,
    /// Entry name (and its lower-case form) → index.
    index: HashMap<String, usize>,
    /// The input, for messages.
    pub path: PathBuf,
}

impl<R: Read + Seek> Pkg<R> {
    /// Open the package read from `reader`; `input` names it in messages.
    /// An encrypted workbook (an OLE file, or encrypted entries) is
    /// refused as such.
    pub fn open(mut reader: R, input: &Path) -> Result<Self, AnnotateError> {
        let mut magic = [0u8; 8];
        let n = reader.read(&mut magic).map_err(|e| corrupt(input, e))?;
        if n == 8 && magic == [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] {
            return Err(AnnotateError::Encrypted {
                path: input.to_path_buf(),
            });
        }
        reader
            .seek(SeekFrom::Start(0))
            .map_err(|e| corrupt(input, e))?;
        let mut zip = ZipArchive::new(reader).map_err(|e| corrupt(input, e))?;
        let mut names = Vec::with_capacity(zip.len());
        let mut index = HashMap::new();
        for i in 0..zip.len() {
            let f = zip.by_index_raw(i).map_err(|e| corrupt(input, e))?;
            if f.encrypted() {
                return Err(AnnotateError::Encrypted {
                    path: input.to_path_buf(),
                });
            }
            let name = f.name().map_err(|e| corrupt(input, e))?.to_string();
            index.insert(name.clone(), i);
            index.entry(name.to_ascii_lowercase()).or_insert(i);
            names.push(name);
        }
        Ok(Pkg {
            zip,
            names,
            index,
            path: input.to_path_buf(),
        })
    }
    pub fn find(&self, name: &str) -> Option<usize> {
        self.index
            .get(name)
            .or_else(|| self.index.get(&name.to_ascii_lowercase()))
            .copied()
    }
    pub fn exists(&self, name: &str) -> bool {
        self.find(name).is_some()
    }
    pub fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, AnnotateError> {
        let Some(i) = self.find(name) else {
            return Ok(None);
        };
        let path = self.path.clone();
        let mut f = self.zip.by_index(i).map_err(|e| corrupt(&path, e))?;
        let mut v = Vec::new();
        f.read_to_end(&mut v).map_err(|e| corrupt(&path, e))?;
        Ok(Some(v))
    }
}

pub(super) fn corrupt(path: &Path, e: impl std::fmt::Display) -> AnnotateError {
    AnnotateError::Corrupt {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

pub(super) fn write_err(path: &Path, e: impl std::fmt::Display) -> AnnotateError {
    AnnotateError::Write {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

pub(super) fn sheet_err(input: &Path, output: &Path, part: &str, e: SheetError) -> AnnotateError {
    match e {
        SheetError::Xml(m) => corrupt(input, format!("{part}：{m}")),
        SheetError::Io(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            ) =>
        {
            corrupt(input, format!("{part}：{e}"))
        }
        SheetError::Io(e) => write_err(output, e),
    }
}
