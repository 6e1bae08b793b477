//! `int4vec` I/O: text, binary and typmod functions (layout and parsing live in
//! `quantvec_core::int4`).

use std::ffi::{CStr, CString};

use pgrx::datum::Internal;
use pgrx::prelude::*;
use quantvec_core::int4::{Int4Ref, Int4Vector, MAX_DIMS, TYPE_NAME};

use super::{check_typmod, input_text, sql_varlena};
use crate::error::OrRaise;

/// An `int4vec` argument, viewed in place.
pub struct Int4VecInput<'a>(pub Int4Ref<'a>);

/// An `int4vec` result.
pub struct Int4VecOutput(pub Int4Vector);

sql_varlena!("int4vec", Int4VecInput(Int4Ref), Int4VecOutput);

impl Int4VecOutput {
    /// The value, after checking it against the declared dimensions.
    pub fn checked(vector: Int4Vector, typmod: i32) -> Self {
        check_typmod(vector.codes.len(), typmod, TYPE_NAME);
        Int4VecOutput(vector)
    }
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_in(input: &CStr, _type_oid: pg_sys::Oid, typmod: i32) -> Int4VecOutput {
    Int4VecOutput::checked(Int4Vector::parse(input_text(input, TYPE_NAME)).or_raise(), typmod)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_out(vector: Int4VecInput) -> CString {
    CString::new(vector.to_text()).expect("numbers have no NUL")
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_recv(buffer: Internal, _type_oid: pg_sys::Oid, typmod: i32) -> Int4VecOutput {
    // SAFETY: Postgres calls a receive function with its message buffer.
    let bytes = unsafe { crate::varlena::take_unread(buffer) };
    Int4VecOutput::checked(Int4Vector::from_wire(bytes).or_raise(), typmod)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_send(vector: Int4VecInput) -> Vec<u8> {
    vector.to_wire()
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_typmod_in(list: Array<&CStr>) -> i32 {
    let list: Vec<&CStr> = list.iter_deny_null().collect();
    super::typmod_in(&list, TYPE_NAME, MAX_DIMS)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int4vec_typmod_out(typmod: i32) -> CString {
    super::typmod_out(typmod)
}

/// The length coercion Postgres applies for `int4vec(n)` columns and casts.
#[pg_extern(immutable, strict, parallel_safe, name = "int4vec", requires = ["int4vec_type"])]
fn int4vec_coerce(vector: Int4VecInput, typmod: i32, _explicit: bool) -> Int4VecOutput {
    Int4VecOutput::checked(vector.to_owned(), typmod)
}

pgrx::extension_sql_file!(
    "../../sql/int4vec_type.sql",
    name = "int4vec_type",
    requires = [int4vec_in, int4vec_out, int4vec_recv, int4vec_send, int4vec_typmod_in, int4vec_typmod_out]
);

pgrx::extension_sql!(
    "CREATE CAST (int4vec AS int4vec) WITH FUNCTION int4vec(int4vec, integer, boolean) AS IMPLICIT;",
    name = "int4vec_typmod_cast",
    requires = [int4vec_coerce]
);
