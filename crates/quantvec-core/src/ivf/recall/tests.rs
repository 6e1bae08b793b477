use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::int8::Int8Vector;
use crate::ivf::memory::MemoryIndex;
use crate::ivf::search::{Search, SearchOptions};
use crate::ivf::{BuildOptions, Metric};
use crate::kernels;

/// Rows around `clusters` random centres.
fn clustered(n: usize, dims: usize, clusters: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let centres: Vec<Vec<f32>> = (0..clusters).map(|_| (0..dims).map(|_| rng.random_range(-1.0f32..1.0)).collect()).collect();
    (0..n).map(|i| centres[i % clusters].iter().map(|&c| c + rng.random_range(-0.6f32..0.6)).collect()).collect()
}

/// Rows of `clustered` data as int8 codes, and an index over them.
fn clustered_index(n: usize, dims: usize, clusters: usize, seed: u64, metric: Metric, lists: usize) -> (Vec<Int8Vector>, MemoryIndex) {
    let rows: Vec<Int8Vector> = clustered(n, dims, clusters, seed).iter().map(|f| Int8Vector::quantize_minmax(f).unwrap()).collect();
    let options = BuildOptions { lists, sample_rows: n / 2, iterations: 4, code_bits: 1 };
    let index = MemoryIndex::build_int8(kernels::active(), metric, &rows, &options, true).unwrap();
    (rows, index)
}

/// The recall measured for each setting is what searches at that setting find, to the
/// last neighbour: queries held out of the index, truth by brute force; with 1-bit and with
/// 4-bit first-pass codes.
#[test]
fn calibration_predicts_every_search_exactly() {
    let k = kernels::active();
    let (indexed, queries) = (3000, 40);
    let floats = clustered(indexed + queries, 24, 30, 5);
    let rows: Vec<Int8Vector> = floats.iter().map(|f| Int8Vector::quantize_minmax(f).unwrap()).collect();
    let cases = [Metric::L2, Metric::Cosine, Metric::InnerProduct].into_iter().flat_map(|metric| [(metric, 1), (metric, 4)]);
    for (metric, code_bits) in cases {
        let options = BuildOptions { lists: 50, sample_rows: 1500, iterations: 4, code_bits };
        let index = MemoryIndex::build_int8(k, metric, &rows[..indexed], &options, true).unwrap();
        let query_rows: Vec<usize> = (indexed..indexed + queries).collect();
        let calibration = index.calibrate(k, &rows, &query_rows).unwrap();
        assert_eq!(calibration.probes, probe_grid(50));
        assert_eq!(calibration.queries as usize, queries);
        let mut checked = 0;
        for (p, &probes) in calibration.probes.iter().enumerate().step_by(3) {
            for (r, &factor) in calibration.rescore_factors.iter().enumerate().step_by(4) {
                let mut found = 0;
                for &q in &query_rows {
                    let query = || IndexQuery::Floats(Query::new(&rows[q].view().dequantize_finite()).unwrap());
                    let scorer = Scorer::new(index.quantizer.clone(), k, query()).unwrap();
                    let mut distances: Vec<(f64, usize)> = index.vectors.iter().enumerate().map(|(i, v)| (scorer.rescore(v), i)).collect();
                    distances.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    let truth: Vec<u32> = distances[..K].iter().map(|d| d.1 as u32).collect();
                    let options = SearchOptions { probes: probes as usize, rescore_factor: f64::from(factor) };
                    let mut search = Search::new(Scorer::new(index.quantizer.clone(), k, query()).unwrap(), options);
                    let returned: Vec<u32> = (0..K).map_while(|_| search.next(&index)).map(|(tid, _)| tid.block).collect();
                    found += returned.iter().filter(|t| truth.contains(t)).count();
                }
                let searched = found as f64 / (queries * K) as f64;
                let predicted = calibration.recall_at(p, r);
                assert!(
                    (searched - predicted).abs() < 1e-4,
                    "{metric:?}, {code_bits}-bit codes, probes {probes} factor {factor}: searches found {searched}, calibration says {predicted}"
                );
                checked += 1;
            }
        }
        assert!(checked > 20);
        // Recall grows with either knob, and the widest setting finds nearly everything.
        let (p_last, r_last) = (calibration.probes.len() - 1, calibration.rescore_factors.len() - 1);
        assert!(calibration.recall_at(p_last, r_last) > 0.97, "{metric:?} {}", calibration.recall_at(p_last, r_last));
        assert!(calibration.recall_at(0, 0) < calibration.recall_at(p_last, r_last));
    }
}

