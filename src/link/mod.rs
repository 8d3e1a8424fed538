//! Roster ↔ survey linkage.
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
mod name;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

pub use crate::gb11643::IdLevel;
pub use compare::{Agreement, Comparison, compare};
pub use findings::link_findings;
pub use name::NameLevel;

use crate::gb11643::compare as id;
use crate::model::{DateValue, Decision, IdInfo, IdKind, Record, Sex};
use chrono::Datelike;
use compare::{NameFreq, both_ids_valid, reasons_at, score_of, sex_of, total_weight};
use name::Readings;
use std::borrow::Cow;

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

pub(crate) use crate::hash::{FxMap, FxSet, MixMap};

/// Strings (odd ID texts, pinyin keys) numbered in order of first sight, so
/// that blocks and comparisons work on integers.
#[derive(Default)]
struct Interner(MixMap<String, u32>);

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.0.get(s) {
            return i;
        }
        let i = self.0.len() as u32;
        self.0.insert(s.to_string(), i);
        i
    }

    fn get(&self, s: &str) -> Option<u32> {
        self.0.get(s).copied()
    }
}

/// A text as a map key: short texts (most names and villages) inline, so
/// that comparing keys reads no memory elsewhere.
#[derive(PartialEq, Eq, Hash)]
enum TextKey<'a> {
    Short(u8, [u8; 23]),
    Long(Cow<'a, str>),
}

impl<'a> TextKey<'a> {
    fn new(s: Cow<'a, str>) -> Self {
        let b = s.as_bytes();
        if b.len() <= 23 {
            let mut a = [0u8; 23];
            a[..b.len()].copy_from_slice(b);
            TextKey::Short(b.len() as u8, a)
        } else {
            TextKey::Long(s)
        }
    }

    fn as_str(&self) -> &str {
        match self {
            TextKey::Short(n, a) => std::str::from_utf8(&a[..*n as usize]).unwrap_or(""),
            TextKey::Long(s) => s,
        }
    }
}

/// Texts numbered by one preparing thread, borrowed from the records where
/// they are long. Only equality of the numbers matters, never their order.
#[derive(Default)]
struct Texts<'a>(MixMap<TextKey<'a>, u32>);

impl<'a> Texts<'a> {
    fn id(&mut self, s: Cow<'a, str>) -> u32 {
        let n = self.0.len() as u32;
        *self.0.entry(TextKey::new(s)).or_insert(n)
    }

    /// Take in the texts of `other`; the new number of each of its numbers.
    fn absorb(&mut self, other: Texts<'a>) -> Vec<u32> {
        let mut to = vec![0u32; other.0.len()];
        for (t, i) in other.0 {
            let n = self.0.len() as u32;
            to[i as usize] = *self.0.entry(t).or_insert(n);
        }
        to
    }

    /// The texts by number.
    fn into_vec(self) -> Vec<TextKey<'a>> {
        let mut v: Vec<Option<TextKey<'a>>> = Vec::new();
        v.resize_with(self.0.len(), || None);
        for (t, i) in self.0 {
            v[i as usize] = Some(t);
        }
        v.into_iter().flatten().collect()
    }
}

/// The texts one preparing thread numbers: folded names (children's and
/// household heads'), names as shown, villages.
#[derive(Default)]
struct Local<'a> {
    names: Texts<'a>,
    shown: Texts<'a>,
    villages: Texts<'a>,
}

/// A block key. Each kind of block has its own tag; the text of an ID
/// (or of its first 17 or 14 digits) is encoded exactly: digits and X in
/// base 11 with the length alongside, anything else interned under its own
/// tag. So two keys are equal exactly when the texts the former string keys
/// ("I:…", "B:yyyymmdd|key" …) were built from are equal: the blocks are
/// the same, only cheaper to build and look up. Packed by [`key`].
type Key = (u64, u64);

/// The key of `tag` over `a` and `b` (b below 2^56): the tag goes into the
/// top byte of the second word, so keys are equal exactly when tag, a and b are.
#[inline]
fn key(tag: u8, a: u64, b: u64) -> Key {
    debug_assert!(b < 1 << 56);
    (a, (tag as u64) << 56 | b)
}

const T_ID: u8 = 1;
const T_ID17: u8 = 2;
const T_ID14: u8 = 3;
const T_REPAIR: u8 = 4;
const T_BIRTH_NAME: u8 = 5;
const T_VILLAGE_NAME: u8 = 6;
const T_BIRTH_VILLAGE: u8 = 7;
/// Added to an ID tag when its text is interned rather than encoded.
const T_TEXT: u8 = 0x80;

