//! An index's lists as the search reads them: chains of FastScan blocks and the vector
//! pages their rows point at, walked through shared buffers.

use std::cell::Cell;

use pgrx::pg_sys;
use quantvec_core::ivf::search::Lists;
use quantvec_core::ivf::{block, ItemPointer};

use super::pages::{self, Cached, Kind, Lock, Locked, Pinned};

/// The index's lists, read through shared buffers.
pub struct PgLists<'a> {
    pub index: pg_sys::Relation,
    pub cached: &'a Cached,
    /// Index pages read (found in shared buffers or not), for `quantvec_last_scan`.
    pub pages_read: Cell<u64>,
}

impl<'a> PgLists<'a> {
    pub fn new(index: pg_sys::Relation, cached: &'a Cached) -> PgLists<'a> {
        PgLists { index, cached, pages_read: Cell::new(0) }
    }

    pub fn count_pages(&self, pages: usize) {
        self.pages_read.set(self.pages_read.get() + pages as u64);
    }

    /// Visits the pages of a page chain from `head` (the vector pages), one at a time
    /// under a share lock.
    pub fn walk_pages(&self, head: u32, kind: Kind, visit: &mut dyn FnMut(u32, &[u8])) {
        let mut block = head;
        let mut steps = pages::Steps::new(self.index, 1);
        while block != pg_sys::InvalidBlockNumber {
            steps.step(block);
            self.count_pages(1);
            let next = {
                let locked = Locked::read(self.index, block, Lock::Share);
                let page = locked.page_of(kind);
                visit(block, page.data());
                page.next()
            };
            pages::check_for_interrupts();
            block = next;
        }
    }

    /// Visits the blocks of a list's chain from `head`, keeping a page locked (shared)
    /// while the chain stays on it.
    pub fn walk_blocks(&self, head: ItemPointer, visit: &mut dyn FnMut(ItemPointer, &[u8])) {
        let layout = &self.cached.layout;
        let mut at = head;
        let mut steps = pages::Steps::new(self.index, pages::blocks_per_page(layout));
        if pages::is_wide(layout) {
            // Wide blocks: each read whole from its pages, then scored unlocked.
            while at != ItemPointer::NONE {
                steps.step(at.block);
                let (locks, stored) = pages::read_wide(self.index, layout, at.block, Lock::Share, Some(&self.cached.hints));
                self.count_pages(locks.len());
                drop(locks);
                let (link, block) = stored.split_at(pages::BLOCK_LINK);
                visit(at, block);
                at = ItemPointer::read(link);
                pages::check_for_interrupts();
            }
            return;
        }
        while at != ItemPointer::NONE {
            {
                self.count_pages(1);
                let locked = Locked::read_hinted(self.index, at.block, &self.cached.hints);
                let page = locked.page_of(Kind::Codes);
                loop {
                    steps.step(at.block);
                    let Some((next, block)) = pages::stored_block(layout, page.data(), at.offset) else {
                        pages::corrupt_at(self.index, at.block, "a list chain points past the blocks of the page");
                    };
                    visit(at, block);
                    at = next;
                    if at.block != locked.block() {
                        break;
                    }
                }
            }
            pages::check_for_interrupts();
        }
    }
}

/// Vectors read at once by a rescoring batch, their buffers pinned together: few enough
/// that the pins fit PostgreSQL's array of a backend's own pins (8, beside the heap page
/// the executor may hold) rather than spilling to its hash table.
const VECTORS_PER_BATCH: usize = 6;

impl Lists for PgLists<'_> {
    fn scan_list(&self, list: u32, visit: &mut dyn FnMut(&[u8])) {
        self.walk_blocks(self.cached.heads[list as usize], &mut |_, block| visit(block));
    }

    fn read_vectors(&self, slots: &[ItemPointer], visit: &mut dyn FnMut(&[u8])) {
        let len = self.cached.layout.vector_len();
        // Pin the pages and prefetch the vectors of a batch first, so that their cache
        // misses overlap.
        for batch in slots.chunks(VECTORS_PER_BATCH) {
            let pinned: Vec<Pinned> = batch.iter().map(|slot| Pinned::read_hinted(self.index, slot.block, &self.cached.hints)).collect();
            self.count_pages(pinned.len());
            for (page, slot) in pinned.iter().zip(batch) {
                page.prefetch(usize::from(slot.offset) * len, len);
            }
            for (page, slot) in pinned.into_iter().zip(batch) {
                let locked = page.lock(Lock::Share);
                let page = locked.page_of(Kind::Vectors);
                let at = usize::from(slot.offset) * len;
                if let Some(vector) = page.data().get(at..at + len) {
                    visit(vector);
                }
            }
        }
    }
}

/// The block slot targets of a list: vector slots (int8) or heap tids (Hamming).
pub fn list_targets(lists: &PgLists, list: usize) -> Vec<ItemPointer> {
    let layout = &lists.cached.layout;
    let mut targets = Vec::new();
    lists.scan_list(list as u32, &mut |b| {
        targets.extend((0..block::ROWS).map(|slot| block::pointer(layout, b, slot)).filter(|&t| t != ItemPointer::NONE));
    });
    targets
}
