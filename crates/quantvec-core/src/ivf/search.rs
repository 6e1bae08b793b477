//! The search: a lazy stream of rows nearest first, which never stops at k.
//!
//! It probes the `probes` nearest lists, scores their rows from the binary codes into a
//! candidate pool, and rescores candidates best-first with the int8 codes into a result
//! heap. Before it returns its n-th row it has rescored `rescore_factor · max(n, 10)`
//! candidates (or all there are), so a `LIMIT k` query sees the best `k × rescore_factor`
//! first-pass candidates rescored. As it returns more rows it probes further lists (the
//! nearest n rows spread over more lists as n grows: a filter that rejects most rows takes
//! a scan that deep), and when the probed lists run dry it probes the next `probes`
//! lists, until the index is exhausted. A label filter (an index with a label column)
//! drops rows before they are estimated, and takes the scan as deep as its selectivity
//! among the rows near the query says.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use super::block::{self, LabelFilter};
use super::{vector_tid, ItemPointer, Scorer};
use crate::eval::Scored;

/// Where the pages of an index live: memory for tests and benchmarks, or Postgres buffers.
pub trait Lists {
    /// Visits every FastScan block of `list`.
    fn scan_list(&self, list: u32, visit: &mut dyn FnMut(&[u8]));
    /// Visits the vectors in `slots` (those that hold one), in order. Given together so
    /// that their memory can be fetched at once.
    fn read_vectors(&self, slots: &[ItemPointer], visit: &mut dyn FnMut(&[u8]));
    /// Asks for the start of `list` to be fetched into the CPU's cache while another list
    /// is scored: a hint.
    fn prefetch_list(&self, _list: u32) {}
}

/// The number of rows a query is assumed to want before it has asked for more.
const MIN_ROWS: usize = 10;

/// The most a label filter multiplies the candidates rescored a row (see `Search::wanted`).
const MAX_FILTER_RESCORING: f64 = 4.0;

/// Candidates moved from the pool into the sorted frontier at a time.
const FRONTIER: usize = 64;

/// Candidates a reserve may hold (12 bytes each: 12 MiB), beyond which a scan scores its
/// probed lists again for each refill instead.
const RESERVE_LIMIT: usize = 1 << 20;

/// The nearest candidates of the probed lists a reserve starts with: at least this many,
/// and this many times the candidates still wanted. A 10% filter at `probes` 65 of 632
/// lists hands out about 600 in all. The rest of the probed lists' rows are left out
/// until a deeper scan needs them (a rescan).
const RESERVE_MIN: usize = 2048;
const RESERVE_HEADROOM: usize = 8;

/// A batch that keeps every candidate offered.
const KEEP_ALL: usize = usize::MAX / 4;

#[derive(Clone, Copy, Debug)]
pub struct SearchOptions {
    pub probes: usize,
    pub rescore_factor: f64,
}

type Candidate = (f32, ItemPointer);

fn nearer(a: &Candidate, b: &Candidate) -> Ordering {
    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
}

/// First-pass candidates, handed out nearest first. Probing scores thousands of rows and
/// a query usually takes a few dozen: the nearest `keep` are kept as they are scored
/// (see [`Batch`]) and nothing of the rest. When a query wants more (a filter rejected
/// many rows, or it went deeper), the probed lists are scored once more and their
/// nearest rows not handed out yet go into a heap, the reserve, with every row up to its
/// bound. It hands rows out, and takes the rows of lists probed later up to its bound. A
/// scan that hands all of them out scores the probed lists once more, for a reserve of
/// every row: no list is scored a third time. (Scoring the probed lists again for each
/// refill, with twice the rows kept each time, scored about four times the rows of the
/// lists at last probed in a scan through a 10% filter; a reserve of every row spent a
/// fifth of such a scan on its heap, for rows it never handed out.)
#[derive(Default)]
struct Pool {
    /// The nearest candidates, sorted farthest first (so `pop` takes the nearest), while
    /// there is no reserve.
    frontier: Vec<Candidate>,
    reserve: Reserve,
    /// [`RESERVE_LIMIT`], but for tests.
    reserve_limit: usize,
    /// Targets handed out so far, which a rescan must not offer again (newly probed
    /// lists cannot hold them).
    handed: Vec<ItemPointer>,
    /// Frontier size of the last fill, doubled by each rescan.
    last_keep: usize,
    /// Whether filling the frontier left rows of the probed lists out, which only a rescan
    /// finds again (without a reserve: a reserve keeps its own bound).
    left_out: bool,
    /// The number of probed lists when a rescan last found nothing: rescanning the same
    /// lists again would find nothing again (and, once every list is probed, each further
    /// row asked for would cost a scan of the whole index).
    dry_at: Option<usize>,
}

