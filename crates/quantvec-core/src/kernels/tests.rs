//! Every SIMD table against the scalar reference: random inputs of every length from 1 to
//! 4,096 (so every tail length of every vector width), and extreme codes. Integer kernels
//! must match exactly; float kernels within the worst-case rounding of an f32 sum.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::*;

const MAX_LEN: usize = 4096;

fn simd_tables() -> Vec<&'static Kernels> {
    let mut found = Vec::new();
    for isa in Isa::ALL.into_iter().filter(|&isa| isa != Isa::Scalar) {
        match table(isa) {
            Some(k) => found.push(k),
            None => eprintln!("skipped: this CPU lacks {}", isa.name()),
        }
    }
    found
}

fn codes(rng: &mut SmallRng, n: usize) -> Vec<i8> {
    (0..n).map(|_| rng.random::<i8>()).collect()
}

fn floats(rng: &mut SmallRng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

fn bytes(rng: &mut SmallRng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.random::<u8>()).collect()
}

fn params(rng: &mut SmallRng) -> Params {
    Params { scale: rng.random_range(0.001f32..0.1), zero_point: rng.random::<i8>() }
}

/// |got − want| within the bound of summing `n` terms in f32 in any order: n·ε·Σ|terms|,
/// with a factor of slack for the per-term rounding.
fn assert_close(what: &str, isa: Isa, n: usize, got: f32, want: f32, magnitude: f64) {
    let tolerance = 4.0 * (n as f64 + 2.0) * f64::from(f32::EPSILON) * magnitude + 1e-30;
    assert!((f64::from(got) - f64::from(want)).abs() <= tolerance, "{what} on {} at n = {n}: {got} vs scalar {want} (tolerance {tolerance})", isa.name());
}

#[test]
fn integer_kernels_match_scalar_exactly() {
    let tables = simd_tables();
    let mut rng = SmallRng::seed_from_u64(1);
    for n in 1..=MAX_LEN {
        let (a, b) = (codes(&mut rng, n), codes(&mut rng, n));
        let (x, y) = (bytes(&mut rng, n.div_ceil(8)), bytes(&mut rng, n.div_ceil(8)));
        for k in &tables {
            assert_eq!((k.dot_i8)(&a, &b), scalar::dot_i8(&a, &b), "dot_i8 on {} at n = {n}", k.isa.name());
            assert_eq!((k.l1_i8)(&a, &b), scalar::l1_i8(&a, &b), "l1_i8 on {} at n = {n}", k.isa.name());
            assert_eq!((k.hamming)(&x, &y), scalar::hamming(&x, &y), "hamming on {} at n = {n}", k.isa.name());
            assert_eq!((k.and_or)(&x, &y), scalar::and_or(&x, &y), "and_or on {} at n = {n}", k.isa.name());
        }
    }
}

/// Packed lengths for the 4-bit kernels: every tail length of every vector width.
const MAX_PACKED_LEN: usize = 2048;

/// The codes of packed 4-bit bytes, one per element, computed naively.
fn naive_unpack_u4(packed: &[u8]) -> Vec<i64> {
    packed.iter().flat_map(|&byte| [i64::from(byte % 16), i64::from(byte / 16)]).collect()
}

/// Every SIMD `unpack_u4` into a slice whose neighbours are a canary, so that a write
/// past either end shows up (the kernels must also overwrite every code).
fn assert_unpack_u4_matches(k: &Kernels, packed: &[u8], want: &[i8], what: &str) {
    let canary = 0x5a;
    let mut buf = vec![canary; want.len() + 128];
    (k.unpack_u4)(packed, &mut buf[64..64 + want.len()]);
    assert_eq!(&buf[64..64 + want.len()], want, "unpack_u4 on {} with {what} at packed length {}", k.isa.name(), packed.len());
    assert!(buf[..64].iter().chain(&buf[64 + want.len()..]).all(|&c| c == canary), "unpack_u4 on {} wrote outside its output", k.isa.name());
}

