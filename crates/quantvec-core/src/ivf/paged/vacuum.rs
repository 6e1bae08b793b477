//! Removing dead rows: their code rows and vector slots are emptied and inserts are pointed
//! at the first free space, so that it is reused.
//!
//! With vectors, a dead row is removed in three passes, so that a vector slot is freed only
//! once no code points at it (an insert may reuse a free slot at once, and its code must
//! not be cleared with the dead row's): find the dead rows' vectors, clear the codes
//! pointing at them, then free the vectors.

use std::collections::HashMap;

use crate::error::Result;
use crate::ivf::{block, vector_tid, ItemPointer, Quantizer};

use super::chain::{stored_block_mut, walk_blocks, Walk};
use super::directory::{read_entry, read_meta, update_entry, update_meta, Opened};
use super::page::{Kind, CAPACITY, NO_BLOCK};
use super::store::{page_of, write_one, Lock, Locked, Steps, Store};

/// Rows removed and rows kept by a bulk delete.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Removed {
    pub removed: u64,
    pub kept: u64,
}

/// Removes the rows whose heap tid `dead` picks.
pub fn bulk_delete<S: Store>(store: &S, opened: &Opened, dead: &mut dyn FnMut(ItemPointer) -> bool) -> Result<Removed> {
    let quantizer = &opened.quantizer;
    let meta = read_meta(store)?;
    let mut counts = Removed::default();
    let mut dead_vectors: HashMap<ItemPointer, ItemPointer> = HashMap::new();
    if quantizer.has_vectors() {
        let len = quantizer.vector_len();
        super::chain::read_pages(store, meta.vector_head, Kind::Vectors, |block, data| {
            for (slot, vector) in data.chunks_exact(len).enumerate() {
                let tid = vector_tid(vector);
                if tid != ItemPointer::NONE && dead(tid) {
                    dead_vectors.insert(ItemPointer { block, offset: slot as u16 }, tid);
                }
            }
        })?;
    }
    for list in 0..quantizer.lists() {
        let first_free = clear_codes(store, quantizer, opened.heads[list], &mut counts.kept, &mut |target| {
            let is_dead = if quantizer.has_vectors() { dead_vectors.contains_key(&target) } else { dead(target) };
            if is_dead && !quantizer.has_vectors() {
                counts.removed += 1;
            }
            is_dead
        })?;
        if let Some(at) = first_free {
            if at != read_entry(store, &meta, list)?.insert {
                update_entry(store, &meta, list, |e| e.insert = at)?;
            }
        }
    }
    if quantizer.has_vectors() {
        let room = free_vectors(store, quantizer, meta.vector_head, &mut |slot, tid| {
            let is_dead = dead_vectors.get(&slot) == Some(&tid);
            counts.removed += u64::from(is_dead);
            is_dead
        })?;
        if let Some(block) = room.filter(|&b| b != meta.vector_insert) {
            update_meta(store, |m| m.vector_insert = block)?;
        }
    }
    Ok(counts)
}

/// Walks a list's blocks with exclusive locks, emptying the rows whose target `clear`
/// picks and counting the others in `kept`; returns the first block with a free row.
fn clear_codes<S: Store>(
    store: &S,
    quantizer: &Quantizer,
    head: ItemPointer,
    kept: &mut u64,
    clear: &mut dyn FnMut(ItemPointer) -> bool,
) -> Result<Option<ItemPointer>> {
    let mut first_free = None;
    // The unit's data with the rows cleared so far, written when its last block is done.
    let mut pending: Option<(Vec<u8>, bool)> = None;
    walk_blocks(store, quantizer, head, Lock::Exclusive, |unit, place| {
        let (data, changed) = pending.get_or_insert_with(|| (unit.data().to_vec(), false));
        let (_, b) = stored_block_mut(quantizer, data, place.at.offset).expect("the walk read it");
        for slot in 0..block::ROWS {
            let target = block::pointer(quantizer, b, slot);
            if target == ItemPointer::NONE {
                continue;
            }
            if clear(target) {
                block::clear_row(quantizer, b, slot);
                *changed = true;
            } else {
                *kept += 1;
            }
        }
        if first_free.is_none() && block::free_slot(quantizer, b).is_some() {
            first_free = Some(place.at);
        }
        if place.last_on_unit {
            if let Some((data, true)) = pending.take() {
                unit.write(store, &data, &mut [], |_| Ok(()))?;
            }
        }
        Ok(Walk::Next)
    })?;
    Ok(first_free)
}

/// Walks the vector pages with exclusive locks, freeing the slots `free` picks; returns
/// the first page with room.
fn free_vectors<S: Store>(store: &S, quantizer: &Quantizer, head: u32, free: &mut dyn FnMut(ItemPointer, ItemPointer) -> bool) -> Result<Option<u32>> {
    let len = quantizer.vector_len();
    let mut block = head;
    let mut first_with_room = None;
    let mut steps = Steps::new(1);
    while block != NO_BLOCK {
        steps.step(store, block)?;
        let next = {
            let mut locked = store.lock(block, Lock::Exclusive)?;
            let page = page_of(store, &locked, Kind::Vectors)?;
            let (mut data, next) = (page.data().to_vec(), page.next());
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
                write_one(store, &mut locked, |page| {
                    page.data_mut().copy_from_slice(&data);
                    Ok(())
                })?;
            }
            if room && first_with_room.is_none() {
                first_with_room = Some(locked.block());
            }
            next
        };
        store.pause();
        block = next;
    }
    Ok(first_with_room)
}
