//! `int4vec`: 4-bit codes `q` in 0..=15 with a per-vector scale `s` and zero-point `z` in
//! 0..=15, meaning `f ≈ s·(q − z)`, quantized by `q = clamp(round(f/s) + z, 0, 15)`.
//!
//! Stored payload (after the varlena header), native-endian like every on-disk Postgres
//! value:
//!
//! | bytes  | field                                                       |
//! |--------|-------------------------------------------------------------|
//! | 0..2   | dims (u16)                                                  |
//! | 2      | zero-point (u8, 0..=15)                                     |
//! | 3      | reserved, 0                                                 |
//! | 4..8   | scale (f32, finite, > 0)                                    |
//! | 8..    | codes, two per byte: dimension 2i in byte i's low nibble,   |
//! |        | 2i + 1 in its high nibble; an odd count leaves the last high |
//! |        | nibble 0                                                     |
//!
//! Unlike `int8vec`, the header caches no Σq and Σq²: at 384 dimensions those 8 bytes are
//! what separates 33 from 34 rows per heap page (a row of `id int, int4vec(384)` is 236
//! bytes with them, 232 without, and tuples are 8-byte aligned), and the kernels compute
//! both sums at several bytes per instruction while the codes are in cache anyway.
//!
//! Codes are unsigned so that the SIMD kernels multiply them as bytes without widening;
//! `int4vec` ↔ `int8vec` converts exactly one way (see [`Int4Ref::to_int8`]).

use std::cell::RefCell;

use crate::error::{bail, Error, ErrorKind, Result};
use crate::floats::{self, Query};
use crate::int8::{self, Int8Ref, Int8Vector};
use crate::kernels::Kernels;

pub const TYPE_NAME: &str = "int4vec";
pub const MAX_DIMS: usize = 16_000;
pub const HEADER_LEN: usize = 8;
/// The largest code (and zero-point).
pub const MAX_CODE: u8 = 15;

/// The affine map between floats and codes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    pub scale: f32,
    pub zero_point: u8,
}

impl Params {
    pub fn new(scale: f32, zero_point: i64) -> Result<Params> {
        if !(scale.is_finite() && scale > 0.0) {
            bail!(DataException, "{TYPE_NAME} scale must be finite and positive (got {scale})");
        }
        match u8::try_from(zero_point) {
            Ok(zero_point) if zero_point <= MAX_CODE => Ok(Params { scale, zero_point }),
            _ => bail!(OutOfRange, "{TYPE_NAME} zero-point {zero_point} is out of range [0, 15]"),
        }
    }

    /// The map that sends `min` to 0 and `max` to 15, after widening the range to contain
    /// 0 so that the zero-point is a code.
    pub fn from_range(min: f32, max: f32) -> Params {
        let (low, high) = (f64::from(min.min(0.0)), f64::from(max.max(0.0)));
        if high == low {
            return Params { scale: 1.0, zero_point: 0 };
        }
        let scale = int8::positive_scale((high - low) / f64::from(MAX_CODE));
        let zero_point = (-low / f64::from(scale)).round().clamp(0.0, f64::from(MAX_CODE)) as u8;
        Params { scale, zero_point }
    }

    /// Symmetric map (`z = 8`) that sends ±absmax to codes 1 and 15.
    pub fn from_absmax(absmax: f32) -> Params {
        if absmax == 0.0 {
            return Params { scale: 1.0, zero_point: 8 };
        }
        Params { scale: int8::positive_scale(f64::from(absmax) / 7.0), zero_point: 8 }
    }

    pub fn quantize(self, value: f32) -> u8 {
        let code = (f64::from(value) / f64::from(self.scale)).round() + f64::from(self.zero_point);
        code.clamp(0.0, f64::from(MAX_CODE)) as u8
    }

    pub fn dequantize(self, code: u8) -> f32 {
        self.scale * (f32::from(code) - f32::from(self.zero_point))
    }

    /// The same map for int8 codes that hold these codes unchanged (0..=15 fit in i8): how
    /// the float-query kernels, written for int8 codes, read unpacked 4-bit codes.
    fn as_int8(self) -> int8::Params {
        int8::Params { scale: self.scale, zero_point: self.zero_point as i8 }
    }
}

