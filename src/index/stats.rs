//! Seeing what an index is doing: `quantvec_index_stats` (its shape, read from its pages)
//! and `quantvec_last_scan` (what this backend's last statement's index scans did).

use std::cell::RefCell;
use std::collections::VecDeque;

use pgrx::pg_sys;
use pgrx::prelude::*;
use quantvec_core::ivf::paged::chain::read_pages;
use quantvec_core::ivf::paged::lists::list_labels;
use quantvec_core::ivf::paged::{Kind, Lock, Locked, Store};
use quantvec_core::ivf::search::SearchCounters;
use quantvec_core::ivf::{vector_tid, ItemPointer};
use quantvec_core::ErrorKind;

use super::context::IndexErrors;
use super::pages;
use crate::error::{raise_with, OrRaise};

/// An OID returned as `regclass`, which shows as the relation's name (or, once the
/// relation is dropped, as the number).
pub struct Regclass(pg_sys::Oid);

impl pgrx::datum::IntoDatum for Regclass {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        Some(pg_sys::Datum::from(self.0))
    }

    fn type_oid() -> pg_sys::Oid {
        pg_sys::REGCLASSOID
    }
}

// SAFETY: an OID is returned by value, with nothing to allocate.
unsafe impl pgrx::callconv::BoxRet for Regclass {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut pgrx::callconv::FcInfo<'fcx>) -> pgrx::datum::Datum<'fcx> {
        // SAFETY: an OID is a by-value datum, valid for as long as the call's result.
        unsafe { fcinfo.return_raw_datum(pg_sys::Datum::from(self.0)) }
    }
}

pgrx::impl_sql_translatable!(Regclass, "regclass");

/// One row of quantvec_index_stats (the columns as its signature names them).
type StatsRow = (
    Regclass,
    i32,
    &'static str,
    i32,
    i32,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<Vec<String>>,
    i32,
    f64,
    Option<f64>,
    Option<i64>,
);

