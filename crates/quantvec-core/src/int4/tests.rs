use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::error::ErrorKind;
use crate::floats::Query;
use crate::kernels::{self, Isa};

fn random_floats(rng: &mut SmallRng, n: usize, spread: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-spread..spread)).collect()
}

/// Every kernel table this CPU runs, so that each distance is checked on each.
fn tables() -> Vec<&'static Kernels> {
    Isa::ALL.into_iter().filter_map(kernels::table).collect()
}

#[test]
fn minmax_uses_the_whole_code_range() {
    let values = [-0.5f32, 0.25, 1.0, 0.0];
    let v = Int4Vector::quantize_minmax(&values).unwrap();
    assert_eq!((v.codes[0], v.codes[2]), (0, 15));
    assert_eq!(v.params.zero_point, 5);
    for (f, g) in values.iter().zip(v.dequantize()) {
        assert!((f - g).abs() <= v.params.scale / 2.0 + 1e-7, "{f} vs {g}");
    }
    // All-positive values: the range is widened to [0, max] so that 0 is a code.
    let v = Int4Vector::quantize_minmax(&[10.0, 11.0]).unwrap();
    assert_eq!((v.params.zero_point, v.codes[1]), (0, 15));
    let v = Int4Vector::quantize_minmax(&[-3.0, -3.0]).unwrap();
    assert_eq!((v.params.zero_point, v.codes.clone()), (15, vec![0, 0]));
    let v = Int4Vector::quantize_minmax(&[0.0, 0.0]).unwrap();
    assert_eq!((v.params.scale, v.codes.clone()), (1.0, vec![0, 0]));
}

#[test]
fn absmax_is_symmetric_and_clipping_ignores_outliers() {
    let v = Int4Vector::quantize_absmax(&[-2.0, 0.5, 0.0, 2.0]).unwrap();
    assert_eq!((v.params.zero_point, v.codes.clone()), (8, vec![1, 10, 8, 15]));
    let mut values: Vec<f32> = (0..100).map(|i| i as f32 / 100.0).collect();
    values.push(100.0);
    let clipped = Int4Vector::quantize_clipped(&values, 0.0, 0.99).unwrap();
    assert!(clipped.params.scale < Int4Vector::quantize_minmax(&values).unwrap().params.scale / 50.0);
    assert_eq!(*clipped.codes.last().unwrap(), 15);
    assert_eq!(Int4Vector::quantize_clipped(&values, 0.5, 0.4).unwrap_err().kind, ErrorKind::InvalidParameter);
    let p = Params::new(1.0, 8).unwrap();
    assert_eq!((p.quantize(2.6), p.quantize(-2.6), p.quantize(1e9), p.quantize(-1e9)), (11, 5, 15, 0));
}

#[test]
fn bad_input_is_rejected() {
    assert_eq!(Int4Vector::quantize_minmax(&[1.0, f32::NAN]).unwrap_err().kind, ErrorKind::DataException);
    assert_eq!(Int4Vector::quantize_minmax(&[f32::INFINITY]).unwrap_err().kind, ErrorKind::DataException);
    assert_eq!(Int4Vector::quantize_minmax(&[]).unwrap_err().kind, ErrorKind::DataException);
    assert_eq!(Int4Vector::quantize_minmax(&vec![0.0; MAX_DIMS + 1]).unwrap_err().kind, ErrorKind::TooLarge);
    assert!(Int4Vector::quantize_minmax(&vec![0.0; MAX_DIMS]).is_ok());
    for bad_scale in [0.0, -1.0, f32::NAN, f32::INFINITY] {
        assert_eq!(Params::new(bad_scale, 0).unwrap_err().kind, ErrorKind::DataException);
    }
    assert_eq!(Params::new(1.0, 16).unwrap_err().kind, ErrorKind::OutOfRange);
    assert_eq!(Params::new(1.0, -1).unwrap_err().kind, ErrorKind::OutOfRange);
    let p = Params::new(1.0, 15).unwrap();
    assert_eq!(Int4Vector::from_codes(&[1, 16], p).unwrap_err().kind, ErrorKind::OutOfRange);
    assert_eq!(Int4Vector::from_codes(&[-1], p).unwrap_err().kind, ErrorKind::OutOfRange);
    assert_eq!(Int4Vector::from_codes(&[0, 15], p).unwrap().codes, vec![0, 15]);
}

