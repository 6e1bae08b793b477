//! Pages of a quantvec index, and the buffer, lock and WAL handling around them.
//!
//! Block 0 is the metapage. A build then writes the centroid pages (the centroids as one
//! float stream), the directory pages (one `ListEntry` per list), code pages and vector
//! pages. Code pages hold stored FastScan blocks, each preceded by a link to the next
//! block of its list: a list is a chain of blocks, and a page is shared by the short tails
//! of many lists, so a list of a few blocks does not cost a page of its own. A block wider
//! than a page (many dimensions) spans up to three consecutive pages of its own, which are
//! locked together, in ascending order, to read or change it. Vector pages
//! hold fixed-size vector slots of every list, chained through their special space.
//! Every page keeps its data between the page header and `pd_lower` and leaves
//! `pd_lower..pd_upper` empty, the standard layout that full-page images and generic WAL
//! rely on.
//!
//! All the unsafe buffer access of the index is here. The invariant it relies on: a page
//! is read or written only while its buffer is pinned and locked (shared to read,
//! exclusive to write), which `Locked` guarantees for its lifetime; writes to shared
//! pages go through `Wal`, which logs them.

use std::rc::Rc;
use std::sync::Arc;

use pgrx::pg_sys;
use quantvec_core::ivf::meta::Meta;
use quantvec_core::ivf::recall::Calibration;
use quantvec_core::ivf::{ItemPointer, Layout};
use quantvec_core::kernels;

use crate::compat;
use crate::error::OrRaise;

pub const META_BLOCK: u32 = 0;
const PAGE_SIZE: usize = pg_sys::BLCKSZ as usize;
/// SizeOfPageHeaderData: the header up to its line-pointer array (empty on our pages).
const HEADER: usize = std::mem::offset_of!(pg_sys::PageHeaderData, pd_linp);
const SPECIAL: usize = 8;
/// Bytes of data a page holds.
pub const CAPACITY: usize = PAGE_SIZE - HEADER - SPECIAL;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Kind {
    Meta = 1,
    Centroids = 2,
    Directory = 3,
    Codes = 4,
    Vectors = 5,
}

/// How a page is locked: shared to read it, exclusively to change it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lock {
    Share,
    Exclusive,
}

/// A pinned, locked buffer; unlocked and released on drop.
pub struct Locked {
    index: pg_sys::Relation,
    buffer: pg_sys::Buffer,
    block: u32,
}

impl Locked {
    /// Reads `block` of `index` and locks it.
    pub fn read(index: pg_sys::Relation, block: u32, lock: Lock) -> Locked {
        Self::read_fork(index, pg_sys::ForkNumber::MAIN_FORKNUM, block, lock)
    }

    /// `read` in a given fork (builds also write the init fork).
    pub fn read_fork(index: pg_sys::Relation, fork: pg_sys::ForkNumber::Type, block: u32, lock: Lock) -> Locked {
        Pinned::read_fork(index, fork, block).lock(lock)
    }

    /// `read` to share-lock a block of the main fork, through the buffer hints.
    pub fn read_hinted(index: pg_sys::Relation, block: u32, hints: &BufferHints) -> Locked {
        Pinned::read_hinted(index, block, hints).lock(Lock::Share)
    }

    /// Appends a new block to `fork` of `index`, locked exclusively and initialised as
    /// an empty page of `kind`.
    pub fn extend(index: pg_sys::Relation, fork: pg_sys::ForkNumber::Type, kind: Kind) -> Locked {
        Self::extend_run(index, fork, kind, 1).pop().expect("one page")
    }

