//! NEON kernels (aarch64, where NEON is part of the base ISA). Kernels without a NEON
//! version here use the scalar reference in the NEON table.
//!
//! Pointer reads stay inside the slices: each loop reads `[i, i + 16)` only while
//! `i + 16 <= len`, and tails go through the scalar reference on subslices.

use std::arch::aarch64::*;

use super::scalar;

/// Elements per block whose 32-bit lane sums cannot overflow; see `dot_i8`.
const I32_SAFE_BLOCK: usize = 1 << 16;

pub fn dot_i8(a: &[i8], b: &[i8]) -> i64 {
    assert_eq!(a.len(), b.len());
    let (n, pa, pb) = (a.len(), a.as_ptr(), b.as_ptr());
    let mut total = 0i64;
    let mut i = 0;
    while n - i >= 16 {
        // Each step adds two products of at most 2^14 per 32-bit lane; a block of 2^16
        // elements is 2^12 steps, so each lane stays below 2^27.
        let end = i + ((n - i).min(I32_SAFE_BLOCK) & !15);
        // SAFETY: every load reads 16 bytes at i with i + 16 <= end <= n.
        unsafe {
            let mut acc = vdupq_n_s32(0);
            while i < end {
                let va = vld1q_s8(pa.add(i));
                let vb = vld1q_s8(pb.add(i));
                acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(va), vget_low_s8(vb)));
                acc = vpadalq_s16(acc, vmull_high_s8(va, vb));
                i += 16;
            }
            total += vaddlvq_s32(acc);
        }
    }
    total + scalar::dot_i8(&a[i..], &b[i..])
}

pub fn l1_i8(a: &[i8], b: &[i8]) -> u64 {
    assert_eq!(a.len(), b.len());
    let (n, pa, pb) = (a.len(), a.as_ptr(), b.as_ptr());
    let mut total = 0u64;
    let mut i = 0;
    // SAFETY: every load reads 16 bytes at i with i + 16 <= n.
    unsafe {
        let mut acc = vdupq_n_u32(0);
        while i + 16 <= n {
            let va = vld1q_s8(pa.add(i));
            let vb = vld1q_s8(pb.add(i));
            // |a - b| <= 255 widened to 16 bits, pairwise-added into 32-bit lanes.
            let lo = vreinterpretq_u16_s16(vabdl_s8(vget_low_s8(va), vget_low_s8(vb)));
            let hi = vreinterpretq_u16_s16(vabdl_high_s8(va, vb));
            acc = vpadalq_u16(vpadalq_u16(acc, lo), hi);
            i += 16;
        }
        total += vaddlvq_u32(acc);
    }
    total + scalar::l1_i8(&a[i..], &b[i..])
}

pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let (n, pa, pb) = (a.len(), a.as_ptr(), b.as_ptr());
    let mut i = 0;
    // SAFETY: every load reads 4 floats at i + 4k with i + 16 <= n.
    let sum = unsafe {
        let mut acc = [vdupq_n_f32(0.0); 4];
        while i + 16 <= n {
            for (k, lane) in acc.iter_mut().enumerate() {
                *lane = vfmaq_f32(*lane, vld1q_f32(pa.add(i + 4 * k)), vld1q_f32(pb.add(i + 4 * k)));
            }
            i += 16;
        }
        vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])))
    };
    sum + scalar::dot_f32(&a[i..], &b[i..])
}

pub fn dot_f32_i8(x: &[f32], q: &[i8]) -> f32 {
    assert_eq!(x.len(), q.len());
    let (n, px, pq) = (x.len(), x.as_ptr(), q.as_ptr());
    let mut i = 0;
    // SAFETY: every load reads 16 codes at i and 4 floats at i + 4k with i + 16 <= n.
    let sum = unsafe {
        let mut acc = [vdupq_n_f32(0.0); 4];
        while i + 16 <= n {
            let codes = vld1q_s8(pq.add(i));
            let lo = vmovl_s8(vget_low_s8(codes));
            let hi = vmovl_high_s8(codes);
            let widened = [vmovl_s16(vget_low_s16(lo)), vmovl_high_s16(lo), vmovl_s16(vget_low_s16(hi)), vmovl_high_s16(hi)];
            for (k, lane) in acc.iter_mut().enumerate() {
                *lane = vfmaq_f32(*lane, vld1q_f32(px.add(i + 4 * k)), vcvtq_f32_s32(widened[k]));
            }
            i += 16;
        }
        vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])))
    };
    sum + scalar::dot_f32_i8(&x[i..], &q[i..])
}

pub fn hamming(a: &[u8], b: &[u8]) -> u64 {
    assert_eq!(a.len(), b.len());
    let (n, pa, pb) = (a.len(), a.as_ptr(), b.as_ptr());
    let mut total = 0u64;
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: 16-byte loads at i with i + 16 <= n. A 16-byte popcount is at most 128,
        // which the 8-bit horizontal add holds.
        total += u64::from(unsafe { vaddvq_u8(vcntq_u8(veorq_u8(vld1q_u8(pa.add(i)), vld1q_u8(pb.add(i))))) });
        i += 16;
    }
    total + scalar::hamming(&a[i..], &b[i..])
}

