use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::error::ErrorKind;
use crate::floats::Query;
use crate::kernels::{self, Isa};

fn random_floats(rng: &mut SmallRng, n: usize, spread: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-spread..spread)).collect()
}

fn scalar() -> &'static Kernels {
    kernels::table(Isa::Scalar).unwrap()
}

#[test]
fn minmax_uses_the_whole_code_range() {
    let values = [-0.5f32, 0.25, 1.5, 0.0];
    let v = Int8Vector::quantize_minmax(&values).unwrap();
    assert_eq!(v.codes[0], -128);
    assert_eq!(v.codes[2], 127);
    for (f, g) in values.iter().zip(v.dequantize()) {
        assert!((f - g).abs() <= v.params.scale / 2.0 + 1e-7, "{f} vs {g}");
    }
}

#[test]
fn ranges_away_from_zero_keep_zero_representable() {
    // All-positive values: the range is widened to [0, max] so the zero-point fits.
    let v = Int8Vector::quantize_minmax(&[10.0, 11.0]).unwrap();
    assert_eq!(v.params.zero_point, -128);
    assert_eq!(v.codes[1], 127);
    let v = Int8Vector::quantize_minmax(&[0.0, 0.0]).unwrap();
    assert_eq!((v.params.scale, v.codes.clone()), (1.0, vec![0, 0]));
    let v = Int8Vector::quantize_minmax(&[-3.0, -3.0]).unwrap();
    assert_eq!(v.codes, vec![-128, -128]);
}

#[test]
fn absmax_is_symmetric() {
    let v = Int8Vector::quantize_absmax(&[-2.0, 1.0, 0.0]).unwrap();
    assert_eq!(v.params.zero_point, 0);
    assert_eq!(v.codes, vec![-127, 64, 0]);
}

#[test]
fn clipping_ignores_outliers() {
    let mut values: Vec<f32> = (0..100).map(|i| i as f32 / 100.0).collect();
    values.push(100.0);
    let clipped = Int8Vector::quantize_clipped(&values, 0.0, 0.99).unwrap();
    let plain = Int8Vector::quantize_minmax(&values).unwrap();
    assert!(clipped.params.scale < plain.params.scale / 50.0);
    assert_eq!(*clipped.codes.last().unwrap(), 127);
    assert_eq!(Int8Vector::quantize_clipped(&values, 0.5, 0.4).unwrap_err().kind, ErrorKind::InvalidParameter);
}

#[test]
fn rounding_is_to_nearest_not_truncation() {
    let p = Params::new(1.0, 0).unwrap();
    assert_eq!(p.quantize(2.6), 3);
    assert_eq!(p.quantize(-2.6), -3);
    assert_eq!(p.quantize(1000.0), 127);
    assert_eq!(p.quantize(-1000.0), -128);
}

#[test]
fn bad_floats_are_rejected() {
    assert_eq!(Int8Vector::quantize_minmax(&[1.0, f32::NAN]).unwrap_err().kind, ErrorKind::DataException);
    assert_eq!(Int8Vector::quantize_minmax(&[f32::NEG_INFINITY]).unwrap_err().kind, ErrorKind::DataException);
    assert_eq!(Int8Vector::quantize_minmax(&[]).unwrap_err().kind, ErrorKind::DataException);
    assert_eq!(Int8Vector::quantize_minmax(&vec![0.0; MAX_DIMS + 1]).unwrap_err().kind, ErrorKind::TooLarge);
    assert!(Int8Vector::quantize_minmax(&vec![0.0; MAX_DIMS]).is_ok());
}

#[test]
fn params_and_codes_are_validated() {
    assert!(Params::new(0.0, 0).is_err());
    assert!(Params::new(-1.0, 0).is_err());
    assert!(Params::new(f32::NAN, 0).is_err());
    assert!(Params::new(f32::INFINITY, 0).is_err());
    assert_eq!(Params::new(1.0, 128).unwrap_err().kind, ErrorKind::OutOfRange);
    let p = Params::new(1.0, -128).unwrap();
    assert_eq!(Int8Vector::from_codes(&[1, 128], p).unwrap_err().kind, ErrorKind::OutOfRange);
    assert_eq!(Int8Vector::from_codes(&[-128, 127], p).unwrap().codes, vec![-128, 127]);
}

