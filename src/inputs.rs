//! The inputs of a round: which files, with which role, and their tables.
//!
//! A round's files come from a folder (every workbook in it, its kind
//! recognised from content) and from files named one by one, with a role
//! (`--roster`, `--survey` …) or without one. Reading them yields the tables;
//! in a folder, a file that is not an input (a warning list, an Office lock
//! file) or cannot be read is left out instead of stopping the round. When
//! the roles recognised leave the round without a roster or a survey,
//! [`settle_roles`] gives another reading of a file that role.

use crate::config::Config;
use crate::model::{Field, InputId, Role, Table};
use crate::read;
use crate::report::SkippedInput;
use crate::round::{Progress, RoundError};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// The tables read, each with the sink its rows went to, and the files of
/// a folder left out (see [`Inputs::read_into`]).
pub type Read<S> = (Vec<(Table, S)>, Vec<SkippedInput>);

/// Workbook extensions taizhang reads.
pub const INPUT_EXTENSIONS: [&str; 5] = ["xlsx", "xlsm", "xls", "ods", "csv"];

/// One file of the round; `role` is `None` when it is recognised from content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub path: PathBuf,
    pub role: Option<Role>,
}

/// What the user named: a folder and files, with or without a role.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Every workbook of this folder, recognised from content.
    pub folder: Option<PathBuf>,
    /// Files recognised from content, read like a folder's.
    pub files: Vec<PathBuf>,
    pub roster: Option<PathBuf>,
    pub survey: Vec<PathBuf>,
    pub ledger: Vec<PathBuf>,
    pub stats: Vec<PathBuf>,
}

/// The files of a round, in the order they are read.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub files: Vec<Input>,
    /// The files come from a folder: a file that is not an input or cannot
    /// be read is left out (and named in every output) instead of stopping
    /// the round.
    pub from_folder: bool,
}

impl Selection {
    /// A folder's workbooks.
    pub fn folder(dir: impl Into<PathBuf>) -> Selection {
        Selection {
            folder: Some(dir.into()),
            ..Selection::default()
        }
    }

    /// The files to read: the folder's workbooks (except those named with a
    /// role), then the files without a role, the roster, the surveys, the
    /// ledgers and the statistics tables.
    pub fn resolve(&self) -> Result<Inputs, RoundError> {
        let mut files: Vec<Input> = Vec::new();
        let named: HashSet<&PathBuf> = self
            .roster
            .iter()
            .chain(&self.survey)
            .chain(&self.ledger)
            .chain(&self.stats)
            .collect();
        let unnamed = |p: &PathBuf| Input {
            path: p.clone(),
            role: None,
        };
        if let Some(dir) = &self.folder {
            if !dir.is_dir() {
                return Err(RoundError::NoFolder(dir.clone()));
            }
            for p in folder_inputs(dir)? {
                if !named.contains(&p) {
                    files.push(unnamed(&p));
                }
            }
        }
        files.extend(self.files.iter().map(unnamed));
        let with = |role: Role| {
            move |p: &PathBuf| Input {
                path: p.clone(),
                role: Some(role),
            }
        };
        files.extend(self.roster.iter().map(with(Role::Roster)));
        files.extend(self.survey.iter().map(with(Role::Survey)));
        files.extend(self.ledger.iter().map(with(Role::Ledger)));
        files.extend(self.stats.iter().map(with(Role::Stats)));
        if files.is_empty() {
            return Err(RoundError::NoInputs);
        }
        Ok(Inputs {
            files,
            from_folder: self.folder.is_some(),
        })
    }
}

impl Inputs {
    /// Files recognised from content, each once, that must all be read
    /// (`taizhang check`).
    pub fn files(paths: impl IntoIterator<Item = PathBuf>) -> Inputs {
        Inputs {
            files: dedup_paths(paths.into_iter())
                .into_iter()
                .map(|path| Input { path, role: None })
                .collect(),
            from_folder: false,
        }
    }

    /// Read every input, in parallel; tables are numbered in the order the
    /// files are given. Stops at the first file that cannot be read, except
    /// in a folder (see [`Inputs::from_folder`]), where it is returned with
    /// the reason instead.
    pub fn read(
        &self,
        cfg: &Config,
        progress: &dyn Progress,
    ) -> Result<(Vec<Table>, Vec<SkippedInput>), RoundError> {
        let (tables, skipped) = self.read_into(cfg, progress, &|_| Vec::new())?;
        let tables = tables
            .into_iter()
            .map(|(mut t, rows)| {
                t.rows = rows;
                t
            })
            .collect();
        Ok((tables, skipped))
    }