/// An owned, validated vector: what quantizers and parsers produce. `codes` holds one code
/// (0..=15) per dimension; encoding packs them.
#[derive(Clone, Debug, PartialEq)]
pub struct Int4Vector {
    pub params: Params,
    pub codes: Vec<u8>,
}

impl Int4Vector {
    /// Per-vector min/max quantization: the whole range of the vector uses all 16 codes.
    pub fn quantize_minmax(values: &[f32]) -> Result<Int4Vector> {
        let (min, max) = floats::checked_range(values, TYPE_NAME, MAX_DIMS)?;
        Ok(Self::quantize_unchecked(values, Params::from_range(min, max)))
    }

    /// Symmetric quantization: z = 8 and the largest magnitude maps to ±7.
    pub fn quantize_absmax(values: &[f32]) -> Result<Int4Vector> {
        let absmax = floats::checked_absmax(values, TYPE_NAME, MAX_DIMS)?;
        Ok(Self::quantize_unchecked(values, Params::from_absmax(absmax)))
    }

    /// Min/max quantization of the range between two quantiles of the vector's own
    /// components; components outside it are clipped to 0 or 15.
    pub fn quantize_clipped(values: &[f32], lower: f64, upper: f64) -> Result<Int4Vector> {
        let (low, high) = floats::checked_quantile_range(values, lower, upper, TYPE_NAME, MAX_DIMS)?;
        Ok(Self::quantize_unchecked(values, Params::from_range(low, high)))
    }

    /// Quantization with given parameters, e.g. shared ones from column calibration.
    pub fn quantize_with(values: &[f32], params: Params) -> Result<Int4Vector> {
        floats::check(values, TYPE_NAME, MAX_DIMS)?;
        Ok(Self::quantize_unchecked(values, params))
    }

    fn quantize_unchecked(values: &[f32], params: Params) -> Int4Vector {
        Int4Vector { params, codes: values.iter().map(|&v| params.quantize(v)).collect() }
    }

    /// Codes that are already quantized (e.g. from a quantization-aware model).
    pub fn from_codes(codes: &[i64], params: Params) -> Result<Int4Vector> {
        floats::check_dims(codes.len(), TYPE_NAME, MAX_DIMS)?;
        let codes = codes
            .iter()
            .map(|&c| match u8::try_from(c) {
                Ok(code) if code <= MAX_CODE => Ok(code),
                _ => Err(Error::new(ErrorKind::OutOfRange, format!("{TYPE_NAME} code {c} is out of range [0, 15]"))),
            })
            .collect::<Result<Vec<u8>>>()?;
        Ok(Int4Vector { params, codes })
    }

