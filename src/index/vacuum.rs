//! Vacuum: `ambulkdelete` empties the code rows and vector slots of dead rows (see
//! `quantvec_core::ivf::paged::vacuum`); `amvacuumcleanup` reports the index's size.

use pgrx::pg_sys;
use pgrx::prelude::*;
use quantvec_core::ivf::paged;
use quantvec_core::ivf::ItemPointer;

use super::context::IndexErrors;
use super::pages::{self, PgStore};
use crate::error::OrRaise;

fn stats_or_new(stats: *mut pg_sys::IndexBulkDeleteResult) -> *mut pg_sys::IndexBulkDeleteResult {
    if stats.is_null() {
        // SAFETY: zeroed memory of the struct's size, owned by Postgres.
        unsafe { pg_sys::palloc0(std::mem::size_of::<pg_sys::IndexBulkDeleteResult>()).cast() }
    } else {
        stats
    }
}

/// `ambulkdelete`.
#[pg_guard]
pub unsafe extern "C-unwind" fn ambulkdelete(
    info: *mut pg_sys::IndexVacuumInfo,
    stats: *mut pg_sys::IndexBulkDeleteResult,
    callback: pg_sys::IndexBulkDeleteCallback,
    callback_state: *mut std::ffi::c_void,
) -> *mut pg_sys::IndexBulkDeleteResult {
    let stats = stats_or_new(stats);
    // SAFETY: info is valid for the call.
    let index = unsafe { (*info).index };
    let _errors = IndexErrors::name(index);
    let cached = pages::cached(index);
    let callback = callback.expect("bulk delete has a callback");
    let mut dead = |tid: ItemPointer| {
        let mut pg_tid = super::tid_to_pg(tid);
        // SAFETY: the callback takes a heap tid and its own state.
        unsafe { callback(&mut pg_tid, callback_state) }
    };
    let store = PgStore::new(index).vacuuming();
    let counts = paged::vacuum::bulk_delete(&store, &cached.opened, &mut dead).or_raise();
    // SAFETY: stats is valid (ours or the caller's).
    unsafe {
        (*stats).tuples_removed += counts.removed as f64;
        (*stats).num_index_tuples = counts.kept as f64;
        (*stats).num_pages = pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM);
    }
    stats
}

/// `amvacuumcleanup`.
#[pg_guard]
pub unsafe extern "C-unwind" fn amvacuumcleanup(
    info: *mut pg_sys::IndexVacuumInfo,
    stats: *mut pg_sys::IndexBulkDeleteResult,
) -> *mut pg_sys::IndexBulkDeleteResult {
    // SAFETY: info is valid for the call.
    let (index, analyze_only) = unsafe { ((*info).index, (*info).analyze_only) };
    let _errors = IndexErrors::name(index);
    if analyze_only || !stats.is_null() {
        return stats;
    }
    // No bulk delete ran (nothing was dead): count the rows.
    let stats = stats_or_new(stats);
    let cached = pages::cached(index);
    let store = cached.store(index);
    let rows: usize = (0..cached.opened.quantizer.lists()).map(|list| paged::lists::list_targets(&store, &cached.opened, list).or_raise().0.len()).sum();
    // SAFETY: stats was just allocated.
    unsafe {
        (*stats).num_index_tuples = rows as f64;
        (*stats).num_pages = pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM);
    }
    stats
}
