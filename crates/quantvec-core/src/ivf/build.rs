//! Build planning: how many lists and sample rows for a table, within a memory budget,
//! and the reservoir that samples rows in one pass.

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::error::{bail, Result};

/// Sample rows trained on per list when not set.
pub const SAMPLE_PER_LIST: usize = 40;
/// Fewer sample rows per list than this make poor centroids: a build refuses them.
pub const MIN_SAMPLE_PER_LIST: usize = 10;

/// Lists for a table of `rows` rows when not set: 2·√rows (at least 1).
pub fn default_lists(rows: usize) -> usize {
    ((2.0 * (rows as f64).sqrt()).round() as usize).max(1)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub lists: usize,
    pub sample_rows: usize,
}

/// Lists and sample size for `rows` rows (`lists`/`sample` 0: defaults), given that the
/// sample holds at most `sampled` rows (what the reservoir kept within the memory budget).
pub fn plan(rows: usize, lists: usize, sample: usize, sampled: usize) -> Result<Plan> {
    let lists = if lists > 0 { lists } else { default_lists(rows) }.min(rows.max(1));
    let wanted = if sample > 0 { sample } else { SAMPLE_PER_LIST * lists }.min(rows);
    let sample_rows = wanted.min(sampled);
    if sample_rows < wanted && sample_rows < MIN_SAMPLE_PER_LIST * lists {
        bail!(
            TooLarge,
            "maintenance_work_mem is too small to sample {} rows for {lists} lists (it holds {sample_rows}); raise it or use fewer lists",
            MIN_SAMPLE_PER_LIST * lists
        );
    }
    Ok(Plan { lists, sample_rows })
}

/// A uniform sample of rows of `width` floats from a stream (Algorithm R), with a fixed
/// seed so that the same table in the same order samples the same way.
pub struct Reservoir {
    width: usize,
    capacity: usize,
    rows: Vec<f32>,
    /// A tag per row (the build's: the row's heap tid).
    tags: Vec<u64>,
    seen: u64,
    rng: SmallRng,
}

impl Reservoir {
    pub fn new(width: usize, capacity: usize) -> Reservoir {
        Reservoir { width, capacity, rows: Vec::new(), tags: Vec::new(), seen: 0, rng: SmallRng::seed_from_u64(0x5a3d) }
    }

    pub fn seen(&self) -> u64 {
        self.seen
    }

    pub fn offer(&mut self, tag: u64, row: impl FnOnce() -> Vec<f32>) {
        self.seen += 1;
        if self.rows.len() < self.capacity * self.width {
            self.rows.extend(row());
            self.tags.push(tag);
            return;
        }
        let slot = self.rng.random_range(0..self.seen);
        if slot < self.capacity as u64 {
            let at = slot as usize * self.width;
            self.rows[at..at + self.width].copy_from_slice(&row());
            self.tags[slot as usize] = tag;
        }
    }

    /// The first `count` rows of the sample and their tags, after shuffling it (so that
    /// any prefix is itself uniform).
    pub fn take(mut self, count: usize) -> (Vec<f32>, Vec<u64>) {
        let mut order: Vec<usize> = (0..self.tags.len()).collect();
        order.shuffle(&mut self.rng);
        order.truncate(count);
        let rows = order.iter().flat_map(|&i| self.rows[i * self.width..(i + 1) * self.width].iter().copied()).collect();
        (rows, order.iter().map(|&i| self.tags[i]).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_within_memory() {
        assert_eq!(plan(100_000, 0, 0, 1_000_000).unwrap(), Plan { lists: 632, sample_rows: 25_280 });
        assert_eq!(plan(100_000, 0, 0, 10_000).unwrap(), Plan { lists: 632, sample_rows: 10_000 });
        assert!(plan(100_000, 0, 0, 5_000).unwrap_err().message.contains("maintenance_work_mem"));
        assert_eq!(plan(0, 0, 0, 0).unwrap(), Plan { lists: 1, sample_rows: 0 });
        assert_eq!(plan(50, 100, 0, 50).unwrap(), Plan { lists: 50, sample_rows: 50 });
        assert_eq!(plan(10_000, 7, 123, 10_000).unwrap(), Plan { lists: 7, sample_rows: 123 });
    }

    /// Build sizing at the limits of its inputs (the reloptions' maxima, any row count):
    /// no overflow, and refusals rather than absurd plans.
    #[test]
    fn plans_at_the_limits() {
        let max_option = i32::MAX as usize;
        assert_eq!(plan(usize::MAX, 1_000_000, 0, usize::MAX).unwrap(), Plan { lists: 1_000_000, sample_rows: 40_000_000 });
        assert_eq!(plan(usize::MAX, 1_000_000, max_option, usize::MAX).unwrap().sample_rows, max_option);
        assert!(plan(usize::MAX, 1_000_000, 0, 1_000).is_err());
        assert_eq!(plan(3, 1_000_000, max_option, 3).unwrap(), Plan { lists: 3, sample_rows: 3 });
        assert!(default_lists(usize::MAX) > 1 << 32);
        let mut r = Reservoir::new(16_000, 0);
        r.offer(7, || vec![0.0; 16_000]);
        assert_eq!(r.take(1), (vec![], vec![]), "a reservoir with no room keeps nothing");
    }

    #[test]
    fn reservoir_is_uniform_and_bounded() {
        let mut r = Reservoir::new(2, 500);
        for i in 0..100_000 {
            r.offer(i * 3, || vec![i as f32, 0.0]);
        }
        assert_eq!(r.seen(), 100_000);
        let (rows, tags) = r.take(400);
        assert_eq!((rows.len(), tags.len()), (800, 400));
        // Each row keeps its own tag.
        assert!(rows.chunks(2).zip(&tags).all(|(row, &tag)| row[0] as u64 * 3 == tag));
        let mean = rows.chunks(2).map(|x| f64::from(x[0])).sum::<f64>() / 400.0;
        assert!((mean - 50_000.0).abs() < 6_000.0, "{mean}");
    }
}
