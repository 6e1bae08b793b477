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
use crate::varlena::array_elements;

#[inline]
pub fn k() -> &'static Kernels {
    kernels::active()
}

/// A query operand as a distance function uses it: validated, with its sum and norm.
pub struct PreparedQuery<'a>(pub &'a Query);

impl std::ops::Deref for PreparedQuery<'_> {
    type Target = Query;

    fn deref(&self) -> &Query {
        self.0
    }
}

/// What a call site keeps in `fn_extra`: its query, and whether the argument can change
/// between calls.
struct CachedQuery {
    query: Query,
    stable: bool,
}

/// Argument `n`, a query, prepared by an earlier call at this call site or now: an ORDER BY
/// over many rows validates the query and computes its sum and norm once instead of once
/// per row. Where the planner says the argument cannot change during the scan (a constant
/// or an external parameter: `get_fn_expr_arg_stable`), later calls do not read it at all;
/// otherwise `is_this` recognises it (a lateral join's inner scan sees one query per outer
/// row), and `make` prepares a new one.
pub fn prepared_by<'a>(
    fcinfo: pg_sys::FunctionCallInfo,
    n: usize,
    is_this: impl FnOnce(&Query) -> bool,
    make: impl FnOnce() -> quantvec_core::Result<Query>,
) -> PreparedQuery<'a> {
    // SAFETY: fcinfo is this call's own. Its flinfo, with fn_extra and fn_mcxt, belongs to
    // the call site and outlives the call; fn_extra of these functions is only ever set
    // here, to a CachedQuery allocated in fn_mcxt (which drops it when the call site goes
    // away).
    unsafe {
        let flinfo = (*fcinfo).flinfo;
        let cached = (*flinfo).fn_extra.cast::<CachedQuery>();
        if let Some(cached) = cached.as_ref() {
            if cached.stable || is_this(&cached.query) {
                return PreparedQuery(&cached.query);
            }
        }
        let query = make().or_raise();
        if let Some(cached) = cached.as_mut() {
            cached.query = query;
            return PreparedQuery(&cached.query);
        }
        let stable = pg_sys::get_fn_expr_arg_stable(flinfo, n as i32);
        let cached = PgMemoryContexts::For((*flinfo).fn_mcxt).leak_and_drop_on_delete(CachedQuery { query, stable });
        (*flinfo).fn_extra = cached.cast();
        PreparedQuery(&(*cached).query)
    }
}

/// −x without producing −0 for x = 0 (which would print as "-0").
pub fn negated(x: f64) -> f64 {
    0.0 - x
}

/// Declares V1 functions of two non-null arguments that return a float8, read in place, as
/// Postgres calls them: `fn symbol, finfo(a: A, b: B) { Result<f64> }`, where A and B are
/// [`Argument`]s. Their SQL declarations are in sql/operators.sql, under the symbols that
/// pgrx's #[pg_extern] gave them (catalogs of earlier versions name them). An exact scan
/// calls one per row, and pgrx's generic wrapper (an argument iterator, a memory-context
/// switch, its return ABI) cost about 28 ns a call: 40% of what a `bitvec <~>` row added to
/// the executor's time.
macro_rules! distance_functions {
    ($($(#[$doc:meta])* fn $symbol:ident, $finfo:ident($a:ident: $ta:ty, $b:ident: $tb:ty) $body:block)*) => {$(
        #[no_mangle]
        #[doc(hidden)]
        pub extern "C" fn $finfo() -> &'static ::pgrx::pg_sys::Pg_finfo_record {
            const V1: ::pgrx::pg_sys::Pg_finfo_record = ::pgrx::pg_sys::Pg_finfo_record { api_version: 1 };
            &V1
        }

        $(#[$doc])*
        #[no_mangle]
        #[::pgrx::pg_guard]
        pub unsafe extern "C-unwind" fn $symbol(fcinfo: ::pgrx::pg_sys::FunctionCallInfo) -> ::pgrx::pg_sys::Datum {
            fn distance(fcinfo: ::pgrx::pg_sys::FunctionCallInfo) -> f64 {
                use $crate::distances::Argument;
                // SAFETY: Postgres calls this with the two arguments its SQL declaration
                // gives it, of types $ta and $tb, and never with a NULL one (it is STRICT).
                let ($a, $b) = unsafe { (<$ta>::read(fcinfo, 0), <$tb>::read(fcinfo, 1)) };
                $crate::error::OrRaise::or_raise($body)
            }
            ::pgrx::IntoDatum::into_datum(distance(fcinfo)).expect("a float8 is never NULL")
        }
    )*};
}
pub(crate) use distance_functions;

/// An argument of a distance function, read from its datum.
pub trait Argument: Sized {
    /// Argument `n` of this call.
    ///
    /// # Safety
    /// The call must have an argument `n`, non-null, of the SQL type this type reads.
    unsafe fn read(fcinfo: pg_sys::FunctionCallInfo, n: usize) -> Self;
}

/// The datum of argument `n`.
///
/// # Safety
/// The call must have an argument `n`.
pub unsafe fn datum_of(fcinfo: pg_sys::FunctionCallInfo, n: usize) -> pg_sys::Datum {
    // SAFETY: per the contract, fcinfo has at least n + 1 arguments.
    unsafe { (*fcinfo).args.as_slice(n + 1)[n].value }
}

impl<T: FromDatum> Argument for T {
    unsafe fn read(fcinfo: pg_sys::FunctionCallInfo, n: usize) -> Self {
        // SAFETY: per the contract, argument n is a non-null datum of T's type, which lives
        // through the call.
        unsafe { T::from_polymorphic_datum(datum_of(fcinfo, n), false, pg_sys::InvalidOid) }.expect("a non-null argument")
    }
}

/// A `real[]` query.
impl Argument for PreparedQuery<'_> {
    unsafe fn read(fcinfo: pg_sys::FunctionCallInfo, n: usize) -> Self {
        // SAFETY: per the contract, argument n is a non-null real[], which lives through
        // the call.
        let values = || unsafe { array_elements::<f32>(datum_of(fcinfo, n)) };
        prepared_by(fcinfo, n, |cached| cached.is_for(values()), || Query::new(values()))
    }
}

