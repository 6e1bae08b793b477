//! AVX2 + FMA kernels (x86_64). Integer kernels are exact; float kernels differ from the
//! scalar reference only by summation order.
//!
//! Every `unsafe fn` here is `#[target_feature]`: calling it is sound only on a CPU with
//! AVX2, FMA, F16C and POPCNT, which `Isa::Avx2::is_supported` checks before this table
//! is used.
//! Pointer reads stay inside the slices: each loop reads `[i, i + width)` only while
//! `i + width <= len`, and tails go through the scalar reference on subslices.

use std::arch::x86_64::*;

use super::{scalar, PackedTile};
use crate::int8::Params;

/// Elements per block whose 32-bit lane sums cannot overflow; see `dot_i8`.
const I32_SAFE_BLOCK: usize = 1 << 16;

#[target_feature(enable = "avx2")]
fn hsum_epi32(v: __m256i) -> i64 {
    let mut lanes = [0i32; 8];
    // SAFETY: `lanes` is 32 bytes, exactly one unaligned 256-bit store.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), v) };
    lanes.iter().map(|&x| i64::from(x)).sum()
}

#[target_feature(enable = "avx2")]
fn hsum_epi64(v: __m256i) -> u64 {
    let mut lanes = [0u64; 4];
    // SAFETY: `lanes` is 32 bytes, exactly one unaligned 256-bit store.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), v) };
    lanes.iter().sum()
}

#[target_feature(enable = "avx2")]
fn hsum_ps(v: __m256) -> f32 {
    let pair = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    let quad = _mm_add_ps(pair, _mm_movehl_ps(pair, pair));
    let single = _mm_add_ss(quad, _mm_shuffle_ps(quad, quad, 1));
    _mm_cvtss_f32(single)
}

/// Eight int8 codes widened to eight f32 lanes.
#[target_feature(enable = "avx2")]
unsafe fn load_i8x8_ps(p: *const i8) -> __m256 {
    // SAFETY: callers pass a `p` with 8 readable bytes (codes [i, i + 8) with i + 8 <= len);
    // AVX2 is enabled here and checked by `Isa::Avx2::is_supported` before any call.
    unsafe { _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(p.cast()))) }
}

#[target_feature(enable = "avx2")]
pub unsafe fn dot_i8(a: &[i8], b: &[i8]) -> i64 {
    assert_eq!(a.len(), b.len());
    let (n, pa, pb) = (a.len(), a.as_ptr(), b.as_ptr());
    let mut total = 0i64;
    let mut i = 0;
    while n - i >= 32 {
        // `vpmaddwd` adds two products of at most 128 * 128 per lane and step: 2^15. A block
        // of 2^16 elements is 2^11 steps, so each lane stays below 2^26.
        let end = i + ((n - i).min(I32_SAFE_BLOCK) & !31);
        let (mut acc0, mut acc1) = (_mm256_setzero_si256(), _mm256_setzero_si256());
        while i < end {
            // SAFETY: end - i is a multiple of 32 and end <= n = a.len() = b.len() (asserted),
            // so the four 16-byte loads read [i, i + 32) inside both slices.
            unsafe {
                let a0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(pa.add(i).cast()));
                let b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(pb.add(i).cast()));
                let a1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(pa.add(i + 16).cast()));
                let b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(pb.add(i + 16).cast()));
                acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(a0, b0));
                acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(a1, b1));
            }
            i += 32;
        }
        total += hsum_epi32(acc0) + hsum_epi32(acc1);
    }
    total + scalar::dot_i8(&a[i..], &b[i..])
}

#[target_feature(enable = "avx2")]
pub unsafe fn l1_i8(a: &[i8], b: &[i8]) -> u64 {
    assert_eq!(a.len(), b.len());
    let (n, pa, pb) = (a.len(), a.as_ptr(), b.as_ptr());
    // Flipping the sign bit maps int8 to uint8 order-preservingly, so |a - b| is unchanged
    // and `vpsadbw` (sums of absolute byte differences into 64-bit lanes) applies.
    let bias = _mm256_set1_epi8(i8::MIN);
    let mut acc = _mm256_setzero_si256();
    let mut i = 0;
    while i + 32 <= n {
        // SAFETY: i + 32 <= n = a.len() = b.len() (asserted): both 32-byte loads are in bounds.
        unsafe {
            let va = _mm256_xor_si256(_mm256_loadu_si256(pa.add(i).cast()), bias);
            let vb = _mm256_xor_si256(_mm256_loadu_si256(pb.add(i).cast()), bias);
            acc = _mm256_add_epi64(acc, _mm256_sad_epu8(va, vb));
        }
        i += 32;
    }
    hsum_epi64(acc) + scalar::l1_i8(&a[i..], &b[i..])
}

