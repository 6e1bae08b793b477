//! `amcostestimate`: an index scan reads the probed fraction of the index before it
//! returns its first row, so its startup cost is that whole read; without an ORDER BY on
//! the index's operator the index is of no use.
//!
//! The probed lists are read page after page, chain by chain, so their pages cost what
//! sequential pages cost; a row costs a table lookup in FastScan (far less than a
//! distance function call, which is what a sequential scan pays per row), and ranking
//! the lists costs one operator evaluation per list.
//!
//! Each row the scan returns costs its rescoring on top: `rescore_factor` vectors (no more
//! than every row once), each a buffer pin, lock and read on a page of its own. That is
//! the run cost, which a LIMIT takes its share of: `LIMIT k` with a filter that keeps a
//! fraction s of the rows needs about k / s rows from the index, so a selective filter
//! makes the index dear and the planner turns to another index on the filter column and
//! an exact ranking of the rows it finds (on 100k × 384: 14 ms a query through this index
//! at 1%, 1.1 ms through a btree on the filter column; about 3 and 8 ms at 10%).
//!
//! A filter on the index's label column is the index's own: it returns only the rows that
//! pass, so its run cost is theirs, and it probes as deep as the filter's selectivity
//! takes it, reading only the probed lists' code pages before its first row.

use pgrx::pg_sys;
use pgrx::prelude::*;

use quantvec_core::ivf::Metric;

use super::context::IndexErrors;

/// A rescored vector's cost, as a fraction of `random_page_cost`: measured on 100k × 384
/// (rescore factor 8), each row past the first ten took 7 µs, and a sequential scan's cost
/// unit about 1.5 µs: 0.6 of a cost unit a vector, 0.15 of a random page read (4). Since
/// scans probe further lists as they go deeper, rows past the hundredth take 15-20 µs;
/// the plans measured in the README are the cheaper ones still.
const RESCORED_VECTOR_PAGE_FRACTION: f64 = 0.15;

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
        // The backend's copy, with its settings for the GUCs of this plan.
        let cached = super::pages::cached(index);
        drop(errors);
        pg_sys::index_close(index, pg_sys::NoLock as pg_sys::LOCKMODE);
        let meta = &cached.opened.meta;
        let lists = meta.lists.max(1) as usize;
        let settings = cached.search_settings();
        let (probes, rescore_factor) = (settings.probes, settings.rescore_factor);
        let rows_out = (*(*info).rel).rows;
        let cost_per_row =
            rescored_per_row(meta.metric, rescore_factor, (*root).limit_tuples, rows_out) * RESCORED_VECTOR_PAGE_FRACTION * pg_sys::random_page_cost;
        let labelled = !(*path).indexclauses.is_null();
        // The selectivity of the label quals (and of a partial index's predicate); the
        // rest of genericcostestimate's figures are replaced below.
        let mut costs = pg_sys::GenericCosts::default();
        pg_sys::genericcostestimate(root, path, loop_count, &mut costs);
        let filtered = labelled.then_some(costs.indexSelectivity.clamp(1e-9, 1.0));
        let fraction = probed_fraction(probes, lists, filtered, (*root).limit_tuples);
        let index_tuples = (fraction * (*info).tuples).max(1.0);
        let pages = match filtered {
            // A filtered scan reads the probed lists' code pages; the vector pages it
            // rescores from are the per-row cost.
            Some(_) => f64::from((*info).pages) * code_share(&cached.opened.quantizer),
            None => f64::from((*info).pages),
        };
        let pages_read = (fraction * pages).max(1.0);
        let cost = pages_read * pg_sys::seq_page_cost + lists as f64 * pg_sys::cpu_operator_cost + index_tuples * pg_sys::cpu_index_tuple_cost;
        *startup_cost = cost;
        *total_cost = cost + filtered.unwrap_or(1.0) * (*info).tuples.max(0.0) * cost_per_row;
        *selectivity = costs.indexSelectivity;
        *index_pages = pages_read;
    }
}

/// The fraction of the lists a scan probes before its first row: `probes` of them, and
/// through a label filter that keeps a fraction s of the rows, as many more as the search
/// probes for `LIMIT k` (`probes × √(k / 10 / s)`, see `Search::probes_wanted`).
fn probed_fraction(probes: usize, lists: usize, filtered: Option<f64>, limit_tuples: f64) -> f64 {
    let depth = match filtered {
        Some(kept) => limit_tuples.max(10.0) / 10.0 / kept,
        None => 1.0,
    };
    (probes as f64 * depth.sqrt() / lists as f64).min(1.0)
}

/// The share of an index's bytes in its code blocks (the rest: the vectors rescoring reads).
fn code_share(quantizer: &quantvec_core::ivf::Quantizer) -> f64 {
    let code = quantizer.block_len() as f64 / quantvec_core::ivf::block::ROWS as f64;
    code / (code + quantizer.vector_len() as f64)
}

/// Vectors rescored for each row the scan returns, as the planner's LIMIT arithmetic
/// needs it (it takes `limit / rows_out` of the run cost). Returning n rows rescores
/// `rescore_factor × n` candidates, but never more than every row once: without a LIMIT
/// (`limit_tuples` < 0) or with one that needs every row, that is one vector a row.
/// Hamming indexes return their first-pass order and rescore nothing.
fn rescored_per_row(metric: Metric, rescore_factor: f64, limit_tuples: f64, rows_out: f64) -> f64 {
    if metric == Metric::Hamming {
        return 0.0;
    }
    if limit_tuples <= 0.0 {
        return 1.0;
    }
    rescore_factor.min(rows_out / limit_tuples).max(1.0)
}
