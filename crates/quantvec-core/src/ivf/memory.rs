//! An index held in memory: the same algorithm as the Postgres access method without its
//! pages, for tests, recall tuning and benchmarks.

use std::sync::Arc;

use rayon::prelude::*;

use super::kmeans::{self, KMeans};
use super::recall::{calibrate_parallel, Calibration, Offered, Truths};
use super::search::Lists;
use super::{block, vector_tid, BuildOptions, EncodedRow, ItemPointer, Metric, Quantizer};
use crate::bits::BitVector;
use crate::error::Result;
use crate::int4::Int4Vector;
use crate::int8::Int8Vector;
use crate::kernels::Kernels;

#[derive(Clone)]
pub struct MemoryIndex {
    pub quantizer: Arc<Quantizer>,
    /// Per list, its blocks.
    pub lists: Vec<Vec<Vec<u8>>>,
    /// Vector items, addressed by `ItemPointer { block: index, offset: 0 }`.
    pub vectors: Vec<Vec<u8>>,
    /// The list of each vector item.
    vector_lists: Vec<u32>,
}

impl MemoryIndex {
    /// Builds an index over int8 rows; row i gets heap tid (i, 1).
    pub fn build_int8(k: &'static Kernels, metric: Metric, rows: &[Int8Vector], options: &BuildOptions, residual: bool) -> Result<Self> {
        Self::build_int8_with(k, metric, rows, None, options, residual)
    }

    /// [`MemoryIndex::build_int8`] with a label per row (`labels[i]` for row i).
    pub fn build_int8_labelled(k: &'static Kernels, metric: Metric, rows: &[Int8Vector], labels: &[Option<i32>], options: &BuildOptions) -> Result<Self> {
        Self::build_int8_with(k, metric, rows, Some(labels), options, true)
    }

    fn build_int8_with(
        k: &'static Kernels,
        metric: Metric,
        rows: &[Int8Vector],
        labels: Option<&[Option<i32>]>,
        options: &BuildOptions,
        residual: bool,
    ) -> Result<Self> {
        let floats: Vec<Vec<f32>> = rows.iter().map(Int8Vector::dequantize).collect();
        let quantizer = Self::train(k, metric, &floats, options, residual)?.with_labels(labels.is_some());
        let encoded: Vec<EncodedRow> = rows
            .par_iter()
            .enumerate()
            .map(|(i, row)| {
                let encoded = quantizer.encode_int8(k, ItemPointer { block: i as u32, offset: 1 }, &row.view())?;
                Ok(EncodedRow { label: labels.and_then(|l| l[i]), ..encoded })
            })
            .collect::<Result<_>>()?;
        Ok(Self::assemble(quantizer, encoded))
    }

    /// Builds an index over 4-bit rows (its vectors keep their packed codes); row i gets
    /// heap tid (i, 1).
    pub fn build_int4(k: &'static Kernels, metric: Metric, rows: &[Int4Vector], options: &BuildOptions) -> Result<Self> {
        let packed: Vec<_> = rows.iter().map(Int4Vector::packed).collect();
        let floats: Vec<Vec<f32>> = packed.iter().map(|p| p.view().dequantize_finite()).collect();
        let quantizer = Self::train(k, metric, &floats, options, true)?.with_vector_bits(4)?;
        let encoded: Vec<EncodedRow> = packed
            .par_iter()
            .enumerate()
            .map(|(i, row)| quantizer.encode_int4(k, ItemPointer { block: i as u32, offset: 1 }, &row.view()))
            .collect::<Result<_>>()?;
        Ok(Self::assemble(quantizer, encoded))
    }

    /// Builds a Hamming index over bit rows; row i gets heap tid (i, 1).
    pub fn build_bits(k: &'static Kernels, rows: &[BitVector], options: &BuildOptions) -> Result<Self> {
        let floats: Vec<Vec<f32>> = rows.iter().map(|r| super::signs(&r.view())).collect();
        let quantizer = Self::train(k, Metric::Hamming, &floats, options, false)?;
        let encoded: Vec<EncodedRow> = rows.par_iter().map(|row| quantizer.encode_bits(k, &row.view())).collect::<Result<_>>()?;
        Ok(Self::assemble(quantizer, encoded))
    }

