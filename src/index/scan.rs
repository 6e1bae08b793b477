//! Index scans: `ORDER BY column <op> query`, streamed nearest first by
//! `quantvec_core::ivf::search::Search` over the index's pages.

use std::rc::Rc;

use pgrx::pg_sys;
use pgrx::prelude::*;
use quantvec_core::bits::BitRef;
use quantvec_core::floats::Query;
use quantvec_core::int8::Int8Ref;
use quantvec_core::ivf::search::{Lists, Search, SearchOptions};
use quantvec_core::ivf::{block, vector_tid, IndexQuery, ItemPointer, Metric, Scorer};
use quantvec_core::kernels;

use super::context::IndexErrors;
use super::pages::{self, Cached, Kind, Lock, Locked, Pinned};
use crate::error::OrRaise;

/// The index's lists, read through shared buffers.
pub struct PgLists<'a> {
    pub index: pg_sys::Relation,
    pub cached: &'a Cached,
}

impl PgLists<'_> {
    /// Visits the pages of a page chain from `head` (the vector pages), one at a time
    /// under a share lock.
    pub fn walk_pages(&self, head: u32, kind: Kind, visit: &mut dyn FnMut(u32, &[u8])) {
        let mut block = head;
        let mut steps = pages::Steps::new(self.index, 1);
        while block != pg_sys::InvalidBlockNumber {
            steps.step(block);
            let next = {
                let locked = Locked::read(self.index, block, Lock::Share);
                let page = locked.page_of(kind);
                visit(block, page.data());
                page.next()
            };
            pages::check_for_interrupts();
            block = next;
        }
    }

    /// Visits the blocks of a list's chain from `head`, keeping a page locked (shared)
    /// while the chain stays on it.
    pub fn walk_blocks(&self, head: ItemPointer, visit: &mut dyn FnMut(ItemPointer, &[u8])) {
        let layout = &self.cached.layout;
        let mut at = head;
        let mut steps = pages::Steps::new(self.index, pages::blocks_per_page(layout));
        if pages::is_wide(layout) {
            // Wide blocks: each read whole from its pages, then scored unlocked.
            while at != ItemPointer::NONE {
                steps.step(at.block);
                let (locks, stored) = pages::read_wide(self.index, layout, at.block, Lock::Share, Some(&self.cached.hints));
                drop(locks);
                let (link, block) = stored.split_at(pages::BLOCK_LINK);
                visit(at, block);
                at = ItemPointer::read(link);
                pages::check_for_interrupts();
            }
            return;
        }
        while at != ItemPointer::NONE {
            {
                let locked = Locked::read_hinted(self.index, at.block, &self.cached.hints);
                let page = locked.page_of(Kind::Codes);
                loop {
                    steps.step(at.block);
                    let Some((next, block)) = pages::stored_block(layout, page.data(), at.offset) else {
                        pages::corrupt_at(self.index, at.block, "a list chain points past the blocks of the page");
                    };
                    visit(at, block);
                    at = next;
                    if at.block != locked.block() {
                        break;
                    }
                }
            }
            pages::check_for_interrupts();
        }
    }
}

/// Vectors read at once by a rescoring batch, their buffers pinned together: few enough
/// that the pins fit PostgreSQL's array of a backend's own pins (8, beside the heap page
/// the executor may hold) rather than spilling to its hash table.
const VECTORS_PER_BATCH: usize = 6;

impl Lists for PgLists<'_> {
    fn scan_list(&self, list: u32, visit: &mut dyn FnMut(&[u8])) {
        self.walk_blocks(self.cached.heads[list as usize], &mut |_, block| visit(block));
    }

    fn read_vectors(&self, slots: &[ItemPointer], visit: &mut dyn FnMut(&[u8])) {
        let len = self.cached.layout.vector_len();
        // Pin the pages and prefetch the vectors of a batch first, so that their cache
        // misses overlap.
        for batch in slots.chunks(VECTORS_PER_BATCH) {
            let pinned: Vec<Pinned> = batch.iter().map(|slot| Pinned::read_hinted(self.index, slot.block, &self.cached.hints)).collect();
            for (page, slot) in pinned.iter().zip(batch) {
                page.prefetch(usize::from(slot.offset) * len, len);
            }
            for (page, slot) in pinned.into_iter().zip(batch) {
                let locked = page.lock(Lock::Share);
                let page = locked.page_of(Kind::Vectors);
                let at = usize::from(slot.offset) * len;
                if let Some(vector) = page.data().get(at..at + len) {
                    visit(vector);
                }
            }
        }
    }
}

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
}

