//! `bitvec` I/O: text, binary and typmod functions (layout and parsing live in
//! `quantvec_core::bits`).

use std::ffi::{CStr, CString};

use pgrx::datum::Internal;
use pgrx::prelude::*;
use quantvec_core::bits::{BitRef, BitVector, MAX_DIMS, TYPE_NAME};

use super::{check_typmod, input_text, sql_varlena};
use crate::error::OrRaise;

/// A `bitvec` argument, viewed in place.
pub struct BitVecInput<'a>(pub BitRef<'a>);

/// A `bitvec` result.
pub struct BitVecOutput(pub BitVector);

sql_varlena!("bitvec", BitVecInput(BitRef), BitVecOutput);

impl BitVecOutput {
    /// The value, after checking it against the declared dimensions.
    pub fn checked(vector: BitVector, typmod: i32) -> Self {
        check_typmod(vector.view().dims(), typmod, TYPE_NAME);
        BitVecOutput(vector)
    }
}

#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_in(input: &CStr, _type_oid: pg_sys::Oid, typmod: i32) -> BitVecOutput {
    BitVecOutput::checked(BitVector::parse(input_text(input, TYPE_NAME)).or_raise(), typmod)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_out(vector: BitVecInput) -> CString {
    CString::new(vector.to_text()).expect("digits have no NUL")
}

#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_recv(buffer: Internal, _type_oid: pg_sys::Oid, typmod: i32) -> BitVecOutput {
    // SAFETY: Postgres calls a receive function with its message buffer.
    let bytes = unsafe { crate::varlena::take_unread(buffer) };
    BitVecOutput::checked(BitVector::from_wire(bytes).or_raise(), typmod)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_send(vector: BitVecInput) -> Vec<u8> {
    vector.to_wire()
}

#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_typmod_in(list: Array<&CStr>) -> i32 {
    let list: Vec<&CStr> = list.iter_deny_null().collect();
    super::typmod_in(&list, TYPE_NAME, MAX_DIMS)
}

#[pg_extern(immutable, strict, parallel_safe)]
fn bitvec_typmod_out(typmod: i32) -> CString {
    super::typmod_out(typmod)
}

/// The length coercion Postgres applies for `bitvec(n)` columns and casts.
#[pg_extern(immutable, strict, parallel_safe, name = "bitvec", requires = ["bitvec_type"])]
fn bitvec_coerce(vector: BitVecInput, typmod: i32, _explicit: bool) -> BitVecOutput {
    BitVecOutput::checked(vector.to_owned(), typmod)
}

pgrx::extension_sql_file!(
    "../../sql/bitvec_type.sql",
    name = "bitvec_type",
    requires = [bitvec_in, bitvec_out, bitvec_recv, bitvec_send, bitvec_typmod_in, bitvec_typmod_out]
);

pgrx::extension_sql!(
    "CREATE CAST (bitvec AS bitvec) WITH FUNCTION bitvec(bitvec, integer, boolean) AS IMPLICIT;",
    name = "bitvec_typmod_cast",
    requires = [bitvec_coerce]
);
