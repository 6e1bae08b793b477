//! Index scans: `ORDER BY column <op> query`, streamed nearest first by
//! `quantvec_core::ivf::search::Search` over the index's pages.

use std::rc::Rc;

use pgrx::pg_sys;
use pgrx::prelude::*;
use quantvec_core::bits::BitRef;
use quantvec_core::floats::Query;
use quantvec_core::ivf::paged::lists::PagedLists;
use quantvec_core::ivf::paged::{self, Kind, Lock, Store};
use quantvec_core::ivf::search::{Search, SearchOptions};
use quantvec_core::ivf::{vector_tid, IndexQuery, ItemPointer, Metric, Scorer};
use quantvec_core::kernels;

use super::context::IndexErrors;
use super::pages::{self, Cached, PgStore};
use super::stats::{self, ScanRecord};
use crate::error::OrRaise;

/// What a scan returns: rows nearest first, or (for a NULL query) every row in no
/// particular order.
enum Mode {
    Idle,
    Nearest(Box<Search>),
    /// Every row: the vector pages in chain order (int8), or the lists' blocks (Hamming,
    /// whose blocks hold heap tids), a page or a list at a time.
    Unordered {
        next: u32,
        pending: Vec<ItemPointer>,
    },
}

struct ScanState {
    cached: Rc<Cached>,
    mode: Mode,
    /// The table's size when last looked up: a row past it is looked up again before a
    /// damaged entry is reported (rather than failing in the table, without the index's name).
    heap_blocks: u32,
    /// What this scan has done, for quantvec_last_scan: `done` sums the searches of
    /// earlier rescans; `id` names the scan there.
    done: ScanRecord,
    id: u64,
    /// Whether the executor checks returned rows against the scan's keys.
    recheck: bool,
}

impl ScanState {
    /// The scan's record so far: the earlier rescans' and the current search's.
    fn record(&self) -> ScanRecord {
        let mut record = self.done;
        if let Mode::Nearest(search) = &self.mode {
            record.counters += search.counters();
        }
        record
    }
}

/// `ambeginscan`.
#[pg_guard]
pub unsafe extern "C-unwind" fn ambeginscan(index: pg_sys::Relation, nkeys: i32, norderbys: i32) -> pg_sys::IndexScanDesc {
    let _errors = IndexErrors::name(index);
    // SAFETY: index is open; RelationGetIndexScan allocates the descriptor.
    let scan = unsafe { pg_sys::RelationGetIndexScan(index, nkeys, norderbys) };
    // SAFETY: index is open.
    let oid = unsafe { (*index).rd_id };
    let done = ScanRecord { index: oid, ..ScanRecord::default() };
    let state = ScanState { cached: pages::cached(index), mode: Mode::Idle, heap_blocks: 0, done, id: stats::new_scan_id(), recheck: false };
    stats::record_scan(state.id, state.done);
    // The state belongs to the memory context the scan is made in (the query's), which
    // drops it when it goes: a query that fails or is canceled mid-scan never reaches
    // amendscan.
    // SAFETY: scan is valid; opaque is ours, and lives as long as the scan's context.
    unsafe { (*scan).opaque = pgrx::PgMemoryContexts::CurrentMemoryContext.leak_and_drop_on_delete(state).cast() };
    scan
}

fn state<'s>(scan: pg_sys::IndexScanDesc) -> &'s mut ScanState {
    // SAFETY: opaque was set by ambeginscan to a ScanState, which lives as long as the
    // scan's memory context.
    unsafe { &mut *(*scan).opaque.cast::<ScanState>() }
}

/// The GUCs that tune a scan, resolved for an index.
fn search_options(cached: &Cached) -> SearchOptions {
    let settings = cached.search_settings();
    SearchOptions { probes: settings.probes, rescore_factor: settings.rescore_factor }
}

/// The query of the ORDER BY key, as the index uses it.
fn index_query(metric: Metric, vector_bits: u8, key: &pg_sys::ScanKeyData) -> IndexQuery {
    // SAFETY: the key's argument is a non-null datum of the operator's right-hand type:
    // strategy 1 takes the column's own type, strategy 2 a real[], strategy 3 a vector
    // (a varlena, whose bytes decode_vector checks).
    unsafe {
        match (metric, key.sk_strategy) {
            (Metric::Hamming, _) => IndexQuery::Bits(BitRef::decode(crate::varlena::payload(key.sk_argument)).or_raise().bytes().to_vec()),
            (_, 2) => IndexQuery::Floats(Query::new(crate::varlena::array_elements::<f32>(key.sk_argument)).or_raise()),
            // pgvector's vector, with operators from quantvec_pgvector.
            (_, 3) => IndexQuery::Floats(Query::new(&quantvec_core::pgvector::decode_vector(crate::varlena::payload(key.sk_argument)).or_raise()).or_raise()),
            // The column's own type, int8vec or int4vec.
            _ => {
                let floats = quantvec_core::ivf::stored_floats(metric, vector_bits, crate::varlena::payload(key.sk_argument)).or_raise();
                IndexQuery::Floats(Query::new(&floats).or_raise())
            }
        }
    }
}