/// What a [`Pool`] keeps beyond its frontier.
#[derive(Default)]
enum Reserve {
    /// The probed lists have not had to be scored again.
    #[default]
    Unused,
    /// The scored candidates of the probed lists not handed out, nearest on top: every one
    /// up to `bound` (none is farther where it is None). Rows past it wait for the rescan
    /// that follows handing out the last of these.
    Kept { heap: BinaryHeap<Reverse<Ranked>>, bound: Option<f32> },
    /// It grew past `reserve_limit` candidates: from then on each refill scores the probed
    /// lists again.
    GivenUp,
}

/// Targets handed out, which scoring the probed lists again must skip: looked up once per
/// row scored, with a multiply per field for a hash (SipHash took 5% of the profile of a
/// scan through a 10% filter). The targets are the index's own slots, not chosen by a user.
type Handed = HashSet<ItemPointer, BuildHasherDefault<TargetHasher>>;

#[derive(Default)]
struct TargetHasher(u64);

impl Hasher for TargetHasher {
    fn write(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|&b| self.add(u64::from(b)));
    }

    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn finish(&self) -> u64 {
        // The multiply leaves the high bits mixed; the table indexes by the low ones.
        self.0.rotate_left(26)
    }
}

impl TargetHasher {
    fn add(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

/// A candidate as an integer pair that orders as [`nearer`] does.
type Ranked = (u32, ItemPointer);

fn ranked((estimate, target): Candidate) -> Ranked {
    (ordered(estimate), target)
}

fn unranked((key, target): Ranked) -> Candidate {
    (f32::from_bits(if key >> 31 == 1 { key & !(1 << 31) } else { !key }), target)
}

/// The nearest `keep` candidates offered. Offers below the threshold are appended, and
/// when twice `keep` have gathered a selection keeps the nearest `keep` and lowers the
/// threshold to the farthest of them: a constant cost per offer, where a bounded heap
/// pays a sift for every row that enters while the batch is still filling with far rows.
struct Batch {
    keep: usize,
    best: Vec<Candidate>,
    threshold: f32,
    /// Whether a selection left rows out (all of them at or past the threshold).
    left_out: bool,
}

impl Batch {
    fn new(keep: usize, start: Vec<Candidate>) -> Batch {
        Batch { keep: keep.max(1), best: start, threshold: f32::INFINITY, left_out: false }
    }

    /// Every row offered up to `bound`, to go into a reserve with that bound.
    fn within(bound: f32) -> Batch {
        Batch { keep: KEEP_ALL, best: Vec::new(), threshold: bound, left_out: false }
    }

    /// Estimates beyond this cannot enter the batch.
    fn threshold(&self) -> f32 {
        self.threshold
    }

    fn offer(&mut self, candidate: Candidate) {
        if candidate.0 > self.threshold {
            return;
        }
        self.best.push(candidate);
        if self.best.len() >= self.keep.saturating_mul(2) {
            self.shrink();
        }
    }

    /// Keeps the nearest `keep`.
    fn shrink(&mut self) {
        if self.best.len() > self.keep {
            self.best.select_nth_unstable_by(self.keep - 1, nearer);
            self.best.truncate(self.keep);
            self.left_out = true;
            // The farthest kept (NaN, the farthest of all, lets everything in).
            self.threshold = self.best[self.keep - 1].0;
        }
    }

    /// Farthest first, for popping from the end; and whether rows were left out.
    fn into_frontier(mut self) -> (Vec<Candidate>, bool) {
        self.shrink();
        self.best.sort_unstable_by(|a, b| nearer(b, a));
        (self.best, self.left_out)
    }

    /// The nearest `keep`, unordered, and whether rows were left out.
    fn into_nearest(mut self) -> Batch {
        self.shrink();
        self
    }
}

impl Pool {
    fn pop(&mut self) -> Option<Candidate> {
        let candidate = match &mut self.reserve {
            Reserve::Kept { heap, .. } => unranked(heap.pop()?.0),
            Reserve::Unused | Reserve::GivenUp => self.frontier.pop()?,
        };
        self.handed.push(candidate.1);
        Some(candidate)
    }

    /// Where a reserve is kept, the estimate up to which rows go into it (infinite where
    /// it left no row out).
    fn reserve_bound(&self) -> Option<f32> {
        match &self.reserve {
            Reserve::Kept { bound, .. } => Some(bound.unwrap_or(f32::INFINITY)),
            Reserve::Unused | Reserve::GivenUp => None,
        }
    }

    /// Starts the reserve with the nearest rows of the probed lists, `batch`, which keeps
    /// every row up to its threshold once it has left any out.
    fn start_reserve(&mut self, batch: Batch, keep: usize) {
        let batch = batch.into_nearest();
        let bound = batch.left_out.then_some(batch.threshold);
        let heap = batch.best.into_iter().map(|c| Reverse(ranked(c))).collect();
        self.reserve = Reserve::Kept { heap, bound };
        self.limit_reserve(keep);
    }

    /// Adds rows of newly probed lists, each within the reserve's bound.
    fn add_to_reserve(&mut self, candidates: Vec<Candidate>, keep: usize) {
        if let Reserve::Kept { heap, .. } = &mut self.reserve {
            heap.extend(candidates.into_iter().map(|c| Reverse(ranked(c))));
        }
        self.limit_reserve(keep);
    }

    /// Past `reserve_limit` candidates, gives the reserve up and keeps the nearest `keep`
    /// in the frontier.
    fn limit_reserve(&mut self, keep: usize) {
        match &self.reserve {
            Reserve::Kept { heap, .. } if heap.len() > self.reserve_limit => {}
            _ => return,
        }
        let Reserve::Kept { heap, .. } = std::mem::replace(&mut self.reserve, Reserve::GivenUp) else { unreachable!() };
        let keep = keep.max(1);
        let mut batch = Batch::new(keep, Vec::with_capacity(2 * keep));
        heap.into_iter().for_each(|Reverse(r)| batch.offer(unranked(r)));
        self.frontier = batch.into_frontier().0;
        self.last_keep = keep;
        // The reserve's bound had left rows out already.
        self.left_out = true;
    }
}

/// What a search has done so far, for a user asking why a query was slow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchCounters {
    /// Lists probed.
    pub lists_probed: usize,
    /// Binary codes estimated (FastScan scores whole blocks of `block::ROWS`), counting
    /// the rescans of probed lists.
    pub codes_scored: usize,
    /// Times the probed lists were scored again for rows not handed out yet (a filter
    /// rejected many rows, or the scan went deeper and probed further lists).
    pub rescans: usize,
    /// Candidates rescored with their int8 codes.
    pub rescored: usize,
    /// Rows returned.
    pub returned: usize,
}

impl std::ops::AddAssign for SearchCounters {
    fn add_assign(&mut self, other: SearchCounters) {
        self.lists_probed += other.lists_probed;
        self.codes_scored += other.codes_scored;
        self.rescans += other.rescans;
        self.rescored += other.rescored;
        self.returned += other.returned;
    }
}

pub struct Search {
    scorer: Scorer,
    options: SearchOptions,
    /// Lists as `rank_key`s, sorted nearest first up to `sorted`.
    lists: Vec<u64>,
    sorted: usize,
    next_list: usize,
    pool: Pool,
    results: BinaryHeap<Reverse<(Scored, ItemPointer)>>,
    rescored: usize,
    returned: usize,
    codes_scored: usize,
    rescans: usize,
    /// Label values a row must have one of, where the scan has a label filter.
    filter: Option<LabelFilter>,
    /// Rows in the lists probed so far, and those of them that pass the filter: its
    /// selectivity near the query.
    rows_probed: usize,
    rows_matching: usize,
}

/// What scoring some lists saw.
#[derive(Default)]
struct ListsScored {
    /// Blocks visited, and those of them estimated (a filter skips blocks none of whose
    /// rows it matches).
    blocks: usize,
    estimated: usize,
    /// Rows that pass the filter (all rows without one).
    matching: usize,
}

/// A list and its rank as one integer that orders as the rank (`f32::total_cmp`) and then
/// the list number do, so that selecting and sorting lists compares plain integers.
pub(super) fn rank_key(rank: f32, list: u32) -> u64 {
    u64::from(ordered(rank)) << 32 | u64::from(list)
}

/// An f32 as an integer that orders as `f32::total_cmp` does.
fn ordered(value: f32) -> u32 {
    let bits = value.to_bits();
    if bits >> 31 == 1 {
        !bits
    } else {
        bits | 1 << 31
    }
}

fn key_list(key: u64) -> u32 {
    key as u32
}

impl Search {
    pub fn new(scorer: Scorer, options: SearchOptions) -> Search {
        let lists = scorer.ranked_lists().into_iter().map(|(rank, list)| rank_key(rank, list)).collect();
        Search {
            scorer,
            options: SearchOptions { probes: options.probes.max(1), ..options },
            lists,
            sorted: 0,
            next_list: 0,
            pool: Pool { reserve_limit: RESERVE_LIMIT, ..Pool::default() },
            results: BinaryHeap::new(),
            rescored: 0,
            returned: 0,
            codes_scored: 0,
            rescans: 0,
            filter: None,
            rows_probed: 0,
            rows_matching: 0,
        }
    }