/// Digits and X, at most 18 of them, as a number (the length goes alongside).
fn id_code(s: &str) -> Option<u64> {
    if s.len() > 18 {
        return None;
    }
    let mut v = 0u64;
    for b in s.bytes() {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'X' => 10,
            _ => return None,
        };
        v = v * 11 + d as u64;
    }
    Some(v)
}

/// The key of an ID text under `tag`; `strs` numbers texts that are not
/// digits.
fn id_key(tag: u8, s: &str, strs: &mut Interner) -> Key {
    match id_code(s) {
        Some(v) => key(tag, v, s.len() as u64),
        None => key(tag | T_TEXT, strs.id(s) as u64, 0),
    }
}

/// `id_key` without interning: the key of a text already seen, if any.
fn id_lookup(tag: u8, s: &str, strs: &Interner) -> Option<Key> {
    match id_code(s) {
        Some(v) => Some(key(tag, v, s.len() as u64)),
        None => strs.get(s).map(|i| key(tag | T_TEXT, i as u64, 0)),
    }
}

/// No text (an empty household head, no village).
const NONE: u32 = u32::MAX;

/// The 18-character form of an ID as [`id::full18`] gives it, borrowed.
fn full18_of(id: &IdInfo) -> Option<&str> {
    match &id.kind {
        IdKind::Legacy15 { upgraded } => Some(upgraded),
        IdKind::Truncated | IdKind::Missing => None,
        _ => crate::gb11643::well_formed18(&id.clean).then_some(id.clean.as_str()),
    }
}

/// What the blocks and the comparisons need of a record, computed once.
/// Texts are numbers: names in [`Names`], shown names and villages in their
/// own numbering (equal numbers, equal texts).
struct Prep<'a> {
    /// The name folded for blocking and counting.
    block: u32,
    /// The name as `compare_names` folds it, and its shown text.
    name: u32,
    shown: u32,
    /// Days since the common era of the stated birth date and of the ID's.
    births: [i32; 2],
    n_births: u8,
    full18: Option<&'a str>,
    first15: Option<&'a str>,
    /// `id::is_missing`.
    id_missing: bool,
    village: u32,
    /// The household head folded once (for `twin_like`; NONE when empty)
    /// and folded twice as `compare_names` sees it.
    head1: u32,
    head2: u32,
    birth: DateValue,
    sex: Option<Sex>,
    /// Roster children with this folded name and this main pinyin key.
    name_n: u32,
    sound_k: u32,
}

impl Prep<'_> {
    fn births(&self) -> &[i32] {
        &self.births[..self.n_births as usize]
    }
}

/// Prepare one record, numbering its texts in `t`.
fn prep<'a>(r: &'a Record, t: &mut Local<'a>) -> Prep<'a> {
    let folded = name::fold_cow(if r.name.is_empty() {
        &r.name_raw
    } else {
        &r.name
    });
    // `compare_names` folds the clean name, else the raw one: that differs
    // from `folded` only when the clean name folds to nothing.
    let (block, name) = if folded.is_empty() && !r.name.is_empty() {
        (t.names.id(folded), t.names.id(name::fold_cow(&r.name_raw)))
    } else {
        let i = t.names.id(folded);
        (i, i)
    };
    let shown = {
        let s = r.name_raw.trim();
        t.shown
            .id(Cow::Borrowed(if s.is_empty() { r.name.trim() } else { s }))
    };
    let (head1, head2) = match name::fold_cow(&r.household_head) {
        h if h.is_empty() => (NONE, NONE),
        Cow::Borrowed(h) => {
            // Folding left it as it is: folding again does too.
            let i = t.names.id(Cow::Borrowed(h));
            (i, i)
        }
        Cow::Owned(h) => {
            let twice = name::fold(&h);
            let i = t.names.id(Cow::Owned(h));
            (i, t.names.id(Cow::Owned(twice)))
        }
    };
    let mut births = [0i32; 2];
    let mut n_births = 0;
    if let DateValue::Day(d) = r.birth {
        births[0] = d.num_days_from_ce();
        n_births = 1;
    }
    let id_birth = r.id.birth_date();
    if let Some(d) = id_birth {
        let k = d.num_days_from_ce();
        if !births[..n_births].contains(&k) {
            births[n_births] = k;
            n_births += 1;
        }
    }
    // As `birth_of`, with the ID's date already at hand.
    let birth = if r.birth.is_stated() {
        r.birth.clone()
    } else {
        id_birth.map_or(DateValue::Missing, DateValue::Day)
    };
    let full18 = full18_of(&r.id);
    // As `id::first15`, from the full form already at hand.
    let first15 = id::truncated15(&r.id).or_else(|| full18.and_then(|f| f.get(..15)));
    Prep {
        block,
        name,
        shown,
        births,
        n_births: n_births as u8,
        full18,
        first15,
        id_missing: id::is_missing(&r.id),
        village: r
            .village
            .as_deref()
            .map_or(NONE, |v| t.villages.id(Cow::Borrowed(v))),
        head1,
        head2,
        birth,
        sex: sex_of(r),
        name_n: 1,
        sound_k: 1,
    }
}