/// 4-bit first-pass codes estimate distances more closely than signs do, so that fewer
/// candidates reach the same recall: what signs need several times the candidates for.
#[test]
fn four_bit_codes_need_fewer_candidates() {
    let k = kernels::active();
    let (indexed, queries) = (4000, 100);
    let floats = clustered(indexed + queries, 32, 40, 12);
    let rows: Vec<Int8Vector> = floats.iter().map(|f| Int8Vector::quantize_minmax(f).unwrap()).collect();
    let query_rows: Vec<usize> = (indexed..indexed + queries).collect();
    for metric in [Metric::L2, Metric::Cosine, Metric::InnerProduct] {
        let curve = |code_bits| {
            let options = BuildOptions { lists: 40, sample_rows: 2000, iterations: 4, code_bits };
            MemoryIndex::build_int8(k, metric, &rows[..indexed], &options, true).unwrap().calibrate(k, &rows, &query_rows).unwrap()
        };
        let (signs, nibbles) = (curve(1), curve(4));
        assert_eq!(signs.probes, nibbles.probes);
        let all = signs.probes.len() - 1;
        let factor = |c: f32| signs.rescore_factors.iter().position(|&f| f == c).unwrap();
        let (nibble_at, sign_at) = (|f: f32| nibbles.recall_at(all, factor(f)), |f: f32| signs.recall_at(all, factor(f)));
        // On this set (every list probed): 1.5 candidates a neighbour rescored find 0.99 or
        // more with 4-bit codes, what signs need 4 to 8 for.
        assert!(
            nibble_at(1.5) >= sign_at(4.0) && nibble_at(2.0) >= sign_at(8.0),
            "{metric:?}: 4-bit {} {}, signs {} {}",
            nibble_at(1.5),
            nibble_at(2.0),
            sign_at(4.0),
            sign_at(8.0)
        );
        assert!(nibbles.recall_at(all, factor(1.0)) > signs.recall_at(all, factor(1.0)), "{metric:?}");
    }
}

