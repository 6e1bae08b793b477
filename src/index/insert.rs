//! `aminsert`: a new row goes to the list of its nearest centroid: its vector into a free
//! vector slot, its code into a free row of one of its list's FastScan blocks, or into a
//! new block linked to the end of the list.
//!
//! Locks are taken in one order: list pages (a wide block's pages in ascending order), then
//! the shared code tail page, then the metapage, which is always locked last and never held
//! while waiting for another page.
//! So inserts, scans and vacuum (one page at a time) never wait on each other in a cycle.
//! Every change is WAL-logged; the directory's insert and tail entries are hints that the
//! block links make safe to read stale.

use pgrx::pg_sys;
use pgrx::prelude::*;
use quantvec_core::ivf::meta::Meta;
use quantvec_core::ivf::{block, vector_tid, EncodedRow, ItemPointer, Layout};
use quantvec_core::kernels;

use super::context::IndexErrors;
use super::directory::{self, read_entry, update_entry, update_meta};
use super::pages::{self, Kind, Lock, Locked, Wal, CAPACITY, META_BLOCK};
use crate::error::OrRaise;
use crate::memory::RowContext;

/// Stores a vector in the first free slot from the metapage's insert page on, extending
/// the vector chain at its end when it is full.
fn insert_vector(index: pg_sys::Relation, layout: &Layout, start: u32, vector: &[u8]) -> ItemPointer {
    let len = layout.vector_len();
    let mut block = start;
    let mut steps = pages::Steps::new(index, 1);
    loop {
        steps.step(block);
        let locked = Locked::read(index, block, Lock::Exclusive);
        let page = locked.page_of(Kind::Vectors);
        let free = page.data().chunks_exact(len).position(|v| vector_tid(v) == ItemPointer::NONE);
        let fits = page.data().len() + len <= CAPACITY;
        if free.is_some() || fits {
            let slot = free.unwrap_or(page.data().len() / len);
            let mut wal = Wal::start(index);
            let mut target = wal.page(&locked);
            if free.is_some() {
                target.data_mut()[slot * len..(slot + 1) * len].copy_from_slice(vector);
            } else {
                assert!(target.append(vector));
            }
            wal.finish();
            drop(locked);
            if block != start {
                update_meta(index, |meta| meta.vector_insert = block);
            }
            return ItemPointer { block, offset: slot as u16 };
        }
        let next = page.next();
        if next != pg_sys::InvalidBlockNumber {
            block = next;
            continue;
        }
        // The chain's last page is full: link a new page to it, in one WAL record.
        let fresh = Locked::extend(index, pg_sys::ForkNumber::MAIN_FORKNUM, Kind::Vectors);
        let mut wal = Wal::start(index);
        wal.page(&locked).set_next(fresh.block());
        {
            let mut target = wal.new_page(&fresh);
            target.init(Kind::Vectors);
            assert!(target.append(vector));
        }
        wal.finish();
        let new_block = fresh.block();
        update_meta(index, |meta| meta.vector_insert = new_block);
        return ItemPointer { block: new_block, offset: 0 };
    }
}

/// Puts a row's code into the first block of its list with a free row, from the
/// directory's insert hint on, or into a new block linked after the list's last.
fn insert_code(index: pg_sys::Relation, layout: &Layout, meta: &Meta, list: usize, row: &EncodedRow, target: ItemPointer) {
    if pages::is_wide(layout) {
        return insert_code_wide(index, layout, meta, list, row, target);
    }
    let entry = read_entry(index, meta, list);
    let mut at = entry.insert;
    let mut steps = pages::Steps::new(index, pages::blocks_per_page(layout));
    loop {
        let locked = Locked::read(index, at.block, Lock::Exclusive);
        let page = locked.page_of(Kind::Codes);
        // Follow the chain while it stays on this page.
        let (found, last) = loop {
            steps.step(at.block);
            let Some((next, b)) = pages::stored_block(layout, page.data(), at.offset) else {
                pages::corrupt_at(index, at.block, &format!("list {list} points past the blocks of the page"));
            };
            if let Some(slot) = block::free_slot(layout, b) {
                break (Some(slot), at);
            }
            if next.block != at.block {
                break (None, at);
            }
            at = next;
        };
        if let Some(slot) = found {
            let mut wal = Wal::start(index);
            let mut page = wal.page(&locked);
            let (_, b) = pages::stored_block_mut(layout, page.data_mut(), last.offset);
            block::write_row(layout, b, slot, row, target);
            wal.finish();
            drop(locked);
            if last != entry.insert {
                update_entry(index, meta, list, |e| e.insert = last);
            }
            return;
        }
        let (next, _) = pages::stored_block(layout, page.data(), last.offset).expect("checked above");
        if next != ItemPointer::NONE {
            drop(locked);
            at = next;
            continue;
        }
        // `last` ends the list and is full: a new block goes to the shared tail page (or a
        // new page when that is full), linked from `last`.
        let new_block = append_block(index, layout, &locked, last, row, target);
        drop(locked);
        update_entry(index, meta, list, |e| {
            e.insert = new_block;
            e.tail = new_block;
        });
        return;
    }
}

