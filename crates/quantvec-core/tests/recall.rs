//! Quality of the quantized distances on real embeddings: 20,000 base vectors and 200
//! queries of wordnet-minilm-384, recall@10 against the exact float top-10 by cosine.
//! Run with `--nocapture` to see the figures.

use std::sync::OnceLock;

use quantvec_core::bits::{self, BitVector};
use quantvec_core::datasets::Embeddings;
use quantvec_core::eval::{nearest, recall, top_k, Scored};
use quantvec_core::floats::Query;
use quantvec_core::int4::{self, Int4Vector, PackedInt4};
use quantvec_core::int8::{self, Int8Vector};
use quantvec_core::kernels::{self, Kernels};

const BASE: usize = 20_000;
const QUERIES: usize = 200;
const K: usize = 10;

struct Fixture {
    data: Embeddings,
    truth: Vec<Vec<usize>>,
    codes: Vec<Int8Vector>,
    codes4: Vec<PackedInt4>,
    signs: Vec<BitVector>,
}

fn k() -> &'static Kernels {
    kernels::active()
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let data = Embeddings::wordnet(BASE, QUERIES).expect("the shared wordnet-minilm-384 set");
        assert_eq!((data.base.rows, data.queries.rows), (BASE, QUERIES));
        let norm = |v: &[f32]| f64::from((k().dot_f32)(v, v)).sqrt();
        let base_norms: Vec<f64> = (0..BASE).map(|i| norm(data.base.row(i))).collect();
        let truth = (0..QUERIES)
            .map(|q| {
                let query = data.queries.row(q);
                let query_norm = norm(query);
                nearest(BASE, K, |i| 1.0 - f64::from((k().dot_f32)(query, data.base.row(i))) / (query_norm * base_norms[i]))
            })
            .collect();
        let codes = (0..BASE).map(|i| Int8Vector::quantize_minmax(data.base.row(i)).unwrap()).collect();
        let codes4 = (0..BASE).map(|i| Int4Vector::quantize_minmax(data.base.row(i)).unwrap().packed()).collect();
        let signs = (0..BASE).map(|i| BitVector::from_signs(data.base.row(i)).unwrap()).collect();
        Fixture { data, truth, codes, codes4, signs }
    })
}

/// Mean recall@10 of `search` (query index → ids, nearest first) over all queries.
fn mean_recall(search: impl Fn(usize) -> Vec<usize>) -> f64 {
    let f = fixture();
    (0..QUERIES).map(|q| recall(&search(q)[..K.min(f.truth[q].len())], &f.truth[q])).sum::<f64>() / QUERIES as f64
}

/// The top k of `candidates` by asymmetric int8 cosine distance to the float query.
fn rescore(query: &[f32], candidates: &[usize]) -> Vec<usize> {
    let f = fixture();
    let query = Query::new(query).unwrap();
    let scored = candidates.iter().map(|&id| Scored { distance: int8::cosine_distance_f32(k(), &f.codes[id].view(), &query).unwrap(), id });
    top_k(scored, K).into_iter().map(|s| s.id).collect()
}

/// The targets for 4-bit codes: ≥ 0.93 with a float query, ≥ 0.99 when their top 20
/// are rescored with int8 codes.
#[test]
fn int4_cosine_recall() {
    let f = fixture();
    let symmetric = mean_recall(|q| {
        let query = Int4Vector::quantize_minmax(f.data.queries.row(q)).unwrap().packed();
        nearest(BASE, K, |i| int4::cosine_distance(k(), &query.view(), &f.codes4[i].view()).unwrap())
    });
    let int4_top = |q: usize, n: usize| {
        let query = Query::new(f.data.queries.row(q)).unwrap();
        nearest(BASE, n, |i| int4::cosine_distance_f32(k(), &f.codes4[i].view(), &query).unwrap())
    };
    let asymmetric = mean_recall(|q| int4_top(q, K));
    let rescored = mean_recall(|q| rescore(f.data.queries.row(q), &int4_top(q, 20)));
    println!("recall@10, int4 <=> int4 (query quantized too): {symmetric:.4}");
    println!("recall@10, int4 <=> real[] (float query): {asymmetric:.4}");
    println!("recall@10, int4 <=> real[] top 20 rescored by int8 <=> real[]: {rescored:.4}");
    assert!(asymmetric >= 0.93, "asymmetric int4 cosine recall@10 {asymmetric} < 0.93");
    assert!(rescored >= 0.99, "int4 top 20 rescored by int8: recall@10 {rescored} < 0.99");
    assert!(symmetric < asymmetric, "a 4-bit query loses more than a float one");
}

