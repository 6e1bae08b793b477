//! Building an index: sample rows (one heap pass), train the lists with k-means, then
//! assign, encode and write every row (a second heap pass).
//!
//! Rows stream into their lists: each list fills one code page and one vector page in
//! memory, whose blocks are allocated when the pages are started, so that a full page is
//! written once, already linked to its successor. Pages are written without WAL and
//! logged wholesale at the end, as other index builds do.

use std::ffi::c_void;
use std::sync::Arc;

use pgrx::pg_sys;
use pgrx::prelude::*;
use quantvec_core::ivf::build::{plan, Plan, Reservoir};
use quantvec_core::ivf::kmeans::{self, KMeans};
use quantvec_core::ivf::memory::MemoryIndex;
use quantvec_core::ivf::meta::{ListEntry, Meta};
use quantvec_core::ivf::recall::{self, Calibration, Offered, Truths};
use quantvec_core::ivf::search::Lists;
use quantvec_core::ivf::{block, EncodedRow, ItemPointer, Layout, Metric, KMEANS_ITERATIONS};
use quantvec_core::kernels;
use quantvec_core::ErrorKind;
use rayon::prelude::*;

use super::context::IndexErrors;
use super::directory::{self, ENTRIES_PER_PAGE};
use super::lists::PgLists;
use super::pages::{self, Kind, Lock, Locked, CAPACITY, META_BLOCK};
use super::{options, progress, OperatorClass, Shape};
use crate::compat;
use crate::error::{raise_with, OrRaise};
use crate::memory::RowContext;

/// Rows encoded together (in parallel) before they are written.
const BATCH_ROWS: usize = 4096;

pub const PHASE_SAMPLING: i64 = 2;
pub const PHASE_KMEANS: i64 = 3;
pub const PHASE_ASSIGNING: i64 = 4;
pub const PHASE_FINISHING: i64 = 5;
pub const PHASE_CALIBRATING: i64 = 6;

/// `ambuildphasename`.
#[pg_guard]
pub unsafe extern "C-unwind" fn ambuildphasename(phase: i64) -> *mut std::ffi::c_char {
    let name: &std::ffi::CStr = match phase {
        PHASE_SAMPLING => c"sampling rows",
        PHASE_KMEANS => c"computing centroids (k-means)",
        PHASE_ASSIGNING => c"assigning and writing rows",
        PHASE_FINISHING => c"writing metadata",
        PHASE_CALIBRATING => c"measuring recall",
        _ => return std::ptr::null_mut(),
    };
    name.as_ptr().cast_mut()
}

/// Calls `callback` for every live row of `heap` (see table_index_build_scan).
fn scan_heap(
    heap: pg_sys::Relation,
    index: pg_sys::Relation,
    index_info: *mut pg_sys::IndexInfo,
    callback: pg_sys::IndexBuildCallback,
    state: *mut c_void,
) -> f64 {
    // SAFETY: the heap's table AM is valid while the relation is open; the callback and
    // state are ours and live for the call. This is table_index_build_scan, which is an
    // inline function in C. An ERROR inside (a bad row, a cancel) comes back as a Rust
    // panic, so that the build's state (its threads too) is dropped on the way out.
    unsafe {
        let scan_range = (*(*heap).rd_tableam).index_build_range_scan.expect("table AM builds indexes");
        pg_sys::ffi::pg_guard_ffi_boundary(|| {
            scan_range(heap, index, index_info, true, false, true, 0, pg_sys::InvalidBlockNumber, callback, state, std::ptr::null_mut())
        })
    }
}

/// The row's vector from the indexed column's datum (None for NULL).
unsafe fn datum_payload<'a>(values: *mut pg_sys::Datum, isnull: *mut bool) -> Option<&'a [u8]> {
    // SAFETY: a build callback gets one value and null flag per index column.
    unsafe {
        if *isnull {
            return None;
        }
        Some(crate::varlena::payload(*values))
    }
}

