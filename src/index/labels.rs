//! The label column: how a row's label and a scan key's values become the `i32` labels the
//! index stores and compares. An `int4` label (`int4_label_ops`) is stored as it is. Any
//! other type's (`int8_label_ops`, `text_label_ops`, `uuid_label_ops`) is stored as its
//! 32-bit hash under the type's own hash function (the class's support function 2, with
//! one per right-hand type for cross-type keys), so that equal values have equal labels;
//! the executor rechecks the rows a filtered scan returns, which drops those whose hash
//! merely collides.

use pgrx::pg_sys;
use pgrx::prelude::*;
use quantvec_core::ErrorKind;

use crate::error::raise_with;

/// Support function 1 of `int4_label_ops`: labels stored as they are.
pub const LABEL_INT4: i32 = 1 << 16;
/// Support function 1 of the hashed label classes: labels stored as their hash.
pub const LABEL_HASHED: i32 = 2 << 16;

/// The index column that holds labels (the second), as `index_getprocid` counts.
const LABEL_COLUMN: u16 = 2;
/// The hashed classes' support function that hashes a value.
const HASH_PROC: u16 = 2;

#[pg_extern(immutable, parallel_safe)]
fn quantvec_label_int4() -> i32 {
    LABEL_INT4
}

#[pg_extern(immutable, parallel_safe)]
fn quantvec_label_hashed() -> i32 {
    LABEL_HASHED
}

/// Whether an index has a label column after its vector: at most one, of a label operator
/// class.
pub fn has_label_column(index: pg_sys::Relation) -> bool {
    // SAFETY: index is an open index relation.
    let columns = unsafe { (*(*index).rd_index).indnatts };
    match columns {
        1 => false,
        2 => match super::support_value(index, LABEL_COLUMN) {
            LABEL_INT4 => true,
            LABEL_HASHED if hash_proc(index) != pg_sys::InvalidOid => true,
            _ => raise_with(ErrorKind::InvalidParameter, "the second column of a quantvec index is a label column (int4, int8, text or uuid)"),
        },
        _ => raise_with(ErrorKind::InvalidParameter, "a quantvec index has a vector column and at most one label column"),
    }
}

/// The label column's hash function (InvalidOid where labels are stored as they are, or
/// there is no label column).
fn hash_proc(index: pg_sys::Relation) -> pg_sys::Oid {
    // SAFETY: index is an open index relation; its support functions are read only for a
    // column it has, and a missing one reads as InvalidOid.
    unsafe {
        if (*(*index).rd_index).indnatts < LABEL_COLUMN as i16 {
            return pg_sys::InvalidOid;
        }
        pg_sys::index_getprocid(index, LABEL_COLUMN as _, HASH_PROC)
    }
}

/// The label column's value among an index row's `values` and null flags, as the index
/// stores it (None where the index has no label column, or the value is NULL).
///
/// # Safety
/// `values` and `isnull` hold one entry per column of the open index `index`.
pub unsafe fn label_of(index: pg_sys::Relation, values: *const pg_sys::Datum, isnull: *const bool) -> Option<i32> {
    // SAFETY: as the caller promises. An int4 label is passed by value; a hashed label
    // column's support function 2 hashes a value of the column's type, with its collation.
    unsafe {
        let column = usize::from(LABEL_COLUMN - 1);
        if (*(*index).rd_index).indnatts <= column as i16 || *isnull.add(column) {
            return None;
        }
        let value = *values.add(column);
        if hash_proc(index) == pg_sys::InvalidOid {
            return Some(value.value() as i32);
        }
        let hash = pg_sys::index_getprocinfo(index, LABEL_COLUMN as _, HASH_PROC);
        Some(pg_sys::FunctionCall1Coll(hash, *(*index).rd_indcollation.add(column), value).value() as i32)
    }
}

/// The labels a row must have one of to pass every key on the label column (None without
/// keys): `label = v` or `label = ANY(array)`. A NULL never matches; nor does an int8
/// outside int4's range on an int4 column. Hashed labels may match rows whose value only
/// shares the hash, which the executor's recheck drops.
pub fn key_labels(index: pg_sys::Relation, keys: &[pg_sys::ScanKeyData]) -> Option<Vec<i32>> {
    let hashed = hash_proc(index) != pg_sys::InvalidOid;
    let mut filter: Option<Vec<i32>> = None;
    for key in keys {
        let mut values = if key.sk_flags & pg_sys::SK_ISNULL as i32 != 0 {
            Vec::new()
        } else {
            // SAFETY: a scan key on the label column holds a non-null datum of the
            // operator's right-hand type, or for SEARCHARRAY an array of them.
            let datums = unsafe { key_datums(key) };
            if hashed {
                // SAFETY: the datums are of the key's right-hand type, whose hash
                // function the class lists.
                unsafe { hash_all(index, key, &datums) }
            } else {
                let right_type = IntType::of(key);
                datums.into_iter().filter_map(|d| i32::try_from(right_type.value(d)).ok()).collect()
            }
        };
        values.sort_unstable();
        filter = Some(match filter {
            None => values,
            // (Searched, as two `= ANY` lists of thousands would take millions of compares.)
            Some(kept) => kept.into_iter().filter(|v| values.binary_search(v).is_ok()).collect(),
        });
    }
    filter
}

