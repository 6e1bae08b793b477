//! Vacuum: `ambulkdelete` empties the vector and code slots of dead rows, and points each
//! list's inserts at its first page with room, so the space is reused;
//! `amvacuumcleanup` reports the index's size.

use std::collections::HashMap;

use pgrx::pg_sys;
use pgrx::prelude::*;
use quantvec_core::ivf::{block, vector_tid, ItemPointer};

use super::insert::{read_entry, set_insert_page};
use super::pages::{self, Cached, Kind, Locked, Wal, CAPACITY};

fn stats_or_new(stats: *mut pg_sys::IndexBulkDeleteResult) -> *mut pg_sys::IndexBulkDeleteResult {
    if stats.is_null() {
        // SAFETY: zeroed memory of the struct's size, owned by Postgres.
        unsafe { pg_sys::palloc0(std::mem::size_of::<pg_sys::IndexBulkDeleteResult>()).cast() }
    } else {
        stats
    }
}

/// Walks a chain with exclusive locks. `edit` gets each page's block and a copy of its
/// data, and returns whether it changed the copy (which is then written under WAL) and
/// whether the page has room. Returns the first page with room.
fn edit_chain(index: pg_sys::Relation, head: u32, kind: Kind, edit: &mut dyn FnMut(u32, &mut [u8]) -> (bool, bool)) -> Option<u32> {
    let mut block = head;
    let mut first_with_room = None;
    while block != pg_sys::InvalidBlockNumber {
        let next = {
            let locked = Locked::read(index, block, true);
            let page = locked.page();
            pages::expect_kind(&page, kind, block);
            let mut data = page.data().to_vec();
            let (changed, room) = edit(block, &mut data);
            if changed {
                let mut wal = Wal::start(index);
                wal.page(&locked, false).data_mut().copy_from_slice(&data);
                wal.finish();
            }
            if room && first_with_room.is_none() {
                first_with_room = Some(block);
            }
            page.next()
        };
        // SAFETY: between pages, with no buffer locked: vacuum's cost-based delay and
        // interrupt check.
        unsafe { pg_sys::vacuum_delay_point() };
        block = next;
    }
    first_with_room
}

/// Empties the code slots for which `clear` holds; returns the first page with room and
/// the number of slots left in use.
fn clean_codes(index: pg_sys::Relation, cached: &Cached, head: u32, clear: &mut dyn FnMut(ItemPointer) -> bool) -> (Option<u32>, f64) {
    let layout = &cached.layout;
    let len = layout.block_len();
    let mut kept = 0.0;
    let room = edit_chain(index, head, Kind::Codes, &mut |_, data| {
        let (mut changed, mut room) = (false, data.len() + len <= CAPACITY);
        for b in data.chunks_exact_mut(len) {
            for slot in 0..block::ROWS {
                let target = block::pointer(layout, b, slot);
                if target == ItemPointer::NONE {
                    room = true;
                } else if clear(target) {
                    block::clear_row(layout, b, slot);
                    (changed, room) = (true, true);
                } else {
                    kept += 1.0;
                }
            }
        }
        (changed, room)
    });
    (room, kept)
}

/// Removes one list's dead rows; returns how many.
fn clean_list(index: pg_sys::Relation, cached: &Cached, list: usize, dead: &mut dyn FnMut(ItemPointer) -> bool) -> (f64, f64) {
    let layout = &cached.layout;
    let entry = read_entry(index, &cached.meta, list);
    let mut removed = 0.0;
    let (code_room, kept) = if layout.has_vectors() {
        // Three passes, so that a vector slot is freed only once no code points at it (an
        // insert may reuse a free slot at once, and its code must not be cleared with the
        // dead row's): find the dead rows' vectors, clear the codes pointing at them, then
        // free the vectors.
        let len = layout.vector_len();
        let mut dead_vectors: HashMap<ItemPointer, ItemPointer> = HashMap::new();
        super::scan::PgLists { index, cached }.walk(entry.vector_head, Kind::Vectors, &mut |block, data| {
            for (slot, vector) in data.chunks_exact(len).enumerate() {
                let tid = vector_tid(vector);
                if tid != ItemPointer::NONE && dead(tid) {
                    dead_vectors.insert(ItemPointer { block, offset: slot as u16 }, tid);
                }
            }
        });
        let codes = clean_codes(index, cached, entry.code_head, &mut |target| dead_vectors.contains_key(&target));
        let vector_room = edit_chain(index, entry.vector_head, Kind::Vectors, &mut |block, data| {
            let (mut changed, mut room) = (false, data.len() + len <= CAPACITY);
            for (slot, vector) in data.chunks_exact_mut(len).enumerate() {
                let tid = vector_tid(vector);
                if tid == ItemPointer::NONE {
                    room = true;
                } else if dead_vectors.get(&ItemPointer { block, offset: slot as u16 }) == Some(&tid) {
                    ItemPointer::NONE.write(vector);
                    (changed, room) = (true, true);
                    removed += 1.0;
                }
            }
            (changed, room)
        });
        if let Some(block) = vector_room.filter(|&b| b != entry.vector_insert) {
            set_insert_page(index, &cached.meta, list, Kind::Vectors, block);
        }
        codes
    } else {
        clean_codes(index, cached, entry.code_head, &mut |tid| {
            let is_dead = dead(tid);
            if is_dead {
                removed += 1.0;
            }
            is_dead
        })
    };
    if let Some(block) = code_room.filter(|&b| b != entry.code_insert) {
        set_insert_page(index, &cached.meta, list, Kind::Codes, block);
    }
    (removed, kept)
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
    let cached = pages::cached(index);
    let callback = callback.expect("bulk delete has a callback");
    let mut dead = |tid: ItemPointer| {
        let mut pg_tid = super::tid_to_pg(tid);
        // SAFETY: the callback takes a heap tid and its own state.
        unsafe { callback(&mut pg_tid, callback_state) }
    };
    let (mut removed, mut kept) = (0.0, 0.0);
    for list in 0..cached.layout.lists() {
        let (r, k) = clean_list(index, &cached, list, &mut dead);
        removed += r;
        kept += k;
    }
    // SAFETY: stats is valid (ours or the caller's).
    unsafe {
        (*stats).tuples_removed += removed;
        (*stats).num_index_tuples = kept;
        (*stats).num_pages = pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM);
    }
    stats
}

/// `amvacuumcleanup`.
#[pg_guard]
pub unsafe extern "C-unwind" fn amvacuumcleanup(info: *mut pg_sys::IndexVacuumInfo, stats: *mut pg_sys::IndexBulkDeleteResult) -> *mut pg_sys::IndexBulkDeleteResult {
    // SAFETY: info is valid for the call.
    let (index, analyze_only) = unsafe { ((*info).index, (*info).analyze_only) };
    if analyze_only {
        return stats;
    }
    if !stats.is_null() {
        return stats;
    }
    // No bulk delete ran (nothing was dead): count the rows.
    let stats = stats_or_new(stats);
    let cached = pages::cached(index);
    let lists = super::scan::PgLists { index, cached: &cached };
    let rows: usize = (0..cached.layout.lists()).map(|list| super::scan::list_tids(&lists, list).len()).sum();
    // SAFETY: stats was just allocated.
    unsafe {
        (*stats).num_index_tuples = rows as f64;
        (*stats).num_pages = pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM);
    }
    stats
}