/// Prepare records `ix` (one thread's share).
fn prep_part<'a>(records: &'a [Record], ix: &[usize]) -> (Vec<Prep<'a>>, Local<'a>) {
    let mut t = Local::default();
    let v = ix.iter().map(|&i| prep(&records[i], &mut t)).collect();
    (v, t)
}

/// The distinct folded names of a run: their characters with reading sets
/// and, for the names records block on, their pinyin keys (numbered, the
/// main key first), all in shared lists.
struct Names {
    chars: Lists<(char, u32)>,
    keys: Lists<u32>,
}

impl Names {
    /// `texts` are the folded names by number; `blocking` says which ones
    /// records block on.
    fn new(texts: &[TextKey], blocking: &[bool], rd: &mut Readings) -> Self {
        let mut chars = Lists::builder();
        let mut keys = Lists::builder();
        let mut strs = Interner::default();
        for (t, &b) in texts.iter().zip(blocking) {
            let from = chars.items.len();
            rd.push_chars(t.as_str(), &mut chars.items);
            if b {
                for k in rd.keys(&chars.items[from..], KEY_CAP) {
                    keys.items.push(strs.id(&k));
                }
            }
            chars.end_list();
            keys.end_list();
        }
        Names {
            chars: chars.build(),
            keys: keys.build(),
        }
    }

    fn chars(&self, i: u32) -> &[(char, u32)] {
        self.chars.get(i as usize)
    }

    /// The pinyin key numbers of a blocking name.
    fn keys(&self, i: u32) -> &[u32] {
        self.keys.get(i as usize)
    }
}

struct Ctx<'a> {
    records: &'a [Record],
    /// Indexed by record; None for records neither roster nor survey.
    prep: Vec<Option<Prep<'a>>>,
    rd: Readings,
    names: Names,
    denom: f64,
}

impl<'a> Ctx<'a> {
    /// Prepare `roster` and `others` (two threads, each half) and count the
    /// roster's names.
    fn new(records: &'a [Record], roster: &[usize], others: &[usize]) -> Self {
        let n = records.len();
        let mut todo: Vec<usize> = roster
            .iter()
            .chain(others.iter())
            .copied()
            .filter(|&i| i < n)
            .collect();
        todo.sort_unstable();
        todo.dedup();
        let (a, b) = todo.split_at(todo.len().div_ceil(2));
        let ((mut pa, mut ta), second) = if b.is_empty() {
            (prep_part(records, a), None)
        } else {
            std::thread::scope(|sc| {
                let other = sc.spawn(|| prep_part(records, b));
                let first = prep_part(records, a);
                match other.join() {
                    Ok(second) => (first, Some(second)),
                    Err(e) => std::panic::resume_unwind(e),
                }
            })
        };
        if let Some((pb, tb)) = second {
            let names = ta.names.absorb(tb.names);
            let shown = ta.shown.absorb(tb.shown);
            let villages = ta.villages.absorb(tb.villages);
            let to = |map: &[u32], i: u32| if i == NONE { NONE } else { map[i as usize] };
            pa.extend(pb.into_iter().map(|mut p| {
                p.block = to(&names, p.block);
                p.name = to(&names, p.name);
                p.head1 = to(&names, p.head1);
                p.head2 = to(&names, p.head2);
                p.shown = to(&shown, p.shown);
                p.village = to(&villages, p.village);
                p
            }));
        }
        let texts = ta.names.into_vec();
        let mut blocking = vec![false; texts.len()];
        for p in &pa {
            blocking[p.block as usize] = true;
        }
        let mut rd = Readings::default();
        let names = Names::new(&texts, &blocking, &mut rd);
        drop(texts);

        let mut prep: Vec<Option<Prep<'a>>> = Vec::new();
        prep.resize_with(n, || None);
        for (&i, p) in todo.iter().zip(pa) {
            prep[i] = Some(p);
        }
        // Roster children per folded name and per main pinyin key.
        let n_keys = names.keys.items.iter().max().map_or(0, |&k| k as usize + 1);
        let mut name_count = vec![0u32; blocking.len()];
        let mut sound_count = vec![0u32; n_keys];
        for &r in roster {
            if let Some(Some(p)) = prep.get(r)
                && let Some(&k) = names.keys(p.block).first()
            {
                name_count[p.block as usize] += 1;
                sound_count[k as usize] += 1;
            }
        }
        for p in prep.iter_mut().flatten() {
            p.name_n = name_count[p.block as usize].max(1);
            p.sound_k = names
                .keys(p.block)
                .first()
                .map_or(1, |&k| sound_count[k as usize].max(1));
        }
        Ctx {
            records,
            prep,
            rd,
            names,
            denom: (roster.len() as f64).max(2000.0),
        }
    }