/// Measuring the queries one after another (a build reading shared buffers) or spread over
/// threads (its pages copied into memory) gives the same curve; a failing check between
/// slices stops it.
#[test]
fn serial_and_parallel_calibrations_agree() {
    let k = kernels::active();
    let (rows, index) = clustered_index(3000, 16, 25, 9, Metric::Cosine, 40);
    let query_rows: Vec<usize> = (0..100).map(|i| i * 29).collect();
    let truths = index.truths(k, &rows, &query_rows).unwrap();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    let mut checks = 0;
    let parallel = calibrate_parallel(&pool, &index, &truths, &mut || {
        checks += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(calibrate(&index, &truths), parallel);
    assert_eq!(checks, 100usize.div_ceil(PARALLEL_SLICE));
    let canceled = calibrate_parallel(&pool, &index, &truths, &mut || Err(crate::Error::new(crate::ErrorKind::InvalidParameter, "canceled")));
    assert!(canceled.is_err());
}

/// A row used as a query is neither its own neighbour nor its own candidate.
#[test]
fn a_query_row_is_left_out_of_its_own_search() {
    let k = kernels::active();
    let (rows, index) = clustered_index(2000, 16, 20, 8, Metric::L2, 20);
    let calibration = index.calibrate(k, &rows, &[3, 500, 1999]).unwrap();
    // Held in: with every list probed and everything rescored, the other ten are found.
    let (p_last, r_last) = (calibration.probes.len() - 1, calibration.rescore_factors.len() - 1);
    assert_eq!(calibration.probes[p_last], 20);
    assert_eq!(calibration.recall_at(p_last, r_last), 1.0);
}

fn sample_calibration() -> Calibration {
    // Two probe counts, three factors: recall rises with both.
    Calibration {
        // So many that the margin for sampling vanishes (see `margins_follow_the_sample`).
        queries: 1_000_000_000,
        probes: vec![10, 20],
        codes: vec![3000.0, 4000.0],
        rescore_factors: vec![1.0, 2.0, 4.0],
        recall: vec![0.80, 0.90, 0.93, 0.85, 0.96, 0.99].into_iter().map(stored_recall).collect(),
        rows: 40_000,
        code_cost: 1.0,
    }
}

#[test]
fn targets_choose_the_cheapest_setting_that_reaches_them() {
    let c = sample_calibration();
    let choice = |target, p, r| c.choose(target, p, r).map(|ch| (ch.probes, ch.rescore_factor));
    // cost: codes + 150·⌈10r⌉ + 40·probes
    assert_eq!(choice(0.85, None, None), Some((20, 1.0)), "4000+1500+800 beats 3000+3000+400");
    assert_eq!(choice(0.90, None, None), Some((10, 2.0)));
    assert_eq!(choice(0.95, None, None), Some((20, 2.0)));
    assert_eq!(choice(0.999, None, None), Some((20, 4.0)), "none reaches it: the highest recall");
    assert_eq!(choice(0.0, None, None), Some((10, 1.0)));
    // A probe count the user set: the factor is read at the grid's row at or below it.
    assert_eq!(choice(0.95, Some(15), None), Some((15, 4.0)));
    assert_eq!(choice(0.95, Some(50), None), Some((50, 2.0)));
    assert_eq!(choice(0.95, Some(3), None), Some((3, 4.0)));
    // A rescore factor the user set.
    assert_eq!(choice(0.88, None, Some(3.0)), Some((10, 3.0)));
    assert_eq!(choice(0.95, None, Some(3.0)), Some((20, 3.0)));
    assert_eq!(choice(0.95, Some(7), Some(5.0)), Some((7, 5.0)));
    let reported = c.choose(0.95, None, None).unwrap().recall;
    assert!((reported - 0.96).abs() < 1e-4, "{reported}");
    let empty = Calibration::from_bytes(&[]).unwrap();
    assert!(empty.is_empty() && empty.choose(0.95, None, None).is_none());
    // The frontier: cheapest first, each better than all cheaper ones.
    let curve = c.frontier();
    assert!(curve.windows(2).all(|w| w[0].cost < w[1].cost && w[0].recall < w[1].recall), "{curve:?}");
    assert_eq!(curve.len(), 5, "{curve:?}");
    assert_eq!((curve[0].probes, curve[0].rescore_factor, curve[0].codes_scored, curve[0].cost), (10, 1.0, 3000.0, 4900.0));
    assert!((curve.last().unwrap().recall - 0.99).abs() < 1e-4);
}

/// With 200 queries a setting must reach the target by √(r(1 − r)/200) more.
#[test]
fn margins_follow_the_sample() {
    let c = Calibration { queries: 200, ..sample_calibration() };
    let choice = |target| c.choose(target, None, None).map(|ch| (ch.probes, ch.rescore_factor));
    assert_eq!(choice(0.85), Some((10, 2.0)), "0.85 itself no longer counts as reaching 0.85");
    assert_eq!(choice(0.94), Some((20, 2.0)), "0.96 less 0.014");
    assert_eq!(choice(0.95), Some((20, 4.0)));
    assert!((c.assured(0.9) - (0.9 - (0.09f64 / 200.0).sqrt())).abs() < 1e-12);
    assert_eq!(c.assured(1.0), 1.0);
    assert_eq!(Calibration { queries: 0, ..sample_calibration() }.assured(0.5), 0.5);
}

#[test]
fn calibrations_round_trip_and_damage_is_refused() {
    let c = sample_calibration();
    let bytes = c.to_bytes();
    assert_eq!(Calibration::from_bytes(&bytes).unwrap(), c);
    for len in [1, HEADER - 1, HEADER, bytes.len() - 1, bytes.len() + 1] {
        let mut b = bytes.clone();
        b.resize(len, 0);
        assert!(Calibration::from_bytes(&b).unwrap_err().message.contains("REINDEX"), "{len} bytes");
    }
    let mut wrong_tag = bytes.clone();
    wrong_tag[0] ^= 1;
    assert!(Calibration::from_bytes(&wrong_tag).is_err());
    let mut zero_probes = bytes.clone();
    zero_probes[HEADER..HEADER + 4].copy_from_slice(&0u32.to_ne_bytes());
    assert!(Calibration::from_bytes(&zero_probes).is_err());
    let mut nan_codes = bytes.clone();
    nan_codes[HEADER + 8..HEADER + 12].copy_from_slice(&f32::NAN.to_ne_bytes());
    assert!(Calibration::from_bytes(&nan_codes).is_err());
    // As builds before the row count wrote it: read with no rows.
    let mut without_rows = TAG_WITHOUT_ROWS.to_ne_bytes().to_vec();
    without_rows.extend_from_slice(&bytes[4..12]);
    without_rows.extend_from_slice(&bytes[HEADER..]);
    assert_eq!(without_rows.len(), bytes.len() - (HEADER - HEADER_WITHOUT_ROWS));
    assert_eq!(Calibration::from_bytes(&without_rows).unwrap(), Calibration { rows: 0, ..c });
    without_rows.pop();
    assert!(Calibration::from_bytes(&without_rows).is_err());
}

#[test]
fn probe_grids_are_fine_and_bounded() {
    assert_eq!(probe_grid(1), vec![1]);
    assert_eq!(probe_grid(5), vec![1, 2, 3, 4, 5]);
    let grid = probe_grid(632);
    assert_eq!(*grid.last().unwrap(), 604, "24·√632");
    assert!(grid.windows(2).all(|w| w[0] < w[1] && f64::from(w[1]) <= (f64::from(w[0]) * 1.125).ceil().max(f64::from(w[0]) + 1.0)));
    assert_eq!(*probe_grid(100).last().unwrap(), 100);
    assert!(probe_grid(1_000_000).len() < 100);
}
