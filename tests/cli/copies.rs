//! The annotated copies of workbooks other than a plain xlsx: the copy of a
//! macro-enabled workbook or a template is named so that Excel opens it
//! (extension and content type agree), and the rebuilt copy of an .xls keeps
//! the school's formatting.

use super::check::{all_codes_survey, write_config};
use super::support::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const CT_SHEET: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml";
const CT_TEMPLATE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml";
const CT_MACRO: &str = "application/vnd.ms-excel.sheet.macroEnabled.main+xml";
const CT_MACRO_TEMPLATE: &str = "application/vnd.ms-excel.template.macroEnabled.main+xml";

/// A small OLE compound file standing in for a VBA project (the copy must
/// carry it byte for byte; nobody runs it).
fn vba_project() -> Vec<u8> {
    let mut comp = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    comp.create_storage("/VBA").unwrap();
    let mut s = comp.create_stream("/VBA/dir").unwrap();
    s.write_all(b"taizhang test vba project").unwrap();
    drop(s);
    comp.into_inner().into_inner()
}

/// Every entry of a zip, in order.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut v = Vec::new();
            f.read_to_end(&mut v).unwrap();
            (f.name().unwrap().to_string(), v)
        })
        .collect()
}

fn rezip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for (name, data) in entries {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn entry<'a>(entries: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &entries
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} in the package"))
        .1
}

/// The xlsx turned into another workbook type: `main_type` for the
/// workbook part, plus a VBA part (related from the workbook) when given.
fn retype(xlsx: &[u8], main_type: &str, vba: Option<&[u8]>) -> Vec<u8> {
    let mut entries = unzip(xlsx);
    for (name, data) in entries.iter_mut() {
        let text = String::from_utf8(data.clone()).unwrap_or_default();
        if name == "[Content_Types].xml" {
            let mut t = text.replace(CT_SHEET, main_type);
            if vba.is_some() {
                t = t.replace(
                    "</Types>",
                    r#"<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>"#,
                );
            }
            *data = t.into_bytes();
        } else if name == "xl/_rels/workbook.xml.rels" && vba.is_some() {
            *data = text
                .replace(
                    "</Relationships>",
                    r#"<Relationship Id="rId99" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>"#,
                )
                .into_bytes();
        }
    }
    if let Some(v) = vba {
        entries.push(("xl/vbaProject.bin".into(), v.to_vec()));
    }
    rezip(&entries)
}

fn check(w: &Workdir, file: &str, out: &str) -> Output {
    w.run(&["check", file, "--config", "taizhang.toml", "--out", out])
}

fn soffice() -> PathBuf {
    for c in [
        "/usr/bin/soffice",
        "/usr/local/bin/soffice",
        "/usr/bin/libreoffice",
    ] {
        if Path::new(c).exists() {
            return PathBuf::from(c);
        }
    }
    panic!("LibreOffice (soffice) is required for this test: apt-get install -y libreoffice-calc");
}

/// LibreOffice converts `file` into `outdir` (private profile); returns
/// whether it succeeded and wrote something.
fn convert(file: &Path, to: &str, outdir: &Path) {
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(soffice())
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.path().display()
        ))
        .args(["--headless", "--norestore", "--convert-to", to, "--outdir"])
        .arg(outdir)
        .arg(file)
        .output()
        .expect("soffice runs");
    assert!(
        out.status.success(),
        "soffice failed on {}: {out:?}",
        file.display()
    );
}

#[test]
fn macro_enabled_and_template_copies_are_named_after_their_content_type() {
    let w = Workdir::new("copies-xlsm");
    write_config(&w);
    let fx = all_codes_survey(2022);
    let xlsx = fx.grid.xlsx();
    let vba = vba_project();
    let cases: [(&str, Vec<u8>, &str, &str); 3] = [
        (
            "附件1_宏.xlsm",
            retype(&xlsx, CT_MACRO, Some(&vba)),
            "附件1_宏.核对.xlsm",
            CT_MACRO,
        ),
        (
            "附件1_模板.xltx",
            retype(&xlsx, CT_TEMPLATE, None),
            "附件1_模板.核对.xlsx",
            CT_SHEET,
        ),
        (
            "附件1_宏模板.xltm",
            retype(&xlsx, CT_MACRO_TEMPLATE, Some(&vba)),
            "附件1_宏模板.核对.xlsm",
            CT_MACRO,
        ),
    ];
    for (file, bytes, copy_name, copy_type) in &cases {
        w.write(file, bytes);
        let out_dir = format!("out-{file}");
        let out = check(&w, file, &out_dir);
        assert_eq!(out.status, 1, "{file}\n{}", out.all());
        let copy = w.join(&out_dir).join(copy_name);
        assert!(copy.is_file(), "{} missing\n{}", copy.display(), out.all());
        let names: Vec<String> = std::fs::read_dir(w.join(&out_dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            !names.iter().any(|n| n.contains(".核对.") && n != copy_name),
            "one copy only: {names:?}"
        );
        let entries = unzip(&std::fs::read(&copy).unwrap());
        let ct = String::from_utf8(entry(&entries, "[Content_Types].xml").to_vec()).unwrap();
        assert!(
            ct.contains(&format!(
                r#"PartName="/xl/workbook.xml" ContentType="{copy_type}""#
            )),
            "{file}: {ct}"
        );
        for other in [CT_SHEET, CT_TEMPLATE, CT_MACRO, CT_MACRO_TEMPLATE] {
            if other != *copy_type {
                assert!(!ct.contains(other), "{file}: {ct}");
            }
        }
        if copy_name.ends_with(".xlsm") {
            assert_eq!(entry(&entries, "xl/vbaProject.bin"), vba.as_slice());
        }
        // The findings are marked with notes.
        assert!(entries.iter().any(|(n, _)| n.starts_with("xl/comments")));
    }

    // LibreOffice opens the macro-enabled copy and shows the data sheet.
    let dir = w.join("lo");
    std::fs::create_dir_all(&dir).unwrap();
    let copy = w.join("out-附件1_宏.xlsm/附件1_宏.核对.xlsm");
    let local = dir.join("copy.xlsm");
    std::fs::copy(&copy, &local).unwrap();
    convert(
        &local,
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
        &dir,
    );
    let csv = std::fs::read_to_string(dir.join("copy-摸底调查表.csv"))
        .expect("LibreOffice wrote the data sheet of the .xlsm copy");
    assert!(csv.contains(&fx.ids[0]), "{csv}");
}

#[test]
fn a_macro_enabled_copy_is_not_read_as_an_input() {
    let w = Workdir::new("copies-xlsm-again");
    write_config(&w);
    let fx = all_codes_survey(2022);
    w.write(
        "附件1.xlsm",
        retype(&fx.grid.xlsx(), CT_MACRO, Some(&vba_project())),
    );
    let out = check(&w, "附件1.xlsm", "out");
    assert!(w.join("out/附件1.核对.xlsm").is_file(), "{}", out.all());
    let again = check(&w, "out/附件1.核对.xlsm", "out2");
    assert!(
        again
            .all()
            .contains("「附件1.核对.xlsm」是 taizhang 生成的核对结果副本"),
        "{}",
        again.all()
    );
}