#[test]
fn int8_cosine_recall() {
    let f = fixture();
    let symmetric = mean_recall(|q| {
        let query = Int8Vector::quantize_minmax(f.data.queries.row(q)).unwrap();
        nearest(BASE, K, |i| int8::cosine_distance(k(), &query.view(), &f.codes[i].view()).unwrap())
    });
    let asymmetric = mean_recall(|q| {
        let query = Query::new(f.data.queries.row(q)).unwrap();
        nearest(BASE, K, |i| int8::cosine_distance_f32(k(), &f.codes[i].view(), &query).unwrap())
    });
    println!("recall@10, int8 <=> int8 (query quantized too): {symmetric:.4}");
    println!("recall@10, int8 <=> real[] (float query): {asymmetric:.4}");
    assert!(symmetric >= 0.98, "int8 cosine recall@10 {symmetric} < 0.98");
    assert!(asymmetric >= 0.98, "asymmetric int8 cosine recall@10 {asymmetric} < 0.98");
}

#[test]
fn hamming_first_pass_then_int8_rescoring() {
    let f = fixture();
    let recall_at = |candidates: usize| {
        mean_recall(|q| {
            let query = f.data.queries.row(q);
            let signs = BitVector::from_signs(query).unwrap();
            let first = nearest(BASE, candidates, |i| bits::hamming_distance(k(), &signs.view(), &f.signs[i].view()).unwrap());
            rescore(query, &first)
        })
    };
    let at_100 = recall_at(100);
    println!("recall@10, Hamming top-100 rescored with int8: {at_100:.4}");
    assert!(at_100 >= 0.95, "Hamming + 100 rescored: recall@10 {at_100} < 0.95");
}

#[test]
fn asymmetric_binary_first_pass_then_int8_rescoring() {
    let f = fixture();
    let recall_at = |candidates: usize| {
        mean_recall(|q| {
            let query = f.data.queries.row(q);
            let prepared = Query::new(query).unwrap();
            let first = nearest(BASE, candidates, |i| -bits::inner_product_f32(k(), &f.signs[i].view(), &prepared).unwrap());
            rescore(query, &first)
        })
    };
    let at_40 = recall_at(40);
    println!("recall@10, float query against bits top-40 rescored with int8: {at_40:.4}");
    assert!(at_40 >= 0.95, "asymmetric binary + 40 rescored: recall@10 {at_40} < 0.95");
}

/// An index scan under a filter that keeps 1 row in `every` (row i passes for query q when
/// i % every == q % every): the rows it hands out until ten pass, against the exact
/// filtered top 10. The scan goes as deep as k / selectivity rows, and probes further
/// lists as it does.
#[test]
fn filtered_index_scans_keep_their_recall() {
    use quantvec_core::ivf::memory::MemoryIndex;
    use quantvec_core::ivf::search::{Search, SearchOptions};
    use quantvec_core::ivf::{BuildOptions, IndexQuery, Metric, Scorer};

    let f = fixture();
    let options = BuildOptions::for_rows(BASE);
    let index = MemoryIndex::build_int8(k(), Metric::Cosine, &f.codes, &options, true).unwrap();
    // The extension's default probes (3·√lists) and rescore factor.
    let probes = ((3.0 * (options.lists as f64).sqrt()).ceil() as usize).min(options.lists);
    let norm = |v: &[f32]| f64::from((k().dot_f32)(v, v)).sqrt();
    for every in [1, 10, 100] {
        let recall = (0..QUERIES)
            .map(|q| {
                let passes = |i: usize| i % every == q % every;
                let query = f.data.queries.row(q);
                let query_norm = norm(query);
                let scorer = Scorer::new(index.quantizer.clone(), k(), IndexQuery::Floats(Query::new(query).unwrap())).unwrap();
                let mut search = Search::new(scorer, SearchOptions { probes, rescore_factor: 8.0 });
                let found: Vec<usize> = std::iter::from_fn(|| search.next(&index)).map(|(tid, _)| tid.block as usize).filter(|&i| passes(i)).take(K).collect();
                let truth = nearest(BASE, K, |i| {
                    if passes(i) {
                        1.0 - f64::from((k().dot_f32)(query, f.data.base.row(i))) / (query_norm * norm(f.data.base.row(i)))
                    } else {
                        f64::INFINITY
                    }
                });
                recall(&found, &truth)
            })
            .sum::<f64>()
            / QUERIES as f64;
        println!("recall@10 of an index scan keeping 1 row in {every} (probes {probes} of {} lists): {recall:.4}", options.lists);
        assert!(recall >= 0.95, "1 row in {every}: recall {recall}");
    }
}
