//! `amcostestimate`: an index scan reads the probed fraction of the index before it
//! returns its first row, so its startup cost is that whole read; without an ORDER BY on
//! the index's operator the index is of no use.

use pgrx::pg_sys;
use pgrx::prelude::*;

use super::pages;

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
        let lists = pages::read_meta(index).lists.max(1) as usize;
        pg_sys::index_close(index, pg_sys::NoLock as pg_sys::LOCKMODE);
        let (probes, _) = crate::guc::search_settings();
        let probes = if probes > 0 { (probes as usize).min(lists) } else { crate::guc::auto_probes(lists) };
        let fraction = probes as f64 / lists as f64;
        let mut costs = pg_sys::GenericCosts { numIndexTuples: fraction * (*info).tuples, ..Default::default() };
        pg_sys::genericcostestimate(root, path, loop_count, &mut costs);
        *startup_cost = costs.indexTotalCost;
        *total_cost = costs.indexTotalCost;
        *selectivity = costs.indexSelectivity;
        *index_pages = costs.numIndexPages;
    }
}