#[test]
fn text_round_trip_is_exact() {
    let mut rng = SmallRng::seed_from_u64(3);
    let mut samples = vec![
        Int8Vector::new(Params::new(f32::MIN_POSITIVE, -128).unwrap(), vec![-128, 127]).unwrap(),
        Int8Vector::new(Params::new(1e-45, 5).unwrap(), vec![0]).unwrap(),
        Int8Vector::new(Params::new(f32::MAX, 127).unwrap(), vec![1; 3]).unwrap(),
    ];
    for n in [1, 2, 7, 384, MAX_DIMS] {
        let spread = rng.random_range(1e-6..1e6);
        samples.push(Int8Vector::quantize_minmax(&random_floats(&mut rng, n, spread)).unwrap());
    }
    for v in samples {
        let text = v.view().to_text();
        let back = Int8Vector::parse(&text).unwrap();
        assert_eq!(back.encode(), v.encode(), "{text}");
    }
}

#[test]
fn text_accepts_spaces_and_rejects_malformed_literals() {
    let v = Int8Vector::parse(" ( 0.5 , -3 ) [ 1, -2 ,3 ] ").unwrap();
    assert_eq!((v.params.scale, v.params.zero_point, v.codes.clone()), (0.5, -3, vec![1, -2, 3]));
    assert_eq!(v.view().to_text(), "(0.5,-3)[1,-2,3]");
    for bad in ["", "[1,x]", "{1,2", "(0.5)[1]", "(0.5,0)", "(0.5,0)[1,2", "(0.5,0)[1,,2]", "(x,0)[1]", "(0.5,0.5)[1]", "(0.5,0)[1]x", "(0.5,0)[1.5]"] {
        assert_eq!(Int8Vector::parse(bad).unwrap_err().kind, ErrorKind::InvalidText, "{bad:?}");
    }
    assert_eq!(Int8Vector::parse("(0.5,0)[]").unwrap_err().kind, ErrorKind::DataException);
    // Float lists quantize like a cast from real[].
    let floats = [0.1f32, -0.2, 0.3];
    let quantized = Int8Vector::quantize_minmax(&floats).unwrap();
    assert_eq!(Int8Vector::parse("[0.1, -0.2, 0.3]").unwrap(), quantized);
    assert_eq!(Int8Vector::parse("{0.1,-0.2,0.3}").unwrap(), quantized);
    assert_eq!(Int8Vector::parse("[]").unwrap_err().kind, ErrorKind::DataException);
    assert_eq!(Int8Vector::parse("[1,NaN]").unwrap_err().kind, ErrorKind::DataException);
    assert_eq!(Int8Vector::parse("(NaN,0)[1]").unwrap_err().kind, ErrorKind::DataException);
    assert_eq!(Int8Vector::parse("(0,0)[1]").unwrap_err().kind, ErrorKind::DataException);
    assert_eq!(Int8Vector::parse("(1,0)[200]").unwrap_err().kind, ErrorKind::OutOfRange);
    assert_eq!(Int8Vector::parse("(1,-129)[1]").unwrap_err().kind, ErrorKind::OutOfRange);
    let long = format!("(1,0)[{}]", vec!["0"; MAX_DIMS + 1].join(","));
    assert_eq!(Int8Vector::parse(&long).unwrap_err().kind, ErrorKind::TooLarge);
}