/// The type of an int4 label key's right-hand side, which its strategy names
/// (`int4_label_ops`: 1 `=(int4, int4)`, 2 `=(int4, int2)`, 3 `=(int4, int8)`).
enum IntType {
    Int4,
    Int2,
    Int8,
}

impl IntType {
    fn of(key: &pg_sys::ScanKeyData) -> IntType {
        match key.sk_strategy {
            1 => IntType::Int4,
            2 => IntType::Int2,
            _ => IntType::Int8,
        }
    }

    fn value(&self, datum: pg_sys::Datum) -> i64 {
        let bits = datum.value();
        match self {
            IntType::Int4 => i64::from(bits as i32),
            IntType::Int2 => i64::from(bits as i16),
            IntType::Int8 => bits as i64,
        }
    }
}

/// The key's non-NULL values: its argument, or its array's elements.
///
/// # Safety
/// `key` is a non-NULL key whose argument is a datum of its right-hand type, or with
/// SK_SEARCHARRAY a non-null array of that type.
unsafe fn key_datums(key: &pg_sys::ScanKeyData) -> Vec<pg_sys::Datum> {
    if key.sk_flags & pg_sys::SK_SEARCHARRAY as i32 == 0 {
        return vec![key.sk_argument];
    }
    // SAFETY: as the caller promises; deconstruct_array reads the detoasted array with its
    // element type's layout and returns palloc'd arrays of n entries, freed here (a
    // by-reference element points into the array, which stays while the scan runs).
    unsafe {
        let array = pg_sys::pg_detoast_datum(key.sk_argument.cast_mut_ptr()).cast::<pg_sys::ArrayType>();
        let element_type = (*array).elemtype;
        let (mut len, mut by_value, mut align) = (0i16, false, 0 as std::ffi::c_char);
        pg_sys::get_typlenbyvalalign(element_type, &mut len, &mut by_value, &mut align);
        let (mut elements, mut nulls, mut count) = (std::ptr::null_mut(), std::ptr::null_mut(), 0);
        pg_sys::deconstruct_array(array, element_type, len.into(), by_value, align, &mut elements, &mut nulls, &mut count);
        let count = usize::try_from(count).unwrap_or(0);
        let datums = (0..count).filter(|&i| !*nulls.add(i)).map(|i| *elements.add(i)).collect();
        if count > 0 {
            pg_sys::pfree(elements.cast());
            pg_sys::pfree(nulls.cast());
        }
        datums
    }
}

/// `datums`, the values of `key`, hashed as the label column's values are: with the
/// class's hash function for the key's right-hand type (`int8_label_ops` lists hashint4
/// for an int4 key, which PostgreSQL keeps equal to hashint8 of the same number).
///
/// # Safety
/// `index` has a hashed label column; `datums` are values of the key's right-hand type.
unsafe fn hash_all(index: pg_sys::Relation, key: &pg_sys::ScanKeyData, datums: &[pg_sys::Datum]) -> Vec<i32> {
    // SAFETY: the index's second column has an operator family and input type; a
    // function found for them is a hash function of the right-hand type, called with the
    // key's collation.
    unsafe {
        let column = usize::from(LABEL_COLUMN - 1);
        let (family, input_type) = (*(*index).rd_opfamily.add(column), *(*index).rd_opcintype.add(column));
        let right_type = if key.sk_subtype == pg_sys::InvalidOid { input_type } else { key.sk_subtype };
        let proc = pg_sys::get_opfamily_proc(family, input_type, right_type, HASH_PROC as i16);
        if proc == pg_sys::InvalidOid {
            raise_with(ErrorKind::InvalidParameter, "a quantvec label operator class lacks a hash function for its right-hand type");
        }
        let mut function = pg_sys::FmgrInfo::default();
        pg_sys::fmgr_info(proc, &mut function);
        datums.iter().map(|&d| pg_sys::FunctionCall1Coll(&mut function, key.sk_collation, d).value() as i32).collect()
    }
}
