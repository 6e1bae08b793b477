//! Quantization and conversion functions; the casts that use them are declared in
//! sql/casts.sql.

use pgrx::prelude::*;
use quantvec_core::bits::BitVector;
use quantvec_core::int4::{self, Int4Vector};
use quantvec_core::int8::{Int8Vector, Params};
use quantvec_core::ErrorKind;

use crate::arrays::{Float8Array, Int4Array, RealArray};
use crate::error::{raise_with, OrRaise};
use crate::types::bitvec::{BitVecInput, BitVecOutput};
use crate::types::int4vec::{Int4VecInput, Int4VecOutput};
use crate::types::int8vec::{Int8VecInput, Int8VecOutput};

/// Cast `real[]` → `int8vec(n)`: per-vector min/max quantization.
#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_from_real(values: RealArray, typmod: i32, _explicit: bool) -> Int8VecOutput {
    Int8VecOutput::checked(Int8Vector::quantize_minmax(values.0).or_raise(), typmod)
}

/// Cast `double precision[]` → `int8vec(n)`.
#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_from_float8(values: Float8Array, typmod: i32, _explicit: bool) -> Int8VecOutput {
    Int8VecOutput::checked(Int8Vector::quantize_minmax(&narrow(values.0)).or_raise(), typmod)
}

/// f64 components as f32; finite values beyond f32's range are an error, not infinity.
fn narrow(values: &[f64]) -> Vec<f32> {
    values
        .iter()
        .map(|&v| {
            let narrowed = v as f32;
            if v.is_finite() && !narrowed.is_finite() {
                raise_with(ErrorKind::OutOfRange, format!("value {v:e} is out of range for type real"));
            }
            narrowed
        })
        .collect()
}

/// Cast `int8vec` → `real[]`: dequantization, s·(q − z).
#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_to_real(vector: Int8VecInput) -> Vec<f32> {
    vector.dequantize()
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_quantize(values: RealArray) -> Int8VecOutput {
    Int8VecOutput(Int8Vector::quantize_minmax(values.0).or_raise())
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_quantize_absmax(values: RealArray) -> Int8VecOutput {
    Int8VecOutput(Int8Vector::quantize_absmax(values.0).or_raise())
}

/// Min/max quantization of the range between two quantiles of the vector's components.
#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_quantize_clipped(values: RealArray, lower_quantile: f64, upper_quantile: f64) -> Int8VecOutput {
    Int8VecOutput(Int8Vector::quantize_clipped(values.0, lower_quantile, upper_quantile).or_raise())
}

/// Quantization with given (e.g. calibrated, shared) parameters.
#[pg_extern(immutable, strict, parallel_safe, name = "int8vec_quantize")]
fn int8vec_quantize_with(values: RealArray, scale: f32, zero_point: i32) -> Int8VecOutput {
    let params = Params::new(scale, i64::from(zero_point)).or_raise();
    Int8VecOutput(Int8Vector::quantize_with(values.0, params).or_raise())
}

/// Codes that are already quantized, with their scale and zero-point.
#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_from_codes(codes: Int4Array, scale: f32, zero_point: i32) -> Int8VecOutput {
    let params = Params::new(scale, i64::from(zero_point)).or_raise();
    let codes: Vec<i64> = codes.0.iter().map(|&c| i64::from(c)).collect();
    Int8VecOutput(Int8Vector::from_codes(&codes, params).or_raise())
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_codes(vector: Int8VecInput) -> Vec<i16> {
    vector.codes.iter().map(|&c| i16::from(c)).collect()
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_scale(vector: Int8VecInput) -> f32 {
    vector.params.scale
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_zero_point(vector: Int8VecInput) -> i16 {
    i16::from(vector.params.zero_point)
}

/// Cast `real[]` → `int4vec(n)`: per-vector min/max quantization to 16 levels.
#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_from_real(values: RealArray, typmod: i32, _explicit: bool) -> Int4VecOutput {
    Int4VecOutput::checked(Int4Vector::quantize_minmax(values.0).or_raise(), typmod)
}

/// Cast `double precision[]` → `int4vec(n)`.
#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_from_float8(values: Float8Array, typmod: i32, _explicit: bool) -> Int4VecOutput {
    Int4VecOutput::checked(Int4Vector::quantize_minmax(&narrow(values.0)).or_raise(), typmod)
}