    /// Appends `count` consecutive blocks (for a wide block), like `extend`.
    pub fn extend_run(index: pg_sys::Relation, fork: pg_sys::ForkNumber::Type, kind: Kind, count: usize) -> Vec<Locked> {
        // SAFETY: the relation extension lock serialises extension, so the new blocks are
        // consecutive; P_NEW returns a new, pinned, zeroed buffer which nobody else can
        // reach until a page links to it.
        let run: Vec<Locked> = unsafe {
            pg_sys::LockRelationForExtension(index, pg_sys::ExclusiveLock as i32);
            let run = (0..count)
                .map(|_| {
                    let buffer = pg_sys::ReadBufferExtended(index, fork, pg_sys::InvalidBlockNumber, pg_sys::ReadBufferMode::RBM_NORMAL, std::ptr::null_mut());
                    pg_sys::LockBuffer(buffer, pg_sys::BUFFER_LOCK_EXCLUSIVE as i32);
                    Locked { index, buffer, block: pg_sys::BufferGetBlockNumber(buffer) }
                })
                .collect();
            pg_sys::UnlockRelationForExtension(index, pg_sys::ExclusiveLock as i32);
            run
        };
        run.into_iter()
            .map(|mut locked| {
                // Dirty from the moment it is initialised: a clean buffer may be evicted
                // (an index larger than shared_buffers) and read back as zeros, and a later
                // write would then land where the page header belongs. The page is
                // WAL-covered by the caller: a full image in its generic record, or the
                // build's log_newpage_range.
                locked.page_mut_unlogged().init(kind);
                locked
            })
            .collect()
    }

    pub fn block(&self) -> u32 {
        self.block
    }

    pub fn index(&self) -> pg_sys::Relation {
        self.index
    }

    /// # Safety
    /// The caller must hold the buffer locked exclusively, and writes to shared pages must
    /// be WAL-logged.
    unsafe fn raw_page_mut(&mut self) -> &mut [u8] {
        // SAFETY: a pinned buffer's page is PAGE_SIZE bytes that stay put while pinned.
        unsafe { std::slice::from_raw_parts_mut(pg_sys::BufferGetPage(self.buffer).cast::<u8>(), PAGE_SIZE) }
    }

    /// The page, to read, refusing one that is not of `kind` (a corrupt link or a foreign
    /// page is an ERROR, never misread).
    pub fn page_of(&self, kind: Kind) -> Page<'_> {
        let page = self.page();
        if page.kind() != kind as u16 {
            corrupt_at(self.index, self.block, &format!("it is not a {kind:?} page (found kind {})", page.kind()));
        }
        page
    }

    /// The page, to read.
    pub fn page(&self) -> Page<'_> {
        // SAFETY: locked at least shared for our lifetime; a pinned buffer's page is
        // PAGE_SIZE bytes that stay put while pinned.
        Page(unsafe { std::slice::from_raw_parts(pg_sys::BufferGetPage(self.buffer).cast::<u8>(), PAGE_SIZE) })
    }

    /// Marks the buffer dirty to write it directly (during a build, whose pages are
    /// WAL-logged wholesale at its end; or a page just added, WAL-logged by its caller).
    pub fn page_mut_unlogged(&mut self) -> PageMut<'_> {
        // SAFETY: pinned and exclusively locked by the build, its only user.
        unsafe { pg_sys::MarkBufferDirty(self.buffer) };
        // SAFETY: as above; the page is changed only through the returned borrow.
        PageMut(unsafe { self.raw_page_mut() })
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        // SAFETY: we pinned and locked the buffer and release it exactly once.
        unsafe { pg_sys::UnlockReleaseBuffer(self.buffer) };
    }
}

/// A pinned buffer, not locked: its page stays in memory but may change; released on
/// drop.
pub struct Pinned {
    index: pg_sys::Relation,
    buffer: pg_sys::Buffer,
    block: u32,
}

impl Pinned {
    /// Reads `block` of `fork` of `index` and pins it.
    pub fn read_fork(index: pg_sys::Relation, fork: pg_sys::ForkNumber::Type, block: u32) -> Pinned {
        if block == pg_sys::InvalidBlockNumber {
            corrupt(index, "a link points to an invalid block");
        }
        // SAFETY: index is an open relation; ReadBufferExtended returns a pinned buffer or
        // raises an ERROR (for a block past the end, too).
        let buffer = unsafe { pg_sys::ReadBufferExtended(index, fork, block, pg_sys::ReadBufferMode::RBM_NORMAL, std::ptr::null_mut()) };
        Pinned { index, buffer, block }
    }

