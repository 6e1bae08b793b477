//! The index's pages in PostgreSQL: `PgStore` implements `quantvec_core::ivf::paged::Store`
//! over shared buffers and generic WAL, and each backend keeps what it read of an index
//! until the index is rebuilt.
//!
//! All the unsafe buffer access of the index is here. The invariant it relies on: a page
//! is read or written only while its buffer is pinned and locked (shared to read,
//! exclusive to write), which `PgLocked` guarantees for its lifetime; writes go through
//! `Store::write`, which marks the buffers dirty and WAL-logs them.

use std::rc::Rc;

use pgrx::pg_sys;
use quantvec_core::ivf::paged::{self, Kind, Lock, Locked, Opened, Page, PageMut, Store, PAGE_SIZE};
use quantvec_core::ivf::ItemPointer;
use quantvec_core::{kernels, Error, Result};

use crate::compat;
use crate::error::OrRaise;

const _: () = assert!(pg_sys::BLCKSZ as usize == PAGE_SIZE, "quantvec's pages are PostgreSQL's blocks");
const _: () = assert!(std::mem::offset_of!(pg_sys::PageHeaderData, pd_linp) == paged::page::HEADER);

/// How a store's writes reach the WAL.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Logging {
    /// Each write is one generic WAL record.
    Records,
    /// A build: pages are written directly and WAL-logged wholesale when it ends.
    AtBuildEnd,
}

/// What a store does between pages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Lets a cancel in.
    Interrupts,
    /// Vacuum's cost-based delay, which lets a cancel in too.
    Vacuum,
}

/// An index's pages in shared buffers (see the module comment).
pub struct PgStore<'a> {
    index: pg_sys::Relation,
    fork: pg_sys::ForkNumber::Type,
    logging: Logging,
    pace: Pace,
    hints: Option<&'a BufferHints>,
}

impl<'a> PgStore<'a> {
    /// The main fork, each write a WAL record.
    pub fn new(index: pg_sys::Relation) -> PgStore<'a> {
        PgStore { index, fork: pg_sys::ForkNumber::MAIN_FORKNUM, logging: Logging::Records, pace: Pace::Interrupts, hints: None }
    }

    /// A build's store: `fork`, logged at the end.
    pub fn building(index: pg_sys::Relation, fork: pg_sys::ForkNumber::Type) -> PgStore<'a> {
        PgStore { fork, logging: Logging::AtBuildEnd, ..Self::new(index) }
    }

    /// Share locks try the buffers that last held their blocks first.
    pub fn with_hints(self, hints: &'a BufferHints) -> PgStore<'a> {
        PgStore { hints: Some(hints), ..self }
    }

    /// Vacuum's store: vacuum's delay between pages.
    pub fn vacuuming(self) -> PgStore<'a> {
        PgStore { pace: Pace::Vacuum, ..self }
    }

    /// Pins `block`, through the buffer hints where there are some.
    fn pin(&self, block: u32) -> Result<Pinned> {
        if block == pg_sys::InvalidBlockNumber {
            return Err(self.corrupt(None, "a link points to an invalid block"));
        }
        let hints = self.hints.filter(|_| self.fork == pg_sys::ForkNumber::MAIN_FORKNUM);
        if let Some(recent) = hints.and_then(|h| h.get(block)) {
            // SAFETY: index is an open relation; any buffer number may be tried.
            if unsafe { compat::read_recent_buffer(self.index, block, recent) } {
                return Ok(Pinned { buffer: recent, block });
            }
        }
        // SAFETY: index is an open relation; ReadBufferExtended returns a pinned buffer or
        // raises an ERROR (for a block past the end, too).
        let buffer = unsafe { pg_sys::ReadBufferExtended(self.index, self.fork, block, pg_sys::ReadBufferMode::RBM_NORMAL, std::ptr::null_mut()) };
        if let Some(hints) = hints {
            hints.set(block, buffer);
        }
        Ok(Pinned { buffer, block })
    }
}

/// A pinned, locked buffer; unlocked and released on drop.
pub struct PgLocked {
    buffer: pg_sys::Buffer,
    /// The buffer's page, which stays put while the buffer is pinned.
    page: *mut u8,
    block: u32,
    lock: Lock,
    /// Added by `extend` and not yet logged: its first record carries a full image.
    fresh: bool,
}

impl PgLocked {
    /// Takes over a pinned buffer that the caller has just locked as `lock`.
    fn new(buffer: pg_sys::Buffer, block: u32, lock: Lock, fresh: bool) -> PgLocked {
        // SAFETY: the buffer is pinned, so its page address is valid and fixed.
        let page = unsafe { pg_sys::BufferGetPage(buffer) }.cast::<u8>();
        PgLocked { buffer, page, block, lock, fresh }
    }
}

impl Locked for PgLocked {
    fn block(&self) -> u32 {
        self.block
    }