#[test]
fn int4_kernels_match_scalar_exactly() {
    let tables = simd_tables();
    let mut rng = SmallRng::seed_from_u64(7);
    let mut checked = 0;
    for n in 1..=MAX_PACKED_LEN {
        let (a, b) = (bytes(&mut rng, n), bytes(&mut rng, n));
        let alternating: Vec<u8> = (0..n).map(|i| if i % 2 == 0 { 0xf0 } else { 0x0f }).collect();
        let inputs = [
            ("random", a.clone(), b),
            ("all 0xff", vec![0xff; n], vec![0xff; n]),
            ("all 0x00", vec![0; n], a.clone()),
            ("0xf0 · 0xf0", vec![0xf0; n], vec![0xf0; n]),
            ("0x0f · 0x0f", vec![0x0f; n], vec![0x0f; n]),
            ("0xf0 · 0x0f", vec![0xf0; n], vec![0x0f; n]),
            ("alternating 0xf0/0x0f", alternating.clone(), alternating),
            ("0xff · random", vec![0xff; n], a),
        ];
        for (what, x, y) in &inputs {
            let (dot, sums_x, sums_y) = (scalar::dot_u4(x, y), scalar::sums_u4(x), scalar::sums_u4(y));
            let mut unpacked = vec![0; 2 * n];
            scalar::unpack_u4(x, &mut unpacked);
            for k in &tables {
                assert_eq!((k.dot_u4)(x, y), dot, "dot_u4 on {} with {what} at packed length {n}", k.isa.name());
                assert_eq!((k.sums_u4)(x), sums_x, "sums_u4 on {} with {what} at packed length {n}", k.isa.name());
                assert_eq!((k.sums_u4)(y), sums_y, "sums_u4 on {} with {what} at packed length {n}", k.isa.name());
                assert_unpack_u4_matches(k, x, &unpacked, what);
                checked += 1;
            }
        }
    }
    eprintln!("int4 kernels: {checked} (table, length, input) cases checked against scalar");
}

/// The scalar reference against the definition: unpack every code, then multiply and add.
#[test]
fn int4_reference_matches_naive_per_code() {
    let mut rng = SmallRng::seed_from_u64(8);
    for n in (0..=300).chain([1023, 1024, 1025, 8000]) {
        let (a, b) = (bytes(&mut rng, n), bytes(&mut rng, n));
        let (ca, cb) = (naive_unpack_u4(&a), naive_unpack_u4(&b));
        assert_eq!(ca.len(), 2 * n);
        assert_eq!(scalar::dot_u4(&a, &b), ca.iter().zip(&cb).map(|(x, y)| x * y).sum::<i64>(), "dot_u4 at packed length {n}");
        assert_eq!(scalar::sums_u4(&a), (ca.iter().sum(), ca.iter().map(|x| x * x).sum()), "sums_u4 at packed length {n}");
        let mut out = vec![-1i8; 2 * n];
        scalar::unpack_u4(&a, &mut out);
        assert!(out.iter().zip(&ca).all(|(&got, &want)| i64::from(got) == want), "unpack_u4 at packed length {n}");
        // Code 2i is the low nibble of byte i, code 2i + 1 its high nibble.
        if n > 0 {
            let mut one = vec![0u8; n];
            one[n - 1] = 0x3c;
            scalar::unpack_u4(&one, &mut out);
            assert_eq!((out[2 * n - 2], out[2 * n - 1]), (0xc, 0x3));
        }
    }
}

/// All codes 15 is where every sum is largest: 8,000 bytes are the maximum of 16,000
/// dimensions; the longer inputs cross the blocks in which 32-bit lanes are summed, and the
/// longest has a dot product past 2^32, so that any 32-bit total would wrap.
#[test]
fn int4_extreme_codes_are_exact() {
    let tables: Vec<&Kernels> = [&SCALAR].into_iter().chain(simd_tables()).collect();
    for n in [8000, 65_536 - 1, 65_536 + 63, 200_000, (1 << 24) + 17] {
        let (max, zeros) = (vec![0xffu8; n], vec![0u8; n]);
        let codes = 2 * n as i64;
        for k in &tables {
            let isa = k.isa.name();
            assert_eq!((k.dot_u4)(&max, &max), codes * 225, "dot_u4 on {isa} at packed length {n}");
            assert_eq!((k.dot_u4)(&max, &zeros), 0, "dot_u4 on {isa} at packed length {n}");
            assert_eq!((k.sums_u4)(&max), (codes * 15, codes * 225), "sums_u4 on {isa} at packed length {n}");
            if n <= 200_000 {
                let mut out = vec![0i8; 2 * n];
                (k.unpack_u4)(&max, &mut out);
                assert!(out.iter().all(|&c| c == 15), "unpack_u4 on {isa} at packed length {n}");
            }
        }
    }
}

