//! Distance kernels: a scalar reference and SIMD versions, chosen once at run time.
//!
//! Nothing is compiled for a particular CPU: SIMD code sits in `#[target_feature]`
//! functions that are reachable only through a [`Kernels`] table, and a table is handed out
//! only after the CPU has been checked for its features. The same binary therefore loads
//! and gives the same answers on a CPU without AVX2 (it uses the scalar table).

use std::sync::atomic::{AtomicPtr, Ordering};

use crate::error::{bail, Result};
use crate::int8::Params;

pub mod scalar;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "aarch64")]
mod neon;

/// One implementation of every kernel. Integer kernels are exact in every table; float
/// kernels differ between tables only by summation order and fused multiply-adds. Float
/// kernels sum in f32: one that overflows returns an infinite or NaN value, never a wrong
/// finite one, which the distance functions check for to redo the sum in f64.
pub struct Kernels {
    pub isa: Isa,
    /// Σ a·b over int8 codes.
    pub dot_i8: fn(&[i8], &[i8]) -> i64,
    /// Σ |a − b| over int8 codes.
    pub l1_i8: fn(&[i8], &[i8]) -> u64,
    /// Σ |sa(a − za) − sb(b − zb)|: L1 between codes with different parameters.
    pub l1_dequant: fn(&[i8], Params, &[i8], Params) -> f32,
    /// Σ x·q: a float query against int8 codes.
    pub dot_f32_i8: fn(&[f32], &[i8]) -> f32,
    /// Σ (x − s(q − z))²: squared L2 between a float query and dequantized codes.
    pub l2_f32_i8: fn(&[f32], &[i8], Params) -> f32,
    /// Σ a·b over floats.
    pub dot_f32: fn(&[f32], &[f32]) -> f32,
    /// `out[j]` = x · row j, for consecutive rows of x.len() floats (k-means).
    pub dot_f32_rows: fn(&[f32], &[f32], &mut [f32]),
    /// The same over float16 rows, given as bits (ranking an index's lists).
    pub dot_f16_rows: fn(&[f32], &[u16], &mut [f32]),
    /// Every row of a batch against every row of a packed matrix (see
    /// [`scalar::dot_f32_packed`]): k-means' assignment step, which streams each packed row
    /// once per few rows of the batch instead of once per row.
    pub dot_f32_packed: fn(&[f32], &[f32], usize, &mut [f32]),
    /// Σ a·b over 4-bit codes packed two per byte.
    pub dot_u4: fn(&[u8], &[u8]) -> i64,
    /// (Σ q, Σ q²) over 4-bit codes packed two per byte.
    pub sums_u4: fn(&[u8]) -> (i64, i64),
    /// Packed 4-bit codes spread to one byte each (see [`scalar::unpack_u4`]).
    pub unpack_u4: fn(&[u8], &mut [i8]),
    /// popcount(a ⊕ b).
    pub hamming: fn(&[u8], &[u8]) -> u64,
    /// (popcount(a ∧ b), popcount(a ∨ b)) in one pass.
    pub and_or: fn(&[u8], &[u8]) -> (u64, u64),
    /// Σ x[i] over the set bits of a code (bit i = bit i % 8 of byte i / 8).
    pub masked_sum: fn(&[f32], &[u8]) -> f32,
    /// FastScan: per row of a 32-row block, the sum of 4-bit LUT lookups (see
    /// [`scalar::fastscan`] for the layouts).
    pub fastscan: fn(&[u8], &[u8], &mut [u32; scalar::BLOCK_ROWS]),
    /// A block's first-pass estimates from its FastScan sums and factors (see
    /// [`scalar::estimate_rows`]).
    pub estimate_rows: EstimateRows,
}

/// The type of [`Kernels::estimate_rows`].
pub type EstimateRows =
    fn(&[u32; scalar::BLOCK_ROWS], &[u8; 4 * scalar::BLOCK_ROWS], &[u8; 4 * scalar::BLOCK_ROWS], scalar::EstimateTerms, &mut [f32; scalar::BLOCK_ROWS]);

/// Instruction-set tiers, in the order `best` prefers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Isa {
    Scalar = 1,
    /// x86_64 with AVX2, FMA, F16C and POPCNT.
    Avx2 = 2,
    /// x86_64 with AVX-512 F, BW, VL, VNNI and VPOPCNTDQ (Ice Lake, Zen 4 and later).
    Avx512 = 3,
    /// aarch64 (NEON is part of its base ISA).
    Neon = 4,
}