/// Floats of an indexed value: dequantized codes, or ±1 per bit.
fn floats(shape: &Shape, payload: &[u8]) -> Vec<f32> {
    quantvec_core::ivf::stored_floats(shape.metric, shape.vector_bits, payload).or_raise()
}

fn check_dims(shape: &Shape, dims: usize) {
    if dims != shape.dims {
        raise_with(ErrorKind::DataException, format!("expected {} dimensions, not {dims}", shape.dims));
    }
}

struct SamplingState {
    class: OperatorClass,
    code_bits: u8,
    /// Known from the column, or from the first row when the column declares none.
    shape: Option<Shape>,
    /// Bytes the sample may take.
    budget: usize,
    reservoir: Option<Reservoir>,
    row_memory: RowContext,
}

/// What a build may hold in memory at a time (its sample, or its code blocks copied for the
/// recall calibration): half of `maintenance_work_mem`, in bytes.
fn half_of_maintenance_work_mem() -> usize {
    // SAFETY: reading an integer GUC (kilobytes).
    unsafe { pg_sys::maintenance_work_mem }.max(64) as usize * 1024 / 2
}

/// Rows of `dims` floats that fit in `budget` bytes.
fn sample_capacity(budget: usize, dims: usize) -> usize {
    budget / (4 * dims).max(1)
}

#[pg_guard]
unsafe extern "C-unwind" fn sample_row(
    _index: pg_sys::Relation,
    tid: pg_sys::ItemPointer,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    _alive: bool,
    state: *mut c_void,
) {
    // SAFETY: state is the SamplingState passed to scan_heap.
    let state = unsafe { &mut *state.cast::<SamplingState>() };
    // SAFETY: tid points at the heap tuple's id for this call.
    let tid = unsafe { super::tid_from_pg(&*tid) };
    let row_memory = &state.row_memory;
    let seen = row_memory.run(|| {
        // SAFETY: called by the build scan with this index's values.
        let payload = unsafe { datum_payload(values, isnull) }?;
        let (class, code_bits) = (state.class, state.code_bits);
        let dims = || quantvec_core::ivf::stored_dims(class.metric, class.vector_bits, payload).or_raise();
        let shape = &*state.shape.get_or_insert_with(|| Shape::new(class, code_bits, dims()));
        let capacity = sample_capacity(state.budget, shape.dims);
        let reservoir = state.reservoir.get_or_insert_with(|| Reservoir::new(shape.dims, capacity));
        reservoir.offer(tag_of(tid), || {
            let x = floats(shape, payload);
            check_dims(shape, x.len());
            x
        });
        Some(reservoir.seen())
    });
    if seen.is_some_and(|seen| seen % 1024 == 0) {
        pages::check_for_interrupts();
    }
}

/// A heap tid as a reservoir tag, and back.
fn tag_of(tid: ItemPointer) -> u64 {
    u64::from(tid.block) << 16 | u64::from(tid.offset)
}

fn tid_of(tag: u64) -> ItemPointer {
    ItemPointer { block: (tag >> 16) as u32, offset: tag as u16 }
}

/// Writes an index's code and vector pages during a build.
///
/// Each list gathers its FastScan blocks in memory; a page's worth of full blocks is
/// written as one page of that list (so scans read long lists page by page), and what is
/// left at the end (the short tail of every list) is packed into shared pages. Vectors go
/// to one chain of pages in arrival order. Blocks link to their list's next block, which
/// for a just-written page is not known yet: the link is patched when the next block is
/// placed.
struct Writer {
    index: pg_sys::Relation,
    fork: pg_sys::ForkNumber::Type,
    layout: Arc<Layout>,
    lists: Vec<ListBlocks>,
    /// The vector page being filled: its block and data.
    vectors: Option<(u32, Vec<u8>)>,
    vector_head: u32,
    rows: u64,
}