    /// Pins a block of the main fork, trying the buffer that last held it first
    /// (`ReadRecentBuffer` checks the buffer's tag and pins it without a lookup in the
    /// shared buffer mapping table, which is most of the cost of reading a cached page).
    pub fn read_hinted(index: pg_sys::Relation, block: u32, hints: &BufferHints) -> Pinned {
        if let Some(recent) = hints.get(block) {
            // SAFETY: index is an open relation; any buffer number may be tried.
            if unsafe { compat::read_recent_buffer(index, block, recent) } {
                return Pinned { index, buffer: recent, block };
            }
        }
        let pinned = Self::read_fork(index, pg_sys::ForkNumber::MAIN_FORKNUM, block);
        hints.set(block, pinned.buffer);
        pinned
    }

    /// Asks the CPU to fetch `len` bytes at `offset` of the page's data, and the header and
    /// special space that reading them checks first (each a cache line of its own, which
    /// would otherwise miss in turn): a hint, which reads nothing (the page may be
    /// changing, as it is not locked).
    pub fn prefetch(&self, offset: usize, len: usize) {
        // SAFETY: a pinned buffer's page stays put; only its address is taken.
        let page = unsafe { pg_sys::BufferGetPage(self.buffer) }.cast::<u8>();
        kernels::prefetch(page, HEADER);
        kernels::prefetch(page.wrapping_add(PAGE_SIZE - SPECIAL), SPECIAL);
        kernels::prefetch(page.wrapping_add(HEADER + offset), len);
    }

    /// Locks the page; the lock and the pin go together on drop.
    pub fn lock(self, lock: Lock) -> Locked {
        let pinned = std::mem::ManuallyDrop::new(self);
        let mode = match lock {
            Lock::Share => pg_sys::BUFFER_LOCK_SHARE,
            Lock::Exclusive => pg_sys::BUFFER_LOCK_EXCLUSIVE,
        };
        // SAFETY: the buffer is pinned by us; Locked releases pin and lock together.
        unsafe { pg_sys::LockBuffer(pinned.buffer, mode as i32) };
        Locked { index: pinned.index, buffer: pinned.buffer, block: pinned.block }
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        // SAFETY: we pinned the buffer and release it exactly once.
        unsafe { pg_sys::ReleaseBuffer(self.buffer) };
    }
}

/// A generic WAL record under construction: pages are changed through it and logged
/// together by `finish`; dropped unfinished, nothing is changed.
pub struct Wal {
    state: *mut pg_sys::GenericXLogState,
}

impl Wal {
    pub fn start(index: pg_sys::Relation) -> Wal {
        // SAFETY: index is an open relation.
        Wal { state: unsafe { pg_sys::GenericXLogStart(index) } }
    }

    /// The page of `locked` (which must be locked exclusively) to change in this record.
    pub fn page<'w>(&'w mut self, locked: &Locked) -> PageMut<'w> {
        self.register(locked, 0)
    }

    /// `page` for a page just added to the index, logged as a full image.
    pub fn new_page<'w>(&'w mut self, locked: &Locked) -> PageMut<'w> {
        self.register(locked, pg_sys::GENERIC_XLOG_FULL_IMAGE as i32)
    }

    fn register<'w>(&'w mut self, locked: &Locked, flags: i32) -> PageMut<'w> {
        // SAFETY: GenericXLogRegisterBuffer returns a PAGE_SIZE working copy owned by the
        // record, valid until finish or abort; the buffer stays locked by the caller.
        unsafe {
            let copy = pg_sys::GenericXLogRegisterBuffer(self.state, locked.buffer, flags);
            PageMut(std::slice::from_raw_parts_mut(copy.cast::<u8>(), PAGE_SIZE))
        }
    }

    pub fn finish(mut self) {
        // SAFETY: the state is live; finish consumes it.
        unsafe { pg_sys::GenericXLogFinish(self.state) };
        self.state = std::ptr::null_mut();
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        if !self.state.is_null() {
            // SAFETY: an unfinished record is aborted exactly once.
            unsafe { pg_sys::GenericXLogAbort(self.state) };
        }
    }
}