#[test]
fn float_kernels_match_scalar() {
    let tables = simd_tables();
    let mut rng = SmallRng::seed_from_u64(2);
    for n in 1..=MAX_LEN {
        let (a, b) = (codes(&mut rng, n), codes(&mut rng, n));
        let (x, y) = (floats(&mut rng, n), floats(&mut rng, n));
        let (pa, pb) = (params(&mut rng), params(&mut rng));
        let mut bits = bytes(&mut rng, n.div_ceil(8));
        if n % 8 != 0 {
            *bits.last_mut().unwrap() &= (1u8 << (n % 8)) - 1; // padding bits are 0
        }
        let abs_dot_xq: f64 = x.iter().zip(&a).map(|(&f, &c)| f64::from(f * f32::from(c)).abs()).sum();
        let abs_dot_xy: f64 = x.iter().zip(&y).map(|(&f, &g)| f64::from(f * g).abs()).sum();
        let abs_x: f64 = x.iter().map(|&f| f64::from(f.abs())).sum();
        let l2 = scalar::l2_f32_i8(&x, &a, pa);
        let l1 = scalar::l1_dequant(&a, pa, &b, pb);
        for k in &tables {
            let isa = k.isa;
            assert_close("dot_f32_i8", isa, n, (k.dot_f32_i8)(&x, &a), scalar::dot_f32_i8(&x, &a), abs_dot_xq);
            assert_close("dot_f32", isa, n, (k.dot_f32)(&x, &y), scalar::dot_f32(&x, &y), abs_dot_xy);
            assert_close("l2_f32_i8", isa, n, (k.l2_f32_i8)(&x, &a, pa), l2, f64::from(l2));
            assert_close("l1_dequant", isa, n, (k.l1_dequant)(&a, pa, &b, pb), l1, f64::from(l1));
            assert_close("masked_sum", isa, n, (k.masked_sum)(&x, &bits), scalar::masked_sum(&x, &bits), abs_x);
        }
    }
}

/// All −128 and all 127 are where 16-bit intermediate sums saturate (`vpmaddubsw`) and where
/// 32-bit accumulators come closest to overflowing; the longest lengths test the latter.
#[test]
fn extreme_codes_are_exact() {
    let tables = simd_tables();
    let lengths = [1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 384, 1536, 4096, 16_000, 65_536 + 63, 200_000];
    for n in lengths {
        for (va, vb) in [(-128i8, -128i8), (127, 127), (-128, 127), (127, -128)] {
            let (a, b) = (vec![va; n], vec![vb; n]);
            let want = n as i64 * i64::from(va) * i64::from(vb);
            assert_eq!(scalar::dot_i8(&a, &b), want);
            for k in &tables {
                assert_eq!((k.dot_i8)(&a, &b), want, "dot_i8 on {} with {va}·{vb} at n = {n}", k.isa.name());
                assert_eq!((k.l1_i8)(&a, &b), n as u64 * u64::from((i16::from(va) - i16::from(vb)).unsigned_abs()), "l1_i8 on {} at n = {n}", k.isa.name());
            }
        }
        let ones = vec![0xffu8; n.div_ceil(8)];
        let zeros = vec![0u8; n.div_ceil(8)];
        for k in &tables {
            assert_eq!((k.hamming)(&ones, &zeros), 8 * ones.len() as u64);
            assert_eq!((k.and_or)(&ones, &ones), (8 * ones.len() as u64, 8 * ones.len() as u64));
        }
    }
}

#[test]
fn dot_rows_match_scalar() {
    let tables = simd_tables();
    let mut rng = SmallRng::seed_from_u64(4);
    for d in (1..=40).chain([384, 385, 1536]) {
        for rows in [1, 3, 4, 5, 8, 13] {
            let x = floats(&mut rng, d);
            let m = floats(&mut rng, d * rows);
            let mut want = vec![0.0; rows];
            scalar::dot_f32_rows(&x, &m, &mut want);
            let halves: Vec<u16> = m.iter().map(|&v| half::f16::from_f32(v).to_bits()).collect();
            let mut want_halves = vec![0.0; rows];
            scalar::dot_f16_rows(&x, &halves, &mut want_halves);
            for k in &tables {
                let mut got_halves = vec![0.0; rows];
                (k.dot_f16_rows)(&x, &halves, &mut got_halves);
                for (g, w) in got_halves.iter().zip(&want_halves) {
                    let magnitude: f64 = x.iter().map(|a| f64::from(a.abs())).sum();
                    assert_close("dot_f16_rows", k.isa, d, *g, *w, magnitude);
                }
                let mut got = vec![0.0; rows];
                (k.dot_f32_rows)(&x, &m, &mut got);
                for (j, (g, w)) in got.iter().zip(&want).enumerate() {
                    let magnitude: f64 = x.iter().zip(&m[j * d..(j + 1) * d]).map(|(a, b)| f64::from(a * b).abs()).sum();
                    assert_close("dot_f32_rows", k.isa, d, *g, *w, magnitude);
                }
            }
        }
    }
}