#[derive(Default)]
struct ListBlocks {
    /// Blocks not yet written, the last one being filled.
    pending: Vec<Vec<u8>>,
    head: Option<ItemPointer>,
    /// The list's last written block, whose link the next placed block patches.
    last: Option<ItemPointer>,
}

impl Writer {
    fn allocate(&self, kind: Kind) -> u32 {
        Locked::extend(self.index, self.fork, kind).block()
    }

    /// Writes `data` to the page at `block` (allocated earlier), linked to `next`.
    fn write_page(&self, block: u32, kind: Kind, data: &[u8], next: u32) {
        let mut locked = Locked::read_fork(self.index, self.fork, block, Lock::Exclusive);
        let mut target = locked.page_mut_unlogged();
        target.init(kind);
        assert!(target.append(data), "a page's data fits its page");
        target.set_next(next);
    }

    /// Points the link of the written block `at` to `next`.
    fn patch_link(&self, at: ItemPointer, next: ItemPointer) {
        let mut locked = Locked::read_fork(self.index, self.fork, at.block, Lock::Exclusive);
        let mut page = locked.page_mut_unlogged();
        let link = if pages::is_wide(&self.layout) {
            &mut page.data_mut()[..pages::BLOCK_LINK]
        } else {
            pages::stored_block_mut(&self.layout, page.data_mut(), at.offset).0
        };
        next.write(link);
    }

    /// Writes a wide block to consecutive new pages and links it after the list's blocks.
    fn write_wide_block(&mut self, list: usize, block: &[u8]) {
        let stored = pages::stored_block_bytes(ItemPointer::NONE, block);
        let first = self.allocate(Kind::Codes);
        for page in 1..pages::pages_per_block(&self.layout) {
            // Nothing else extends an index while it is built.
            assert_eq!(self.allocate(Kind::Codes), first + page as u32, "a wide block's pages are consecutive");
        }
        for page in 0..pages::pages_per_block(&self.layout) {
            self.write_page(first + page as u32, Kind::Codes, pages::wide_part(&stored, page), pg_sys::InvalidBlockNumber);
        }
        let at = ItemPointer { block: first, offset: 0 };
        self.chain(list, at, at);
    }

    /// Records that `first..=last` (already written, linked among themselves) follow
    /// the list's blocks so far.
    fn chain(&mut self, list: usize, first: ItemPointer, last: ItemPointer) {
        let state = &mut self.lists[list];
        state.head.get_or_insert(first);
        if let Some(previous) = state.last.replace(last) {
            self.patch_link(previous, first);
        }
    }

    /// Writes a list's pending blocks, all full, as one page of its own.
    fn write_list_page(&mut self, list: usize) {
        let blocks = std::mem::take(&mut self.lists[list].pending);
        if pages::is_wide(&self.layout) {
            for b in blocks {
                self.write_wide_block(list, &b);
            }
            return;
        }
        let block = self.allocate(Kind::Codes);
        let mut data = Vec::with_capacity(CAPACITY);
        for (i, b) in blocks.iter().enumerate() {
            let next = if i + 1 < blocks.len() { ItemPointer { block, offset: (i + 1) as u16 } } else { ItemPointer::NONE };
            data.extend(pages::stored_block_bytes(next, b));
        }
        self.write_page(block, Kind::Codes, &data, pg_sys::InvalidBlockNumber);
        self.chain(list, ItemPointer { block, offset: 0 }, ItemPointer { block, offset: (blocks.len() - 1) as u16 });
    }

    fn add_vector(&mut self, vector: &[u8]) -> ItemPointer {
        let len = self.layout.vector_len();
        if self.vectors.as_ref().is_none_or(|(_, data)| data.len() + len > CAPACITY) {
            let block = self.allocate(Kind::Vectors);
            if self.vector_head == pg_sys::InvalidBlockNumber {
                self.vector_head = block;
            }
            if let Some((full, data)) = self.vectors.replace((block, Vec::with_capacity(CAPACITY))) {
                self.write_page(full, Kind::Vectors, &data, block);
            }
        }
        let (block, data) = self.vectors.as_mut().expect("an open vector page");
        let slot = data.len() / len;
        data.extend_from_slice(vector);
        ItemPointer { block: *block, offset: slot as u16 }
    }