    /// An `int8vec` requantized to 4 bits per vector (min/max of its values).
    pub fn from_int8(a: &Int8Ref) -> Int4Vector {
        let values = a.dequantize_finite();
        Self::quantize_minmax(&values).expect("int8vec values are finite and within int4vec's dimensions")
    }

    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.codes.len().div_ceil(2)
    }

    /// Writes the stored payload into `out`, which must be `encoded_len()` bytes.
    pub fn encode_into(&self, out: &mut [u8]) {
        assert_eq!(out.len(), self.encoded_len());
        let dims = u16::try_from(self.codes.len()).expect("dims validated against MAX_DIMS");
        out[0..2].copy_from_slice(&dims.to_ne_bytes());
        out[2] = self.params.zero_point;
        out[3] = 0;
        out[4..8].copy_from_slice(&self.params.scale.to_ne_bytes());
        pack(&self.codes, &mut out[HEADER_LEN..]);
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![0; self.encoded_len()];
        self.encode_into(&mut out);
        out
    }

    pub fn dequantize(&self) -> Vec<f32> {
        self.codes.iter().map(|&c| self.params.dequantize(c)).collect()
    }

    /// Text form: `(scale,zero_point)[code,code,...]`, as `int8vec`'s with codes 0..=15. The
    /// scale is written with the shortest digits that parse back to the same f32, so text
    /// round trips are exact. A float list (`[0.1,-0.2]` or `{0.1,-0.2}`) is also accepted
    /// and quantized per vector.
    pub fn parse(text: &str) -> Result<Int4Vector> {
        if let Some(values) = floats::parse_list(text, TYPE_NAME)? {
            return Self::quantize_minmax(&values);
        }
        let (scale, zero_point, codes) = int8::parse_literal(text, TYPE_NAME, MAX_DIMS)?;
        let params = Params::new(scale, zero_point)?;
        Int4Vector::from_codes(&codes, params)
    }

    /// Binary form (send/recv), big-endian: dims u16, zero-point u8, reserved u8 (0), scale
    /// f32, then the codes packed as stored (two per byte, low nibble first, a 0 pad).
    pub fn from_wire(bytes: &[u8]) -> Result<Int4Vector> {
        let corrupt = |detail: String| Error::corrupt_wire(TYPE_NAME, detail);
        if bytes.len() < HEADER_LEN {
            return Err(corrupt(format!("{} bytes is shorter than the {HEADER_LEN}-byte header", bytes.len())));
        }
        let dims = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
        if dims == 0 || dims > MAX_DIMS {
            return Err(corrupt(format!("dimension count {dims} is outside [1, {MAX_DIMS}]")));
        }
        let packed = &bytes[HEADER_LEN..];
        if packed.len() != dims.div_ceil(2) {
            return Err(corrupt(format!("{} bytes of codes for {dims} dimensions (two per byte)", packed.len())));
        }
        if bytes[3] != 0 {
            return Err(corrupt(format!("reserved byte is {}, not 0", bytes[3])));
        }
        if dims % 2 == 1 && packed[packed.len() - 1] >> 4 != 0 {
            return Err(corrupt(format!("the padding nibble after dimension {dims} is not 0")));
        }
        let scale = f32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        let params = Params::new(scale, i64::from(bytes[2])).map_err(|e| corrupt(e.message))?;
        Ok(Int4Vector { params, codes: unpacked(packed, dims) })
    }

    /// The codes packed as stored, from which [`PackedInt4::view`] lends an [`Int4Ref`].
    pub fn packed(&self) -> PackedInt4 {
        let mut packed = vec![0; self.codes.len().div_ceil(2)];
        pack(&self.codes, &mut packed);
        PackedInt4 { params: self.params, dims: self.codes.len(), packed }
    }
}

/// An owned vector in its stored layout.
pub struct PackedInt4 {
    params: Params,
    dims: usize,
    packed: Vec<u8>,
}

impl PackedInt4 {
    pub fn view(&self) -> Int4Ref<'_> {
        Int4Ref { params: self.params, dims: self.dims, packed: &self.packed }
    }
}

/// Codes two per byte, low nibble first.
fn pack(codes: &[u8], out: &mut [u8]) {
    assert_eq!(out.len(), codes.len().div_ceil(2));
    for (byte, pair) in out.iter_mut().zip(codes.chunks(2)) {
        *byte = pair[0] | pair.get(1).map_or(0, |&high| high << 4);
    }
}

fn unpacked(packed: &[u8], dims: usize) -> Vec<u8> {
    (0..dims).map(|i| (packed[i / 2] >> (4 * (i % 2))) & 15).collect()
}

/// A borrowed, stored vector: what distance functions read.
#[derive(Clone, Copy, Debug)]
pub struct Int4Ref<'a> {
    pub params: Params,
    dims: usize,
    packed: &'a [u8],
}