/// Products of the nibbles of 32 packed bytes, pairwise-summed into 8 i32 lanes.
///
/// `vpmaddubsw` multiplies unsigned by signed bytes; nibbles (0..=15) are both, and each
/// i16 lane adds two products of at most 15 · 15 = 225, so 450 (no saturation: it is
/// far below 2^15). The low- and high-nibble i16 lanes add to at most 900, and `vpmaddwd`
/// with ones adds two of those per i32 lane: at most 1800 per call.
#[inline]
#[target_feature(enable = "avx2")]
fn dot_u4_step(va: __m256i, vb: __m256i) -> __m256i {
    let nibble = _mm256_set1_epi8(0x0f);
    let lo = _mm256_maddubs_epi16(_mm256_and_si256(va, nibble), _mm256_and_si256(vb, nibble));
    let hi = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(va, 4), nibble), _mm256_and_si256(_mm256_srli_epi16(vb, 4), nibble));
    _mm256_madd_epi16(_mm256_add_epi16(lo, hi), _mm256_set1_epi16(1))
}

#[target_feature(enable = "avx2")]
pub unsafe fn dot_u4(a: &[u8], b: &[u8]) -> i64 {
    assert_eq!(a.len(), b.len());
    let (n, pa, pb) = (a.len(), a.as_ptr(), b.as_ptr());
    let mut total = 0i64;
    let mut i = 0;
    while n - i >= 32 {
        // Each 32-byte step adds at most 1800 per i32 lane (see `dot_u4_step`). A block of
        // 2^16 bytes is 2^11 steps, so each lane stays below 1800 · 2^11 < 2^22.
        let end = i + ((n - i).min(I32_SAFE_BLOCK) & !31);
        let (mut acc0, mut acc1) = (_mm256_setzero_si256(), _mm256_setzero_si256());
        while i + 64 <= end {
            // SAFETY: i + 64 <= end <= n = a.len() = b.len() (asserted): the four 32-byte
            // loads read [i, i + 64) inside both slices.
            unsafe {
                acc0 = _mm256_add_epi32(acc0, dot_u4_step(_mm256_loadu_si256(pa.add(i).cast()), _mm256_loadu_si256(pb.add(i).cast())));
                acc1 = _mm256_add_epi32(acc1, dot_u4_step(_mm256_loadu_si256(pa.add(i + 32).cast()), _mm256_loadu_si256(pb.add(i + 32).cast())));
            }
            i += 64;
        }
        if i < end {
            // SAFETY: end - i is a multiple of 32 below 64, so i + 32 = end <= n: both loads
            // read [i, i + 32) inside the slices.
            unsafe { acc0 = _mm256_add_epi32(acc0, dot_u4_step(_mm256_loadu_si256(pa.add(i).cast()), _mm256_loadu_si256(pb.add(i).cast()))) };
            i += 32;
        }
        total += hsum_epi32(acc0) + hsum_epi32(acc1);
    }
    total + scalar::dot_u4(&a[i..], &b[i..])
}

