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
