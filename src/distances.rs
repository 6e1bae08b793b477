//! Distance functions behind the operators (declared in sql/operators.sql).
//!
//! Symmetric forms compare two stored vectors; asymmetric forms compare stored codes with a
//! `real[]` query that keeps full precision (what rescoring needs).

use pgrx::prelude::*;
use pgrx::PgMemoryContexts;
use quantvec_core::floats::{exact, Query};
use quantvec_core::kernels::{self, Kernels};
use quantvec_core::{bits, int4, int8};

use crate::arrays::RealArray;
use crate::error::OrRaise;
use crate::types::bitvec::BitVecInput;
use crate::types::int4vec::Int4VecInput;
use crate::types::int8vec::Int8VecInput;

pub fn k() -> &'static Kernels {
    kernels::active()
}

/// The query prepared by an earlier call at this call site (kept in `fn_extra`), or
/// prepared now: an ORDER BY over many rows validates the query and computes its sum and
/// norm once instead of once per row.
pub fn prepared<'a>(fcinfo: pg_sys::FunctionCallInfo, x: &[f32]) -> &'a Query {
    prepared_by(fcinfo, |cached| cached.is_for(x), || Query::new(x))
}

/// [`prepared`] for a query that `is_this` recognises and `make` prepares (which only runs
/// when the call site has no query cached or another one).
pub fn prepared_by<'a>(fcinfo: pg_sys::FunctionCallInfo, is_this: impl Fn(&Query) -> bool, make: impl FnOnce() -> quantvec_core::Result<Query>) -> &'a Query {
    // SAFETY: fcinfo is this call's own. Its flinfo, with fn_extra and fn_mcxt, belongs to
    // the call site and outlives the call; fn_extra of these functions is only ever set
    // here, to a Query allocated in fn_mcxt (which drops it when the call site goes away).
    unsafe {
        let flinfo = &mut *(*fcinfo).flinfo;
        let cached = flinfo.fn_extra.cast::<Query>();
        if !cached.is_null() && is_this(&*cached) {
            return &*cached;
        }
        let query = make().or_raise();
        if cached.is_null() {
            flinfo.fn_extra = PgMemoryContexts::For(flinfo.fn_mcxt).leak_and_drop_on_delete(query).cast();
        } else {
            *cached = query;
        }
        &*flinfo.fn_extra.cast::<Query>()
    }
}

/// −x without producing −0 for x = 0 (which would print as "-0").
pub fn negated(x: f64) -> f64 {
    0.0 - x
}

#[pg_extern(immutable, strict, parallel_safe, name = "l2_distance")]
fn int8vec_l2_distance(a: Int8VecInput, b: Int8VecInput) -> f64 {
    int8::l2_distance(k(), &a, &b).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe, name = "inner_product")]
fn int8vec_inner_product(a: Int8VecInput, b: Int8VecInput) -> f64 {
    int8::inner_product(k(), &a, &b).or_raise()
}

/// `<#>`: negated so that ascending order puts the largest inner product first.
#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_negative_inner_product(a: Int8VecInput, b: Int8VecInput) -> f64 {
    negated(int8::inner_product(k(), &a, &b).or_raise())
}

#[pg_extern(immutable, strict, parallel_safe, name = "cosine_distance")]
fn int8vec_cosine_distance(a: Int8VecInput, b: Int8VecInput) -> f64 {
    int8::cosine_distance(k(), &a, &b).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe, name = "l1_distance")]
fn int8vec_l1_distance(a: Int8VecInput, b: Int8VecInput) -> f64 {
    int8::l1_distance(k(), &a, &b).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe, name = "l2_distance")]
fn int8vec_real_l2_distance(a: Int8VecInput, x: RealArray, fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    int8::l2_distance_f32(k(), &a, prepared(fcinfo, x.0)).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe, name = "inner_product")]
fn int8vec_real_inner_product(a: Int8VecInput, x: RealArray, fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    int8::inner_product_f32(k(), &a, prepared(fcinfo, x.0)).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe, name = "int8vec_negative_inner_product")]
fn int8vec_real_negative_inner_product(a: Int8VecInput, x: RealArray, fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    negated(int8::inner_product_f32(k(), &a, prepared(fcinfo, x.0)).or_raise())
}

#[pg_extern(immutable, strict, parallel_safe, name = "cosine_distance")]
fn int8vec_real_cosine_distance(a: Int8VecInput, x: RealArray, fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    int8::cosine_distance_f32(k(), &a, prepared(fcinfo, x.0)).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe, name = "dims")]
fn int8vec_dims(a: Int8VecInput) -> i32 {
    a.dims() as i32
}