fn samples(rng: &mut SmallRng) -> Vec<Int4Vector> {
    let mut samples = vec![
        Int4Vector::from_codes(&[0, 15, 7], Params::new(f32::MIN_POSITIVE, 15).unwrap()).unwrap(),
        Int4Vector::from_codes(&[0], Params::new(1e-45, 5).unwrap()).unwrap(),
        Int4Vector::from_codes(&[15; 4], Params::new(f32::MAX, 0).unwrap()).unwrap(),
    ];
    for n in [1, 2, 7, 383, 384, MAX_DIMS - 1, MAX_DIMS] {
        let spread = rng.random_range(1e-6..1e6);
        samples.push(Int4Vector::quantize_minmax(&random_floats(rng, n, spread)).unwrap());
    }
    samples
}

#[test]
fn text_binary_and_stored_round_trips_are_exact() {
    let mut rng = SmallRng::seed_from_u64(3);
    for v in samples(&mut rng) {
        let stored = v.encode();
        assert_eq!(stored.len(), HEADER_LEN + v.codes.len().div_ceil(2));
        let view = Int4Ref::decode(&stored).unwrap();
        assert_eq!(view.to_owned(), v);
        let text = view.to_text();
        assert_eq!(Int4Vector::parse(&text).unwrap(), v, "{text}");
        let wire = view.to_wire();
        assert_eq!(wire.len(), stored.len());
        assert_eq!(Int4Vector::from_wire(&wire).unwrap(), v);
        assert_eq!(v.packed().view().to_wire(), wire);
    }
}

#[test]
fn text_accepts_spaces_and_rejects_malformed_literals() {
    let v = Int4Vector::parse(" ( 0.5 , 3 ) [ 1, 15 ,0 ] ").unwrap();
    assert_eq!((v.params.scale, v.params.zero_point, v.codes.clone()), (0.5, 3, vec![1, 15, 0]));
    assert_eq!(v.packed().view().to_text(), "(0.5,3)[1,15,0]");
    for bad in ["", "[1,x]", "{1,2", "(0.5)[1]", "(0.5,0)", "(0.5,0)[1,2", "(0.5,0)[1,,2]", "(x,0)[1]", "(0.5,0.5)[1]", "(0.5,0)[1]x"] {
        assert_eq!(Int4Vector::parse(bad).unwrap_err().kind, ErrorKind::InvalidText, "{bad:?}");
    }
    assert_eq!(Int4Vector::parse("(0.5,0)[]").unwrap_err().kind, ErrorKind::DataException);
    assert_eq!(Int4Vector::parse("(1,0)[16]").unwrap_err().kind, ErrorKind::OutOfRange);
    assert_eq!(Int4Vector::parse("(1,-1)[1]").unwrap_err().kind, ErrorKind::OutOfRange);
    assert_eq!(Int4Vector::parse("(0,0)[1]").unwrap_err().kind, ErrorKind::DataException);
    let floats = [0.1f32, -0.2, 0.3];
    assert_eq!(Int4Vector::parse("[0.1, -0.2, 0.3]").unwrap(), Int4Vector::quantize_minmax(&floats).unwrap());
    assert_eq!(Int4Vector::parse("{1,NaN}").unwrap_err().kind, ErrorKind::DataException);
    let long = format!("(1,0)[{}]", vec!["0"; MAX_DIMS + 1].join(","));
    assert_eq!(Int4Vector::parse(&long).unwrap_err().kind, ErrorKind::TooLarge);
}