    /// Adds a row; returns where its entry points (its vector item, or the heap row).
    fn add(&mut self, row: &EncodedRow, tid: ItemPointer) -> ItemPointer {
        let target = if self.layout.has_vectors() { self.add_vector(&row.vector) } else { tid };
        let layout = &self.layout;
        let open = self.lists[row.list].pending.last().and_then(|b| block::free_slot(layout, b));
        let slot = match open {
            Some(slot) => slot,
            None => {
                if self.lists[row.list].pending.len() == pages::blocks_per_page(&self.layout) {
                    self.write_list_page(row.list);
                }
                self.lists[row.list].pending.push(block::empty(&self.layout));
                0
            }
        };
        let open_block = self.lists[row.list].pending.last_mut().expect("an open block");
        block::write_row(&self.layout, open_block, slot, row, target);
        self.rows += 1;
        target
    }

    /// Packs every list's remaining blocks (an empty block for an empty list, so that
    /// every list has a head) into shared pages.
    fn finish(mut self) -> Written {
        let per_page = pages::blocks_per_page(&self.layout);
        let mut shared: Option<(u32, Vec<u8>)> = None;
        for list in 0..self.lists.len() {
            let mut blocks = std::mem::take(&mut self.lists[list].pending);
            if blocks.is_empty() && self.lists[list].head.is_none() {
                blocks.push(block::empty(&self.layout));
            }
            if pages::is_wide(&self.layout) {
                for b in blocks {
                    self.write_wide_block(list, &b);
                }
                continue;
            }
            for b in blocks {
                let full = shared.as_ref().is_none_or(|(_, data)| data.len() / pages::stored_block_len(&self.layout) == per_page);
                if full {
                    let block = self.allocate(Kind::Codes);
                    if let Some((written, data)) = shared.replace((block, Vec::with_capacity(CAPACITY))) {
                        self.write_page(written, Kind::Codes, &data, pg_sys::InvalidBlockNumber);
                    }
                }
                let (block, data) = shared.as_mut().expect("a shared page");
                let at = ItemPointer { block: *block, offset: (data.len() / pages::stored_block_len(&self.layout)) as u16 };
                data.extend(pages::stored_block_bytes(ItemPointer::NONE, &b));
                // Link from the previous block of this list: written earlier, or just
                // before in this shared page (still in memory).
                let previous = self.lists[list].last;
                match previous {
                    Some(p) if p.block == at.block => {
                        let (_, data) = shared.as_mut().expect("a shared page");
                        let (link, _) = pages::stored_block_mut(&self.layout, data, p.offset);
                        at.write(link);
                        self.lists[list].last = Some(at);
                    }
                    _ => self.chain(list, at, at),
                }
            }
        }
        let code_tail = match shared {
            Some((block, data)) => {
                self.write_page(block, Kind::Codes, &data, pg_sys::InvalidBlockNumber);
                block
            }
            None => self.allocate(Kind::Codes),
        };
        if self.layout.has_vectors() && self.vectors.is_none() {
            self.vector_head = self.allocate(Kind::Vectors);
            self.vectors = Some((self.vector_head, Vec::new()));
        }
        let vector_tail = match self.vectors.take() {
            Some((block, data)) => {
                self.write_page(block, Kind::Vectors, &data, pg_sys::InvalidBlockNumber);
                block
            }
            None => pg_sys::InvalidBlockNumber,
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
        Written { entries, code_tail, vector_head: self.vector_head, vector_tail, rows: self.rows }
    }
}

/// What the writer leaves for the metapage and directory.
struct Written {
    /// Each list's head and tail block.
    entries: Vec<ListEntry>,
    /// The code page new blocks go to.
    code_tail: u32,
    vector_head: u32,
    vector_tail: u32,
    rows: u64,
}

struct AssignState {
    writer: Writer,
    pool: rayon::ThreadPool,
    batch: Vec<(ItemPointer, Vec<u8>)>,
    row_memory: RowContext,
    /// The recall calibration's queries, which see every row written.
    truths: Option<Truths>,
}

impl AssignState {
    fn encode_batch(&mut self) {
        let k = kernels::active();
        let layout = &self.writer.layout;
        let batch = std::mem::take(&mut self.batch);
        let encoded: Vec<quantvec_core::Result<EncodedRow>> =
            self.pool.install(|| batch.par_iter().map(|(tid, payload)| layout.encode_stored(k, *tid, payload)).collect());
        let encoded: Vec<EncodedRow> = encoded.into_iter().map(OrRaise::or_raise).collect();
        let targets: Vec<ItemPointer> = batch.iter().zip(&encoded).map(|((tid, _), row)| self.writer.add(row, *tid)).collect();
        if let Some(truths) = &mut self.truths {
            let offered: Vec<Offered> = batch
                .iter()
                .zip(&encoded)
                .zip(&targets)
                .map(|(((tid, _), row), &target)| Offered { tid: *tid, target, list: row.list, vector: &row.vector })
                .collect();
            self.pool.install(|| truths.offer(&offered));
        }
        progress(pg_sys::PROGRESS_CREATEIDX_TUPLES_DONE, self.writer.rows as i64);
        pages::check_for_interrupts();
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn assign_row(
    _index: pg_sys::Relation,
    tid: pg_sys::ItemPointer,
    values: *mut pg_sys::Datum,
    isnull: *mut bool,
    _alive: bool,
    state: *mut c_void,
) {
    // SAFETY: state is the AssignState passed to scan_heap.
    let state = unsafe { &mut *state.cast::<AssignState>() };
    // SAFETY: called by the build scan with this index's values.
    let Some(payload) = state.row_memory.run(|| unsafe { datum_payload(values, isnull) }.map(<[u8]>::to_vec)) else { return };
    // SAFETY: tid points at the heap tuple's id for this call.
    let tid = unsafe { super::tid_from_pg(&*tid) };
    state.batch.push((tid, payload));
    if state.batch.len() >= BATCH_ROWS {
        state.encode_batch();
    }
}

/// Threads for k-means and encoding: the build's own plus its parallel maintenance
/// workers' share, within the machine.
fn thread_pool() -> rayon::ThreadPool {
    // SAFETY: reading an integer GUC.
    let workers = unsafe { pg_sys::max_parallel_maintenance_workers }.max(0) as usize;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    rayon::ThreadPoolBuilder::new()
        .num_threads((workers + 1).min(cpus).max(1))
        .build()
        .unwrap_or_else(|e| raise_with(ErrorKind::InvalidParameter, format!("cannot start build threads: {e}")))
}

fn new_build_id(index: pg_sys::Relation) -> u64 {
    // SAFETY: reading the clock, the backend's pid and the open index's file number.
    unsafe {
        let now = pg_sys::GetCurrentTimestamp() as u64;
        now ^ (u64::from(pg_sys::MyProcPid as u32) << 40) ^ u64::from(compat::relation_file_number(index))
    }
}

/// Writes a byte stream into new pages of `kind`, `per_page` bytes each; returns the number of pages.
fn write_stream(index: pg_sys::Relation, fork: pg_sys::ForkNumber::Type, kind: Kind, bytes: &[u8], per_page: usize) -> u32 {
    let mut pages = 0;
    for chunk in bytes.chunks(per_page.max(1)) {
        let mut locked = Locked::extend(index, fork, kind);
        assert!(locked.page_mut_unlogged().append(chunk));
        pages += 1;
    }
    if bytes.is_empty() {
        Locked::extend(index, fork, kind);
        pages = 1;
    }
    pages
}

/// Builds the index into `fork`: from the heap's rows, or empty (the init fork of an
/// unlogged index) when `heap` is None.
pub fn build(heap: Option<pg_sys::Relation>, index: pg_sys::Relation, index_info: *mut pg_sys::IndexInfo, fork: pg_sys::ForkNumber::Type) -> (f64, u64) {
    let (class, declared) = Shape::declared(index);
    // SAFETY: index is open.
    // (InvalidSubTransactionId is 0.)
    let created_now = unsafe { (*index).rd_createSubid } != 0;
    if declared.is_none() && created_now && heap.is_some() {
        // A new index needs declared dimensions; only an index that exists already (on a
        // column that lost them under an earlier version) is rebuilt from its rows'.
        crate::error::raise(
            quantvec_core::Error::new(ErrorKind::InvalidParameter, "column does not have dimensions")
                .with_detail("quantvec indexes need the column's dimensions, e.g. int8vec(384)"),
        );
    }
    let options = options::of(index);
    // Refused before the table is read: codes neither 1 nor 4 bits, or 4 bits on bitvec.
    let declared_shape = declared.map(|dims| Shape::new(class, options.code_bits, dims));
    let k = kernels::active();
    let pool = thread_pool();

    // Pass 1: a uniform sample within half of maintenance_work_mem.
    progress(pg_sys::PROGRESS_CREATEIDX_SUBPHASE, PHASE_SAMPLING);
    let budget = half_of_maintenance_work_mem();
    let mut sampling = SamplingState {
        class,
        code_bits: options.code_bits,
        shape: declared_shape,
        budget,
        reservoir: None,
        row_memory: RowContext::new(c"quantvec build row"),
    };
    let heap_rows = match heap {
        Some(heap) => scan_heap(heap, index, index_info, Some(sample_row), (&raw mut sampling).cast()),
        None => 0.0,
    };
    let shape = match sampling.shape.take() {
        Some(shape) => shape,
        // The init fork of an unlogged index, built after its main fork.
        None if heap.is_none() => Shape::new(class, options.code_bits, directory::read_meta(index).dims as usize),
        None => crate::error::raise(
            quantvec_core::Error::new(ErrorKind::InvalidParameter, "column does not have dimensions, and the table has no rows to take them from")
                .with_detail("declare them: ALTER TABLE ... ALTER COLUMN ... TYPE int8vec(n)"),
        ),
    };
    let capacity = sample_capacity(budget, shape.dims);
    let reservoir = sampling.reservoir.take().unwrap_or_else(|| Reservoir::new(shape.dims, capacity));
    let rows = reservoir.seen() as usize;
    let Plan { lists, sample_rows } = plan(rows, options.lists, options.sample, capacity.min(rows)).or_raise();
    let (sample, tags) = reservoir.take(sample_rows);
    drop(sampling);

    // k-means, spread over the pool, checking for cancellation between iterations.
    progress(pg_sys::PROGRESS_CREATEIDX_SUBPHASE, PHASE_KMEANS);
    // The first rows of the (shuffled) sample are the calibration's queries.
    let calibration_rows = sample[..sample.len().min(recall::QUERIES * shape.dims)].to_vec();
    let kmeans_options = KMeans { clusters: lists, iterations: KMEANS_ITERATIONS, spherical: shape.metric == Metric::Cosine, seed: 42 };
    // The callback runs on this thread, between slices of work: Postgres may only be called here.
    let centroids = kmeans::train(k, &pool, &sample, shape.dims, &kmeans_options, &mut || {
        pages::check_for_interrupts();
        Ok(())
    })
    .or_raise();
    drop(sample);
    let mut centroids = centroids;
    let centroid_exponent = quantvec_core::ivf::meta::round_centroids(&mut centroids);
    let layout = Layout::new(k, shape.metric, shape.dims, true, centroids)
        .and_then(|l| l.with_code_bits(shape.code_bits))
        .and_then(|l| l.with_vector_bits(shape.vector_bits));
    let layout = Arc::new(layout.or_raise());
    let lists = layout.lists();
    let truths = calibration_queries(&layout, &calibration_rows, &tags);

    // The fixed pages: metapage, centroids, an empty directory to fill at the end.
    let meta_page = Locked::extend(index, fork, Kind::Meta);
    assert_eq!(meta_page.block(), META_BLOCK, "the metapage is the index's first block");
    drop(meta_page);
    let centroid_bytes = quantvec_core::ivf::meta::centroids_to_bytes(&layout.centroids, centroid_exponent);
    let centroid_start = META_BLOCK + 1;
    let centroid_pages = write_stream(index, fork, Kind::Centroids, &centroid_bytes, CAPACITY / 2 * 2);
    let directory_start = centroid_start + centroid_pages;
    let directory_pages = lists.div_ceil(ENTRIES_PER_PAGE) as u32;
    for _ in 0..directory_pages {
        Locked::extend(index, fork, Kind::Directory);
    }

    // Pass 2: assign, encode and write every row.
    progress(pg_sys::PROGRESS_CREATEIDX_SUBPHASE, PHASE_ASSIGNING);
    progress(pg_sys::PROGRESS_CREATEIDX_TUPLES_TOTAL, rows as i64);
    let writer = Writer {
        index,
        fork,
        lists: (0..lists).map(|_| ListBlocks::default()).collect(),
        layout,
        vectors: None,
        vector_head: pg_sys::InvalidBlockNumber,
        rows: 0,
    };
    let mut assigning = AssignState { writer, pool, batch: Vec::with_capacity(BATCH_ROWS), row_memory: RowContext::new(c"quantvec build row"), truths };
    if let Some(heap) = heap {
        scan_heap(heap, index, index_info, Some(assign_row), (&raw mut assigning).cast());
    }
    assigning.encode_batch();
    let AssignState { writer, truths, pool, .. } = assigning;

    progress(pg_sys::PROGRESS_CREATEIDX_SUBPHASE, PHASE_FINISHING);
    let Written { entries, code_tail, vector_head, vector_tail, rows: index_rows } = writer.finish();
    for (page, chunk) in entries.chunks(ENTRIES_PER_PAGE).enumerate() {
        let mut locked = Locked::read_fork(index, fork, directory_start + page as u32, Lock::Exclusive);
        let mut target = locked.page_mut_unlogged();
        for entry in chunk {
            assert!(target.append(&entry.to_bytes()));
        }
    }
    let meta = Meta {
        format: quantvec_core::ivf::meta::format_for(shape.code_bits, shape.vector_bits),
        metric: shape.metric,
        residual: true,
        code_bits: shape.code_bits,
        vector_bits: shape.vector_bits,
        dims: shape.dims as u32,
        lists: lists as u32,
        centroid_start,
        centroid_pages,
        directory_start,
        directory_pages,
        vector_head,
        vector_insert: vector_tail,
        code_tail,
        centroid_exponent,
        build_id: new_build_id(index),
        rows_at_build: index_rows,
    };
    let mut locked = Locked::read_fork(index, fork, META_BLOCK, Lock::Exclusive);
    assert!(locked.page_mut_unlogged().append(&meta.to_bytes()));
    drop(locked);
    if let Some(truths) = truths.filter(|t| !t.is_empty() && fork == pg_sys::ForkNumber::MAIN_FORKNUM) {
        progress(pg_sys::PROGRESS_CREATEIDX_SUBPHASE, PHASE_CALIBRATING);
        let calibration = calibrate(index, &truths, &pool);
        let mut locked = Locked::read_fork(index, fork, META_BLOCK, Lock::Exclusive);
        assert!(locked.page_mut_unlogged().append(&calibration.to_bytes()), "a calibration fits the metapage");
    }

    // SAFETY: index is open; its persistence decides whether the pages need WAL (the init
    // fork of an unlogged index always does).
    unsafe {
        let permanent = (*(*index).rd_rel).relpersistence == pg_sys::RELPERSISTENCE_PERMANENT as std::ffi::c_char;
        if permanent || fork == pg_sys::ForkNumber::INIT_FORKNUM {
            let blocks = pg_sys::RelationGetNumberOfBlocksInFork(index, fork);
            pg_sys::log_newpage_range(index, fork, 0, blocks, true);
        }
    }
    (heap_rows, index_rows)
}

/// The calibration's queries: the sample rows `rows` (as the index sees them) with the
/// heap tids in `tags`; None for indexes that do not rescore (Hamming).
fn calibration_queries(layout: &Arc<Layout>, rows: &[f32], tags: &[u64]) -> Option<Truths> {
    if !layout.has_vectors() {
        return None;
    }
    let queries = rows.chunks_exact(layout.dims).zip(tags).map(|(row, &tag)| (tid_of(tag), row.to_vec())).collect();
    Some(Truths::new(layout, kernels::active(), queries).or_raise())
}

/// Measures recall at every setting over the index just written (see `ivf::recall`): from
/// its code blocks copied into memory, the queries spread over the build's threads, where
/// the blocks fit in half of `maintenance_work_mem`; else one query after another through
/// shared buffers.
fn calibrate(index: pg_sys::Relation, truths: &Truths, pool: &rayon::ThreadPool) -> Calibration {
    let cached = pages::cached(index);
    let lists = PgLists::new(index, &cached);
    let budget = half_of_maintenance_work_mem();
    let calibration = match copy_lists(&lists, budget) {
        Some(blocks) => {
            let copied = MemoryIndex::of_lists(cached.layout.clone(), blocks);
            // The callback runs on this thread, between slices of queries.
            recall::calibrate_parallel(pool, &copied, truths, &mut || {
                pages::check_for_interrupts();
                Ok(())
            })
            .or_raise()
        }
        None => recall::calibrate(&lists, truths),
    };
    // Cached without the calibration, which the metapage is about to get.
    pages::forget_cached(index);
    calibration
}

/// Every list's blocks, copied out of shared buffers; None past `budget` bytes.
fn copy_lists(lists: &PgLists, budget: usize) -> Option<Vec<Vec<Vec<u8>>>> {
    let mut bytes = 0usize;
    let mut copied = Vec::with_capacity(lists.cached.layout.lists());
    for list in 0..lists.cached.layout.lists() {
        let mut blocks = Vec::new();
        lists.scan_list(list as u32, &mut |block| {
            bytes += block.len();
            if bytes <= budget {
                blocks.push(block.to_vec());
            }
        });
        if bytes > budget {
            return None;
        }
        copied.push(blocks);
    }
    Some(copied)
}

/// `ambuild`.
#[pg_guard]
pub unsafe extern "C-unwind" fn ambuild(heap: pg_sys::Relation, index: pg_sys::Relation, index_info: *mut pg_sys::IndexInfo) -> *mut pg_sys::IndexBuildResult {
    let _errors = IndexErrors::name(index);
    let (heap_rows, index_rows) = build(Some(heap), index, index_info, pg_sys::ForkNumber::MAIN_FORKNUM);
    // SAFETY: palloc0 returns zeroed memory of the requested size, owned by Postgres.
    unsafe {
        let result = pg_sys::palloc0(std::mem::size_of::<pg_sys::IndexBuildResult>()).cast::<pg_sys::IndexBuildResult>();
        (*result).heap_tuples = heap_rows;
        (*result).index_tuples = index_rows as f64;
        result
    }
}

/// `ambuildempty`: the init fork of an unlogged index, an index with one empty list.
#[pg_guard]
pub unsafe extern "C-unwind" fn ambuildempty(index: pg_sys::Relation) {
    let _errors = IndexErrors::name(index);
    build(None, index, std::ptr::null_mut(), pg_sys::ForkNumber::INIT_FORKNUM);
}
