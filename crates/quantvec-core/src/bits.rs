//! `bitvec`: one bit per dimension.
//!
//! Stored payload (after the varlena header): dims (u16, native-endian), then ⌈dims/8⌉
//! bytes with dimension `i` in bit `i % 8` of byte `i / 8` (least significant bit first, so
//! two bytes are directly the AVX-512 lane mask of sixteen dimensions). Padding bits are 0.
//!
//! Outside the server the conventional order is used instead: binary send/recv, `bytea`
//! import/export and the casts to `bit`/`varbit` put dimension 0 in the most significant
//! bit of the first byte, as Postgres's `bit` type and numpy's `packbits` do.
//!
//! Against a float query a bitvec stands for the ±1 vector (bit 1 → +1, bit 0 → −1), the
//! usual reading of a sign-quantized embedding.

use crate::error::{bail, Error, Result};
use crate::floats::{self, Query};
use crate::int8::Int8Ref;
use crate::kernels::Kernels;

pub const TYPE_NAME: &str = "bitvec";
pub const MAX_DIMS: usize = 64_000;
pub const HEADER_LEN: usize = 2;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BitVector {
    dims: usize,
    bytes: Vec<u8>,
}

impl BitVector {
    pub fn from_bools(bits: impl ExactSizeIterator<Item = bool>) -> Result<BitVector> {
        let dims = bits.len();
        floats::check_dims(dims, TYPE_NAME, MAX_DIMS)?;
        let mut bytes = vec![0u8; dims.div_ceil(8)];
        for (i, bit) in bits.enumerate() {
            bytes[i / 8] |= u8::from(bit) << (i % 8);
        }
        Ok(BitVector { dims, bytes })
    }

    /// Sign quantization: bit = value > 0.
    pub fn from_signs(values: &[f32]) -> Result<BitVector> {
        floats::check(values, TYPE_NAME, MAX_DIMS)?;
        Self::from_bools(values.iter().map(|&v| v > 0.0))
    }

    /// bit = value > threshold, per dimension (e.g. thresholds = column means).
    pub fn from_thresholds(values: &[f32], thresholds: &[f32]) -> Result<BitVector> {
        floats::check(values, TYPE_NAME, MAX_DIMS)?;
        floats::check_same_dims(values.len(), thresholds.len(), "vector and threshold")?;
        if thresholds.iter().any(|t| t.is_nan()) {
            bail!(DataException, "NaN not allowed in {TYPE_NAME} thresholds");
        }
        Self::from_bools(values.iter().zip(thresholds).map(|(v, t)| v > t))
    }

    /// bit = dequantized value > 0, i.e. code > zero-point.
    pub fn from_int8(a: &Int8Ref) -> BitVector {
        Self::from_bools(a.codes.iter().map(|&c| c > a.params.zero_point)).expect("int8vec dims are within bitvec's")
    }

    /// Packed bits, most significant bit first (numpy `packbits`, Postgres `bit`). Padding
    /// bits after the last dimension must be 0.
    pub fn from_msb_bytes(bytes: &[u8], dims: usize) -> Result<BitVector> {
        floats::check_dims(dims, TYPE_NAME, MAX_DIMS)?;
        if bytes.len() != dims.div_ceil(8) {
            bail!(DataException, "{} bytes cannot hold {dims} dimensions of {TYPE_NAME}; {} are needed", bytes.len(), dims.div_ceil(8));
        }
        let padding = bytes.len() * 8 - dims;
        if padding > 0 && bytes[bytes.len() - 1] & ((1u8 << padding) - 1) != 0 {
            bail!(DataException, "{TYPE_NAME} padding bits after dimension {dims} must be 0");
        }
        Ok(BitVector { dims, bytes: bytes.iter().map(|b| b.reverse_bits()).collect() })
    }

    /// Text form: one `0` or `1` per dimension, dimension 0 first. A float list
    /// (`[0.1,-0.2]` or `{0.1,-0.2}`) is also accepted and quantized by sign.
    pub fn parse(text: &str) -> Result<BitVector> {
        if let Some(values) = floats::parse_list(text, TYPE_NAME)? {
            return Self::from_signs(&values);
        }
        let digits = text.trim();
        if let Some(bad) = digits.chars().find(|&c| c != '0' && c != '1') {
            let detail = format!("\"{bad}\" is not a binary digit; the form is a string of 0s and 1s");
            return Err(Error::syntax(TYPE_NAME, text, detail));
        }
        Self::from_bools(digits.bytes().map(|c| c == b'1'))
    }

