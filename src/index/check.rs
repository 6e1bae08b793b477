//! `quantvec_index_check(regclass)`: verifies an index against its table, holding a SHARE
//! lock on the table so that writers and vacuum wait until it is done (on a standby, which
//! allows no such lock and whose only writer is WAL replay, an ACCESS SHARE lock: the check
//! is exact there once replay has caught up with a quiet primary). Every row visible to
//! the current snapshot with a non-NULL vector must be indexed exactly once, in the list of
//! its nearest centroid, with the codes its value encodes to and its label; every other
//! index entry must point at a heap line pointer still in use (a dead row that vacuum has
//! not yet removed). Any difference is an ERROR naming the row.

use std::collections::HashMap;

use pgrx::pg_sys;
use pgrx::prelude::*;
use quantvec_core::ivf::paged::chain::read_pages;
use quantvec_core::ivf::paged::lists::PagedLists;
use quantvec_core::ivf::paged::Kind;
use quantvec_core::ivf::search::Lists;
use quantvec_core::ivf::{block, vector_tid, EncodedRow, ItemPointer, Quantizer};
use quantvec_core::{kernels, ErrorKind};

use super::context::IndexErrors;
use super::heap::{Rows, VisitRow};
use super::pages::{self, PgStore};
use crate::error::{raise_with, OrRaise};
use crate::memory::RowContext;

/// One index entry as stored.
struct Entry {
    list: usize,
    row: EncodedRow,
}

fn corrupt(message: String) -> ! {
    raise_with(ErrorKind::DataException, format!("quantvec index is inconsistent with its table: {message}"))
}

/// Every entry of the index by heap tid, and the number of vectors no code points at
/// (left by an insert interrupted by a crash; vacuum frees them).
fn entries(lists: &PagedLists<PgStore>) -> (HashMap<ItemPointer, Entry>, usize) {
    let quantizer = &lists.opened.quantizer;
    let mut vectors: HashMap<ItemPointer, Vec<u8>> = HashMap::new();
    if quantizer.has_vectors() {
        let len = quantizer.vector_len();
        read_pages(lists.store, lists.opened.meta.vector_head, Kind::Vectors, |block, data| {
            for (slot, vector) in data.chunks_exact(len).enumerate() {
                if vector_tid(vector) != ItemPointer::NONE {
                    vectors.insert(ItemPointer { block, offset: slot as u16 }, vector.to_vec());
                }
            }
        })
        .or_raise();
    }
    let mut entries = HashMap::new();
    for list in 0..quantizer.lists() {
        lists.scan_list(list as u32, &mut |b| {
            let (alphas, betas) = if quantizer.has_vectors() { block::factors(quantizer, b) } else { (&[][..], &[][..]) };
            for slot in 0..block::ROWS {
                let target = block::pointer(quantizer, b, slot);
                if target == ItemPointer::NONE {
                    continue;
                }
                let code = (0..quantizer.code_len()).map(|p| b[block::ROWS * p + slot]).collect();
                let factor = |bytes: &[u8]| bytes.get(4 * slot..4 * slot + 4).map_or(0.0, |f| f32::from_ne_bytes(f.try_into().expect("4 bytes")));
                let (tid, vector) = if quantizer.has_vectors() {
                    let vector = vectors.remove(&target).unwrap_or_else(|| {
                        corrupt(format!("a code in list {list} points at vector slot ({}, {}), which is empty or taken", target.block, target.offset))
                    });
                    (vector_tid(&vector), vector)
                } else {
                    (target, Vec::new())
                };
                let row = EncodedRow { list, code, alpha: factor(alphas), beta: factor(betas), vector, label: block::label(quantizer, b, slot) };
                if entries.insert(tid, Entry { list, row }).is_some() {
                    corrupt(format!("heap row ({}, {}) is indexed more than once", tid.block, tid.offset));
                }
            }
        });
    }
    (entries, vectors.len())
}

struct HeapCheck<'a> {
    quantizer: &'a Quantizer,
    entries: HashMap<ItemPointer, Entry>,
    heap_rows: u64,
    row_memory: RowContext,
}

/// Factors computed again match the stored ones (to float rounding; NaN for vectors whose
/// dequantized values overflow f32).
fn same_factor(a: f32, b: f32) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-5 * a.abs().max(b.abs())
}

impl VisitRow for HeapCheck<'_> {
    fn visit(&mut self, tid: ItemPointer, value: pg_sys::Datum, label: Option<i32>) {
        self.heap_rows += 1;
        let quantizer = self.quantizer;
        let k = kernels::active();
        let Some(Entry { list, row }) = self.entries.remove(&tid) else {
            corrupt(format!("heap row ({}, {}) is not in the index", tid.block, tid.offset));
        };
        let expected = self
            .row_memory
            .run(|| {
                // SAFETY: the row's non-null value, read within the per-row context.
                let payload = unsafe { crate::varlena::payload(value) };
                let alone = quantizer.encode_stored(k, tid, payload)?;
                // A near-tie may have gone the other way when the build scored the row.
                if list != alone.list && quantizer.lists_tie(payload, list, alone.list)? {
                    return quantizer.encode_stored_in(k, tid, payload, Some(list));
                }
                Ok(alone)
            })
            .or_raise();
        let matches = list == expected.list
            && row.code == expected.code
            && row.vector == expected.vector
            && same_factor(row.alpha, expected.alpha)
            && same_factor(row.beta, expected.beta);
        if !matches {
            corrupt(format!("the index entry of heap row ({}, {}) does not encode its value", tid.block, tid.offset));
        }
        if row.label != label {
            corrupt(format!("the index entry of heap row ({}, {}) has label {:?}, the row {:?}", tid.block, tid.offset, row.label, label));
        }
    }
}