#[target_feature(enable = "avx2")]
pub unsafe fn sums_u4(a: &[u8]) -> (i64, i64) {
    let (n, pa) = (a.len(), a.as_ptr());
    let nibble = _mm256_set1_epi8(0x0f);
    let zero = _mm256_setzero_si256();
    // SAFETY: `NIBBLE_SQUARES` is 16 bytes, one unaligned 128-bit load.
    let squares = _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(super::NIBBLE_SQUARES.as_ptr().cast()) });
    // `vpsadbw` against zero sums 8 bytes into each 64-bit lane: a step adds at most
    // 8 · 30 to `sum` and 8 · 225 · 2 to `sum_sq`, so neither can overflow at any length.
    let (mut sum, mut sum_sq) = (zero, zero);
    let mut i = 0;
    while i + 32 <= n {
        // SAFETY: i + 32 <= n = a.len(): the load reads [i, i + 32) inside the slice.
        let v = unsafe { _mm256_loadu_si256(pa.add(i).cast()) };
        let lo = _mm256_and_si256(v, nibble);
        let hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
        // lo + hi <= 30 fits a byte; squares (at most 225) are looked up per nibble.
        sum = _mm256_add_epi64(sum, _mm256_sad_epu8(_mm256_add_epi8(lo, hi), zero));
        let sq = _mm256_add_epi64(_mm256_sad_epu8(_mm256_shuffle_epi8(squares, lo), zero), _mm256_sad_epu8(_mm256_shuffle_epi8(squares, hi), zero));
        sum_sq = _mm256_add_epi64(sum_sq, sq);
        i += 32;
    }
    let (tail_sum, tail_sum_sq) = scalar::sums_u4(&a[i..]);
    (hsum_epi64(sum) as i64 + tail_sum, hsum_epi64(sum_sq) as i64 + tail_sum_sq)
}

#[target_feature(enable = "avx2")]
pub unsafe fn unpack_u4(packed: &[u8], out: &mut [i8]) {
    assert_eq!(out.len(), 2 * packed.len());
    let (n, pp, po) = (packed.len(), packed.as_ptr(), out.as_mut_ptr());
    // Each byte zero-extended to a 16-bit lane `v` = 16·hi + lo: `v | v << 4` holds lo in
    // bits 0-3 and hi in bits 8-11, which the mask keeps, so the lane's two bytes are
    // (lo, hi): codes 2i and 2i + 1, in order (no 128-bit lane split to undo).
    let mask = _mm256_set1_epi16(0x0f0f);
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: i + 16 <= n = packed.len(): the load reads [i, i + 16) inside `packed`;
        // the store writes [2i, 2i + 32) of `out`, and 2i + 32 <= 2n = out.len() (asserted).
        unsafe {
            let v = _mm256_cvtepu8_epi16(_mm_loadu_si128(pp.add(i).cast()));
            _mm256_storeu_si256(po.add(2 * i).cast(), _mm256_and_si256(_mm256_or_si256(v, _mm256_slli_epi16(v, 4)), mask));
        }
        i += 16;
    }
    scalar::unpack_u4(&packed[i..], &mut out[2 * i..]);
}

#[target_feature(enable = "avx2,fma")]
pub unsafe fn l1_dequant(a: &[i8], pa: Params, b: &[i8], pb: Params) -> f32 {
    assert_eq!(a.len(), b.len());
    let (n, qa, qb) = (a.len(), a.as_ptr(), b.as_ptr());
    // sa(a - za) - sb(b - zb) = sa*a - sb*b - c with c = sa*za - sb*zb.
    let sa = _mm256_set1_ps(pa.scale);
    let sb = _mm256_set1_ps(pb.scale);
    let c = _mm256_set1_ps(pa.scale * f32::from(pa.zero_point) - pb.scale * f32::from(pb.zero_point));
    let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(i32::MAX));
    let mut acc = _mm256_setzero_ps();
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 <= n = a.len() = b.len() (asserted): each helper reads 8 codes in bounds.
        unsafe {
            let u = _mm256_fmsub_ps(sa, load_i8x8_ps(qa.add(i)), c);
            let d = _mm256_fnmadd_ps(sb, load_i8x8_ps(qb.add(i)), u);
            acc = _mm256_add_ps(acc, _mm256_and_ps(d, abs_mask));
        }
        i += 8;
    }
    hsum_ps(acc) + scalar::l1_dequant(&a[i..], pa, &b[i..], pb)
}

#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot_f32_i8(x: &[f32], q: &[i8]) -> f32 {
    assert_eq!(x.len(), q.len());
    let (n, px, pq) = (x.len(), x.as_ptr(), q.as_ptr());
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: i + 16 <= n = x.len() = q.len() (asserted): the loads read [i, i + 16) of both.
        unsafe {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(px.add(i)), load_i8x8_ps(pq.add(i)), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(px.add(i + 8)), load_i8x8_ps(pq.add(i + 8)), acc1);
        }
        i += 16;
    }
    hsum_ps(_mm256_add_ps(acc0, acc1)) + scalar::dot_f32_i8(&x[i..], &q[i..])
}