    /// k-means on the first `sample_rows` rows (the data sets used here come shuffled).
    fn train(k: &'static Kernels, metric: Metric, floats: &[Vec<f32>], options: &BuildOptions, residual: bool) -> Result<Quantizer> {
        let dims = floats.first().map_or(1, Vec::len);
        let sample: Vec<f32> = floats.iter().take(options.sample_rows).flatten().copied().collect();
        let kmeans = KMeans { clusters: options.lists, iterations: options.iterations, spherical: metric.spherical(), seed: 42 };
        let mut centroids = kmeans::train(k, &pool(), &sample, dims, &kmeans, &mut || Ok(()))?;
        super::meta::round_centroids(&mut centroids);
        Quantizer::new(k, metric, dims, residual, centroids)?.with_code_bits(options.code_bits)
    }

    fn assemble(quantizer: Quantizer, encoded: Vec<EncodedRow>) -> Self {
        let mut index =
            MemoryIndex { lists: vec![Vec::new(); quantizer.lists()], vectors: Vec::new(), vector_lists: Vec::new(), quantizer: Arc::new(quantizer) };
        for (i, row) in encoded.into_iter().enumerate() {
            index.insert(row, ItemPointer { block: i as u32, offset: 1 });
        }
        index
    }

    /// Adds an encoded row (heap tid `tid`) to its list.
    pub fn insert(&mut self, mut row: EncodedRow, tid: ItemPointer) {
        let target = if self.quantizer.has_vectors() {
            self.vectors.push(std::mem::take(&mut row.vector));
            self.vector_lists.push(row.list as u32);
            ItemPointer { block: (self.vectors.len() - 1) as u32, offset: 0 }
        } else {
            tid
        };
        let quantizer = &self.quantizer;
        let blocks = &mut self.lists[row.list];
        let slot = blocks.last().and_then(|b| block::free_slot(quantizer, b));
        let slot = slot.unwrap_or_else(|| {
            blocks.push(block::empty(quantizer));
            0
        });
        block::write_row(quantizer, blocks.last_mut().expect("a block"), slot, &row, target);
    }
}

impl MemoryIndex {
    /// An index of these lists' blocks and no vectors: a build's code pages copied into
    /// memory, for a calibration that reads them from many threads.
    pub fn of_lists(quantizer: Arc<Quantizer>, lists: Vec<Vec<Vec<u8>>>) -> MemoryIndex {
        MemoryIndex { quantizer, lists, vectors: Vec::new(), vector_lists: Vec::new() }
    }

    /// Measures recall at every setting (see [`calibrate`]), with `rows[i]` for each i of
    /// `query_rows` as a query (the rows the index was built from, in order).
    pub fn calibrate(&self, k: &'static Kernels, rows: &[Int8Vector], query_rows: &[usize]) -> Result<Calibration> {
        calibrate_parallel(&pool(), self, &self.truths(k, rows, query_rows)?, &mut || Ok(()))
    }

    /// The calibration queries of [`MemoryIndex::calibrate`] with their true neighbours.
    pub fn truths(&self, k: &'static Kernels, rows: &[Int8Vector], query_rows: &[usize]) -> Result<Truths> {
        let queries = query_rows.iter().map(|&i| (ItemPointer { block: i as u32, offset: 1 }, rows[i].view().dequantize_finite())).collect();
        let mut truths = Truths::new(&self.quantizer, k, queries)?;
        let offered: Vec<Offered> = self
            .vectors
            .iter()
            .zip(&self.vector_lists)
            .enumerate()
            .map(|(i, (vector, &list))| Offered { tid: vector_tid(vector), target: ItemPointer { block: i as u32, offset: 0 }, list: list as usize, vector })
            .collect();
        for batch in offered.chunks(4096) {
            truths.offer(batch);
        }
        Ok(truths)
    }

    /// Measures recall at every setting for queries from outside the index whose true
    /// neighbours are known (row numbers, nearest first).
    pub fn measure(&self, k: &'static Kernels, queries: &[Vec<f32>], neighbours: &[Vec<usize>]) -> Result<Calibration> {
        let given = queries
            .iter()
            .zip(neighbours)
            .map(|(query, rows)| (query.clone(), rows.iter().map(|&i| (ItemPointer { block: i as u32, offset: 0 }, self.vector_lists[i])).collect()))
            .collect();
        calibrate_parallel(&pool(), self, &Truths::given(&self.quantizer, k, given)?, &mut || Ok(()))
    }
}

