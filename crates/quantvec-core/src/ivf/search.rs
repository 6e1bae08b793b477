//! The search: a lazy stream of rows nearest first, which never stops at k.
//!
//! It probes the `probes` nearest lists, scores their rows from the binary codes into a
//! candidate pool, and rescores candidates best-first with the int8 codes into a result
//! heap. Before it returns its n-th row it has rescored `rescore_factor · max(n, 10)`
//! candidates (or all there are), so a `LIMIT k` query sees the best `k × rescore_factor`
//! first-pass candidates rescored. When the probed lists run dry (a filter rejected many
//! rows), it probes the next `probes` lists, until the index is exhausted.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::{block, vector_tid, ItemPointer, Scorer};
use crate::eval::Scored;

/// Where the pages of an index live: memory for tests and benchmarks, or Postgres buffers.
pub trait Lists {
    /// Visits every FastScan block of `list`.
    fn scan_list(&self, list: u32, visit: &mut dyn FnMut(&[u8]));
    /// Visits the vector in `slot`, if the slot holds one.
    fn read_vector(&self, slot: ItemPointer, visit: &mut dyn FnMut(&[u8]));
}

/// The number of rows a query is assumed to want before it has asked for more.
const MIN_ROWS: usize = 10;

/// Candidates moved from the pool into the sorted frontier at a time.
const FRONTIER: usize = 64;

#[derive(Clone, Copy, Debug)]
pub struct SearchOptions {
    pub probes: usize,
    pub rescore_factor: f64,
}

type Candidate = (f32, ItemPointer);

fn nearer(a: &Candidate, b: &Candidate) -> Ordering {
    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
}

/// First-pass candidates, handed out nearest first. Probing pushes thousands of candidates
/// and a query usually takes a few dozen: the nearest `keep` go to a bounded heap as they
/// arrive (most rows are turned away by one comparison), the rest wait unsorted in case a
/// filtered query wants more.
#[derive(Default)]
struct Pool {
    pending: Vec<Candidate>,
    /// The nearest candidates, sorted farthest first (so `pop` takes the nearest).
    frontier: Vec<Candidate>,
}

/// A candidate ordered by distance, for the bounded heap.
struct ByDistance(Candidate);

impl PartialEq for ByDistance {
    fn eq(&self, other: &Self) -> bool {
        nearer(&self.0, &other.0) == Ordering::Equal
    }
}

impl Eq for ByDistance {}

impl PartialOrd for ByDistance {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ByDistance {
    fn cmp(&self, other: &Self) -> Ordering {
        nearer(&self.0, &other.0)
    }
}

impl Pool {
    /// Starts a batch of candidates, keeping at least the nearest `keep` of all (the
    /// frontier and the batch) at hand.
    fn start_batch(&mut self, keep: usize) -> Batch<'_> {
        let best: BinaryHeap<ByDistance> = self.frontier.drain(..).map(ByDistance).collect();
        Batch { keep: keep.max(1), best, pool: self }
    }

    #[cfg(test)]
    fn extend(&mut self, candidates: impl IntoIterator<Item = Candidate>, keep: usize) {
        let mut batch = self.start_batch(keep);
        for candidate in candidates {
            batch.offer(candidate);
        }
        batch.finish();
    }

    fn pop(&mut self) -> Option<Candidate> {
        if self.frontier.is_empty() {
            let n = FRONTIER.min(self.pending.len());
            if n == 0 {
                return None;
            }
            let split = self.pending.len() - n;
            if split > 0 {
                // The n nearest to the end, then split them off.
                self.pending.select_nth_unstable_by(split, |a, b| nearer(b, a));
            }
            self.frontier = self.pending.split_off(split);
            self.frontier.sort_unstable_by(|a, b| nearer(b, a));
        }
        self.frontier.pop()
    }
}

/// Candidates arriving from probed lists: the nearest `keep` in a bounded max-heap (most
/// rows are turned away by one comparison with its top), the rest to the pool's pending.
struct Batch<'p> {
    keep: usize,
    best: BinaryHeap<ByDistance>,
    pool: &'p mut Pool,
}

impl Batch<'_> {
    fn offer(&mut self, candidate: Candidate) {
        if self.best.len() < self.keep {
            self.best.push(ByDistance(candidate));
        } else if self.best.peek().is_some_and(|worst| nearer(&candidate, &worst.0) == Ordering::Less) {
            let mut worst = self.best.peek_mut().expect("the heap is full");
            self.pool.pending.push(std::mem::replace(&mut worst.0, candidate));
        } else {
            self.pool.pending.push(candidate);
        }
    }

    fn finish(self) {
        // into_sorted_vec is nearest first; the frontier pops from the end.
        self.pool.frontier = self.best.into_sorted_vec().into_iter().rev().map(|c| c.0).collect();
    }
}

