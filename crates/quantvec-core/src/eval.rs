//! Exact top-k selection and recall, for tests, benchmarks and the quality report.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A candidate ordered by distance (NaN sorts last), ties broken by id.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scored {
    pub distance: f64,
    pub id: usize,
}

impl Eq for Scored {}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        self.distance.total_cmp(&other.distance).then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The `k` smallest of `candidates`, nearest first.
pub fn top_k(candidates: impl IntoIterator<Item = Scored>, k: usize) -> Vec<Scored> {
    let mut heap = BinaryHeap::with_capacity(k + 1);
    for candidate in candidates {
        if heap.len() < k {
            heap.push(candidate);
        } else if heap.peek().is_some_and(|worst| candidate < *worst) {
            heap.pop();
            heap.push(candidate);
        }
    }
    heap.into_sorted_vec()
}

/// The ids of the `k` nearest of ids `0..n` under `distance`.
pub fn nearest(n: usize, k: usize, distance: impl Fn(usize) -> f64) -> Vec<usize> {
    top_k((0..n).map(|id| Scored { distance: distance(id), id }), k).into_iter().map(|s| s.id).collect()
}

/// Fraction of `truth` found in `found`.
pub fn recall(found: &[usize], truth: &[usize]) -> f64 {
    if truth.is_empty() {
        return 1.0;
    }
    truth.iter().filter(|t| found.contains(t)).count() as f64 / truth.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_keeps_the_smallest_in_order() {
        let distances = [5.0, 1.0, f64::NAN, 3.0, 0.5, 3.0];
        let ids = nearest(distances.len(), 3, |i| distances[i]);
        assert_eq!(ids, vec![4, 1, 3]);
        assert_eq!(nearest(2, 5, |i| distances[i]), vec![1, 0]);
        assert_eq!(recall(&[1, 2, 3], &[3, 4]), 0.5);
    }
}
