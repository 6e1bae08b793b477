//! Vacuum: `ambulkdelete` empties the code rows and vector slots of dead rows and points
//! inserts at the first free space, so it is reused; `amvacuumcleanup` reports the index's
//! size.
//!
//! For int8 indexes a dead row is removed in three passes, so that a vector slot is freed
//! only once no code points at it (an insert may reuse a free slot at once, and its code
//! must not be cleared with the dead row's): find the dead rows' vectors, clear the codes
//! pointing at them, then free the vectors.

use std::collections::HashMap;

use pgrx::pg_sys;
use pgrx::prelude::*;
use quantvec_core::ivf::{block, vector_tid, ItemPointer, Layout};

use super::context::IndexErrors;
use super::directory::{read_entry, update_entry, update_meta};
use super::lists::{self, PgLists};
use super::pages::{self, Cached, Kind, Lock, Locked, Wal, CAPACITY};
use crate::compat;

fn stats_or_new(stats: *mut pg_sys::IndexBulkDeleteResult) -> *mut pg_sys::IndexBulkDeleteResult {
    if stats.is_null() {
        // SAFETY: zeroed memory of the struct's size, owned by Postgres.
        unsafe { pg_sys::palloc0(std::mem::size_of::<pg_sys::IndexBulkDeleteResult>()).cast() }
    } else {
        stats
    }
}

fn delay() {
    // SAFETY: called between pages with no buffer locked: vacuum's cost-based delay and
    // interrupt check.
    unsafe { compat::vacuum_delay_point() };
}

/// Walks the vector pages with exclusive locks, freeing the slots `free` picks; returns
/// the first page with room.
fn free_vectors(index: pg_sys::Relation, layout: &Layout, head: u32, free: &mut dyn FnMut(ItemPointer, ItemPointer) -> bool) -> Option<u32> {
    let len = layout.vector_len();
    let mut block = head;
    let mut first_with_room = None;
    let mut steps = pages::Steps::new(index, 1);
    while block != pg_sys::InvalidBlockNumber {
        steps.step(block);
        let next = {
            let locked = Locked::read(index, block, Lock::Exclusive);
            let page = locked.page_of(Kind::Vectors);
            let mut data = page.data().to_vec();
            let mut changed = false;
            let mut room = data.len() + len <= CAPACITY;
            for (slot, vector) in data.chunks_exact_mut(len).enumerate() {
                let tid = vector_tid(vector);
                if tid != ItemPointer::NONE && free(ItemPointer { block, offset: slot as u16 }, tid) {
                    ItemPointer::NONE.write(vector);
                    changed = true;
                }
                room |= vector_tid(vector) == ItemPointer::NONE;
            }
            if changed {
                let mut wal = Wal::start(index);
                wal.page(&locked).data_mut().copy_from_slice(&data);
                wal.finish();
            }
            if room && first_with_room.is_none() {
                first_with_room = Some(block);
            }
            page.next()
        };
        delay();
        block = next;
    }
    first_with_room
}

/// Empties the rows of a block whose target `clear` picks, counting the others in `kept`;
/// true when a row was emptied.
fn clear_rows(layout: &Layout, b: &mut [u8], clear: &mut dyn FnMut(ItemPointer) -> bool, kept: &mut f64) -> bool {
    let mut changed = false;
    for slot in 0..block::ROWS {
        let target = block::pointer(layout, b, slot);
        if target == ItemPointer::NONE {
            continue;
        }
        if clear(target) {
            block::clear_row(layout, b, slot);
            changed = true;
        } else {
            *kept += 1.0;
        }
    }
    changed
}

