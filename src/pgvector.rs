//! Casts between pgvector's `vector`/`halfvec` and quantvec's `int8vec`/`bitvec`. The
//! companion extension `quantvec_pgvector` (sql/quantvec_pgvector--*.sql), which requires
//! pgvector, declares them, so that quantvec itself never depends on pgvector: here they
//! take and return pgvector's values as plain varlenas (`&[u8]`, `Vec<u8>`, the bytes after
//! the varlena header), and pgrx writes no SQL for them.

use pgrx::prelude::*;
use quantvec_core::bits::BitVector;
use quantvec_core::floats::Query;
use quantvec_core::int8::{self, Int8Vector};
use quantvec_core::pgvector;

use crate::distances::{datum_of, distance_functions, k, negated, prepared_by, Argument, PreparedQuery};
use crate::error::OrRaise;
use crate::types::bitvec::BitVecOutput;
use crate::types::int8vec::{Int8VecInput, Int8VecOutput};
use crate::varlena::payload;

/// Cast `vector` → `int8vec(n)`: per-vector min/max quantization, as from `real[]`.
#[pg_extern(immutable, strict, parallel_safe, sql = false)]
fn int8vec_from_pgvector(value: &[u8], typmod: i32, _explicit: bool) -> Int8VecOutput {
    Int8VecOutput::checked(Int8Vector::quantize_minmax(&pgvector::decode_vector(value).or_raise()).or_raise(), typmod)
}

/// Cast `halfvec` → `int8vec(n)`.
#[pg_extern(immutable, strict, parallel_safe, sql = false)]
fn int8vec_from_pghalfvec(value: &[u8], typmod: i32, _explicit: bool) -> Int8VecOutput {
    Int8VecOutput::checked(Int8Vector::quantize_minmax(&pgvector::decode_halfvec(value).or_raise()).or_raise(), typmod)
}

/// Cast `vector` → `bitvec(n)`: sign quantization, as `bitvec_quantize(real[])`.
#[pg_extern(immutable, strict, parallel_safe, sql = false)]
fn bitvec_from_pgvector(value: &[u8], typmod: i32, _explicit: bool) -> BitVecOutput {
    BitVecOutput::checked(BitVector::from_signs(&pgvector::decode_vector(value).or_raise()).or_raise(), typmod)
}

/// Cast `halfvec` → `bitvec(n)`.
#[pg_extern(immutable, strict, parallel_safe, sql = false)]
fn bitvec_from_pghalfvec(value: &[u8], typmod: i32, _explicit: bool) -> BitVecOutput {
    BitVecOutput::checked(BitVector::from_signs(&pgvector::decode_halfvec(value).or_raise()).or_raise(), typmod)
}

/// Cast `int8vec` → `vector`: dequantization, s·(q − z), as to `real[]`.
#[pg_extern(immutable, strict, parallel_safe, sql = false)]
fn pgvector_from_int8vec(vector: Int8VecInput) -> Vec<u8> {
    pgvector::encode_vector(&vector.dequantize()).or_raise()
}

// `int8vec <op> vector`: the `int8vec <op> real[]` distances, taking pgvector's type as it
// is. A `vector` query reaches the `real[]` operators through pgvector's implicit cast too,
// which converts it to a real[] at every execution (1.3 µs for 384 dimensions; the README
// has the timings).

/// A `vector` query, prepared once per call site and recognised by its component bytes: a
/// scan's later rows neither decode nor copy it.
struct VectorQuery<'a>(PreparedQuery<'a>);

impl std::ops::Deref for VectorQuery<'_> {
    type Target = Query;

    fn deref(&self) -> &Query {
        &self.0
    }
}

impl Argument for VectorQuery<'_> {
    unsafe fn read(fcinfo: pg_sys::FunctionCallInfo, n: usize) -> Self {
        // SAFETY: per the contract, argument n is a non-null `vector`, a varlena that lives
        // through the call.
        let value = || unsafe { payload(datum_of(fcinfo, n)) };
        let is_this = |cached: &Query| cached.is_for_bytes(pgvector::vector_components(value()).or_raise());
        VectorQuery(prepared_by(fcinfo, n, is_this, || Query::new(&pgvector::decode_vector(value())?)))
    }
}

distance_functions! {
    fn int8vec_pgvector_l2_distance_wrapper, pg_finfo_int8vec_pgvector_l2_distance_wrapper(a: Int8VecInput, x: VectorQuery) {
        int8::l2_distance_f32(k(), &a, &x)
    }
    fn int8vec_pgvector_negative_inner_product_wrapper, pg_finfo_int8vec_pgvector_negative_inner_product_wrapper(a: Int8VecInput, x: VectorQuery) {
        int8::inner_product_f32(k(), &a, &x).map(negated)
    }
    fn int8vec_pgvector_cosine_distance_wrapper, pg_finfo_int8vec_pgvector_cosine_distance_wrapper(a: Int8VecInput, x: VectorQuery) {
        int8::cosine_distance_f32(k(), &a, &x)
    }
}