    fn prep(&self, i: usize) -> Option<&Prep<'a>> {
        self.prep.get(i).and_then(Option::as_ref)
    }

    /// The surname character of a prepared record's folded name.
    fn surname(&self, p: &Prep) -> Option<char> {
        self.names.chars(p.block).first().map(|c| c.0)
    }

    fn freq(&self, r: usize) -> (NameFreq, usize) {
        let Some(p) = self.prep(r) else {
            return (NameFreq::RARE, 0);
        };
        (
            NameFreq {
                same_name: p.name_n as f64 / self.denom,
                same_sound: p.sound_k as f64 / self.denom,
            },
            p.name_n as usize,
        )
    }

    /// [`compare`] of two prepared records, without allocating.
    fn compare(&self, r: usize, s: usize) -> Comparison {
        let (rr, sr) = (&self.records[r], &self.records[s]);
        let (Some(pr), Some(ps)) = (self.prep(r), self.prep(s)) else {
            return compare(rr, sr);
        };
        let name = self.rd.level(
            self.names.chars(pr.name),
            self.names.chars(ps.name),
            pr.shown == ps.shown,
        );
        let id = id::level_with(
            &rr.id,
            &sr.id,
            (pr.id_missing, pr.full18, pr.first15),
            (ps.id_missing, ps.full18, ps.first15),
        );
        let agreement = |x: Option<bool>| match x {
            Some(true) => Agreement::Agree,
            Some(false) => Agreement::Disagree,
            None => Agreement::Unknown,
        };
        let household = if pr.head1 == NONE || ps.head1 == NONE {
            Agreement::Unknown
        } else {
            match self
                .rd
                .level(self.names.chars(pr.head2), self.names.chars(ps.head2), true)
            {
                NameLevel::Identical | NameLevel::SameAfterFolding | NameLevel::Homophone => {
                    Agreement::Agree
                }
                _ => Agreement::Disagree,
            }
        };
        Comparison {
            name,
            id,
            birth: agreement(pr.birth.agrees(&ps.birth)),
            sex: agreement(match (pr.sex, ps.sex) {
                (Some(a), Some(b)) => Some(a == b),
                _ => None,
            }),
            village: agreement(if pr.village == NONE || ps.village == NONE {
                None
            } else {
                Some(pr.village == ps.village)
            }),
            household,
            birth_near: compare::births_near(&pr.birth, &ps.birth),
        }
    }

    fn weigh(&self, r: usize, s: usize) -> (f64, Comparison) {
        let (rr, sr) = (&self.records[r], &self.records[s]);
        let c = self.compare(r, s);
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
    let (Some(pa), Some(pb)) = (ctx.prep(a), ctx.prep(b)) else {
        return false;
    };
    let surname = ctx.surname(pa);
    if surname.is_none() || surname != ctx.surname(pb) {
        return false;
    }
    if pa.birth.agrees(&pb.birth) != Some(true) {
        return false;
    }
    if pa.village != NONE && pb.village != NONE && pa.village != pb.village {
        return false;
    }
    let (na, nb) = (ra.household_no.trim(), rb.household_no.trim());
    if !na.is_empty() && !nb.is_empty() {
        return na == nb;
    }
    pa.head1 == NONE || pb.head1 == NONE || pa.head1 == pb.head1
}

