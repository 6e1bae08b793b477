//! The recall a user asks for (`quantvec.target_recall`): a build measures, with rows of
//! the table as queries, the recall@10 every (probes, rescore factor) setting reaches, and
//! a scan takes the cheapest setting that reaches the target.
//!
//! The measurement is exact for the search as [`super::search`] runs it: a `LIMIT 10`
//! query with p probes and rescore factor r returns the 10 nearest by rescored distance
//! of the ⌈10r⌉ nearest first-pass candidates of the p nearest lists. A true neighbour is
//! among them if and only if its list is among the p nearest and fewer than ⌈10r⌉ rows of
//! those lists come before it in the first pass; one pass over a query's lists, counting
//! for each true neighbour the rows ahead of it list by list, gives its fate at every
//! setting at once.
//!
//! The true neighbours are the nearest rows by the rescored distance (what the index can
//! find at best), found while the build writes rows (by an int8 dot product first, then
//! the nearest 50 rescored); a query row's own row is left out of both its neighbours and
//! its candidates, as a query from outside the table has none.

use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use rayon::prelude::*;

use super::search::{rank_key, Lists};
use super::{block, vector_centered_norm_sq, CoarseQuery, IndexQuery, ItemPointer, Quantizer, Scorer};
use crate::error::{bail, ErrorKind, Result};
use crate::floats::Query;
use crate::kernels::Kernels;

/// Recall is measured at 10 rows, the `LIMIT` most queries have.
pub const K: usize = 10;

/// Rows a build takes as queries. With 200 (and no margin), a target of 0.95 measured
/// 0.943 on 1,000 outside queries of a 20k-row table; with 500, 0.954.
pub const QUERIES: usize = 500;

/// Rescore factors measured.
pub const RESCORE_FACTORS: [f32; 20] = [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0, 96.0, 128.0, 192.0, 256.0];

/// What a scan costs, in units of one binary code scored (about 5 ns): reading and
/// rescoring a vector (a buffer pin, a cache miss and an int8 distance: 0.4-0.9 µs on
/// 384 dimensions), and probing a list (its centroid term and first page).
const VECTOR_COST: f64 = 150.0;
const LIST_COST: f64 = 40.0;
/// A 4-bit code has four times a 1-bit code's bytes for FastScan to look up, but shares its
/// fixed costs (the block's factors, the candidate heap).
const NIBBLE_CODE_COST: f64 = 2.5;

/// Probe counts measured: every count to 8, then steps of an eighth, up to 24·√lists
/// (eight times the default; all lists of an index of up to 576).
pub fn probe_grid(lists: usize) -> Vec<u32> {
    let max = ((24.0 * (lists as f64).sqrt()).ceil() as usize).clamp(1, lists.max(1));
    let mut grid = Vec::new();
    let mut probes = 1usize;
    while probes < max {
        grid.push(probes as u32);
        probes = (probes + 1).max((probes as f64 * 1.125).ceil() as usize);
    }
    grid.push(max as u32);
    grid
}

/// A calibration query and the rows nearest to it.
pub struct Truth {
    scorer: Scorer,
    /// The heap row the query was taken from.
    own_tid: ItemPointer,
    /// Where that row's entry is, once seen.
    own_target: Option<ItemPointer>,
    neighbours: Neighbours,
}

enum Neighbours {
    /// Found while rows are offered: the `K + SLACK` nearest by the coarse distance so
    /// far, farthest on top, whose vectors are rescored at the end.
    Gathered { coarse: CoarseQuery, candidates: BinaryHeap<(u64, ItemPointer, u32, Vec<u8>)> },
    /// Known (outside queries with their exact neighbours): (target, list), nearest first.
    Given(Vec<(ItemPointer, u32)>),
}

/// Candidates kept beyond K by the coarse distance: the K rows nearest by rescored distance
/// lie within the nearest 50 by it (the tests' searches match the calibration exactly, and
/// the targets chose as they did with every row rescored).
const SLACK: usize = 40;