#[test]
fn wire_round_trip_is_exact_and_corruption_is_rejected() {
    let mut rng = SmallRng::seed_from_u64(4);
    let v = Int8Vector::quantize_minmax(&random_floats(&mut rng, 384, 1.0)).unwrap();
    let wire = v.view().to_wire();
    assert_eq!(wire.len(), 8 + 384);
    assert_eq!(Int8Vector::from_wire(&wire).unwrap().encode(), v.encode());

    let mut cases: Vec<Vec<u8>> = vec![vec![], wire[..7].to_vec(), wire[..wire.len() - 1].to_vec()];
    let mut longer = wire.clone();
    longer.push(0);
    cases.push(longer);
    let mut patched = |at: usize, bytes: &[u8]| {
        let mut w = wire.clone();
        w[at..at + bytes.len()].copy_from_slice(bytes);
        cases.push(w);
    };
    patched(0, &0u16.to_be_bytes()); // zero dimensions
    patched(0, &(MAX_DIMS as u16 + 1).to_be_bytes());
    patched(3, &[1]); // reserved byte
    patched(4, &f32::NAN.to_be_bytes());
    patched(4, &f32::INFINITY.to_be_bytes());
    patched(4, &(-1.0f32).to_be_bytes());
    patched(4, &0.0f32.to_be_bytes());
    for (i, bad) in cases.iter().enumerate() {
        assert_eq!(Int8Vector::from_wire(bad).unwrap_err().kind, ErrorKind::InvalidBinary, "case {i}");
    }
}

#[test]
fn stored_payload_is_compact_and_validated() {
    let v = Int8Vector::quantize_minmax(&[0.1; 384]).unwrap();
    let payload = v.encode();
    assert_eq!(payload.len(), 384 + 16);
    let r = Int8Ref::decode(&payload).unwrap();
    assert_eq!(r.to_owned(), v);
    assert!(Int8Ref::decode(&payload[..15]).is_err());
    assert!(Int8Ref::decode(&payload[..399]).is_err());
    let mut bad = payload.clone();
    bad[3] = 7;
    assert!(Int8Ref::decode(&bad).is_err());
}

/// Distances on codes against the same distances on the dequantized floats in f64.
#[test]
fn distances_match_dequantized_floats() {
    let mut rng = SmallRng::seed_from_u64(5);
    for n in [1, 3, 64, 384, 1000] {
        for same_params in [false, true] {
            let a = Int8Vector::quantize_minmax(&random_floats(&mut rng, n, 1.0)).unwrap();
            let mut b = Int8Vector::quantize_minmax(&random_floats(&mut rng, n, 3.0)).unwrap();
            if same_params {
                b = Int8Vector::quantize_with(&b.dequantize(), a.params).unwrap();
            }
            let (fa, fb): (Vec<f64>, Vec<f64>) =
                (a.dequantize().iter().map(|&v| f64::from(v)).collect(), b.dequantize().iter().map(|&v| f64::from(v)).collect());
            let dot: f64 = fa.iter().zip(&fb).map(|(x, y)| x * y).sum();
            let l2: f64 = fa.iter().zip(&fb).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
            let l1: f64 = fa.iter().zip(&fb).map(|(x, y)| (x - y).abs()).sum();
            let na = fa.iter().map(|x| x * x).sum::<f64>().sqrt();
            let nb = fb.iter().map(|x| x * x).sum::<f64>().sqrt();
            let k = kernels::active();
            let (ra, rb) = (a.view(), b.view());
            let close = |got: f64, want: f64, what: &str| {
                assert!((got - want).abs() <= 1e-5 * (1.0 + want.abs()), "{what} n={n} same={same_params}: {got} vs {want}");
            };
            close(inner_product(k, &ra, &rb).unwrap(), dot, "ip");
            close(l2_distance(k, &ra, &rb).unwrap(), l2, "l2");
            close(l1_distance(k, &ra, &rb).unwrap(), l1, "l1");
            close(cosine_distance(k, &ra, &rb).unwrap(), 1.0 - dot / (na * nb), "cosine");
            close(ra.norm(), na, "norm");
            for k in Isa::ALL.into_iter().filter_map(kernels::table) {
                assert_eq!(inner_product(k, &ra, &rb).unwrap(), inner_product(scalar(), &ra, &rb).unwrap());
                assert_eq!(l2_distance(k, &ra, &rb).unwrap(), l2_distance(scalar(), &ra, &rb).unwrap());
            }
        }
    }
}