/// Cast `int4vec` → `real[]`: dequantization, s·(q − z).
#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_to_real(vector: Int4VecInput) -> Vec<f32> {
    vector.dequantize()
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_quantize(values: RealArray) -> Int4VecOutput {
    Int4VecOutput(Int4Vector::quantize_minmax(values.0).or_raise())
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_quantize_absmax(values: RealArray) -> Int4VecOutput {
    Int4VecOutput(Int4Vector::quantize_absmax(values.0).or_raise())
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_quantize_clipped(values: RealArray, lower_quantile: f64, upper_quantile: f64) -> Int4VecOutput {
    Int4VecOutput(Int4Vector::quantize_clipped(values.0, lower_quantile, upper_quantile).or_raise())
}

#[pg_extern(immutable, strict, parallel_safe, name = "int4vec_quantize")]
fn int4vec_quantize_with(values: RealArray, scale: f32, zero_point: i32) -> Int4VecOutput {
    let params = int4::Params::new(scale, i64::from(zero_point)).or_raise();
    Int4VecOutput(Int4Vector::quantize_with(values.0, params).or_raise())
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_from_codes(codes: Int4Array, scale: f32, zero_point: i32) -> Int4VecOutput {
    let params = int4::Params::new(scale, i64::from(zero_point)).or_raise();
    let codes: Vec<i64> = codes.0.iter().map(|&c| i64::from(c)).collect();
    Int4VecOutput(Int4Vector::from_codes(&codes, params).or_raise())
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_codes(vector: Int4VecInput) -> Vec<i16> {
    vector.codes().into_iter().map(i16::from).collect()
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_scale(vector: Int4VecInput) -> f32 {
    vector.params.scale
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_zero_point(vector: Int4VecInput) -> i16 {
    i16::from(vector.params.zero_point)
}

/// Cast `int4vec` → `int8vec`: the same codes and parameters, exact.
#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_from_int4vec(vector: Int4VecInput) -> Int8VecOutput {
    Int8VecOutput(vector.to_int8())
}

/// Cast `int8vec` → `int4vec`: requantized per vector (min/max).
#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_from_int8vec(vector: Int8VecInput, typmod: i32, _explicit: bool) -> Int4VecOutput {
    Int4VecOutput::checked(Int4Vector::from_int8(&vector), typmod)
}

/// Sign quantization: bit = component > 0.
#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_quantize(values: RealArray) -> BitVecOutput {
    BitVecOutput(BitVector::from_signs(values.0).or_raise())
}

/// Cast `real[]` → `bitvec(n)`: sign quantization, as `bitvec_quantize(real[])`.
#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_from_real(values: RealArray, typmod: i32, _explicit: bool) -> BitVecOutput {
    BitVecOutput::checked(BitVector::from_signs(values.0).or_raise(), typmod)
}

/// bit = component > threshold, per dimension (e.g. the column means from dimension_means).
#[pg_extern(immutable, strict, parallel_safe, name = "bitvec_quantize")]
fn bitvec_quantize_thresholds(values: RealArray, thresholds: RealArray) -> BitVecOutput {
    BitVecOutput(BitVector::from_thresholds(values.0, thresholds.0).or_raise())
}

/// Cast `int8vec` → `bitvec`: bit = dequantized component > 0.
#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_from_int8vec(vector: Int8VecInput) -> BitVecOutput {
    BitVecOutput(BitVector::from_int8(&vector))
}

/// Cast `int4vec` → `bitvec`: bit = dequantized component > 0.
#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_from_int4vec(vector: Int4VecInput) -> BitVecOutput {
    BitVecOutput(BitVector::from_int8(&vector.to_int8().view()))
}

/// Packed bits, most significant bit first (numpy `packbits`), as binary embedding APIs
/// return them.
#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_from_bytes(packed: &[u8], dims: i32) -> BitVecOutput {
    let dims = usize::try_from(dims).unwrap_or(0);
    BitVecOutput(BitVector::from_msb_bytes(packed, dims).or_raise())
}

