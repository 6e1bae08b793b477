//! AVX-512 kernels (x86_64): F + BW + VL for the arithmetic, VNNI for int8 dot products,
//! VPOPCNTDQ for bit counts.
//!
//! Every `unsafe fn` here is `#[target_feature]`: calling it is sound only on a CPU with
//! those features, which `Isa::Avx512::is_supported` checks before this table is used.
//! Tails use masked loads, which never touch memory outside the mask, so each read stays
//! inside its slice.

use std::arch::x86_64::*;

use super::{scalar, PackedTile};

use crate::int8::Params;

/// Elements per block whose 32-bit lane sums cannot overflow; see `dot_i8`.
const I32_SAFE_BLOCK: usize = 1 << 16;

/// Mask of the first `n` lanes (n <= 64).
fn first_lanes(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
pub unsafe fn dot_i8(a: &[i8], b: &[i8]) -> i64 {
    assert_eq!(a.len(), b.len());
    let (n, pa, pb) = (a.len(), a.as_ptr(), b.as_ptr());
    // `vpdpbusd` multiplies unsigned by signed bytes, so a is biased to a + 128 (flip the
    // sign bit): sum((a + 128) b) = sum(ab) + 128 sum(b). sum(b + 128) comes from `vpsadbw`
    // against zero on the biased b, in the same pass.
    let bias = _mm512_set1_epi8(i8::MIN);
    let zero = _mm512_setzero_si512();
    let mut biased_dot = 0i64;
    let mut biased_sum_b = _mm512_setzero_si512();
    let mut i = 0;
    while i < n {
        // Each `vpdpbusd` step adds four products of at most 255 * 128 per lane: < 2^17.
        // A block of 2^16 elements is 2^10 steps, so each lane stays below 2^27.
        let end = i + (n - i).min(I32_SAFE_BLOCK);
        let (mut acc0, mut acc1) = (_mm512_setzero_si512(), _mm512_setzero_si512());
        while i + 128 <= end {
            // SAFETY: i + 128 <= end <= n = a.len() = b.len() (asserted): the four 64-byte
            // loads read [i, i + 128) inside both slices.
            unsafe {
                let b0 = _mm512_loadu_si512(pb.add(i).cast());
                let b1 = _mm512_loadu_si512(pb.add(i + 64).cast());
                acc0 = _mm512_dpbusd_epi32(acc0, _mm512_xor_si512(_mm512_loadu_si512(pa.add(i).cast()), bias), b0);
                acc1 = _mm512_dpbusd_epi32(acc1, _mm512_xor_si512(_mm512_loadu_si512(pa.add(i + 64).cast()), bias), b1);
                let sums = _mm512_add_epi64(_mm512_sad_epu8(_mm512_xor_si512(b0, bias), zero), _mm512_sad_epu8(_mm512_xor_si512(b1, bias), zero));
                biased_sum_b = _mm512_add_epi64(biased_sum_b, sums);
            }
            i += 128;
        }
        while i < end {
            let k = first_lanes(end - i);
            // SAFETY: the loads are masked to the end - i <= n - i bytes left in a and b
            // (equal lengths, asserted); masked-off lanes touch no memory.
            unsafe {
                let va = _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, pa.add(i)), bias);
                let vb = _mm512_maskz_loadu_epi8(k, pb.add(i));
                // Lanes outside the mask hold b = 0, so they add nothing to the dot product,
                // and are zeroed again after biasing so they add nothing to sum(b + 128).
                acc0 = _mm512_dpbusd_epi32(acc0, va, vb);
                let vb_biased = _mm512_maskz_mov_epi8(k, _mm512_xor_si512(vb, bias));
                biased_sum_b = _mm512_add_epi64(biased_sum_b, _mm512_sad_epu8(vb_biased, zero));
            }
            i += 64;
        }
        biased_dot += i64::from(_mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1)));
    }
    let sum_b = _mm512_reduce_add_epi64(biased_sum_b) - 128 * n as i64;
    biased_dot - 128 * sum_b
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni")]
pub unsafe fn dot_u4(a: &[u8], b: &[u8]) -> i64 {
    assert_eq!(a.len(), b.len());
    let (n, pa, pb) = (a.len(), a.as_ptr(), b.as_ptr());
    // `vpdpbusd` multiplies unsigned by signed bytes; nibbles (0..=15) are both, so no bias
    // is needed. Low and high nibbles go to separate accumulators, which keeps the
    // dependency chains one `vpdpbusd` long.
    let nibble = _mm512_set1_epi8(0x0f);
    let mut total = 0i64;
    let mut i = 0;
    while i < n {
        // Each `vpdpbusd` adds four products of at most 15 · 15 = 225 per lane: 900. A
        // block of 2^16 bytes is 2^10 steps per accumulator, so each lane stays below
        // 900 · 2^10 < 2^20, and the block's whole sum (2^17 codes · 225 < 2^25) fits the
        // i32 that `_mm512_reduce_add_epi32` returns.
        let end = i + (n - i).min(I32_SAFE_BLOCK);
        let mut acc = [_mm512_setzero_si512(); 4];
        while i + 128 <= end {
            // SAFETY: i + 128 <= end <= n = a.len() = b.len() (asserted): the four 64-byte
            // loads read [i, i + 128) inside both slices.
            unsafe {
                let (a0, b0) = (_mm512_loadu_si512(pa.add(i).cast()), _mm512_loadu_si512(pb.add(i).cast()));
                let (a1, b1) = (_mm512_loadu_si512(pa.add(i + 64).cast()), _mm512_loadu_si512(pb.add(i + 64).cast()));
                acc[0] = _mm512_dpbusd_epi32(acc[0], _mm512_and_si512(a0, nibble), _mm512_and_si512(b0, nibble));
                acc[1] = _mm512_dpbusd_epi32(acc[1], high_nibbles(a0), high_nibbles(b0));
                acc[2] = _mm512_dpbusd_epi32(acc[2], _mm512_and_si512(a1, nibble), _mm512_and_si512(b1, nibble));
                acc[3] = _mm512_dpbusd_epi32(acc[3], high_nibbles(a1), high_nibbles(b1));
            }
            i += 128;
        }
        while i < end {
            let k = first_lanes(end - i);
            // SAFETY: the loads are masked to the end - i <= n - i bytes left in a and b
            // (equal lengths, asserted); masked-off lanes touch no memory and read as 0 in
            // both operands, so they add nothing.
            unsafe {
                let (va, vb) = (_mm512_maskz_loadu_epi8(k, pa.add(i).cast()), _mm512_maskz_loadu_epi8(k, pb.add(i).cast()));
                acc[0] = _mm512_dpbusd_epi32(acc[0], _mm512_and_si512(va, nibble), _mm512_and_si512(vb, nibble));
                acc[1] = _mm512_dpbusd_epi32(acc[1], high_nibbles(va), high_nibbles(vb));
            }
            i += 64;
        }
        let sum = _mm512_add_epi32(_mm512_add_epi32(acc[0], acc[1]), _mm512_add_epi32(acc[2], acc[3]));
        total += i64::from(_mm512_reduce_add_epi32(sum));
    }
    total
}

