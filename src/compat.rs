//! What differs between the PostgreSQL versions quantvec builds for (15 to 18), in one
//! place: the rest of the extension calls these and carries no version `cfg`s.

use pgrx::pg_sys;

/// The relation's file number (changes with every rewrite, e.g. REINDEX).
///
/// # Safety
/// `relation` is an open relation.
pub unsafe fn relation_file_number(relation: pg_sys::Relation) -> u32 {
    // SAFETY: the caller guarantees an open relation, whose fields may be read.
    #[cfg(feature = "pg15")]
    let number = unsafe { (*relation).rd_node.relNode };
    // SAFETY: as above (PostgreSQL 16 renamed RelFileNode to RelFileLocator).
    #[cfg(not(feature = "pg15"))]
    let number = unsafe { (*relation).rd_locator.relNumber };
    number.to_u32()
}

/// Pins `block` of `relation`'s main fork if `buffer` still holds it (`ReadRecentBuffer`),
/// counting the access in the relation's statistics as `ReadBuffer` does.
///
/// # Safety
/// `relation` is an open relation; any buffer number may be tried.
pub unsafe fn read_recent_buffer(relation: pg_sys::Relation, block: u32, buffer: pg_sys::Buffer) -> bool {
    // SAFETY: the caller guarantees an open relation; ReadRecentBuffer pins `buffer` only
    // if it still holds this block of this relation and returns false otherwise.
    #[cfg(feature = "pg15")]
    let pinned = unsafe { pg_sys::ReadRecentBuffer((*relation).rd_node, pg_sys::ForkNumber::MAIN_FORKNUM, block, buffer) };
    // SAFETY: as above.
    #[cfg(not(feature = "pg15"))]
    let pinned = unsafe { pg_sys::ReadRecentBuffer((*relation).rd_locator, pg_sys::ForkNumber::MAIN_FORKNUM, block, buffer) };
    if pinned {
        // SAFETY: pgstat_info is null or the relation's statistics entry for this transaction.
        if let Some(stats) = unsafe { (*relation).pgstat_info.as_mut() } {
            #[cfg(feature = "pg15")]
            {
                stats.t_counts.t_blocks_fetched += 1;
                stats.t_counts.t_blocks_hit += 1;
            }
            #[cfg(not(feature = "pg15"))]
            {
                stats.counts.blocks_fetched += 1;
                stats.counts.blocks_hit += 1;
            }
        }
    }
    pinned
}

/// Vacuum's cost-based delay and interrupt check.
///
/// # Safety
/// Called with no buffer locked.
pub unsafe fn vacuum_delay_point() {
    // SAFETY: the caller holds no buffer lock.
    #[cfg(not(feature = "pg18"))]
    unsafe {
        pg_sys::vacuum_delay_point()
    };
    // SAFETY: as above (PostgreSQL 18 asks whether the caller is ANALYZE).
    #[cfg(feature = "pg18")]
    unsafe {
        pg_sys::vacuum_delay_point(false)
    };
}

/// The type modifier of the first attribute of a tuple descriptor (an index's key column).
///
/// # Safety
/// `desc` is a valid tuple descriptor with at least one attribute.
pub unsafe fn first_attribute_typmod(desc: pg_sys::TupleDesc) -> i32 {
    // SAFETY: the caller guarantees one attribute; PostgreSQL 18 keeps the full attributes
    // behind a compact array, where TupleDescAttr finds them.
    #[cfg(feature = "pg18")]
    let typmod = unsafe { (*pg_sys::TupleDescAttr(desc, 0)).atttypmod };
    // SAFETY: as above; before 18 the attributes are the descriptor's trailing array.
    #[cfg(not(feature = "pg18"))]
    let typmod = unsafe { (*(*desc).attrs.as_ptr()).atttypmod };
    typmod
}

/// A reloption parse entry (PostgreSQL 18 added a field for "was it set", unused here).
pub fn relopt_parse_elt(name: &'static std::ffi::CStr, opttype: pg_sys::relopt_type::Type, offset: usize) -> pg_sys::relopt_parse_elt {
    pg_sys::relopt_parse_elt {
        optname: name.as_ptr(),
        opttype,
        offset: offset as i32,
        #[cfg(feature = "pg18")]
        isset_offset: 0,
    }
}