impl Isa {
    pub const ALL: [Isa; 4] = [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon];

    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Neon => "neon",
        }
    }

    pub fn from_name(name: &str) -> Option<Isa> {
        Isa::ALL.into_iter().find(|isa| isa.name().eq_ignore_ascii_case(name))
    }

    pub fn is_supported(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => {
                is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") && is_x86_feature_detected!("f16c") && is_x86_feature_detected!("popcnt")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                // Its table also uses AVX2 kernels (every AVX-512 CPU has AVX2).
                Isa::Avx2.is_supported()
                    && is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512bw")
                    && is_x86_feature_detected!("avx512vl")
                    && is_x86_feature_detected!("avx512vnni")
                    && is_x86_feature_detected!("avx512vpopcntdq")
            }
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The fastest tier this CPU supports.
    pub fn best() -> Isa {
        [Isa::Avx512, Isa::Avx2, Isa::Neon].into_iter().find(|isa| isa.is_supported()).unwrap_or(Isa::Scalar)
    }
}

/// k² for every 4-bit code k (at most 225, so a byte), for table lookups in `sums_u4`.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const NIBBLE_SQUARES: [u8; 16] = {
    let mut squares = [0u8; 16];
    let mut k = 0;
    while k < 16 {
        squares[k] = (k * k) as u8;
        k += 1;
    }
    squares
};

static SCALAR: Kernels = Kernels {
    isa: Isa::Scalar,
    dot_i8: scalar::dot_i8,
    l1_i8: scalar::l1_i8,
    l1_dequant: scalar::l1_dequant,
    dot_f32_i8: scalar::dot_f32_i8,
    l2_f32_i8: scalar::l2_f32_i8,
    dot_f32: scalar::dot_f32,
    dot_f32_rows: scalar::dot_f32_rows,
    dot_f16_rows: scalar::dot_f16_rows,
    dot_f32_packed: scalar::dot_f32_packed,
    dot_u4: scalar::dot_u4,
    sums_u4: scalar::sums_u4,
    unpack_u4: scalar::unpack_u4,
    hamming: scalar::hamming,
    and_or: scalar::and_or,
    masked_sum: scalar::masked_sum,
    fastscan: scalar::fastscan,
    estimate_rows: scalar::estimate_rows_scalar,
};