fn header(page: &[u8]) -> &pg_sys::PageHeaderData {
    // SAFETY: every page starts with a PageHeaderData; the page buffer is 8-byte aligned
    // (buffers are allocated aligned) and outlives the borrow.
    unsafe { &*page.as_ptr().cast::<pg_sys::PageHeaderData>() }
}

fn header_mut(page: &mut [u8]) -> &mut pg_sys::PageHeaderData {
    // SAFETY: as in `header`, through a unique borrow.
    unsafe { &mut *page.as_mut_ptr().cast::<pg_sys::PageHeaderData>() }
}

fn init_page(page: &mut [u8], kind: Kind) {
    // SAFETY: page is a whole PAGE_SIZE page that we own exclusively.
    unsafe { pg_sys::PageInit(page.as_mut_ptr().cast(), PAGE_SIZE, SPECIAL) };
    let mut page = PageMut(page);
    page.set_next(pg_sys::InvalidBlockNumber);
    page.0[PAGE_SIZE - SPECIAL + 4..PAGE_SIZE - SPECIAL + 6].copy_from_slice(&(kind as u16).to_ne_bytes());
}

/// A page to read: its data, next-page link and kind.
pub struct Page<'p>(&'p [u8]);

/// A page to write.
pub struct PageMut<'p>(&'p mut [u8]);

/// The used data of a page: between the header and pd_lower.
fn used(page: &[u8]) -> &[u8] {
    let lower = usize::from(header(page).pd_lower).clamp(HEADER, PAGE_SIZE - SPECIAL);
    &page[HEADER..lower]
}

impl Page<'_> {
    pub fn data(&self) -> &[u8] {
        used(self.0)
    }

    pub fn next(&self) -> u32 {
        u32::from_ne_bytes(self.0[PAGE_SIZE - SPECIAL..PAGE_SIZE - SPECIAL + 4].try_into().expect("4 bytes"))
    }

    pub fn kind(&self) -> u16 {
        u16::from_ne_bytes(self.0[PAGE_SIZE - SPECIAL + 4..PAGE_SIZE - SPECIAL + 6].try_into().expect("2 bytes"))
    }
}

impl PageMut<'_> {
    pub fn data(&self) -> &[u8] {
        used(self.0)
    }

    pub fn init(&mut self, kind: Kind) {
        init_page(self.0, kind);
    }

    pub fn set_next(&mut self, block: u32) {
        self.0[PAGE_SIZE - SPECIAL..PAGE_SIZE - SPECIAL + 4].copy_from_slice(&block.to_ne_bytes());
    }

    /// Appends `bytes` to the used data; false when they do not fit.
    pub fn append(&mut self, bytes: &[u8]) -> bool {
        let lower = usize::from(header(self.0).pd_lower);
        if lower < HEADER {
            // A new (all-zero) page: writing at pd_lower would overwrite its header.
            crate::error::raise_with(quantvec_core::ErrorKind::DataException, "quantvec index page was never initialised; REINDEX the index");
        }
        if lower + bytes.len() > PAGE_SIZE - SPECIAL {
            return false;
        }
        self.0[lower..lower + bytes.len()].copy_from_slice(bytes);
        header_mut(self.0).pd_lower = (lower + bytes.len()) as u16;
        true
    }

    /// Keeps the first `len` bytes of the used data (tests: a page as older versions left it).
    #[cfg(any(test, feature = "pg_test"))]
    pub fn truncate(&mut self, len: usize) {
        let lower = usize::from(header(self.0).pd_lower);
        header_mut(self.0).pd_lower = (HEADER + len).min(lower) as u16;
    }

    /// The used data, to change in place.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let lower = usize::from(header(self.0).pd_lower).clamp(HEADER, PAGE_SIZE - SPECIAL);
        &mut self.0[HEADER..lower]
    }
}

/// Bounds a walk along a chain of pages or blocks: a link that corruption turned into a
/// cycle is an ERROR naming the index and block, never an endless loop under a buffer
/// lock. A chain cannot be longer than the index has places for (`per_page` on each of
/// its pages); the relation's size is looked up only once a walk is long.
pub struct Steps {
    index: pg_sys::Relation,
    per_page: usize,
    taken: usize,
    limit: Option<usize>,
}

