//! `quantvec.target_recall` on data the calibration never saw: an index calibrated as a
//! build calibrates it (500 of its own rows as queries) chooses, for targets 0.9, 0.95
//! and 0.99, a setting that 1,000 outside queries measure against their exact float
//! top 10. The measured recall must be at most 0.01 under the target (or the best any
//! setting reaches), and the setting's cost at most 15% over the cheapest setting that
//! reaches the same measured recall (cost as the calibration models it: codes scored,
//! vectors rescored, lists probed). Both measurements are exact over the whole grid (see
//! `ivf::recall`). Each set is checked with 1-bit and with 4-bit first-pass codes. Run with
//! `--nocapture` to see the figures.

use quantvec_core::datasets::Embeddings;
use quantvec_core::eval::nearest;
use quantvec_core::int8::Int8Vector;
use quantvec_core::ivf::memory::MemoryIndex;
use quantvec_core::ivf::recall::{self, Calibration};
use quantvec_core::ivf::{BuildOptions, Metric};
use quantvec_core::kernels::{self, Kernels};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

const QUERIES: usize = 1000;

fn k() -> &'static Kernels {
    kernels::active()
}

fn cosine_truth(base: &[Vec<f32>], queries: &[Vec<f32>]) -> Vec<Vec<usize>> {
    let norm = |v: &[f32]| f64::from((k().dot_f32)(v, v)).sqrt();
    let norms: Vec<f64> = base.iter().map(|v| norm(v)).collect();
    queries
        .par_iter()
        .map(|q| {
            let qn = norm(q);
            nearest(base.len(), 10, |i| 1.0 - f64::from((k().dot_f32)(q, &base[i])) / (qn * norms[i]))
        })
        .collect()
}

/// Builds, calibrates on its own rows, measures the outside queries, and checks each
/// target, for each width of first-pass codes.
fn check(name: &str, base: Vec<Vec<f32>>, queries: Vec<Vec<f32>>) {
    let truth = cosine_truth(&base, &queries);
    let rows: Vec<Int8Vector> = base.iter().map(|f| Int8Vector::quantize_minmax(f).unwrap()).collect();
    for code_bits in [1, 4] {
        check_codes(&format!("{name}, {code_bits}-bit codes"), &rows, &queries, &truth, code_bits);
    }
}

fn check_codes(name: &str, rows: &[Int8Vector], queries: &[Vec<f32>], truth: &[Vec<usize>], code_bits: u8) {
    let options = BuildOptions { code_bits, ..BuildOptions::for_rows(rows.len()) };
    let index = MemoryIndex::build_int8(k(), Metric::Cosine, rows, &options, true).unwrap();
    let mut sample: Vec<usize> = (0..rows.len()).collect();
    sample.shuffle(&mut SmallRng::seed_from_u64(3));
    sample.truncate(recall::QUERIES);
    let calibration = index.calibrate(k(), rows, &sample).unwrap();
    let measured = index.measure(k(), queries, truth).unwrap();
    let best_anywhere = measured.recall.iter().copied().fold(0.0f32, f32::max) as f64;
    for target in [0.9, 0.95, 0.99] {
        let choice = calibration.choose(target, None, None).unwrap();
        let (p, r) = grid_point(&measured, choice.probes, choice.rescore_factor);
        let got = measured.recall_at(p, r);
        let cost = measured.cost(p, r);
        let cheapest = (0..measured.probes.len())
            .flat_map(|p| (0..measured.rescore_factors.len()).map(move |r| (p, r)))
            .filter(|&(p2, r2)| measured.recall_at(p2, r2) >= got)
            .map(|(p2, r2)| measured.cost(p2, r2))
            .fold(f64::INFINITY, f64::min);
        println!(
            "{name}: target {target}: probes {} rescore_factor {} (calibrated recall {:.4}) -> measured {got:.4}; cost {:.0} vs cheapest at that recall {cheapest:.0} ({:.2}x); best of the grid {best_anywhere:.4}",
            choice.probes,
            choice.rescore_factor,
            choice.recall,
            cost,
            cost / cheapest
        );
        assert!(got >= target.min(best_anywhere) - 0.01, "{name}: target {target}, measured {got}");
        assert!(cost <= 1.15 * cheapest, "{name}: target {target}: cost {cost} against {cheapest} for the same recall");
    }
}

fn grid_point(c: &Calibration, probes: usize, rescore_factor: f64) -> (usize, usize) {
    let p = c.probes.iter().position(|&x| x as usize == probes).expect("a probe count of the grid");
    let r = c.rescore_factors.iter().position(|&x| f64::from(x) == rescore_factor).expect("a rescore factor of the grid");
    (p, r)
}

#[test]
fn wordnet_minilm_384() {
    let data = Embeddings::wordnet(100_000, QUERIES).expect("the shared wordnet-minilm-384 set");
    let base = (0..data.base.rows).map(|i| data.base.row(i).to_vec()).collect();
    let queries = (0..data.queries.rows).map(|i| data.queries.row(i).to_vec()).collect();
    check("wordnet-minilm-384 100k", base, queries);
}

/// The pkg-summaries set (812k × 256, harder: its 10th neighbour is far), where it has been
/// made: `python3 ../shared/data/pkg-summaries/make.py DIR` (about 3 minutes, WordLlama from
/// PyPI), then `QUANTVEC_PKG_SUMMARIES=DIR` (and `QUANTVEC_PKG_ROWS=50000` for a prefix).
#[test]
fn pkg_summaries_256() {
    let Ok(dir) = std::env::var("QUANTVEC_PKG_SUMMARIES") else {
        println!("pkg-summaries: skipped (QUANTVEC_PKG_SUMMARIES is not set)");
        return;
    };
    let rows = std::env::var("QUANTVEC_PKG_ROWS").ok().and_then(|r| r.parse().ok()).unwrap_or(usize::MAX);
    let data = Embeddings::load(std::path::Path::new(&dir), rows, QUERIES).expect("the pkg-summaries set");
    let base = (0..data.base.rows).map(|i| data.base.row(i).to_vec()).collect();
    let queries = (0..data.queries.rows).map(|i| data.queries.row(i).to_vec()).collect();
    check(&format!("pkg-summaries-256 {}", data.base.rows), base, queries);
}

/// 768 dimensions around 50 centres of different spreads; queries from the same mixture.
#[test]
fn synthetic_clustered_768() {
    let mut rng = SmallRng::seed_from_u64(21);
    let dims = 768;
    let centres: Vec<(Vec<f32>, f32)> = (0..50).map(|_| ((0..dims).map(|_| rng.random_range(-1.0f32..1.0)).collect(), rng.random_range(0.2f32..1.0))).collect();
    let draw = |rng: &mut SmallRng| {
        let (centre, spread) = &centres[rng.random_range(0..centres.len())];
        centre.iter().map(|&c| c + spread * rng.random_range(-1.0f32..1.0)).collect::<Vec<f32>>()
    };
    let base = (0..20_000).map(|_| draw(&mut rng)).collect();
    let queries = (0..QUERIES).map(|_| draw(&mut rng)).collect();
    check("clustered 768-d 20k", base, queries);
}

/// 768 dimensions, uniform: no clusters for the lists to follow.
#[test]
fn synthetic_uniform_768() {
    let mut rng = SmallRng::seed_from_u64(22);
    let mut draw = |_| (0..768).map(|_| rng.random_range(-1.0f32..1.0)).collect::<Vec<f32>>();
    let base = (0..20_000).map(&mut draw).collect();
    let queries = (0..QUERIES).map(&mut draw).collect();
    check("uniform 768-d 20k", base, queries);
}