pub fn and_or(a: &[u8], b: &[u8]) -> (u64, u64) {
    assert_eq!(a.len(), b.len());
    let (n, pa, pb) = (a.len(), a.as_ptr(), b.as_ptr());
    let (mut and, mut or) = (0u64, 0u64);
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: as in `hamming`.
        unsafe {
            let (x, y) = (vld1q_u8(pa.add(i)), vld1q_u8(pb.add(i)));
            and += u64::from(vaddvq_u8(vcntq_u8(vandq_u8(x, y))));
            or += u64::from(vaddvq_u8(vcntq_u8(vorrq_u8(x, y))));
        }
        i += 16;
    }
    let (tail_and, tail_or) = scalar::and_or(&a[i..], &b[i..]);
    (and + tail_and, or + tail_or)
}

pub fn dot_u4(a: &[u8], b: &[u8]) -> i64 {
    assert_eq!(a.len(), b.len());
    let (n, pa, pb) = (a.len(), a.as_ptr(), b.as_ptr());
    let mut total = 0i64;
    let mut i = 0;
    while n - i >= 16 {
        // A nibble product is at most 15 · 15 = 225, so a 16-bit lane holding one low- and
        // one high-nibble product is at most 450, and each step adds four such lanes to
        // every 32-bit lane: 1800. A block of 2^16 bytes is 2^12 steps, so each lane stays
        // below 1800 · 2^12 < 2^23.
        let end = i + ((n - i).min(I32_SAFE_BLOCK) & !15);
        // SAFETY: every load reads 16 bytes at i with i + 16 <= end <= n.
        unsafe {
            let nibble = vdupq_n_u8(0x0f);
            let mut acc = vdupq_n_u32(0);
            while i < end {
                let (va, vb) = (vld1q_u8(pa.add(i)), vld1q_u8(pb.add(i)));
                let (a_lo, a_hi) = (vandq_u8(va, nibble), vshrq_n_u8::<4>(va));
                let (b_lo, b_hi) = (vandq_u8(vb, nibble), vshrq_n_u8::<4>(vb));
                let first = vmlal_u8(vmull_u8(vget_low_u8(a_lo), vget_low_u8(b_lo)), vget_low_u8(a_hi), vget_low_u8(b_hi));
                let second = vmlal_high_u8(vmull_high_u8(a_lo, b_lo), a_hi, b_hi);
                acc = vpadalq_u16(vpadalq_u16(acc, first), second);
                i += 16;
            }
            total += vaddlvq_u32(acc) as i64;
        }
    }
    total + scalar::dot_u4(&a[i..], &b[i..])
}

pub fn sums_u4(a: &[u8]) -> (i64, i64) {
    let (n, pa) = (a.len(), a.as_ptr());
    let (mut sum, mut sum_sq) = (0i64, 0i64);
    let mut i = 0;
    while n - i >= 16 {
        // Per step, each 32-bit lane of `sums` gains eight nibbles (at most 120) and each
        // lane of `squares` eight squares (at most 1800); over a block of 2^12 steps they
        // stay below 2^19 and 2^23.
        let end = i + ((n - i).min(I32_SAFE_BLOCK) & !15);
        // SAFETY: every load reads 16 bytes at i with i + 16 <= end <= n, and the table
        // load reads the 16 bytes of `NIBBLE_SQUARES`.
        unsafe {
            let nibble = vdupq_n_u8(0x0f);
            let table = vld1q_u8(super::NIBBLE_SQUARES.as_ptr());
            let (mut sums, mut squares) = (vdupq_n_u32(0), vdupq_n_u32(0));
            while i < end {
                let v = vld1q_u8(pa.add(i));
                let (lo, hi) = (vandq_u8(v, nibble), vshrq_n_u8::<4>(v));
                // lo + hi <= 30 fits a byte; squares (at most 225) are looked up per nibble.
                sums = vpadalq_u16(sums, vpaddlq_u8(vaddq_u8(lo, hi)));
                let (sq_lo, sq_hi) = (vqtbl1q_u8(table, lo), vqtbl1q_u8(table, hi));
                squares = vpadalq_u16(vpadalq_u16(squares, vaddl_u8(vget_low_u8(sq_lo), vget_low_u8(sq_hi))), vaddl_high_u8(sq_lo, sq_hi));
                i += 16;
            }
            sum += vaddlvq_u32(sums) as i64;
            sum_sq += vaddlvq_u32(squares) as i64;
        }
    }
    let (tail_sum, tail_sum_sq) = scalar::sums_u4(&a[i..]);
    (sum + tail_sum, sum_sq + tail_sum_sq)
}

pub fn unpack_u4(packed: &[u8], out: &mut [i8]) {
    assert_eq!(out.len(), 2 * packed.len());
    let (n, pp, po) = (packed.len(), packed.as_ptr(), out.as_mut_ptr().cast::<u8>());
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: the load reads [i, i + 16) of `packed` (i + 16 <= n); the stores write
        // [2i, 2i + 32) of `out`, inside it as 2i + 32 <= 2n = out.len() (asserted).
        unsafe {
            let v = vld1q_u8(pp.add(i));
            let (lo, hi) = (vandq_u8(v, vdupq_n_u8(0x0f)), vshrq_n_u8::<4>(v));
            // zip1/zip2 interleave the low and high halves: lo[0], hi[0], lo[1], hi[1], ...
            vst1q_u8(po.add(2 * i), vzip1q_u8(lo, hi));
            vst1q_u8(po.add(2 * i + 16), vzip2q_u8(lo, hi));
        }
        i += 16;
    }
    scalar::unpack_u4(&packed[i..], &mut out[2 * i..]);
}
