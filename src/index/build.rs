//! Building an index: sample rows (one heap pass), train the lists with k-means, then
//! assign, encode and write every row (a second heap pass).
//!
//! The pages are written by `quantvec_core::ivf::paged::build`, without WAL, and logged
//! wholesale at the end, as other index builds do.

use std::sync::Arc;

use pgrx::pg_sys;
use pgrx::prelude::*;
use quantvec_core::ivf::build::{plan, Plan, Reservoir};
use quantvec_core::ivf::kmeans::{self, KMeans};
use quantvec_core::ivf::memory::MemoryIndex;
use quantvec_core::ivf::paged;
use quantvec_core::ivf::paged::build::Writer;
use quantvec_core::ivf::paged::lists::PagedLists;
use quantvec_core::ivf::recall::{self, Calibration, Offered, Truths};
use quantvec_core::ivf::search::Lists;
use quantvec_core::ivf::{Assigner, EncodedRow, ItemPointer, Metric, Quantizer, KMEANS_ITERATIONS};
use quantvec_core::kernels;
use quantvec_core::ErrorKind;
use rayon::prelude::*;

use super::context::IndexErrors;
use super::heap::{self, Rows, VisitRow};
use super::pages::{self, PgStore};
use super::{options, progress, OperatorClass, Shape};
use crate::compat;
use crate::error::{raise_with, OrRaise};
use crate::memory::RowContext;

/// Rows encoded together (in parallel) before they are written.
const BATCH_ROWS: usize = 4096;
/// Rows assigned to lists together, each group on one thread (see
/// `Quantizer::lists_of_stored`).
const ASSIGN_ROWS: usize = 128;

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

impl VisitRow for SamplingState {
    fn visit(&mut self, tid: ItemPointer, value: pg_sys::Datum, _label: Option<i32>) {
        let seen = self.row_memory.run(|| {
            // SAFETY: the indexed column's non-null value, read within this context.
            let payload = unsafe { crate::varlena::payload(value) };
            let (class, code_bits) = (self.class, self.code_bits);
            let dims = || quantvec_core::ivf::stored_dims(class.metric, class.vector_bits, payload).or_raise();
            let shape = &*self.shape.get_or_insert_with(|| Shape::new(class, code_bits, dims()));
            let capacity = sample_capacity(self.budget, shape.dims);
            let reservoir = self.reservoir.get_or_insert_with(|| Reservoir::new(shape.dims, capacity));
            reservoir.offer(tag_of(tid), || {
                let x = floats(shape, payload);
                check_dims(shape, x.len());
                x
            });
            reservoir.seen()
        });
        if seen.is_multiple_of(1024) {
            pages::check_for_interrupts();
        }
    }
}

/// A heap tid as a reservoir tag, and back.
fn tag_of(tid: ItemPointer) -> u64 {
    u64::from(tid.block) << 16 | u64::from(tid.offset)
}

fn tid_of(tag: u64) -> ItemPointer {
    ItemPointer { block: (tag >> 16) as u32, offset: tag as u16 }
}

struct AssignState<'s> {
    writer: Writer<'s, PgStore<'s>>,
    /// The writer's centroids, packed for assigning a batch's rows in groups.
    assigner: Assigner,
    pool: rayon::ThreadPool,
    batch: Vec<(ItemPointer, Vec<u8>, Option<i32>)>,
    row_memory: RowContext,
    /// The recall calibration's queries, which see every row written.
    truths: Option<Truths>,
}

impl AssignState<'_> {
    fn encode_batch(&mut self) {
        let k = kernels::active();
        let quantizer = self.writer.quantizer();
        let batch = std::mem::take(&mut self.batch);
        let assigner = &self.assigner;
        let encoded: Vec<quantvec_core::Result<EncodedRow>> = self.pool.install(|| {
            batch
                .par_chunks(ASSIGN_ROWS)
                .flat_map_iter(|rows| {
                    // A malformed row fails here as it would alone, in encode_stored.
                    let lists = quantizer.lists_of_stored(k, assigner, rows.iter().map(|(_, payload, _)| payload.as_slice())).ok();
                    rows.iter().enumerate().map(move |(i, (tid, payload, label))| {
                        let row = quantizer.encode_stored_in(k, *tid, payload, lists.as_ref().map(|l| l[i]))?;
                        Ok(EncodedRow { label: *label, ..row })
                    })
                })
                .collect()
        });
        let encoded: Vec<EncodedRow> = encoded.into_iter().map(OrRaise::or_raise).collect();
        let targets: Vec<ItemPointer> = batch.iter().zip(&encoded).map(|((tid, _, _), row)| self.writer.add(row, *tid).or_raise()).collect();
        if let Some(truths) = &mut self.truths {
            let offered: Vec<Offered> = batch
                .iter()
                .zip(&encoded)
                .zip(&targets)
                .map(|(((tid, _, _), row), &target)| Offered { tid: *tid, target, list: row.list, vector: &row.vector })
                .collect();
            self.pool.install(|| truths.offer(&offered));
        }
        progress(pg_sys::PROGRESS_CREATEIDX_TUPLES_DONE, self.writer.rows() as i64);
        pages::check_for_interrupts();
    }
}