/// The high nibble of every byte, as a byte.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn high_nibbles(v: __m512i) -> __m512i {
    _mm512_and_si512(_mm512_srli_epi16(v, 4), _mm512_set1_epi8(0x0f))
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub unsafe fn sums_u4(a: &[u8]) -> (i64, i64) {
    let (n, pa) = (a.len(), a.as_ptr());
    let zero = _mm512_setzero_si512();
    // SAFETY: `NIBBLE_SQUARES` is 16 bytes, one unaligned 128-bit load.
    let squares = _mm512_broadcast_i32x4(unsafe { _mm_loadu_si128(super::NIBBLE_SQUARES.as_ptr().cast()) });
    // `vpsadbw` against zero sums 8 bytes into each 64-bit lane: a step adds at most
    // 8 · 30 to `sum` and 8 · 225 · 2 to `sum_sq`, so neither can overflow at any length.
    let (mut sum, mut sum_sq) = (zero, zero);
    let mut step = |v: __m512i| {
        let (lo, hi) = (_mm512_and_si512(v, _mm512_set1_epi8(0x0f)), high_nibbles(v));
        // lo + hi <= 30 fits a byte; squares (at most 225) are looked up per nibble.
        sum = _mm512_add_epi64(sum, _mm512_sad_epu8(_mm512_add_epi8(lo, hi), zero));
        let sq = _mm512_add_epi64(_mm512_sad_epu8(_mm512_shuffle_epi8(squares, lo), zero), _mm512_sad_epu8(_mm512_shuffle_epi8(squares, hi), zero));
        sum_sq = _mm512_add_epi64(sum_sq, sq);
    };
    let mut i = 0;
    while i + 64 <= n {
        // SAFETY: i + 64 <= n = a.len(): the load reads [i, i + 64) inside the slice.
        step(unsafe { _mm512_loadu_si512(pa.add(i).cast()) });
        i += 64;
    }
    if i < n {
        // SAFETY: the load is masked to the n - i bytes left in `a`; masked-off lanes touch
        // no memory and read as 0, whose nibbles and squares are 0.
        step(unsafe { _mm512_maskz_loadu_epi8(first_lanes(n - i), pa.add(i).cast()) });
    }
    (_mm512_reduce_add_epi64(sum), _mm512_reduce_add_epi64(sum_sq))
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub unsafe fn unpack_u4(packed: &[u8], out: &mut [i8]) {
    assert_eq!(out.len(), 2 * packed.len());
    let (n, pp, po) = (packed.len(), packed.as_ptr(), out.as_mut_ptr());
    // Each byte zero-extended to a 16-bit lane `v` = 16·hi + lo: `v | v << 4` holds lo in
    // bits 0-3 and hi in bits 8-11, which the mask keeps, so the lane's two bytes are
    // (lo, hi): codes 2i and 2i + 1, in order.
    let codes = |v: __m256i| {
        let v = _mm512_cvtepu8_epi16(v);
        _mm512_and_si512(_mm512_or_si512(v, _mm512_slli_epi16(v, 4)), _mm512_set1_epi16(0x0f0f))
    };
    // Full blocks use plain loads and stores: masked stores are much slower on some CPUs
    // (Zen 4), so only the tail is masked.
    let mut i = 0;
    while i + 32 <= n {
        // SAFETY: i + 32 <= n = packed.len(): the load reads [i, i + 32) inside `packed`;
        // the store writes [2i, 2i + 64) of `out`, and 2i + 64 <= 2n = out.len() (asserted).
        unsafe { _mm512_storeu_si512(po.add(2 * i).cast(), codes(_mm256_loadu_si256(pp.add(i).cast()))) };
        i += 32;
    }
    if i < n {
        let left = n - i;
        // SAFETY: the load is masked to the `left` < 32 bytes left in `packed`, the store to
        // their 2 · left codes, which are the rest of `out` (out.len() = 2n, asserted);
        // masked-off lanes touch no memory.
        unsafe {
            let v = _mm256_maskz_loadu_epi8(first_lanes(left) as __mmask32, pp.add(i).cast());
            _mm512_mask_storeu_epi8(po.add(2 * i), first_lanes(2 * left), codes(v));
        }
    }
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub unsafe fn l1_i8(a: &[i8], b: &[i8]) -> u64 {
    assert_eq!(a.len(), b.len());
    let (n, pa, pb) = (a.len(), a.as_ptr(), b.as_ptr());
    // Sign-bit flip maps int8 to uint8 keeping |a - b|; masked-off lanes are 0 in both
    // operands before the flip, so they differ by 0 after it.
    let bias = _mm512_set1_epi8(i8::MIN);
    let mut acc = _mm512_setzero_si512();
    let mut i = 0;
    while i < n {
        let k = first_lanes(n - i);
        // SAFETY: the loads are masked to the n - i bytes left in a and b (equal lengths,
        // asserted); masked-off lanes touch no memory.
        unsafe {
            let va = _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, pa.add(i)), bias);
            let vb = _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, pb.add(i)), bias);
            acc = _mm512_add_epi64(acc, _mm512_sad_epu8(va, vb));
        }
        i += 64;
    }
    _mm512_reduce_add_epi64(acc) as u64
}