    /// This search over the rows whose label is one of `values` only (an index with labels;
    /// an empty set matches nothing).
    pub fn with_filter(mut self, values: Vec<i32>) -> Search {
        self.filter = Some(LabelFilter::new(values));
        self
    }

    /// This search with a reserve of at most `limit` candidates (0: none).
    #[cfg(test)]
    pub(crate) fn with_reserve_limit(mut self, limit: usize) -> Search {
        self.pool.reserve_limit = limit;
        self
    }

    pub fn counters(&self) -> SearchCounters {
        SearchCounters {
            lists_probed: self.next_list,
            codes_scored: self.codes_scored,
            rescans: self.rescans,
            rescored: self.rescored,
            returned: self.returned,
        }
    }

    /// Sorts the ranked lists far enough to know the nearest `end` (selection first, so a
    /// query that probes a few of many lists does not sort them all).
    fn sort_lists_to(&mut self, end: usize) {
        if self.sorted >= end {
            return;
        }
        let rest = &mut self.lists[self.sorted..];
        let wanted = end - self.sorted;
        if rest.len() > wanted {
            rest.select_nth_unstable(wanted - 1);
        }
        rest[..wanted].sort_unstable();
        self.sorted = end;
    }

    /// Candidates to have rescored before returning the next row. Through a label filter,
    /// up to `MAX_FILTER_RESCORING` times more, as the square root of how much deeper the
    /// filter takes the scan: the rows that pass a selective filter lie farther from the
    /// query, where first-pass estimates rank less well (on 100k × 384 with a filter that
    /// keeps the 0.7% of rows farthest from the query, recall@10 0.86 at the 5 candidates a
    /// row that sufficed unfiltered, 0.97 at 16, 0.98 at 20; at 10% and 1% uniform filters
    /// 20 took no longer than 5 within this machine's noise).
    fn wanted(&self) -> f64 {
        let deeper = match self.filter {
            None => 1.0,
            // Before the first lists are probed, as many as the filter could want: they are
            // the nearest, and what they keep is all the scan will have of them.
            Some(_) if self.rows_probed == 0 => MAX_FILTER_RESCORING,
            Some(_) => (1.0 / self.selectivity()).sqrt().min(MAX_FILTER_RESCORING),
        };
        (self.returned + 1).max(MIN_ROWS) as f64 * self.options.rescore_factor * deeper
    }

