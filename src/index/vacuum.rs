//! Vacuum: `ambulkdelete` empties the code rows and vector slots of dead rows (see
//! `quantvec_core::ivf::paged::vacuum`); `amvacuumcleanup` reports the index's size, and
//! measures its recall again where its rows changed enough since it was measured.

use pgrx::pg_sys;
use pgrx::prelude::*;
use quantvec_core::ivf::paged;
use quantvec_core::ivf::recall;
use quantvec_core::ivf::ItemPointer;
use quantvec_core::kernels;

use super::build;
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
    let mut stats = stats;
    // SAFETY: info is valid for the call.
    let (index, analyze_only, message_level) = unsafe { ((*info).index, (*info).analyze_only, (*info).message_level) };
    let _errors = IndexErrors::name(index);
    if analyze_only {
        return stats;
    }
    if stats.is_null() {
        // No bulk delete ran (nothing was dead): count the rows.
        let cached = pages::cached(index);
        let store = cached.store(index);
        let rows: usize = (0..cached.opened.quantizer.lists()).map(|list| paged::lists::list_targets(&store, &cached.opened, list).or_raise().0.len()).sum();
        stats = stats_or_new(stats);
        // SAFETY: stats was just allocated.
        unsafe {
            (*stats).num_index_tuples = rows as f64;
            (*stats).num_pages = pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM);
        }
    }
    // SAFETY: stats is valid (ours or the bulk delete's).
    let (rows, removed) = unsafe { ((*stats).num_index_tuples, (*stats).tuples_removed) };
    recalibrate_if_drifted(index, rows, removed, message_level);
    stats
}

/// The share of the rows a recall curve was measured over that, inserted or removed since,
/// makes VACUUM measure it again.
const DRIFT: f64 = 0.2;

/// Measures the index's recall again (`paged::recalibrate`, then the build's measurement)
/// where `rows` now, or `removed` by this vacuum, differ from the rows it was measured over
/// by [`DRIFT`] of them or more; and where it never was (a build over no rows, or before
/// calibrations). A curve measured on other rows chooses settings for `target_recall` that
/// reach another recall; measuring again costs about what a build's measurement does.
fn recalibrate_if_drifted(index: pg_sys::Relation, rows: f64, removed: f64, message_level: i32) {
    let cached = pages::cached(index);
    let opened = &cached.opened;
    if !opened.quantizer.has_vectors() || rows <= recall::K as f64 {
        return;
    }
    let measured_over = match opened.calibration.rows {
        // Calibrations written before they counted their rows: the build's.
        0 if !opened.calibration.is_empty() => opened.meta.rows_at_build,
        counted => counted,
    } as f64;
    if measured_over > 0.0 && (rows - measured_over).abs().max(removed) < DRIFT * measured_over {
        return;
    }
    let pool = build::thread_pool();
    let store = PgStore::new(index).vacuuming();
    let build_id = build::new_build_id(index);
    let truths = paged::recalibrate::truths(&store, opened, kernels::active(), &pool, recall::QUERIES, build_id).or_raise();
    let calibration = build::calibrate(index, &truths, &pool);
    paged::directory::replace_calibration(&store, &calibration, build_id).or_raise();
    // SAFETY: an open relation's pg_class row holds its NUL-terminated name.
    let name = unsafe { std::ffi::CStr::from_ptr((*(*index).rd_rel).relname.data.as_ptr()) }.to_string_lossy();
    let message = format!("index \"{name}\" measured its recall again, over {} rows ({measured_over} when last measured)", calibration.rows);
    pgrx::ereport!(PgLogLevel::from(message_level), PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION, message);
}