/// A pool of as many threads as the machine has.
fn pool() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().build().expect("a thread pool")
}

impl Lists for MemoryIndex {
    fn scan_list(&self, list: u32, visit: &mut dyn FnMut(&[u8])) {
        for block in &self.lists[list as usize] {
            visit(block);
        }
    }

    fn read_vectors(&self, slots: &[ItemPointer], visit: &mut dyn FnMut(&[u8])) {
        let vectors: Vec<&[u8]> = slots.iter().filter_map(|slot| self.vectors.get(slot.block as usize).map(Vec::as_slice)).collect();
        for vector in &vectors {
            crate::kernels::prefetch(vector.as_ptr(), vector.len());
        }
        for vector in vectors {
            visit(vector);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::floats::Query;
    use crate::ivf::search::{Search, SearchCounters, SearchOptions};
    use crate::ivf::{IndexQuery, Scorer};
    use crate::kernels;

    fn random_rows(n: usize, dims: usize) -> Vec<Vec<f32>> {
        let mut rng = SmallRng::seed_from_u64(11);
        (0..n).map(|_| (0..dims).map(|_| rng.random_range(-1.0f32..1.0)).collect()).collect()
    }

    /// Drains a search: every row must come out exactly once, and with every list probed
    /// and every candidate rescored the first rows are the exact nearest.
    fn drain(index: &MemoryIndex, query: IndexQuery, options: SearchOptions) -> Vec<(ItemPointer, f64)> {
        let mut search = Search::new(Scorer::new(index.quantizer.clone(), kernels::active(), query).unwrap(), options);
        std::iter::from_fn(|| search.next(index)).collect()
    }

    /// Counts list scans.
    struct Counting<'a>(&'a MemoryIndex, std::cell::Cell<usize>);

    impl Lists for Counting<'_> {
        fn scan_list(&self, list: u32, visit: &mut dyn FnMut(&[u8])) {
            self.1.set(self.1.get() + 1);
            self.0.scan_list(list, visit)
        }

        fn read_vectors(&self, slots: &[ItemPointer], visit: &mut dyn FnMut(&[u8])) {
            self.0.read_vectors(slots, visit)
        }
    }