#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_to_bytes(vector: BitVecInput) -> Vec<u8> {
    vector.to_msb_bytes()
}

/// A `bit`/`varbit` argument: bit length, then the bits most significant first.
pub struct VarBitInput<'a> {
    bit_len: usize,
    bytes: &'a [u8],
}

impl<'a> pgrx::datum::FromDatum for VarBitInput<'a> {
    unsafe fn from_polymorphic_datum(datum: pg_sys::Datum, is_null: bool, _: pg_sys::Oid) -> Option<Self> {
        if is_null {
            return None;
        }
        // SAFETY: pgrx passes a varbit datum, a varlena.
        let payload = unsafe { crate::varlena::payload(datum) };
        let (head, bytes) = payload.split_first_chunk::<4>().expect("a varbit holds its bit length");
        Some(VarBitInput { bit_len: i32::from_ne_bytes(*head) as usize, bytes })
    }
}

// SAFETY: unboxing goes through FromDatum above.
unsafe impl<'fcx> pgrx::callconv::ArgAbi<'fcx> for VarBitInput<'fcx> {
    unsafe fn unbox_arg_unchecked(arg: pgrx::callconv::Arg<'_, 'fcx>) -> Self {
        // SAFETY: per this fn's contract the argument is a `varbit` datum, which FromDatum reads.
        unsafe { arg.unbox_arg_using_from_datum() }.expect("strict functions get no NULL")
    }
}

pgrx::impl_sql_translatable!(VarBitInput<'_>, arg_only = "varbit");

/// A `varbit` result.
pub struct VarBitOutput(Vec<u8>, usize);

impl pgrx::datum::IntoDatum for VarBitOutput {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        let VarBitOutput(bytes, bit_len) = self;
        Some(crate::varlena::new_varlena(4 + bytes.len(), |out| {
            out[..4].copy_from_slice(&(bit_len as i32).to_ne_bytes());
            out[4..].copy_from_slice(&bytes);
        }))
    }

    fn type_oid() -> pg_sys::Oid {
        pg_sys::VARBITOID
    }
}

// SAFETY: IntoDatum allocates a varbit in the current memory context.
unsafe impl pgrx::callconv::BoxRet for VarBitOutput {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut pgrx::callconv::FcInfo<'fcx>) -> pgrx::datum::Datum<'fcx> {
        match pgrx::datum::IntoDatum::into_datum(self) {
            // SAFETY: a varbit varlena just palloc'd in the current memory context, which
            // outlives the call.
            Some(datum) => unsafe { fcinfo.return_raw_datum(datum) },
            None => fcinfo.return_null(),
        }
    }
}

pgrx::impl_sql_translatable!(VarBitOutput, "varbit");

/// Cast `bit`/`varbit` → `bitvec(n)`.
#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_from_varbit(bits: VarBitInput, typmod: i32, _explicit: bool) -> BitVecOutput {
    BitVecOutput::checked(BitVector::from_msb_bytes(bits.bytes, bits.bit_len).or_raise(), typmod)
}

/// Cast `bitvec` → `varbit` (and, binary-coercibly, `bit`).
#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_to_varbit(vector: BitVecInput) -> VarBitOutput {
    VarBitOutput(vector.to_msb_bytes(), vector.dims())
}

pgrx::extension_sql_file!(
    "../sql/casts.sql",
    name = "casts",
    requires = [
        "int8vec_type",
        "int4vec_type",
        "bitvec_type",
        "shell_types",
        int8vec_from_real,
        int4vec_from_real,
        int4vec_from_float8,
        int4vec_to_real,
        int4vec_quantize_with,
        int4vec_from_codes,
        int8vec_from_int4vec,
        int4vec_from_int8vec,
        bitvec_from_int4vec,
        int8vec_from_float8,
        int8vec_to_real,
        int8vec_quantize_with,
        int8vec_from_codes,
        bitvec_from_int8vec,
        bitvec_from_real,
        bitvec_from_varbit,
        bitvec_to_varbit
    ]
);

pgrx::extension_sql_file!("../sql/migrate.sql", name = "migrate", requires = ["casts"]);