#[derive(Clone, Copy)]
struct Cand {
    r: usize,
    s: usize,
    w: f64,
    comp: Comparison,
}

/// The name alone says "same child".
fn name_matches(l: NameLevel) -> bool {
    matches!(
        l,
        NameLevel::Identical | NameLevel::SameAfterFolding | NameLevel::Homophone
    )
}

/// The roster's blocks: the roster records of all blocks, block after
/// block, each block in roster order, and where each key's block lies.
struct Blocks {
    members: Vec<u32>,
    at: MixMap<Key, (u32, u32)>,
}

impl Blocks {
    fn new(mut entries: Vec<(Key, u32)>) -> Self {
        // Ascending roster index within a block, the order they were added in.
        entries.sort_unstable();
        let n_blocks = 1 + entries.windows(2).filter(|w| w[0].0 != w[1].0).count();
        let mut at: MixMap<Key, (u32, u32)> =
            MixMap::with_capacity_and_hasher(n_blocks, Default::default());
        let mut i = 0;
        while i < entries.len() {
            let k = entries[i].0;
            let j = i + entries[i..].partition_point(|e| e.0 == k);
            at.insert(k, (i as u32, j as u32));
            i = j;
        }
        Blocks {
            members: entries.into_iter().map(|e| e.1).collect(),
            at,
        }
    }

    fn get(&self, k: &Key) -> &[u32] {
        match self.at.get(k) {
            Some(&(a, b)) => self.members.get(a as usize..b as usize).unwrap_or(&[]),
            None => &[],
        }
    }
}

/// The later copies of a child the roster lists twice: a roster row with the
/// same valid ID and the same name as an earlier one (earlier: files in the
/// order given, then rows). Such a copy is DUPLICATE_ID (from the checker)
/// and nothing else: it takes no part in linking, is never NOT_SURVEYED and
/// has no row of its own in the derived ledger.
pub(crate) fn roster_copies(records: &[Record], roster: &[usize]) -> FxSet {
    let mut order: Vec<usize> = roster
        .iter()
        .copied()
        .filter(|&i| i < records.len() && records[i].id.is_valid())
        .collect();
    order.sort_unstable_by_key(|&i| (records[i].table, records[i].row, i));
    order.dedup();
    let mut first: FxMap<&str, usize> = FxMap::default();
    let mut out = FxSet::default();
    for i in order {
        let r = &records[i];
        match first.get(r.id.clean.as_str()) {
            Some(&f) if name::fold(&records[f].name) == name::fold(&r.name) => {
                out.insert(i);
            }
            Some(_) => {}
            None => {
                first.insert(r.id.clean.as_str(), i);
            }
        }
    }
    out
}

/// Link survey records to roster records. Indices are into `records`; the
/// result is sorted by (survey, roster). Later roster copies of the same
/// child ([`roster_copies`]) are left out: the first copy is linked.
pub fn link(
    records: &[Record],
    roster: &[usize],
    survey: &[usize],
    params: &LinkParams,
) -> Vec<Pair> {
    let copies = roster_copies(records, roster);
    let mut roster = sorted_unique(roster, records.len());
    if !copies.is_empty() {
        roster.retain(|i| !copies.contains(i));
    }
    let survey = sorted_unique(survey, records.len());
    let ctx = Ctx::new(records, &roster, &survey);
    let mut strs = Interner::default();

    // ---- blocks over the roster ----
    let mut entries: Vec<(Key, u32)> = Vec::new();
    for &r in &roster {
        let Some(p) = ctx.prep(r) else { continue };
        let rec = &records[r];
        let mut add = |k: Option<Key>| {
            if let Some(k) = k {
                entries.push((k, r as u32));
            }
        };
        if let Some(f) = p.full18 {
            add(Some(id_key(T_ID, f, &mut strs)));
            add(f.get(..17).map(|x| id_key(T_ID17, x, &mut strs)));
            add(f.get(..14).map(|x| id_key(T_ID14, x, &mut strs)));
            for fix in id::repairs(f) {
                add(Some(id_key(T_REPAIR, &fix, &mut strs)));
            }
        } else if let Some(t) = id::truncated15(&rec.id) {
            add(Some(id_key(T_ID14, &t[..14], &mut strs)));
        } else if !rec.id.clean.is_empty() && rec.id.kind != IdKind::Missing {
            add(Some(id_key(T_ID, &rec.id.clean, &mut strs)));
        }
        let v = p.village;
        for &k in ctx.names.keys(p.block) {
            for &b in p.births() {
                add(Some(key(T_BIRTH_NAME, k as u64, b as u32 as u64)));
            }
            if v != NONE {
                add(Some(key(T_VILLAGE_NAME, v as u64, k as u64)));
            }
        }
        if v != NONE {
            for &b in p.births() {
                add(Some(key(T_BIRTH_VILLAGE, b as u32 as u64, v as u64)));
            }
        }
    }
    let blocks = Blocks::new(entries);

    // ---- candidates for each survey record ----
    // Two threads over contiguous halves of the survey records; the halves'
    // candidates are joined in survey order, as one loop would make them.
    let strs = &strs;
    let half = survey.len().div_ceil(2);
    let (a, b) = survey.split_at(half.min(survey.len()));
    let run = |part: &[usize]| {
        let mut cands: Vec<Cand> = Vec::new();
        let mut found: Vec<usize> = Vec::new();
        for &s in part {
            candidates_of(&ctx, &blocks, strs, s, &mut found, &mut cands);
        }
        cands
    };
    let mut cands = if b.is_empty() {
        run(a)
    } else {
        std::thread::scope(|sc| {
            let other = sc.spawn(|| run(b));
            let mut first = run(a);
            match other.join() {
                Ok(second) => first.extend(second),
                Err(e) => std::panic::resume_unwind(e),
            }
            first
        })
    };
    cands.shrink_to_fit();

    assign(&ctx, cands, params)
}