pub struct Search {
    scorer: Scorer,
    options: SearchOptions,
    /// Lists nearest first: (rank, list, first-pass term).
    lists: Vec<(f32, u32, f32)>,
    next_list: usize,
    pool: Pool,
    results: BinaryHeap<Reverse<(Scored, ItemPointer)>>,
    rescored: usize,
    returned: usize,
}

impl Search {
    pub fn new(scorer: Scorer, options: SearchOptions) -> Search {
        let lists = scorer.ranked_lists();
        Search {
            scorer,
            options: SearchOptions { probes: options.probes.max(1), ..options },
            lists,
            next_list: 0,
            pool: Pool::default(),
            results: BinaryHeap::new(),
            rescored: 0,
            returned: 0,
        }
    }

    /// Lists probed so far.
    pub fn probed(&self) -> usize {
        self.next_list
    }

    fn probe_more(&mut self, source: &dyn Lists) -> bool {
        if self.next_list >= self.lists.len() {
            return false;
        }
        let end = (self.next_list + self.options.probes).min(self.lists.len());
        let keep = (self.wanted() - self.rescored as f64).max(FRONTIER as f64) as usize;
        let mut batch = self.pool.start_batch(keep);
        let (layout, scorer) = (&self.scorer.layout, &self.scorer);
        for &(_, list, term) in &self.lists[self.next_list..end] {
            source.scan_list(list, &mut |block| {
                let mut estimates = [0.0f32; block::ROWS];
                scorer.estimate_block(block, term, &mut estimates);
                for (slot, &estimate) in estimates.iter().enumerate() {
                    let target = block::pointer(layout, block, slot);
                    if target != ItemPointer::NONE {
                        batch.offer((estimate, target));
                    }
                }
            });
        }
        batch.finish();
        self.next_list = end;
        true
    }

    fn rescore_next(&mut self, source: &dyn Lists) -> bool {
        let Some((estimate, target)) = self.pool.pop() else {
            return false;
        };
        self.rescored += 1;
        if !self.scorer.layout.has_vectors() {
            // Hamming: the first-pass score is exact and the target is the heap tuple.
            self.results.push(Reverse((Scored { distance: f64::from(estimate), id: 0 }, target)));
            return true;
        }
        let (scorer, results) = (&self.scorer, &mut self.results);
        source.read_vector(target, &mut |vector| {
            let tid = vector_tid(vector);
            if tid != ItemPointer::NONE {
                results.push(Reverse((Scored { distance: scorer.rescore(vector), id: 0 }, tid)));
            }
        });
        true
    }

    /// Candidates to have rescored before returning the next row.
    fn wanted(&self) -> f64 {
        (self.returned + 1).max(MIN_ROWS) as f64 * self.options.rescore_factor
    }

    /// The next row (heap tid), nearest first, with its distance; None when the index is
    /// exhausted.
    pub fn next(&mut self, source: &dyn Lists) -> Option<(ItemPointer, f64)> {
        if self.next_list == 0 {
            self.probe_more(source);
        }
        while (self.rescored as f64) < self.wanted() || self.results.is_empty() {
            if !self.rescore_next(source) && !self.probe_more(source) {
                break;
            }
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
    fn pool_hands_out_nearest_first_across_batches() {
        let mut pool = Pool::default();
        let p = |i: u32| ItemPointer { block: i, offset: 0 };
        pool.extend((0..200).map(|i| (((i * 37) % 200) as f32, p(i))), 30);
        assert_eq!(pool.frontier.len(), 30);
        let first: Vec<f32> = (0..100).map(|_| pool.pop().unwrap().0).collect();
        assert_eq!(first, (0..100).map(|i| i as f32).collect::<Vec<_>>());
        // A later, better candidate comes out next.
        pool.extend([(-1.0, p(999))], 1);
        assert_eq!(pool.pop().unwrap(), (-1.0, p(999)));
        let rest: Vec<f32> = std::iter::from_fn(|| pool.pop()).map(|c| c.0).collect();
        assert_eq!(rest, (100..200).map(|i| i as f32).collect::<Vec<_>>());
    }
}