    fn keep(&self) -> usize {
        (self.wanted() - self.rescored as f64).max(FRONTIER as f64) as usize
    }

    /// Scores the rows of `lists` that pass the filter into `batch`, skipping the targets in
    /// `handed`.
    fn score_lists(&self, source: &dyn Lists, lists: std::ops::Range<usize>, handed: &Handed, batch: &mut Batch) -> ListsScored {
        let (quantizer, scorer) = (&self.scorer.quantizer, &self.scorer);
        let mut seen = ListsScored::default();
        let probed = &self.lists[lists];
        for (i, &key) in probed.iter().enumerate() {
            let list = key_list(key);
            if let Some(&following) = probed.get(i + 1) {
                source.prefetch_list(key_list(following));
            }
            let term = scorer.list_term(list);
            source.scan_list(list, &mut |block| {
                seen.blocks += 1;
                let matching = match &self.filter {
                    Some(filter) => filter.matching(quantizer, block),
                    None => u32::MAX,
                };
                if matching == 0 {
                    return;
                }
                seen.estimated += 1;
                seen.matching += matching.count_ones() as usize;
                let mut estimates = [0.0f32; block::ROWS];
                scorer.estimate_block(block, term, &mut estimates);
                // The rows that may enter the batch, as a bit mask (compared all at once); a
                // NaN estimate passes, as `Batch::offer` lets it in.
                let threshold = batch.threshold();
                let mut passing = 0u32;
                for (slot, &estimate) in estimates.iter().enumerate() {
                    #[allow(clippy::neg_cmp_op_on_partial_ord)]
                    let may_enter = !(estimate > threshold);
                    passing |= u32::from(may_enter) << slot;
                }
                passing &= matching;
                while passing != 0 {
                    let slot = passing.trailing_zeros() as usize;
                    passing &= passing - 1;
                    let estimate = estimates[slot];
                    let target = block::pointer(quantizer, block, slot);
                    if target != ItemPointer::NONE && (handed.is_empty() || !handed.contains(&target)) {
                        batch.offer((estimate, target));
                    }
                }
            });
        }
        seen
    }