/// Sixteen int8 codes (lanes outside `k` read as 0) widened to f32.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
unsafe fn load_i8x16_ps(k: __mmask16, p: *const i8) -> __m512 {
    // SAFETY: callers pass a `k` covering only readable bytes at `p` (the codes left in the
    // slice); masked-off lanes touch no memory.
    unsafe { _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(k, p))) }
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub unsafe fn l1_dequant(a: &[i8], pa: Params, b: &[i8], pb: Params) -> f32 {
    assert_eq!(a.len(), b.len());
    let (n, qa, qb) = (a.len(), a.as_ptr(), b.as_ptr());
    // sa(a - za) - sb(b - zb) = sa*a - sb*b - c with c = sa*za - sb*zb.
    let sa = _mm512_set1_ps(pa.scale);
    let sb = _mm512_set1_ps(pb.scale);
    let c = _mm512_set1_ps(pa.scale * f32::from(pa.zero_point) - pb.scale * f32::from(pb.zero_point));
    let mut acc = _mm512_setzero_ps();
    let mut i = 0;
    while i < n {
        let k = first_lanes(n - i) as __mmask16;
        // SAFETY: k covers at most the n - i codes left in a and b (equal lengths, asserted).
        unsafe {
            let u = _mm512_fmsub_ps(sa, load_i8x16_ps(k, qa.add(i)), c);
            let d = _mm512_fnmadd_ps(sb, load_i8x16_ps(k, qb.add(i)), u);
            // Masked-off lanes would add |c|: keep them out of the sum.
            acc = _mm512_mask_add_ps(acc, k, acc, _mm512_abs_ps(d));
        }
        i += 16;
    }
    _mm512_reduce_add_ps(acc)
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub unsafe fn dot_f32_i8(x: &[f32], q: &[i8]) -> f32 {
    assert_eq!(x.len(), q.len());
    let (n, px, pq) = (x.len(), x.as_ptr(), q.as_ptr());
    let (mut acc0, mut acc1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let mut i = 0;
    while i + 32 <= n {
        // SAFETY: i + 32 <= n = x.len() = q.len() (asserted): the loads read [i, i + 32) of both.
        unsafe {
            acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(px.add(i)), load_i8x16_ps(0xffff, pq.add(i)), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(px.add(i + 16)), load_i8x16_ps(0xffff, pq.add(i + 16)), acc1);
        }
        i += 32;
    }
    while i < n {
        let k = first_lanes(n - i) as __mmask16;
        // SAFETY: the loads are masked to the n - i values left in x and q (equal lengths, asserted).
        unsafe {
            acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, px.add(i)), load_i8x16_ps(k, pq.add(i)), acc0);
        }
        i += 16;
    }
    _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1))
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub unsafe fn l2_f32_i8(x: &[f32], q: &[i8], p: Params) -> f32 {
    assert_eq!(x.len(), q.len());
    let (n, px, pq) = (x.len(), x.as_ptr(), q.as_ptr());
    // x - s(q - z) = (x + s*z) - s*q.
    let s = _mm512_set1_ps(p.scale);
    let sz = _mm512_set1_ps(p.scale * f32::from(p.zero_point));
    let mut acc = _mm512_setzero_ps();
    let mut i = 0;
    while i < n {
        let k = first_lanes(n - i) as __mmask16;
        // SAFETY: the loads are masked to the n - i values left in x and q (equal lengths, asserted).
        unsafe {
            let xz = _mm512_add_ps(_mm512_maskz_loadu_ps(k, px.add(i)), sz);
            let d = _mm512_fnmadd_ps(s, load_i8x16_ps(k, pq.add(i)), xz);
            // Masked-off lanes hold s*z, not 0: accumulate only the lanes in `k`.
            acc = _mm512_mask3_fmadd_ps(d, d, acc, k);
        }
        i += 16;
    }
    _mm512_reduce_add_ps(acc)
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub unsafe fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let (n, pa, pb) = (a.len(), a.as_ptr(), b.as_ptr());
    let mut acc = [_mm512_setzero_ps(); 4];
    let mut i = 0;
    while i + 64 <= n {
        for (k, lane) in acc.iter_mut().enumerate() {
            let at = i + 16 * k;
            // SAFETY: at + 16 <= i + 64 <= n.
            unsafe { *lane = _mm512_fmadd_ps(_mm512_loadu_ps(pa.add(at)), _mm512_loadu_ps(pb.add(at)), *lane) };
        }
        i += 64;
    }
    while i < n {
        let k = first_lanes(n - i) as __mmask16;
        // SAFETY: the loads are masked to the n - i floats left in a and b (equal lengths, asserted).
        unsafe {
            acc[0] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, pa.add(i)), _mm512_maskz_loadu_ps(k, pb.add(i)), acc[0]);
        }
        i += 16;
    }
    _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])))
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vpopcntdq")]
pub unsafe fn hamming(a: &[u8], b: &[u8]) -> u64 {
    assert_eq!(a.len(), b.len());
    let (n, pa, pb) = (a.len(), a.as_ptr(), b.as_ptr());
    let mut acc = _mm512_setzero_si512();
    let mut i = 0;
    while i < n {
        let k = first_lanes(n - i);
        // SAFETY: the loads are masked to the n - i bytes left in a and b (equal lengths, asserted).
        unsafe {
            let x = _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, pa.add(i).cast()), _mm512_maskz_loadu_epi8(k, pb.add(i).cast()));
            acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
        }
        i += 64;
    }
    _mm512_reduce_add_epi64(acc) as u64
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vpopcntdq")]
pub unsafe fn and_or(a: &[u8], b: &[u8]) -> (u64, u64) {
    assert_eq!(a.len(), b.len());
    let (n, pa, pb) = (a.len(), a.as_ptr(), b.as_ptr());
    let (mut and, mut or) = (_mm512_setzero_si512(), _mm512_setzero_si512());
    let mut i = 0;
    while i < n {
        let k = first_lanes(n - i);
        // SAFETY: the loads are masked to the n - i bytes left in a and b (equal lengths, asserted).
        unsafe {
            let x = _mm512_maskz_loadu_epi8(k, pa.add(i).cast());
            let y = _mm512_maskz_loadu_epi8(k, pb.add(i).cast());
            and = _mm512_add_epi64(and, _mm512_popcnt_epi64(_mm512_and_si512(x, y)));
            or = _mm512_add_epi64(or, _mm512_popcnt_epi64(_mm512_or_si512(x, y)));
        }
        i += 64;
    }
    (_mm512_reduce_add_epi64(and) as u64, _mm512_reduce_add_epi64(or) as u64)
}