/// `ambeginscan`.
#[pg_guard]
pub unsafe extern "C-unwind" fn ambeginscan(index: pg_sys::Relation, nkeys: i32, norderbys: i32) -> pg_sys::IndexScanDesc {
    let _errors = IndexErrors::name(index);
    // SAFETY: index is open; RelationGetIndexScan allocates the descriptor.
    let scan = unsafe { pg_sys::RelationGetIndexScan(index, nkeys, norderbys) };
    let state = ScanState { cached: pages::cached(index), mode: Mode::Idle, heap_blocks: 0 };
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

/// The GUCs that tune a scan, resolved for an index of `lists` lists.
fn search_options(lists: usize) -> SearchOptions {
    let (probes, rescore_factor) = crate::guc::search_settings();
    let probes = if probes > 0 { probes as usize } else { crate::guc::auto_probes(lists) };
    SearchOptions { probes, rescore_factor }
}

/// The query of the ORDER BY key, as the index uses it.
fn index_query(metric: Metric, key: &pg_sys::ScanKeyData) -> IndexQuery {
    // SAFETY: the key's argument is a non-null datum of the operator's right-hand type:
    // strategy 1 takes the column's own type, strategy 2 a real[].
    unsafe {
        match (metric, key.sk_strategy) {
            (Metric::Hamming, _) => IndexQuery::Bits(BitRef::decode(crate::varlena::payload(key.sk_argument)).or_raise().bytes().to_vec()),
            (_, 2) => IndexQuery::Floats(Query::new(crate::varlena::array_elements::<f32>(key.sk_argument)).or_raise()),
            _ => {
                let vector = Int8Ref::decode(crate::varlena::payload(key.sk_argument)).or_raise();
                IndexQuery::Floats(Query::new(&vector.dequantize_finite()).or_raise())
            }
        }
    }
}

/// `amrescan`.
#[pg_guard]
pub unsafe extern "C-unwind" fn amrescan(scan: pg_sys::IndexScanDesc, _keys: pg_sys::ScanKey, _nkeys: i32, orderbys: pg_sys::ScanKey, norderbys: i32) {
    // SAFETY: scan is valid for the call.
    let _errors = IndexErrors::name(unsafe { (*scan).indexRelation });
    // SAFETY: scan is valid; orderbys holds norderbys keys, copied into the descriptor's
    // own array as every AM does.
    let key = unsafe {
        if !orderbys.is_null() && norderbys > 0 {
            std::ptr::copy(orderbys, (*scan).orderByData, norderbys as usize);
        }
        if (*scan).numberOfOrderBys > 0 {
            Some(*(*scan).orderByData)
        } else {
            None
        }
    };
    let state = state(scan);
    let cached = state.cached.clone();
    state.mode = match key {
        Some(key) if key.sk_flags & pg_sys::SK_ISNULL as i32 == 0 => {
            let query = index_query(cached.meta.metric, &key);
            let scorer = Scorer::new(cached.layout.clone(), kernels::active(), query).or_raise();
            Mode::Nearest(Box::new(Search::new(scorer, search_options(cached.layout.lists()))))
        }
        _ => Mode::Unordered { next: if cached.layout.has_vectors() { cached.meta.vector_head } else { 0 }, pending: Vec::new() },
    };
}

/// `amgettuple`.
#[pg_guard]
pub unsafe extern "C-unwind" fn amgettuple(scan: pg_sys::IndexScanDesc, _direction: pg_sys::ScanDirection::Type) -> bool {
    // SAFETY: scan is valid for the call.
    let index = unsafe { (*scan).indexRelation };
    let _errors = IndexErrors::name(index);
    let state = state(scan);
    let lists = PgLists { index, cached: &state.cached };
    let found = match &mut state.mode {
        Mode::Idle => None,
        Mode::Nearest(search) => search.next(&lists).map(|(tid, _)| tid),
        Mode::Unordered { next, pending } => loop {
            if let Some(tid) = pending.pop() {
                break Some(tid);
            }
            match unordered_batch(&lists, *next) {
                Some((tids, following)) => (*pending, *next) = (tids, following),
                None => break None,
            }
        },
    };
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
        (*scan).xs_recheck = false;
        (*scan).xs_recheckorderby = false;
    }
    true
}

/// The heap tids at cursor `at` of an unordered scan and the cursor after them: a vector
/// page (int8) or a list (Hamming); None at the end.
fn unordered_batch(lists: &PgLists, at: u32) -> Option<(Vec<ItemPointer>, u32)> {
    let layout = &lists.cached.layout;
    if layout.has_vectors() {
        if at == pg_sys::InvalidBlockNumber {
            return None;
        }
        let locked = Locked::read(lists.index, at, Lock::Share);
        let page = locked.page_of(Kind::Vectors);
        let tids = page.data().chunks_exact(layout.vector_len()).map(vector_tid).filter(|&t| t != ItemPointer::NONE).collect();
        return Some((tids, page.next()));
    }
    if at as usize >= layout.lists() {
        return None;
    }
    Some((list_targets(lists, at as usize), at + 1))
}

/// The block slot targets of a list: vector slots (int8) or heap tids (Hamming).
pub fn list_targets(lists: &PgLists, list: usize) -> Vec<ItemPointer> {
    let layout = &lists.cached.layout;
    let mut targets = Vec::new();
    lists.scan_list(list as u32, &mut |b| {
        targets.extend((0..block::ROWS).map(|slot| block::pointer(layout, b, slot)).filter(|&t| t != ItemPointer::NONE));
    });
    targets
}

/// `amendscan`: frees the search now; the rest of the state goes with the scan's context.
#[pg_guard]
pub unsafe extern "C-unwind" fn amendscan(scan: pg_sys::IndexScanDesc) {
    state(scan).mode = Mode::Idle;
}