/// Whether the heap line pointer at `tid` is in use (a live or dead row, or a HOT
/// redirect), as it must be while an index entry points at it.
fn heap_item_in_use(heap: pg_sys::Relation, tid: ItemPointer) -> bool {
    // SAFETY: heap is open; the block is checked against the relation's size before it is
    // read, and the line pointer index against the page's line pointer count.
    unsafe {
        if tid.block >= pg_sys::RelationGetNumberOfBlocksInFork(heap, pg_sys::ForkNumber::MAIN_FORKNUM) {
            return false;
        }
        let buffer = pg_sys::ReadBufferExtended(heap, pg_sys::ForkNumber::MAIN_FORKNUM, tid.block, pg_sys::ReadBufferMode::RBM_NORMAL, std::ptr::null_mut());
        pg_sys::LockBuffer(buffer, pg_sys::BUFFER_LOCK_SHARE as i32);
        let page = pg_sys::BufferGetPage(buffer).cast::<pg_sys::PageHeaderData>();
        let line_pointers = (usize::from((*page).pd_lower) - std::mem::offset_of!(pg_sys::PageHeaderData, pd_linp)) / std::mem::size_of::<pg_sys::ItemIdData>();
        let used = tid.offset >= 1
            && usize::from(tid.offset) <= line_pointers
            && (*(*page).pd_linp.as_ptr().add(usize::from(tid.offset) - 1)).lp_flags() != pg_sys::LP_UNUSED;
        pg_sys::UnlockReleaseBuffer(buffer);
        used
    }
}

/// Checks an index, or each partition of a partitioned index (their counts added up).
#[pg_extern(volatile, parallel_unsafe)]
fn quantvec_index_check(
    index: pgrx::PgRelation,
) -> TableIterator<'static, (name!(lists, i32), name!(indexed_rows, i64), name!(heap_rows, i64), name!(unreferenced_vectors, i64))> {
    let leaves = super::leaf_indexes(&index, "quantvec_index_check");
    let total = leaves.into_iter().map(check_one).fold((0, 0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3 + b.3));
    TableIterator::once(total)
}

fn check_one(index: pg_sys::Oid) -> (i32, i64, i64, i64) {
    let relation = super::open_quantvec_index(index);
    // SAFETY: relation is an open index.
    let heap_oid = unsafe { (*(*relation).rd_index).indrelid };
    let _errors = IndexErrors::name(relation);
    // SAFETY: a read of shared state, then locking the index's table by OID; the lock
    // lasts to the end of the transaction.
    unsafe {
        let mode = if pg_sys::RecoveryInProgress() { pg_sys::AccessShareLock } else { pg_sys::ShareLock };
        pg_sys::LockRelationOid(heap_oid, mode as pg_sys::LOCKMODE);
    }
    let cached = pages::cached(relation);
    let store = cached.store(relation);
    let (entries, orphans) = entries(&PagedLists::new(&store, &cached.opened, pages::fail));
    let indexed = entries.len();
    let mut state = HeapCheck { quantizer: &cached.opened.quantizer, entries, heap_rows: 0, row_memory: RowContext::new(c"quantvec check row") };
    // SAFETY: the heap is opened under AccessShareLock for the scan; the scan uses a
    // registered MVCC snapshot (as amcheck does), which the build-scan routine ends; the
    // callback and state live for the call. table_beginscan_strat is inline in C.
    let heap = unsafe {
        let heap = pg_sys::table_open(heap_oid, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
        let snapshot = pg_sys::RegisterSnapshot(pg_sys::GetTransactionSnapshot());
        let flags = pg_sys::ScanOptions::SO_TYPE_SEQSCAN | pg_sys::ScanOptions::SO_ALLOW_PAGEMODE | pg_sys::ScanOptions::SO_ALLOW_SYNC;
        let begin = (*(*heap).rd_tableam).scan_begin.expect("table AM scans");
        let scan = begin(heap, snapshot, 0, std::ptr::null_mut(), std::ptr::null_mut(), flags);
        // An ERROR from a row comes back as a panic, which drops the entries on its way out.
        super::heap::scan(heap, relation, pg_sys::BuildIndexInfo(relation), Rows::Visible(scan), &mut state);
        pg_sys::UnregisterSnapshot(snapshot);
        heap
    };
    for tid in state.entries.keys() {
        if !heap_item_in_use(heap, *tid) {
            corrupt(format!("index entry points at heap row ({}, {}), which does not exist", tid.block, tid.offset));
        }
    }
    // SAFETY: closing what we opened, keeping the locks to the end of the transaction.
    unsafe {
        pg_sys::table_close(heap, pg_sys::NoLock as pg_sys::LOCKMODE);
        pg_sys::index_close(relation, pg_sys::NoLock as pg_sys::LOCKMODE);
    }
    (cached.opened.quantizer.lists() as i32, indexed as i64, state.heap_rows as i64, orphans as i64)
}
