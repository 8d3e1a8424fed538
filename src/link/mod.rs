//! Roster ↔ survey linkage (SPEC §4).
//!
//! In: the run's normalised [`Record`]s and which of them are roster and
//! survey rows. Out: [`Pair`]s, each `Linked` or `Possible`, with a 0..1
//! score and Chinese reasons, and the cross-source findings
//! ([`link_findings`]).
//!
//! How: candidate pairs come only from blocks (exact ID, ID without its
//! check digit, region + birth date, birth date + name pinyin, village +
//! name pinyin, birth date + village, and the one-digit repairs of a bad ID that pass the check
//! digit), so the cost grows about linearly with the rows. Each candidate is
//! compared field by field ([`compare`]); the levels carry Fellegi–Sunter
//! weights in bits, the name weight adjusted for how common the name is in
//! the roster. Assignment is greedy by weight with deterministic tie-breaks
//! on (table, row), one-to-one. A pair is not linked automatically when
//! another child of the same household (twins) scores nearly as well, or
//! when any other candidate ties; it becomes `Possible` with the margin in
//! its reasons.
//!
//! Guarantees: every survey record is in at most one pair; every roster
//! record in at most one `Linked` pair; the result does not depend on the
//! order of `roster` and `survey`; no panic on any record content.

mod compare;
mod findings;
mod id;
mod name;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

pub use compare::{Agreement, Comparison, compare};
pub use findings::link_findings;
pub use id::IdLevel;
pub use name::NameLevel;

use crate::model::{DateValue, Decision, IdKind, Pair, Record};
use compare::{NameFreq, birth_of, both_ids_valid, reasons, score_of, total_weight};
use std::collections::{HashMap, HashSet};

/// The two thresholds on the 0..1 score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkParams {
    /// At or above: linked automatically (unless a twin or a tie competes).
    pub linked: f64,
    /// At or above (and below `linked`): POSSIBLE_MATCH, left for a person.
    pub possible: f64,
}

impl Default for LinkParams {
    /// Calibrated on the synthetic rounds of the tests: `linked` 0.8 is a
    /// total weight of 16 bits (e.g. same name + same birth date + same
    /// village without any ID; a homophone name with one wrong ID digit
    /// scores far above), `possible` 0.2 is 8 bits.
    fn default() -> Self {
        LinkParams {
            linked: 0.8,
            possible: 0.2,
        }
    }
}

/// Blocks larger than this are skipped (other blocks still find the pair).
const BLOCK_CAP: usize = 64;
/// Pinyin keys per name (polyphonic characters multiply them).
const KEY_CAP: usize = 4;
/// Bits within which another child of the same household counts as "nearly as good".
const TWIN_MARGIN: f64 = 4.0;
/// Bits within which any other candidate counts as a tie.
const TIE_MARGIN: f64 = 1.0;
/// A competitor whose own best partner beats it by this many bits belongs there.
const CLEARLY_ELSEWHERE: f64 = 1.0;

/// What the blocks need of a record, computed once.
struct Prep {
    folded: String,
    main_key: String,
    keys: Vec<String>,
    /// yyyymmdd of the stated birth date and of the ID's.
    births: Vec<String>,
    full18: Option<String>,
}

fn prep(r: &Record) -> Prep {
    let folded = name::fold(if r.name.is_empty() {
        &r.name_raw
    } else {
        &r.name
    });
    let mut births = Vec::new();
    if let DateValue::Day(d) = r.birth {
        births.push(d.format("%Y%m%d").to_string());
    }
    if let Some(d) = r.id.birth_date() {
        let k = d.format("%Y%m%d").to_string();
        if !births.contains(&k) {
            births.push(k);
        }
    }
    Prep {
        main_key: name::main_key(&folded),
        keys: name::keys(&folded, KEY_CAP),
        folded,
        births,
        full18: id::full18(&r.id),
    }
}

