//! Index storage parameters (`WITH (lists = ..., sample = ...)`).

use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, Ordering};

use pgrx::pg_sys;

use crate::compat;

/// The relopt kind Postgres assigned to quantvec indexes at load time.
static KIND: AtomicU32 = AtomicU32::new(0);

/// The options as `build_reloptions` lays them out.
#[repr(C)]
struct Stored {
    varlena_header: i32,
    lists: i32,
    sample: i32,
}

/// Registers the parameters; called once from _PG_init.
pub fn init() {
    // SAFETY: called once at load time, before any index uses the kind; the names and
    // descriptions are static.
    unsafe {
        let kind = pg_sys::add_reloption_kind();
        KIND.store(kind, Ordering::Relaxed);
        let lock = pg_sys::AccessExclusiveLock as pg_sys::LOCKMODE;
        pg_sys::add_int_reloption(
            kind,
            c"lists".as_ptr(),
            c"Number of inverted lists (0: twice the square root of the row count)".as_ptr(),
            0,
            0,
            1_000_000,
            lock,
        );
        pg_sys::add_int_reloption(kind, c"sample".as_ptr(), c"Rows sampled to train the lists (0: 40 per list)".as_ptr(), 0, 0, i32::MAX, lock);
    }
}

/// `amoptions`: parses and validates `reloptions`.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn amoptions(reloptions: pg_sys::Datum, validate: bool) -> *mut pg_sys::bytea {
    let table = [
        compat::relopt_parse_elt(c"lists", pg_sys::relopt_type::RELOPT_TYPE_INT, std::mem::offset_of!(Stored, lists)),
        compat::relopt_parse_elt(c"sample", pg_sys::relopt_type::RELOPT_TYPE_INT, std::mem::offset_of!(Stored, sample)),
    ];
    // SAFETY: the table describes `Stored`, whose size is passed along.
    unsafe {
        pg_sys::build_reloptions(reloptions, validate, KIND.load(Ordering::Relaxed), std::mem::size_of::<Stored>(), table.as_ptr(), table.len() as i32).cast()
    }
}

/// The parameters of an index: `lists` and `sample`, 0 where not given.
pub fn of(index: pg_sys::Relation) -> (usize, usize) {
    // SAFETY: rd_options of a quantvec index is null or what amoptions built.
    unsafe {
        let options = (*index).rd_options.cast::<c_void>().cast::<Stored>();
        if options.is_null() {
            return (0, 0);
        }
        ((*options).lists.max(0) as usize, (*options).sample.max(0) as usize)
    }
}