impl Truth {
    /// The K nearest rows by the rescored distance: (target, list), nearest first.
    fn nearest(&self) -> Vec<(ItemPointer, u32)> {
        match &self.neighbours {
            Neighbours::Given(given) => given.clone(),
            Neighbours::Gathered { candidates, .. } => {
                let mut exact: Vec<(u64, ItemPointer, u32)> =
                    candidates.iter().map(|(_, target, list, vector)| (ordered(self.scorer.rescore(vector)), *target, *list)).collect();
                exact.sort_unstable();
                exact.into_iter().take(K).map(|(_, target, list)| (target, list)).collect()
            }
        }
    }
}

/// An f64 as an integer that orders as `f64::total_cmp` does.
fn ordered(distance: f64) -> u64 {
    let bits = distance.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// A row as the build writes it, offered to the calibration queries.
pub struct Offered<'a> {
    pub tid: ItemPointer,
    /// Where its entry points: its vector item.
    pub target: ItemPointer,
    pub list: usize,
    /// The vector item, as rescoring reads it.
    pub vector: &'a [u8],
}

/// A query's floats and its true neighbours, nearest first: (target, list) of each.
pub type GivenQuery = (Vec<f32>, Vec<(ItemPointer, u32)>);

/// The calibration queries of a build and their true neighbours.
pub struct Truths {
    quantizer: Arc<Quantizer>,
    k: &'static Kernels,
    truths: Vec<Truth>,
    /// Rows offered so far.
    rows: u64,
}

impl Truths {
    /// `queries`: rows of the table (heap tid, floats as the index sees them).
    pub fn new(quantizer: &Arc<Quantizer>, k: &'static Kernels, queries: Vec<(ItemPointer, Vec<f32>)>) -> Result<Truths> {
        if !quantizer.has_vectors() {
            bail!(InvalidParameter, "recall is calibrated only for indexes that rescore");
        }
        let truths = queries
            .into_iter()
            .map(|(tid, floats)| {
                let scorer = Scorer::new(quantizer.clone(), k, IndexQuery::Floats(Query::new(&floats)?))?;
                let neighbours = Neighbours::Gathered { coarse: CoarseQuery::new(quantizer, &floats)?, candidates: BinaryHeap::with_capacity(K + SLACK + 1) };
                Ok(Truth { scorer, own_tid: tid, own_target: None, neighbours })
            })
            .collect::<Result<_>>()?;
        Ok(Truths { quantizer: quantizer.clone(), k, truths, rows: 0 })
    }

    /// Queries from outside the table with their true neighbours given, nearest first
    /// (target and list of each): to measure recall at every setting for real queries.
    pub fn given(quantizer: &Arc<Quantizer>, k: &'static Kernels, queries: Vec<GivenQuery>) -> Result<Truths> {
        let truths = queries
            .into_iter()
            .map(|(floats, neighbours)| {
                let scorer = Scorer::new(quantizer.clone(), k, IndexQuery::Floats(Query::new(&floats)?))?;
                Ok(Truth { scorer, own_tid: ItemPointer::NONE, own_target: None, neighbours: Neighbours::Given(neighbours) })
            })
            .collect::<Result<_>>()?;
        Ok(Truths { quantizer: quantizer.clone(), k, truths, rows: 0 })
    }

    pub fn is_empty(&self) -> bool {
        self.truths.is_empty()
    }

