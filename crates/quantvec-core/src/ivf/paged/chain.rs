//! Where a list's FastScan blocks are stored, and the cursor that walks a list's chain.
//!
//! A stored block is its list's link to the next block (`BLOCK_LINK` bytes) and the block.
//! Blocks that fit a page share code pages: a page holds the short tails of many lists, and
//! a list's chain may stay on a page for several blocks. A block wider than a page (many
//! dimensions) spans consecutive pages of its own. Either way the pages that hold a place
//! of the chain form a [`Unit`]: one page and the blocks on it, or a wide block's pages,
//! locked together in ascending order. The cursor walks the chain through units, so no
//! caller asks which.

use crate::error::{bail, Result};
use crate::ivf::{ItemPointer, Quantizer, StoredPointer};

use super::page::{Kind, PageMut, CAPACITY};
use super::store::{page_of, Lock, Locked, Steps, Store};

/// What precedes each stored block: the link to the next block of its list.
#[repr(C)]
struct BlockLink {
    next: StoredPointer,
    reserved: [u8; 2],
}

/// Bytes before each stored block.
pub const BLOCK_LINK: usize = std::mem::size_of::<BlockLink>();
const _: () = assert!(BLOCK_LINK == 8 && std::mem::offset_of!(BlockLink, next) == 0);

/// Pages a block wider than a page may span: the most a generic WAL record can change with
/// the page that links to a new block (4 pages in all).
pub const MAX_BLOCK_PAGES: usize = 3;

#[inline]
pub fn stored_block_len(quantizer: &Quantizer) -> usize {
    BLOCK_LINK + quantizer.block_len()
}

/// Stored blocks per code page (at least 1: a wide block spans pages of its own).
#[inline]
pub fn blocks_per_page(quantizer: &Quantizer) -> usize {
    (CAPACITY / stored_block_len(quantizer)).max(1)
}

/// Consecutive pages a stored block spans: 1 where blocks fit a page (and share it).
#[inline]
pub fn pages_per_block(quantizer: &Quantizer) -> usize {
    stored_block_len(quantizer).div_ceil(CAPACITY)
}

/// A stored block with its link, as a page stores it.
pub fn stored_block_bytes(next: ItemPointer, block: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; BLOCK_LINK + block.len()];
    next.write(&mut out);
    out[BLOCK_LINK..].copy_from_slice(block);
    out
}

/// The stored block at position `index` of a unit's data: its link and its bytes.
#[inline]
pub fn stored_block<'d>(quantizer: &Quantizer, data: &'d [u8], index: u16) -> Option<(ItemPointer, &'d [u8])> {
    let len = stored_block_len(quantizer);
    let at = usize::from(index) * len;
    let entry = data.get(at..at + len)?;
    Some((ItemPointer::read(entry), &entry[BLOCK_LINK..]))
}

/// A stored block's link and bytes, to change.
#[inline]
pub fn stored_block_mut<'d>(quantizer: &Quantizer, data: &'d mut [u8], index: u16) -> Option<(&'d mut [u8], &'d mut [u8])> {
    let len = stored_block_len(quantizer);
    let at = usize::from(index) * len;
    Some(data.get_mut(at..at + len)?.split_at_mut(BLOCK_LINK))
}

/// Which bytes of a unit's data one of its pages gets. (Named here rather than a `Vec<&[u8]>`:
/// the extension's link keeps every section (`--no-gc-sections`), and the growth code of
/// that common vector type resolved to an instance in pgrx's schema-generation crate, which
/// pulled that crate and syn into quantvec.so, 4.5 MB.)
#[derive(Clone, Copy)]
enum Part {
    All,
    Wide(usize),
}

/// The part of a wide block's stored bytes that its `page`-th page holds.
fn wide_part(stored: &[u8], page: usize) -> &[u8] {
    &stored[(page * CAPACITY).min(stored.len())..((page + 1) * CAPACITY).min(stored.len())]
}

