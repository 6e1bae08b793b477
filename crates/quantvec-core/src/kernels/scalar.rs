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
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (pa.dequantize(x) - pb.dequantize(y)).abs())
        .sum()
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

pub fn hamming(a: &[u8], b: &[u8]) -> u64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(&x, &y)| u64::from((x ^ y).count_ones())).sum()
}

pub fn and_or(a: &[u8], b: &[u8]) -> (u64, u64) {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold((0, 0), |(and, or), (&x, &y)| {
        (and + u64::from((x & y).count_ones()), or + u64::from((x | y).count_ones()))
    })
}

/// Sum of `x[i]` over the dimensions whose bit is set; bit `i` is bit `i % 8` of byte `i / 8`.
pub fn masked_sum(x: &[f32], bits: &[u8]) -> f32 {
    assert_eq!(bits.len(), x.len().div_ceil(8));
    // Multiplying by the bit (0 or 1) instead of branching lets the compiler vectorise.
    x.chunks(8)
        .zip(bits)
        .map(|(values, &byte)| {
            values.iter().enumerate().map(|(j, &v)| v * f32::from((byte >> j) & 1)).sum::<f32>()
        })
        .sum()
}