    /// Offers written rows to every query: an int8 dot product per row and query (in
    /// parallel over the queries), rescoring none.
    pub fn offer(&mut self, rows: &[Offered]) {
        self.rows += rows.len() as u64;
        let (k, quantizer) = (self.k, &*self.quantizer);
        let norms: Vec<i64> = rows.par_iter().map(|row| vector_centered_norm_sq(k, quantizer, row.vector)).collect();
        self.truths.par_iter_mut().for_each(|truth| {
            let Neighbours::Gathered { coarse, candidates } = &mut truth.neighbours else { return };
            for (row, &norm) in rows.iter().zip(&norms) {
                if row.tid == truth.own_tid {
                    truth.own_target = Some(row.target);
                    continue;
                }
                let key = ordered(coarse.distance(k, quantizer, row.vector, norm));
                if let Some(farthest) = candidates.peek().filter(|_| candidates.len() == K + SLACK) {
                    if (key, row.target) >= (farthest.0, farthest.1) {
                        continue;
                    }
                    candidates.pop();
                }
                candidates.push((key, row.target, row.list as u32, row.vector.to_vec()));
            }
        });
    }
}

/// Recall@10 at each setting measured, and what each costs (none measured: no calibration).
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    pub queries: u32,
    pub probes: Vec<u32>,
    /// Binary codes a query scores at each probe count (mean over the queries).
    pub codes: Vec<f32>,
    pub rescore_factors: Vec<f32>,
    /// Probes-major: `recall[p * rescore_factors.len() + r]`.
    pub recall: Vec<f32>,
    /// The rows whose neighbours the queries were measured among (0 where not recorded: the
    /// calibrations of builds before it was, and those of queries with given neighbours).
    pub rows: u64,
    /// What scoring one code costs, in units of a 1-bit code: not stored, but set from the
    /// index's quantizer by [`Calibration::for_code_bits`] (by a measurement itself, and by a
    /// reader of the stored bytes).
    pub code_cost: f64,
}

/// A setting chosen for a target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Choice {
    pub probes: usize,
    pub rescore_factor: f64,
    /// The recall measured at that setting.
    pub recall: f64,
}

/// A point of the recall curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub probes: usize,
    pub rescore_factor: f64,
    pub recall: f64,
    /// Binary codes a query scores (mean over the calibration's queries).
    pub codes_scored: f64,
    /// In units of one code scored (see `VECTOR_COST`).
    pub cost: f64,
}

/// Candidates rescored for 10 rows at a rescore factor, as the search counts them.
fn rescored(rescore_factor: f64) -> usize {
    (K as f64 * rescore_factor).ceil() as usize
}

/// Measures recall at every setting of the grid over the index's pages, one query after
/// another (pages read through a source that must stay on one thread).
pub fn calibrate(source: &dyn Lists, truths: &Truths) -> Calibration {
    let grid = probe_grid(truths.quantizer.lists());
    let tally = truths.truths.iter().map(|truth| tally(source, &truths.quantizer, truth, &grid)).fold(Tally::new(&grid), Tally::add);
    tally.into_calibration(grid, truths)
}

/// [`calibrate`], the queries spread over `pool` (pages held in memory), calling
/// `between` on this thread between slices of them (a cancel check).
pub fn calibrate_parallel(
    pool: &rayon::ThreadPool,
    source: &(dyn Lists + Sync),
    truths: &Truths,
    between: &mut dyn FnMut() -> Result<()>,
) -> Result<Calibration> {
    let grid = probe_grid(truths.quantizer.lists());
    let mut sum = Tally::new(&grid);
    for slice in truths.truths.chunks(PARALLEL_SLICE) {
        between()?;
        let measure = || slice.par_iter().map(|truth| tally(source, &truths.quantizer, truth, &grid)).reduce(|| Tally::new(&grid), Tally::add);
        sum = sum.add(pool.install(measure));
    }
    Ok(sum.into_calibration(grid, truths))
}

/// Queries measured in parallel between two calls of `between`.
const PARALLEL_SLICE: usize = 32;

/// The true neighbours found at each setting, and the codes scored at each probe count,
/// summed over queries.
struct Tally {
    found: Vec<u64>,
    codes: Vec<u64>,
    neighbours: u64,
}

impl Tally {
    fn new(grid: &[u32]) -> Tally {
        Tally { found: vec![0; grid.len() * RESCORE_FACTORS.len()], codes: vec![0; grid.len()], neighbours: 0 }
    }

