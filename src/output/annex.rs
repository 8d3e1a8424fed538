//! The generated annexes: 附件2 ledger, 附件3 statistics table and the
//! 筛查预警清单 warning list, from the round's derived rows.

use crate::derive;
use crate::model::Field;
use crate::report;
use crate::round::Round;
use crate::templates::{self, Annex, AnnexData, TCell};
use anyhow::Result;
use std::path::Path;

fn text(s: &str) -> TCell {
    if s.is_empty() {
        TCell::Empty
    } else {
        TCell::Text(s.to_string())
    }
}

fn annex_data(round: &Round, rows: Vec<Vec<TCell>>) -> AnnexData {
    let cfg = &round.config;
    AnnexData {
        township: cfg.township.clone(),
        school_year: cfg.school_year,
        unit: cfg
            .township
            .clone()
            .map(|t| format!("{t}人民政府"))
            .unwrap_or_default(),
        date: String::new(),
        villages: derive::village_order(cfg, &round.records, &round.roster),
        rows,
        draft: report::draft_line(&round.summary),
        total_remark: round
            .derived
            .stats
            .last()
            .map(|t| t.remark())
            .unwrap_or_default(),
    }
}

/// Build and write one generated annex into `out`, atomically. The ledger
/// and the warning list are streamed row by row into a temporary file
/// (rust_xlsxwriter's constant-memory mode: a million-row ledger is never
/// held in memory), then renamed.
pub fn write_annex(round: &Round, annex: Annex, out: &Path) -> Result<()> {
    let path = out.join(annex.file_name());
    let data = annex_data(round, Vec::new());
    if matches!(annex, Annex::Stats | Annex::Survey) {
        let rows = if annex == Annex::Stats {
            stats_rows(round)
        } else {
            Vec::new()
        };
        let bytes = templates::build_annex(annex, &annex_data(round, rows))
            .map_err(|e| anyhow::anyhow!("生成{}失败：{e}", annex.file_name()))?;
        return super::write_output(&path, &bytes);
    }
    let saved = super::atomic::replace_with(
        &path,
        |tmp| {
            match annex {
                Annex::Ledger => templates::save_annex(annex, &data, ledger_rows(round), tmp),
                _ => templates::save_annex(annex, &data, warning_rows(round), tmp),
            }
            .map_err(|e| anyhow::anyhow!("{e}"))
        },
        anyhow::Error::from,
    );
    saved.map_err(|e| {
        anyhow::anyhow!(
            "无法写入输出文件「{}」（文件夹 {}）：{e}",
            annex.file_name(),
            out.display()
        )
    })
}

fn ledger_rows(round: &Round) -> impl ExactSizeIterator<Item = Vec<TCell>> + '_ {
    let township = round.config.township.as_deref().unwrap_or_default();
    round.derived.ledger.iter().enumerate().map(move |(i, l)| {
        let l = l.view(township, &round.tables, &round.records);
        vec![
            TCell::Int(i as i64 + 1),
            text(l.township()),
            text(l.village()),
            text(l.group()),
            text(l.household_head()),
            text(l.household_type()),
            text(l.name()),
            text(l.sex()),
            text(l.id()),
            text(&l.birth()),
            text(l.status_text()),
            text(l.school()),
            text(&l.grade()),
            text(l.reason()),
            text(l.evidence()),
            text(l.surveyor()),
            text(&l.remark()),
        ]
    })
}

fn stats_rows(round: &Round) -> Vec<Vec<TCell>> {
    round
        .derived
        .stats
        .iter()
        .filter(|s| s.village != derive::TOTAL_ROW)
        .enumerate()
        .map(|(i, s)| {
            let mut row = vec![TCell::Int(i as i64 + 1), text(&s.village)];
            row.extend(Field::STAT_COUNTS.iter().map(|f| TCell::Int(s.get(*f))));
            row.push(text(&s.remark()));
            row
        })
        .collect()
}

fn warning_rows(round: &Round) -> impl ExactSizeIterator<Item = Vec<TCell>> + '_ {
    round.derived.warnings.iter().enumerate().map(|(i, w)| {
        vec![
            TCell::Int(i as i64 + 1),
            text(&w.township),
            text(&w.village),
            text(&w.name),
            text(&w.sex),
            text(&w.id),
            text(&w.birth),
            text(&w.household_type),
            text(&w.warning_type),
            text(&w.status),
            text(&w.reason),
            TCell::Empty,
            text(&w.responsible),
            TCell::Empty,
        ]
    })
}