distance_functions! {
    fn int8vec_l2_distance_wrapper, pg_finfo_int8vec_l2_distance_wrapper(a: Int8VecInput, b: Int8VecInput) {
        int8::l2_distance(k(), &a, &b)
    }
    fn int8vec_inner_product_wrapper, pg_finfo_int8vec_inner_product_wrapper(a: Int8VecInput, b: Int8VecInput) {
        int8::inner_product(k(), &a, &b)
    }
    /// `<#>`: negated so that ascending order puts the largest inner product first.
    fn int8vec_negative_inner_product_wrapper, pg_finfo_int8vec_negative_inner_product_wrapper(a: Int8VecInput, b: Int8VecInput) {
        int8::inner_product(k(), &a, &b).map(negated)
    }
    fn int8vec_cosine_distance_wrapper, pg_finfo_int8vec_cosine_distance_wrapper(a: Int8VecInput, b: Int8VecInput) {
        int8::cosine_distance(k(), &a, &b)
    }
    fn int8vec_l1_distance_wrapper, pg_finfo_int8vec_l1_distance_wrapper(a: Int8VecInput, b: Int8VecInput) {
        int8::l1_distance(k(), &a, &b)
    }
    fn int8vec_real_l2_distance_wrapper, pg_finfo_int8vec_real_l2_distance_wrapper(a: Int8VecInput, x: PreparedQuery) {
        int8::l2_distance_f32(k(), &a, &x)
    }
    fn int8vec_real_inner_product_wrapper, pg_finfo_int8vec_real_inner_product_wrapper(a: Int8VecInput, x: PreparedQuery) {
        int8::inner_product_f32(k(), &a, &x)
    }
    fn int8vec_real_negative_inner_product_wrapper, pg_finfo_int8vec_real_negative_inner_product_wrapper(a: Int8VecInput, x: PreparedQuery) {
        int8::inner_product_f32(k(), &a, &x).map(negated)
    }
    fn int8vec_real_cosine_distance_wrapper, pg_finfo_int8vec_real_cosine_distance_wrapper(a: Int8VecInput, x: PreparedQuery) {
        int8::cosine_distance_f32(k(), &a, &x)
    }

    fn int4vec_l2_distance_wrapper, pg_finfo_int4vec_l2_distance_wrapper(a: Int4VecInput, b: Int4VecInput) {
        int4::l2_distance(k(), &a, &b)
    }
    fn int4vec_inner_product_wrapper, pg_finfo_int4vec_inner_product_wrapper(a: Int4VecInput, b: Int4VecInput) {
        int4::inner_product(k(), &a, &b)
    }
    fn int4vec_negative_inner_product_wrapper, pg_finfo_int4vec_negative_inner_product_wrapper(a: Int4VecInput, b: Int4VecInput) {
        int4::inner_product(k(), &a, &b).map(negated)
    }
    fn int4vec_cosine_distance_wrapper, pg_finfo_int4vec_cosine_distance_wrapper(a: Int4VecInput, b: Int4VecInput) {
        int4::cosine_distance(k(), &a, &b)
    }
    fn int4vec_l1_distance_wrapper, pg_finfo_int4vec_l1_distance_wrapper(a: Int4VecInput, b: Int4VecInput) {
        int4::l1_distance(k(), &a, &b)
    }
    fn int4vec_real_l2_distance_wrapper, pg_finfo_int4vec_real_l2_distance_wrapper(a: Int4VecInput, x: PreparedQuery) {
        int4::l2_distance_f32(k(), &a, &x)
    }
    fn int4vec_real_inner_product_wrapper, pg_finfo_int4vec_real_inner_product_wrapper(a: Int4VecInput, x: PreparedQuery) {
        int4::inner_product_f32(k(), &a, &x)
    }
    fn int4vec_real_negative_inner_product_wrapper, pg_finfo_int4vec_real_negative_inner_product_wrapper(a: Int4VecInput, x: PreparedQuery) {
        int4::inner_product_f32(k(), &a, &x).map(negated)
    }
    fn int4vec_real_cosine_distance_wrapper, pg_finfo_int4vec_real_cosine_distance_wrapper(a: Int4VecInput, x: PreparedQuery) {
        int4::cosine_distance_f32(k(), &a, &x)
    }

    /// Exact float distances between two `real[]`, the reference for judging quantized
    /// search (functions only: operators on real[] would collide with other extensions' and
    /// with Postgres's own array operators).
    fn real_l2_distance_wrapper, pg_finfo_real_l2_distance_wrapper(a: RealArray, b: RealArray) {
        exact::l2_distance(a.0, b.0)
    }
    fn real_inner_product_wrapper, pg_finfo_real_inner_product_wrapper(a: RealArray, b: RealArray) {
        exact::inner_product(a.0, b.0)
    }
    fn real_cosine_distance_wrapper, pg_finfo_real_cosine_distance_wrapper(a: RealArray, b: RealArray) {
        exact::cosine_distance(a.0, b.0)
    }

    fn bitvec_hamming_distance_wrapper, pg_finfo_bitvec_hamming_distance_wrapper(a: BitVecInput, b: BitVecInput) {
        bits::hamming_distance(k(), &a, &b)
    }
    fn bitvec_jaccard_distance_wrapper, pg_finfo_bitvec_jaccard_distance_wrapper(a: BitVecInput, b: BitVecInput) {
        bits::jaccard_distance(k(), &a, &b)
    }
    /// ⟨x, ±1⟩: the bitvec read as +1 for set bits and −1 for clear ones.
    fn bitvec_real_inner_product_wrapper, pg_finfo_bitvec_real_inner_product_wrapper(a: BitVecInput, x: PreparedQuery) {
        bits::inner_product_f32(k(), &a, &x)
    }
    fn bitvec_negative_inner_product_wrapper, pg_finfo_bitvec_negative_inner_product_wrapper(a: BitVecInput, x: PreparedQuery) {
        bits::inner_product_f32(k(), &a, &x).map(negated)
    }
    fn bitvec_real_cosine_distance_wrapper, pg_finfo_bitvec_real_cosine_distance_wrapper(a: BitVecInput, x: PreparedQuery) {
        bits::cosine_distance_f32(k(), &a, &x)
    }
}

#[pg_extern(immutable, strict, parallel_safe, name = "dims")]
fn int8vec_dims(a: Int8VecInput) -> i32 {
    a.dims() as i32
}

#[pg_extern(immutable, strict, parallel_safe, name = "norm")]
fn int8vec_norm(a: Int8VecInput) -> f64 {
    a.norm()
}

#[pg_extern(immutable, strict, parallel_safe, name = "dims")]
fn int4vec_dims(a: Int4VecInput) -> i32 {
    a.dims() as i32
}

#[pg_extern(immutable, strict, parallel_safe, name = "norm")]
fn int4vec_norm(a: Int4VecInput) -> f64 {
    a.norm(k())
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

pgrx::extension_sql_file!("../sql/operators.sql", name = "operators", requires = ["int8vec_type", "int4vec_type", "bitvec_type"]);

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
