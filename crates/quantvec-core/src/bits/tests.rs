use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::error::ErrorKind;
use crate::floats::Query;
use crate::int8::Int8Vector;
use crate::kernels;

fn random_bits(rng: &mut SmallRng, n: usize) -> BitVector {
    BitVector::from_bools((0..n).map(|_| rng.random::<bool>()).collect::<Vec<_>>().into_iter()).unwrap()
}

#[test]
fn sign_quantization_and_storage_order() {
    let v = BitVector::from_signs(&[1.0, -1.0, 0.0, 2.0, 0.5, 0.5, 0.5, 0.5, 3.0]).unwrap();
    assert_eq!(v.view().to_text(), "100111111");
    // Dimension 0 is the least significant bit of byte 0 in storage...
    assert_eq!(v.view().bytes(), &[0b1111_1001, 0b1]);
    // ...and the most significant bit outside.
    assert_eq!(v.view().to_msb_bytes(), vec![0b1001_1111, 0b1000_0000]);
    assert_eq!(v.encode().len(), HEADER_LEN + 2);
    assert!(BitVector::from_signs(&[f32::NAN]).is_err());
}

#[test]
fn thresholds_and_int8() {
    let v = BitVector::from_thresholds(&[1.0, 2.0, 3.0], &[1.5, 1.5, 3.0]).unwrap();
    assert_eq!(v.view().to_text(), "010");
    assert!(BitVector::from_thresholds(&[1.0], &[1.0, 2.0]).is_err());
    let q = Int8Vector::quantize_minmax(&[-1.0, 0.0, 0.5, 2.0]).unwrap();
    assert_eq!(BitVector::from_int8(&q.view()).view().to_text(), "0011");
}

#[test]
fn text_round_trip_and_errors() {
    let mut rng = SmallRng::seed_from_u64(7);
    for n in [1, 7, 8, 9, 384, MAX_DIMS] {
        let v = random_bits(&mut rng, n);
        assert_eq!(BitVector::parse(&v.view().to_text()).unwrap(), v);
    }
    assert_eq!(BitVector::parse("0102").unwrap_err().kind, ErrorKind::InvalidText);
    assert_eq!(BitVector::parse("[0.5,-1,0,2]").unwrap().view().to_text(), "1001");
    assert_eq!(BitVector::parse("{0.5,x}").unwrap_err().kind, ErrorKind::InvalidText);
    assert_eq!(BitVector::parse("").unwrap_err().kind, ErrorKind::DataException);
    assert_eq!(BitVector::parse(&"1".repeat(MAX_DIMS + 1)).unwrap_err().kind, ErrorKind::TooLarge);
}

#[test]
fn wire_round_trip_and_corruption() {
    let mut rng = SmallRng::seed_from_u64(8);
    for n in [1, 8, 13, 384] {
        let v = random_bits(&mut rng, n);
        let wire = v.view().to_wire();
        assert_eq!(BitVector::from_wire(&wire).unwrap(), v);
    }
    let v = random_bits(&mut rng, 13);
    let wire = v.view().to_wire();
    let mut padding = wire.clone();
    *padding.last_mut().unwrap() |= 1; // a bit after dimension 13
    let mut too_long = wire.clone();
    too_long.push(0);
    for bad in [
        vec![],
        wire[..3].to_vec(),
        wire[..wire.len() - 1].to_vec(),
        too_long,
        padding,
        [0i32.to_be_bytes().to_vec(), vec![]].concat(),
        [(-1i32).to_be_bytes().to_vec(), vec![0]].concat(),
        [(MAX_DIMS as i32 + 1).to_be_bytes().to_vec(), vec![0; 8001]].concat(),
    ] {
        assert_eq!(BitVector::from_wire(&bad).unwrap_err().kind, ErrorKind::InvalidBinary, "{bad:?}");
    }
}

#[test]
fn packed_bytes_round_trip() {
    let v = BitVector::from_msb_bytes(&[0b1010_0000], 3).unwrap();
    assert_eq!(v.view().to_text(), "101");
    assert_eq!(v.view().to_msb_bytes(), vec![0b1010_0000]);
    assert!(BitVector::from_msb_bytes(&[0b1010_0001], 3).is_err());
    assert!(BitVector::from_msb_bytes(&[0, 0], 3).is_err());
    assert!(BitVector::from_msb_bytes(&[], 0).is_err());
}

#[test]
fn decode_checks_lengths() {
    let v = BitVector::parse("10110").unwrap();
    let payload = v.encode();
    assert_eq!(BitRef::decode(&payload).unwrap().to_text(), "10110");
    assert!(BitRef::decode(&payload[..2]).is_err());
    assert!(BitRef::decode(&[0, 0]).is_err());
}