#[test]
fn packed_dots_match_scalar_and_row_dots_closely_and_each_other_exactly() {
    let tables = simd_tables();
    let mut rng = SmallRng::seed_from_u64(5);
    for d in [1, 2, 7, 16, 33, 256, 385] {
        for rows in 1..=9 {
            for count in [1, 15, 16, 17, 40, 64] {
                let (xs, m) = (floats(&mut rng, rows * d), floats(&mut rng, count * d));
                let packed = pack_rows(&m, d);
                let columns = count.next_multiple_of(scalar::PACKED_ROWS);
                assert_eq!(packed.len(), columns * d);
                let mut want = vec![f32::NAN; rows * columns];
                scalar::dot_f32_packed(&xs, &packed, d, &mut want);
                for (x, want) in xs.chunks_exact(d).zip(want.chunks_exact(columns)) {
                    let mut by_rows = vec![0.0; count];
                    scalar::dot_f32_rows(x, &m, &mut by_rows);
                    for (j, (&w, &r)) in want.iter().zip(&by_rows).enumerate() {
                        let magnitude: f64 = x.iter().zip(&m[j * d..(j + 1) * d]).map(|(a, b)| f64::from(a * b).abs()).sum();
                        assert_close("dot_f32_packed", Isa::Scalar, d, w, r, magnitude);
                    }
                    assert!(want[count..].iter().all(|&padding| padding == 0.0), "padding rows score 0");
                }
                let mut first_simd: Option<Vec<f32>> = None;
                for k in &tables {
                    let mut got = vec![f32::NAN; rows * columns];
                    (k.dot_f32_packed)(&xs, &packed, d, &mut got);
                    for (r, (got, want)) in got.chunks_exact(columns).zip(want.chunks_exact(columns)).enumerate() {
                        for (j, (&g, &w)) in got.iter().zip(want).enumerate() {
                            let column =
                                (0..d).map(|i| packed[(j / scalar::PACKED_ROWS) * scalar::PACKED_ROWS * d + i * scalar::PACKED_ROWS + j % scalar::PACKED_ROWS]);
                            let magnitude: f64 = xs[r * d..(r + 1) * d].iter().zip(column).map(|(a, b)| f64::from(a * b).abs()).sum();
                            assert_close("dot_f32_packed", k.isa, d, g, w, magnitude);
                        }
                    }
                    // Fused multiply-adds in component order give every SIMD table the same bits.
                    match &first_simd {
                        Some(first) => assert!(got.iter().zip(first).all(|(g, f)| g.to_bits() == f.to_bits()), "dot_f32_packed on {} at d = {d}", k.isa.name()),
                        None => first_simd = Some(got),
                    }
                }
            }
        }
    }
    let mut none: [f32; 0] = [];
    scalar::dot_f32_packed(&[], &[], 0, &mut none);
    assert!(pack_rows(&[], 0).is_empty());
}

#[test]
fn estimates_match_scalar_bit_for_bit() {
    let tables = simd_tables();
    let mut rng = SmallRng::seed_from_u64(4);
    for _ in 0..200 {
        let sums: [u32; 32] = std::array::from_fn(|_| rng.random_range(0..200_000));
        let floats = |rng: &mut SmallRng| -> [u8; 128] {
            let values: Vec<f32> = (0..32).map(|_| rng.random_range(-3.0..3.0f32)).collect();
            std::array::from_fn(|i| values[i / 4].to_ne_bytes()[i % 4])
        };
        let (alphas, betas) = (floats(&mut rng), floats(&mut rng));
        let terms = scalar::EstimateTerms {
            lut_scale: rng.random_range(1e-4..1.0),
            lut_offset: rng.random_range(-50.0..50.0),
            sum_weight: [1.0, 2.0][rng.random_range(0..2)],
            q_weight: rng.random_range(-20.0..20.0),
            list_term: rng.random_range(-2.0..2.0),
        };
        let mut want = [0f32; 32];
        scalar::estimate_rows(&sums, &alphas, &betas, terms, &mut want);
        // The formula itself, on one row.
        let row_alpha = f32::from_ne_bytes(alphas[12..16].try_into().unwrap());
        let row_beta = f32::from_ne_bytes(betas[12..16].try_into().unwrap());
        let row = terms.list_term + row_beta + row_alpha * (terms.sum_weight * (terms.lut_scale * sums[3] as f32 + terms.lut_offset) - terms.q_weight);
        assert_eq!(want[3].to_bits(), row.to_bits());
        for k in &tables {
            let mut got = [f32::NAN; 32];
            (k.estimate_rows)(&sums, &alphas, &betas, terms, &mut got);
            assert_eq!(got.map(f32::to_bits), want.map(f32::to_bits), "estimates on {}", k.isa.name());
        }
    }
}