#[test]
fn shared_parameters_give_exact_integer_l2() {
    let p = Params::new(0.25, 3).unwrap();
    let a = Int8Vector::new(p, vec![-128, 127, 0]).unwrap();
    let b = Int8Vector::new(p, vec![127, -128, 1]).unwrap();
    let exact = 0.25f64 * 0.25 * (255.0 * 255.0 * 2.0 + 1.0);
    assert_eq!(l2_distance_sq(kernels::active(), &a.view(), &b.view()).unwrap(), exact);
    assert_eq!(l2_distance(kernels::active(), &a.view(), &a.view()).unwrap(), 0.0);
}

#[test]
fn asymmetric_distances_match_dequantized_floats() {
    let mut rng = SmallRng::seed_from_u64(6);
    for n in [1, 17, 384, 1536] {
        let a = Int8Vector::quantize_minmax(&random_floats(&mut rng, n, 1.0)).unwrap();
        let x = random_floats(&mut rng, n, 2.0);
        let fa: Vec<f64> = a.dequantize().iter().map(|&v| f64::from(v)).collect();
        let fx: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let dot: f64 = fa.iter().zip(&fx).map(|(p, q)| p * q).sum();
        let l2: f64 = fa.iter().zip(&fx).map(|(p, q)| (p - q).powi(2)).sum::<f64>().sqrt();
        let cos = 1.0 - dot / (fa.iter().map(|v| v * v).sum::<f64>().sqrt() * fx.iter().map(|v| v * v).sum::<f64>().sqrt());
        let k = kernels::active();
        let r = a.view();
        let x = Query::new(&x).unwrap();
        assert!((inner_product_f32(k, &r, &x).unwrap() - dot).abs() < 1e-4 * (1.0 + dot.abs()));
        assert!((l2_distance_f32(k, &r, &x).unwrap() - l2).abs() < 1e-4 * (1.0 + l2));
        assert!((cosine_distance_f32(k, &r, &x).unwrap() - cos).abs() < 1e-4);
    }
}

#[test]
fn dimension_mismatch_and_zero_vectors() {
    let k = kernels::active();
    let a = Int8Vector::quantize_minmax(&[1.0, 2.0]).unwrap();
    let b = Int8Vector::quantize_minmax(&[1.0, 2.0, 3.0]).unwrap();
    let err = l2_distance(k, &a.view(), &b.view()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::DataException);
    assert!(err.message.contains("different int8vec dimensions 2 and 3"), "{}", err.message);
    assert!(inner_product_f32(k, &a.view(), &Query::new(&[1.0]).unwrap()).is_err());
    assert!(Query::new(&[1.0, f32::NAN]).is_err());
    let zero = Int8Vector::quantize_minmax(&[0.0, 0.0]).unwrap();
    assert!(cosine_distance(k, &zero.view(), &a.view()).unwrap().is_nan());
    assert!(cosine_distance_f32(k, &a.view(), &Query::new(&[0.0, 0.0]).unwrap()).unwrap().is_nan());
}

/// The scalar table and every SIMD one this CPU has.
fn every_table() -> Vec<&'static Kernels> {
    Isa::ALL
        .into_iter()
        .filter_map(|isa| {
            let table = kernels::table(isa);
            if table.is_none() {
                eprintln!("skipped: this CPU lacks {}", isa.name());
            }
            table
        })
        .collect()
}

/// The asymmetric distances in f64 from the exact dequantized values, with the magnitudes
/// that bound the rounding of an f32 sum of products (which may cancel).
struct Reference {
    l2: f64,
    l2_magnitude: f64,
    dot: f64,
    dot_magnitude: f64,
    cosine: f64,
    cosine_magnitude: f64,
}