impl Steps {
    pub fn new(index: pg_sys::Relation, per_page: usize) -> Steps {
        Steps { index, per_page, taken: 0, limit: None }
    }

    /// Counts a step onto `block`.
    pub fn step(&mut self, block: u32) {
        self.taken += 1;
        if self.taken > 1 << 16 {
            let (index, per_page) = (self.index, self.per_page);
            // SAFETY: index is open.
            let limit = *self
                .limit
                .get_or_insert_with(|| unsafe { pg_sys::RelationGetNumberOfBlocksInFork(index, pg_sys::ForkNumber::MAIN_FORKNUM) } as usize * per_page);
            if self.taken > limit {
                corrupt_at(index, block, "a chain of pages or blocks loops");
            }
        }
    }
}

/// An ERROR for a damaged index.
pub fn corrupt(index: pg_sys::Relation, what: &str) -> ! {
    crate::error::raise_with(quantvec_core::ErrorKind::DataException, format!("quantvec index \"{}\" is corrupt: {what}; REINDEX the index", name(index)))
}

/// An ERROR for a damaged index, naming it and the block.
pub fn corrupt_at(index: pg_sys::Relation, block: u32, what: &str) -> ! {
    crate::error::raise_with(
        quantvec_core::ErrorKind::DataException,
        format!("quantvec index \"{}\" is corrupt at block {block}: {what}; REINDEX the index", name(index)),
    )
}

/// The index's name.
pub fn name(index: pg_sys::Relation) -> String {
    // SAFETY: an open relation's pg_class row holds its NUL-terminated name.
    unsafe { std::ffi::CStr::from_ptr((*(*index).rd_rel).relname.data.as_ptr()) }.to_string_lossy().into_owned()
}

/// Bytes before each stored block: the link to the next block of its list, padded.
pub const BLOCK_LINK: usize = 8;

pub fn stored_block_len(layout: &Layout) -> usize {
    BLOCK_LINK + layout.block_len()
}

/// Stored blocks per code page (at least 1: a wide block spans pages of its own).
pub fn blocks_per_page(layout: &Layout) -> usize {
    (CAPACITY / stored_block_len(layout)).max(1)
}

/// Pages a block wider than a page spans: the most a generic WAL record can change with the
/// page that links to a new block (4 pages in all).
pub const MAX_BLOCK_PAGES: usize = 3;

/// Consecutive pages a stored block spans: 1 where blocks fit a page (and share it), more
/// for a wide one (many dimensions), whose stored bytes are cut into page-sized parts.
pub fn pages_per_block(layout: &Layout) -> usize {
    stored_block_len(layout).div_ceil(CAPACITY)
}

/// Whether the layout's blocks are wide: each spanning pages of its own.
pub fn is_wide(layout: &Layout) -> bool {
    pages_per_block(layout) > 1
}

/// The part of a wide stored block that its `page`-th page holds.
pub fn wide_part(stored: &[u8], page: usize) -> &[u8] {
    &stored[(page * CAPACITY).min(stored.len())..((page + 1) * CAPACITY).min(stored.len())]
}

/// A wide stored block (its link and bytes) read from its consecutive pages from `first`,
/// all locked together so that it is read whole, with the locks still held.
pub fn read_wide(index: pg_sys::Relation, layout: &Layout, first: u32, lock: Lock, hints: Option<&BufferHints>) -> (Vec<Locked>, Vec<u8>) {
    let pages = pages_per_block(layout);
    let mut stored = Vec::with_capacity(stored_block_len(layout));
    let mut locks = Vec::with_capacity(pages);
    for page in 0..pages {
        let block = first + page as u32;
        let pinned = match hints {
            Some(hints) => Pinned::read_hinted(index, block, hints),
            None => Pinned::read_fork(index, pg_sys::ForkNumber::MAIN_FORKNUM, block),
        };
        let locked = pinned.lock(lock);
        stored.extend_from_slice(locked.page_of(Kind::Codes).data());
        locks.push(locked);
    }
    if stored.len() != stored_block_len(layout) {
        corrupt_at(index, first, &format!("the wide block there holds {} bytes, not {}", stored.len(), stored_block_len(layout)));
    }
    (locks, stored)
}

