//! Scalar reference kernels: the definition every SIMD kernel is tested against, and the
//! kernels a CPU without AVX2 (or a forced `scalar` setting) runs.

use crate::int8::Params;

pub fn dot_i8(a: &[i8], b: &[i8]) -> i64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(&x, &y)| i64::from(x) * i64::from(y)).sum()
}

pub fn l1_i8(a: &[i8], b: &[i8]) -> u64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(&x, &y)| u64::from((i16::from(x) - i16::from(y)).unsigned_abs())).sum()
}

pub fn l1_dequant(a: &[i8], pa: Params, b: &[i8], pb: Params) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(&x, &y)| (pa.dequantize(x) - pb.dequantize(y)).abs()).sum()
}

pub fn dot_f32_i8(x: &[f32], q: &[i8]) -> f32 {
    assert_eq!(x.len(), q.len());
    x.iter().zip(q).map(|(&f, &c)| f * f32::from(c)).sum()
}

pub fn l2_f32_i8(x: &[f32], q: &[i8], p: Params) -> f32 {
    assert_eq!(x.len(), q.len());
    x.iter()
        .zip(q)
        .map(|(&f, &c)| {
            let d = f - p.dequantize(c);
            d * d
        })
        .sum()
}

pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(&x, &y)| x * y).sum()
}

/// `out[j] = x · rows[j]` for the consecutive rows of `x.len()` floats in `rows`.
pub fn dot_f32_rows(x: &[f32], rows: &[f32], out: &mut [f32]) {
    assert_eq!(rows.len(), x.len() * out.len());
    for (o, row) in out.iter_mut().zip(rows.chunks_exact(x.len().max(1))) {
        *o = dot_f32(x, row);
    }
}

/// Rows in one block of [`super::pack_rows`]'s layout.
pub const PACKED_ROWS: usize = 16;

/// `out[r][j]` = row r of `xs` · row j of `packed`, for rows of `d` floats, with `packed` in
/// [`super::pack_rows`]'s layout (blocks of 16 rows, component-major) and `out` row-major, 16
/// columns per block. Each sum runs in component order; the SIMD tables fuse each
/// multiply-add (and so agree with each other to the bit), this one rounds the product and
/// the sum apart, which lets the compiler keep the 16 sums in vector registers.
pub fn dot_f32_packed(xs: &[f32], packed: &[f32], d: usize, out: &mut [f32]) {
    let (rows, columns) = packed_shape(xs, packed, d, out);
    for (x, out) in xs.chunks_exact(d.max(1)).take(rows).zip(out.chunks_exact_mut(columns.max(1))) {
        for (block, out) in packed.chunks_exact((PACKED_ROWS * d).max(1)).zip(out.chunks_exact_mut(PACKED_ROWS)) {
            let mut sums = [0.0f32; PACKED_ROWS];
            for (&v, column) in x.iter().zip(block.chunks_exact(PACKED_ROWS)) {
                for (sum, &c) in sums.iter_mut().zip(column) {
                    *sum += v * c;
                }
            }
            out.copy_from_slice(&sums);
        }
    }
}

/// (rows of `xs`, columns of `out`) for [`dot_f32_packed`], checking that the slices agree.
pub(super) fn packed_shape(xs: &[f32], packed: &[f32], d: usize, out: &[f32]) -> (usize, usize) {
    if d == 0 {
        assert!(xs.is_empty() && packed.is_empty());
        return (0, 0);
    }
    assert!(xs.len().is_multiple_of(d) && packed.len().is_multiple_of(PACKED_ROWS * d));
    let (rows, columns) = (xs.len() / d, packed.len() / d);
    assert_eq!(out.len(), rows * columns);
    (rows, columns)
}

/// `out[j] = x · rows[j]` for consecutive rows of `x.len()` float16 values (as bits).
pub fn dot_f16_rows(x: &[f32], rows: &[u16], out: &mut [f32]) {
    assert_eq!(rows.len(), x.len() * out.len());
    for (o, row) in out.iter_mut().zip(rows.chunks_exact(x.len().max(1))) {
        *o = x.iter().zip(row).map(|(&a, &b)| a * half::f16::from_bits(b).to_f32()).sum();
    }
}

/// Σ a·b over 4-bit codes packed two per byte (both nibbles of every byte; padding
/// nibbles are 0 and add nothing).
pub fn dot_u4(a: &[u8], b: &[u8]) -> i64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(&x, &y)| i64::from(x & 15) * i64::from(y & 15) + i64::from(x >> 4) * i64::from(y >> 4)).sum()
}

/// (Σ q, Σ q²) over the 4-bit codes packed two per byte.
pub fn sums_u4(a: &[u8]) -> (i64, i64) {
    a.iter().fold((0, 0), |(sum, sum_sq), &x| {
        let (lo, hi) = (i64::from(x & 15), i64::from(x >> 4));
        (sum + lo + hi, sum_sq + lo * lo + hi * hi)
    })
}