impl VisitRow for AssignState<'_> {
    fn visit(&mut self, tid: ItemPointer, value: pg_sys::Datum, label: Option<i32>) {
        // SAFETY: the indexed column's non-null value, copied out within the row's context.
        let payload = self.row_memory.run(|| unsafe { crate::varlena::payload(value) }.to_vec());
        self.batch.push((tid, payload, label));
        if self.batch.len() >= BATCH_ROWS {
            self.encode_batch();
        }
    }
}

/// Threads for k-means and encoding: the build's own plus its parallel maintenance
/// workers' share, within the machine.
pub(super) fn thread_pool() -> rayon::ThreadPool {
    // SAFETY: reading an integer GUC.
    let workers = unsafe { pg_sys::max_parallel_maintenance_workers }.max(0) as usize;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    rayon::ThreadPoolBuilder::new()
        .num_threads((workers + 1).min(cpus).max(1))
        .build()
        .unwrap_or_else(|e| raise_with(ErrorKind::InvalidParameter, format!("cannot start build threads: {e}")))
}

pub(super) fn new_build_id(index: pg_sys::Relation) -> u64 {
    // SAFETY: reading the clock, the backend's pid and the open index's file number.
    unsafe {
        let now = pg_sys::GetCurrentTimestamp() as u64;
        now ^ (u64::from(pg_sys::MyProcPid as u32) << 40) ^ u64::from(compat::relation_file_number(index))
    }
}

/// The table's rows, read once: the index's shape and a uniform sample of them.
struct Sampled {
    shape: Shape,
    /// Rows the table scan saw (live and recently dead), for the build's result.
    heap_rows: f64,
    /// Rows with a vector.
    rows: usize,
    lists: usize,
    /// `sample_rows` rows of floats, shuffled, and the heap tid tag of each.
    sample: Vec<f32>,
    tags: Vec<u64>,
}

/// Pass 1: the index's shape (declared, or from the first row), and a uniform sample of the
/// rows within half of maintenance_work_mem.
fn sample_rows(heap: Option<pg_sys::Relation>, index: pg_sys::Relation, index_info: *mut pg_sys::IndexInfo, options: &options::Options) -> Sampled {
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
    // Refused before the table is read: codes neither 1 nor 4 bits, or 4 bits on bitvec.
    let declared_shape = declared.map(|dims| Shape::new(class, options.code_bits, dims));
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
        Some(heap) => heap::scan(heap, index, index_info, Rows::ForBuild, &mut sampling),
        None => 0.0,
    };
    let shape = match sampling.shape.take() {
        Some(shape) => shape,
        // The init fork of an unlogged index, built after its main fork.
        None if heap.is_none() => Shape::new(class, options.code_bits, paged::directory::read_meta(&PgStore::new(index)).or_raise().dims as usize),
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
    Sampled { shape, heap_rows, rows, lists, sample, tags }
}

/// The trained quantizer and what the build measures recall with.
struct Trained {
    quantizer: Arc<Quantizer>,
    centroid_exponent: i16,
    /// The calibration's queries (None for Hamming indexes, which do not rescore).
    truths: Option<Truths>,
}

/// k-means over the sample, spread over the pool and checking for cancellation between
/// iterations; the centroids rounded as the index stores them.
fn train(pool: &rayon::ThreadPool, sampled: Sampled) -> Trained {
    let k = kernels::active();
    let Sampled { shape, lists, sample, tags, .. } = sampled;
    progress(pg_sys::PROGRESS_CREATEIDX_SUBPHASE, PHASE_KMEANS);
    // The first rows of the (shuffled) sample are the calibration's queries.
    let calibration_rows = &sample[..sample.len().min(recall::QUERIES * shape.dims)];
    let kmeans_options = KMeans { clusters: lists, iterations: KMEANS_ITERATIONS, spherical: shape.metric == Metric::Cosine, seed: 42 };
    // The callback runs on this thread, between slices of work: Postgres may only be called here.
    let mut centroids = kmeans::train(k, pool, &sample, shape.dims, &kmeans_options, &mut || {
        pages::check_for_interrupts();
        Ok(())
    })
    .or_raise();
    let centroid_exponent = quantvec_core::ivf::meta::round_centroids(&mut centroids);
    let quantizer = Quantizer::new(k, shape.metric, shape.dims, true, centroids)
        .and_then(|l| l.with_code_bits(shape.code_bits))
        .and_then(|l| l.with_vector_bits(shape.vector_bits))
        .map(|l| l.with_labels(shape.labels));
    let quantizer = Arc::new(quantizer.or_raise());
    let truths = calibration_queries(&quantizer, calibration_rows, &tags);
    Trained { quantizer, centroid_exponent, truths }
}