/// `amrescan`.
#[pg_guard]
pub unsafe extern "C-unwind" fn amrescan(scan: pg_sys::IndexScanDesc, keys: pg_sys::ScanKey, nkeys: i32, orderbys: pg_sys::ScanKey, norderbys: i32) {
    // SAFETY: scan is valid for the call.
    let _errors = IndexErrors::name(unsafe { (*scan).indexRelation });
    // SAFETY: scan is valid; keys and orderbys hold nkeys and norderbys keys, copied into
    // the descriptor's own arrays as every AM does.
    let (key, filter) = unsafe {
        if !keys.is_null() && nkeys > 0 {
            std::ptr::copy(keys, (*scan).keyData, nkeys as usize);
        }
        let filter = match (*scan).numberOfKeys {
            0 => None,
            n => super::labels::key_labels((*scan).indexRelation, std::slice::from_raw_parts((*scan).keyData, n as usize)),
        };
        if !orderbys.is_null() && norderbys > 0 {
            std::ptr::copy(orderbys, (*scan).orderByData, norderbys as usize);
        }
        let key = if (*scan).numberOfOrderBys > 0 { Some(*(*scan).orderByData) } else { None };
        (key, filter)
    };
    let state = state(scan);
    let cached = state.cached.clone();
    state.done = state.record();
    state.done.loops += 1;
    // Rows are rechecked against the keys where there are any: the unordered scan returns
    // every row.
    state.recheck = filter.is_some();
    state.mode = match key {
        _ if filter.as_ref().is_some_and(Vec::is_empty) => Mode::Idle,
        Some(key) if key.sk_flags & pg_sys::SK_ISNULL as i32 == 0 => {
            let query = index_query(cached.opened.meta.metric, cached.opened.meta.vector_bits, &key);
            let scorer = Scorer::new(cached.opened.quantizer.clone(), kernels::active(), query).or_raise();
            let options = search_options(&cached);
            (state.done.probes, state.done.rescore_factor) = (options.probes, options.rescore_factor);
            let search = Search::new(scorer, options);
            Mode::Nearest(Box::new(match filter {
                Some(values) => search.with_filter(values),
                None => search,
            }))
        }
        _ => Mode::Unordered { next: if cached.opened.quantizer.has_vectors() { cached.opened.meta.vector_head } else { 0 }, pending: Vec::new() },
    };
}

/// `amgettuple`.
#[pg_guard]
pub unsafe extern "C-unwind" fn amgettuple(scan: pg_sys::IndexScanDesc, _direction: pg_sys::ScanDirection::Type) -> bool {
    // SAFETY: scan is valid for the call.
    let index = unsafe { (*scan).indexRelation };
    let _errors = IndexErrors::name(index);
    let state = state(scan);
    let cached = state.cached.clone();
    let store = cached.store(index);
    let lists = PagedLists::new(&store, &cached.opened, pages::fail);
    let found = match &mut state.mode {
        Mode::Idle => None,
        Mode::Nearest(search) => search.next(&lists).map(|(tid, _)| tid),
        Mode::Unordered { next, pending } => loop {
            if let Some(tid) = pending.pop() {
                break Some(tid);
            }
            match unordered_batch(&lists, *next).or_raise() {
                Some((tids, following)) => (*pending, *next) = (tids, following),
                None => break None,
            }
        },
    };
    state.done.pages_read += lists.pages_read.get();
    if found.is_some() && matches!(state.mode, Mode::Unordered { .. }) {
        // (A search counts its own rows.)
        state.done.counters.returned += 1;
    }
    stats::record_scan(state.id, state.record());
    let Some(tid) = found else { return false };
    if tid.block >= state.heap_blocks {
        // SAFETY: scan is valid; its table is open for the scan.
        state.heap_blocks = unsafe { pg_sys::RelationGetNumberOfBlocksInFork((*scan).heapRelation, pg_sys::ForkNumber::MAIN_FORKNUM) };
        if tid.block >= state.heap_blocks {
            pages::corrupt(index, &format!("an entry points at table row ({}, {}), past the table's {} blocks", tid.block, tid.offset, state.heap_blocks));
        }
    }
    // SAFETY: scan is valid; these are the fields an AM sets for each returned row.
    unsafe {
        (*scan).xs_heaptid = super::tid_to_pg(tid);
        (*scan).xs_recheck = state.recheck;
        (*scan).xs_recheckorderby = false;
    }
    true
}

/// The heap tids at cursor `at` of an unordered scan and the cursor after them: a vector
/// page (int8) or a list (Hamming); None at the end.
fn unordered_batch(lists: &PagedLists<PgStore>, at: u32) -> quantvec_core::Result<Option<(Vec<ItemPointer>, u32)>> {
    let (store, opened) = (lists.store, lists.opened);
    let quantizer = &opened.quantizer;
    if quantizer.has_vectors() {
        if at == paged::NO_BLOCK {
            return Ok(None);
        }
        lists.count_pages(1);
        let locked = store.lock(at, Lock::Share)?;
        let page = paged::store::page_of(store, &locked, Kind::Vectors)?;
        let tids = page.data().chunks_exact(quantizer.vector_len()).map(vector_tid).filter(|&t| t != ItemPointer::NONE).collect();
        return Ok(Some((tids, page.next())));
    }
    if at as usize >= quantizer.lists() {
        return Ok(None);
    }
    let (tids, pages) = paged::lists::list_targets(store, opened, at as usize)?;
    lists.count_pages(pages);
    Ok(Some((tids, at + 1)))
}

/// `amendscan`: frees the search now; the rest of the state goes with the scan's context.
#[pg_guard]
pub unsafe extern "C-unwind" fn amendscan(scan: pg_sys::IndexScanDesc) {
    state(scan).mode = Mode::Idle;
}