#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub unsafe fn masked_sum(x: &[f32], bits: &[u8]) -> f32 {
    assert_eq!(bits.len(), x.len().div_ceil(8));
    let (n, px) = (x.len(), x.as_ptr());
    let mut acc = _mm512_setzero_ps();
    // Bit i of the code is bit i % 8 of byte i / 8: two code bytes are exactly the lane
    // mask of sixteen consecutive dimensions.
    for (j, pair) in bits.chunks(2).enumerate() {
        let i = 16 * j;
        let set = u16::from(pair[0]) | pair.get(1).map_or(0, |&hi| u16::from(hi) << 8);
        let k = first_lanes(n - i) as __mmask16;
        // SAFETY: the load is masked to the n - i lanes that remain in `x`.
        let values = unsafe { _mm512_maskz_loadu_ps(k, px.add(i)) };
        acc = _mm512_mask_add_ps(acc, set & k, acc, values);
    }
    _mm512_reduce_add_ps(acc)
}

/// `out[j] = x · rows[j]`: four rows at a time, so each chunk of `x` is loaded once per
/// four fused multiply-adds.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub unsafe fn dot_f32_rows(x: &[f32], rows: &[f32], out: &mut [f32]) {
    let d = x.len();
    assert_eq!(rows.len(), d * out.len());
    let (px, pr) = (x.as_ptr(), rows.as_ptr());
    let mut j = 0;
    while j + 4 <= out.len() {
        let mut acc = [_mm512_setzero_ps(); 4];
        let mut i = 0;
        while i < d {
            let k = first_lanes(d - i) as __mmask16;
            // SAFETY: masked loads read only the d - i floats left in x and in each row.
            unsafe {
                let xv = _mm512_maskz_loadu_ps(k, px.add(i));
                for (r, a) in acc.iter_mut().enumerate() {
                    *a = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(k, pr.add((j + r) * d + i)), *a);
                }
            }
            i += 16;
        }
        for (r, a) in acc.iter().enumerate() {
            out[j + r] = _mm512_reduce_add_ps(*a);
        }
        j += 4;
    }
    for (o, row) in out[j..].iter_mut().zip(rows[j * d..].chunks_exact(d.max(1))) {
        // SAFETY: this function runs only where the AVX-512 kernels are supported.
        *o = unsafe { dot_f32(x, row) };
    }
}