    /// [`Inputs::read`], the rows of each table given to the sink `open`
    /// makes for it (see [`read::read_input_into`]) instead of held on the
    /// table. The sink sees the table as read: indexed from 0 in its file,
    /// named by its file name; the table returned beside it has its place
    /// in the round.
    pub fn read_into<S: read::RowSink + Send>(
        &self,
        cfg: &Config,
        progress: &dyn Progress,
        open: &(dyn Fn(&Table) -> S + Sync),
    ) -> Result<Read<S>, RoundError> {
        let skip = self.from_folder;
        let files: Vec<(PathBuf, Option<Role>)> = self
            .files
            .iter()
            .map(|i| (i.path.clone(), i.role))
            .collect();
        let mut skipped = Vec::new();
        progress.begin("读取", files.len() as u64);
        let mut tables: Vec<(Table, S)> = Vec::new();
        // Results are taken in the order given, so table numbers and the
        // first error do not depend on thread timing.
        let results = read::read_inputs_into(&files, cfg.township.as_deref(), open);
        let ids = self.ids();
        let paths: Vec<PathBuf> = dedup_paths(files.iter().map(|(p, _)| p.clone()));
        let labels: BTreeMap<&PathBuf, String> = paths.iter().zip(labels(&paths)).collect();
        for (((path, _), result), id) in files.iter().zip(results).zip(ids) {
            match result {
                Ok(mut t) => {
                    for (x, _) in &mut t {
                        x.index += tables.len();
                        x.input = id;
                        if let Some(label) = labels.get(path) {
                            x.file.clone_from(label);
                        }
                    }
                    tables.extend(t);
                }
                // In a folder, a warning list or an Office lock file is not an input.
                Err(read::ReadError::NotInput { message, .. }) if skip => {
                    progress.warn(&format!("跳过：{message}"));
                }
                Err(read::ReadError::Input { message, .. }) if skip => {
                    progress.warn(&format!("未能读取，已跳过：{message}"));
                    skipped.push(SkippedInput {
                        file: file_name(path),
                        reason: message,
                    });
                }
                Err(e) => return Err(e.into()),
            }
            progress.step(&file_name(path));
        }
        progress.end();
        Ok((tables, skipped))
    }

    /// Each file's id: its place in the list, or the place where the same
    /// path is given first.
    pub fn ids(&self) -> Vec<InputId> {
        let mut first: BTreeMap<&Path, InputId> = BTreeMap::new();
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| *first.entry(f.path.as_path()).or_insert(InputId(i)))
            .collect()
    }

    /// The files whose role is recognised from content.
    fn decided(&self) -> HashSet<&Path> {
        self.files
            .iter()
            .filter(|i| i.role.is_none())
            .map(|i| i.path.as_path())
            .collect()
    }

    /// The files that gave a table, each once, in the order given (files
    /// skipped as non-inputs have no table and get no annotated copy).
    pub fn read_paths(&self, tables: &[Table]) -> Vec<PathBuf> {
        dedup_paths(
            self.files
                .iter()
                .map(|i| i.path.clone())
                .filter(|p| tables.iter().any(|t| &t.path == p)),
        )
    }

    /// A round needs a roster and a survey. When the files whose role was
    /// decided by content give none of one, the better reading of another
    /// file takes that role instead of stopping the run: with no roster, the
    /// tables without any status-like or registry column (a household list
    /// titled 台账) are the roster; with no survey, the ledgers holding a
    /// status-like column are the surveys. Returns the reason for each table
    /// changed (by index).
    pub fn settle_roles(&self, tables: &mut [Table]) -> BTreeMap<usize, String> {
        let decided = self.decided();
        let mut notes = BTreeMap::new();
        let has = |t: &Table, f: Field| t.columns.contains_key(&f);
        let status_like = |t: &Table| {
            has(t, Field::Status) || has(t, Field::RegistryStatus) || has(t, Field::RegistryNo)
        };
        if !tables.iter().any(|t| t.role == Role::Roster) {
            for t in tables.iter_mut() {
                if decided.contains(t.path.as_path())
                    && matches!(t.role, Role::Ledger | Role::Survey)
                    && !status_like(t)
                {
                    notes.insert(
                        t.index,
                        format!(
                            "文件夹中没有其他县局名单，这张表没有就读状态列，按名单核对（原按{}）",
                            t.role.label_zh()
                        ),
                    );
                    t.role = Role::Roster;
                }
            }
        }
        if !tables.iter().any(|t| t.role == Role::Survey) {
            for t in tables.iter_mut() {
                if decided.contains(t.path.as_path()) && t.role == Role::Ledger && status_like(t) {
                    notes.insert(
                        t.index,
                        "文件夹中没有其他摸底表，这张台账有就读状态列，按摸底表核对".to_string(),
                    );
                    t.role = Role::Survey;
                }
            }
        }
        notes
    }

    /// The role each file recognised from content got, and why (rules of
    /// [`crate::read::role_reason`], or the reason [`Inputs::settle_roles`]
    /// gave), one line per sheet read.
    pub fn role_lines(&self, tables: &[Table], notes: &BTreeMap<usize, String>) -> Vec<String> {
        let decided = self.decided();
        tables
            .iter()
            .filter(|t| decided.contains(t.path.as_path()))
            .map(|t| {
                format!(
                    "「{}」工作表「{}」认作{}：{}",
                    t.file,
                    t.sheet,
                    t.role.label_zh(),
                    notes
                        .get(&t.index)
                        .cloned()
                        .unwrap_or_else(|| crate::read::role_reason(t))
                )
            })
            .collect()
    }
}