fn reference(a: &Int8Vector, x: &[f32]) -> Reference {
    let (s, z) = (f64::from(a.params.scale), f64::from(a.params.zero_point));
    let fa: Vec<f64> = a.codes.iter().map(|&c| s * (f64::from(c) - z)).collect();
    let fx: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let dot: f64 = fa.iter().zip(&fx).map(|(p, q)| p * q).sum();
    let dot_magnitude: f64 = a.codes.iter().zip(&fx).map(|(&c, q)| s * q.abs() * (f64::from(c).abs() + z.abs())).sum();
    let l2 = fa.iter().zip(&fx).map(|(p, q)| (p - q).powi(2)).sum::<f64>().sqrt();
    // f32 rounds each difference relative to the values it is taken between.
    let l2_magnitude = a.codes.iter().zip(&fx).map(|(&c, q)| (q.abs() + s * (f64::from(c).abs() + z.abs())).powi(2)).sum::<f64>().sqrt();
    let norms = fa.iter().map(|v| v * v).sum::<f64>().sqrt() * fx.iter().map(|v| v * v).sum::<f64>().sqrt();
    Reference { l2, l2_magnitude, dot, dot_magnitude, cosine: 1.0 - dot / norms, cosine_magnitude: dot_magnitude / norms }
}

/// Checks every asymmetric distance of `a` and `x` on every table against the reference:
/// finite, and within f32 rounding (relative to the terms for sums that may cancel).
fn assert_asymmetric_accurate(a: &Int8Vector, x: &[f32], what: &str) {
    let want = reference(a, x);
    let query = Query::new(x).unwrap();
    for k in every_table() {
        let isa = k.isa.name();
        let l2 = l2_distance_f32(k, &a.view(), &query).unwrap();
        let tolerance = 1e-4 * want.l2 + 1e-6 * want.l2_magnitude;
        assert!(l2.is_finite() && (l2 - want.l2).abs() <= tolerance, "l2 on {isa}, {what}: {l2} vs {}", want.l2);
        let dot = inner_product_f32(k, &a.view(), &query).unwrap();
        assert!(dot.is_finite() && (dot - want.dot).abs() <= 1e-4 * want.dot_magnitude, "ip on {isa}, {what}: {dot} vs {}", want.dot);
        let cosine = cosine_distance_f32(k, &a.view(), &query).unwrap();
        if want.cosine.is_finite() {
            let tolerance = 1e-4 * want.cosine_magnitude + 1e-12;
            assert!((cosine - want.cosine.clamp(0.0, 2.0)).abs() <= tolerance, "cosine on {isa}, {what}: {cosine} vs {}", want.cosine);
        }
    }
}

/// The example: `'(1,0)[0]'::int8vec <-> '{1e20}'::real[]` was Infinity (the f32
/// square overflows); it is 1e20 as an f32, exactly.
#[test]
fn a_huge_query_gives_a_finite_l2() {
    let a = Int8Vector::parse("(1,0)[0]").unwrap();
    let query = Query::new(&[1e20]).unwrap();
    for k in every_table() {
        let l2 = l2_distance_f32(k, &a.view(), &query).unwrap();
        assert_eq!(l2, f64::from(1e20f32), "on {}", k.isa.name());
        assert!((l2 - 1e20).abs() <= 1e20 * f64::from(f32::EPSILON));
        assert_eq!(inner_product_f32(k, &a.view(), &query).unwrap(), 0.0);
    }
    let a = Int8Vector::parse("(1,0)[1,-1]").unwrap();
    let query = Query::new(&[3e38, -3e38]).unwrap();
    for k in every_table() {
        let l2 = l2_distance_f32(k, &a.view(), &query).unwrap();
        let want = 2f64.sqrt() * (f64::from(3e38f32) - 1.0);
        assert!((l2 - want).abs() <= 1e-15 * want, "on {}: {l2} vs {want}", k.isa.name());
        assert_eq!(inner_product_f32(k, &a.view(), &query).unwrap(), 2.0 * f64::from(3e38f32));
        assert_eq!(cosine_distance_f32(k, &a.view(), &query).unwrap(), 0.0);
    }
}

