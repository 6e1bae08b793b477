//! Inserting a row: its vector goes into a free vector slot, its code into a free row of
//! one of its list's FastScan blocks, or into a new block linked to the end of the list.
//!
//! Locks are taken in one order: list pages (a wide block's pages in ascending order), then
//! the shared code tail page, then the metapage, which is always locked last and never held
//! while waiting for another page. So inserts, scans and vacuum (one unit at a time) never
//! wait on each other in a cycle. The directory's insert and tail entries are hints that
//! the block links make safe to read stale.

use crate::error::Result;
use crate::ivf::meta::Meta;
use crate::ivf::{block, vector_tid, EncodedRow, ItemPointer, Quantizer};

use super::chain::{self, stored_block_bytes, stored_block_mut, walk_blocks, Unit, Walk};
use super::directory::{read_entry, read_meta, update_entry, update_meta, Opened};
use super::page::{Kind, CAPACITY, NO_BLOCK};
use super::store::{page_of, write_one, Lock, Locked, Steps, Store};

/// Inserts an encoded row with heap tid `tid`.
pub fn insert<S: Store>(store: &S, opened: &Opened, row: &EncodedRow, tid: ItemPointer) -> Result<()> {
    let quantizer = &opened.quantizer;
    let target = if quantizer.has_vectors() { insert_vector(store, quantizer, read_meta(store)?.vector_insert, &row.vector)? } else { tid };
    insert_code(store, quantizer, &opened.meta, row, target)
}

/// Stores a vector in the first free slot from the metapage's insert page on, extending
/// the vector chain at its end when it is full.
fn insert_vector<S: Store>(store: &S, quantizer: &Quantizer, start: u32, vector: &[u8]) -> Result<ItemPointer> {
    let len = quantizer.vector_len();
    let mut block = start;
    let mut steps = Steps::new(1);
    loop {
        steps.step(store, block)?;
        let mut locked = store.lock(block, Lock::Exclusive)?;
        let (free, fits, next) = {
            let page = page_of(store, &locked, Kind::Vectors)?;
            let free = page.data().chunks_exact(len).position(|v| vector_tid(v) == ItemPointer::NONE);
            (free, page.data().len() + len <= CAPACITY, page.next())
        };
        if free.is_some() || fits {
            let mut slot = 0;
            write_one(store, &mut locked, |page| {
                slot = free.unwrap_or(page.data().len() / len);
                if free.is_some() {
                    page.data_mut()[slot * len..(slot + 1) * len].copy_from_slice(vector);
                } else {
                    assert!(page.append(vector)?, "checked to fit");
                }
                Ok(())
            })?;
            drop(locked);
            if block != start {
                update_meta(store, |meta| meta.vector_insert = block)?;
            }
            return Ok(ItemPointer { block, offset: slot as u16 });
        }
        if next != NO_BLOCK {
            block = next;
            continue;
        }
        // The chain's last page is full: link a new page to it, in one record.
        let mut fresh = store.extend(Kind::Vectors, 1)?.pop().expect("one page");
        let new_block = fresh.block();
        store.write(&mut [&mut locked, &mut fresh], |pages| {
            pages[0].set_next(new_block);
            assert!(pages[1].append(vector)?, "a vector fits an empty page");
            Ok(())
        })?;
        drop((locked, fresh));
        update_meta(store, |meta| meta.vector_insert = new_block)?;
        return Ok(ItemPointer { block: new_block, offset: 0 });
    }
}

/// Puts a row's code into the first block of its list with a free row, from the
/// directory's insert hint on, or into a new block linked after the list's last.
fn insert_code<S: Store>(store: &S, quantizer: &Quantizer, meta: &Meta, row: &EncodedRow, target: ItemPointer) -> Result<()> {
    let list = row.list;
    let entry = read_entry(store, meta, list)?;
    // Where the row went, and whether it started a new block (the list's new tail).
    let mut placed: Option<(ItemPointer, bool)> = None;
    walk_blocks(store, quantizer, entry.insert, Lock::Exclusive, |unit, place| {
        let at = place.at;
        if let Some(slot) = block::free_slot(quantizer, unit.stored(store, quantizer, at)?.1) {
            let mut data = unit.data().to_vec();
            let (_, b) = stored_block_mut(quantizer, &mut data, at.offset).expect("read above");
            block::write_row(quantizer, b, slot, row, target);
            unit.write(store, &data, &mut [], |_| Ok(()))?;
            placed = Some((at, false));
            return Ok(Walk::Stop);
        }
        if place.next != ItemPointer::NONE {
            return Ok(Walk::Next);
        }
        placed = Some((append_block(store, quantizer, unit, at, row, target)?, true));
        Ok(Walk::Stop)
    })?;
    let Some((at, new_tail)) = placed else {
        return Err(store.corrupt(Some(entry.insert.block), &format!("list {list} ends without a last block")));
    };
    if new_tail {
        update_entry(store, meta, list, |e| {
            e.insert = at;
            e.tail = at;
        })
    } else if at != entry.insert {
        update_entry(store, meta, list, |e| e.insert = at)
    } else {
        Ok(())
    }
}

/// Stores a new block holding `row` and links the list's last block `last` (on the
/// exclusively locked `unit`) to it, in one record; returns the new block. A wide block
/// goes to new pages of its own; a narrow one to the code tail page (`unit` itself, or
/// locked after it), or to a new page that becomes the tail.
fn append_block<S: Store>(
    store: &S,
    quantizer: &Quantizer,
    unit: &mut Unit<S::Locked>,
    last: ItemPointer,
    row: &EncodedRow,
    target: ItemPointer,
) -> Result<ItemPointer> {
    let mut fresh_block = block::empty(quantizer);
    block::write_row(quantizer, &mut fresh_block, 0, row, target);
    let stored = stored_block_bytes(ItemPointer::NONE, &fresh_block);
    let mut data = unit.data().to_vec();
    let link = |data: &mut [u8], to: ItemPointer| to.write(stored_block_mut(quantizer, data, last.offset).expect("the unit holds it").0);
    let room = |used: usize| used + stored.len() <= CAPACITY;
    if let Unit::Page(_) = unit {
        let tail = read_meta(store)?.code_tail;
        if tail == unit.block() && room(data.len()) {
            let at = ItemPointer { block: tail, offset: (data.len() / stored.len()) as u16 };
            data.extend_from_slice(&stored);
            link(&mut data, at);
            unit.write(store, &data, &mut [], |_| Ok(()))?;
            return Ok(at);
        }
        if tail != unit.block() {
            let mut tail_page = store.lock(tail, Lock::Exclusive)?;
            let used = page_of(store, &tail_page, Kind::Codes)?.data().len();
            if room(used) {
                let at = ItemPointer { block: tail, offset: (used / stored.len()) as u16 };
                link(&mut data, at);
                unit.write(store, &data, &mut [&mut tail_page], |pages| {
                    assert!(pages[0].append(&stored)?, "checked to fit");
                    Ok(())
                })?;
                return Ok(at);
            }
        }
    }
    // New pages: a wide block's own, or a code page that becomes the tail.
    let mut fresh = store.extend(Kind::Codes, chain::pages_per_block(quantizer))?;
    let at = ItemPointer { block: fresh[0].block(), offset: 0 };
    link(&mut data, at);
    let mut fresh_refs: Vec<&mut S::Locked> = fresh.iter_mut().collect();
    unit.write(store, &data, &mut fresh_refs, |pages| chain::put_unit_data(pages, &stored))?;
    drop(fresh);
    if let Unit::Page(_) = unit {
        update_meta(store, |meta| meta.code_tail = at.block)?;
    }
    Ok(at)
}