/// Builds the index into `fork`: from the heap's rows, or empty (the init fork of an
/// unlogged index) when `heap` is None. Returns the rows the table scan saw and the rows
/// indexed.
pub fn build(heap: Option<pg_sys::Relation>, index: pg_sys::Relation, index_info: *mut pg_sys::IndexInfo, fork: pg_sys::ForkNumber::Type) -> (f64, u64) {
    let options = options::of(index);
    let pool = thread_pool();
    let sampled = sample_rows(heap, index, index_info, &options);
    let (heap_rows, rows) = (sampled.heap_rows, sampled.rows);
    let Trained { quantizer, centroid_exponent, truths } = train(&pool, sampled);
    let store = PgStore::building(index, fork);
    let fixed = paged::build::write_fixed_pages(&store, &quantizer, centroid_exponent).or_raise();

    // Pass 2: assign, encode and write every row.
    progress(pg_sys::PROGRESS_CREATEIDX_SUBPHASE, PHASE_ASSIGNING);
    progress(pg_sys::PROGRESS_CREATEIDX_TUPLES_TOTAL, rows as i64);
    let assigner = quantizer.assigner();
    let writer = Writer::new(&store, quantizer);
    let mut assigning =
        AssignState { writer, assigner, pool, batch: Vec::with_capacity(BATCH_ROWS), row_memory: RowContext::new(c"quantvec build row"), truths };
    if let Some(heap) = heap {
        heap::scan(heap, index, index_info, Rows::ForBuild, &mut assigning);
    }
    assigning.encode_batch();
    let AssignState { writer, truths, pool, .. } = assigning;

    progress(pg_sys::PROGRESS_CREATEIDX_SUBPHASE, PHASE_FINISHING);
    let meta = paged::build::finish(writer, &fixed, centroid_exponent, new_build_id(index)).or_raise();
    if let Some(truths) = truths.filter(|t| !t.is_empty() && fork == pg_sys::ForkNumber::MAIN_FORKNUM) {
        progress(pg_sys::PROGRESS_CREATEIDX_SUBPHASE, PHASE_CALIBRATING);
        let calibration = calibrate(index, &truths, &pool);
        paged::build::write_meta(&store, &meta, Some(&calibration)).or_raise();
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
    (heap_rows, meta.rows_at_build)
}

/// The calibration's queries: the sample rows `rows` (as the index sees them) with the
/// heap tids in `tags`; None for indexes that do not rescore (Hamming).
fn calibration_queries(quantizer: &Arc<Quantizer>, rows: &[f32], tags: &[u64]) -> Option<Truths> {
    if !quantizer.has_vectors() {
        return None;
    }
    let queries = rows.chunks_exact(quantizer.dims).zip(tags).map(|(row, &tag)| (tid_of(tag), row.to_vec())).collect();
    Some(Truths::new(quantizer, kernels::active(), queries).or_raise())
}

/// Measures recall at every setting over the index (just written, or vacuumed; see
/// `ivf::recall`): from its code blocks copied into memory, the queries spread over the
/// build's threads, where the blocks fit in half of `maintenance_work_mem`; else one query
/// after another through shared buffers.
pub(super) fn calibrate(index: pg_sys::Relation, truths: &Truths, pool: &rayon::ThreadPool) -> Calibration {
    let cached = pages::cached(index);
    let store = cached.store(index);
    let lists = PagedLists::new(&store, &cached.opened, pages::fail);
    let budget = half_of_maintenance_work_mem();
    let calibration = match copy_lists(&lists, budget) {
        Some(blocks) => {
            let copied = MemoryIndex::of_lists(cached.opened.quantizer.clone(), blocks);
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
fn copy_lists(lists: &PagedLists<PgStore>, budget: usize) -> Option<Vec<Vec<Vec<u8>>>> {
    let mut bytes = 0usize;
    let count = lists.opened.quantizer.lists();
    let mut copied = Vec::with_capacity(count);
    for list in 0..count {
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
