//! What the index needs from where its pages live: lock a page shared or exclusive, add
//! pages, and change locked pages together. PostgreSQL's buffers and generic WAL implement
//! it in the glue; [`super::memory::MemoryStore`] implements it in memory for tests.
//!
//! A page changes only inside [`Store::write`], which marks every page it changes dirty and
//! logs them in one WAL record (or, during a build, leaves them to the WAL the build writes
//! at its end): no caller can change a page and forget either.

use crate::error::{Error, ErrorKind, Result};

use super::page::{Kind, Page, PageMut};

/// How a page is locked: shared to read it, exclusively to change it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lock {
    Share,
    Exclusive,
}

/// A locked page; unlocked on drop.
pub trait Locked {
    fn block(&self) -> u32;
    fn page(&self) -> Page<'_>;
}

/// The most pages one write changes: a generic WAL record's limit.
pub const MAX_PAGES_PER_WRITE: usize = 4;

pub trait Store {
    type Locked: Locked;

    /// Reads `block` and locks it. A block past the end is an error.
    fn lock(&self, block: u32, lock: Lock) -> Result<Self::Locked>;

    /// Appends `count` consecutive pages of `kind`, initialised and locked exclusively.
    fn extend(&self, kind: Kind, count: usize) -> Result<Vec<Self::Locked>>;

    /// Changes exclusively locked pages together, at most `MAX_PAGES_PER_WRITE`: `edit` gets
    /// them in the order given; they are marked dirty and logged as one record (pages from
    /// `extend` as full images). An error from `edit` leaves them as they were.
    fn write(&self, pages: &mut [&mut Self::Locked], edit: impl FnOnce(&mut [PageMut<'_>]) -> Result<()>) -> Result<()>;

    /// Pages in the index.
    fn blocks(&self) -> u32;

    /// An error for a damaged index, naming it (and the block, where known).
    fn corrupt(&self, block: Option<u32>, what: &str) -> Error;

    /// Called between pages with none locked: lets a cancel in (and, for vacuum, its
    /// cost-based delay).
    fn pause(&self) {}

    /// Asks for the `len` bytes at `offset` of `block`'s data to be brought into the CPU's
    /// cache, ahead of reading them: a hint, which neither reads nor locks the page (an
    /// index larger than the caches spends most of a search waiting on its pages).
    fn prefetch(&self, _block: u32, _offset: usize, _len: usize) {}

    /// Reads the items of `len` bytes at `slots` of pages of `kind` (vector items), in
    /// order; a store may read them in batches, overlapping their cache misses.
    fn read_items(&self, slots: &[crate::ivf::ItemPointer], len: usize, kind: Kind, visit: &mut dyn FnMut(&[u8])) -> Result<()> {
        for slot in slots {
            let locked = self.lock(slot.block, Lock::Share)?;
            let page = page_of(self, &locked, kind)?;
            let at = usize::from(slot.offset) * len;
            if let Some(item) = page.data().get(at..at + len) {
                visit(item);
            }
        }
        Ok(())
    }
}

/// The error for a damaged index: `name`d where the store knows it, at `block` where known.
pub fn corrupt_index(name: Option<&str>, block: Option<u32>, what: &str) -> Error {
    let name = name.map_or(String::new(), |n| format!(" \"{n}\""));
    let at = block.map_or(String::new(), |b| format!(" at block {b}"));
    Error::new(ErrorKind::DataException, format!("quantvec index{name} is corrupt{at}: {what}; REINDEX the index"))
}

/// The page of `locked`, refusing one that is not of `kind` (a corrupt link or a foreign
/// page is an error, never misread).
#[inline]
pub fn page_of<'l, S: Store + ?Sized>(store: &S, locked: &'l S::Locked, kind: Kind) -> Result<Page<'l>> {
    let page = locked.page();
    if page.kind() != kind as u16 {
        return Err(store.corrupt(Some(locked.block()), &format!("it is not a {kind:?} page (found kind {})", page.kind())));
    }
    Ok(page)
}

/// Changes one exclusively locked page (see [`Store::write`]).
pub fn write_one<S: Store + ?Sized>(store: &S, locked: &mut S::Locked, edit: impl FnOnce(&mut PageMut<'_>) -> Result<()>) -> Result<()> {
    store.write(&mut [locked], |pages| edit(&mut pages[0]))
}

/// Bounds a walk along a chain of pages or blocks: a link that corruption turned into a
/// cycle is an error naming the index and block, never an endless loop under a lock. A
/// chain cannot be longer than the index has places for (`per_page` on each of its pages);
/// the index's size is looked up only once a walk is long.
pub struct Steps {
    per_page: usize,
    taken: usize,
    limit: Option<usize>,
}

impl Steps {
    pub fn new(per_page: usize) -> Steps {
        Steps { per_page, taken: 0, limit: None }
    }

    /// Counts a step onto `block`.
    #[inline]
    pub fn step<S: Store + ?Sized>(&mut self, store: &S, block: u32) -> Result<()> {
        self.taken += 1;
        if self.taken > 1 << 16 {
            let limit = *self.limit.get_or_insert_with(|| store.blocks() as usize * self.per_page);
            if self.taken > limit {
                return Err(store.corrupt(Some(block), "a chain of pages or blocks loops"));
            }
        }
        Ok(())
    }
}