/// Safe wrappers around `#[target_feature]` kernels, for a table that `table` returns only
/// when the CPU supports its tier.
#[cfg(target_arch = "x86_64")]
macro_rules! guarded {
    ($module:ident: $(fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(pub(super) fn $name($($arg: $ty),*) -> $ret {
            // SAFETY: reachable only through the table of this module's tier, which `table`
            // hands out after `Isa::is_supported` confirmed the CPU has its features.
            unsafe { $module::$name($($arg),*) }
        })*
    };
}

#[cfg(target_arch = "x86_64")]
mod avx2_table {
    use super::*;
    guarded! { avx2:
        fn dot_i8(a: &[i8], b: &[i8]) -> i64;
        fn l1_i8(a: &[i8], b: &[i8]) -> u64;
        fn l1_dequant(a: &[i8], pa: Params, b: &[i8], pb: Params) -> f32;
        fn dot_f32_i8(x: &[f32], q: &[i8]) -> f32;
        fn l2_f32_i8(x: &[f32], q: &[i8], p: Params) -> f32;
        fn dot_f32(a: &[f32], b: &[f32]) -> f32;
        fn dot_f32_rows(x: &[f32], rows: &[f32], out: &mut [f32]) -> ();
        fn dot_f16_rows(x: &[f32], rows: &[u16], out: &mut [f32]) -> ();
        fn dot_f32_packed(xs: &[f32], packed: &[f32], d: usize, out: &mut [f32]) -> ();
        fn hamming(a: &[u8], b: &[u8]) -> u64;
        fn and_or(a: &[u8], b: &[u8]) -> (u64, u64);
        fn masked_sum(x: &[f32], bits: &[u8]) -> f32;
        fn dot_u4(a: &[u8], b: &[u8]) -> i64;
        fn sums_u4(a: &[u8]) -> (i64, i64);
        fn unpack_u4(packed: &[u8], out: &mut [i8]) -> ();
        fn fastscan(lut: &[u8], block: &[u8], out: &mut [u32; scalar::BLOCK_ROWS]) -> ();
        fn estimate_rows(
            sums: &[u32; scalar::BLOCK_ROWS],
            alphas: &[u8; 4 * scalar::BLOCK_ROWS],
            betas: &[u8; 4 * scalar::BLOCK_ROWS],
            terms: scalar::EstimateTerms,
            out: &mut [f32; scalar::BLOCK_ROWS]
        ) -> ();
    }
    pub(super) static TABLE: Kernels = Kernels {
        isa: Isa::Avx2,
        dot_i8,
        l1_i8,
        l1_dequant,
        dot_f32_i8,
        l2_f32_i8,
        dot_f32,
        dot_f32_rows,
        dot_f16_rows,
        dot_f32_packed,
        dot_u4,
        sums_u4,
        unpack_u4,
        hamming,
        and_or,
        masked_sum,
        fastscan,
        estimate_rows,
    };
}

#[cfg(target_arch = "x86_64")]
mod avx512_table {
    use super::*;
    guarded! { avx512:
        fn dot_i8(a: &[i8], b: &[i8]) -> i64;
        fn l1_i8(a: &[i8], b: &[i8]) -> u64;
        fn l1_dequant(a: &[i8], pa: Params, b: &[i8], pb: Params) -> f32;
        fn dot_f32_i8(x: &[f32], q: &[i8]) -> f32;
        fn l2_f32_i8(x: &[f32], q: &[i8], p: Params) -> f32;
        fn dot_f32(a: &[f32], b: &[f32]) -> f32;
        fn dot_f32_rows(x: &[f32], rows: &[f32], out: &mut [f32]) -> ();
        fn dot_f16_rows(x: &[f32], rows: &[u16], out: &mut [f32]) -> ();
        fn dot_f32_packed(xs: &[f32], packed: &[f32], d: usize, out: &mut [f32]) -> ();
        fn hamming(a: &[u8], b: &[u8]) -> u64;
        fn and_or(a: &[u8], b: &[u8]) -> (u64, u64);
        fn masked_sum(x: &[f32], bits: &[u8]) -> f32;
        fn dot_u4(a: &[u8], b: &[u8]) -> i64;
        fn sums_u4(a: &[u8]) -> (i64, i64);
        fn unpack_u4(packed: &[u8], out: &mut [i8]) -> ();
    }
    pub(super) static TABLE: Kernels = Kernels {
        isa: Isa::Avx512,
        dot_i8,
        l1_i8,
        l1_dequant,
        dot_f32_i8,
        l2_f32_i8,
        dot_f32,
        dot_f32_rows,
        dot_f16_rows,
        dot_f32_packed,
        dot_u4,
        sums_u4,
        unpack_u4,
        hamming,
        and_or,
        masked_sum,
        fastscan: super::avx2_table::fastscan,
        estimate_rows: super::avx2_table::estimate_rows,
    };
}

#[cfg(target_arch = "aarch64")]
static NEON: Kernels = Kernels {
    isa: Isa::Neon,
    dot_i8: neon::dot_i8,
    l1_i8: neon::l1_i8,
    l1_dequant: scalar::l1_dequant,
    dot_f32_i8: neon::dot_f32_i8,
    l2_f32_i8: scalar::l2_f32_i8,
    dot_f32: neon::dot_f32,
    dot_f32_rows: scalar::dot_f32_rows,
    dot_f16_rows: scalar::dot_f16_rows,
    dot_f32_packed: scalar::dot_f32_packed,
    dot_u4: neon::dot_u4,
    sums_u4: neon::sums_u4,
    unpack_u4: neon::unpack_u4,
    hamming: neon::hamming,
    and_or: neon::and_or,
    masked_sum: scalar::masked_sum,
    fastscan: scalar::fastscan,
    estimate_rows: scalar::estimate_rows_scalar,
};

/// The table of a tier, if this CPU can run it.
/// Rows of `d` floats laid out for [`Kernels::dot_f32_packed`]: blocks of
/// [`scalar::PACKED_ROWS`] rows (the last padded with zero rows), each block component-major,
/// so that one load gives one component of 16 rows.
pub fn pack_rows(rows: &[f32], d: usize) -> Vec<f32> {
    let count = rows.len().checked_div(d).unwrap_or(0);
    let mut packed = vec![0.0; count.next_multiple_of(scalar::PACKED_ROWS) * d];
    for (j, row) in rows.chunks_exact(d.max(1)).enumerate() {
        let block = &mut packed[(j / scalar::PACKED_ROWS) * scalar::PACKED_ROWS * d..];
        for (i, &v) in row.iter().enumerate() {
            block[i * scalar::PACKED_ROWS + j % scalar::PACKED_ROWS] = v;
        }
    }
    packed
}

/// One call's part of [`Kernels::dot_f32_packed`] in a SIMD table: rows of `xs` from its
/// start against blocks from the start of `packed`, into `out` from its start (a row of
/// results every `columns`).
#[cfg(target_arch = "x86_64")]
struct PackedTile<'a> {
    xs: &'a [f32],
    packed: &'a [f32],
    d: usize,
    out: &'a mut [f32],
    columns: usize,
}