impl<'a> Int4Ref<'a> {
    /// Reads a stored payload. Checks the header against the length so that no read can
    /// leave the buffer, and the padding nibble, which the kernels add in.
    #[inline]
    pub fn decode(payload: &'a [u8]) -> Result<Int4Ref<'a>> {
        let corrupt = |detail: String| Error::new(ErrorKind::InvalidBinary, format!("corrupt {TYPE_NAME} value")).with_detail(detail);
        if payload.len() < HEADER_LEN {
            return Err(corrupt(format!("{} bytes is shorter than the header", payload.len())));
        }
        let dims = usize::from(u16::from_ne_bytes([payload[0], payload[1]]));
        let packed = &payload[HEADER_LEN..];
        // Beyond MAX_DIMS no input function makes a value, and receive would refuse it.
        if dims == 0 || dims > MAX_DIMS || packed.len() != dims.div_ceil(2) || payload[3] != 0 {
            return Err(corrupt(format!("header says {dims} dimensions in {} bytes", payload.len())));
        }
        if dims % 2 == 1 && packed[packed.len() - 1] >> 4 != 0 {
            return Err(corrupt(format!("the padding nibble after dimension {dims} is not 0")));
        }
        let scale = f32::from_ne_bytes(payload[4..8].try_into().expect("4 bytes"));
        let params = Params::new(scale, i64::from(payload[2])).map_err(|e| corrupt(e.message))?;
        Ok(Int4Ref { params, dims, packed })
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The codes as stored, two per byte.
    pub fn packed(&self) -> &'a [u8] {
        self.packed
    }

    pub fn codes(&self) -> Vec<u8> {
        unpacked(self.packed, self.dims)
    }

    pub fn to_owned(&self) -> Int4Vector {
        Int4Vector { params: self.params, codes: self.codes() }
    }

    pub fn dequantize(&self) -> Vec<f32> {
        self.codes().into_iter().map(|c| self.params.dequantize(c)).collect()
    }

    /// The same values as an `int8vec`, exactly: the same codes and parameters (0..=15 are
    /// int8 codes too).
    pub fn to_int8(&self) -> Int8Vector {
        let codes = self.codes().into_iter().map(|c| c as i8).collect();
        Int8Vector::new(self.params.as_int8(), codes).expect("int4vec dims are within int8vec's")
    }

    pub fn to_text(&self) -> String {
        int8::format_literal(self.params.scale, i64::from(self.params.zero_point), self.codes().into_iter().map(i64::from))
    }

    pub fn to_wire(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.packed.len());
        out.extend_from_slice(&(self.dims as u16).to_be_bytes());
        out.push(self.params.zero_point);
        out.push(0);
        out.extend_from_slice(&self.params.scale.to_be_bytes());
        out.extend_from_slice(self.packed);
        out
    }

    /// Σ(q − z)², exact.
    fn centered_norm_sq(&self, k: &Kernels) -> i64 {
        let (sum, sum_sq) = (k.sums_u4)(self.packed);
        centered_norm_sq(self.dims, self.params.zero_point, sum, sum_sq)
    }

    /// ‖s·(q − z)‖.
    pub fn norm(&self, k: &Kernels) -> f64 {
        f64::from(self.params.scale) * (self.centered_norm_sq(k) as f64).sqrt()
    }

    /// Runs `f` on the codes spread to one per byte, as the int8 kernels read them.
    fn with_codes<R>(&self, k: &Kernels, f: impl FnOnce(&[i8]) -> R) -> R {
        with_unpacked(k, self.packed, self.dims, f)
    }

    /// `dequantize`, with values past f32's range held at ±f32::MAX (as the index needs).
    pub fn dequantize_finite(&self) -> Vec<f32> {
        self.codes().into_iter().map(|c| self.params.dequantize(c).clamp(-f32::MAX, f32::MAX)).collect()
    }
}

/// Runs `f` on the first `dims` of the codes `packed` holds, spread to one per byte (the
/// int8 kernels' input), in a buffer of this thread's that is reused between calls.
pub(crate) fn with_unpacked<R>(k: &Kernels, packed: &[u8], dims: usize, f: impl FnOnce(&[i8]) -> R) -> R {
    thread_local! {
        static SCRATCH: RefCell<Vec<i8>> = const { RefCell::new(Vec::new()) };
    }
    let spread = |buffer: &mut Vec<i8>| {
        buffer.resize(2 * packed.len(), 0);
        (k.unpack_u4)(packed, buffer);
    };
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut buffer) => {
            spread(&mut buffer);
            f(&buffer[..dims])
        }
        // Nested (the other operand of a pair holds the shared buffer): a buffer of its own.
        Err(_) => {
            let mut buffer = Vec::new();
            spread(&mut buffer);
            f(&buffer[..dims])
        }
    })
}

/// Σ(q − z)² from Σq and Σq², exact.
fn centered_norm_sq(dims: usize, zero_point: u8, sum: i64, sum_sq: i64) -> i64 {
    let (n, z) = (dims as i64, i64::from(zero_point));
    sum_sq - 2 * z * sum + n * z * z
}

/// What the int×int distances need of a pair: Σ(qa − za)(qb − zb) and each side's
/// Σ(q − z)², exact, from one dot product and the two sides' sums.
struct Centered {
    dot: i64,
    norm_sq_a: i64,
    norm_sq_b: i64,
}