    fn page(&self) -> Page<'_> {
        // SAFETY: locked at least shared for our lifetime; a pinned buffer's page is
        // PAGE_SIZE bytes that stay put while pinned.
        Page::new(unsafe { std::slice::from_raw_parts(self.page, PAGE_SIZE) })
    }
}

impl PgLocked {
    /// The buffer's page to change.
    ///
    /// # Safety
    /// The buffer must be locked exclusively (checked), and the change WAL-logged.
    unsafe fn page_mut(&mut self) -> PageMut<'_> {
        assert_eq!(self.lock, Lock::Exclusive, "a page is changed under an exclusive lock");
        // SAFETY: pinned and exclusively locked for our lifetime, so no one else reads or
        // writes it; the page is changed only through the returned borrow.
        PageMut::new(unsafe { std::slice::from_raw_parts_mut(self.page, PAGE_SIZE) })
    }
}

impl Drop for PgLocked {
    fn drop(&mut self) {
        // SAFETY: we pinned and locked the buffer and release it exactly once.
        unsafe { pg_sys::UnlockReleaseBuffer(self.buffer) };
    }
}

/// Asks the CPU to fetch `len` bytes at `offset` of the data of the page at `page`, and
/// the header and special space that reading them checks first.
fn prefetch_page(page: *const u8, offset: usize, len: usize) {
    kernels::prefetch(page, paged::page::HEADER);
    kernels::prefetch(page.wrapping_add(PAGE_SIZE - paged::page::SPECIAL), paged::page::SPECIAL);
    kernels::prefetch(page.wrapping_add(paged::page::HEADER + offset), len);
}

/// A pinned buffer, not locked: its page stays in memory but may change; released on drop
/// unless locked.
struct Pinned {
    buffer: pg_sys::Buffer,
    block: u32,
}

impl Pinned {
    /// Asks the CPU to fetch `len` bytes at `offset` of the page's data, and the header and
    /// special space that reading them checks first: a hint, which reads nothing (the page
    /// may be changing, as it is not locked).
    fn prefetch(&self, offset: usize, len: usize) {
        // SAFETY: a pinned buffer's page stays put; only its address is taken.
        let page = unsafe { pg_sys::BufferGetPage(self.buffer) }.cast::<u8>();
        prefetch_page(page, offset, len);
    }

    fn lock(self, lock: Lock) -> PgLocked {
        let pinned = std::mem::ManuallyDrop::new(self);
        let mode = match lock {
            Lock::Share => pg_sys::BUFFER_LOCK_SHARE,
            Lock::Exclusive => pg_sys::BUFFER_LOCK_EXCLUSIVE,
        };
        // SAFETY: the buffer is pinned by us; PgLocked releases pin and lock together.
        unsafe { pg_sys::LockBuffer(pinned.buffer, mode as i32) };
        PgLocked::new(pinned.buffer, pinned.block, lock, false)
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        // SAFETY: we pinned the buffer and release it exactly once.
        unsafe { pg_sys::ReleaseBuffer(self.buffer) };
    }
}

/// A generic WAL record under construction; aborted when dropped unfinished (an error
/// while its pages were being changed: they stay as they were).
struct Record(*mut pg_sys::GenericXLogState);

impl Drop for Record {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: an unfinished record is aborted exactly once.
            unsafe { pg_sys::GenericXLogAbort(self.0) };
        }
    }
}

/// Vectors read at once by a batch, their buffers pinned together: few enough that the
/// pins fit PostgreSQL's array of a backend's own pins (8, beside the heap page the
/// executor may hold) rather than spilling to its hash table.
const ITEMS_PER_BATCH: usize = 6;