/// The shape of an index, or of each partition of a partitioned index: its rows per list,
/// its pages by kind, its build parameters (its reloptions), and the probes and rescore
/// factor a query in this session would use on it (one metapage and `pages` in all), and
/// for an index with a label column, how many rows have a label (not NULL).
// (pgrx reads the column names from the signature, so the row type is spelled out there.)
#[allow(clippy::type_complexity)]
#[pg_extern(volatile, parallel_safe)]
fn quantvec_index_stats(
    index: pgrx::PgRelation,
) -> TableIterator<
    'static,
    (
        name!(indexrelid, Regclass),
        name!(format_version, i32),
        name!(metric, &'static str),
        name!(dimensions, i32),
        name!(lists, i32),
        name!(rows, i64),
        name!(rows_at_build, i64),
        name!(table_dead_rows, i64),
        name!(list_rows_min, i64),
        name!(list_rows_median, i64),
        name!(list_rows_max, i64),
        name!(free_vector_slots, Option<i64>),
        name!(pages, i64),
        name!(centroid_pages, i64),
        name!(directory_pages, i64),
        name!(code_pages, i64),
        name!(vector_pages, i64),
        name!(build_options, Option<Vec<String>>),
        name!(default_probes, i32),
        name!(default_rescore_factor, f64),
        name!(expected_recall, Option<f64>),
        name!(labelled_rows, Option<i64>),
    ),
> {
    let leaves = super::leaf_indexes(&index, "quantvec_index_stats");
    TableIterator::new(leaves.into_iter().map(stats_of).collect::<Vec<_>>())
}

fn stats_of(oid: pg_sys::Oid) -> StatsRow {
    let relation = super::open_quantvec_index(oid);
    let _errors = IndexErrors::name(relation);
    let cached = pages::cached(relation);
    let store = cached.store(relation);
    let (opened, quantizer) = (&cached.opened, &cached.opened.quantizer);
    let mut labelled = 0;
    let mut per_list: Vec<i64> = (0..quantizer.lists())
        .map(|list| {
            let (rows, _) = list_labels(&store, opened, list).or_raise();
            labelled += rows.iter().filter(|(_, label)| label.is_some()).count() as i64;
            rows.len() as i64
        })
        .collect();
    let rows = per_list.iter().sum();
    per_list.sort_unstable();
    let free_slots = quantizer.has_vectors().then(|| {
        let mut free = 0;
        let len = quantizer.vector_len();
        read_pages(&store, opened.meta.vector_head, Kind::Vectors, |_, data| {
            free += data.chunks_exact(len).filter(|v| vector_tid(v) == ItemPointer::NONE).count() as i64;
        })
        .or_raise();
        free
    });
    let blocks = store.blocks();
    let mut by_kind = [0i64; 6];
    for block in 0..blocks {
        let kind = store.lock(block, Lock::Share).or_raise().page().kind();
        by_kind[usize::from(kind).min(by_kind.len() - 1)] += 1;
        store.pause();
    }
    // SAFETY: the index is open; its table's OID is in its pg_index row.
    let heap = unsafe { (*(*relation).rd_index).indrelid };
    let dead: i64 = Spi::get_one_with_args("SELECT pg_catalog.pg_stat_get_dead_tuples($1)", &[heap.into()])
        .unwrap_or_else(|e| raise_with(ErrorKind::InvalidParameter, format!("quantvec_index_stats: {e}")))
        .unwrap_or(0);
    let build_options: Option<Vec<String>> = Spi::get_one_with_args("SELECT reloptions FROM pg_catalog.pg_class WHERE oid = $1", &[oid.into()])
        .unwrap_or_else(|e| raise_with(ErrorKind::InvalidParameter, format!("quantvec_index_stats: {e}")));
    let settings = cached.search_settings();
    let (probes, rescore_factor) = (settings.probes, settings.rescore_factor);
    let median = per_list.get(per_list.len() / 2).copied().unwrap_or(0);
    // SAFETY: closing what open_quantvec_index opened, keeping its lock to the end of the
    // transaction.
    unsafe { pg_sys::index_close(relation, pg_sys::NoLock as pg_sys::LOCKMODE) };
    (
        Regclass(oid),
        cached.opened.meta.format as i32,
        cached.opened.meta.metric.name(),
        cached.opened.meta.dims as i32,
        quantizer.lists() as i32,
        rows,
        cached.opened.meta.rows_at_build as i64,
        dead,
        per_list.first().copied().unwrap_or(0),
        median,
        per_list.last().copied().unwrap_or(0),
        free_slots,
        i64::from(blocks),
        by_kind[Kind::Centroids as usize],
        by_kind[Kind::Directory as usize],
        by_kind[Kind::Codes as usize],
        by_kind[Kind::Vectors as usize],
        build_options,
        probes as i32,
        rescore_factor,
        settings.expected_recall,
        quantizer.labels.then_some(labelled),
    )
}

/// The recall curve an index believes in, or each partition's: the search settings its
/// build measured that no other beats in both recall and cost, cheapest first, with the
/// recall@10 each reached on rows of the table used as queries. `quantvec.target_recall`
/// picks the first that reaches it. No rows for an index without a calibration (built
/// before quantvec 0.5.0, over no rows, or for Hamming distance).
#[allow(clippy::type_complexity)]
#[pg_extern(volatile, parallel_safe)]
fn quantvec_index_recall(
    index: pgrx::PgRelation,
) -> TableIterator<
    'static,
    (name!(indexrelid, Regclass), name!(probes, i32), name!(rescore_factor, f64), name!(recall, f64), name!(codes_scored, i64), name!(vectors_rescored, i32)),
> {
    let leaves = super::leaf_indexes(&index, "quantvec_index_recall");
    let rows: Vec<_> = leaves
        .into_iter()
        .flat_map(|oid| {
            let relation = super::open_quantvec_index(oid);
            let _errors = IndexErrors::name(relation);
            let curve = pages::cached(relation).opened.calibration.frontier();
            // SAFETY: closing what open_quantvec_index opened, keeping its lock to the end
            // of the transaction.
            unsafe { pg_sys::index_close(relation, pg_sys::NoLock as pg_sys::LOCKMODE) };
            curve.into_iter().map(move |point| {
                let rescored = (10.0 * point.rescore_factor).ceil() as i32;
                (Regclass(oid), point.probes as i32, point.rescore_factor, point.recall, point.codes_scored.round() as i64, rescored)
            })
        })
        .collect();
    TableIterator::new(rows)
}

/// What one index scan has done, summed over its rescans (loops).
#[derive(Clone, Copy, Default)]
pub struct ScanRecord {
    pub index: pg_sys::Oid,
    pub loops: u64,
    pub probes: usize,
    pub rescore_factor: f64,
    pub counters: SearchCounters,
    pub pages_read: u64,
}

/// Scans kept per statement: the most recent ones, so that a function running a query a
/// million times within one statement keeps a bounded list.
const KEPT_SCANS: usize = 1000;

/// The index scans of the last statement that ran any in this backend, by scan id.
struct LastScans {
    statement_start: pg_sys::TimestampTz,
    scans: VecDeque<(u64, ScanRecord)>,
    next_id: u64,
}

thread_local! {
    static LAST_SCANS: RefCell<LastScans> = const { RefCell::new(LastScans { statement_start: 0, scans: VecDeque::new(), next_id: 0 }) };
}

/// A new scan's id for [`record_scan`].
pub fn new_scan_id() -> u64 {
    LAST_SCANS.with_borrow_mut(|last| {
        last.next_id += 1;
        last.next_id
    })
}

/// Records what scan `id` has done so far as a scan of the current statement (a cursor's
/// scan, fetched from by later statements, shows under each).
pub fn record_scan(id: u64, record: ScanRecord) {
    // SAFETY: reads the current statement's start time, set by the backend.
    let statement_start = unsafe { pg_sys::GetCurrentStatementStartTimestamp() };
    LAST_SCANS.with_borrow_mut(|last| {
        if last.statement_start != statement_start {
            last.statement_start = statement_start;
            last.scans.clear();
        }
        match last.scans.iter_mut().rev().find(|(kept, _)| *kept == id) {
            Some((_, kept)) => *kept = record,
            None => {
                if last.scans.len() == KEPT_SCANS {
                    last.scans.pop_front();
                }
                last.scans.push_back((id, record));
            }
        }
    });
}

/// The index scans of the last statement that used a quantvec index in this backend (the
/// last 1,000 of them), one row each: what each did, to see why a query was slow (EXPLAIN has no room for an
/// access method's own counters).
#[allow(clippy::type_complexity)]
#[pg_extern(volatile, parallel_restricted)]
fn quantvec_last_scan() -> TableIterator<
    'static,
    (
        name!(indexrelid, Regclass),
        name!(loops, i64),
        name!(probes, i32),
        name!(rescore_factor, f64),
        name!(lists_probed, i64),
        name!(codes_scored, i64),
        name!(rescans, i64),
        name!(rescored, i64),
        name!(rows_returned, i64),
        name!(pages_read, i64),
    ),
> {
    let scans: Vec<ScanRecord> = LAST_SCANS.with_borrow(|last| last.scans.iter().map(|(_, record)| *record).collect());
    TableIterator::new(scans.into_iter().map(|s| {
        (
            Regclass(s.index),
            s.loops as i64,
            s.probes as i32,
            s.rescore_factor,
            s.counters.lists_probed as i64,
            s.counters.codes_scored as i64,
            s.counters.rescans as i64,
            s.counters.rescored as i64,
            s.counters.returned as i64,
            s.pages_read as i64,
        )
    }))
}