/// [`scalar::dot_f32_packed`]: up to four rows of `xs` against up to two blocks (32 packed
/// rows) at a time, in eight accumulators, so that each load of packed values serves four
/// fused multiply-adds and the FMA units rather than the loads bound it.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub unsafe fn dot_f32_packed(xs: &[f32], packed: &[f32], d: usize, out: &mut [f32]) {
    let (rows, columns) = scalar::packed_shape(xs, packed, d, out);
    let blocks = columns / scalar::PACKED_ROWS;
    for r in (0..rows).step_by(4) {
        for b in (0..blocks).step_by(2) {
            let tile = PackedTile::at(xs, packed, d, out, columns, (r, b));
            // SAFETY: the AVX-512 table is in use, so the CPU has AVX-512 F; the tile's rows
            // and blocks exist, since both counts are at most what is left.
            unsafe {
                match ((rows - r).min(4), (blocks - b).min(2)) {
                    (4, 2) => packed_tile::<4, 2>(tile),
                    (4, _) => packed_tile::<4, 1>(tile),
                    (3, 2) => packed_tile::<3, 2>(tile),
                    (3, _) => packed_tile::<3, 1>(tile),
                    (2, 2) => packed_tile::<2, 2>(tile),
                    (2, _) => packed_tile::<2, 1>(tile),
                    (_, 2) => packed_tile::<1, 2>(tile),
                    _ => packed_tile::<1, 1>(tile),
                }
            }
        }
    }
}