impl Store for PgStore<'_> {
    type Locked = PgLocked;

    #[inline]
    fn lock(&self, block: u32, lock: Lock) -> Result<PgLocked> {
        Ok(self.pin(block)?.lock(lock))
    }

    fn extend(&self, kind: Kind, count: usize) -> Result<Vec<PgLocked>> {
        // SAFETY: the relation extension lock serialises extension, so the new blocks are
        // consecutive; P_NEW returns a new, pinned, zeroed buffer which nobody else can
        // reach until a page links to it.
        let run: Vec<PgLocked> = unsafe {
            pg_sys::LockRelationForExtension(self.index, pg_sys::ExclusiveLock as i32);
            let run = (0..count)
                .map(|_| {
                    let buffer =
                        pg_sys::ReadBufferExtended(self.index, self.fork, pg_sys::InvalidBlockNumber, pg_sys::ReadBufferMode::RBM_NORMAL, std::ptr::null_mut());
                    pg_sys::LockBuffer(buffer, pg_sys::BUFFER_LOCK_EXCLUSIVE as i32);
                    PgLocked::new(buffer, pg_sys::BufferGetBlockNumber(buffer), Lock::Exclusive, true)
                })
                .collect();
            pg_sys::UnlockRelationForExtension(self.index, pg_sys::ExclusiveLock as i32);
            run
        };
        Ok(run
            .into_iter()
            .map(|mut locked| {
                // Dirty from the moment it is initialised: a clean buffer may be evicted
                // (an index larger than shared_buffers) and read back as zeros, and a later
                // write would then land where the page header belongs. Its first write logs
                // it whole (or the build's log_newpage_range does).
                // SAFETY: the buffer is pinned and exclusively locked; the page is logged as
                // just said.
                unsafe {
                    pg_sys::MarkBufferDirty(locked.buffer);
                    locked.page_mut().init(kind);
                }
                locked
            })
            .collect())
    }

    fn write(&self, pages: &mut [&mut PgLocked], edit: impl FnOnce(&mut [PageMut<'_>]) -> Result<()>) -> Result<()> {
        if self.logging == Logging::AtBuildEnd {
            let mut views: Vec<PageMut<'_>> = pages
                .iter_mut()
                .map(|locked| {
                    // SAFETY: exclusively locked (checked by page_mut); the build logs every
                    // page when it ends.
                    unsafe {
                        pg_sys::MarkBufferDirty(locked.buffer);
                        locked.page_mut()
                    }
                })
                .collect();
            return edit(&mut views);
        }
        // SAFETY: index is an open relation.
        let mut record = Record(unsafe { pg_sys::GenericXLogStart(self.index) });
        let mut views = Vec::with_capacity(pages.len());
        for locked in pages.iter() {
            assert_eq!(locked.lock, Lock::Exclusive, "a page is changed under an exclusive lock");
            let flags = if locked.fresh { pg_sys::GENERIC_XLOG_FULL_IMAGE as i32 } else { 0 };
            // SAFETY: GenericXLogRegisterBuffer returns a PAGE_SIZE working copy owned by the
            // record, valid until it is finished or aborted, which `views` does not outlive;
            // the buffer stays locked by the caller.
            views.push(PageMut::new(unsafe {
                std::slice::from_raw_parts_mut(pg_sys::GenericXLogRegisterBuffer(record.0, locked.buffer, flags).cast::<u8>(), PAGE_SIZE)
            }));
        }
        edit(&mut views)?;
        drop(views);
        // SAFETY: the record is live; finishing it applies the copies to the buffers, marks
        // them dirty and logs them.
        unsafe { pg_sys::GenericXLogFinish(record.0) };
        record.0 = std::ptr::null_mut();
        for locked in pages.iter_mut() {
            locked.fresh = false;
        }
        Ok(())
    }

    fn blocks(&self) -> u32 {
        // SAFETY: index is open.
        unsafe { pg_sys::RelationGetNumberOfBlocksInFork(self.index, self.fork) }
    }

    fn corrupt(&self, block: Option<u32>, what: &str) -> Error {
        paged::store::corrupt_index(Some(&name(self.index)), block, what)
    }

    fn pause(&self) {
        match self.pace {
            Pace::Interrupts => check_for_interrupts(),
            // SAFETY: called between pages with none locked.
            Pace::Vacuum => unsafe { compat::vacuum_delay_point() },
        }
    }

    /// Through the buffer that last held `block` here, if any: its descriptor, which pinning
    /// it locks, and its page. Unpinned, the buffer may hold another page by now, which
    /// only wastes the hint.
    fn prefetch(&self, block: u32, offset: usize, len: usize) {
        let Some(buffer) = self.hints.filter(|_| self.fork == pg_sys::ForkNumber::MAIN_FORKNUM).and_then(|h| h.get(block)) else {
            return;
        };
        // SAFETY: hints hold shared buffer numbers (1 to NBuffers) that ReadBuffer returned
        // here, and the descriptors and pages of shared buffers stay mapped for the
        // server's life: only their addresses are computed, for prefetches, which cannot
        // fault and read nothing.
        let (descriptor, page) = unsafe { (pg_sys::BufferDescriptors.add(buffer as usize - 1).cast::<u8>(), pg_sys::BufferGetPage(buffer).cast::<u8>()) };
        kernels::prefetch(descriptor, std::mem::size_of::<pg_sys::BufferDescPadded>());
        prefetch_page(page, offset, len);
    }

    fn read_items(&self, slots: &[ItemPointer], len: usize, kind: Kind, visit: &mut dyn FnMut(&[u8])) -> Result<()> {
        // Pin the pages and prefetch the items of a batch first, so that their cache misses
        // overlap.
        for batch in slots.chunks(ITEMS_PER_BATCH) {
            let pinned: Vec<Pinned> = batch.iter().map(|slot| self.pin(slot.block)).collect::<Result<_>>()?;
            for (page, slot) in pinned.iter().zip(batch) {
                page.prefetch(usize::from(slot.offset) * len, len);
            }
            for (page, slot) in pinned.into_iter().zip(batch) {
                let locked = page.lock(Lock::Share);
                let page = paged::store::page_of(self, &locked, kind)?;
                let at = usize::from(slot.offset) * len;
                if let Some(item) = page.data().get(at..at + len) {
                    visit(item);
                }
            }
        }
        Ok(())
    }
}

/// An ERROR for a damaged index.
pub fn corrupt(index: pg_sys::Relation, what: &str) -> ! {
    crate::error::raise(PgStore::new(index).corrupt(None, what))
}

/// The index's name.
pub fn name(index: pg_sys::Relation) -> String {
    // SAFETY: an open relation's pg_class row holds its NUL-terminated name.
    unsafe { std::ffi::CStr::from_ptr((*(*index).rd_rel).relname.data.as_ptr()) }.to_string_lossy().into_owned()
}

/// Everything about an index that does not change until it is rebuilt, read once per
/// backend and build.
pub struct Cached {
    pub opened: Opened,
    /// The buffers that last held the index's blocks in this backend.
    pub hints: BufferHints,
    /// The probes and rescore factor chosen for this session's settings.
    pub settings: crate::guc::SettingsMemo,
}

impl Cached {
    /// The probes and rescore factor a query uses now.
    pub fn search_settings(&self) -> crate::guc::SearchSettings {
        self.settings.get(self.opened.quantizer.lists(), &self.opened.calibration)
    }

    /// The index's store, with this backend's buffer hints.
    pub fn store<'a>(&'a self, index: pg_sys::Relation) -> PgStore<'a> {
        PgStore::new(index).with_hints(&self.hints)
    }
}