/// `insert_code` for wide blocks, each on pages of its own: the row goes into the first
/// block with a free row (all its pages locked and written together, in one WAL record), or
/// into a new block on new pages, logged with the link to it from the list's last block.
fn insert_code_wide(index: pg_sys::Relation, layout: &Layout, meta: &Meta, list: usize, row: &EncodedRow, target: ItemPointer) {
    let entry = read_entry(index, meta, list);
    let mut at = entry.insert;
    let mut steps = pages::Steps::new(index, 1);
    loop {
        steps.step(at.block);
        let (locks, mut stored) = pages::read_wide(index, layout, at.block, Lock::Exclusive, None);
        let (link, b) = stored.split_at_mut(pages::BLOCK_LINK);
        if let Some(slot) = block::free_slot(layout, b) {
            block::write_row(layout, b, slot, row, target);
            pages::write_wide(index, &locks, &stored);
            drop(locks);
            if at != entry.insert {
                update_entry(index, meta, list, |e| e.insert = at);
            }
            return;
        }
        let next = ItemPointer::read(link);
        if next != ItemPointer::NONE {
            drop(locks);
            at = next;
            continue;
        }
        let mut fresh_block = block::empty(layout);
        block::write_row(layout, &mut fresh_block, 0, row, target);
        let fresh_stored = pages::stored_block_bytes(ItemPointer::NONE, &fresh_block);
        let fresh = Locked::extend_run(index, pg_sys::ForkNumber::MAIN_FORKNUM, Kind::Codes, pages::pages_per_block(layout));
        let new_block = ItemPointer { block: fresh[0].block(), offset: 0 };
        let mut wal = Wal::start(index);
        for (page, locked) in fresh.iter().enumerate() {
            let mut target_page = wal.new_page(locked);
            target_page.init(Kind::Codes);
            assert!(target_page.append(pages::wide_part(&fresh_stored, page)));
        }
        new_block.write(&mut wal.page(&locks[0]).data_mut()[..pages::BLOCK_LINK]);
        wal.finish();
        drop(fresh);
        drop(locks);
        update_entry(index, meta, list, |e| {
            e.insert = new_block;
            e.tail = new_block;
        });
        return;
    }
}

/// Appends a block holding `row` to the code tail page (or a new one), and links the list
/// block `last` (on the exclusively locked `list_page`) to it; returns the new block.
fn append_block(index: pg_sys::Relation, layout: &Layout, list_page: &Locked, last: ItemPointer, row: &EncodedRow, target: ItemPointer) -> ItemPointer {
    let mut fresh_block = block::empty(layout);
    block::write_row(layout, &mut fresh_block, 0, row, target);
    let stored = pages::stored_block_bytes(ItemPointer::NONE, &fresh_block);
    let tail_block = {
        let meta_page = Locked::read(index, META_BLOCK, Lock::Share);
        Meta::from_bytes(meta_page.page().data()).or_raise().code_tail
    };
    let link = |wal: &mut Wal, to: ItemPointer| {
        let mut page = wal.page(list_page);
        let (l, _) = pages::stored_block_mut(layout, page.data_mut(), last.offset);
        to.write(l);
    };
    let room = |data: &[u8]| data.len() + stored.len() <= CAPACITY;
    if tail_block == list_page.block() {
        if room(list_page.page().data()) {
            let mut wal = Wal::start(index);
            let mut page = wal.page(list_page);
            let new_block = ItemPointer { block: tail_block, offset: (page.data().len() / stored.len()) as u16 };
            assert!(page.append(&stored));
            let (l, _) = pages::stored_block_mut(layout, page.data_mut(), last.offset);
            new_block.write(l);
            wal.finish();
            return new_block;
        }
    } else {
        let tail = Locked::read(index, tail_block, Lock::Exclusive);
        tail.page_of(Kind::Codes);
        if room(tail.page().data()) {
            let new_block = ItemPointer { block: tail_block, offset: (tail.page().data().len() / stored.len()) as u16 };
            let mut wal = Wal::start(index);
            assert!(wal.page(&tail).append(&stored));
            link(&mut wal, new_block);
            wal.finish();
            return new_block;
        }
    }
    // The tail page is full: a new page becomes the tail.
    let fresh = Locked::extend(index, pg_sys::ForkNumber::MAIN_FORKNUM, Kind::Codes);
    let new_block = ItemPointer { block: fresh.block(), offset: 0 };
    let mut wal = Wal::start(index);
    {
        let mut page = wal.new_page(&fresh);
        page.init(Kind::Codes);
        assert!(page.append(&stored));
    }
    link(&mut wal, new_block);
    wal.finish();
    update_meta(index, |meta| meta.code_tail = new_block.block);
    new_block
}

/// `aminsert`.
#[pg_guard]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C-unwind" fn aminsert(
    index: pg_sys::Relation,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    heap_tid: pg_sys::ItemPointer,
    _heap: pg_sys::Relation,
    _check_unique: pg_sys::IndexUniqueCheck::Type,
    _index_unchanged: bool,
    _index_info: *mut pg_sys::IndexInfo,
) -> bool {
    let _errors = IndexErrors::name(index);
    // SAFETY: one value and null flag for the index's one column, and the heap tid.
    let tid = unsafe {
        if *isnull {
            return false;
        }
        super::tid_from_pg(&*heap_tid)
    };
    // The statement's context lives until it ends: an INSERT ... SELECT of many toasted
    // rows would keep every detoasted copy.
    RowContext::new(c"quantvec insert").run(|| {
        // SAFETY: the index column's non-null value, read within this context.
        insert(index, tid, unsafe { crate::varlena::payload(*values) })
    });
    false
}

fn insert(index: pg_sys::Relation, tid: ItemPointer, payload: &[u8]) {
    let cached = pages::cached(index);
    let layout = &cached.layout;
    let k = kernels::active();
    let row = layout.encode_stored(k, tid, payload).or_raise();
    let target = if layout.has_vectors() {
        let start = directory::read_meta(index).vector_insert;
        insert_vector(index, layout, start, &row.vector)
    } else {
        tid
    };
    insert_code(index, layout, &cached.meta, row.list, &row, target);
}