    /// Scores newly probed lists: counts their codes and what the filter kept of them.
    fn score_new_lists(&mut self, source: &dyn Lists, lists: std::ops::Range<usize>, batch: &mut Batch) {
        let seen = self.score_lists(source, lists, &Handed::default(), batch);
        self.codes_scored += block::ROWS * seen.estimated;
        self.rows_probed += block::ROWS * seen.blocks;
        self.rows_matching += seen.matching;
    }

    /// The fraction of rows the filter keeps in the lists probed so far (1 without a
    /// filter, or before any list is probed): a filter that keeps a fraction s of the rows
    /// near the query takes a scan as deep as 1/s times the rows it returns. (Measured
    /// where the query is, it says how deep a filter correlated with the query must go,
    /// which a table-wide selectivity does not. Tail blocks' empty rows count as rows: a
    /// slight underestimate.)
    fn selectivity(&self) -> f64 {
        if self.filter.is_none() || self.rows_probed == 0 {
            return 1.0;
        }
        (self.rows_matching.max(1) as f64 / self.rows_probed as f64).min(1.0)
    }

    /// Lists to have probed before returning the next row: `probes` for the first
    /// `MIN_ROWS`, then growing with the square root of the rows returned. The true
    /// nearest n rows spread over more lists as n grows, and a scan goes that deep when a
    /// filter rejects most rows (10 rows through a 10% filter are the nearest 100): on
    /// 100k × 384, 632 lists, recall@10 through a 10% filter was 0.940 with the default 75
    /// probes, 0.966 with 106 and 0.974 with 160, where more rescoring gained nothing.
    /// A label filter in the scan divides the rows by its selectivity near the query.
    fn probes_wanted(&self) -> usize {
        let depth = (self.returned + 1).max(MIN_ROWS) as f64 / MIN_ROWS as f64 / self.selectivity();
        ((self.options.probes as f64 * depth.sqrt()).ceil() as usize).min(self.lists.len())
    }

