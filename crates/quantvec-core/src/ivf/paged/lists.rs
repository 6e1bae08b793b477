//! An index's lists as a search reads them ([`Lists`]), from a store's pages.

use std::cell::Cell;

use crate::error::{Error, Result};
use crate::ivf::search::Lists;
use crate::ivf::{block, ItemPointer};

use super::chain::{prefetch_block, read_blocks};
use super::directory::Opened;
use super::page::Kind;
use super::store::Store;

/// The lists of an opened index, read through `store`.
pub struct PagedLists<'a, S> {
    pub store: &'a S,
    pub opened: &'a Opened,
    /// Index pages read, for `quantvec_last_scan`.
    pub pages_read: Cell<u64>,
    /// What a damaged page does to a search, which cannot return an error: the glue raises
    /// it as an ERROR, tests panic.
    fail: fn(Error) -> !,
}

impl<'a, S: Store> PagedLists<'a, S> {
    pub fn new(store: &'a S, opened: &'a Opened, fail: fn(Error) -> !) -> Self {
        PagedLists { store, opened, pages_read: Cell::new(0), fail }
    }

    /// Counts pages read outside `Lists` (an unordered scan's).
    pub fn count_pages(&self, pages: usize) {
        self.pages_read.set(self.pages_read.get() + pages as u64);
    }
}

impl<S: Store> Lists for PagedLists<'_, S> {
    fn scan_list(&self, list: u32, visit: &mut dyn FnMut(&[u8])) {
        match read_blocks(self.store, &self.opened.quantizer, self.opened.heads[list as usize], |_, block| visit(block)) {
            Ok(pages) => self.count_pages(pages),
            Err(e) => (self.fail)(e),
        }
    }

    fn prefetch_list(&self, list: u32) {
        let head = self.opened.heads[list as usize];
        if head != ItemPointer::NONE {
            prefetch_block(self.store, &self.opened.quantizer, head);
        }
    }

    fn read_vectors(&self, slots: &[ItemPointer], visit: &mut dyn FnMut(&[u8])) {
        self.count_pages(slots.len());
        if let Err(e) = self.store.read_items(slots, self.opened.quantizer.vector_len(), Kind::Vectors, visit) {
            (self.fail)(e)
        }
    }
}

/// The targets (vector slots, or heap tids for Hamming) of the rows of `list`; and the
/// pages read.
pub fn list_targets<S: Store>(store: &S, opened: &Opened, list: usize) -> Result<(Vec<ItemPointer>, usize)> {
    let (rows, pages) = list_labels(store, opened, list)?;
    Ok((rows.into_iter().map(|(target, _)| target).collect(), pages))
}

/// A row's target and its label (None without a label column, or where the row's label is
/// NULL).
pub type LabelledRow = (ItemPointer, Option<i32>);

/// Each row of `list`, and the pages read.
pub fn list_labels<S: Store>(store: &S, opened: &Opened, list: usize) -> Result<(Vec<LabelledRow>, usize)> {
    let quantizer = &opened.quantizer;
    let mut rows = Vec::new();
    let pages = read_blocks(store, quantizer, opened.heads[list], |_, b| {
        rows.extend(
            (0..block::ROWS).map(|slot| (block::pointer(quantizer, b, slot), block::label(quantizer, b, slot))).filter(|&(t, _)| t != ItemPointer::NONE),
        );
    })?;
    Ok((rows, pages))
}