#[test]
fn distances_match_definitions() {
    let mut rng = SmallRng::seed_from_u64(9);
    let k = kernels::active();
    for n in [1, 9, 64, 384, 1000] {
        let (a, b) = (random_bits(&mut rng, n), random_bits(&mut rng, n));
        let (ra, rb) = (a.view(), b.view());
        let differing = (0..n).filter(|&i| ra.get(i) != rb.get(i)).count();
        let both = (0..n).filter(|&i| ra.get(i) && rb.get(i)).count();
        let either = (0..n).filter(|&i| ra.get(i) || rb.get(i)).count();
        assert_eq!(hamming_distance(k, &ra, &rb).unwrap(), differing as f64);
        let jaccard = if either == 0 { 0.0 } else { 1.0 - both as f64 / either as f64 };
        assert_eq!(jaccard_distance(k, &ra, &rb).unwrap(), jaccard);

        let x: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let query = Query::new(&x).unwrap();
        let signed: f64 = (0..n).map(|i| if ra.get(i) { f64::from(x[i]) } else { -f64::from(x[i]) }).sum();
        assert!((inner_product_f32(k, &ra, &query).unwrap() - signed).abs() < 1e-4);
        let norm = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt();
        let cos = 1.0 - signed / ((n as f64).sqrt() * norm);
        assert!((cosine_distance_f32(k, &ra, &query).unwrap() - cos).abs() < 1e-4);
    }
    let zeros = BitVector::parse("000").unwrap();
    assert_eq!(jaccard_distance(k, &zeros.view(), &zeros.view()).unwrap(), 0.0);
    let other = BitVector::parse("0000").unwrap();
    assert!(hamming_distance(k, &zeros.view(), &other.view()).is_err());
}

/// Σ over set bits of a query near f32::MAX / dims overflowed f32 (Infinity, or NaN from
/// 2·∞ − Σx); the distances are finite and accurate on every table, up to the largest
/// dimension count.
#[test]
fn huge_queries_give_finite_distances() {
    let mut rng = SmallRng::seed_from_u64(10);
    for n in [1, 9, 384, MAX_DIMS] {
        for magnitude in [1e-30f32, 1.0, 1e30, 1e34, f32::MAX] {
            let a = random_bits(&mut rng, n);
            let ra = a.view();
            let x: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0) * magnitude).collect();
            // All positive under the set bits: their sum overflows even without cancelling.
            let y: Vec<f32> = (0..n).map(|i| if ra.get(i) { magnitude } else { -magnitude * 0.5 }).collect();
            for x in [x, y] {
                let query = Query::new(&x).unwrap();
                let signed: f64 = (0..n).map(|i| if ra.get(i) { f64::from(x[i]) } else { -f64::from(x[i]) }).sum();
                // The worst-case rounding of an f32 sum of n terms (as in the kernel tests).
                let tolerance = (n as f64 + 2.0) * f64::from(f32::EPSILON) * x.iter().map(|&v| f64::from(v.abs())).sum::<f64>();
                let cos = 1.0 - signed / ((n as f64).sqrt() * query.norm());
                for isa in kernels::Isa::ALL {
                    let Some(k) = kernels::table(isa) else {
                        eprintln!("skipped: this CPU lacks {}", isa.name());
                        continue;
                    };
                    let what = format!("{} at n = {n}, magnitude {magnitude:e}", isa.name());
                    let ip = inner_product_f32(k, &ra, &query).unwrap();
                    assert!(ip.is_finite() && (ip - signed).abs() <= tolerance, "ip on {what}: {ip} vs {signed}");
                    let cosine = cosine_distance_f32(k, &ra, &query).unwrap();
                    assert!((cosine - cos.clamp(0.0, 2.0)).abs() <= tolerance / ((n as f64).sqrt() * query.norm()), "cosine on {what}: {cosine} vs {cos}");
                }
            }
        }
    }
}

/// Found by tests/fuzz.rs: payloads with padding bits set or more than MAX_DIMS
/// dimensions decoded; distances counted the padding, and send produced values that
/// receive refuses.
#[test]
fn stored_values_with_padding_bits_or_too_many_dimensions_are_corrupt() {
    let payload = |dims: usize, last: u8| {
        let mut p = vec![0u8; HEADER_LEN + dims.div_ceil(8)];
        p[..2].copy_from_slice(&(dims as u16).to_ne_bytes());
        *p.last_mut().unwrap() = last;
        p
    };
    assert_eq!(BitRef::decode(&payload(1, 0x01)).unwrap().count_ones(), 1);
    assert!(BitRef::decode(&payload(1, 0x7f)).unwrap_err().message.contains("padding"));
    assert!(BitRef::decode(&payload(12, 0x10)).is_err());
    assert!(BitRef::decode(&payload(16, 0xff)).is_ok());
    assert!(BitRef::decode(&payload(MAX_DIMS, 0xff)).is_ok());
    assert_eq!(BitRef::decode(&payload(MAX_DIMS + 8, 0)).unwrap_err().kind, ErrorKind::InvalidBinary);
}
