//! `int8vec`, `int4vec` and `bitvec` for Rust's `postgres` crate: `ToSql`/`FromSql` over the binary
//! wire format (the same code the server's send/recv functions use), so values travel
//! without a text detour and arrive validated.
//!
//! ```no_run
//! use quantvec_client::Int8Vec;
//! # fn main() -> Result<(), postgres::Error> {
//! let mut client = postgres::Client::connect("host=/tmp user=postgres", postgres::NoTls)?;
//! let v = Int8Vec::quantize(&[0.1, -0.2, 0.3]).unwrap();
//! client.execute("INSERT INTO items (embedding) VALUES ($1)", &[&v])?;
//! let row = client.query_one("SELECT embedding FROM items LIMIT 1", &[])?;
//! let back: Int8Vec = row.get(0);
//! # Ok(()) }
//! ```

use std::error::Error;

use bytes::{BufMut, BytesMut};
use postgres_types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use quantvec_core::bits::BitVector;
use quantvec_core::int4::Int4Vector;
use quantvec_core::int8::Int8Vector;

/// An `int8vec` value: int8 codes with their scale and zero-point.
#[derive(Clone, Debug, PartialEq)]
pub struct Int8Vec(pub Int8Vector);

impl Int8Vec {
    /// Per-vector min/max quantization, as the server's `real[]::int8vec` cast does.
    pub fn quantize(values: &[f32]) -> quantvec_core::Result<Int8Vec> {
        Int8Vector::quantize_minmax(values).map(Int8Vec)
    }

    pub fn to_floats(&self) -> Vec<f32> {
        self.0.dequantize()
    }
}

/// An `int4vec` value: 4-bit codes with their scale and zero-point.
#[derive(Clone, Debug, PartialEq)]
pub struct Int4Vec(pub Int4Vector);

impl Int4Vec {
    /// Per-vector min/max quantization, as the server's `real[]::int4vec` cast does.
    pub fn quantize(values: &[f32]) -> quantvec_core::Result<Int4Vec> {
        Int4Vector::quantize_minmax(values).map(Int4Vec)
    }

    pub fn to_floats(&self) -> Vec<f32> {
        self.0.dequantize()
    }
}

impl ToSql for Int4Vec {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_slice(&self.0.packed().view().to_wire());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        named(ty, "int4vec")
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Int4Vec {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(Int4Vec(Int4Vector::from_wire(raw)?))
    }

    fn accepts(ty: &Type) -> bool {
        named(ty, "int4vec")
    }
}

/// A `bitvec` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BitVec(pub BitVector);

fn named(ty: &Type, name: &str) -> bool {
    ty.name() == name
}

impl ToSql for Int8Vec {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_slice(&self.0.view().to_wire());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        named(ty, "int8vec")
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Int8Vec {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(Int8Vec(Int8Vector::from_wire(raw)?))
    }

    fn accepts(ty: &Type) -> bool {
        named(ty, "int8vec")
    }
}

impl ToSql for BitVec {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_slice(&self.0.view().to_wire());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        named(ty, "bitvec")
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for BitVec {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(BitVec(BitVector::from_wire(raw)?))
    }

    fn accepts(ty: &Type) -> bool {
        named(ty, "bitvec")
    }
}
