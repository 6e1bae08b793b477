//! Writing a new index's pages: the metapage, the centroids, the directory, and every
//! row's code and vector.
//!
//! Rows stream into their lists: each list gathers its FastScan blocks in memory, and a
//! page's worth of full blocks is written as one unit of that list (so scans read long
//! lists page by page); what is left at the end (the short tail of every list) is packed
//! into shared code pages. Vectors go to one chain of pages in arrival order. A block links
//! to its list's next block, which for a just-written unit is not known yet: the link is
//! patched when the next block is placed.

use std::sync::Arc;

use crate::error::Result;
use crate::ivf::meta::{self, ListEntry, Meta};
use crate::ivf::recall::Calibration;
use crate::ivf::{block, EncodedRow, ItemPointer, Quantizer};

use super::chain::{self, blocks_per_page, pages_per_block, stored_block_bytes, stored_block_len, stored_block_mut, BLOCK_LINK};
use super::directory::ENTRIES_PER_PAGE;
use super::page::{Kind, CAPACITY, META_BLOCK, NO_BLOCK};
use super::store::{write_one, Lock, Locked, Store};

/// Where the pages a build writes before its rows are.
pub struct FixedPages {
    pub centroid_start: u32,
    pub centroid_pages: u32,
    pub directory_start: u32,
    pub directory_pages: u32,
}

/// Writes the pages before the rows: an empty metapage (filled by [`write_meta`]), the
/// centroids as one stream of float16 values, and empty directory pages (filled by
/// [`write_directory`]).
pub fn write_fixed_pages<S: Store>(store: &S, quantizer: &Quantizer, centroid_exponent: i16) -> Result<FixedPages> {
    let meta_page = store.extend(Kind::Meta, 1)?;
    assert_eq!(meta_page[0].block(), META_BLOCK, "the metapage is the index's first block");
    drop(meta_page);
    let centroid_bytes = meta::centroids_to_bytes(&quantizer.centroids, centroid_exponent);
    let centroid_start = META_BLOCK + 1;
    // Whole float16 values on each page.
    let chunks: Vec<&[u8]> = if centroid_bytes.is_empty() { vec![&[]] } else { centroid_bytes.chunks(CAPACITY / 2 * 2).collect() };
    for chunk in &chunks {
        let mut locked = store.extend(Kind::Centroids, 1)?.pop().expect("one page");
        write_one(store, &mut locked, |page| {
            assert!(page.append(chunk)?, "a chunk fits its page");
            Ok(())
        })?;
    }
    let directory_start = centroid_start + chunks.len() as u32;
    let directory_pages = quantizer.lists().div_ceil(ENTRIES_PER_PAGE) as u32;
    drop(store.extend(Kind::Directory, directory_pages as usize)?);
    Ok(FixedPages { centroid_start, centroid_pages: chunks.len() as u32, directory_start, directory_pages })
}