/// Writes a wide stored block back to the pages `read_wide` locked (exclusively).
pub fn write_wide(index: pg_sys::Relation, locks: &[Locked], stored: &[u8]) {
    let mut wal = Wal::start(index);
    for (page, locked) in locks.iter().enumerate() {
        wal.page(locked).data_mut().copy_from_slice(wide_part(stored, page));
    }
    wal.finish();
}

/// The stored block at `index` of a code page's data: its link and its bytes.
pub fn stored_block<'d>(layout: &Layout, data: &'d [u8], index: u16) -> Option<(ItemPointer, &'d [u8])> {
    let len = stored_block_len(layout);
    let at = usize::from(index) * len;
    let entry = data.get(at..at + len)?;
    Some((ItemPointer::read(entry), &entry[BLOCK_LINK..]))
}

/// A stored block's link and bytes, to change.
pub fn stored_block_mut<'d>(layout: &Layout, data: &'d mut [u8], index: u16) -> (&'d mut [u8], &'d mut [u8]) {
    let len = stored_block_len(layout);
    let at = usize::from(index) * len;
    data[at..at + len].split_at_mut(BLOCK_LINK)
}

/// A stored block with its link, for appending to a page.
pub fn stored_block_bytes(next: ItemPointer, block: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; BLOCK_LINK + block.len()];
    next.write(&mut out);
    out[BLOCK_LINK..].copy_from_slice(block);
    out
}

/// Everything about an index that does not change until it is rebuilt, read once per
/// backend and build.
pub struct Cached {
    pub meta: Meta,
    /// Recall at each search setting, measured by the build.
    pub calibration: Calibration,
    pub layout: Arc<Layout>,
    /// The first block of each list.
    pub heads: Vec<ItemPointer>,
    /// The buffers that last held the index's blocks in this backend.
    pub hints: BufferHints,
}

/// Per block, the shared buffer that last held it here (0, no buffer, where unknown): a
/// hint only, which `Pinned::read_hinted` checks before using.
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

/// The index's centroids, layout and list heads, from the backend's cache when the build
/// has not changed.
pub fn cached(index: pg_sys::Relation) -> Rc<Cached> {
    let build_id = super::directory::read_meta(index).build_id;
    // SAFETY: index is an open relation.
    let oid = unsafe { (*index).rd_id };
    if let Some(hit) = CACHE.with(|c| c.borrow().iter().find(|(o, b, _)| *o == oid && *b == build_id).map(|e| e.2.clone())) {
        return hit;
    }
    // A miss (once per build and backend) reads the metapage again, with its calibration.
    let (meta, calibration) = super::directory::read_meta_page(index);
    super::directory::check_meta(index, &meta);
    let mut centroids = Vec::with_capacity(meta.lists as usize * meta.dims as usize);
    for block in meta.centroid_start..meta.centroid_start + meta.centroid_pages {
        let locked = Locked::read(index, block, Lock::Share);
        let page = locked.page_of(Kind::Centroids);
        centroids.extend(quantvec_core::ivf::meta::centroids_from_bytes(page.data(), meta.centroid_exponent));
    }
    let entries = super::directory::read_directory(index, &meta);
    let layout = quantvec_core::ivf::Layout::new(kernels::active(), meta.metric, meta.dims as usize, meta.residual, centroids)
        .and_then(|layout| layout.with_code_bits(meta.code_bits))
        .and_then(|layout| layout.with_vector_bits(meta.vector_bits))
        .or_raise();
    let cached =
        Rc::new(Cached { heads: entries.iter().map(|e| e.head).collect(), layout: Arc::new(layout), meta, calibration, hints: BufferHints::default() });
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        c.retain(|(o, _, _)| *o != oid);
        if c.len() >= CACHED_INDEXES {
            c.remove(0);
        }
        c.push((oid, cached.meta.build_id, cached.clone()));
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
pub fn check_for_interrupts() {
    pgrx::check_for_interrupts!();
}
