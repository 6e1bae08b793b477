//! Index storage parameters (`WITH (lists = ..., sample = ..., code_bits = ...)`).

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
    code_bits: i32,
}

/// An index's parameters, 0 where not given (`code_bits`: 1).
pub struct Options {
    pub lists: usize,
    pub sample: usize,
    /// Bits per dimension of the first-pass codes: 1 (the default) or 4.
    pub code_bits: u8,
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
        pg_sys::add_int_reloption(kind, c"code_bits".as_ptr(), c"Bits per dimension of the codes the first pass scores: 1 or 4".as_ptr(), 1, 1, 4, lock);
    }
}

/// `amoptions`: parses and validates `reloptions`.
#[pgrx::pg_guard]
pub unsafe extern "C-unwind" fn amoptions(reloptions: pg_sys::Datum, validate: bool) -> *mut pg_sys::bytea {
    let table = [
        compat::relopt_parse_elt(c"lists", pg_sys::relopt_type::RELOPT_TYPE_INT, std::mem::offset_of!(Stored, lists)),
        compat::relopt_parse_elt(c"sample", pg_sys::relopt_type::RELOPT_TYPE_INT, std::mem::offset_of!(Stored, sample)),
        compat::relopt_parse_elt(c"code_bits", pg_sys::relopt_type::RELOPT_TYPE_INT, std::mem::offset_of!(Stored, code_bits)),
    ];
    // SAFETY: the table describes `Stored`, whose size is passed along.
    unsafe {
        pg_sys::build_reloptions(reloptions, validate, KIND.load(Ordering::Relaxed), std::mem::size_of::<Stored>(), table.as_ptr(), table.len() as i32).cast()
    }
}

/// The parameters of an index. `code_bits` is checked when a build uses it (a quantizer
/// refuses all but 1 and 4), so that the message can say why.
pub fn of(index: pg_sys::Relation) -> Options {
    // SAFETY: rd_options of a quantvec index is null or what amoptions built.
    unsafe {
        let options = (*index).rd_options.cast::<c_void>().cast::<Stored>();
        if options.is_null() {
            return Options { lists: 0, sample: 0, code_bits: 1 };
        }
        Options { lists: (*options).lists.max(0) as usize, sample: (*options).sample.max(0) as usize, code_bits: (*options).code_bits.clamp(1, 4) as u8 }
    }
}