#[pg_extern(immutable, strict, parallel_safe, name = "norm")]
fn int8vec_norm(a: Int8VecInput) -> f64 {
    a.norm()
}

#[pg_extern(immutable, strict, parallel_safe, name = "l2_distance")]
fn int4vec_l2_distance(a: Int4VecInput, b: Int4VecInput) -> f64 {
    int4::l2_distance(k(), &a, &b).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe, name = "inner_product")]
fn int4vec_inner_product(a: Int4VecInput, b: Int4VecInput) -> f64 {
    int4::inner_product(k(), &a, &b).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_negative_inner_product(a: Int4VecInput, b: Int4VecInput) -> f64 {
    negated(int4::inner_product(k(), &a, &b).or_raise())
}

#[pg_extern(immutable, strict, parallel_safe, name = "cosine_distance")]
fn int4vec_cosine_distance(a: Int4VecInput, b: Int4VecInput) -> f64 {
    int4::cosine_distance(k(), &a, &b).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe, name = "l1_distance")]
fn int4vec_l1_distance(a: Int4VecInput, b: Int4VecInput) -> f64 {
    int4::l1_distance(k(), &a, &b).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe, name = "l2_distance")]
fn int4vec_real_l2_distance(a: Int4VecInput, x: RealArray, fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    int4::l2_distance_f32(k(), &a, prepared(fcinfo, x.0)).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe, name = "inner_product")]
fn int4vec_real_inner_product(a: Int4VecInput, x: RealArray, fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    int4::inner_product_f32(k(), &a, prepared(fcinfo, x.0)).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe, name = "int4vec_negative_inner_product")]
fn int4vec_real_negative_inner_product(a: Int4VecInput, x: RealArray, fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    negated(int4::inner_product_f32(k(), &a, prepared(fcinfo, x.0)).or_raise())
}

#[pg_extern(immutable, strict, parallel_safe, name = "cosine_distance")]
fn int4vec_real_cosine_distance(a: Int4VecInput, x: RealArray, fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    int4::cosine_distance_f32(k(), &a, prepared(fcinfo, x.0)).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe, name = "dims")]
fn int4vec_dims(a: Int4VecInput) -> i32 {
    a.dims() as i32
}

#[pg_extern(immutable, strict, parallel_safe, name = "norm")]
fn int4vec_norm(a: Int4VecInput) -> f64 {
    a.norm(k())
}

/// Exact float distances between two `real[]`, the reference for judging quantized search
/// (functions only: operators on real[] would collide with other extensions' and with
/// Postgres's own array operators).
#[pg_extern(immutable, strict, parallel_safe, name = "l2_distance")]
fn real_l2_distance(a: RealArray, b: RealArray) -> f64 {
    exact::l2_distance(a.0, b.0).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe, name = "inner_product")]
fn real_inner_product(a: RealArray, b: RealArray) -> f64 {
    exact::inner_product(a.0, b.0).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe, name = "cosine_distance")]
fn real_cosine_distance(a: RealArray, b: RealArray) -> f64 {
    exact::cosine_distance(a.0, b.0).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe, name = "hamming_distance")]
fn bitvec_hamming_distance(a: BitVecInput, b: BitVecInput) -> f64 {
    bits::hamming_distance(k(), &a, &b).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe, name = "jaccard_distance")]
fn bitvec_jaccard_distance(a: BitVecInput, b: BitVecInput) -> f64 {
    bits::jaccard_distance(k(), &a, &b).or_raise()
}

/// ⟨x, ±1⟩: the bitvec read as +1 for set bits and −1 for clear ones.
#[pg_extern(immutable, strict, parallel_safe, name = "inner_product")]
fn bitvec_real_inner_product(a: BitVecInput, x: RealArray, fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    bits::inner_product_f32(k(), &a, prepared(fcinfo, x.0)).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_negative_inner_product(a: BitVecInput, x: RealArray, fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    negated(bits::inner_product_f32(k(), &a, prepared(fcinfo, x.0)).or_raise())
}

#[pg_extern(immutable, strict, parallel_safe, name = "cosine_distance")]
fn bitvec_real_cosine_distance(a: BitVecInput, x: RealArray, fcinfo: pg_sys::FunctionCallInfo) -> f64 {
    bits::cosine_distance_f32(k(), &a, prepared(fcinfo, x.0)).or_raise()
}

#[pg_extern(immutable, strict, parallel_safe, name = "dims")]
fn bitvec_dims(a: BitVecInput) -> i32 {
    a.dims() as i32
}

/// Number of set bits.
#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_count(a: BitVecInput) -> i64 {
    a.count_ones() as i64
}

