//! SQL array arguments read in place as slices (one-dimensional, no NULLs).

use pgrx::pg_sys;

use crate::varlena::array_elements;

macro_rules! array_arg {
    ($(#[$doc:meta])* $name:ident, $element:ty, $sql:literal) => {
        $(#[$doc])*
        pub struct $name<'a>(pub &'a [$element]);

        impl<'a> pgrx::datum::FromDatum for $name<'a> {
            unsafe fn from_polymorphic_datum(datum: pg_sys::Datum, is_null: bool, _: pg_sys::Oid) -> Option<Self> {
                // SAFETY: pgrx passes a datum of the declared array type.
                (!is_null).then(|| $name(unsafe { array_elements::<$element>(datum) }))
            }
        }

        // SAFETY: unboxing goes through FromDatum above, which checks the element type.
        unsafe impl<'fcx> pgrx::callconv::ArgAbi<'fcx> for $name<'fcx> {
            unsafe fn unbox_arg_unchecked(arg: pgrx::callconv::Arg<'_, 'fcx>) -> Self {
                let index = arg.index();
                // SAFETY: per this fn's contract the argument is a datum of the declared array type.
                unsafe { arg.unbox_arg_using_from_datum() }
                    .unwrap_or_else(|| panic!("argument {index} must not be null"))
            }

            unsafe fn unbox_nullable_arg(arg: pgrx::callconv::Arg<'_, 'fcx>) -> pgrx::nullable::Nullable<Self> {
                // SAFETY: as above; FromDatum maps a NULL to None.
                unsafe { arg.unbox_arg_using_from_datum() }.into()
            }
        }

        pgrx::impl_sql_translatable!($name<'_>, arg_only = $sql);
    };
}

array_arg!(
    /// A `real[]` argument.
    RealArray, f32, "real[]"
);
array_arg!(
    /// A `double precision[]` argument.
    Float8Array, f64, "double precision[]"
);
array_arg!(
    /// An `integer[]` argument.
    Int4Array, i32, "integer[]"
);
