//! The few places that touch Postgres memory directly: reading a varlena's payload or a
//! 1-D array's elements in place, and allocating a varlena to return.

use std::ptr::NonNull;

use pgrx::array::RawArray;
use pgrx::pg_sys;
use quantvec_core::ErrorKind;

use crate::error::raise_with;

/// The payload of a varlena datum of this extension's types (or bytea, varbit), detoasted.
///
/// # Safety
/// `datum` must be a non-null varlena datum. A detoasted copy is allocated in the current
/// memory context, which outlives the function call that reads it; `'a` must not outlive
/// that call.
#[inline]
pub unsafe fn payload<'a>(datum: pg_sys::Datum) -> &'a [u8] {
    let ptr = datum.cast_mut_ptr::<pg_sys::varlena>();
    // SAFETY: per the contract `datum` is a non-null varlena, whose first byte tells its
    // form. Only a TOAST pointer or a compressed value needs pg_detoast_datum; any other
    // (a 4-byte header, or the 1-byte header of a short value) is read where it lies:
    // detoasting a short value would allocate and copy it once per row of a scan.
    unsafe {
        let ptr = if pgrx::varatt_is_1b_e(ptr) || pgrx::varatt_is_4b_c(ptr) {
            pg_sys::pg_detoast_datum(ptr)
        } else {
            prefetch_ahead_in_scan(ptr.cast(), pgrx::varsize_any(ptr));
            ptr
        };
        std::slice::from_raw_parts(pgrx::vardata_any(ptr).cast::<u8>(), pgrx::varsize_any_exhdr(ptr))
    }
}

/// Starts loading the value that a sequential scan of a heap will most likely pass two rows
/// from now. Exact scans (`ORDER BY e <=> q` without an index, rescoring) are bound by the
/// cache misses on each row's value, and the hardware prefetcher does not follow the scan:
/// a heap page stores its tuples from the end backwards, so the scan reads each tuple's
/// bytes in ascending order but visits the tuples in descending order. The next tuples,
/// with values of about the same size, lie just below this one. Measured on 100k
/// int8vec(384) rows (`ORDER BY e <=> q LIMIT 10`): 39 ms a scan without this; one row
/// ahead, 20 ms with pgrx's argument wrappers and 16.8-17.8 ms without them; two rows
/// ahead (the previous call asked for the next row), 15.6-16.2 ms; three or four, 17-19 ms.
/// A wrong guess costs a few prefetches; values too large to stay inline are not reached
/// here.
fn prefetch_ahead_in_scan(value: *const u8, len: usize) {
    // The tuple header, the other columns and alignment: about 32 bytes beside the value.
    let ahead = len + 32;
    quantvec_core::kernels::prefetch(value.wrapping_sub(2 * ahead), ahead);
}

/// A new varlena with `len` payload bytes in the current memory context, filled by `fill`.
pub fn new_varlena(len: usize, fill: impl FnOnce(&mut [u8])) -> pg_sys::Datum {
    let total = pg_sys::VARHDRSZ + len;
    // SAFETY: palloc0 returns `total` writable bytes (or raises an ERROR); the header takes
    // the first VARHDRSZ and the payload slice covers exactly the rest.
    unsafe {
        let ptr = pg_sys::palloc0(total).cast::<pg_sys::varlena>();
        pgrx::set_varsize_4b(ptr, total as i32);
        fill(std::slice::from_raw_parts_mut(ptr.cast::<u8>().add(pg_sys::VARHDRSZ), len));
        pg_sys::Datum::from(ptr)
    }
}

/// Element types whose SQL arrays can be read in place.
pub trait ArrayElement: Copy {
    const TYPE_OID: pg_sys::Oid;
}

impl ArrayElement for f32 {
    const TYPE_OID: pg_sys::Oid = pg_sys::FLOAT4OID;
}

impl ArrayElement for f64 {
    const TYPE_OID: pg_sys::Oid = pg_sys::FLOAT8OID;
}

impl ArrayElement for i32 {
    const TYPE_OID: pg_sys::Oid = pg_sys::INT4OID;
}

/// The elements of a one-dimensional SQL array without NULLs, read in place.
///
/// # Safety
/// `datum` must be a non-null array datum; `'a` must not outlive the function call (a
/// detoasted copy lives in the current memory context).
pub unsafe fn array_elements<'a, T: ArrayElement>(datum: pg_sys::Datum) -> &'a [T] {
    // SAFETY: a non-null array datum detoasts to a valid ArrayType. One with a 4-byte
    // header, uncompressed, is one already (ArrayType needs that header, so short arrays
    // with a 1-byte header go through pg_detoast_datum, which converts them).
    let mut array = unsafe {
        let ptr = datum.cast_mut_ptr::<pg_sys::varlena>();
        let ptr = if pgrx::varatt_is_4b_u(ptr) {
            prefetch_ahead_in_scan(ptr.cast(), pgrx::varsize_4b(ptr));
            ptr
        } else {
            pg_sys::pg_detoast_datum(ptr)
        };
        let ptr = ptr.cast::<pg_sys::ArrayType>();
        RawArray::from_ptr(NonNull::new(ptr).expect("detoasting returns a pointer"))
    };
    if array.oid() != T::TYPE_OID {
        raise_with(ErrorKind::DataException, "array has an unexpected element type");
    }
    if array.dims().len() > 1 {
        raise_with(ErrorKind::DataException, "array must be one-dimensional");
    }
    // SAFETY: the array is detoasted and its null bitmap, if any, covers every element.
    if unsafe { array.any_nulls() } {
        raise_with(ErrorKind::NullValue, "array must not contain nulls");
    }
    // SAFETY: the element type was checked to be T (fixed width, aligned to its size, any
    // bit pattern valid) and the array has no nulls, so its data is len() values of T.
    unsafe { array.data::<T>().as_ref() }
}

/// The unread rest of a receive function's message buffer, marked as read.
///
/// # Safety
/// `buf` must be the `internal` argument of a type's receive function: a StringInfo.
pub unsafe fn take_unread(buf: pgrx::datum::Internal) -> &'static [u8] {
    // SAFETY: per the contract, the datum points to a live StringInfo whose bytes
    // [cursor, len) are initialised; they stay alive for the receive call.
    unsafe {
        let info = buf.unwrap().expect("receive buffer").cast_mut_ptr::<pg_sys::StringInfoData>();
        let info = &mut *info;
        let start = info.cursor as usize;
        let unread = std::slice::from_raw_parts(info.data.cast::<u8>().add(start), info.len as usize - start);
        info.cursor = info.len;
        unread
    }
}