    fn add(mut self, other: Tally) -> Tally {
        self.found.iter_mut().zip(&other.found).for_each(|(a, b)| *a += b);
        self.codes.iter_mut().zip(&other.codes).for_each(|(a, b)| *a += b);
        self.neighbours += other.neighbours;
        self
    }

    /// The calibration these tallies of `truths`' queries make, costed for its codes.
    fn into_calibration(self, grid: Vec<u32>, truths: &Truths) -> Calibration {
        let queries = truths.truths.len();
        if queries == 0 {
            return Calibration::default();
        }
        let neighbours = self.neighbours;
        let measured = Calibration {
            queries: queries as u32,
            probes: grid,
            codes: self.codes.iter().map(|&c| (c as f64 / queries as f64) as f32).collect(),
            rescore_factors: RESCORE_FACTORS.to_vec(),
            recall: self.found.iter().map(|&f| stored_recall(if neighbours == 0 { 1.0 } else { f as f64 / neighbours as f64 })).collect(),
            rows: truths.rows,
            code_cost: 1.0,
        };
        measured.for_code_bits(truths.quantizer.code_bits)
    }
}

/// One query's tally at every setting.
fn tally(source: &dyn Lists, quantizer: &Quantizer, truth: &Truth, grid: &[u32]) -> Tally {
    let factors = RESCORE_FACTORS;
    let mut tally = Tally::new(grid);
    let fates = measure(source, quantizer, truth, *grid.last().expect("a probe count") as usize);
    tally.neighbours = fates.neighbours.len() as u64;
    let measured = fates.rows.len();
    // Rows in the nearest n lists, for every n.
    let mut before = vec![0u64; measured + 1];
    for (i, &n) in fates.rows.iter().enumerate() {
        before[i + 1] = before[i] + n;
    }
    for (p, &probes) in grid.iter().enumerate() {
        let probes = probes as usize;
        tally.codes[p] = fates.codes[..probes.min(measured)].iter().sum::<u64>();
        for neighbour in &fates.neighbours {
            let Some(position) = neighbour.position else { continue };
            // Where the probed lists hold fewer candidates than are wanted, the search
            // rescores all of them and goes on with the next `probes` lists, and so on:
            // the neighbour's group of lists is reached if fewer rows come before it.
            let start = position / probes * probes;
            let end = start + probes;
            if end > measured && measured < quantizer.lists() {
                continue;
            }
            let ahead = before[start] + neighbour.ahead[start..end.min(measured)].iter().sum::<u64>();
            for (r, &factor) in factors.iter().enumerate() {
                if ahead < rescored(f64::from(factor)) as u64 {
                    tally.found[p * factors.len() + r] += 1;
                }
            }
        }
    }
    tally
}

/// A true neighbour's place in a query's first pass.
struct Fate {
    /// Its list's rank among the query's lists (None: past the probes measured).
    position: Option<usize>,
    /// Per list rank, the rows of that list ahead of it in the first pass.
    ahead: Vec<u64>,
}

struct Fates {
    neighbours: Vec<Fate>,
    /// Codes scored per list rank.
    codes: Vec<u64>,
    /// Rows that are candidates (all but the query's own) per list rank.
    rows: Vec<u64>,
}