/// Puts a unit's data on its pages (in a write): a page's data, which may have grown by
/// appended blocks, or a wide block cut into page-sized parts (onto new pages, or over the
/// same block's).
pub fn put_unit_data(pages: &mut [PageMut<'_>], data: &[u8]) -> Result<()> {
    if let [page] = pages {
        let old = page.data().len();
        if data.len() < old {
            bail!(DataException, "quantvec index page data cannot shrink");
        }
        page.data_mut().copy_from_slice(&data[..old]);
        if !page.append(&data[old..])? {
            bail!(DataException, "quantvec index blocks do not fit their page");
        }
        return Ok(());
    }
    for (i, page) in pages.iter_mut().enumerate() {
        let part = wide_part(data, i);
        // A new page is empty until its part is appended.
        match page.data().len() {
            0 => {
                if !page.append(part)? {
                    bail!(DataException, "quantvec index wide block does not fit its pages");
                }
            }
            len if len == part.len() => page.data_mut().copy_from_slice(part),
            _ => bail!(DataException, "quantvec index wide block does not match its pages"),
        }
    }
    Ok(())
}

/// Asks `store` to bring the stored block at `at` into the CPU's cache (its page's first
/// part where a block spans pages).
#[inline]
pub fn prefetch_block<S: Store>(store: &S, quantizer: &Quantizer, at: ItemPointer) {
    let len = stored_block_len(quantizer);
    store.prefetch(at.block, usize::from(at.offset) * len, len.min(CAPACITY));
}

/// The pages holding one place of a chain, locked (see the module comment).
pub enum Unit<L> {
    /// A code page and the blocks on it.
    Page(L),
    /// A wide block's pages, and its bytes read whole from them.
    Wide(Vec<L>, Vec<u8>),
}

impl<L: Locked> Unit<L> {
    /// Locks the unit whose first page is `block`.
    #[inline]
    pub fn read<S: Store<Locked = L>>(store: &S, quantizer: &Quantizer, block: u32, lock: Lock) -> Result<Unit<L>> {
        let pages = pages_per_block(quantizer);
        if pages > 1 {
            return Self::read_wide(store, quantizer, block, pages, lock);
        }
        let locked = store.lock(block, lock)?;
        page_of(store, &locked, Kind::Codes)?;
        Ok(Unit::Page(locked))
    }

    /// `read` for a wide block: its pages locked in ascending order, its bytes read whole.
    #[inline(never)]
    fn read_wide<S: Store<Locked = L>>(store: &S, quantizer: &Quantizer, block: u32, pages: usize, lock: Lock) -> Result<Unit<L>> {
        let mut stored = Vec::with_capacity(stored_block_len(quantizer));
        let mut locks = Vec::with_capacity(pages);
        for page in 0..pages as u32 {
            let locked = store.lock(block + page, lock)?;
            stored.extend_from_slice(page_of(store, &locked, Kind::Codes)?.data());
            locks.push(locked);
        }
        if stored.len() != stored_block_len(quantizer) {
            return Err(store.corrupt(Some(block), &format!("the wide block there holds {} bytes, not {}", stored.len(), stored_block_len(quantizer))));
        }
        Ok(Unit::Wide(locks, stored))
    }

    #[inline]
    pub fn block(&self) -> u32 {
        match self {
            Unit::Page(locked) => locked.block(),
            Unit::Wide(locks, _) => locks[0].block(),
        }
    }

    /// Pages the unit spans.
    #[inline]
    pub fn pages(&self) -> usize {
        match self {
            Unit::Page(_) => 1,
            Unit::Wide(locks, _) => locks.len(),
        }
    }

    /// The stored blocks on the unit.
    #[inline]
    pub fn data(&self) -> &[u8] {
        match self {
            Unit::Page(locked) => locked.page().data(),
            Unit::Wide(_, stored) => stored,
        }
    }

    /// The stored block at `at` (on this unit): its link and bytes.
    #[inline]
    pub fn stored<S: Store<Locked = L>>(&self, store: &S, quantizer: &Quantizer, at: ItemPointer) -> Result<(ItemPointer, &[u8])> {
        stored_block(quantizer, self.data(), at.offset).ok_or_else(|| store.corrupt(Some(at.block), "a list chain points past the blocks of the page"))
    }

    /// Writes `data` as the unit's stored blocks, and changes `extra` pages by `edit`, as one
    /// record.
    pub fn write<S: Store<Locked = L>>(
        &mut self,
        store: &S,
        data: &[u8],
        extra: &mut [&mut L],
        edit: impl FnOnce(&mut [PageMut<'_>]) -> Result<()>,
    ) -> Result<()> {
        // A wide block's pages whose part changes: only those are written (a new block's
        // link changes the first page alone, which leaves room in the record for the new
        // block's pages).
        let (own, parts): (Vec<&mut L>, Vec<Part>) = match self {
            Unit::Page(locked) => (vec![locked], vec![Part::All]),
            Unit::Wide(locks, stored) => {
                locks.iter_mut().enumerate().filter(|(i, _)| wide_part(stored, *i) != wide_part(data, *i)).map(|(i, locked)| (locked, Part::Wide(i))).unzip()
            }
        };
        let count = own.len();
        let mut pages: Vec<&mut L> = own.into_iter().chain(extra.iter_mut().map(|l| &mut **l)).collect();
        store.write(&mut pages, |pages| {
            let (unit, others) = pages.split_at_mut(count);
            for (page, part) in unit.iter_mut().zip(&parts) {
                let bytes = match *part {
                    Part::All => data,
                    Part::Wide(i) => wide_part(data, i),
                };
                put_unit_data(std::slice::from_mut(page), bytes)?;
            }
            edit(others)
        })?;
        if let Unit::Wide(_, stored) = self {
            stored.copy_from_slice(data);
        }
        Ok(())
    }
}

/// What a visit of a chain's block says next.
pub enum Walk {
    Next,
    Stop,
}

/// One block of a chain, as [`walk_blocks`] shows it.
pub struct Place {
    /// Where the block is (on the unit).
    pub at: ItemPointer,
    /// Its link: the chain's next block.
    pub next: ItemPointer,
    /// Whether it is the chain's last block on this unit (the next one is elsewhere): where
    /// a visitor that gathered changes to the unit writes them.
    pub last_on_unit: bool,
}

/// Walks a list's chain from `head`, a unit at a time locked as `lock` says, calling
/// `visit` with each block's unit and place in chain order. The next block is prefetched
/// before a block is visited (from this unit, or through the store where it is on another
/// page), so that its cache misses overlap the visit. A visit that changes a link stops
/// the walk.
pub fn walk_blocks<S: Store>(
    store: &S,
    quantizer: &Quantizer,
    head: ItemPointer,
    lock: Lock,
    mut visit: impl FnMut(&mut Unit<S::Locked>, Place) -> Result<Walk>,
) -> Result<()> {
    let mut at = head;
    let mut steps = Steps::new(blocks_per_page(quantizer));
    while at != ItemPointer::NONE {
        let mut unit = Unit::read(store, quantizer, at.block, lock)?;
        loop {
            steps.step(store, at.block)?;
            let (next, _) = unit.stored(store, quantizer, at)?;
            // A wide block's successor is on other pages; a shared page's may be too.
            let last_on_unit = next.block != at.block || matches!(unit, Unit::Wide(..));
            if last_on_unit {
                if next != ItemPointer::NONE {
                    prefetch_block(store, quantizer, next);
                }
            } else if let Some((_, bytes)) = stored_block(quantizer, unit.data(), next.offset) {
                crate::kernels::prefetch(bytes.as_ptr(), bytes.len());
            }
            if let Walk::Stop = visit(&mut unit, Place { at, next, last_on_unit })? {
                return Ok(());
            }
            at = next;
            if last_on_unit {
                break;
            }
        }
        drop(unit);
        store.pause();
    }
    Ok(())
}

/// Visits the blocks of a list's chain from `head` under share locks; returns the pages read.
pub fn read_blocks<S: Store>(store: &S, quantizer: &Quantizer, head: ItemPointer, mut visit: impl FnMut(ItemPointer, &[u8])) -> Result<usize> {
    let mut pages = 0;
    walk_blocks(store, quantizer, head, Lock::Share, |unit, place| {
        if place.last_on_unit {
            pages += unit.pages();
        }
        visit(place.at, unit.stored(store, quantizer, place.at)?.1);
        Ok(Walk::Next)
    })?;
    Ok(pages)
}

/// Visits the pages of a page chain from `head` (the vector pages), one at a time under a
/// share lock; returns the pages read.
pub fn read_pages<S: Store>(store: &S, head: u32, kind: Kind, mut visit: impl FnMut(u32, &[u8])) -> Result<usize> {
    let mut block = head;
    let mut steps = Steps::new(1);
    let mut pages = 0;
    while block != super::page::NO_BLOCK {
        steps.step(store, block)?;
        pages += 1;
        let next = {
            let locked = store.lock(block, Lock::Share)?;
            let page = page_of(store, &locked, kind)?;
            visit(block, page.data());
            page.next()
        };
        store.pause();
        block = next;
    }
    Ok(pages)
}
