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