/// Squares of differences below about 1e-19 underflow in f32: an L2 of 1e-30 came out 0.
#[test]
fn a_tiny_distance_is_not_lost_to_underflow() {
    // Dequantized [1e-30, 0]: the difference is 1e-30 in the second dimension only.
    let a = Int8Vector::parse("(1e-30,0)[1,0]").unwrap();
    let x = [1e-30f32, 1e-30];
    let want = f64::from(1e-30f32);
    // A difference that exists only in the second dimension, next to an exact first one.
    let b = Int8Vector::parse("(1,0)[1,0]").unwrap();
    for k in every_table() {
        let l2 = l2_distance_f32(k, &a.view(), &Query::new(&x).unwrap()).unwrap();
        assert!((l2 - want).abs() <= 1e-12 * want, "on {}: {l2} vs {want}", k.isa.name());
        let l2 = l2_distance_f32(k, &b.view(), &Query::new(&[1.0, 1e-30]).unwrap()).unwrap();
        assert_eq!(l2, f64::from(1e-30f32), "on {}", k.isa.name());
        assert_eq!(l2_distance_f32(k, &b.view(), &Query::new(&[1.0, 0.0]).unwrap()).unwrap(), 0.0);
    }
}

/// Random vectors with scales and queries from 1e-30 to f32::MAX, up to the largest
/// dimension count: every asymmetric distance is finite and accurate on every table.
#[test]
fn asymmetric_distances_are_finite_and_accurate_at_every_magnitude() {
    let mut rng = SmallRng::seed_from_u64(7);
    let magnitudes = [1e-30f32, 1e-3, 1.0, 1e18, 1e20, 1e30, f32::MAX / 255.0, f32::MAX];
    for n in [1, 17, 384, MAX_DIMS] {
        for &scale_magnitude in &magnitudes {
            for &query_magnitude in &magnitudes {
                let scale = scale_magnitude * rng.random_range(0.5f32..1.0);
                let params = Params::new(scale, i64::from(rng.random::<i8>())).unwrap();
                let a = Int8Vector::new(params, (0..n).map(|_| rng.random::<i8>()).collect()).unwrap();
                let x: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0) * query_magnitude).collect();
                assert_asymmetric_accurate(&a, &x, &format!("n = {n}, scale {scale:e}, query {query_magnitude:e}"));
                // The query the dequantized vector itself, slightly moved: small differences
                // between large values.
                let near: Vec<f32> =
                    a.codes.iter().map(|&c| f64::from(scale) * (f64::from(c) - f64::from(params.zero_point)) * 1.001).map(|v| v as f32).collect();
                if near.iter().all(|v| v.is_finite()) {
                    assert_asymmetric_accurate(&a, &near, &format!("n = {n}, scale {scale:e}, near query"));
                }
            }
        }
    }
}