#[target_feature(enable = "avx2,fma")]
pub unsafe fn l2_f32_i8(x: &[f32], q: &[i8], p: Params) -> f32 {
    assert_eq!(x.len(), q.len());
    let (n, px, pq) = (x.len(), x.as_ptr(), q.as_ptr());
    // x - s(q - z) = (x + s*z) - s*q: one add and one fused multiply per lane.
    let s = _mm256_set1_ps(p.scale);
    let sz = _mm256_set1_ps(p.scale * f32::from(p.zero_point));
    let (mut acc0, mut acc1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: i + 16 <= n = x.len() = q.len() (asserted): the loads read [i, i + 16) of both.
        unsafe {
            let d0 = _mm256_fnmadd_ps(s, load_i8x8_ps(pq.add(i)), _mm256_add_ps(_mm256_loadu_ps(px.add(i)), sz));
            let d1 = _mm256_fnmadd_ps(s, load_i8x8_ps(pq.add(i + 8)), _mm256_add_ps(_mm256_loadu_ps(px.add(i + 8)), sz));
            acc0 = _mm256_fmadd_ps(d0, d0, acc0);
            acc1 = _mm256_fmadd_ps(d1, d1, acc1);
        }
        i += 16;
    }
    hsum_ps(_mm256_add_ps(acc0, acc1)) + scalar::l2_f32_i8(&x[i..], &q[i..], p)
}

#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let (n, pa, pb) = (a.len(), a.as_ptr(), b.as_ptr());
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut i = 0;
    while i + 32 <= n {
        for (k, lane) in acc.iter_mut().enumerate() {
            let at = i + 8 * k;
            // SAFETY: at + 8 <= i + 32 <= n.
            unsafe { *lane = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(at)), _mm256_loadu_ps(pb.add(at)), *lane) };
        }
        i += 32;
    }
    while i + 8 <= n {
        // SAFETY: i + 8 <= n = a.len() = b.len() (asserted).
        unsafe { acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), acc[0]) };
        i += 8;
    }
    let sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    hsum_ps(sum) + scalar::dot_f32(&a[i..], &b[i..])
}

/// Hardware `popcnt` over 64-bit words; at the code lengths of embeddings (a few hundred
/// to a few thousand bits) this is as fast as a vectorised popcount and much simpler.
#[target_feature(enable = "popcnt")]
pub fn hamming(a: &[u8], b: &[u8]) -> u64 {
    assert_eq!(a.len(), b.len());
    let (wa, wb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail = scalar::hamming(wa.remainder(), wb.remainder());
    wa.zip(wb).map(|(x, y)| u64::from((word(x) ^ word(y)).count_ones())).sum::<u64>() + tail
}

#[target_feature(enable = "popcnt")]
pub fn and_or(a: &[u8], b: &[u8]) -> (u64, u64) {
    assert_eq!(a.len(), b.len());
    let (wa, wb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (mut and, mut or) = scalar::and_or(wa.remainder(), wb.remainder());
    for (x, y) in wa.zip(wb) {
        let (x, y) = (word(x), word(y));
        and += u64::from((x & y).count_ones());
        or += u64::from((x | y).count_ones());
    }
    (and, or)
}

fn word(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().expect("chunks_exact(8) yields 8 bytes"))
}

#[target_feature(enable = "avx2")]
pub unsafe fn masked_sum(x: &[f32], bits: &[u8]) -> f32 {
    assert_eq!(bits.len(), x.len().div_ceil(8));
    let px = x.as_ptr();
    // Lane k tests bit k of the broadcast byte.
    let lane_bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    let mut acc = _mm256_setzero_ps();
    let full_bytes = x.len() / 8;
    for (j, &byte) in bits[..full_bytes].iter().enumerate() {
        let hit = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(i32::from(byte)), lane_bits), lane_bits);
        // SAFETY: 8 * j + 8 <= 8 * full_bytes <= x.len().
        let values = unsafe { _mm256_loadu_ps(px.add(8 * j)) };
        acc = _mm256_add_ps(acc, _mm256_and_ps(_mm256_castsi256_ps(hit), values));
    }
    let done = 8 * full_bytes;
    hsum_ps(acc) + scalar::masked_sum(&x[done..], &bits[full_bytes..])
}

