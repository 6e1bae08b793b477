//! An index's pages in memory, behaving as PostgreSQL's buffers do where it matters to the
//! index code: a small pool of cached pages that evicts the least recently used unlocked
//! page (written back when dirty, dropped when clean), locks that refuse what would make a
//! backend wait for itself, and a WAL of full page images that [`MemoryStore::crash`]
//! replays onto the pages last written back. A change made outside [`Store::write`], or
//! a page that was never marked dirty, does not survive here either.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::error::{Error, Result};

use super::page::{Kind, Page, PageMut, PAGE_SIZE};
use super::store::{corrupt_index, Lock, Locked, Store, MAX_PAGES_PER_WRITE};

struct Frame {
    bytes: Rc<Vec<u8>>,
    dirty: bool,
    last_used: u64,
    shared: usize,
    exclusive: bool,
}

struct Pool {
    /// What a crash leaves: each page as last written back (zeros for a page added and
    /// never written back).
    disk: Vec<Rc<Vec<u8>>>,
    frames: HashMap<u32, Frame>,
    /// Unlocked pages the pool keeps.
    capacity: usize,
    clock: u64,
    /// Every record written, as the pages' images after it.
    wal: Vec<Vec<(u32, Rc<Vec<u8>>)>>,
    evictions: u64,
    /// The prefetch hints received: block, offset and length.
    prefetched: Vec<(u32, usize, usize)>,
}

impl Pool {
    fn frame(&mut self, block: u32) -> &mut Frame {
        self.clock += 1;
        let clock = self.clock;
        let disk = &self.disk;
        let frame =
            self.frames.entry(block).or_insert_with(|| Frame { bytes: disk[block as usize].clone(), dirty: false, last_used: 0, shared: 0, exclusive: false });
        frame.last_used = clock;
        frame
    }

    fn evict(&mut self) {
        while self.frames.len() > self.capacity {
            let victim = self.frames.iter().filter(|(_, f)| f.shared == 0 && !f.exclusive).min_by_key(|(_, f)| f.last_used).map(|(&b, _)| b);
            let Some(block) = victim else { return };
            let frame = self.frames.remove(&block).expect("a frame");
            if frame.dirty {
                self.disk[block as usize] = frame.bytes;
            }
            self.evictions += 1;
        }
    }
}

/// Pages in memory (see the module comment).
pub struct MemoryStore {
    pool: Rc<RefCell<Pool>>,
}

/// A page of a [`MemoryStore`], locked.
pub struct MemoryLocked {
    pool: Rc<RefCell<Pool>>,
    block: u32,
    lock: Lock,
    bytes: Rc<Vec<u8>>,
}

impl Locked for MemoryLocked {
    fn block(&self) -> u32 {
        self.block
    }

    fn page(&self) -> Page<'_> {
        Page::new(&self.bytes)
    }
}

impl Drop for MemoryLocked {
    fn drop(&mut self) {
        let mut pool = self.pool.borrow_mut();
        let frame = pool.frames.get_mut(&self.block).expect("a locked page stays in the pool");
        match self.lock {
            Lock::Share => frame.shared -= 1,
            Lock::Exclusive => frame.exclusive = false,
        }
        pool.evict();
    }
}

impl MemoryStore {
    /// An empty index whose pool keeps `cached` unlocked pages.
    pub fn new(cached: usize) -> MemoryStore {
        let pool = Pool { disk: Vec::new(), frames: HashMap::new(), capacity: cached, clock: 0, wal: Vec::new(), evictions: 0, prefetched: Vec::new() };
        MemoryStore { pool: Rc::new(RefCell::new(pool)) }
    }

    /// Pages evicted so far.
    pub fn evictions(&self) -> u64 {
        self.pool.borrow().evictions
    }

    /// The prefetch hints received since the last call: block, offset and length.
    pub fn take_prefetched(&self) -> Vec<(u32, usize, usize)> {
        std::mem::take(&mut self.pool.borrow_mut().prefetched)
    }

    /// WAL records written so far.
    pub fn records(&self) -> usize {
        self.pool.borrow().wal.len()
    }

