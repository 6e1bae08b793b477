//! pgvector's `vector` and `halfvec` values, read and written without pgvector, for the
//! casts of the companion extension `quantvec_pgvector`. After the varlena header a value
//! holds a 16-bit dimension count, 16 unused bits, then its components as native-endian
//! f32 (`vector`) or IEEE half floats (`halfvec`): pgvector's layout since 0.1 and 0.7.

use half::f16;

use crate::error::{bail, Error, Result};

/// pgvector's limit for both types (`VECTOR_MAX_DIM`, `HALFVEC_MAX_DIM`).
pub const MAX_DIMENSIONS: usize = 16_000;

/// Bytes before the components: the dimension count and the unused field.
const PREFIX: usize = 4;

/// The components of a `vector` value (its bytes after the varlena header).
pub fn decode_vector(payload: &[u8]) -> Result<Vec<f32>> {
    Ok(vector_components(payload)?.chunks_exact(4).map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]])).collect())
}

/// The bytes of a `vector` value's components (native-endian f32), checked and in place.
pub fn vector_components(payload: &[u8]) -> Result<&[u8]> {
    components("vector", payload, 4)
}

/// The components of a `halfvec` value (its bytes after the varlena header), as f32.
pub fn decode_halfvec(payload: &[u8]) -> Result<Vec<f32>> {
    let components = components("halfvec", payload, 2)?;
    Ok(components.chunks_exact(2).map(|c| f16::from_ne_bytes([c[0], c[1]]).to_f32()).collect())
}

/// The bytes after the varlena header of the `vector` holding `values`.
pub fn encode_vector(values: &[f32]) -> Result<Vec<u8>> {
    if values.is_empty() {
        bail!(DataException, "vector must have at least 1 dimension");
    }
    if values.len() > MAX_DIMENSIONS {
        bail!(TooLarge, "vector cannot have more than {MAX_DIMENSIONS} dimensions (got {})", values.len());
    }
    let mut bytes = Vec::with_capacity(PREFIX + 4 * values.len());
    bytes.extend_from_slice(&(values.len() as i16).to_ne_bytes());
    bytes.extend_from_slice(&0i16.to_ne_bytes());
    for value in values {
        bytes.extend_from_slice(&value.to_ne_bytes());
    }
    Ok(bytes)
}

/// The component bytes of a value whose components take `width` bytes each, after checking
/// that its dimension count agrees with its length (the quantizers refuse non-finite
/// components, which pgvector never stores).
fn components<'a>(type_name: &str, payload: &'a [u8], width: usize) -> Result<&'a [u8]> {
    let corrupt = |detail: String| Error::corrupt_wire(type_name, detail);
    if payload.len() < PREFIX {
        return Err(corrupt(format!("{} bytes, fewer than the {PREFIX} of the header", payload.len())));
    }
    let dims = i16::from_ne_bytes([payload[0], payload[1]]);
    let dims = usize::try_from(dims).ok().filter(|&d| (1..=MAX_DIMENSIONS).contains(&d)).ok_or_else(|| corrupt(format!("{dims} dimensions")))?;
    let components = &payload[PREFIX..];
    if components.len() != dims * width {
        return Err(corrupt(format!("{dims} dimensions in {} bytes of components", components.len())));
    }
    Ok(components)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn halfvec(values: &[f32]) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&(values.len() as i16).to_ne_bytes());
        bytes.extend_from_slice(&0i16.to_ne_bytes());
        for value in values {
            bytes.extend_from_slice(&f16::from_f32(*value).to_ne_bytes());
        }
        bytes
    }

    #[test]
    fn vectors_round_trip_exactly() {
        let values = [1.0, -2.5, 3.25e-8, f32::MAX, f32::MIN_POSITIVE, 0.0];
        assert_eq!(decode_vector(&encode_vector(&values).unwrap()).unwrap(), values);
    }

    #[test]
    fn halfvecs_widen_exactly() {
        let values = [1.0, -2.5, 65504.0, 0.000061035156, 0.0];
        assert_eq!(decode_halfvec(&halfvec(&values)).unwrap(), values);
    }

    #[test]
    fn inconsistent_values_are_corrupt() {
        let mut bytes = encode_vector(&[1.0, 2.0]).unwrap();
        bytes.pop();
        assert_eq!(decode_vector(&bytes).unwrap_err().kind, ErrorKind::InvalidBinary);
        assert_eq!(decode_vector(&[1, 0]).unwrap_err().kind, ErrorKind::InvalidBinary);
        let mut zero_dims = encode_vector(&[1.0]).unwrap();
        zero_dims[..2].copy_from_slice(&0i16.to_ne_bytes());
        zero_dims.truncate(PREFIX);
        assert_eq!(decode_vector(&zero_dims).unwrap_err().kind, ErrorKind::InvalidBinary);
        let mut negative = halfvec(&[1.0]);
        negative[..2].copy_from_slice(&(-1i16).to_ne_bytes());
        assert_eq!(decode_halfvec(&negative).unwrap_err().kind, ErrorKind::InvalidBinary);
        // A vector's bytes read as a halfvec have twice the bytes its count says.
        assert_eq!(decode_halfvec(&encode_vector(&[1.0, 2.0]).unwrap()).unwrap_err().kind, ErrorKind::InvalidBinary);
    }

    #[test]
    fn dimension_limits_are_pgvectors() {
        assert!(encode_vector(&vec![0.5; MAX_DIMENSIONS]).is_ok());
        assert_eq!(encode_vector(&vec![0.5; MAX_DIMENSIONS + 1]).unwrap_err().kind, ErrorKind::TooLarge);
        assert_eq!(encode_vector(&[]).unwrap_err().kind, ErrorKind::DataException);
    }
}