#[target_feature(enable = "avx2")]
pub unsafe fn fastscan(lut: &[u8], block: &[u8], out: &mut [u32; scalar::BLOCK_ROWS]) {
    assert_eq!(lut.len(), block.len());
    assert_eq!(block.len() % scalar::BLOCK_ROWS, 0);
    let pairs = block.len() / scalar::BLOCK_ROWS;
    let (pl, pb) = (lut.as_ptr(), block.as_ptr());
    let low_nibble = _mm256_set1_epi8(0x0f);
    out.fill(0);
    let mut p = 0;
    while p < pairs {
        let end = pairs.min(p + scalar::PAIRS_PER_U16);
        // 16-bit lane j covers bytes 2j and 2j + 1, i.e. rows 2j (even) and 2j + 1 (odd).
        // `both` adds whole lanes (even + 256·odd, modulo 2^16) and `odd` the high bytes;
        // the even sums are recovered at the end, which saves masking every step.
        let (mut both_sum, mut odd) = (_mm256_setzero_si256(), _mm256_setzero_si256());
        while p < end {
            // SAFETY: p < pairs, so the 32 bytes at 32p are inside both slices.
            unsafe {
                let codes = _mm256_loadu_si256(pb.add(32 * p).cast());
                let table_low = _mm256_broadcastsi128_si256(_mm_loadu_si128(pl.add(32 * p).cast()));
                let table_high = _mm256_broadcastsi128_si256(_mm_loadu_si128(pl.add(32 * p + 16).cast()));
                let low = _mm256_shuffle_epi8(table_low, _mm256_and_si256(codes, low_nibble));
                let high = _mm256_shuffle_epi8(table_high, _mm256_and_si256(_mm256_srli_epi16(codes, 4), low_nibble));
                // Entries are at most 127, so their sum fits a byte.
                let both = _mm256_add_epi8(low, high);
                both_sum = _mm256_add_epi16(both_sum, both);
                odd = _mm256_add_epi16(odd, _mm256_srli_epi16(both, 8));
            }
            p += 1;
        }
        // Each true even sum fits 16 bits, so the wrapped difference is exact.
        let even = _mm256_sub_epi16(both_sum, _mm256_slli_epi16(odd, 8));
        let (mut e, mut o) = ([0u16; 16], [0u16; 16]);
        // SAFETY: each array is 32 bytes, one unaligned 256-bit store.
        unsafe {
            _mm256_storeu_si256(e.as_mut_ptr().cast(), even);
            _mm256_storeu_si256(o.as_mut_ptr().cast(), odd);
        }
        for j in 0..16 {
            out[2 * j] += u32::from(e[j]);
            out[2 * j + 1] += u32::from(o[j]);
        }
    }
}

/// [`scalar::estimate_rows`], vectorised by the compiler over AVX2's eight lanes.
#[target_feature(enable = "avx2")]
pub unsafe fn estimate_rows(
    sums: &[u32; scalar::BLOCK_ROWS],
    alphas: &[u8; 4 * scalar::BLOCK_ROWS],
    betas: &[u8; 4 * scalar::BLOCK_ROWS],
    terms: scalar::EstimateTerms,
    out: &mut [f32; scalar::BLOCK_ROWS],
) {
    scalar::estimate_rows(sums, alphas, betas, terms, out);
}

/// [`scalar::dot_f32_packed`]: up to four rows of `xs` against one block (16 packed rows, two
/// vectors) at a time, in eight accumulators.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot_f32_packed(xs: &[f32], packed: &[f32], d: usize, out: &mut [f32]) {
    let (rows, columns) = scalar::packed_shape(xs, packed, d, out);
    for r in (0..rows).step_by(4) {
        for b in 0..columns / scalar::PACKED_ROWS {
            let tile = PackedTile::at(xs, packed, d, out, columns, (r, b));
            // SAFETY: the AVX2 table is in use, so the CPU has AVX2 and FMA; the tile's rows
            // and block exist.
            unsafe {
                match (rows - r).min(4) {
                    4 => packed_tile::<4>(tile),
                    3 => packed_tile::<3>(tile),
                    2 => packed_tile::<2>(tile),
                    _ => packed_tile::<1>(tile),
                }
            }
        }
    }
}

