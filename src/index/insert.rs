//! `aminsert`: a new row goes to the list of its nearest centroid: its vector into a free
//! vector slot of the list, its code into a free FastScan block slot.
//!
//! Each step locks one page at a time (and a new page while linking it), so inserts,
//! scans and vacuum never wait on each other in a cycle. Every change is WAL-logged.

use pgrx::pg_sys;
use pgrx::prelude::*;
use quantvec_core::bits::BitRef;
use quantvec_core::int8::Int8Ref;
use quantvec_core::ivf::meta::{ListEntry, Meta};
use quantvec_core::ivf::{block, vector_tid, EncodedRow, ItemPointer, Layout};
use quantvec_core::kernels;

use super::pages::{self, Kind, Locked, Wal, CAPACITY};
use crate::error::OrRaise;

/// The directory entry of `list`, read under a share lock.
pub fn read_entry(index: pg_sys::Relation, meta: &Meta, list: usize) -> ListEntry {
    let (block, at) = pages::entry_location(meta, list);
    let locked = Locked::read(index, block, false);
    let page = locked.page();
    pages::expect_kind(&page, Kind::Directory, block);
    ListEntry::from_bytes(&page.data()[at..at + ListEntry::LEN])
}

/// Points `list`'s insert page of `kind` at `block`.
pub fn set_insert_page(index: pg_sys::Relation, meta: &Meta, list: usize, kind: Kind, block: u32) {
    let (directory, at) = pages::entry_location(meta, list);
    let locked = Locked::read(index, directory, true);
    let mut wal = Wal::start(index);
    let mut page = wal.page(&locked, false);
    let data = &mut page.data_mut()[at..at + ListEntry::LEN];
    let mut entry = ListEntry::from_bytes(data);
    match kind {
        Kind::Codes => entry.code_insert = block,
        _ => entry.vector_insert = block,
    }
    data.copy_from_slice(&entry.to_bytes());
    wal.finish();
}

/// Where a chain has room: a page and what to do there.
enum Room {
    /// Overwrite the bytes at this offset of the page data.
    Reuse(usize),
    /// Append to the page data.
    Append,
}

/// Finds room for an item along a chain from `start`, extending the chain at its end,
/// and calls `write` with the page (locked exclusively and under WAL) and the room.
/// Returns the block written to.
fn place(
    index: pg_sys::Relation,
    start: u32,
    kind: Kind,
    append_len: usize,
    find: &dyn Fn(&[u8]) -> Option<usize>,
    write: &mut dyn FnMut(&mut pages::PageMut, Room),
) -> u32 {
    let mut block = start;
    loop {
        let locked = Locked::read(index, block, true);
        let page = locked.page();
        pages::expect_kind(&page, kind, block);
        let free = find(page.data());
        let fits = page.data().len() + append_len <= CAPACITY;
        let next = page.next();
        if free.is_some() || fits {
            let mut wal = Wal::start(index);
            let mut target = wal.page(&locked, false);
            write(&mut target, free.map_or(Room::Append, Room::Reuse));
            wal.finish();
            return block;
        }
        if next != pg_sys::InvalidBlockNumber {
            drop(locked);
            block = next;
            continue;
        }
        // The chain's last page is full: link a new page to it, both in one WAL record.
        let fresh = Locked::extend(index, pg_sys::ForkNumber::MAIN_FORKNUM, kind);
        let mut wal = Wal::start(index);
        wal.page(&locked, false).set_next(fresh.block());
        {
            let mut target = wal.page(&fresh, true);
            target.init(kind);
            write(&mut target, Room::Append);
        }
        wal.finish();
        return fresh.block();
    }
}

fn insert_vector(index: pg_sys::Relation, meta: &Meta, layout: &Layout, list: usize, entry: &ListEntry, vector: &[u8]) -> ItemPointer {
    let len = layout.vector_len();
    let mut slot = 0;
    let find = |data: &[u8]| data.chunks_exact(len).position(|v| vector_tid(v) == ItemPointer::NONE).map(|i| i * len);
    let block = place(index, entry.vector_insert, Kind::Vectors, len, &find, &mut |page, room| {
        let at = match room {
            Room::Reuse(at) => {
                page.data_mut()[at..at + len].copy_from_slice(vector);
                at
            }
            Room::Append => {
                let at = page.data().len();
                assert!(page.append(vector));
                at
            }
        };
        slot = at / len;
    });
    if block != entry.vector_insert {
        set_insert_page(index, meta, list, Kind::Vectors, block);
    }
    ItemPointer { block, offset: slot as u16 }
}

fn insert_code(index: pg_sys::Relation, meta: &Meta, layout: &Layout, list: usize, entry: &ListEntry, row: &EncodedRow, target: ItemPointer) {
    let len = layout.block_len();
    let find = |data: &[u8]| {
        data.chunks_exact(len).enumerate().find_map(|(i, b)| block::free_slot(layout, b).map(|_| i * len))
    };
    let block = place(index, entry.code_insert, Kind::Codes, len, &find, &mut |page, room| {
        let at = match room {
            Room::Reuse(at) => at,
            Room::Append => {
                let at = page.data().len();
                assert!(page.append(&block::empty(layout)));
                at
            }
        };
        let block_bytes = &mut page.data_mut()[at..at + len];
        let slot = block::free_slot(layout, block_bytes).expect("the block has a free slot");
        block::write_row(layout, block_bytes, slot, row, target);
    });
    if block != entry.code_insert {
        set_insert_page(index, meta, list, Kind::Codes, block);
    }
}

/// `aminsert`.
#[pg_guard]
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
    // SAFETY: one value and null flag for the index's one column, and the heap tid.
    let (payload, tid) = unsafe {
        if *isnull {
            return false;
        }
        (crate::varlena::payload(*values), super::tid_from_pg(&*heap_tid))
    };
    let cached = pages::cached(index);
    let layout = &cached.layout;
    let k = kernels::active();
    let row = if layout.has_vectors() {
        layout.encode_int8(k, tid, &Int8Ref::decode(payload).or_raise())
    } else {
        layout.encode_bits(k, &BitRef::decode(payload).or_raise())
    }
    .or_raise();
    let entry = read_entry(index, &cached.meta, row.list);
    let target = if layout.has_vectors() { insert_vector(index, &cached.meta, layout, row.list, &entry, &row.vector) } else { tid };
    insert_code(index, &cached.meta, layout, row.list, &entry, &row, target);
    false
}