/// Per block, the shared buffer that last held it here (0, no buffer, where unknown): a
/// hint only, which `read_recent_buffer` checks before using.
#[derive(Default)]
pub struct BufferHints(std::cell::RefCell<Vec<pg_sys::Buffer>>);

impl BufferHints {
    fn get(&self, block: u32) -> Option<pg_sys::Buffer> {
        self.0.borrow().get(block as usize).copied().filter(|&b| b != pg_sys::InvalidBuffer as pg_sys::Buffer)
    }

    fn set(&self, block: u32, buffer: pg_sys::Buffer) {
        let mut hints = self.0.borrow_mut();
        let at = block as usize;
        // Local buffers (temporary indexes) are not hinted: before 15.3, ReadRecentBuffer
        // looked them up among the shared buffers.
        if at >= MAX_HINTED_BLOCKS || buffer < 0 {
            return;
        }
        if at >= hints.len() {
            hints.resize(at + 1, pg_sys::InvalidBuffer as pg_sys::Buffer);
        }
        hints[at] = buffer;
    }
}

thread_local! {
    static CACHE: std::cell::RefCell<Vec<(pg_sys::Oid, u64, Rc<Cached>)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Blocks of an index that get buffer hints (16 GiB of index, 8 MiB of hints).
const MAX_HINTED_BLOCKS: usize = 1 << 21;

/// Indexes whose metadata a backend keeps.
const CACHED_INDEXES: usize = 16;

/// The index's metapage, centroids, quantizer and list heads, from the backend's cache when
/// the build has not changed.
pub fn cached(index: pg_sys::Relation) -> Rc<Cached> {
    let store = PgStore::new(index);
    let build_id = paged::directory::read_meta(&store).or_raise().build_id;
    // SAFETY: index is an open relation.
    let oid = unsafe { (*index).rd_id };
    if let Some(hit) = CACHE.with(|c| c.borrow().iter().find(|(o, b, _)| *o == oid && *b == build_id).map(|e| e.2.clone())) {
        return hit;
    }
    // A miss (once per build and backend) reads the metapage again, with its calibration.
    let cached = Rc::new(Cached { opened: paged::open(&store, kernels::active()).or_raise(), hints: BufferHints::default(), settings: Default::default() });
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        c.retain(|(o, _, _)| *o != oid);
        if c.len() >= CACHED_INDEXES {
            c.remove(0);
        }
        c.push((oid, cached.opened.meta.build_id, cached.clone()));
    });
    cached
}

/// Drops this backend's cached copy of the index's metadata (a build that read its own
/// pages before it finished its metapage).
pub fn forget_cached(index: pg_sys::Relation) {
    // SAFETY: index is an open relation.
    let oid = unsafe { (*index).rd_id };
    CACHE.with(|c| c.borrow_mut().retain(|(o, _, _)| *o != oid));
}

/// Calls Postgres's interrupt check (cancel, terminate) between units of work.
#[inline]
pub fn check_for_interrupts() {
    pgrx::check_for_interrupts!();
}

/// What a search does with a damaged page: an ERROR.
pub fn fail(error: Error) -> ! {
    crate::error::raise(error)
}