fn measure(source: &dyn Lists, quantizer: &Quantizer, truth: &Truth, max_probes: usize) -> Fates {
    let scorer = &truth.scorer;
    let mut ranked: Vec<u64> = scorer.ranked_lists().into_iter().map(|(rank, list)| rank_key(rank, list)).collect();
    if ranked.len() > max_probes {
        ranked.select_nth_unstable(max_probes - 1);
        ranked.truncate(max_probes);
    }
    ranked.sort_unstable();
    let lists: Vec<u32> = ranked.iter().map(|&key| key as u32).collect();
    let position_of: HashMap<u32, usize> = lists.iter().enumerate().map(|(i, &list)| (list, i)).collect();
    let neighbours = truth.nearest();

    // The neighbours' own first-pass scores, from their lists.
    let mut keys: Vec<Option<(f32, ItemPointer)>> = vec![None; neighbours.len()];
    let mut neighbour_lists: Vec<u32> = neighbours.iter().map(|n| n.1).filter(|l| position_of.contains_key(l)).collect();
    neighbour_lists.sort_unstable();
    neighbour_lists.dedup();
    for &list in &neighbour_lists {
        each_estimate(source, quantizer, scorer, list, &mut |estimate, target| {
            if let Some(i) = neighbours.iter().position(|n| n.0 == target) {
                keys[i] = Some((estimate, target));
            }
        });
    }

    // Rows ahead of each, list by list; only rows under the farthest key can be ahead.
    let mut fates: Vec<Fate> =
        neighbours.iter().zip(&keys).map(|(n, key)| Fate { position: key.and(position_of.get(&n.1).copied()), ahead: vec![0; lists.len()] }).collect();
    let bound = keys.iter().flatten().map(|k| k.0).max_by(f32::total_cmp).unwrap_or(f32::NEG_INFINITY);
    let mut codes = vec![0u64; lists.len()];
    let mut rows = vec![0u64; lists.len()];
    for (position, &list) in lists.iter().enumerate() {
        each_estimate(source, quantizer, scorer, list, &mut |estimate, target| {
            codes[position] += 1;
            if target == ItemPointer::NONE || Some(target) == truth.own_target {
                return;
            }
            rows[position] += 1;
            if estimate.total_cmp(&bound).is_gt() {
                return;
            }
            for (fate, key) in fates.iter_mut().zip(&keys) {
                // As the search orders candidates: estimate, then target.
                if key.is_some_and(|(e, t)| estimate.total_cmp(&e).then(target.cmp(&t)).is_lt()) {
                    fate.ahead[position] += 1;
                }
            }
        });
    }
    Fates { neighbours: fates, codes, rows }
}

/// Visits every slot of `list`'s blocks (free ones too, whose target is `NONE`) with its
/// first-pass estimate and target.
fn each_estimate(source: &dyn Lists, quantizer: &Quantizer, scorer: &Scorer, list: u32, visit: &mut dyn FnMut(f32, ItemPointer)) {
    let term = scorer.list_term(list);
    source.scan_list(list, &mut |block| {
        let mut estimates = [0.0f32; block::ROWS];
        scorer.estimate_block(block, term, &mut estimates);
        for (slot, &estimate) in estimates.iter().enumerate() {
            visit(estimate, block::pointer(quantizer, block, slot));
        }
    });
}

impl Default for Calibration {
    /// No calibration: nothing measured.
    fn default() -> Calibration {
        Calibration { queries: 0, probes: Vec::new(), codes: Vec::new(), rescore_factors: Vec::new(), recall: Vec::new(), rows: 0, code_cost: 1.0 }
    }
}

impl Calibration {
    /// The same measurements, costed for first-pass codes of `code_bits` bits.
    pub fn for_code_bits(self, code_bits: u8) -> Calibration {
        Calibration { code_cost: if code_bits == 4 { NIBBLE_CODE_COST } else { 1.0 }, ..self }
    }

    pub fn is_empty(&self) -> bool {
        self.probes.is_empty()
    }

    pub fn recall_at(&self, p: usize, r: usize) -> f64 {
        f64::from(self.recall[p * self.rescore_factors.len() + r])
    }

    /// The recall a setting is counted on to reach for a target: its measured recall less
    /// √(r(1 − r)/queries), which bounds the standard error of a mean of per-query recalls
    /// (each between 0 and 1, mean r). 500 rows are a sample, and queries from outside the
    /// table find less than the table's own rows do: on pkg-summaries (812k rows), settings
    /// calibrated at 0.909 and 0.956 found 0.890 and 0.942 for its 1,000 queries, and half
    /// this margin was not enough there.
    pub fn assured(&self, recall: f64) -> f64 {
        if self.queries == 0 {
            return recall;
        }
        recall - (recall * (1.0 - recall)).max(0.0).sqrt() / f64::from(self.queries).sqrt()
    }