    /// Probes further lists when `probes_wanted` has grown past them: the first time the
    /// nearest `probes`; the second time the lists probed before are scored again with
    /// them into the reserve, so that it holds the nearest candidates of all (the
    /// candidates of the new, farther lists alone would be worse than the next ones of the
    /// nearer lists, which the frontier no longer holds), and later only the new lists,
    /// as many as `probes_wanted` says. (Without a reserve, each time at least half as
    /// many again as are probed, all scored again: a few rescans in all.)
    fn deepen(&mut self, source: &dyn Lists) {
        let wanted = self.probes_wanted();
        if self.next_list >= wanted {
            return;
        }
        if self.next_list == 0 {
            self.probe_to(source, wanted);
            // A filter's selectivity near the query is known now: the scan goes as deep as
            // it says before it hands anything out, merging the new lists' rows into the
            // frontier (nothing to score again).
            while self.filter.is_some() && self.probe_to(source, self.probes_wanted()) {}
            return;
        }
        let before = self.next_list;
        // Without a reserve each deepening scores every probed list again: at least half
        // as many lists again keeps those to a few.
        let step = if matches!(self.pool.reserve, Reserve::GivenUp) { before / 2 } else { 0 };
        self.next_list = wanted.max(before + step).min(self.lists.len());
        self.sort_lists_to(self.next_list);
        let keep = self.keep().max(self.pool.last_keep);
        if let Some(bound) = self.pool.reserve_bound() {
            let rows = self.score_within(source, before..self.next_list, bound);
            self.pool.add_to_reserve(rows, keep);
        } else {
            self.score_probed_again(source, keep);
        }
        self.pool.dry_at = None;
    }

    /// Probes the next `probes` lists (the probed ones ran dry).
    fn probe_more(&mut self, source: &dyn Lists) -> bool {
        self.probe_to(source, self.next_list + self.options.probes)
    }

    /// Probes the lists up to the `end`-th nearest, merging their rows into the frontier
    /// (or the reserve).
    fn probe_to(&mut self, source: &dyn Lists, end: usize) -> bool {
        let end = end.min(self.lists.len());
        if self.next_list >= end {
            return false;
        }
        self.sort_lists_to(end);
        let keep = self.keep().max(self.pool.frontier.len());
        if let Some(bound) = self.pool.reserve_bound() {
            let rows = self.score_within(source, self.next_list..end, bound);
            self.pool.add_to_reserve(rows, keep);
        } else {
            let mut batch = Batch::new(keep, std::mem::take(&mut self.pool.frontier));
            self.score_new_lists(source, self.next_list..end, &mut batch);
            let (frontier, left_out) = batch.into_frontier();
            self.pool.frontier = frontier;
            self.pool.left_out |= left_out;
            self.pool.last_keep = keep;
        }
        self.next_list = end;
        true
    }

