//! Kernel benchmark: ns per distance and GB/s of code bytes for every kernel on every
//! kernel set this CPU supports, beside a plain f32 dot product of the same d, on one core.
//! The int4 rows use codes of the same d (d / 2 bytes), so their ns compare per dimension
//! with the int8 rows directly.
//!
//!     cargo bench -p quantvec-core --bench kernels
//!
//! Each figure is the best of several rounds over 256 vector pairs (about 1 MB, L2-resident),
//! so that a noisy neighbour inflates a round rather than the result. Ratios compare kernels
//! measured side by side in this one run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use quantvec_core::bits::BitVector;
use quantvec_core::int8::{self, Int8Ref, Int8Vector};
use quantvec_core::kernels::{self, Isa, Kernels};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const PAIRS: usize = 256;
const ROUNDS: usize = 7;
const ROUND_TIME: Duration = Duration::from_millis(40);

/// Best-of-rounds nanoseconds per call of `f(pair)`.
fn ns_per_call(mut f: impl FnMut(usize) -> f64) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..ROUNDS {
        let (mut calls, start) = (0u64, Instant::now());
        let mut sink = 0.0;
        while start.elapsed() < ROUND_TIME {
            for pair in 0..PAIRS {
                sink += f(pair);
            }
            calls += PAIRS as u64;
        }
        black_box(sink);
        best = best.min(start.elapsed().as_nanos() as f64 / calls as f64);
    }
    best
}

struct Data {
    floats: Vec<Vec<f32>>,
    float_norms: Vec<f64>,
    codes: Vec<Int8Vector>,
    /// Stored payloads, as a distance function reads them from a row.
    stored: Vec<Vec<u8>>,
    signs: Vec<BitVector>,
    /// Random 4-bit codes of the same d, packed two per byte.
    nibbles: Vec<Vec<u8>>,
    /// FastScan blocks of 32 rows' binary codes, and lookup tables for them.
    blocks: Vec<Vec<u8>>,
    luts: Vec<Vec<u8>>,
}

fn data(dims: usize) -> Data {
    let mut rng = SmallRng::seed_from_u64(dims as u64);
    let floats: Vec<Vec<f32>> = (0..2 * PAIRS).map(|_| (0..dims).map(|_| rng.random_range(-1.0f32..1.0)).collect()).collect();
    let float_norms = floats.iter().map(|v| v.iter().map(|&f| f64::from(f) * f64::from(f)).sum::<f64>().sqrt()).collect();
    let codes: Vec<Int8Vector> = floats.iter().map(|v| Int8Vector::quantize_minmax(v).unwrap()).collect();
    let stored = codes.iter().map(Int8Vector::encode).collect();
    let signs = floats.iter().map(|v| BitVector::from_signs(v).unwrap()).collect();
    let nibbles = (0..2 * PAIRS).map(|_| (0..dims.div_ceil(2)).map(|_| rng.random::<u8>()).collect()).collect();
    let block_bytes = 32 * dims.div_ceil(8);
    let blocks = (0..PAIRS).map(|_| (0..block_bytes).map(|_| rng.random::<u8>()).collect()).collect();
    let luts = (0..PAIRS).map(|_| (0..block_bytes).map(|_| rng.random_range(0..=127u8)).collect()).collect();
    Data { floats, float_norms, codes, stored, signs, nibbles, blocks, luts }
}

