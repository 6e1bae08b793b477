//! `int8vec` I/O: text, binary and typmod functions (layout and parsing live in
//! `quantvec_core::int8`).

use std::ffi::{CStr, CString};

use pgrx::datum::Internal;
use pgrx::prelude::*;
use quantvec_core::int8::{Int8Ref, Int8Vector, MAX_DIMS, TYPE_NAME};

use super::{check_typmod, input_text, sql_varlena};
use crate::error::OrRaise;

/// An `int8vec` argument, viewed in place.
pub struct Int8VecInput<'a>(pub Int8Ref<'a>);

/// An `int8vec` result.
pub struct Int8VecOutput(pub Int8Vector);

sql_varlena!("int8vec", Int8VecInput(Int8Ref), Int8VecOutput);

impl Int8VecOutput {
    /// The value, after checking it against the declared dimensions.
    pub fn checked(vector: Int8Vector, typmod: i32) -> Self {
        check_typmod(vector.codes.len(), typmod, TYPE_NAME);
        Int8VecOutput(vector)
    }
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_in(input: &CStr, _type_oid: pg_sys::Oid, typmod: i32) -> Int8VecOutput {
    Int8VecOutput::checked(Int8Vector::parse(input_text(input, TYPE_NAME)).or_raise(), typmod)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_out(vector: Int8VecInput) -> CString {
    CString::new(vector.to_text()).expect("numbers have no NUL")
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_recv(buffer: Internal, _type_oid: pg_sys::Oid, typmod: i32) -> Int8VecOutput {
    // SAFETY: Postgres calls a receive function with its message buffer.
    let bytes = unsafe { crate::varlena::take_unread(buffer) };
    Int8VecOutput::checked(Int8Vector::from_wire(bytes).or_raise(), typmod)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_send(vector: Int8VecInput) -> Vec<u8> {
    vector.to_wire()
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_typmod_in(list: Array<&CStr>) -> i32 {
    let list: Vec<&CStr> = list.iter_deny_null().collect();
    super::typmod_in(&list, TYPE_NAME, MAX_DIMS)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn int8vec_typmod_out(typmod: i32) -> CString {
    super::typmod_out(typmod)
}

/// The length coercion Postgres applies for `int8vec(n)` columns and casts.
#[pg_extern(immutable, strict, parallel_safe, name = "int8vec", requires = ["int8vec_type"])]
fn int8vec_coerce(vector: Int8VecInput, typmod: i32, _explicit: bool) -> Int8VecOutput {
    Int8VecOutput::checked(vector.to_owned(), typmod)
}

pgrx::extension_sql_file!(
    "../../sql/int8vec_type.sql",
    name = "int8vec_type",
    requires = [int8vec_in, int8vec_out, int8vec_recv, int8vec_send, int8vec_typmod_in, int8vec_typmod_out]
);

pgrx::extension_sql!(
    "CREATE CAST (int8vec AS int8vec) WITH FUNCTION int8vec(int8vec, integer, boolean) AS IMPLICIT;",
    name = "int8vec_typmod_cast",
    requires = [int8vec_coerce]
);