    /// Every row of `lists` whose estimate is at most `bound`, scored.
    fn score_within(&mut self, source: &dyn Lists, lists: std::ops::Range<usize>, bound: f32) -> Vec<Candidate> {
        let mut batch = Batch::within(bound);
        self.score_new_lists(source, lists, &mut batch);
        batch.best
    }

    /// Scores the probed lists again for the nearest rows not handed out yet; false when
    /// there are none (when the pool, frontier or reserve, left no row out and is empty: a
    /// filter that no row near the query passes costs one pass over the lists, not two).
    fn rescan(&mut self, source: &dyn Lists) -> bool {
        let complete = match &self.pool.reserve {
            Reserve::Unused => !self.pool.left_out && self.pool.frontier.is_empty(),
            Reserve::Kept { heap, bound: None } => heap.is_empty(),
            _ => false,
        };
        if self.pool.dry_at == Some(self.next_list) || complete {
            return false;
        }
        self.score_probed_again(source, self.keep().max(self.pool.last_keep.saturating_mul(2)));
        let found = !self.pool.frontier.is_empty() || matches!(&self.pool.reserve, Reserve::Kept { heap, .. } if !heap.is_empty());
        if !found {
            self.pool.dry_at = Some(self.next_list);
        }
        found
    }

    /// Scores the probed lists again for the rows not handed out yet: the nearest of them
    /// into a new reserve (the last one, if any, is empty), or (the reserve given up) the
    /// nearest `keep` into the frontier.
    fn score_probed_again(&mut self, source: &dyn Lists, keep: usize) {
        let handed: Handed = self.pool.handed.iter().copied().collect();
        self.rescans += 1;
        // The frontier's rows are among them.
        self.pool.frontier.clear();
        let reserve_keep = match self.pool.reserve {
            Reserve::GivenUp => None,
            Reserve::Unused => Some(keep.saturating_mul(RESERVE_HEADROOM).max(RESERVE_MIN)),
            // A scan that has handed out a whole reserve goes deep (a filter that keeps
            // 0.1% of the rows, say): its next reserve keeps every row, as bounding it
            // again would take a rescan of all the probed lists each time it drained
            // (10% more time a query through a 0.1% filter, growing 4-fold each time).
            Reserve::Kept { .. } => Some(KEEP_ALL),
        };
        let mut batch = Batch::new(reserve_keep.unwrap_or(keep), Vec::new());
        self.codes_scored += block::ROWS * self.score_lists(source, 0..self.next_list, &handed, &mut batch).estimated;
        if reserve_keep.is_some() {
            self.pool.start_reserve(batch, keep);
        } else {
            let (frontier, left_out) = batch.into_frontier();
            self.pool.frontier = frontier;
            self.pool.left_out = left_out;
            self.pool.last_keep = keep;
        }
    }

    /// Rescores the candidates still wanted before the next row (at least one) from the
    /// pool; false when the pool is empty.
    fn rescore_more(&mut self, source: &dyn Lists) -> bool {
        let count = (self.wanted() - self.rescored as f64).ceil().max(1.0) as usize;
        let mut targets = Vec::with_capacity(count.min(self.pool.frontier.len()));
        while targets.len() < count {
            let Some((estimate, target)) = self.pool.pop() else { break };
            if !self.scorer.quantizer.has_vectors() {
                // Hamming: the first-pass score is exact and the target is the heap tuple.
                self.results.push(Reverse((Scored { distance: f64::from(estimate), id: 0 }, target)));
            }
            targets.push(target);
        }
        if targets.is_empty() {
            return false;
        }
        self.rescored += targets.len();
        if self.scorer.quantizer.has_vectors() {
            let (scorer, results) = (&self.scorer, &mut self.results);
            source.read_vectors(&targets, &mut |vector| {
                let tid = vector_tid(vector);
                if tid != ItemPointer::NONE {
                    results.push(Reverse((Scored { distance: scorer.rescore(vector), id: 0 }, tid)));
                }
            });
        }
        true
    }