/// Walks a list's blocks with exclusive locks, emptying the rows whose target `clear`
/// picks; returns the first block with a free row and the rows left.
fn clear_codes(index: pg_sys::Relation, layout: &Layout, head: ItemPointer, clear: &mut dyn FnMut(ItemPointer) -> bool) -> (Option<ItemPointer>, f64) {
    let mut at = head;
    let mut first_free = None;
    let mut kept = 0.0;
    let mut steps = pages::Steps::new(index, pages::blocks_per_page(layout));
    if pages::is_wide(layout) {
        // Wide blocks: each read whole, with all its pages locked, and written back whole.
        while at != ItemPointer::NONE {
            steps.step(at.block);
            let (locks, mut stored) = pages::read_wide(index, layout, at.block, Lock::Exclusive, None);
            let (link, b) = stored.split_at_mut(pages::BLOCK_LINK);
            let next = ItemPointer::read(link);
            let changed = clear_rows(layout, b, clear, &mut kept);
            if first_free.is_none() && block::free_slot(layout, b).is_some() {
                first_free = Some(at);
            }
            if changed {
                pages::write_wide(index, &locks, &stored);
            }
            drop(locks);
            delay();
            at = next;
        }
        return (first_free, kept);
    }
    while at != ItemPointer::NONE {
        let locked = Locked::read(index, at.block, Lock::Exclusive);
        let page = locked.page_of(Kind::Codes);
        let mut data = page.data().to_vec();
        let mut changed = false;
        loop {
            steps.step(at.block);
            if pages::stored_block(layout, &data, at.offset).is_none() {
                pages::corrupt_at(index, at.block, "a list chain points past the blocks of the page");
            }
            let (link, b) = pages::stored_block_mut(layout, &mut data, at.offset);
            let next = ItemPointer::read(link);
            changed |= clear_rows(layout, b, clear, &mut kept);
            if first_free.is_none() && block::free_slot(layout, b).is_some() {
                first_free = Some(at);
            }
            at = next;
            if at.block != locked.block() {
                break;
            }
        }
        if changed {
            let mut wal = Wal::start(index);
            wal.page(&locked).data_mut().copy_from_slice(&data);
            wal.finish();
        }
        drop(locked);
        delay();
    }
    (first_free, kept)
}

/// Removes dead rows; returns (removed, kept).
fn bulk_delete(index: pg_sys::Relation, cached: &Cached, dead: &mut dyn FnMut(ItemPointer) -> bool) -> (f64, f64) {
    let layout = &cached.layout;
    let meta = super::directory::read_meta(index);
    let (mut removed, mut kept) = (0.0, 0.0);
    let mut dead_vectors: HashMap<ItemPointer, ItemPointer> = HashMap::new();
    if layout.has_vectors() {
        let len = layout.vector_len();
        PgLists::new(index, cached).walk_pages(meta.vector_head, Kind::Vectors, &mut |block, data| {
            for (slot, vector) in data.chunks_exact(len).enumerate() {
                let tid = vector_tid(vector);
                if tid != ItemPointer::NONE && dead(tid) {
                    dead_vectors.insert(ItemPointer { block, offset: slot as u16 }, tid);
                }
            }
        });
    }
    for list in 0..layout.lists() {
        let (first_free, left) = clear_codes(index, layout, cached.heads[list], &mut |target| {
            let is_dead = if layout.has_vectors() { dead_vectors.contains_key(&target) } else { dead(target) };
            if is_dead && !layout.has_vectors() {
                removed += 1.0;
            }
            is_dead
        });
        kept += left;
        if let Some(block) = first_free.filter(|&b| b != read_entry(index, &meta, list).insert) {
            update_entry(index, &meta, list, |e| e.insert = block);
        }
    }
    if layout.has_vectors() {
        let room = free_vectors(index, layout, meta.vector_head, &mut |slot, tid| {
            let is_dead = dead_vectors.get(&slot) == Some(&tid);
            if is_dead {
                removed += 1.0;
            }
            is_dead
        });
        if let Some(block) = room.filter(|&b| b != meta.vector_insert) {
            update_meta(index, |m| m.vector_insert = block);
        }
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
    let _errors = IndexErrors::name(index);
    let cached = pages::cached(index);
    let callback = callback.expect("bulk delete has a callback");
    let mut dead = |tid: ItemPointer| {
        let mut pg_tid = super::tid_to_pg(tid);
        // SAFETY: the callback takes a heap tid and its own state.
        unsafe { callback(&mut pg_tid, callback_state) }
    };
    let (removed, kept) = bulk_delete(index, &cached, &mut dead);
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
    let lists = PgLists::new(index, &cached);
    let rows: usize = (0..cached.layout.lists()).map(|list| lists::list_targets(&lists, list).len()).sum();
    // SAFETY: stats was just allocated.
    unsafe {
        (*stats).num_index_tuples = rows as f64;
        (*stats).num_pages = pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM);
    }
    stats
}