/// Fills the directory pages with the lists' entries.
pub fn write_directory<S: Store>(store: &S, directory_start: u32, entries: &[ListEntry]) -> Result<()> {
    for (page, chunk) in entries.chunks(ENTRIES_PER_PAGE).enumerate() {
        let mut locked = store.lock(directory_start + page as u32, Lock::Exclusive)?;
        write_one(store, &mut locked, |target| {
            for entry in chunk {
                assert!(target.append(&entry.to_bytes())?, "a directory page holds ENTRIES_PER_PAGE entries");
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Writes the metapage's fields, and the recall calibration after them where there is one.
pub fn write_meta<S: Store>(store: &S, meta: &Meta, calibration: Option<&Calibration>) -> Result<()> {
    let mut locked = store.lock(META_BLOCK, Lock::Exclusive)?;
    write_one(store, &mut locked, |page| {
        page.truncate(0);
        assert!(page.append(&meta.to_bytes())?, "the metapage's fields fit it");
        if let Some(calibration) = calibration {
            assert!(page.append(&calibration.to_bytes())?, "a calibration fits the metapage");
        }
        Ok(())
    })
}

/// What the writer leaves for the metapage and directory.
pub struct Written {
    /// Each list's head and tail block.
    pub entries: Vec<ListEntry>,
    /// The code page new blocks go to.
    pub code_tail: u32,
    pub vector_head: u32,
    pub vector_tail: u32,
    pub rows: u64,
}

#[derive(Default)]
struct ListBlocks {
    /// Blocks not yet written, the last one being filled.
    pending: Vec<Vec<u8>>,
    head: Option<ItemPointer>,
    /// The list's last written block, whose link the next placed block patches.
    last: Option<ItemPointer>,
}

/// A unit being filled in memory: its first page, and its stored blocks.
struct OpenUnit {
    block: u32,
    data: Vec<u8>,
}

/// Writes the code and vector pages of a build (see the module comment).
pub struct Writer<'s, S> {
    store: &'s S,
    quantizer: Arc<Quantizer>,
    lists: Vec<ListBlocks>,
    /// The vector page being filled.
    vectors: Option<OpenUnit>,
    vector_head: u32,
    rows: u64,
}

impl<'s, S: Store> Writer<'s, S> {
    pub fn new(store: &'s S, quantizer: Arc<Quantizer>) -> Self {
        let lists = (0..quantizer.lists()).map(|_| ListBlocks::default()).collect();
        Writer { store, quantizer, lists, vectors: None, vector_head: NO_BLOCK, rows: 0 }
    }

    pub fn quantizer(&self) -> &Arc<Quantizer> {
        &self.quantizer
    }

    /// Rows added so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Adds pages of `kind` for a unit; returns the first.
    fn allocate(&self, kind: Kind, pages: usize) -> Result<u32> {
        Ok(self.store.extend(kind, pages)?[0].block())
    }

    /// Writes a unit's data to the pages from `block` (allocated earlier), the last page
    /// linked to `next`.
    fn write_unit(&self, block: u32, kind: Kind, data: &[u8], next: u32) -> Result<()> {
        let pages = if kind == Kind::Codes { pages_per_block(&self.quantizer) } else { 1 };
        let mut locks = (0..pages as u32).map(|page| self.store.lock(block + page, Lock::Exclusive)).collect::<Result<Vec<_>>>()?;
        let mut refs: Vec<&mut S::Locked> = locks.iter_mut().collect();
        self.store.write(&mut refs, |pages| {
            for page in pages.iter_mut() {
                page.init(kind);
            }
            chain::put_unit_data(pages, data)?;
            pages.last_mut().expect("a page").set_next(next);
            Ok(())
        })
    }

    /// Points the link of the written block `at` to `next`.
    fn patch_link(&self, at: ItemPointer, next: ItemPointer) -> Result<()> {
        let mut locked = self.store.lock(at.block, Lock::Exclusive)?;
        let start = usize::from(at.offset) * stored_block_len(&self.quantizer);
        write_one(self.store, &mut locked, |page| {
            next.write(&mut page.data_mut()[start..start + BLOCK_LINK]);
            Ok(())
        })
    }

    /// Records that `first..=last` (already written, linked among themselves) follow the
    /// list's blocks so far.
    fn chain(&mut self, list: usize, first: ItemPointer, last: ItemPointer) -> Result<()> {
        let state = &mut self.lists[list];
        state.head.get_or_insert(first);
        match state.last.replace(last) {
            Some(previous) => self.patch_link(previous, first),
            None => Ok(()),
        }
    }

    /// Writes a list's pending blocks, all full, as units of their own.
    fn write_list_units(&mut self, list: usize) -> Result<()> {
        let blocks = std::mem::take(&mut self.lists[list].pending);
        for group in blocks.chunks(blocks_per_page(&self.quantizer)) {
            let block = self.allocate(Kind::Codes, pages_per_block(&self.quantizer))?;
            let mut data = Vec::with_capacity(group.len() * stored_block_len(&self.quantizer));
            for (i, b) in group.iter().enumerate() {
                let next = if i + 1 < group.len() { ItemPointer { block, offset: (i + 1) as u16 } } else { ItemPointer::NONE };
                data.extend(stored_block_bytes(next, b));
            }
            self.write_unit(block, Kind::Codes, &data, NO_BLOCK)?;
            self.chain(list, ItemPointer { block, offset: 0 }, ItemPointer { block, offset: (group.len() - 1) as u16 })?;
        }
        Ok(())
    }

    fn add_vector(&mut self, vector: &[u8]) -> Result<ItemPointer> {
        let len = vector.len();
        if self.vectors.as_ref().is_none_or(|open| open.data.len() + len > CAPACITY) {
            let block = self.allocate(Kind::Vectors, 1)?;
            if self.vector_head == NO_BLOCK {
                self.vector_head = block;
            }
            if let Some(full) = self.vectors.replace(OpenUnit { block, data: Vec::with_capacity(CAPACITY) }) {
                self.write_unit(full.block, Kind::Vectors, &full.data, block)?;
            }
        }
        let open = self.vectors.as_mut().expect("an open vector page");
        let slot = open.data.len() / len;
        open.data.extend_from_slice(vector);
        Ok(ItemPointer { block: open.block, offset: slot as u16 })
    }

    /// Adds a row; returns where its entry points (its vector item, or the heap row).
    pub fn add(&mut self, row: &EncodedRow, tid: ItemPointer) -> Result<ItemPointer> {
        let target = if self.quantizer.has_vectors() { self.add_vector(&row.vector)? } else { tid };
        let open = self.lists[row.list].pending.last().and_then(|b| block::free_slot(&self.quantizer, b));
        let slot = match open {
            Some(slot) => slot,
            None => {
                if self.lists[row.list].pending.len() == blocks_per_page(&self.quantizer) {
                    self.write_list_units(row.list)?;
                }
                self.lists[row.list].pending.push(block::empty(&self.quantizer));
                0
            }
        };
        let open_block = self.lists[row.list].pending.last_mut().expect("an open block");
        block::write_row(&self.quantizer, open_block, slot, row, target);
        self.rows += 1;
        Ok(target)
    }

    /// Packs every list's remaining blocks (an empty block for an empty list, so that every
    /// list has a head) into shared units; returns where everything went.
    pub fn finish(mut self) -> Result<Written> {
        let (per_unit, stored_len) = (blocks_per_page(&self.quantizer), stored_block_len(&self.quantizer));
        let wide = pages_per_block(&self.quantizer) > 1;
        let mut shared: Option<OpenUnit> = None;
        for list in 0..self.lists.len() {
            let mut blocks = std::mem::take(&mut self.lists[list].pending);
            if blocks.is_empty() && self.lists[list].head.is_none() {
                blocks.push(block::empty(&self.quantizer));
            }
            for b in blocks {
                if shared.as_ref().is_none_or(|open| open.data.len() / stored_len == per_unit) {
                    let block = self.allocate(Kind::Codes, pages_per_block(&self.quantizer))?;
                    if let Some(full) = shared.replace(OpenUnit { block, data: Vec::with_capacity(CAPACITY) }) {
                        self.write_unit(full.block, Kind::Codes, &full.data, NO_BLOCK)?;
                    }
                }
                let open = shared.as_mut().expect("a shared unit");
                let at = ItemPointer { block: open.block, offset: (open.data.len() / stored_len) as u16 };
                open.data.extend(stored_block_bytes(ItemPointer::NONE, &b));
                // Link from the list's previous block: just before in this unit (still in
                // memory), or written earlier.
                match self.lists[list].last {
                    Some(previous) if previous.block == at.block => {
                        at.write(stored_block_mut(&self.quantizer, &mut open.data, previous.offset).expect("in this unit").0);
                        self.lists[list].last = Some(at);
                    }
                    _ => self.chain(list, at, at)?,
                }
            }
        }
        // New blocks of a narrow index go to the last shared page; a wide one's get pages of
        // their own, and its tail is an empty page.
        let code_tail = match shared {
            Some(open) => {
                self.write_unit(open.block, Kind::Codes, &open.data, NO_BLOCK)?;
                if wide {
                    self.allocate(Kind::Codes, 1)?
                } else {
                    open.block
                }
            }
            None => self.allocate(Kind::Codes, 1)?,
        };
        if self.quantizer.has_vectors() && self.vectors.is_none() {
            self.vector_head = self.allocate(Kind::Vectors, 1)?;
            self.vectors = Some(OpenUnit { block: self.vector_head, data: Vec::new() });
        }
        let vector_tail = match self.vectors.take() {
            Some(open) => {
                self.write_unit(open.block, Kind::Vectors, &open.data, NO_BLOCK)?;
                open.block
            }
            None => NO_BLOCK,
        };
        let entries = self
            .lists
            .iter()
            .map(|l| {
                let head = l.head.expect("every list has a block");
                let tail = l.last.expect("every list has a block");
                ListEntry { head, insert: head, tail }
            })
            .collect();
        Ok(Written { entries, code_tail, vector_head: self.vector_head, vector_tail, rows: self.rows })
    }
}

/// Finishes a build's pages: the writer's last pages, the directory, and the metapage
/// (without a calibration, which is measured over the finished index); returns the
/// metapage's fields.
pub fn finish<S: Store>(writer: Writer<'_, S>, fixed: &FixedPages, centroid_exponent: i16, build_id: u64) -> Result<Meta> {
    let (store, quantizer) = (writer.store, writer.quantizer.clone());
    let written = writer.finish()?;
    write_directory(store, fixed.directory_start, &written.entries)?;
    let meta = Meta {
        format: meta::format_for(quantizer.code_bits, quantizer.vector_bits, quantizer.labels),
        metric: quantizer.metric,
        residual: quantizer.residual,
        code_bits: quantizer.code_bits,
        vector_bits: quantizer.vector_bits,
        labels: quantizer.labels,
        dims: quantizer.dims as u32,
        lists: quantizer.lists() as u32,
        centroid_start: fixed.centroid_start,
        centroid_pages: fixed.centroid_pages,
        directory_start: fixed.directory_start,
        directory_pages: fixed.directory_pages,
        vector_head: written.vector_head,
        vector_insert: written.vector_tail,
        code_tail: written.code_tail,
        centroid_exponent,
        build_id,
        rows_at_build: written.rows,
    };
    write_meta(store, &meta, None)?;
    Ok(meta)
}