/// The candidates of survey record `s`: the roster records its blocks hold,
/// each compared once, in roster index order.
fn candidates_of(
    ctx: &Ctx,
    blocks: &Blocks,
    strs: &Interner,
    s: usize,
    found: &mut Vec<usize>,
    cands: &mut Vec<Cand>,
) {
    let records = ctx.records;
    let Some(p) = ctx.prep(s) else { return };
    let rec = &records[s];
    found.clear();
    let take = |k: Option<Key>, cap: usize, found: &mut Vec<usize>| {
        if let Some(k) = k {
            let b = blocks.get(&k);
            if b.len() <= cap {
                found.extend(b.iter().map(|&r| r as usize));
            }
        }
    };
    if let Some(f) = p.full18 {
        take(id_lookup(T_ID, f, strs), usize::MAX, found);
        take(
            f.get(..17).and_then(|x| id_lookup(T_ID17, x, strs)),
            usize::MAX,
            found,
        );
        take(
            f.get(..14).and_then(|x| id_lookup(T_ID14, x, strs)),
            BLOCK_CAP,
            found,
        );
        take(id_lookup(T_REPAIR, f, strs), usize::MAX, found);
        for fix in id::repairs(f) {
            take(id_lookup(T_ID, &fix, strs), usize::MAX, found);
        }
    } else if let Some(t) = id::truncated15(&rec.id) {
        // Excel kept 15 digits: look among those born that day, keep the 15 that agree.
        if let Some(k) = id_lookup(T_ID14, &t[..14], strs) {
            for &r in blocks.get(&k).iter().take(BLOCK_CAP * 8) {
                let r = r as usize;
                if ctx.prep(r).and_then(|q| q.first15) == Some(t) {
                    found.push(r);
                }
            }
        }
    } else if !rec.id.clean.is_empty() && rec.id.kind != IdKind::Missing {
        take(id_lookup(T_ID, &rec.id.clean, strs), usize::MAX, found);
    }
    let v = p.village;
    for &k in ctx.names.keys(p.block) {
        for &b in p.births() {
            take(
                Some(key(T_BIRTH_NAME, k as u64, b as u32 as u64)),
                BLOCK_CAP,
                found,
            );
        }
        if v != NONE {
            take(
                Some(key(T_VILLAGE_NAME, v as u64, k as u64)),
                BLOCK_CAP,
                found,
            );
        }
    }
    if v != NONE {
        for &b in p.births() {
            take(
                Some(key(T_BIRTH_VILLAGE, b as u32 as u64, v as u64)),
                BLOCK_CAP,
                found,
            );
        }
    }
    found.sort_unstable();
    found.dedup();
    for &r in found.iter() {
        let (w, comp) = ctx.weigh(r, s);
        cands.push(Cand { r, s, w, comp });
    }
}