    /// An index over `int4vec` rows (4-bit vectors) returns, with every list probed and
    /// every candidate rescored, exactly the order of the `int4vec` operators against the
    /// float query, for each metric and with 1- and 4-bit first-pass codes; its vector items
    /// take half a byte a dimension; and at the defaults it finds most neighbours.
    #[test]
    fn int4_rows_are_rescored_from_their_own_codes() {
        let k = kernels::active();
        let floats = random_rows(2000, 21);
        let rows: Vec<Int4Vector> = floats.iter().map(|f| Int4Vector::quantize_minmax(f).unwrap()).collect();
        let packed: Vec<_> = rows.iter().map(Int4Vector::packed).collect();
        for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine] {
            for code_bits in [1, 4] {
                let options = BuildOptions { lists: 20, sample_rows: 1000, iterations: 3, code_bits };
                let index = MemoryIndex::build_int4(k, metric, &rows, &options).unwrap();
                assert_eq!(index.quantizer.vector_len(), 11 + 11, "tid, scale, zero-point and 21 codes in 11 bytes");
                for q in [3, 777, 1999] {
                    let query = Query::new(&floats[q]).unwrap();
                    let operator = |i: usize| match metric {
                        Metric::L2 => crate::int4::l2_distance_f32(k, &packed[i].view(), &query).unwrap(),
                        Metric::InnerProduct => 0.0 - crate::int4::inner_product_f32(k, &packed[i].view(), &query).unwrap(),
                        _ => crate::int4::cosine_distance_f32(k, &packed[i].view(), &query).unwrap(),
                    };
                    let mut expected: Vec<(f64, u32)> = (0..rows.len()).map(|i| (operator(i), i as u32)).collect();
                    expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    let options = SearchOptions { probes: 1000, rescore_factor: 1000.0 };
                    let mut search = Search::new(Scorer::new(index.quantizer.clone(), k, IndexQuery::Floats(query.clone())).unwrap(), options);
                    let found: Vec<(f64, u32)> = (0..10).map(|_| search.next(&index).map(|(tid, d)| (d, tid.block)).unwrap()).collect();
                    let distances = |v: &[(f64, u32)]| v.iter().map(|e| e.0).collect::<Vec<f64>>();
                    assert_eq!(distances(&found), distances(&expected[..10]), "{metric:?}, {code_bits}-bit codes, query {q}");
                }
            }
        }
        let index = MemoryIndex::build_int4(k, Metric::Cosine, &rows, &BuildOptions::for_rows(rows.len())).unwrap();
        assert!(MemoryIndex::build_int4(k, Metric::Hamming, &rows, &BuildOptions::for_rows(rows.len())).is_err());
        let query_rows: Vec<usize> = (0..100).map(|i| i * 19).collect();
        let as_int8: Vec<Int8Vector> = packed.iter().map(|p| p.view().to_int8()).collect();
        let calibration = index.calibrate(k, &as_int8, &query_rows).unwrap();
        let choice = calibration.choose(0.95, None, None).unwrap();
        assert!(choice.recall >= 0.95, "{choice:?}");
    }

    /// 3,000 random 16-d rows (as floats) and an L2 index of them in 40 lists.
    fn three_thousand_rows_in_forty_lists() -> (Vec<Vec<f32>>, MemoryIndex) {
        let floats = random_rows(3000, 16);
        let rows: Vec<Int8Vector> = floats.iter().map(|f| Int8Vector::quantize_minmax(f).unwrap()).collect();
        let options = BuildOptions { lists: 40, sample_rows: 1000, iterations: 3, code_bits: 1 };
        (floats, MemoryIndex::build_int8(kernels::active(), Metric::L2, &rows, &options, true).unwrap())
    }

    #[test]
    fn counters_say_what_a_search_did() {
        let k = kernels::active();
        let (floats, index) = three_thousand_rows_in_forty_lists();
        let query = IndexQuery::Floats(Query::new(&floats[0]).unwrap());
        let mut search = Search::new(Scorer::new(index.quantizer.clone(), k, query).unwrap(), SearchOptions { probes: 5, rescore_factor: 4.0 });
        assert_eq!(search.counters(), SearchCounters::default());
        for _ in 0..10 {
            search.next(&index).expect("a row");
        }
        let top10 = search.counters();
        let blocks: usize = (0..40)
            .map(|list| {
                let mut n = 0;
                index.scan_list(list, &mut |_| n += 1);
                n
            })
            .sum();
        assert_eq!(top10.lists_probed, 5);
        assert_eq!(top10.returned, 10);
        assert_eq!(top10.rescored, 40, "rescore_factor 4 x 10 rows");
        assert_eq!(top10.rescans, 0);
        assert!(top10.codes_scored.is_multiple_of(block::ROWS) && top10.codes_scored > 0 && top10.codes_scored < blocks * block::ROWS, "{top10:?}");
        // Draining it probes every list and rescans the probed ones as candidates run out.
        let rest = std::iter::from_fn(|| search.next(&index)).count();
        let all = search.counters();
        assert_eq!((all.lists_probed, all.returned, all.rescored), (40, 10 + rest, 3000));
        assert!(all.rescans > 0 && all.codes_scored >= blocks * block::ROWS, "{all:?}");
        let mut sum = top10;
        sum += all;
        assert_eq!(sum.returned, 10 + all.returned);
    }

    #[test]
    fn draining_an_index_scans_each_list_a_logarithmic_number_of_times() {
        let k = kernels::active();
        let (floats, index) = three_thousand_rows_in_forty_lists();
        for probes in [1000, 3] {
            let counting = Counting(&index, std::cell::Cell::new(0));
            let query = IndexQuery::Floats(Query::new(&floats[0]).unwrap());
            let mut search = Search::new(Scorer::new(index.quantizer.clone(), k, query).unwrap(), SearchOptions { probes, rescore_factor: 8.0 });
            assert_eq!(std::iter::from_fn(|| search.next(&counting)).count(), 3000);
            // Rescans double the candidates they keep: about log2(3000 / 80) of them, each
            // over the probed lists, not one per row once the candidates run out.
            assert!(counting.1.get() <= 40 * 24, "probes {probes}: {} list scans to drain 40 lists", counting.1.get());
        }
    }

    /// Deep scans (a filter that rejects most rows) keep the candidates of the probed lists
    /// once they must look past the first ones: over the same lists they return exactly
    /// what scoring the lists again returned, scoring far fewer codes, and past its limit
    /// the reserve is given up; either way a drained index returns every row once. A
    /// reserve starts with the nearest 2,048 rows (and every one up to the farthest of
    /// them): handing out all 3,000 takes a second rescan.
    #[test]
    fn a_reserve_returns_what_scoring_the_lists_again_returns() {
        let k = kernels::active();
        let (floats, index) = three_thousand_rows_in_forty_lists();
        let run = |query: usize, probes: usize, depth: usize, limit: usize| {
            let scorer = Scorer::new(index.quantizer.clone(), k, IndexQuery::Floats(Query::new(&floats[query]).unwrap())).unwrap();
            let mut search = Search::new(scorer, SearchOptions { probes, rescore_factor: 4.0 }).with_reserve_limit(limit);
            let rows: Vec<(ItemPointer, f64)> = std::iter::from_fn(|| search.next(&index)).take(depth).collect();
            (rows, search.counters())
        };
        // Every list probed from the start: only the refills differ.
        for (query, depth, rescans) in [(0, 300, 1), (1, 3000, 2), (2, 120, 1)] {
            let (with_reserve, counted) = run(query, 40, depth, usize::MAX);
            let (rescanning, rescanned) = run(query, 40, depth, 0);
            assert_eq!(with_reserve, rescanning, "query {query}, {depth} rows");
            assert_eq!((counted.rescored, counted.rescans), (rescanned.rescored, rescans));
            assert!(rescanned.rescans > 1 && counted.codes_scored < rescanned.codes_scored, "{counted:?} against {rescanned:?}");
        }
        // Deepening as rows are returned, with and without a reserve, and one given up.
        for (probes, limit) in [(3, usize::MAX), (3, 0), (5, 500)] {
            let (drained, counters) = run(3, probes, usize::MAX, limit);
            let distinct: HashSet<ItemPointer> = drained.iter().map(|&(tid, _)| tid).collect();
            assert_eq!((drained.len(), distinct.len()), (3000, 3000), "probes {probes}, reserve limit {limit}: {counters:?}");
        }
        let (_, reserve) = run(3, 3, 300, usize::MAX);
        let (_, rescanning) = run(3, 3, 300, 0);
        assert!(reserve.codes_scored * 2 < rescanning.codes_scored, "{reserve:?} against {rescanning:?}");
    }

    /// A search through a label filter returns only the rows with one of its labels, each
    /// once (drained: all of them); it goes deeper as the filter keeps fewer rows near the
    /// query, so that the first 10 are mostly the true filtered nearest; and it never
    /// estimates a block of which the filter keeps no row.
    #[test]
    fn label_filters_return_matching_rows_as_deep_as_they_need() {
        let k = kernels::active();
        let floats = random_rows(6000, 16);
        let rows: Vec<Int8Vector> = floats.iter().map(|f| Int8Vector::quantize_minmax(f).unwrap()).collect();
        // Label i % 100 (1% each), NULL for every 7th row.
        let labels: Vec<Option<i32>> = (0..rows.len()).map(|i| (i % 7 != 0).then_some((i % 100) as i32)).collect();
        let options = BuildOptions { lists: 60, sample_rows: 2000, iterations: 3, code_bits: 1 };
        let index = MemoryIndex::build_int8_labelled(k, Metric::L2, &rows, &labels, &options).unwrap();
        let plain = MemoryIndex::build_int8(k, Metric::L2, &rows, &options, true).unwrap();
        let settings = SearchOptions { probes: 4, rescore_factor: 4.0 };
        let (mut found, mut wanted) = (0, 0);
        for q in 0..20 {
            let values = vec![(q * 13 % 100) as i32, 1000];
            let matches = |i: usize| labels[i].is_some_and(|l| values.contains(&l));
            let query = || IndexQuery::Floats(Query::new(&floats[6000 - 1 - q]).unwrap());
            let mut search = Search::new(Scorer::new(index.quantizer.clone(), k, query()).unwrap(), settings).with_filter(values.clone());
            let first: Vec<u32> = std::iter::from_fn(|| search.next(&index)).take(10).map(|(tid, _)| tid.block).collect();
            assert!(search.counters().lists_probed > 4 * 5, "a 1% filter goes deeper: {:?}", search.counters());
            let rest: Vec<u32> = std::iter::from_fn(|| search.next(&index)).map(|(tid, _)| tid.block).collect();
            let all: HashSet<u32> = first.iter().chain(&rest).copied().collect();
            let expected: HashSet<u32> = (0..rows.len()).filter(|&i| matches(i)).map(|i| i as u32).collect();
            assert_eq!((all.len(), first.len() + rest.len()), (expected.len(), expected.len()), "query {q}: each once");
            assert_eq!(all, expected, "query {q}: the matching rows, and only them");
            let counters = search.counters();
            assert!(counters.codes_scored < 6000 * 3 / 4, "blocks without a match are not estimated: {counters:?}");
            let distance = |i: usize| crate::int8::l2_distance_f32(k, &rows[i].view(), &Query::new(&floats[6000 - 1 - q]).unwrap()).unwrap();
            let mut exact: Vec<usize> = expected.iter().map(|&i| i as usize).collect();
            exact.sort_by(|&a, &b| distance(a).total_cmp(&distance(b)));
            found += exact[..10].iter().filter(|&&i| first.contains(&(i as u32))).count();
            wanted += 10;
        }
        let recall = found as f64 / wanted as f64;
        assert!(recall >= 0.9, "filtered recall@10 {recall}");
        // No label matches: nothing, having looked at every list once; an index without
        // labels matches no filter.
        let query = IndexQuery::Floats(Query::new(&floats[1]).unwrap());
        let counting = Counting(&index, std::cell::Cell::new(0));
        let mut search = Search::new(Scorer::new(index.quantizer.clone(), k, query).unwrap(), settings).with_filter(vec![-5]);
        assert!(search.next(&counting).is_none());
        assert_eq!((search.counters().lists_probed, search.counters().codes_scored, search.counters().rescans), (60, 0, 0));
        assert_eq!(counting.1.get(), 60, "each list scanned once");
        let query = IndexQuery::Floats(Query::new(&floats[1]).unwrap());
        let mut search = Search::new(Scorer::new(plain.quantizer.clone(), k, query).unwrap(), settings).with_filter(vec![1]);
        assert!(search.next(&plain).is_none());
    }

    #[test]
    fn lists_are_ranked_from_int8_centroids_within_their_error() {
        let k = kernels::active();
        let dims = 384;
        let mut centroids: Vec<f32> = random_rows(200, dims).concat();
        // As builds store them: values that float16 holds exactly.
        crate::ivf::meta::round_centroids(&mut centroids);
        for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine] {
            let quantizer = Arc::new(Quantizer::new(k, metric, dims, true, centroids.clone()).unwrap());
            for query in random_rows(5, dims) {
                let q_norm = crate::floats::norm(&query);
                let scorer = Scorer::new(quantizer.clone(), k, IndexQuery::Floats(Query::new(&query).unwrap())).unwrap();
                for (rank, list) in scorer.ranked_lists() {
                    let c = quantizer.centroid(list as usize);
                    let dot: f64 = query.iter().zip(c).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum();
                    let exact = match metric {
                        Metric::L2 => c.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() - 2.0 * dot,
                        _ => -dot,
                    };
                    // Rounding both sides to 8 bits: a small fraction of |q|·|c|.
                    let bound = 0.02 * q_norm * crate::floats::norm(c);
                    assert!((f64::from(rank) - exact).abs() <= bound, "{metric:?} list {list}: {rank} vs {exact}");
                    // The term added to the list's rows stays exact.
                    let term = f64::from(scorer.list_term(list));
                    let want = if metric == Metric::L2 { -2.0 * dot } else { -dot };
                    assert!((term - want).abs() <= 1e-3 * (1.0 + want.abs()), "{metric:?} term {term} vs {want}");
                }
            }
        }
    }

    #[test]
    fn searches_return_every_row_once() {
        let k = kernels::active();
        let floats = random_rows(3000, 24);
        let rows: Vec<Int8Vector> = floats.iter().map(|f| Int8Vector::quantize_minmax(f).unwrap()).collect();
        let options = BuildOptions { lists: 40, sample_rows: 1000, iterations: 5, code_bits: 1 };
        for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine] {
            let index = MemoryIndex::build_int8(k, metric, &rows, &options, true).unwrap();
            let query = IndexQuery::Floats(Query::new(&floats[7]).unwrap());
            let all = drain(&index, query, SearchOptions { probes: 2, rescore_factor: 1.0 });
            let distinct: HashSet<ItemPointer> = all.iter().map(|r| r.0).collect();
            assert_eq!((all.len(), distinct.len()), (3000, 3000), "{metric:?}");
            // Exhaustive settings: the first rows are in exact rescored order.
            let query = IndexQuery::Floats(Query::new(&floats[7]).unwrap());
            let exact = drain(&index, query, SearchOptions { probes: 1000, rescore_factor: 1e9 });
            assert!(exact.windows(2).all(|w| w[0].1 <= w[1].1 || w[1].1.is_nan()), "{metric:?} not in order");
            assert_eq!(exact[0].0, ItemPointer { block: 7, offset: 1 }, "{metric:?}: a row is its own nearest");
        }
        let bits: Vec<BitVector> = floats.iter().map(|f| BitVector::from_signs(f).unwrap()).collect();
        let index = MemoryIndex::build_bits(k, &bits, &options).unwrap();
        let all = drain(&index, IndexQuery::Bits(bits[3].view().bytes().to_vec()), SearchOptions { probes: 3, rescore_factor: 2.0 });
        let distinct: HashSet<ItemPointer> = all.iter().map(|r| r.0).collect();
        assert_eq!((all.len(), distinct.len()), (3000, 3000));
        assert_eq!(all[0].1, 0.0);
    }

    /// Where f32 sums overflow (huge queries) or underflow (tiny rows and queries), as
    /// anywhere, an exhaustive scan returns every row with the operator's own finite value,
    /// in the order of a sort by it (ties by tid, as the scan breaks them).
    #[test]
    fn scans_order_rows_as_the_operators_at_extreme_magnitudes() {
        let k = kernels::active();
        let options = BuildOptions { lists: 8, sample_rows: 300, iterations: 3, code_bits: 1 };
        let dims = 24;
        // Rows stay within float16's range, which the centroids are stored in; ordinary
        // magnitudes too, where cosine rescoring once rounded differently.
        for (row_magnitude, query_magnitude) in [(1.0f32, 1.0f32), (1000.0, 1e19), (1000.0, 3e37), (1e-30, 1e-30)] {
            let mut rng = SmallRng::seed_from_u64(12);
            let mut floats = |magnitude: f32| (0..dims).map(|_| rng.random_range(-1.0f32..1.0) * magnitude).collect::<Vec<f32>>();
            let rows: Vec<Int8Vector> = (0..300).map(|_| Int8Vector::quantize_minmax(&floats(row_magnitude)).unwrap()).collect();
            let query = Query::new(&floats(query_magnitude)).unwrap();
            for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine] {
                let operator = |row: &Int8Vector| match metric {
                    Metric::L2 => crate::int8::l2_distance_f32(k, &row.view(), &query).unwrap(),
                    // `<#>`
                    Metric::InnerProduct => 0.0 - crate::int8::inner_product_f32(k, &row.view(), &query).unwrap(),
                    _ => crate::int8::cosine_distance_f32(k, &row.view(), &query).unwrap(),
                };
                let mut sorted: Vec<(ItemPointer, f64)> =
                    rows.iter().enumerate().map(|(i, row)| (ItemPointer { block: i as u32, offset: 1 }, operator(row))).collect();
                sorted.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                let what = format!("{metric:?}, rows {row_magnitude:e}, query {query_magnitude:e}");
                assert!(sorted.iter().all(|r| r.1.is_finite()), "{what}: {:?}", sorted.iter().find(|r| !r.1.is_finite()));
                let index = MemoryIndex::build_int8(k, metric, &rows, &options, true).unwrap();
                let scanned = drain(&index, IndexQuery::Floats(query.clone()), SearchOptions { probes: 1000, rescore_factor: 1e9 });
                assert_eq!(scanned.len(), sorted.len(), "{what}");
                for (i, (got, want)) in scanned.iter().zip(&sorted).enumerate() {
                    assert!(got.0 == want.0 && got.1.to_bits() == want.1.to_bits(), "{what}: row {i} of the scan is {got:?}, of the sort {want:?}");
                }
            }
        }
    }
}