#[cfg(target_arch = "x86_64")]
impl<'a> PackedTile<'a> {
    /// The tile whose first row is row `r` of `xs` and whose first block is block `b`.
    fn at(xs: &'a [f32], packed: &'a [f32], d: usize, out: &'a mut [f32], columns: usize, (r, b): (usize, usize)) -> PackedTile<'a> {
        let first = b * scalar::PACKED_ROWS;
        PackedTile { xs: &xs[r * d..], packed: &packed[first * d..], d, out: &mut out[r * columns + first..], columns }
    }
}

pub fn table(isa: Isa) -> Option<&'static Kernels> {
    if !isa.is_supported() {
        return None;
    }
    match isa {
        Isa::Scalar => Some(&SCALAR),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => Some(&avx2_table::TABLE),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => Some(&avx512_table::TABLE),
        #[cfg(target_arch = "aarch64")]
        Isa::Neon => Some(&NEON),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// Null until the first use, then the active table (a pointer, so that the per-row calls of
/// an exact scan find it with one load).
static ACTIVE: AtomicPtr<Kernels> = AtomicPtr::new(std::ptr::null_mut());

/// Environment variable that picks the tier at first use (`scalar`, `avx2`, `avx512`,
/// `neon` or `auto`); a tier this CPU lacks is ignored in favour of the best one.
pub const ENV_OVERRIDE: &str = "QUANTVEC_SIMD";

/// Asks the CPU to start loading the cache lines of the `len` bytes at `at`, so that the
/// misses of several reads overlap. A hint: nothing is read, and any address is allowed.
#[inline]
pub fn prefetch(at: *const u8, len: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        let (first, end) = (at as usize & !63, at as usize + len);
        for line in (first..end).step_by(64) {
            // SAFETY: a prefetch does not access memory (it cannot fault) and SSE is part
            // of x86_64.
            unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(line as *const i8) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (at, len);
}

/// The kernels in use: the best tier this CPU supports unless [`select`] or
/// [`ENV_OVERRIDE`] chose another.
#[inline]
pub fn active() -> &'static Kernels {
    let chosen = ACTIVE.load(Ordering::Relaxed);
    // SAFETY: ACTIVE is null or points to one of the 'static tables (stored below and by
    // `select`).
    if let Some(kernels) = unsafe { chosen.as_ref() } {
        return kernels;
    }
    let kernels = table(default_isa()).expect("the default tier is supported");
    ACTIVE.store(std::ptr::from_ref(kernels).cast_mut(), Ordering::Relaxed);
    kernels
}

/// The tier named by [`ENV_OVERRIDE`] if this CPU supports it, else the best one.
pub fn default_isa() -> Isa {
    std::env::var(ENV_OVERRIDE).ok().and_then(|name| Isa::from_name(&name)).filter(|isa| isa.is_supported()).unwrap_or_else(Isa::best)
}

/// Makes `isa` the active tier for this process.
pub fn select(isa: Isa) -> Result<()> {
    let Some(kernels) = table(isa) else {
        bail!(InvalidParameter, "this CPU does not support the {} kernels", isa.name());
    };
    ACTIVE.store(std::ptr::from_ref(kernels).cast_mut(), Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests;