/// Lists of items per record index, all in one Vec (each list keeps the
/// order its items came in).
struct Lists<T> {
    start: Vec<u32>,
    items: Vec<T>,
}

impl<T: Copy> Lists<T> {
    fn new(n: usize, it: impl Iterator<Item = (usize, T)> + Clone) -> Self {
        let mut start = vec![0u32; n + 2];
        for (i, _) in it.clone() {
            start[i + 2] += 1;
        }
        for i in 2..start.len() {
            start[i] += start[i - 1];
        }
        let total = start[n + 1] as usize;
        let mut items: Vec<Option<T>> = vec![None; total];
        for (i, x) in it {
            let at = &mut start[i + 1];
            items[*at as usize] = Some(x);
            *at += 1;
        }
        Lists {
            start,
            items: items.into_iter().flatten().collect(),
        }
    }

    /// Lists built one after the other: push a list's items, then `end_list`.
    fn builder() -> ListsBuilder<T> {
        ListsBuilder {
            start: vec![0],
            items: Vec::new(),
        }
    }

    fn get(&self, i: usize) -> &[T] {
        match (self.start.get(i), self.start.get(i + 1)) {
            (Some(&a), Some(&b)) => self.items.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

struct ListsBuilder<T> {
    start: Vec<u32>,
    items: Vec<T>,
}

impl<T> ListsBuilder<T> {
    fn end_list(&mut self) {
        self.start.push(self.items.len() as u32);
    }

    fn build(mut self) -> Lists<T> {
        self.items.shrink_to_fit();
        Lists {
            start: self.start,
            items: self.items,
        }
    }
}

fn assign(ctx: &Ctx, mut cands: Vec<Cand>, params: &LinkParams) -> Vec<Pair> {
    let n = ctx.records.len();
    // Rank of each record by (table, row, index): sorting on ranks is
    // sorting on `pos`, and as (r, s) is unique the order is total.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by_key(|&i| ctx.pos(i));
    let mut rank = vec![0u32; n];
    for (k, &i) in order.iter().enumerate() {
        rank[i] = k as u32;
    }
    cands.sort_unstable_by(|a, b| {
        b.w.total_cmp(&a.w)
            .then_with(|| rank[a.r].cmp(&rank[b.r]))
            .then_with(|| rank[a.s].cmp(&rank[b.s]))
    });
    // Every blocked candidate takes part in the competitor checks; only
    // those at or above `possible` can be paired. Indexed by record, in
    // the order of `cands`; each (roster, survey) pair occurs once.
    let by_s = Lists::new(n, cands.iter().map(|c| (c.s, (c.r, c.w, c.comp.name))));
    let by_r = Lists::new(n, cands.iter().map(|c| (c.r, (c.s, c.w))));
    cands.retain(|c| score_of(c.w) >= params.possible);
    let best_except = |list: &[(usize, f64)], except: usize| -> f64 {
        list.iter()
            .filter(|(o, _)| *o != except)
            .map(|(_, w)| *w)
            .fold(f64::NEG_INFINITY, f64::max)
    };
    let best_except_s = |list: &[(usize, f64, NameLevel)], except: usize| -> f64 {
        list.iter()
            .filter(|(o, _, _)| *o != except)
            .map(|(_, w, _)| *w)
            .fold(f64::NEG_INFINITY, f64::max)
    };

    let mut used_s = vec![false; n];
    let mut used_r = vec![false; n];
    let mut linked_r = vec![false; n];
    let mut linked_by_r: Vec<Option<usize>> = vec![None; n];
    let mut linked_s = vec![false; n];
    let mut pairs: Vec<Pair> = Vec::new();

    for c in &cands {
        if used_s[c.s] || used_r[c.r] {
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
            for &(r2, w2, r2_name) in by_s.get(c.s) {
                if r2 == c.r || linked_r[r2] {
                    continue;
                }
                let twin = twin_like(ctx, c.r, r2);
                // Twins mixed up: the name is the other twin's, the ID this one's.
                if twin && !name_matches(c.comp.name) && name_matches(r2_name) {
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
                if best_except(by_r.get(r2), c.s) >= w2 + CLEARLY_ELSEWHERE {
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
            for &(s2, w2) in by_r.get(c.r) {
                if s2 == c.s || linked_s[s2] || same_person(ctx, c.s, s2) {
                    continue;
                }
                let twin = twin_like(ctx, c.s, s2);
                let margin = if twin { TWIN_MARGIN } else { TIE_MARGIN };
                if w2 < c.w - margin {
                    continue;
                }
                if best_except_s(by_s.get(s2), c.r) >= w2 + CLEARLY_ELSEWHERE {
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
        used_s[c.s] = true;
        used_r[c.r] = true;
        if decision == Decision::Linked {
            linked_r[c.r] = true;
            linked_s[c.s] = true;
            linked_by_r[c.r] = Some(c.s);
        }
        pairs.push(make_pair(ctx, c, decision, notes));
    }

    // A survey row whose candidates were all taken (a child surveyed twice,
    // say) is still shown to a person with its best candidate.
    for c in &cands {
        if used_s[c.s] {
            continue;
        }
        used_s[c.s] = true;
        // The same person surveyed twice (same full ID as the linked row) is
        // DUPLICATE_ID, reported by the checker: no POSSIBLE_MATCH on top.
        if linked_by_r[c.r].is_some_and(|s| same_person(ctx, s, c.s)) {
            continue;
        }
        let note = if linked_r[c.r] {
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
    match (ctx.prep(a), ctx.prep(b)) {
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

/// The pair of a candidate, with the comparison `link` already made.
/// A roster–survey pairing between two records of the run (indices into the
/// run's `Vec<Record>`), as the linker decided it.
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    pub roster: usize,
    pub survey: usize,
    pub decision: Decision,
    pub score: f64,
    /// What the comparison found, spelled out by [`Pair::reasons`] when a
    /// report needs it: a pair holds no text of its own (at a million
    /// children the reasons as text took ~0.3 GB).
    why: Why,
}

#[derive(Clone, Debug, PartialEq)]
struct Why {
    comp: Comparison,
    /// The first differing ID position (1-based) for a one-digit or swapped
    /// ID, else 0.
    first_diff: u8,
    /// Roster children with this name, when the name evidence was weighed
    /// down for being common (else 0).
    namesakes: u32,
    /// Why the pair is only possible (a close competitor), in Chinese.
    notes: Vec<String>,
}

impl Pair {
    /// Plain-Chinese reasons, one per compared field (e.g. "姓名同音: 张诗鑫 / 张诗欣"),
    /// then the common-name note and why the pair is only possible.
    /// `records` is the run's records the pair indexes.
    pub fn reasons(&self, records: &[Record]) -> Vec<String> {
        let w = &self.why;
        let mut rs = reasons_at(
            &w.comp,
            &records[self.roster],
            &records[self.survey],
            usize::from(w.first_diff),
        );
        if w.namesakes > 0 {
            rs.push(format!(
                "常见姓名: 县局名单中有{}人同名，姓名证据权重降低",
                w.namesakes
            ));
        }
        rs.extend(w.notes.iter().cloned());
        rs
    }
}

fn make_pair(ctx: &Ctx, c: &Cand, decision: Decision, notes: Vec<String>) -> Pair {
    let comp = &c.comp;
    // The first differing ID position, as `compare_ids` reports it for the
    // two levels whose reason names it (both are digit by digit on full18).
    let p = match (comp.id, ctx.prep(c.r), ctx.prep(c.s)) {
        (IdLevel::OneDigit | IdLevel::AdjacentSwap, Some(x), Some(y)) => {
            match (x.full18, y.full18) {
                (Some(a), Some(b)) => a
                    .bytes()
                    .zip(b.bytes())
                    .position(|(u, v)| u != v)
                    .map_or(0, |i| i + 1),
                _ => 0,
            }
        }
        _ => 0,
    };
    let (_, n) = ctx.freq(c.r);
    let common = n >= 3
        && matches!(
            comp.name,
            NameLevel::Identical | NameLevel::SameAfterFolding
        );
    Pair {
        roster: c.r,
        survey: c.s,
        decision,
        score: score_of(c.w),
        why: Why {
            comp: *comp,
            first_diff: u8::try_from(p).unwrap_or(0),
            namesakes: if common {
                u32::try_from(n).unwrap_or(u32::MAX)
            } else {
                0
            },
            notes,
        },
    }
}

/// Weight and score of one pair as `link` computes them (for tests and tools).
pub fn pair_score(records: &[Record], roster: &[usize], r: usize, s: usize) -> Option<f64> {
    if r >= records.len() || s >= records.len() {
        return None;
    }
    let roster = sorted_unique(roster, records.len());
    let ctx = Ctx::new(records, &roster, &[r, s]);
    Some(score_of(ctx.weigh(r, s).0))
}