#[test]
fn fastscan_matches_scalar_exactly() {
    let tables = simd_tables();
    let mut rng = SmallRng::seed_from_u64(3);
    // Past the 256 code bytes after which 16-bit sums are flushed, and several times over.
    for pairs in (1..=300).chain([511, 512, 513, 2000]) {
        let block = bytes(&mut rng, 32 * pairs);
        let lut: Vec<u8> = (0..32 * pairs).map(|_| rng.random_range(0..=127u8)).collect();
        let mut want = [0u32; 32];
        scalar::fastscan(&lut, &block, &mut want);
        let mut all_max = [0u32; 32];
        scalar::fastscan(&vec![127; 32 * pairs], &block, &mut all_max);
        assert!(all_max.iter().all(|&s| s == 254 * pairs as u32));
        for k in &tables {
            let mut got = [7u32; 32];
            (k.fastscan)(&lut, &block, &mut got);
            assert_eq!(got, want, "fastscan on {} with {pairs} pairs", k.isa.name());
            (k.fastscan)(&vec![127; 32 * pairs], &block, &mut got);
            assert_eq!(got, all_max, "saturated fastscan on {} with {pairs} pairs", k.isa.name());
        }
    }
}

#[test]
fn mismatched_lengths_panic_instead_of_reading_past_the_end() {
    for k in simd_tables().into_iter().chain([&SCALAR]) {
        let result = std::panic::catch_unwind(|| (k.dot_i8)(&[1; 40], &[1; 39]));
        assert!(result.is_err(), "{} accepted different lengths", k.isa.name());
        let result = std::panic::catch_unwind(|| (k.masked_sum)(&[1.0; 17], &[0xff; 2]));
        assert!(result.is_err(), "{} accepted a short code", k.isa.name());
        let result = std::panic::catch_unwind(|| (k.dot_u4)(&[0xff; 40], &[0xff; 39]));
        assert!(result.is_err(), "{} accepted different int4 lengths", k.isa.name());
        let result = std::panic::catch_unwind(|| (k.unpack_u4)(&[0xff; 40], &mut [0; 79]));
        assert!(result.is_err(), "{} accepted a short int4 output", k.isa.name());
        let result = std::panic::catch_unwind(|| (k.unpack_u4)(&[0xff; 40], &mut [0; 81]));
        assert!(result.is_err(), "{} accepted a long int4 output", k.isa.name());
    }
}

#[test]
fn selection_respects_the_cpu() {
    assert!(table(Isa::Scalar).is_some());
    assert_eq!(table(Isa::best()).unwrap().isa, Isa::best());
    for isa in Isa::ALL {
        assert_eq!(table(isa).is_some(), isa.is_supported());
        assert_eq!(Isa::from_name(isa.name()), Some(isa));
    }
    assert!(active().isa.is_supported());
}