    /// The next row (heap tid), nearest first, with its distance; None when the index is
    /// exhausted.
    pub fn next(&mut self, source: &dyn Lists) -> Option<(ItemPointer, f64)> {
        self.deepen(source);
        while (self.rescored as f64) < self.wanted() || self.results.is_empty() {
            if self.rescore_more(source) || self.rescan(source) || self.probe_more(source) {
                continue;
            }
            break;
        }
        let Reverse((scored, tid)) = self.results.pop()?;
        self.returned += 1;
        Some((tid, scored.distance))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranked_candidates_order_as_nearer_and_read_back() {
        let estimates = [f32::NEG_INFINITY, -3.5, -0.0, 0.0, 1e-30, 2.0, f32::INFINITY, f32::NAN, -f32::NAN, f32::MIN_POSITIVE, -1e-40];
        let candidates: Vec<Candidate> = estimates
            .iter()
            .enumerate()
            .flat_map(|(i, &e)| [(e, ItemPointer { block: i as u32, offset: 1 }), (e, ItemPointer { block: 0, offset: 9 })])
            .collect();
        for a in &candidates {
            assert_eq!(unranked(ranked(*a)).0.to_bits(), a.0.to_bits());
            for b in &candidates {
                assert_eq!(ranked(*a).cmp(&ranked(*b)), nearer(a, b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn rank_keys_order_as_ranks_then_lists() {
        let ranks = [f32::NEG_INFINITY, -3.5, -0.0, 0.0, 1e-30, 2.0, 2.0, f32::INFINITY, f32::NAN, -f32::NAN, f32::MIN_POSITIVE, -1e-40];
        let pairs: Vec<(f32, u32)> = ranks.iter().enumerate().flat_map(|(i, &r)| [(r, i as u32), (r, 1000 - i as u32)]).collect();
        for a in &pairs {
            for b in &pairs {
                let want = a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
                assert_eq!(rank_key(a.0, a.1).cmp(&rank_key(b.0, b.1)), want, "{a:?} {b:?}");
            }
            assert_eq!(key_list(rank_key(a.0, a.1)), a.1);
        }
    }

    #[test]
    fn batch_keeps_the_nearest() {
        let p = |i: u32| ItemPointer { block: i, offset: 0 };
        let mut batch = Batch::new(30, Vec::new());
        assert_eq!(batch.threshold(), f32::INFINITY);
        for i in 0..200u32 {
            batch.offer((((i * 37) % 200) as f32, p(i)));
        }
        // The threshold is the farthest kept at the last selection: past the 30th.
        assert!((29.0..200.0).contains(&batch.threshold()), "{}", batch.threshold());
        let mut frontier = batch.into_frontier().0;
        let nearest: Vec<f32> = std::iter::from_fn(|| frontier.pop()).map(|c| c.0).collect();
        assert_eq!(nearest, (0..30).map(|i| i as f32).collect::<Vec<_>>());
    }

    #[test]
    fn batch_matches_a_full_sort_with_ties_and_nan() {
        let p = |i: u32| ItemPointer { block: i % 7, offset: (i / 7) as u16 };
        for keep in [1, 5, 64, 500] {
            let offered: Vec<Candidate> = (0..3000u32).map(|i| (if i % 97 == 0 { f32::NAN } else { ((i * 7919) % 113) as f32 }, p(i))).collect();
            let mut batch = Batch::new(keep, Vec::new());
            for &c in &offered {
                batch.offer(c);
            }
            let mut frontier = batch.into_frontier().0;
            let kept: Vec<Candidate> = std::iter::from_fn(|| frontier.pop()).collect();
            let mut sorted = offered.clone();
            sorted.sort_by(nearer);
            sorted.truncate(keep);
            assert_eq!(kept.len(), keep);
            assert!(kept.iter().zip(&sorted).all(|(a, b)| nearer(a, b) == Ordering::Equal), "keep {keep}");
        }
    }
}
