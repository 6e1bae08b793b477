//! The SQL types. Each is a hand-declared varlena: a shell type in `sql/bootstrap.sql`,
//! input/output/receive/send/typmod functions here, and `CREATE TYPE` in `sql/types.sql`.

pub mod bitvec;
pub mod int4vec;
pub mod int8vec;

use std::ffi::{CStr, CString};

use quantvec_core::ErrorKind;

use crate::error::raise_with;

/// Implements the pgrx traits that make `$input` an argument and `$output` a result of the
/// SQL type `$sql`: `$input` views a detoasted datum through `$view::decode`, `$output`
/// wraps an owned value with `encoded_len`/`encode_into`.
macro_rules! sql_varlena {
    ($sql:literal, $input:ident($view:ident), $output:ident) => {
        impl<'a> pgrx::datum::FromDatum for $input<'a> {
            unsafe fn from_polymorphic_datum(datum: pgrx::pg_sys::Datum, is_null: bool, _: pgrx::pg_sys::Oid) -> Option<Self> {
                if is_null {
                    return None;
                }
                // SAFETY: pgrx passes a datum of this SQL type, a varlena.
                let bytes = unsafe { crate::varlena::payload(datum) };
                Some($input(crate::error::OrRaise::or_raise($view::decode(bytes))))
            }
        }

        // SAFETY: unboxing goes through FromDatum above, which validates the value.
        unsafe impl<'fcx> pgrx::callconv::ArgAbi<'fcx> for $input<'fcx> {
            unsafe fn unbox_arg_unchecked(arg: pgrx::callconv::Arg<'_, 'fcx>) -> Self {
                let index = arg.index();
                // SAFETY: per this fn's contract the argument is a datum of this SQL type, a varlena.
                unsafe { arg.unbox_arg_using_from_datum() }.unwrap_or_else(|| panic!("argument {index} must not be null"))
            }

            unsafe fn unbox_nullable_arg(arg: pgrx::callconv::Arg<'_, 'fcx>) -> pgrx::nullable::Nullable<Self> {
                // SAFETY: as above; FromDatum maps a NULL to None.
                unsafe { arg.unbox_arg_using_from_datum() }.into()
            }
        }

        pgrx::impl_sql_translatable!($input<'_>, $sql);

        impl<'a> std::ops::Deref for $input<'a> {
            type Target = $view<'a>;

            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        impl pgrx::datum::IntoDatum for $output {
            fn into_datum(self) -> Option<pgrx::pg_sys::Datum> {
                Some(crate::varlena::new_varlena(self.0.encoded_len(), |out| self.0.encode_into(out)))
            }

            fn type_oid() -> pgrx::pg_sys::Oid {
                pgrx::wrappers::regtypein($sql)
            }
        }

        // SAFETY: IntoDatum allocates a varlena of this SQL type in the current memory context.
        unsafe impl pgrx::callconv::BoxRet for $output {
            unsafe fn box_into<'fcx>(self, fcinfo: &mut pgrx::callconv::FcInfo<'fcx>) -> pgrx::datum::Datum<'fcx> {
                match pgrx::datum::IntoDatum::into_datum(self) {
                    // SAFETY: a varlena of this SQL type just palloc'd in the current memory
                    // context, which outlives the call.
                    Some(datum) => unsafe { fcinfo.return_raw_datum(datum) },
                    None => fcinfo.return_null(),
                }
            }
        }

        pgrx::impl_sql_translatable!($output, $sql);
    };
}
pub(crate) use sql_varlena;

/// The dimension count in `type(n)`.
pub fn typmod_in(list: &[&CStr], type_name: &str, max_dims: usize) -> i32 {
    let [modifier] = list else {
        raise_with(ErrorKind::InvalidParameter, format!("invalid type modifier for {type_name}: expected one dimension count"));
    };
    let dims: i64 = modifier
        .to_str()
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or_else(|| raise_with(ErrorKind::InvalidParameter, format!("invalid type modifier for {type_name}")));
    if dims < 1 {
        raise_with(ErrorKind::InvalidParameter, format!("dimensions for type {type_name} must be at least 1"));
    }
    if dims > max_dims as i64 {
        raise_with(ErrorKind::InvalidParameter, format!("dimensions for type {type_name} cannot exceed {max_dims}"));
    }
    dims as i32
}

pub fn typmod_out(typmod: i32) -> CString {
    let text = if typmod < 0 { String::new() } else { format!("({typmod})") };
    CString::new(text).expect("digits have no NUL")
}

/// A value's dimensions against a column's declared ones (typmod −1: undeclared).
pub fn check_typmod(dims: usize, typmod: i32, type_name: &str) {
    if typmod >= 0 && dims != typmod as usize {
        raise_with(ErrorKind::DataException, format!("expected {typmod} dimensions for {type_name}, not {dims}"));
    }
}

/// A cstring argument as UTF-8 text.
pub fn input_text<'a>(input: &'a CStr, type_name: &str) -> &'a str {
    input.to_str().unwrap_or_else(|_| raise_with(ErrorKind::InvalidText, format!("invalid byte sequence in {type_name} literal")))
}