struct Ctx<'a> {
    records: &'a [Record],
    prep: HashMap<usize, Prep>,
    name_count: HashMap<String, usize>,
    sound_count: HashMap<String, usize>,
    denom: f64,
}

impl Ctx<'_> {
    fn freq(&self, r: usize) -> (NameFreq, usize) {
        let Some(p) = self.prep.get(&r) else {
            return (NameFreq::RARE, 0);
        };
        let n = self.name_count.get(&p.folded).copied().unwrap_or(1);
        let k = self.sound_count.get(&p.main_key).copied().unwrap_or(1);
        (
            NameFreq {
                same_name: n as f64 / self.denom,
                same_sound: k as f64 / self.denom,
            },
            n,
        )
    }

    fn weigh(&self, r: usize, s: usize) -> (f64, Comparison) {
        let (rr, sr) = (&self.records[r], &self.records[s]);
        let c = compare(rr, sr);
        let (f, _) = self.freq(r);
        (total_weight(&c, f, both_ids_valid(rr, sr)), c)
    }

    fn pos(&self, i: usize) -> (usize, u32, usize) {
        (self.records[i].table, self.records[i].row, i)
    }
}

fn sorted_unique(xs: &[usize], n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = xs.iter().copied().filter(|&i| i < n).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Two records of one role that could be twins: same surname, same birth
/// date, same village (or unknown), same household (or unknown).
fn twin_like(ctx: &Ctx, a: usize, b: usize) -> bool {
    let (ra, rb) = (&ctx.records[a], &ctx.records[b]);
    let (Some(pa), Some(pb)) = (ctx.prep.get(&a), ctx.prep.get(&b)) else {
        return false;
    };
    if name::surname(&pa.folded).is_none() || name::surname(&pa.folded) != name::surname(&pb.folded)
    {
        return false;
    }
    if birth_of(ra).agrees(&birth_of(rb)) != Some(true) {
        return false;
    }
    if let (Some(x), Some(y)) = (&ra.village, &rb.village)
        && x != y
    {
        return false;
    }
    let (ha, hb) = (
        name::fold(&ra.household_head),
        name::fold(&rb.household_head),
    );
    let (na, nb) = (ra.household_no.trim(), rb.household_no.trim());
    if !na.is_empty() && !nb.is_empty() {
        return na == nb;
    }
    ha.is_empty() || hb.is_empty() || ha == hb
}

#[derive(Clone, Copy)]
struct Cand {
    r: usize,
    s: usize,
    w: f64,
    name: NameLevel,
}

/// The name alone says "same child".
fn name_matches(l: NameLevel) -> bool {
    matches!(
        l,
        NameLevel::Identical | NameLevel::SameAfterFolding | NameLevel::Homophone
    )
}

/// Link survey records to roster records. Indices are into `records`; the
/// result is sorted by (survey, roster).
pub fn link(
    records: &[Record],
    roster: &[usize],
    survey: &[usize],
    params: &LinkParams,
) -> Vec<Pair> {
    let roster = sorted_unique(roster, records.len());
    let survey = sorted_unique(survey, records.len());
    let mut prep_map = HashMap::with_capacity(roster.len() + survey.len());
    for &i in roster.iter().chain(survey.iter()) {
        prep_map.entry(i).or_insert_with(|| prep(&records[i]));
    }
    let mut name_count: HashMap<String, usize> = HashMap::new();
    let mut sound_count: HashMap<String, usize> = HashMap::new();
    for &r in &roster {
        if let Some(p) = prep_map.get(&r)
            && !p.folded.is_empty()
        {
            *name_count.entry(p.folded.clone()).or_default() += 1;
            *sound_count.entry(p.main_key.clone()).or_default() += 1;
        }
    }
    let ctx = Ctx {
        records,
        prep: prep_map,
        name_count,
        sound_count,
        denom: (roster.len() as f64).max(2000.0),
    };

    // ---- blocks over the roster ----
    let mut blocks: HashMap<String, Vec<usize>> = HashMap::new();
    let mut add = |k: String, r: usize| blocks.entry(k).or_default().push(r);
    for &r in &roster {
        let Some(p) = ctx.prep.get(&r) else { continue };
        let rec = &records[r];
        if let Some(f) = &p.full18 {
            add(format!("I:{f}"), r);
            add(format!("S:{}", &f[..17]), r);
            add(format!("F:{}", &f[..14]), r);
            for fix in id::repairs(f) {
                add(format!("R:{fix}"), r);
            }
        } else if let Some(t) = id::truncated15(&rec.id) {
            add(format!("F:{}", &t[..14]), r);
        } else if !rec.id.clean.is_empty() && rec.id.kind != IdKind::Missing {
            add(format!("I:{}", rec.id.clean), r);
        }
        for k in &p.keys {
            for b in &p.births {
                add(format!("B:{b}|{k}"), r);
            }
            if let Some(v) = &rec.village {
                add(format!("V:{v}|{k}"), r);
            }
        }
        if let Some(v) = &rec.village {
            for b in &p.births {
                add(format!("D:{b}|{v}"), r);
            }
        }
    }

    // ---- candidates for each survey record ----
    let mut cands: Vec<Cand> = Vec::new();
    let mut found: Vec<usize> = Vec::new();
    for &s in &survey {
        let Some(p) = ctx.prep.get(&s) else { continue };
        let rec = &records[s];
        found.clear();
        let take = |k: &str, cap: usize, found: &mut Vec<usize>| {
            if let Some(b) = blocks.get(k)
                && b.len() <= cap
            {
                found.extend_from_slice(b);
            }
        };
        if let Some(f) = &p.full18 {
            take(&format!("I:{f}"), usize::MAX, &mut found);
            take(&format!("S:{}", &f[..17]), usize::MAX, &mut found);
            take(&format!("F:{}", &f[..14]), BLOCK_CAP, &mut found);
            take(&format!("R:{f}"), usize::MAX, &mut found);
            for fix in id::repairs(f) {
                take(&format!("I:{fix}"), usize::MAX, &mut found);
            }
        } else if let Some(t) = id::truncated15(&rec.id) {
            // Excel kept 15 digits: look among those born that day, keep the 15 that agree.
            if let Some(b) = blocks.get(&format!("F:{}", &t[..14])) {
                for &r in b.iter().take(BLOCK_CAP * 8) {
                    let rid = &records[r].id;
                    let r15 = id::full18(rid)
                        .map(|x| x[..15].to_string())
                        .or_else(|| id::truncated15(rid).map(str::to_string));
                    if r15.as_deref() == Some(t) {
                        found.push(r);
                    }
                }
            }
        } else if !rec.id.clean.is_empty() && rec.id.kind != IdKind::Missing {
            take(&format!("I:{}", rec.id.clean), usize::MAX, &mut found);
        }
        for k in &p.keys {
            for b in &p.births {
                take(&format!("B:{b}|{k}"), BLOCK_CAP, &mut found);
            }
            if let Some(v) = &rec.village {
                take(&format!("V:{v}|{k}"), BLOCK_CAP, &mut found);
            }
        }
        if let Some(v) = &rec.village {
            for b in &p.births {
                take(&format!("D:{b}|{v}"), BLOCK_CAP, &mut found);
            }
        }
        found.sort_unstable();
        found.dedup();
        for &r in found.iter() {
            let (w, c) = ctx.weigh(r, s);
            cands.push(Cand {
                r,
                s,
                w,
                name: c.name,
            });
        }
    }

    assign(&ctx, cands, params)
}

fn assign(ctx: &Ctx, mut cands: Vec<Cand>, params: &LinkParams) -> Vec<Pair> {
    cands.sort_by(|a, b| {
        b.w.total_cmp(&a.w)
            .then_with(|| ctx.pos(a.r).cmp(&ctx.pos(b.r)))
            .then_with(|| ctx.pos(a.s).cmp(&ctx.pos(b.s)))
    });
    // Every blocked candidate takes part in the competitor checks; only
    // those at or above `possible` can be paired.
    let mut by_s: HashMap<usize, Vec<(usize, f64)>> = HashMap::new();
    let mut by_r: HashMap<usize, Vec<(usize, f64)>> = HashMap::new();
    let mut name_of: HashMap<(usize, usize), NameLevel> = HashMap::new();
    for c in &cands {
        by_s.entry(c.s).or_default().push((c.r, c.w));
        by_r.entry(c.r).or_default().push((c.s, c.w));
        name_of.insert((c.r, c.s), c.name);
    }
    cands.retain(|c| score_of(c.w) >= params.possible);
    let best_except = |list: Option<&Vec<(usize, f64)>>, except: usize| -> f64 {
        list.into_iter()
            .flatten()
            .filter(|(o, _)| *o != except)
            .map(|(_, w)| *w)
            .fold(f64::NEG_INFINITY, f64::max)
    };

    let mut used_s: HashSet<usize> = HashSet::new();
    let mut used_r: HashSet<usize> = HashSet::new();
    let mut linked_r: HashSet<usize> = HashSet::new();
    let mut linked_by_r: HashMap<usize, usize> = HashMap::new();
    let mut linked_s: HashSet<usize> = HashSet::new();
    let mut pairs: Vec<Pair> = Vec::new();

    for c in &cands {
        if used_s.contains(&c.s) || used_r.contains(&c.r) {
            continue;
        }
        let score = score_of(c.w);
        let mut notes = Vec::new();
        let mut decision = if score >= params.linked {
            Decision::Linked
        } else {
            Decision::Possible
        };
        if decision == Decision::Linked {
            // Another roster child nearly as good for this survey row?
            for &(r2, w2) in by_s.get(&c.s).into_iter().flatten() {
                if r2 == c.r || linked_r.contains(&r2) {
                    continue;
                }
                let twin = twin_like(ctx, c.r, r2);
                // Twins mixed up: the name is the other twin's, the ID this one's.
                let r2_name = name_of
                    .get(&(r2, c.s))
                    .copied()
                    .unwrap_or(NameLevel::Different);
                if twin && !name_matches(c.name) && name_matches(r2_name) {
                    decision = Decision::Possible;
                    let o = &ctx.records[r2];
                    notes.push(format!(
                        "姓名与同户同日出生的 {}(县局名单第{}行)相符，其他信息却与 {} 相符，疑似双胞胎信息填混，请人工确认",
                        o.name, o.row, ctx.records[c.r].name
                    ));
                    continue;
                }
                let margin = if twin { TWIN_MARGIN } else { TIE_MARGIN };
                if w2 < c.w - margin {
                    continue;
                }
                if best_except(by_r.get(&r2), c.s) >= w2 + CLEARLY_ELSEWHERE {
                    continue;
                }
                decision = Decision::Possible;
                notes.push(competitor_note(
                    ctx,
                    twin,
                    "县局名单",
                    r2,
                    score,
                    score_of(w2),
                ));
            }
            // Another survey row nearly as good for this roster child?
            for &(s2, w2) in by_r.get(&c.r).into_iter().flatten() {
                if s2 == c.s || linked_s.contains(&s2) || same_person(ctx, c.s, s2) {
                    continue;
                }
                let twin = twin_like(ctx, c.s, s2);
                let margin = if twin { TWIN_MARGIN } else { TIE_MARGIN };
                if w2 < c.w - margin {
                    continue;
                }
                if best_except(by_s.get(&s2), c.r) >= w2 + CLEARLY_ELSEWHERE {
                    continue;
                }
                decision = Decision::Possible;
                notes.push(competitor_note(
                    ctx,
                    twin,
                    "摸底表",
                    s2,
                    score,
                    score_of(w2),
                ));
            }
        }
        used_s.insert(c.s);
        used_r.insert(c.r);
        if decision == Decision::Linked {
            linked_r.insert(c.r);
            linked_s.insert(c.s);
            linked_by_r.insert(c.r, c.s);
        }
        pairs.push(make_pair(ctx, c, decision, notes));
    }

    // A survey row whose candidates were all taken (a child surveyed twice,
    // say) is still shown to a person with its best candidate.
    for c in &cands {
        if used_s.contains(&c.s) {
            continue;
        }
        used_s.insert(c.s);
        // The same person surveyed twice (same full ID as the linked row) is
        // DUPLICATE_ID, reported by the checker: no POSSIBLE_MATCH on top.
        if linked_by_r
            .get(&c.r)
            .is_some_and(|&s| same_person(ctx, s, c.s))
        {
            continue;
        }
        let note = if linked_r.contains(&c.r) {
            "该县局名单儿童已与另一条摸底记录关联，请核对是否重复摸底".to_string()
        } else {
            "该县局名单儿童已有其他疑似匹配".to_string()
        };
        pairs.push(make_pair(ctx, c, Decision::Possible, vec![note]));
    }

    pairs.sort_by_key(|a| (a.survey, a.roster));
    pairs
}

/// Two survey rows of the same person (same full ID): a duplicate, not a twin.
fn same_person(ctx: &Ctx, a: usize, b: usize) -> bool {
    match (ctx.prep.get(&a), ctx.prep.get(&b)) {
        (Some(x), Some(y)) => x.full18.is_some() && x.full18 == y.full18,
        _ => false,
    }
}

fn competitor_note(
    ctx: &Ctx,
    twin: bool,
    side: &str,
    other: usize,
    score: f64,
    other_score: f64,
) -> String {
    let rec = &ctx.records[other];
    let who = if twin {
        "同户同日出生的儿童"
    } else {
        "另一候选"
    };
    format!(
        "{who} {}({side}第{}行)得分接近: {:.3} / {:.3}，相差 {:.3}，不自动关联，请人工确认",
        rec.name,
        rec.row,
        score,
        other_score,
        (score - other_score).abs()
    )
}

fn make_pair(ctx: &Ctx, c: &Cand, decision: Decision, notes: Vec<String>) -> Pair {
    let (_, comp) = ctx.weigh(c.r, c.s);
    let mut rs = reasons(&comp, &ctx.records[c.r], &ctx.records[c.s]);
    let (_, n) = ctx.freq(c.r);
    if n >= 3
        && matches!(
            comp.name,
            NameLevel::Identical | NameLevel::SameAfterFolding
        )
    {
        rs.push(format!("常见姓名: 县局名单中有{n}人同名，姓名证据权重降低"));
    }
    rs.extend(notes);
    Pair {
        roster: c.r,
        survey: c.s,
        decision,
        score: score_of(c.w),
        reasons: rs,
    }
}

/// Weight and score of one pair as `link` computes them (for tests and tools).
pub fn pair_score(records: &[Record], roster: &[usize], r: usize, s: usize) -> Option<f64> {
    if r >= records.len() || s >= records.len() {
        return None;
    }
    let roster = sorted_unique(roster, records.len());
    let mut prep_map = HashMap::new();
    let mut name_count: HashMap<String, usize> = HashMap::new();
    let mut sound_count: HashMap<String, usize> = HashMap::new();
    for &i in &roster {
        let p = prep(&records[i]);
        if !p.folded.is_empty() {
            *name_count.entry(p.folded.clone()).or_default() += 1;
            *sound_count.entry(p.main_key.clone()).or_default() += 1;
        }
        prep_map.insert(i, p);
    }
    prep_map.entry(r).or_insert_with(|| prep(&records[r]));
    let ctx = Ctx {
        records,
        prep: prep_map,
        name_count,
        sound_count,
        denom: (roster.len() as f64).max(2000.0),
    };
    Some(score_of(ctx.weigh(r, s).0))
}