fn centered(k: &Kernels, a: &Int4Ref, b: &Int4Ref) -> Result<Centered> {
    floats::check_same_dims(a.dims, b.dims, TYPE_NAME)?;
    let n = a.dims as i64;
    let (za, zb) = (i64::from(a.params.zero_point), i64::from(b.params.zero_point));
    let ((sum_a, sum_sq_a), (sum_b, sum_sq_b)) = ((k.sums_u4)(a.packed), (k.sums_u4)(b.packed));
    Ok(Centered {
        dot: (k.dot_u4)(a.packed, b.packed) - zb * sum_a - za * sum_b + n * za * zb,
        norm_sq_a: centered_norm_sq(a.dims, a.params.zero_point, sum_a, sum_sq_a),
        norm_sq_b: centered_norm_sq(b.dims, b.params.zero_point, sum_b, sum_sq_b),
    })
}

pub fn inner_product(k: &Kernels, a: &Int4Ref, b: &Int4Ref) -> Result<f64> {
    let c = centered(k, a, b)?;
    Ok(f64::from(a.params.scale) * f64::from(b.params.scale) * c.dot as f64)
}

pub fn l2_distance_sq(k: &Kernels, a: &Int4Ref, b: &Int4Ref) -> Result<f64> {
    let c = centered(k, a, b)?;
    if a.params == b.params {
        // Shared parameters: Σ(qa − qb)² exactly, in integers.
        let s = f64::from(a.params.scale);
        return Ok(s * s * (c.norm_sq_a + c.norm_sq_b - 2 * c.dot) as f64);
    }
    // Three exact integers scaled once each: the cancellation error is about 1e-16 of
    // ‖a‖² + ‖b‖², far below f32 resolution.
    let (sa, sb) = (f64::from(a.params.scale), f64::from(b.params.scale));
    let value = sa * sa * c.norm_sq_a as f64 + sb * sb * c.norm_sq_b as f64 - 2.0 * sa * sb * c.dot as f64;
    Ok(value.max(0.0))
}

pub fn l2_distance(k: &Kernels, a: &Int4Ref, b: &Int4Ref) -> Result<f64> {
    Ok(l2_distance_sq(k, a, b)?.sqrt())
}

/// 1 − cos; NaN when either vector is zero (as for `int8vec`), so such rows sort last.
pub fn cosine_distance(k: &Kernels, a: &Int4Ref, b: &Int4Ref) -> Result<f64> {
    let c = centered(k, a, b)?;
    // The scales are positive, so they cancel out of the cosine.
    Ok(int8::cosine_from(c.dot as f64, (c.norm_sq_a as f64 * c.norm_sq_b as f64).sqrt()))
}

/// Through the int8 kernels on the unpacked codes (0..=15 are int8 codes too), with the
/// same f32 sum and f64 fallback as `int8vec`'s L1.
pub fn l1_distance(k: &Kernels, a: &Int4Ref, b: &Int4Ref) -> Result<f64> {
    floats::check_same_dims(a.dims, b.dims, TYPE_NAME)?;
    Ok(a.with_codes(k, |codes_a| b.with_codes(k, |codes_b| int8::codes_l1(k, codes_a, a.params.as_int8(), codes_b, b.params.as_int8()))))
}

/// A float query against stored codes (asymmetric distance), through the same functions
/// as `int8vec`'s on the unpacked codes, so both types rescore and order alike.
pub fn inner_product_f32(k: &Kernels, a: &Int4Ref, x: &Query) -> Result<f64> {
    x.check_dims(a.dims, TYPE_NAME)?;
    Ok(a.with_codes(k, |codes| int8::asymmetric_dot(k, codes, a.params.as_int8(), x)))
}

pub fn l2_distance_f32(k: &Kernels, a: &Int4Ref, x: &Query) -> Result<f64> {
    x.check_dims(a.dims, TYPE_NAME)?;
    Ok(a.with_codes(k, |codes| int8::asymmetric_l2_sq(k, codes, a.params.as_int8(), x)).sqrt())
}

pub fn cosine_distance_f32(k: &Kernels, a: &Int4Ref, x: &Query) -> Result<f64> {
    x.check_dims(a.dims, TYPE_NAME)?;
    let norm_sq = a.centered_norm_sq(k);
    Ok(a.with_codes(k, |codes| int8::asymmetric_cosine(k, codes, a.params.zero_point as i8, norm_sq, x)))
}

#[cfg(test)]
mod tests;