    /// A crash and its recovery: the pool's pages are lost and the WAL is replayed onto the
    /// pages as last written back. Nothing may be locked.
    pub fn crash(&self) {
        let mut pool = self.pool.borrow_mut();
        assert!(pool.frames.values().all(|f| f.shared == 0 && !f.exclusive), "a crash with pages locked");
        pool.frames.clear();
        let wal = std::mem::take(&mut pool.wal);
        for (block, image) in wal.iter().flatten() {
            pool.disk[*block as usize] = image.clone();
        }
        pool.wal = wal;
    }
}

impl Store for MemoryStore {
    type Locked = MemoryLocked;

    fn lock(&self, block: u32, lock: Lock) -> Result<MemoryLocked> {
        let mut pool = self.pool.borrow_mut();
        if block as usize >= pool.disk.len() {
            return Err(self.corrupt(Some(block), "a link points past the end of the index"));
        }
        let frame = pool.frame(block);
        // One backend holding a lock that its next lock would wait for: a self-deadlock
        // in PostgreSQL.
        assert!(!frame.exclusive && (lock == Lock::Share || frame.shared == 0), "block {block} is locked {lock:?} while this backend holds a lock on it");
        match lock {
            Lock::Share => frame.shared += 1,
            Lock::Exclusive => frame.exclusive = true,
        }
        let bytes = frame.bytes.clone();
        drop(pool);
        Ok(MemoryLocked { pool: self.pool.clone(), block, lock, bytes })
    }

    fn extend(&self, kind: Kind, count: usize) -> Result<Vec<MemoryLocked>> {
        let mut added = Vec::with_capacity(count);
        for _ in 0..count {
            let mut pool = self.pool.borrow_mut();
            let block = pool.disk.len() as u32;
            pool.disk.push(Rc::new(vec![0; PAGE_SIZE]));
            let mut bytes = vec![0; PAGE_SIZE];
            PageMut::new(&mut bytes).init(kind);
            let bytes = Rc::new(bytes);
            let frame = pool.frame(block);
            // Dirty from the start, as in the glue: a clean page is dropped on eviction.
            (frame.bytes, frame.dirty, frame.exclusive) = (bytes.clone(), true, true);
            drop(pool);
            added.push(MemoryLocked { pool: self.pool.clone(), block, lock: Lock::Exclusive, bytes });
        }
        Ok(added)
    }

    fn write(&self, pages: &mut [&mut MemoryLocked], edit: impl FnOnce(&mut [PageMut<'_>]) -> Result<()>) -> Result<()> {
        assert!(pages.len() <= MAX_PAGES_PER_WRITE, "a write of {} pages, more than one WAL record holds", pages.len());
        let mut copies: Vec<Vec<u8>> = pages
            .iter()
            .map(|locked| {
                assert_eq!(locked.lock, Lock::Exclusive, "block {} is changed under a share lock", locked.block);
                locked.bytes.as_ref().clone()
            })
            .collect();
        {
            let mut views: Vec<PageMut<'_>> = copies.iter_mut().map(|c| PageMut::new(c)).collect();
            // An error leaves every page as it was, as an aborted generic WAL record does.
            edit(&mut views)?;
        }
        let mut pool = self.pool.borrow_mut();
        let mut record = Vec::with_capacity(pages.len());
        for (locked, copy) in pages.iter_mut().zip(copies) {
            let bytes = Rc::new(copy);
            let frame = pool.frame(locked.block);
            (frame.bytes, frame.dirty) = (bytes.clone(), true);
            locked.bytes = bytes.clone();
            record.push((locked.block, bytes));
        }
        pool.wal.push(record);
        Ok(())
    }

    fn blocks(&self) -> u32 {
        self.pool.borrow().disk.len() as u32
    }

    fn corrupt(&self, block: Option<u32>, what: &str) -> Error {
        corrupt_index(None, block, what)
    }

    fn prefetch(&self, block: u32, offset: usize, len: usize) {
        self.pool.borrow_mut().prefetched.push((block, offset, len));
    }
}
