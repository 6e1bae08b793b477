//! `aminsert`: a new row goes to the list of its nearest centroid (see
//! `quantvec_core::ivf::paged::insert`).

use pgrx::pg_sys;
use pgrx::prelude::*;
use quantvec_core::ivf::paged;
use quantvec_core::ivf::{EncodedRow, ItemPointer};
use quantvec_core::kernels;

use super::context::IndexErrors;
use super::pages::{self, PgStore};
use crate::error::OrRaise;
use crate::memory::RowContext;

/// `aminsert`.
#[pg_guard]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C-unwind" fn aminsert(
    index: pg_sys::Relation,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    heap_tid: pg_sys::ItemPointer,
    _heap: pg_sys::Relation,
    _check_unique: pg_sys::IndexUniqueCheck::Type,
    _index_unchanged: bool,
    _index_info: *mut pg_sys::IndexInfo,
) -> bool {
    let _errors = IndexErrors::name(index);
    // SAFETY: a value and null flag for each of the index's columns, and the heap tid.
    let (tid, label) = unsafe {
        if *isnull {
            return false;
        }
        (super::tid_from_pg(&*heap_tid), super::labels::label_of(index, values, isnull))
    };
    // The statement's context lives until it ends: an INSERT ... SELECT of many toasted
    // rows would keep every detoasted copy.
    RowContext::new(c"quantvec insert").run(|| {
        // SAFETY: the index column's non-null value, read within this context.
        insert(index, tid, unsafe { crate::varlena::payload(*values) }, label)
    });
    false
}

fn insert(index: pg_sys::Relation, tid: ItemPointer, payload: &[u8], label: Option<i32>) {
    let cached = pages::cached(index);
    let row = cached.opened.quantizer.encode_stored(kernels::active(), tid, payload).or_raise();
    paged::insert::insert(&PgStore::new(index), &cached.opened, &EncodedRow { label, ..row }, tid).or_raise();
}