#[test]
fn corrupt_binary_and_stored_values_are_rejected() {
    let v = Int4Vector::from_codes(&[1, 2, 3], Params::new(0.5, 2).unwrap()).unwrap();
    let wire = v.packed().view().to_wire();
    assert_eq!(wire.len(), 8 + 2);
    let mut cases: Vec<Vec<u8>> = vec![vec![], wire[..7].to_vec(), wire[..wire.len() - 1].to_vec(), [wire.as_slice(), &[0]].concat()];
    let mut patched = |at: usize, bytes: &[u8]| {
        let mut w = wire.clone();
        w[at..at + bytes.len()].copy_from_slice(bytes);
        cases.push(w);
    };
    patched(0, &0u16.to_be_bytes());
    patched(0, &(MAX_DIMS as u16 + 1).to_be_bytes());
    patched(0, &4u16.to_be_bytes()); // 2 bytes are also 4 codes, but the pad is not 0
    patched(2, &[16]); // zero-point
    patched(3, &[1]); // reserved byte
    patched(4, &f32::NAN.to_be_bytes());
    patched(4, &0.0f32.to_be_bytes());
    patched(9, &[0x13]); // padding nibble set
    for (i, bad) in cases.iter().enumerate() {
        // Case 6 (4 dimensions in these 2 bytes) is valid and decodes: 3 and 0 in the top byte.
        if i == 6 {
            assert_eq!(Int4Vector::from_wire(bad).unwrap().codes, vec![1, 2, 3, 0]);
            continue;
        }
        assert_eq!(Int4Vector::from_wire(bad).unwrap_err().kind, ErrorKind::InvalidBinary, "case {i}");
    }
    let stored = v.encode();
    assert!(Int4Ref::decode(&stored[..7]).is_err());
    assert!(Int4Ref::decode(&stored[..9]).is_err());
    let mut bad = stored.clone();
    bad[9] |= 0x10;
    assert!(Int4Ref::decode(&bad).is_err());
    let mut bad = stored.clone();
    bad[2] = 16;
    assert!(Int4Ref::decode(&bad).is_err());
}

#[test]
fn conversions_to_int8vec_are_exact_and_back_are_close() {
    let mut rng = SmallRng::seed_from_u64(4);
    for v in samples(&mut rng) {
        let packed = v.packed();
        let view = packed.view();
        let as_int8 = view.to_int8();
        assert_eq!(as_int8.dequantize(), v.dequantize(), "{:?}", v.params);
        let back = Int4Vector::from_int8(&as_int8.view());
        if v.params.scale < 1e30 && v.params.scale > 1e-30 {
            for (x, y) in v.dequantize().iter().zip(back.dequantize()) {
                assert!((x - y).abs() <= back.params.scale / 2.0 * 1.0001, "{x} vs {y}");
            }
        }
    }
}