/// The workbooks of a folder, sorted by name; skips our own outputs, Office
/// lock files (~$x.xlsx) and hidden files.
pub fn folder_inputs(dir: &Path) -> Result<Vec<PathBuf>, RoundError> {
    let mut out = Vec::new();
    let folder_error = |what: &str, e: std::io::Error| {
        RoundError::Message(format!("{what} {}: {e}", dir.display()))
    };
    let entries = std::fs::read_dir(dir).map_err(|e| folder_error("无法打开文件夹", e))?;
    for e in entries {
        let e = e.map_err(|e| folder_error("无法读取文件夹", e))?;
        let path = e.path();
        if !path.is_file() {
            continue;
        }
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with("~$") || name.starts_with('.') || name.contains(".核对.") {
            continue;
        }
        let ext = path
            .extension()
            .map(|x| x.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if INPUT_EXTENSIONS.contains(&ext.as_str()) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// The file name shown to users: the last part of the path.
pub fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| p.display().to_string())
}

/// The name each input is shown by, in the order given (`paths` each once):
/// its file name, or when another input has the same file name, the file
/// name preceded by as many parent folders as it takes to tell them apart
/// (`甲/附件1.xlsx`, `乙/附件1.xlsx`).
pub fn labels(paths: &[PathBuf]) -> Vec<String> {
    let parts = |p: &PathBuf| -> Vec<String> {
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
        let mut v: Vec<String> = abs
            .components()
            .filter_map(|c| match c {
                std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        v.reverse();
        v
    };
    let all: Vec<Vec<String>> = paths.iter().map(parts).collect();
    let label = |i: usize, depth: usize| -> String {
        let mut v: Vec<&str> = all[i].iter().take(depth).map(String::as_str).collect();
        v.reverse();
        v.join("/")
    };
    (0..paths.len())
        .map(|i| {
            let name = file_name(&paths[i]);
            let same: Vec<usize> = (0..paths.len())
                .filter(|&j| file_name(&paths[j]) == name)
                .collect();
            if same.len() < 2 {
                return name;
            }
            let deepest = same.iter().map(|&j| all[j].len()).max().unwrap_or(1);
            for depth in 2..=deepest {
                let mine = label(i, depth);
                if same
                    .iter()
                    .filter(|&&j| j != i)
                    .all(|&j| label(j, depth) != mine)
                {
                    return mine;
                }
            }
            label(i, deepest)
        })
        .collect()
}

/// The paths in order, each once.
pub fn dedup_paths(it: impl Iterator<Item = PathBuf>) -> Vec<PathBuf> {
    let mut seen = HashSet::new();
    it.filter(|p| seen.insert(p.clone())).collect()
}
