//! The metapage and the list directory: reading them, and changing them in logged writes
//! (the metapage is locked last: see [`super::insert`]).

use std::sync::Arc;

use crate::error::Result;
use crate::ivf::meta::{self, ListEntry, Meta};
use crate::ivf::recall::Calibration;
use crate::ivf::{ItemPointer, Quantizer};
use crate::kernels::Kernels;

use super::page::{Kind, CAPACITY, META_BLOCK};
use super::store::{page_of, write_one, Lock, Locked, Store};

/// Directory entries per page.
pub const ENTRIES_PER_PAGE: usize = CAPACITY / ListEntry::LEN;

/// The metapage's fields, refused when block 0 is not one (without the recall calibration
/// after them, which inserts and cached scans do not need).
pub fn read_meta<S: Store>(store: &S) -> Result<Meta> {
    let locked = store.lock(META_BLOCK, Lock::Share)?;
    Meta::from_bytes(page_of(store, &locked, Kind::Meta)?.data())
}

/// The metapage: its fields and the recall calibration after them (empty in indexes built
/// before calibrations, or over no rows, or for Hamming distance).
pub fn read_meta_page<S: Store>(store: &S) -> Result<(Meta, Calibration)> {
    let locked = store.lock(META_BLOCK, Lock::Share)?;
    let page = page_of(store, &locked, Kind::Meta)?;
    let meta = Meta::from_bytes(page.data())?;
    let calibration = Calibration::from_bytes(&page.data()[Meta::LEN..])?.for_code_bits(meta.code_bits);
    Ok((meta, calibration))
}

/// Checks a metapage's sizes and page ranges against the index before anything is
/// allocated or read by them: a corrupt metapage is an error, not a huge allocation.
pub fn check_meta<S: Store>(store: &S, meta: &Meta) -> Result<()> {
    let blocks = u64::from(store.blocks());
    let within = |start: u32, pages: u32| pages > 0 && u64::from(start) + u64::from(pages) <= blocks;
    let centroid_bytes = 2 * u64::from(meta.lists) * u64::from(meta.dims);
    let fits = meta.lists > 0
        && meta.dims > 0
        && within(meta.centroid_start, meta.centroid_pages)
        && within(meta.directory_start, meta.directory_pages)
        && centroid_bytes <= u64::from(meta.centroid_pages) * CAPACITY as u64
        && u64::from(meta.lists) <= u64::from(meta.directory_pages) * ENTRIES_PER_PAGE as u64;
    if !fits {
        let what = format!("its metapage describes {} lists of {} dimensions that do not fit its {blocks} blocks", meta.lists, meta.dims);
        return Err(store.corrupt(Some(META_BLOCK), &what));
    }
    Ok(())
}

pub fn read_directory<S: Store>(store: &S, meta: &Meta) -> Result<Vec<ListEntry>> {
    let mut entries = Vec::with_capacity(meta.lists as usize);
    for block in meta.directory_start..meta.directory_start + meta.directory_pages {
        let locked = store.lock(block, Lock::Share)?;
        entries.extend(page_of(store, &locked, Kind::Directory)?.data().chunks_exact(ListEntry::LEN).map(ListEntry::from_bytes));
    }
    if entries.len() != meta.lists as usize {
        return Err(store.corrupt(Some(meta.directory_start), "its directory does not match its metapage"));
    }
    Ok(entries)
}

/// The directory page and byte offset of a list's entry.
fn entry_location(meta: &Meta, list: usize) -> (u32, usize) {
    (meta.directory_start + (list / ENTRIES_PER_PAGE) as u32, (list % ENTRIES_PER_PAGE) * ListEntry::LEN)
}

/// `list`'s entry on its directory page `locked`, which must hold it.
fn entry_on<S: Store>(store: &S, locked: &S::Locked, at: usize, list: usize) -> Result<ListEntry> {
    let page = page_of(store, locked, Kind::Directory)?;
    match page.data().get(at..at + ListEntry::LEN) {
        Some(bytes) => Ok(ListEntry::from_bytes(bytes)),
        None => Err(store.corrupt(Some(locked.block()), &format!("the directory page has no entry for list {list}"))),
    }
}