pgrx::extension_sql_file!(
    "../sql/operators.sql",
    name = "operators",
    requires = [
        "int8vec_type",
        "int4vec_type",
        "bitvec_type",
        int8vec_l2_distance,
        int8vec_negative_inner_product,
        int8vec_cosine_distance,
        int8vec_l1_distance,
        int8vec_real_l2_distance,
        int8vec_real_negative_inner_product,
        int8vec_real_cosine_distance,
        int4vec_l2_distance,
        int4vec_negative_inner_product,
        int4vec_cosine_distance,
        int4vec_l1_distance,
        int4vec_real_l2_distance,
        int4vec_real_negative_inner_product,
        int4vec_real_cosine_distance,
        bitvec_hamming_distance,
        bitvec_jaccard_distance,
        bitvec_negative_inner_product,
        bitvec_real_cosine_distance
    ]
);

/// `=`: the same stored value (scale, zero-point and codes), as dump/restore and text
/// round trips preserve; the same floats quantized with other parameters are not equal.
#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_eq(a: Int8VecInput, b: Int8VecInput) -> bool {
    a.params == b.params && a.codes == b.codes
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_ne(a: Int8VecInput, b: Int8VecInput) -> bool {
    !int8vec_eq(a, b)
}

/// Hash support for `=` (DISTINCT, GROUP BY, hash joins).
#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_hash(a: Int8VecInput) -> i32 {
    hash_bytes(&a.to_wire())
}

/// `=`: the same stored value, as for `int8vec`.
#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_eq(a: Int4VecInput, b: Int4VecInput) -> bool {
    a.params == b.params && a.dims() == b.dims() && a.packed() == b.packed()
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_ne(a: Int4VecInput, b: Int4VecInput) -> bool {
    !int4vec_eq(a, b)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_hash(a: Int4VecInput) -> i32 {
    hash_bytes(&a.to_wire())
}

#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_eq(a: BitVecInput, b: BitVecInput) -> bool {
    a.dims() == b.dims() && a.bytes() == b.bytes()
}

#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_ne(a: BitVecInput, b: BitVecInput) -> bool {
    !bitvec_eq(a, b)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_hash(a: BitVecInput) -> i32 {
    hash_bytes(&a.to_wire())
}

/// A hash that stays the same across processes and releases (hash indexes store it).
fn hash_bytes(bytes: &[u8]) -> i32 {
    seahash::hash(bytes) as i32
}

pgrx::extension_sql!(
    r#"
CREATE OPERATOR = (LEFTARG = int8vec, RIGHTARG = int8vec, FUNCTION = int8vec_eq, COMMUTATOR = '=', NEGATOR = '<>',
                   RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = int8vec, RIGHTARG = int8vec, FUNCTION = int8vec_ne, COMMUTATOR = '<>', NEGATOR = '=',
                    RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS int8vec_hash_ops DEFAULT FOR TYPE int8vec USING hash AS
    OPERATOR 1 = (int8vec, int8vec), FUNCTION 1 int8vec_hash(int8vec);
CREATE OPERATOR = (LEFTARG = int4vec, RIGHTARG = int4vec, FUNCTION = int4vec_eq, COMMUTATOR = '=', NEGATOR = '<>',
                   RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = int4vec, RIGHTARG = int4vec, FUNCTION = int4vec_ne, COMMUTATOR = '<>', NEGATOR = '=',
                    RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS int4vec_hash_ops DEFAULT FOR TYPE int4vec USING hash AS
    OPERATOR 1 = (int4vec, int4vec), FUNCTION 1 int4vec_hash(int4vec);
CREATE OPERATOR = (LEFTARG = bitvec, RIGHTARG = bitvec, FUNCTION = bitvec_eq, COMMUTATOR = '=', NEGATOR = '<>',
                   RESTRICT = eqsel, JOIN = eqjoinsel, HASHES);
CREATE OPERATOR <> (LEFTARG = bitvec, RIGHTARG = bitvec, FUNCTION = bitvec_ne, COMMUTATOR = '<>', NEGATOR = '=',
                    RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR CLASS bitvec_hash_ops DEFAULT FOR TYPE bitvec USING hash AS
    OPERATOR 1 = (bitvec, bitvec), FUNCTION 1 bitvec_hash(bitvec);
"#,
    name = "equality",
    requires = [
        "int8vec_type",
        "int4vec_type",
        "bitvec_type",
        int8vec_eq,
        int8vec_ne,
        int8vec_hash,
        int4vec_eq,
        int4vec_ne,
        int4vec_hash,
        bitvec_eq,
        bitvec_ne,
        bitvec_hash
    ]
);