#[target_feature(enable = "avx512f")]
unsafe fn packed_tile<const R: usize, const B: usize>(tile: PackedTile) {
    let PackedTile { xs, packed, d, out, columns } = tile;
    assert!(xs.len() >= R * d && packed.len() >= B * scalar::PACKED_ROWS * d && out.len() >= (R - 1) * columns + B * scalar::PACKED_ROWS);
    let (px, pp) = (xs.as_ptr(), packed.as_ptr());
    let mut acc = [[_mm512_setzero_ps(); B]; R];
    for i in 0..d {
        // SAFETY: i < d, so every read is inside the R rows and B blocks asserted above.
        unsafe {
            let mut column = [_mm512_setzero_ps(); B];
            for (b, c) in column.iter_mut().enumerate() {
                *c = _mm512_loadu_ps(pp.add(b * scalar::PACKED_ROWS * d + i * scalar::PACKED_ROWS));
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let x = _mm512_set1_ps(*px.add(r * d + i));
                for (a, &c) in row.iter_mut().zip(&column) {
                    *a = _mm512_fmadd_ps(x, c, *a);
                }
            }
        }
    }
    for (r, row) in acc.iter().enumerate() {
        for (b, &a) in row.iter().enumerate() {
            // SAFETY: inside `out`, as asserted above.
            unsafe { _mm512_storeu_ps(out.as_mut_ptr().add(r * columns + b * scalar::PACKED_ROWS), a) };
        }
    }
}

/// `out[j] = x · rows[j]` over float16 rows, four rows at a time.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub unsafe fn dot_f16_rows(x: &[f32], rows: &[u16], out: &mut [f32]) {
    let d = x.len();
    assert_eq!(rows.len(), d * out.len());
    let (px, pr) = (x.as_ptr(), rows.as_ptr());
    let mut j = 0;
    while j < out.len() {
        let group = (out.len() - j).min(4);
        let mut acc = [_mm512_setzero_ps(); 4];
        let mut i = 0;
        while i < d {
            let k = first_lanes(d - i) as __mmask16;
            // SAFETY: masked loads read only the d - i values left in x and in each row.
            unsafe {
                let xv = _mm512_maskz_loadu_ps(k, px.add(i));
                for (r, a) in acc.iter_mut().enumerate().take(group) {
                    let halves = _mm256_maskz_loadu_epi16(k, pr.add((j + r) * d + i).cast());
                    *a = _mm512_fmadd_ps(xv, _mm512_cvtph_ps(halves), *a);
                }
            }
            i += 16;
        }
        for (r, a) in acc.iter().enumerate().take(group) {
            out[j + r] = _mm512_reduce_add_ps(*a);
        }
        j += group;
    }
}