/// The distance functions keep a float kernel's result when it is finite and redo the sum
/// in f64 otherwise, so an overflow anywhere in a sum must leave it infinite or NaN, never
/// a wrong finite value. Magnitudes around where each sum overflows, with and without
/// cancellation, up to the largest int8vec dimension count.
#[test]
fn float_kernels_overflow_to_non_finite_values() {
    let tables: Vec<&Kernels> = [&SCALAR].into_iter().chain(simd_tables()).collect();
    let mut rng = SmallRng::seed_from_u64(6);
    let max = f64::from(f32::MAX);
    for n in [1, 7, 8, 15, 16, 17, 33, 100, 1000, 16_000] {
        for factor in [0.01, 0.3, 1.0, 3.0, 100.0, 1e30] {
            for positive in [false, true] {
                let unit = |rng: &mut SmallRng| if positive { rng.random_range(0.5f32..1.0) } else { rng.random_range(-1.0f32..1.0) };
                // Each sum reaches about f32::MAX at factor 1.
                let at = |limit: f64| (limit * factor).min(max) as f32;
                let x_dot: Vec<f32> = (0..n).map(|_| unit(&mut rng) * at(max / (128.0 * n as f64))).collect();
                let x_sum: Vec<f32> = (0..n).map(|_| unit(&mut rng) * at(max / n as f64)).collect();
                let y: Vec<f32> = (0..n).map(|_| unit(&mut rng) * at((max / n as f64).sqrt())).collect();
                let x_l2: Vec<f32> = (0..n).map(|_| unit(&mut rng) * at((max / n as f64).sqrt())).collect();
                let q: Vec<i8> = if positive { (0..n).map(|_| rng.random_range(64..=127)).collect() } else { codes(&mut rng, n) };
                let zero_point = if positive { -128 } else { rng.random::<i8>() };
                let p = Params { scale: at((max / n as f64).sqrt() / 256.0), zero_point };
                let pb = Params { scale: at(max / (256.0 * n as f64)), zero_point: 127 };
                let pa = Params { scale: pb.scale, zero_point: -128 };
                let bits = vec![0xffu8; n.div_ceil(8)];
                let bits = if n % 8 == 0 { bits } else { [&bits[..n / 8], &[(1u8 << (n % 8)) - 1]].concat() };

                let f = |v: f32| f64::from(v);
                let dequantized = |p: Params, c: i8| f(p.scale) * (f64::from(c) - f64::from(p.zero_point));
                let dot_xq: f64 = x_dot.iter().zip(&q).map(|(&v, &c)| f(v) * f64::from(c)).sum();
                let dot_xq_abs: f64 = x_dot.iter().zip(&q).map(|(&v, &c)| (f(v) * f64::from(c)).abs()).sum();
                let dot_xy: f64 = x_dot.iter().zip(&y).map(|(&a, &b)| f(a) * f(b)).sum();
                let dot_xy_abs: f64 = x_dot.iter().zip(&y).map(|(&a, &b)| (f(a) * f(b)).abs()).sum();
                let l2: f64 = x_l2.iter().zip(&q).map(|(&v, &c)| (f(v) - dequantized(p, c)).powi(2)).sum();
                // The SIMD kernels round x + s·z before subtracting s·q.
                let l2_abs: f64 = x_l2.iter().zip(&q).map(|(&v, &c)| (f(v).abs() + f(p.scale) * (f64::from(c).abs() + 128.0)).powi(2)).sum();
                let l1: f64 = q.iter().zip(q.iter().rev()).map(|(&a, &b)| (dequantized(pa, a) - dequantized(pb, b)).abs()).sum();
                let l1_abs: f64 = q.iter().zip(q.iter().rev()).map(|(&a, &b)| f(pa.scale) * (f64::from(a).abs() + f64::from(b).abs() + 255.0)).sum();
                let sum: f64 = x_sum.iter().map(|&v| f(v)).sum();
                let sum_abs: f64 = x_sum.iter().map(|&v| f(v).abs()).sum();
                let reversed: Vec<i8> = q.iter().rev().copied().collect();
                for k in &tables {
                    let check = |what: &str, got: f32, want: f64, magnitude: f64| {
                        let tolerance = 4.0 * (n as f64 + 2.0) * f64::from(f32::EPSILON) * magnitude;
                        assert!(
                            !got.is_finite() || (f(got) - want).abs() <= tolerance,
                            "{what} on {} at n = {n}, factor {factor}, positive {positive}: finite {got} vs {want}",
                            k.isa.name()
                        );
                    };
                    check("dot_f32_i8", (k.dot_f32_i8)(&x_dot, &q), dot_xq, dot_xq_abs);
                    check("dot_f32", (k.dot_f32)(&x_dot, &y), dot_xy, dot_xy_abs);
                    check("l2_f32_i8", (k.l2_f32_i8)(&x_l2, &q, p), l2, l2_abs);
                    check("l1_dequant", (k.l1_dequant)(&q, pa, &reversed, pb), l1, l1_abs);
                    check("masked_sum", (k.masked_sum)(&x_sum, &bits), sum, sum_abs);
                }
            }
        }
    }
}