/// (name, bytes read per call, timing) for one kernel set.
fn measure(k: &'static Kernels, d: &Data, dims: usize) -> Vec<(&'static str, usize, f64)> {
    let (x, q, b, s, n4) = (&d.floats, &d.codes, &d.signs, &d.stored, &d.nibbles);
    let code_bytes = dims;
    let nibble_bytes = dims.div_ceil(2);
    let mut unpacked = vec![0i8; 2 * nibble_bytes];
    let bit_bytes = dims.div_ceil(8);
    // Views of the stored payloads, as a distance function sees a row once it has read the
    // header (a few ns, measured separately below).
    let views: Vec<Int8Ref> = s.iter().map(|p| Int8Ref::decode(p).unwrap()).collect();
    let stored = |i: usize| views[i];
    vec![
        ("f32 dot (reference)", 8 * dims, ns_per_call(|i| f64::from((k.dot_f32)(&x[2 * i], &x[2 * i + 1])))),
        (
            "f32 cosine distance",
            8 * dims,
            ns_per_call(|i| {
                let dot = f64::from((k.dot_f32)(&x[2 * i], &x[2 * i + 1]));
                1.0 - dot / (d.float_norms[2 * i] * d.float_norms[2 * i + 1])
            }),
        ),
        ("int8 dot kernel", 2 * code_bytes, ns_per_call(|i| (k.dot_i8)(&q[2 * i].codes, &q[2 * i + 1].codes) as f64)),
        ("int4 dot kernel", 2 * nibble_bytes, ns_per_call(|i| (k.dot_u4)(&n4[2 * i], &n4[2 * i + 1]) as f64)),
        ("int8 cosine distance", 2 * code_bytes, ns_per_call(|i| int8::cosine_distance(k, &stored(2 * i), &stored(2 * i + 1)).unwrap())),
        ("int8 L2 distance", 2 * code_bytes, ns_per_call(|i| int8::l2_distance(k, &stored(2 * i), &stored(2 * i + 1)).unwrap())),
        ("int8 L1 (same scale)", 2 * code_bytes, ns_per_call(|i| (k.l1_i8)(&q[2 * i].codes, &q[2 * i + 1].codes) as f64)),
        ("int4 sums (q, q^2)", nibble_bytes, ns_per_call(|i| (k.sums_u4)(&n4[2 * i]).1 as f64)),
        (
            "int4 unpack to int8",
            nibble_bytes,
            ns_per_call(|i| {
                (k.unpack_u4)(&n4[2 * i], &mut unpacked);
                f64::from(unpacked[i % unpacked.len()])
            }),
        ),
        ("f32 query x int8 dot", 5 * code_bytes, ns_per_call(|i| f64::from((k.dot_f32_i8)(&x[2 * i], &q[2 * i + 1].codes)))),
        ("f32 query x int8 L2", 5 * code_bytes, ns_per_call(|i| f64::from((k.l2_f32_i8)(&x[2 * i], &q[2 * i + 1].codes, q[2 * i + 1].params)))),
        ("hamming", 2 * bit_bytes, ns_per_call(|i| (k.hamming)(b[2 * i].view().bytes(), b[2 * i + 1].view().bytes()) as f64)),
        ("jaccard (and/or)", 2 * bit_bytes, ns_per_call(|i| (k.and_or)(b[2 * i].view().bytes(), b[2 * i + 1].view().bytes()).0 as f64)),
        ("f32 query x bits", 4 * dims + bit_bytes, ns_per_call(|i| f64::from((k.masked_sum)(&x[2 * i], b[2 * i + 1].view().bytes())))),
        (
            "FastScan, 32 rows",
            2 * 32 * bit_bytes,
            ns_per_call(|i| {
                let mut sums = [0u32; 32];
                (k.fastscan)(&d.luts[i], &d.blocks[i], &mut sums);
                f64::from(sums[i % 32])
            }),
        ),
        ("int8 header decode", 16, ns_per_call(|i| f64::from(Int8Ref::decode(&s[i]).unwrap().params.scale))),
    ]
}

fn main() {
    let sets: Vec<&'static Kernels> = Isa::ALL.into_iter().filter_map(kernels::table).collect();
    let names: Vec<&str> = sets.iter().map(|k| k.isa.name()).collect();
    println!("kernel sets on this CPU: {} (best: {})", names.join(", "), Isa::best().name());
    for dims in [384, 768, 1536] {
        let d = data(dims);
        let results: Vec<_> = sets.iter().map(|k| measure(k, &d, dims)).collect();
        println!("\nd = {dims}: ns per distance (GB/s of vector bytes read)");
        print!("{:<24}", "kernel");
        for name in &names {
            print!("{:>20}", name);
        }
        println!();
        for row in 0..results[0].len() {
            let (kernel, bytes, _) = results[0][row];
            print!("{kernel:<24}");
            for set in &results {
                let ns = set[row].2;
                print!("{:>20}", format!("{ns:.1} ({:.1})", bytes as f64 / ns));
            }
            println!();
        }
        // Side-by-side ratios within each kernel set: kernel against kernel, and a whole
        // cosine distance against one over floats with cached norms.
        for (k, set) in sets.iter().zip(&results) {
            let ns = |name: &str| set.iter().find(|row| row.0 == name).expect("a measured row").2;
            println!(
                "{:<8} speed-up of int8 over f32: dot kernel {:.2}x, cosine distance {:.2}x; int4 dot {:.1} ns vs int8 dot {:.1} ns ({:.2}x)",
                k.isa.name(),
                ns("f32 dot (reference)") / ns("int8 dot kernel"),
                ns("f32 cosine distance") / ns("int8 cosine distance"),
                ns("int4 dot kernel"),
                ns("int8 dot kernel"),
                ns("int8 dot kernel") / ns("int4 dot kernel"),
            );
        }
    }
}
