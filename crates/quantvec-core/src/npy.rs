//! Reader for the `.npy` files the datasets ship in: a short header, then little-endian
//! C-order data. Only what the datasets use is supported: 2-d arrays of float16, float32
//! or int32.

use std::path::Path;

use half::f16;

use crate::error::{bail, Error, ErrorKind, Result};

/// A 2-d array read from a `.npy` file.
#[derive(Clone, Debug)]
pub struct Matrix<T> {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<T>,
}

impl<T> Matrix<T> {
    pub fn row(&self, i: usize) -> &[T] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidParameter, format!("{}: {e}", path.display()))
}

/// Reads float16 or float32 data as f32.
pub fn read_f32(path: &Path) -> Result<Matrix<f32>> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    decode_f32(&bytes).map_err(|e| io_error(path, e))
}

pub fn read_i32(path: &Path) -> Result<Matrix<i32>> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    decode_i32(&bytes).map_err(|e| io_error(path, e))
}

/// [`read_f32`] of a file's bytes.
pub fn decode_f32(bytes: &[u8]) -> Result<Matrix<f32>> {
    let (dtype, rows, cols, data) = parse(bytes)?;
    let data: Vec<f32> = match dtype.as_str() {
        "<f2" => data.chunks_exact(2).map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        "<f4" => data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
        other => bail!(InvalidParameter, "dtype {other} is not a float type"),
    };
    Ok(Matrix { rows, cols, data })
}

/// [`read_i32`] of a file's bytes.
pub fn decode_i32(bytes: &[u8]) -> Result<Matrix<i32>> {
    let (dtype, rows, cols, data) = parse(bytes)?;
    if dtype != "<i4" {
        bail!(InvalidParameter, "dtype {dtype} is not int32");
    }
    let data = data.chunks_exact(4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Ok(Matrix { rows, cols, data })
}

/// Writes a 2-d float16 array (used to cut the sample the repository ships).
pub fn write_f16(path: &Path, rows: usize, cols: usize, data: &[f32]) -> Result<()> {
    write(path, "<f2", rows, cols, data.iter().flat_map(|&v| f16::from_f32(v).to_le_bytes()))
}

/// Writes a 2-d int32 array (the exact neighbours of a cut sample).
pub fn write_i32(path: &Path, rows: usize, cols: usize, data: &[i32]) -> Result<()> {
    write(path, "<i4", rows, cols, data.iter().flat_map(|&v| v.to_le_bytes()))
}

fn write(path: &Path, dtype: &str, rows: usize, cols: usize, data: impl Iterator<Item = u8>) -> Result<()> {
    let mut header = format!("{{'descr': '{dtype}', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // Magic (6) + version (2) + length (2) + header + newline is padded to a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    let start = out.len();
    out.extend(data);
    assert_eq!(out.len() - start, rows * cols * if dtype == "<f2" { 2 } else { 4 });
    std::fs::write(path, out).map_err(|e| io_error(path, e))
}

/// Splits a file into (dtype, rows, cols, data bytes).
fn parse(bytes: &[u8]) -> Result<(String, usize, usize, &[u8])> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        bail!(InvalidParameter, "not an .npy file");
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        v => bail!(InvalidParameter, "unsupported .npy version {v}"),
    };
    let Some(header) = bytes.get(start..start + header_len) else { bail!(InvalidParameter, "truncated .npy header") };
    let header = String::from_utf8_lossy(header);
    let field = |key: &str| -> Option<String> {
        let at = header.find(&format!("'{key}'"))? + key.len() + 2;
        let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
        Some(rest.to_string())
    };
    let dtype = field("descr").and_then(|r| r.split('\'').nth(1).map(str::to_string));
    let Some(dtype) = dtype else { bail!(InvalidParameter, "no descr in .npy header") };
    if field("fortran_order").is_some_and(|r| r.starts_with("True")) {
        bail!(InvalidParameter, "Fortran-order .npy files are not supported");
    }
    let shape = field("shape").and_then(|r| r.strip_prefix('(').and_then(|r| r.split(')').next().map(str::to_string)));
    let Some(shape) = shape else { bail!(InvalidParameter, "no shape in .npy header") };
    let dims: Vec<usize> = shape.split(',').map(str::trim).filter(|s| !s.is_empty()).filter_map(|s| s.parse().ok()).collect();
    let [rows, cols] = dims[..] else { bail!(InvalidParameter, "expected a 2-d array, got shape ({shape})") };
    let width = match dtype.as_str() {
        "<f2" => 2,
        "<f4" | "<i4" => 4,
        other => bail!(InvalidParameter, "unsupported dtype {other}"),
    };
    let data = &bytes[start + header_len..];
    // A shape's product can overflow (and, wrapped, match a short file).
    let Some(expected) = rows.checked_mul(cols).and_then(|n| n.checked_mul(width)) else {
        bail!(InvalidParameter, "shape ({rows}, {cols}) is too large");
    };
    if data.len() != expected {
        bail!(InvalidParameter, "expected {expected} data bytes, found {}", data.len());
    }
    Ok((dtype, rows, cols, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_float16() {
        let dir = std::env::temp_dir().join(format!("quantvec-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.npy");
        let data = [0.5f32, -1.25, 3.0, 0.0, 1.0, -0.5];
        write_f16(&path, 2, 3, &data).unwrap();
        let m = read_f32(&path).unwrap();
        assert_eq!((m.rows, m.cols), (2, 3));
        assert_eq!(m.data, data);
        assert_eq!(m.row(1), &data[3..]);
        assert!(read_i32(&path).is_err());
        let ids = [7, -1, i32::MAX, 0];
        write_i32(&path, 2, 2, &ids).unwrap();
        let m = read_i32(&path).unwrap();
        assert_eq!((m.rows, m.cols, m.data.as_slice()), (2, 2, &ids[..]));
        assert!(read_f32(&path).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Found by tests/fuzz.rs: the product of a huge shape overflowed (a panic in debug
    /// builds; wrapped to 0 in release, which an empty data section then matched).
    #[test]
    fn refuses_shapes_whose_size_overflows() {
        for shape in ["(9223372036854775808, 2)", "(4294967296, 4294967296)", "(2, 3)"] {
            let mut header = format!("{{'descr': '<f2', 'fortran_order': False, 'shape': {shape}, }}");
            while (10 + header.len() + 1) % 64 != 0 {
                header.push(' ');
            }
            header.push('\n');
            let mut file = b"\x93NUMPY\x01\x00".to_vec();
            file.extend_from_slice(&(header.len() as u16).to_le_bytes());
            file.extend_from_slice(header.as_bytes());
            let err = decode_f32(&file).unwrap_err();
            let expected = if shape == "(2, 3)" { "expected 12 data bytes" } else { "too large" };
            assert!(err.message.contains(expected), "{shape}: {}", err.message);
        }
    }
}
