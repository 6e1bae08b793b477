//! The metapage and the list directory: reading them, and changing them in WAL-logged
//! records (the metapage is locked last: see `insert`).

use pgrx::pg_sys;
use quantvec_core::ivf::meta::{ListEntry, Meta};
use quantvec_core::ivf::recall::Calibration;

use super::pages::{corrupt_at, Kind, Lock, Locked, Wal, CAPACITY, META_BLOCK};
use crate::error::OrRaise;

/// The metapage's fields, refused when block 0 is not one (without the recall
/// calibration after them, which inserts and cached scans do not need).
pub fn read_meta(index: pg_sys::Relation) -> Meta {
    let locked = Locked::read(index, META_BLOCK, Lock::Share);
    Meta::from_bytes(locked.page_of(Kind::Meta).data()).or_raise()
}

/// The metapage: its fields and the recall calibration after them (empty in indexes
/// built before calibrations, or over no rows, or for Hamming distance).
pub fn read_meta_page(index: pg_sys::Relation) -> (Meta, Calibration) {
    let locked = Locked::read(index, META_BLOCK, Lock::Share);
    let page = locked.page_of(Kind::Meta);
    let meta = Meta::from_bytes(page.data()).or_raise();
    let calibration = Calibration::from_bytes(&page.data()[Meta::LEN..]).or_raise().for_code_bits(meta.code_bits);
    (meta, calibration)
}

/// Checks a metapage's sizes and page ranges against the index before anything is
/// allocated or read by them: a corrupt metapage is an ERROR, not a huge allocation.
pub fn check_meta(index: pg_sys::Relation, meta: &Meta) {
    // SAFETY: index is open.
    let blocks = u64::from(unsafe { pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM) });
    let within = |start: u32, pages: u32| pages > 0 && u64::from(start) + u64::from(pages) <= blocks;
    let centroid_bytes = 2 * u64::from(meta.lists) * u64::from(meta.dims);
    let fits = meta.lists > 0
        && meta.dims > 0
        && within(meta.centroid_start, meta.centroid_pages)
        && within(meta.directory_start, meta.directory_pages)
        && centroid_bytes <= u64::from(meta.centroid_pages) * CAPACITY as u64
        && u64::from(meta.lists) <= u64::from(meta.directory_pages) * ENTRIES_PER_PAGE as u64;
    if !fits {
        corrupt_at(index, META_BLOCK, &format!("its metapage describes {} lists of {} dimensions that do not fit its {blocks} blocks", meta.lists, meta.dims));
    }
}

/// Directory entries per page.
pub const ENTRIES_PER_PAGE: usize = CAPACITY / ListEntry::LEN;

pub fn read_directory(index: pg_sys::Relation, meta: &Meta) -> Vec<ListEntry> {
    let mut entries = Vec::with_capacity(meta.lists as usize);
    for block in meta.directory_start..meta.directory_start + meta.directory_pages {
        let locked = Locked::read(index, block, Lock::Share);
        let page = locked.page_of(Kind::Directory);
        entries.extend(page.data().chunks_exact(ListEntry::LEN).map(ListEntry::from_bytes));
    }
    if entries.len() != meta.lists as usize {
        corrupt_at(index, meta.directory_start, "its directory does not match its metapage");
    }
    entries
}

/// The directory page and byte offset of a list's entry.
pub fn entry_location(meta: &Meta, list: usize) -> (u32, usize) {
    (meta.directory_start + (list / ENTRIES_PER_PAGE) as u32, (list % ENTRIES_PER_PAGE) * ListEntry::LEN)
}

/// `list`'s entry in the data of its directory page `locked`, which must hold it.
fn entry_bytes(locked: &Locked, at: usize, list: usize) -> ListEntry {
    let page = locked.page_of(Kind::Directory);
    let Some(bytes) = page.data().get(at..at + ListEntry::LEN) else {
        corrupt_at(locked.index(), locked.block(), &format!("the directory page has no entry for list {list}"));
    };
    ListEntry::from_bytes(bytes)
}

/// The directory entry of `list`, read under a share lock.
pub fn read_entry(index: pg_sys::Relation, meta: &Meta, list: usize) -> ListEntry {
    let (block, at) = entry_location(meta, list);
    entry_bytes(&Locked::read(index, block, Lock::Share), at, list)
}

/// Changes `list`'s directory entry.
pub fn update_entry(index: pg_sys::Relation, meta: &Meta, list: usize, change: impl FnOnce(&mut ListEntry)) {
    let (directory, at) = entry_location(meta, list);
    let locked = Locked::read(index, directory, Lock::Exclusive);
    let mut entry = entry_bytes(&locked, at, list);
    change(&mut entry);
    let mut wal = Wal::start(index);
    wal.page(&locked).data_mut()[at..at + ListEntry::LEN].copy_from_slice(&entry.to_bytes());
    wal.finish();
}

/// Changes the metapage (locked last: see the module comment).
pub fn update_meta(index: pg_sys::Relation, change: impl FnOnce(&mut Meta)) {
    let locked = Locked::read(index, META_BLOCK, Lock::Exclusive);
    let mut meta = Meta::from_bytes(locked.page_of(Kind::Meta).data()).or_raise();
    change(&mut meta);
    let mut wal = Wal::start(index);
    wal.page(&locked).data_mut()[..Meta::LEN].copy_from_slice(&meta.to_bytes());
    wal.finish();
}