/// The directory entry of `list`, read under a share lock.
pub fn read_entry<S: Store>(store: &S, meta: &Meta, list: usize) -> Result<ListEntry> {
    let (block, at) = entry_location(meta, list);
    entry_on(store, &store.lock(block, Lock::Share)?, at, list)
}

/// Changes `list`'s directory entry.
pub fn update_entry<S: Store>(store: &S, meta: &Meta, list: usize, change: impl FnOnce(&mut ListEntry)) -> Result<()> {
    let (block, at) = entry_location(meta, list);
    let mut locked = store.lock(block, Lock::Exclusive)?;
    let mut entry = entry_on(store, &locked, at, list)?;
    change(&mut entry);
    write_one(store, &mut locked, |page| {
        page.data_mut()[at..at + ListEntry::LEN].copy_from_slice(&entry.to_bytes());
        Ok(())
    })
}

/// Changes the metapage's fields (locked last: see [`super::insert`]).
pub fn update_meta<S: Store>(store: &S, change: impl FnOnce(&mut Meta)) -> Result<()> {
    let mut locked = store.lock(META_BLOCK, Lock::Exclusive)?;
    let mut meta = Meta::from_bytes(page_of(store, &locked, Kind::Meta)?.data())?;
    change(&mut meta);
    write_one(store, &mut locked, |page| {
        page.data_mut()[..Meta::LEN].copy_from_slice(&meta.to_bytes());
        Ok(())
    })
}

/// Replaces the recall calibration after the metapage's fields, and gives the index a new
/// build id (`build_id`) so that backends read the metapage again rather than use their
/// cached copy with the old calibration. An index of format 1, which had none, becomes
/// format 2 (the same pages with one).
pub fn replace_calibration<S: Store>(store: &S, calibration: &Calibration, build_id: u64) -> Result<()> {
    let mut locked = store.lock(META_BLOCK, Lock::Exclusive)?;
    let mut meta = Meta::from_bytes(page_of(store, &locked, Kind::Meta)?.data())?;
    meta.build_id = build_id;
    meta.format = meta.format.max(meta::format_for(meta.code_bits, meta.vector_bits, meta.labels));
    write_one(store, &mut locked, |page| {
        page.truncate(0);
        assert!(page.append(&meta.to_bytes())?, "the metapage's fields fit it");
        assert!(page.append(&calibration.to_bytes())?, "a calibration fits the metapage");
        Ok(())
    })
}

/// Everything about an index that does not change until it is rebuilt (or, for the
/// calibration, recalibrated).
pub struct Opened {
    pub meta: Meta,
    /// Recall at each search setting, measured by the build or by the last VACUUM that
    /// measured it again.
    pub calibration: Calibration,
    pub quantizer: Arc<Quantizer>,
    /// The first block of each list.
    pub heads: Vec<ItemPointer>,
}

/// Reads the metapage, the centroids and the directory of an index.
pub fn open<S: Store>(store: &S, k: &'static Kernels) -> Result<Opened> {
    let (meta, calibration) = read_meta_page(store)?;
    check_meta(store, &meta)?;
    let mut centroids = Vec::with_capacity(meta.lists as usize * meta.dims as usize);
    for block in meta.centroid_start..meta.centroid_start + meta.centroid_pages {
        let locked = store.lock(block, Lock::Share)?;
        centroids.extend(meta::centroids_from_bytes(page_of(store, &locked, Kind::Centroids)?.data(), meta.centroid_exponent));
    }
    let heads = read_directory(store, &meta)?.iter().map(|e| e.head).collect();
    let quantizer = Quantizer::new(k, meta.metric, meta.dims as usize, meta.residual, centroids)?
        .with_code_bits(meta.code_bits)?
        .with_vector_bits(meta.vector_bits)?
        .with_labels(meta.labels);
    Ok(Opened { meta, calibration, quantizer: Arc::new(quantizer), heads })
}