#[target_feature(enable = "avx2,fma")]
unsafe fn packed_tile<const R: usize>(tile: PackedTile) {
    let PackedTile { xs, packed, d, out, columns } = tile;
    assert!(xs.len() >= R * d && packed.len() >= scalar::PACKED_ROWS * d && out.len() >= (R - 1) * columns + scalar::PACKED_ROWS);
    let (px, pp) = (xs.as_ptr(), packed.as_ptr());
    let mut acc = [[_mm256_setzero_ps(); 2]; R];
    for i in 0..d {
        // SAFETY: i < d, so every read is inside the R rows and the block asserted above.
        unsafe {
            let column = [_mm256_loadu_ps(pp.add(i * scalar::PACKED_ROWS)), _mm256_loadu_ps(pp.add(i * scalar::PACKED_ROWS + 8))];
            for (r, row) in acc.iter_mut().enumerate() {
                let x = _mm256_set1_ps(*px.add(r * d + i));
                for (a, &c) in row.iter_mut().zip(&column) {
                    *a = _mm256_fmadd_ps(x, c, *a);
                }
            }
        }
    }
    for (r, row) in acc.iter().enumerate() {
        for (half, &a) in row.iter().enumerate() {
            // SAFETY: inside `out`, as asserted above.
            unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(r * columns + half * 8), a) };
        }
    }
}

/// `out[j] = x · rows[j]`: four rows at a time, so each chunk of `x` is loaded once per
/// four fused multiply-adds.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot_f32_rows(x: &[f32], rows: &[f32], out: &mut [f32]) {
    let d = x.len();
    assert_eq!(rows.len(), d * out.len());
    let (px, pr) = (x.as_ptr(), rows.as_ptr());
    let whole = d & !7;
    let mut j = 0;
    while j + 4 <= out.len() {
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        while i < whole {
            // SAFETY: i + 8 <= whole <= d, inside x and inside each of the four rows.
            unsafe {
                let xv = _mm256_loadu_ps(px.add(i));
                for (r, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_fmadd_ps(xv, _mm256_loadu_ps(pr.add((j + r) * d + i)), *a);
                }
            }
            i += 8;
        }
        for (r, a) in acc.iter().enumerate() {
            let row = &rows[(j + r) * d..(j + r + 1) * d];
            out[j + r] = hsum_ps(*a) + scalar::dot_f32(&x[whole..], &row[whole..]);
        }
        j += 4;
    }
    for (o, row) in out[j..].iter_mut().zip(rows[j * d..].chunks_exact(d.max(1))) {
        // SAFETY: this function runs only where the AVX2 kernels are supported.
        *o = unsafe { dot_f32(x, row) };
    }
}

/// `out[j] = x · rows[j]` over float16 rows (F16C conversion), four rows at a time.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn dot_f16_rows(x: &[f32], rows: &[u16], out: &mut [f32]) {
    let d = x.len();
    assert_eq!(rows.len(), d * out.len());
    let (px, pr) = (x.as_ptr(), rows.as_ptr());
    let whole = d & !7;
    let mut j = 0;
    while j < out.len() {
        let group = (out.len() - j).min(4);
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        while i < whole {
            // SAFETY: i + 8 <= whole <= d, inside x and inside each row.
            unsafe {
                let xv = _mm256_loadu_ps(px.add(i));
                for (r, a) in acc.iter_mut().enumerate().take(group) {
                    let halves = _mm_loadu_si128(pr.add((j + r) * d + i).cast());
                    *a = _mm256_fmadd_ps(xv, _mm256_cvtph_ps(halves), *a);
                }
            }
            i += 8;
        }
        for (r, a) in acc.iter().enumerate().take(group) {
            let mut tail = [0.0f32; 1];
            scalar::dot_f16_rows(&x[whole..], &rows[(j + r) * d + whole..(j + r + 1) * d], &mut tail);
            out[j + r] = hsum_ps(*a) + tail[0];
        }
        j += group;
    }
}
