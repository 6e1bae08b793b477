//! Reading the indexed table: its rows' vectors, through the table AM's index-build scan
//! (table_index_build_scan, an inline function in C), for a build and for a check.

use std::ffi::c_void;

use pgrx::pg_sys;
use pgrx::prelude::*;
use quantvec_core::ivf::ItemPointer;

/// What a scan does with each row whose indexed value is not NULL.
pub trait VisitRow {
    /// `value`: the row's indexed column, a varlena datum (maybe toasted); `label`: its
    /// label column's value, where the index has one.
    fn visit(&mut self, tid: ItemPointer, value: pg_sys::Datum, label: Option<i32>);
}

#[pg_guard]
unsafe extern "C-unwind" fn visit_row<V: VisitRow>(
    index: pg_sys::Relation,
    tid: pg_sys::ItemPointer,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    _alive: bool,
    state: *mut c_void,
) {
    // SAFETY: state is the V passed to `scan`, alive for it; a build callback gets the
    // row's tid and one value and null flag per index column.
    unsafe {
        if !*isnull {
            (*state.cast::<V>()).visit(super::tid_from_pg(&*tid), *values, super::labels::label_of(index, values, isnull));
        }
    }
}

/// Which rows a scan reads.
pub enum Rows {
    /// A build's: every row a new index must hold, with progress reported.
    ForBuild,
    /// A check's: the rows visible to the snapshot of `scan` (a scan begun on the table,
    /// which the build scan ends).
    Visible(pg_sys::TableScanDesc),
}

/// Calls `visitor` for every row of `heap` with a vector; returns the rows the scan saw.
pub fn scan<V: VisitRow>(heap: pg_sys::Relation, index: pg_sys::Relation, index_info: *mut pg_sys::IndexInfo, rows: Rows, visitor: &mut V) -> f64 {
    let (any_visible, progress, scan) = match rows {
        Rows::ForBuild => (false, true, std::ptr::null_mut()),
        Rows::Visible(scan) => (true, false, scan),
    };
    // SAFETY: the heap's table AM is valid while the relation is open; the callback and
    // visitor live for the call. An ERROR inside (a bad row, a cancel) comes back as a Rust
    // panic, so that the caller's state (a build's threads too) is dropped on the way out.
    unsafe {
        let scan_range = (*(*heap).rd_tableam).index_build_range_scan.expect("table AM builds indexes");
        let state = std::ptr::from_mut(visitor).cast::<c_void>();
        pg_sys::ffi::pg_guard_ffi_boundary(|| {
            scan_range(heap, index, index_info, true, any_visible, progress, 0, pg_sys::InvalidBlockNumber, Some(visit_row::<V>), state, scan)
        })
    }
}