/// Two stored vectors: scale² times exact integer sums is finite in f64 for any finite
/// scales, and L1 with different parameters (summed in f32) no longer overflows.
#[test]
fn symmetric_distances_are_finite_at_extreme_scales() {
    let mut rng = SmallRng::seed_from_u64(8);
    let scales = [1e-45f32, f32::MIN_POSITIVE, 1e-30, 1.0, 1e20, f32::MAX / 255.0, f32::MAX];
    for n in [1, 33, MAX_DIMS] {
        for &sa in &scales {
            for &sb in &scales {
                let a = Int8Vector::new(Params::new(sa, i64::from(rng.random::<i8>())).unwrap(), (0..n).map(|_| rng.random::<i8>()).collect()).unwrap();
                let b = Int8Vector::new(Params::new(sb, i64::from(rng.random::<i8>())).unwrap(), (0..n).map(|_| rng.random::<i8>()).collect()).unwrap();
                let exact = |v: &Int8Vector| -> Vec<f64> {
                    v.codes.iter().map(|&c| f64::from(v.params.scale) * (f64::from(c) - f64::from(v.params.zero_point))).collect()
                };
                let (fa, fb) = (exact(&a), exact(&b));
                let l1: f64 = fa.iter().zip(&fb).map(|(p, q)| (p - q).abs()).sum();
                let l2 = fa.iter().zip(&fb).map(|(p, q)| (p - q).powi(2)).sum::<f64>().sqrt();
                let dot: f64 = fa.iter().zip(&fb).map(|(p, q)| p * q).sum();
                let (na, nb) = (fa.iter().map(|v| v * v).sum::<f64>().sqrt(), fb.iter().map(|v| v * v).sum::<f64>().sqrt());
                let what = format!("n = {n}, scales {sa:e} and {sb:e}");
                for k in every_table() {
                    let (ra, rb) = (a.view(), b.view());
                    let got = l1_distance(k, &ra, &rb).unwrap();
                    assert!(got.is_finite() && (got - l1).abs() <= 1e-4 * l1, "l1 on {}, {what}: {got} vs {l1}", k.isa.name());
                    // Differences of exact terms: error relative to ‖a‖² + ‖b‖².
                    let got = l2_distance_sq(k, &ra, &rb).unwrap();
                    assert!(got.is_finite() && (got - l2 * l2).abs() <= 1e-12 * (na * na + nb * nb), "l2 on {}, {what}: {got} vs {}", k.isa.name(), l2 * l2);
                    let got = inner_product(k, &ra, &rb).unwrap();
                    assert!(got.is_finite() && (got - dot).abs() <= 1e-12 * na * nb, "ip on {}, {what}: {got} vs {dot}", k.isa.name());
                    let got = cosine_distance(k, &ra, &rb).unwrap();
                    if na * nb > 0.0 {
                        assert!((got - (1.0 - dot / (na * nb)).clamp(0.0, 2.0)).abs() <= 1e-12, "cosine on {}, {what}", k.isa.name());
                    }
                }
            }
        }
    }
}

/// Found by tests/fuzz.rs: a payload of more than MAX_DIMS codes decoded, and its binary
/// form was then refused by receive (a dump that does not restore).
#[test]
fn stored_values_beyond_the_dimension_limit_are_corrupt() {
    let payload = |dims: usize| {
        let mut p = vec![0u8; HEADER_LEN + dims];
        p[..2].copy_from_slice(&(dims as u16).to_ne_bytes());
        p[4..8].copy_from_slice(&1.0f32.to_ne_bytes());
        p
    };
    assert!(Int8Ref::decode(&payload(MAX_DIMS)).is_ok());
    for dims in [MAX_DIMS + 1, usize::from(u16::MAX)] {
        assert_eq!(Int8Ref::decode(&payload(dims)).unwrap_err().kind, ErrorKind::InvalidBinary, "{dims}");
    }
}

/// The index's Σ(q − z)² from bare codes equals the one from a stored value's cached sums,
/// on every table, with and without a zero-point, and past the length of its ones.
#[test]
fn centered_norms_from_codes_match_cached_sums() {
    let mut rng = SmallRng::seed_from_u64(9);
    for n in [1, 31, 384, MAX_DIMS, MAX_DIMS + 5] {
        for zero_point in [0i8, -128, 127, rng.random()] {
            let codes: Vec<i8> = (0..n).map(|_| rng.random()).collect();
            let (sum, sum_sq) = (codes.iter().map(|&c| i64::from(c)).sum(), codes.iter().map(|&c| i64::from(c).pow(2)).sum());
            let want = centered_norm_sq(n, zero_point, sum, sum_sq);
            assert_eq!(want, codes.iter().map(|&c| (i64::from(c) - i64::from(zero_point)).pow(2)).sum::<i64>());
            for k in every_table() {
                assert_eq!(codes_centered_norm_sq(k, &codes, zero_point), want, "{} at n = {n}, z = {zero_point}", k.isa.name());
            }
            if n <= MAX_DIMS {
                let v = Int8Vector::new(Params::new(0.5, i64::from(zero_point)).unwrap(), codes).unwrap();
                assert_eq!(v.view().centered_norm_sq(), want);
            }
        }
    }
}
