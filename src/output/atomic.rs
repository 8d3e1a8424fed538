//! The one atomic writer. Every file taizhang writes (annotated copies,
//! annexes, findings, report, history) goes under a temporary name in the
//! same folder, is flushed to disk and then renamed onto its name: the file
//! is either complete or absent, and when writing fails an earlier version
//! stays as it was and no temporary file is left behind.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The temporary name beside `path`: hidden, and naming this process.
fn temp_path(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!(".{name}.tmp{}", std::process::id()))
}

/// Flush the finished temporary file to disk and put it in place.
fn finish(tmp: &Path, path: &Path) -> std::io::Result<()> {
    // Write access: Windows refuses to flush a file opened read-only.
    std::fs::OpenOptions::new()
        .write(true)
        .open(tmp)?
        .sync_all()?;
    std::fs::rename(tmp, path)
}

/// Write `path` atomically: `write` creates the file at the temporary path
/// it is given; `io_error` turns a failure to flush or rename into the
/// caller's error type.
pub fn replace_with<E>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
    io_error: impl FnOnce(std::io::Error) -> E,
) -> Result<(), E> {
    let tmp = temp_path(path);
    let result = write(&tmp).and_then(|()| finish(&tmp, path).map_err(io_error));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Write `path` atomically from content streamed into a writer (a large
/// findings.json is never held in memory whole).
pub fn write_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    replace_with(
        path,
        |tmp| {
            let f = std::fs::File::create(tmp)?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
            write(&mut w)?;
            w.flush()
        },
        |e| e,
    )
}

/// Write `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with(path, |w| w.write_all(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_nothing_and_keeps_the_earlier_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.xlsx");
        let r: Result<(), String> = replace_with(
            &out,
            |tmp| {
                std::fs::write(tmp, b"half").unwrap();
                Err("boom".to_string())
            },
            |e| e.to_string(),
        );
        assert_eq!(r, Err("boom".to_string()));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        write(&out, b"ok").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"ok");
        let r = write_with(&out, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(&out).unwrap(), b"ok", "earlier file kept");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_write_into_a_missing_folder_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("没有这个文件夹").join("findings.json");
        assert!(write(&out, b"{}").is_err());
        assert!(!out.exists());
    }
}