    /// Binary form (send/recv), as Postgres sends `varbit`: dims (i32, big-endian), then
    /// the bits packed most significant bit first.
    pub fn from_wire(bytes: &[u8]) -> Result<BitVector> {
        let corrupt = |detail: String| Error::corrupt_wire(TYPE_NAME, detail);
        let Some((head, packed)) = bytes.split_first_chunk::<4>() else {
            return Err(corrupt(format!("{} bytes is shorter than the 4-byte header", bytes.len())));
        };
        let dims = i32::from_be_bytes(*head);
        if dims <= 0 || dims as usize > MAX_DIMS {
            return Err(corrupt(format!("dimension count {dims} is outside [1, {MAX_DIMS}]")));
        }
        Self::from_msb_bytes(packed, dims as usize).map_err(|e| corrupt(e.message))
    }

    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.bytes.len()
    }

    pub fn encode_into(&self, out: &mut [u8]) {
        assert_eq!(out.len(), self.encoded_len());
        let dims = u16::try_from(self.dims).expect("dims validated against MAX_DIMS");
        out[..HEADER_LEN].copy_from_slice(&dims.to_ne_bytes());
        out[HEADER_LEN..].copy_from_slice(&self.bytes);
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![0; self.encoded_len()];
        self.encode_into(&mut out);
        out
    }

    pub fn view(&self) -> BitRef<'_> {
        BitRef { dims: self.dims, bytes: &self.bytes }
    }
}

/// A borrowed, stored bit vector.
#[derive(Clone, Copy, Debug)]
pub struct BitRef<'a> {
    dims: usize,
    bytes: &'a [u8],
}

impl<'a> BitRef<'a> {
    /// Reads a stored payload, checking the header against the length.
    #[inline]
    pub fn decode(payload: &'a [u8]) -> Result<BitRef<'a>> {
        let Some((head, bytes)) = payload.split_first_chunk::<HEADER_LEN>() else {
            bail!(InvalidBinary, "corrupt {TYPE_NAME} value: {} bytes is shorter than the header", payload.len());
        };
        let dims = usize::from(u16::from_ne_bytes(*head));
        // Beyond MAX_DIMS no input function makes a value, and receive would refuse it.
        if dims == 0 || dims > MAX_DIMS || bytes.len() != dims.div_ceil(8) {
            bail!(InvalidBinary, "corrupt {TYPE_NAME} value: header says {dims} dimensions in {} bytes", bytes.len());
        }
        // Distances count every stored bit, and send would turn set padding bits into a
        // value that receive refuses.
        if dims % 8 != 0 && bytes[bytes.len() - 1] >> (dims % 8) != 0 {
            bail!(InvalidBinary, "corrupt {TYPE_NAME} value: padding bits after dimension {dims} are set");
        }
        Ok(BitRef { dims, bytes })
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The packed bits in storage order (least significant bit first).
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    pub fn to_owned(&self) -> BitVector {
        BitVector { dims: self.dims, bytes: self.bytes.to_vec() }
    }

    pub fn get(&self, i: usize) -> bool {
        self.bytes[i / 8] >> (i % 8) & 1 == 1
    }

    pub fn count_ones(&self) -> u64 {
        self.bytes.iter().map(|b| u64::from(b.count_ones())).sum()
    }

    pub fn to_msb_bytes(&self) -> Vec<u8> {
        self.bytes.iter().map(|b| b.reverse_bits()).collect()
    }

    pub fn to_text(&self) -> String {
        (0..self.dims).map(|i| if self.get(i) { '1' } else { '0' }).collect()
    }

    pub fn to_wire(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.bytes.len());
        out.extend_from_slice(&(self.dims as i32).to_be_bytes());
        out.extend(self.to_msb_bytes());
        out
    }
}

#[inline]
fn same_dims(a: &BitRef, b: &BitRef) -> Result<()> {
    floats::check_same_dims(a.dims, b.dims, TYPE_NAME)
}

/// Number of differing bits.
#[inline]
pub fn hamming_distance(k: &Kernels, a: &BitRef, b: &BitRef) -> Result<f64> {
    same_dims(a, b)?;
    Ok((k.hamming)(a.bytes, b.bytes) as f64)
}

/// 1 − |a ∧ b| / |a ∨ b|; 0 for two all-zero vectors (identical sets).
#[inline]
pub fn jaccard_distance(k: &Kernels, a: &BitRef, b: &BitRef) -> Result<f64> {
    same_dims(a, b)?;
    let (and, or) = (k.and_or)(a.bytes, b.bytes);
    if or == 0 {
        return Ok(0.0);
    }
    Ok(1.0 - and as f64 / or as f64)
}

/// ⟨x, ±1⟩ = 2·Σ_{set bits} x − Σx.
#[inline]
pub fn inner_product_f32(k: &Kernels, a: &BitRef, x: &Query) -> Result<f64> {
    x.check_dims(a.dims, TYPE_NAME)?;
    let set_sum = (k.masked_sum)(x.values(), a.bytes);
    if set_sum.is_finite() {
        return Ok(2.0 * f64::from(set_sum) - x.sum());
    }
    // The f32 sum overflowed (|x| near f32::MAX / dims; a sum without products cannot
    // underflow away): f64 holds any such sum.
    Ok(x.values().iter().enumerate().map(|(i, &v)| if a.get(i) { f64::from(v) } else { -f64::from(v) }).sum())
}

/// Cosine distance between x and the ±1 vector (whose norm is √dims).
#[inline]
pub fn cosine_distance_f32(k: &Kernels, a: &BitRef, x: &Query) -> Result<f64> {
    let dot = inner_product_f32(k, a, x)?;
    let norms = (a.dims as f64).sqrt() * x.norm();
    if norms == 0.0 {
        return Ok(f64::NAN);
    }
    Ok((1.0 - dot / norms).clamp(0.0, 2.0))
}

#[cfg(test)]
mod tests;