    /// The modelled cost of the setting at grid row `p` and column `r`.
    pub fn cost(&self, p: usize, r: usize) -> f64 {
        self.code_cost * f64::from(self.codes[p]) + VECTOR_COST * rescored(f64::from(self.rescore_factors[r])) as f64 + LIST_COST * f64::from(self.probes[p])
    }

    /// The cheapest setting measured that reaches `target` ([`Calibration::assured`]; the
    /// one of highest recall where none does), with `probes` or `rescore_factor` kept as given where the user
    /// set them (the other chosen as measured at the nearest setting below).
    pub fn choose(&self, target: f64, probes: Option<usize>, rescore_factor: Option<f64>) -> Option<Choice> {
        if self.is_empty() {
            return None;
        }
        let at_or_below = |values: &[f64], value: f64| values.iter().rposition(|&v| v <= value).unwrap_or(0);
        let grid_probes: Vec<f64> = self.probes.iter().map(|&p| f64::from(p)).collect();
        let grid_factors: Vec<f64> = self.rescore_factors.iter().map(|&r| f64::from(r)).collect();
        let rows: Vec<usize> = match probes {
            Some(p) => vec![at_or_below(&grid_probes, p as f64)],
            None => (0..self.probes.len()).collect(),
        };
        let columns: Vec<usize> = match rescore_factor {
            Some(r) => vec![at_or_below(&grid_factors, r)],
            None => (0..self.rescore_factors.len()).collect(),
        };
        let settings = rows.iter().flat_map(|&p| columns.iter().map(move |&r| (p, r)));
        let reaching = settings
            .clone()
            .filter(|&(p, r)| reaches(self.assured(self.recall_at(p, r)), target))
            .min_by(|a, b| self.cost(a.0, a.1).total_cmp(&self.cost(b.0, b.1)));
        let (p, r) = reaching.or_else(|| {
            settings.min_by(|a, b| self.recall_at(b.0, b.1).total_cmp(&self.recall_at(a.0, a.1)).then(self.cost(a.0, a.1).total_cmp(&self.cost(b.0, b.1))))
        })?;
        Some(Choice {
            probes: probes.unwrap_or(self.probes[p] as usize),
            rescore_factor: rescore_factor.unwrap_or(grid_factors[r]),
            recall: self.recall_at(p, r),
        })
    }

    /// The settings no other beats in both recall and cost, cheapest first: the curve a
    /// target is read from.
    pub fn frontier(&self) -> Vec<Point> {
        let mut all: Vec<(usize, usize)> = (0..self.probes.len()).flat_map(|p| (0..self.rescore_factors.len()).map(move |r| (p, r))).collect();
        all.sort_by(|a, b| self.cost(a.0, a.1).total_cmp(&self.cost(b.0, b.1)).then(self.recall_at(b.0, b.1).total_cmp(&self.recall_at(a.0, a.1))));
        let mut best = f64::NEG_INFINITY;
        let mut curve = Vec::new();
        for (p, r) in all {
            let recall = self.recall_at(p, r);
            if recall > best {
                best = recall;
                curve.push(Point {
                    probes: self.probes[p] as usize,
                    rescore_factor: f64::from(self.rescore_factors[r]),
                    recall,
                    codes_scored: f64::from(self.codes[p]),
                    cost: self.cost(p, r),
                });
            }
        }
        curve
    }