/// Distances on codes against the same distances on the dequantized floats in f64, on
/// every kernel table, at odd and even dimension counts.
#[test]
fn distances_match_dequantized_floats() {
    let mut rng = SmallRng::seed_from_u64(5);
    for n in [1, 2, 3, 63, 64, 65, 383, 384, 1000, MAX_DIMS] {
        for same_params in [false, true] {
            let a = Int4Vector::quantize_minmax(&random_floats(&mut rng, n, 1.0)).unwrap();
            let mut b = Int4Vector::quantize_minmax(&random_floats(&mut rng, n, 3.0)).unwrap();
            if same_params {
                b = Int4Vector::quantize_with(&b.dequantize(), a.params).unwrap();
            }
            let widen = |v: &Int4Vector| v.dequantize().iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
            let (fa, fb) = (widen(&a), widen(&b));
            let dot: f64 = fa.iter().zip(&fb).map(|(x, y)| x * y).sum();
            let l2: f64 = fa.iter().zip(&fb).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
            let l1: f64 = fa.iter().zip(&fb).map(|(x, y)| (x - y).abs()).sum();
            let (na, nb) = (fa.iter().map(|x| x * x).sum::<f64>().sqrt(), fb.iter().map(|x| x * x).sum::<f64>().sqrt());
            let x: Vec<f32> = random_floats(&mut rng, n, 2.0);
            let query = Query::new(&x).unwrap();
            let fx: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
            let dot_x: f64 = fa.iter().zip(&fx).map(|(p, q)| p * q).sum();
            let l2_x: f64 = fa.iter().zip(&fx).map(|(p, q)| (p - q).powi(2)).sum::<f64>().sqrt();
            let nx = fx.iter().map(|v| v * v).sum::<f64>().sqrt();
            let (pa, pb) = (a.packed(), b.packed());
            let (ra, rb) = (pa.view(), pb.view());
            for k in tables() {
                let close = |got: f64, want: f64, scale: f64, what: &str| {
                    assert!(
                        (got - want).abs() <= 1e-5 * scale || (got.is_nan() && want.is_nan()),
                        "{what} on {} at n={n} same={same_params}: {got} vs {want}",
                        k.isa.name()
                    );
                };
                // Integer paths are exact; the reference carries the f32 rounding of each
                // dequantized value (relative 2^-24).
                close(inner_product(k, &ra, &rb).unwrap(), dot, 0.1 * (1.0 + na * nb), "ip");
                close(l2_distance(k, &ra, &rb).unwrap(), l2, 0.1 * (1.0 + l2), "l2");
                close(cosine_distance(k, &ra, &rb).unwrap(), 1.0 - dot / (na * nb), 0.1, "cosine");
                close(l1_distance(k, &ra, &rb).unwrap(), l1, 10.0 * (1.0 + l1), "l1 (an f32 sum where the parameters differ)");
                close(ra.norm(k), na, 0.1 * (1.0 + na), "norm");
                // Float queries sum in f32.
                close(inner_product_f32(k, &ra, &query).unwrap(), dot_x, 10.0 * (1.0 + na * nx), "ip f32");
                close(l2_distance_f32(k, &ra, &query).unwrap(), l2_x, 10.0 * (1.0 + l2_x), "l2 f32");
                close(cosine_distance_f32(k, &ra, &query).unwrap(), 1.0 - dot_x / (na * nx), 10.0, "cosine f32");
            }
        }
    }
}

#[test]
fn integer_distances_are_the_same_on_every_table_and_zero_vectors_are_nan() {
    let mut rng = SmallRng::seed_from_u64(6);
    let scalar = kernels::table(Isa::Scalar).unwrap();
    for n in [1, 5, 384, 769] {
        let a = Int4Vector::quantize_minmax(&random_floats(&mut rng, n, 1.0)).unwrap();
        let b = Int4Vector::from_codes(&vec![15; n], Params::new(0.25, 15).unwrap()).unwrap();
        let (pa, pb) = (a.packed(), b.packed());
        let (ra, rb) = (pa.view(), pb.view());
        assert!(cosine_distance(scalar, &ra, &rb).unwrap().is_nan(), "b is all zero-point: a zero vector");
        assert!((l2_distance(scalar, &ra, &rb).unwrap() - ra.norm(scalar)).abs() <= 1e-12 * ra.norm(scalar));
        for k in tables() {
            assert_eq!(inner_product(k, &ra, &ra).unwrap(), inner_product(scalar, &ra, &ra).unwrap());
            assert_eq!(l2_distance(k, &ra, &rb).unwrap(), l2_distance(scalar, &ra, &rb).unwrap());
        }
    }
    let one = Int4Vector::from_codes(&[1], Params::new(1.0, 0).unwrap()).unwrap();
    let two = Int4Vector::from_codes(&[1, 2], Params::new(1.0, 0).unwrap()).unwrap();
    let (p1, p2) = (one.packed(), two.packed());
    assert_eq!(inner_product(kernels::active(), &p1.view(), &p2.view()).unwrap_err().kind, ErrorKind::DataException);
    let query = Query::new(&[1.0, 2.0]).unwrap();
    assert_eq!(l2_distance_f32(kernels::active(), &p1.view(), &query).unwrap_err().kind, ErrorKind::DataException);
}
