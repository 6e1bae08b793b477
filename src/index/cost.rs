//! `amcostestimate`: an index scan reads the probed fraction of the index before it
//! returns its first row, so its startup cost is that whole read; without an ORDER BY on
//! the index's operator the index is of no use.
//!
//! The probed lists are read page after page, chain by chain, so their pages cost what
//! sequential pages cost; a row costs a table lookup in FastScan (far less than a
//! distance function call, which is what a sequential scan pays per row), and ranking
//! the lists costs one operator evaluation per list.

use pgrx::pg_sys;
use pgrx::prelude::*;

use super::context::IndexErrors;
use super::directory;

#[pg_guard]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C-unwind" fn amcostestimate(
    root: *mut pg_sys::PlannerInfo,
    path: *mut pg_sys::IndexPath,
    loop_count: f64,
    startup_cost: *mut pg_sys::Cost,
    total_cost: *mut pg_sys::Cost,
    selectivity: *mut pg_sys::Selectivity,
    correlation: *mut f64,
    index_pages: *mut f64,
) {
    // SAFETY: the planner passes valid pointers for the call.
    unsafe {
        *correlation = 0.0;
        if (*path).indexorderbys.is_null() {
            // Only ORDER BY <distance> can use this index.
            *startup_cost = f64::MAX;
            *total_cost = f64::MAX;
            *selectivity = 0.0;
            *index_pages = 0.0;
            return;
        }
        let info = (*path).indexinfo;
        let index = pg_sys::index_open((*info).indexoid, pg_sys::NoLock as pg_sys::LOCKMODE);
        // A damaged metapage is an ERROR here already, as a btree's is to the planner.
        let errors = IndexErrors::name(index);
        let lists = directory::read_meta(index).lists.max(1) as usize;
        drop(errors);
        pg_sys::index_close(index, pg_sys::NoLock as pg_sys::LOCKMODE);
        let (probes, _) = crate::guc::effective_search_settings(lists);
        let fraction = probes as f64 / lists as f64;
        let mut costs = pg_sys::GenericCosts { numIndexTuples: fraction * (*info).tuples, ..Default::default() };
        pg_sys::genericcostestimate(root, path, loop_count, &mut costs);
        let pages_read = (fraction * f64::from((*info).pages)).max(1.0);
        let cost = pages_read * pg_sys::seq_page_cost + lists as f64 * pg_sys::cpu_operator_cost + costs.numIndexTuples * pg_sys::cpu_index_tuple_cost;
        *startup_cost = cost;
        *total_cost = cost;
        *selectivity = costs.indexSelectivity;
        *index_pages = pages_read;
    }
}