    /// Stored after the metapage's fields: a tag, the grid sizes, the query count and the
    /// row count, then the probe counts (u32), codes (f32), rescore factors (f32) and
    /// recalls (u16, in 65535ths). No calibration is no bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        if self.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(Self::len_of(HEADER, self.probes.len(), self.rescore_factors.len()));
        out.extend_from_slice(&TAG.to_ne_bytes());
        out.extend_from_slice(&(self.probes.len() as u16).to_ne_bytes());
        out.extend_from_slice(&(self.rescore_factors.len() as u16).to_ne_bytes());
        out.extend_from_slice(&self.queries.to_ne_bytes());
        out.extend_from_slice(&self.rows.to_ne_bytes());
        self.probes.iter().for_each(|p| out.extend_from_slice(&p.to_ne_bytes()));
        self.codes.iter().for_each(|c| out.extend_from_slice(&c.to_ne_bytes()));
        self.rescore_factors.iter().for_each(|r| out.extend_from_slice(&r.to_ne_bytes()));
        self.recall.iter().for_each(|&r| out.extend_from_slice(&recall_units(f64::from(r)).to_ne_bytes()));
        out
    }

    fn len_of(header: usize, probes: usize, factors: usize) -> usize {
        header + 8 * probes + 4 * factors + 2 * probes * factors
    }

    /// Reads what `to_bytes` wrote; an empty slice is no calibration (indexes built
    /// before it existed).
    pub fn from_bytes(bytes: &[u8]) -> Result<Calibration> {
        if bytes.is_empty() {
            return Ok(Calibration::default());
        }
        let u16_at = |at: usize| u16::from_ne_bytes([bytes[at], bytes[at + 1]]) as usize;
        let word_at = |at: usize| u32::from_ne_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        let damaged = || crate::Error::new(ErrorKind::DataException, "quantvec index metapage has a damaged recall calibration; REINDEX the index");
        let (header, rows) = match bytes.get(..4).map(|_| word_at(0)) {
            Some(TAG) if bytes.len() >= HEADER => (HEADER, u64::from_ne_bytes(bytes[12..20].try_into().expect("8 bytes"))),
            Some(TAG_WITHOUT_ROWS) if bytes.len() >= HEADER_WITHOUT_ROWS => (HEADER_WITHOUT_ROWS, 0),
            _ => return Err(damaged()),
        };
        let (probes, factors) = (u16_at(4), u16_at(6));
        if bytes.len() != Self::len_of(header, probes, factors) || probes == 0 || factors == 0 {
            return Err(damaged());
        }
        let words = |start: usize, count: usize| (0..count).map(move |i| word_at(start + 4 * i));
        let probes_at = header;
        let codes_at = probes_at + 4 * probes;
        let factors_at = codes_at + 4 * probes;
        let recall_at = factors_at + 4 * factors;
        let calibration = Calibration {
            queries: word_at(8),
            probes: words(probes_at, probes).collect(),
            codes: words(codes_at, probes).map(f32::from_bits).collect(),
            rescore_factors: words(factors_at, factors).map(f32::from_bits).collect(),
            recall: (0..probes * factors).map(|i| u16_at(recall_at + 2 * i) as f32 / 65535.0).collect(),
            rows,
            code_cost: 1.0,
        };
        let finite = calibration.codes.iter().chain(&calibration.rescore_factors).all(|v| v.is_finite() && *v >= 0.0);
        if !finite || calibration.probes.contains(&0) || calibration.rescore_factors.iter().any(|&r| r < 1.0) {
            return Err(damaged());
        }
        Ok(calibration)
    }
}

/// A recall as stored: in 65535ths.
fn recall_units(recall: f64) -> u16 {
    (recall.clamp(0.0, 1.0) * 65535.0).round() as u16
}

/// Whether a stored recall reaches a target (within the storage's rounding).
fn reaches(recall: f64, target: f64) -> bool {
    recall >= target - 0.5 / 65535.0
}

/// A recall as it reads back from storage.
fn stored_recall(recall: f64) -> f32 {
    f32::from(recall_units(recall)) / 65535.0
}

/// "QVR2": the header has the row count.
const TAG: u32 = 0x5156_5232;
const HEADER: usize = 20;
/// "QVRC": calibrations written before the row count was (read as 0 rows).
const TAG_WITHOUT_ROWS: u32 = 0x5156_5243;
const HEADER_WITHOUT_ROWS: usize = 12;

#[cfg(test)]
mod tests;