/// Packed 4-bit codes as one byte each: `out[2i]` is byte i's low nibble, `out[2i + 1]`
/// its high one; `out` holds exactly two codes per byte.
pub fn unpack_u4(packed: &[u8], out: &mut [i8]) {
    assert_eq!(out.len(), 2 * packed.len());
    for (pair, &byte) in out.chunks_exact_mut(2).zip(packed) {
        pair[0] = (byte & 15) as i8;
        pair[1] = (byte >> 4) as i8;
    }
}

pub fn hamming(a: &[u8], b: &[u8]) -> u64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(&x, &y)| u64::from((x ^ y).count_ones())).sum()
}

pub fn and_or(a: &[u8], b: &[u8]) -> (u64, u64) {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold((0, 0), |(and, or), (&x, &y)| (and + u64::from((x & y).count_ones()), or + u64::from((x | y).count_ones())))
}

/// Sum of `x[i]` over the dimensions whose bit is set; bit `i` is bit `i % 8` of byte `i / 8`.
pub fn masked_sum(x: &[f32], bits: &[u8]) -> f32 {
    assert_eq!(bits.len(), x.len().div_ceil(8));
    // Multiplying by the bit (0 or 1) instead of branching lets the compiler vectorise.
    x.chunks(8).zip(bits).map(|(values, &byte)| values.iter().enumerate().map(|(j, &v)| v * f32::from((byte >> j) & 1)).sum::<f32>()).sum()
}

/// Rows of a FastScan block, and the pairs of 4-dimension groups a u16 sum holds safely:
/// each pair adds at most 2 × 127 (LUT entries are 7-bit), and 256 × 254 < 2^16.
pub const BLOCK_ROWS: usize = 32;
pub const PAIRS_PER_U16: usize = 256;

/// What turns a row's FastScan sum σ and its factors α, β into its first-pass estimate:
/// `list_term + β + α · (sum_weight · (lut_scale · σ + lut_offset) − q_weight)` (see
/// `ivf::Scorer::estimate_block`).
#[derive(Clone, Copy, Debug)]
pub struct EstimateTerms {
    pub lut_scale: f32,
    pub lut_offset: f32,
    pub sum_weight: f32,
    pub q_weight: f32,
    pub list_term: f32,
}

/// The first-pass estimates of a block's 32 rows from their FastScan sums and their α and β
/// factors (32 native-endian f32 each, as a block stores them). Inlined into each tier's
/// version, which the compiler vectorises with that tier's registers: every tier computes
/// the same operations in the same order, so their results are equal bit for bit.
#[inline(always)]
pub fn estimate_rows(sums: &[u32; BLOCK_ROWS], alphas: &[u8; 4 * BLOCK_ROWS], betas: &[u8; 4 * BLOCK_ROWS], terms: EstimateTerms, out: &mut [f32; BLOCK_ROWS]) {
    let factor = |bytes: &[u8; 4 * BLOCK_ROWS], r: usize| f32::from_ne_bytes([bytes[4 * r], bytes[4 * r + 1], bytes[4 * r + 2], bytes[4 * r + 3]]);
    for (r, o) in out.iter_mut().enumerate() {
        let set_sum = terms.lut_scale * sums[r] as f32 + terms.lut_offset;
        *o = terms.list_term + factor(betas, r) + factor(alphas, r) * (terms.sum_weight * set_sum - terms.q_weight);
    }
}

/// [`estimate_rows`] as a kernel of the scalar table (not inlined into a caller).
pub fn estimate_rows_scalar(
    sums: &[u32; BLOCK_ROWS],
    alphas: &[u8; 4 * BLOCK_ROWS],
    betas: &[u8; 4 * BLOCK_ROWS],
    terms: EstimateTerms,
    out: &mut [f32; BLOCK_ROWS],
) {
    estimate_rows(sums, alphas, betas, terms, out);
}

/// FastScan: for each of the 32 rows of a block, the sum of the LUT entries its code
/// nibbles select. `block` holds 32 bytes per code byte p (byte r = row r's code byte p,
/// whose low and high nibbles are 4-dimension groups 2p and 2p + 1); `lut` holds 32 bytes
/// per p: the 16 entries (at most 127) of group 2p, then those of group 2p + 1.
pub fn fastscan(lut: &[u8], block: &[u8], out: &mut [u32; BLOCK_ROWS]) {
    assert_eq!(lut.len(), block.len());
    assert_eq!(block.len() % BLOCK_ROWS, 0);
    out.fill(0);
    for (codes, table) in block.chunks_exact(BLOCK_ROWS).zip(lut.chunks_exact(32)) {
        for (sum, &byte) in out.iter_mut().zip(codes) {
            *sum += u32::from(table[usize::from(byte & 15)]) + u32::from(table[16 + usize::from(byte >> 4)]);
        }
    }
}
