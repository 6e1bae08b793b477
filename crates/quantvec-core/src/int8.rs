//! `int8vec`: int8 codes `q` with a per-vector scale `s` and zero-point `z`, meaning
//! `f ≈ s·(q − z)`, quantized by `q = clamp(round(f/s) + z, −128, 127)`.
//!
//! Stored payload (after the varlena header), native-endian like every on-disk Postgres
//! value:
//!
//! | bytes  | field                                        |
//! |--------|----------------------------------------------|
//! | 0..2   | dims (u16)                                   |
//! | 2      | zero-point (i8)                              |
//! | 3      | reserved, 0                                  |
//! | 4..8   | scale (f32, finite, > 0)                     |
//! | 8..12  | Σq (i32)                                     |
//! | 12..16 | Σq² (i32)                                    |
//! | 16..   | codes, one i8 per dimension                  |
//!
//! Σq and Σq² make a distance between two vectors with different `(s, z)` one integer dot
//! product plus a constant correction. They are derived from the codes, so text and binary
//! forms leave them out and input recomputes them.

use crate::error::{bail, Error, ErrorKind, Result};
use crate::floats::{self, Query};
use crate::kernels::Kernels;

pub const TYPE_NAME: &str = "int8vec";
pub const MAX_DIMS: usize = 16_000;
pub const HEADER_LEN: usize = 16;

/// The affine map between floats and codes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    pub scale: f32,
    pub zero_point: i8,
}

impl Params {
    pub fn new(scale: f32, zero_point: i64) -> Result<Params> {
        if !(scale.is_finite() && scale > 0.0) {
            bail!(DataException, "{TYPE_NAME} scale must be finite and positive (got {scale})");
        }
        let Ok(zero_point) = i8::try_from(zero_point) else {
            bail!(OutOfRange, "{TYPE_NAME} zero-point {zero_point} is out of range [-128, 127]");
        };
        Ok(Params { scale, zero_point })
    }

    /// The map that sends `min` to −128 and `max` to 127, after widening the range to
    /// contain 0 so that the zero-point fits in int8 (the usual post-training convention).
    pub fn from_range(min: f32, max: f32) -> Params {
        let (low, high) = (f64::from(min.min(0.0)), f64::from(max.max(0.0)));
        if high == low {
            return Params { scale: 1.0, zero_point: 0 };
        }
        let scale = positive_scale((high - low) / 255.0);
        let zero_point = (-128.0 - low / f64::from(scale)).round().clamp(-128.0, 127.0) as i8;
        Params { scale, zero_point }
    }

    /// Symmetric map (`z = 0`) that sends ±absmax to ±127.
    pub fn from_absmax(absmax: f32) -> Params {
        if absmax == 0.0 {
            return Params { scale: 1.0, zero_point: 0 };
        }
        Params { scale: positive_scale(f64::from(absmax) / 127.0), zero_point: 0 }
    }

    pub fn quantize(self, value: f32) -> i8 {
        let code = (f64::from(value) / f64::from(self.scale)).round() + f64::from(self.zero_point);
        code.clamp(-128.0, 127.0) as i8
    }

    pub fn dequantize(self, code: i8) -> f32 {
        self.scale * (f32::from(code) - f32::from(self.zero_point))
    }
}

/// A scale that is a normal positive f32 even when the range underflows.
pub(crate) fn positive_scale(scale: f64) -> f32 {
    (scale as f32).max(f32::MIN_POSITIVE)
}

/// An owned, validated vector: what quantizers and parsers produce.
#[derive(Clone, Debug, PartialEq)]
pub struct Int8Vector {
    pub params: Params,
    pub codes: Vec<i8>,
}

impl Int8Vector {
    pub fn new(params: Params, codes: Vec<i8>) -> Result<Int8Vector> {
        floats::check_dims(codes.len(), TYPE_NAME, MAX_DIMS)?;
        Ok(Int8Vector { params, codes })
    }

    /// Per-vector min/max quantization: the whole range of the vector uses all 256 codes.
    pub fn quantize_minmax(values: &[f32]) -> Result<Int8Vector> {
        let (min, max) = floats::checked_range(values, TYPE_NAME, MAX_DIMS)?;
        Ok(Self::quantize_unchecked(values, Params::from_range(min, max)))
    }

    /// Symmetric quantization: z = 0 and the largest magnitude maps to ±127.
    pub fn quantize_absmax(values: &[f32]) -> Result<Int8Vector> {
        let absmax = floats::checked_absmax(values, TYPE_NAME, MAX_DIMS)?;
        Ok(Self::quantize_unchecked(values, Params::from_absmax(absmax)))
    }

    /// Min/max quantization of the range between two quantiles of the vector's own
    /// components; components outside it are clipped to −128 or 127.
    pub fn quantize_clipped(values: &[f32], lower: f64, upper: f64) -> Result<Int8Vector> {
        let (low, high) = floats::checked_quantile_range(values, lower, upper, TYPE_NAME, MAX_DIMS)?;
        Ok(Self::quantize_unchecked(values, Params::from_range(low, high)))
    }

    /// Quantization with given parameters, e.g. shared ones from column calibration.
    pub fn quantize_with(values: &[f32], params: Params) -> Result<Int8Vector> {
        floats::check(values, TYPE_NAME, MAX_DIMS)?;
        Ok(Self::quantize_unchecked(values, params))
    }

    fn quantize_unchecked(values: &[f32], params: Params) -> Int8Vector {
        Int8Vector { params, codes: values.iter().map(|&v| params.quantize(v)).collect() }
    }

    /// Codes that are already quantized (e.g. from a quantization-aware model).
    pub fn from_codes(codes: &[i64], params: Params) -> Result<Int8Vector> {
        floats::check_dims(codes.len(), TYPE_NAME, MAX_DIMS)?;
        let codes = codes
            .iter()
            .map(|&c| i8::try_from(c).map_err(|_| Error::new(ErrorKind::OutOfRange, format!("{TYPE_NAME} code {c} is out of range [-128, 127]"))))
            .collect::<Result<Vec<i8>>>()?;
        Ok(Int8Vector { params, codes })
    }

    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.codes.len()
    }

    /// Writes the stored payload into `out`, which must be `encoded_len()` bytes.
    pub fn encode_into(&self, out: &mut [u8]) {
        assert_eq!(out.len(), self.encoded_len());
        let sum: i32 = self.codes.iter().map(|&c| i32::from(c)).sum();
        let sum_sq: i32 = self.codes.iter().map(|&c| i32::from(c) * i32::from(c)).sum();
        let dims = u16::try_from(self.codes.len()).expect("dims validated against MAX_DIMS");
        out[0..2].copy_from_slice(&dims.to_ne_bytes());
        out[2] = self.params.zero_point as u8;
        out[3] = 0;
        out[4..8].copy_from_slice(&self.params.scale.to_ne_bytes());
        out[8..12].copy_from_slice(&sum.to_ne_bytes());
        out[12..16].copy_from_slice(&sum_sq.to_ne_bytes());
        for (byte, &code) in out[HEADER_LEN..].iter_mut().zip(&self.codes) {
            *byte = code as u8;
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![0; self.encoded_len()];
        self.encode_into(&mut out);
        out
    }

    pub fn dequantize(&self) -> Vec<f32> {
        self.codes.iter().map(|&c| self.params.dequantize(c)).collect()
    }

    /// Text form: `(scale,zero_point)[code,code,...]`. The scale is written with the
    /// shortest digits that parse back to the same f32, so text round trips are exact.
    /// A float list (`[0.1,-0.2]` or `{0.1,-0.2}`) is also accepted and quantized per vector.
    pub fn parse(text: &str) -> Result<Int8Vector> {
        if let Some(values) = floats::parse_list(text, TYPE_NAME)? {
            return Self::quantize_minmax(&values);
        }
        let (scale, zero_point, codes) = parse_literal(text, TYPE_NAME, MAX_DIMS)?;
        let params = Params::new(scale, zero_point)?;
        Int8Vector::from_codes(&codes, params)
    }

    /// Binary form (send/recv), big-endian: dims u16, zero-point i8, reserved u8 (0),
    /// scale f32, then the codes.
    pub fn from_wire(bytes: &[u8]) -> Result<Int8Vector> {
        let corrupt = |detail: String| Error::corrupt_wire(TYPE_NAME, detail);
        if bytes.len() < 8 {
            return Err(corrupt(format!("{} bytes is shorter than the 8-byte header", bytes.len())));
        }
        let dims = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
        if dims == 0 || dims > MAX_DIMS {
            return Err(corrupt(format!("dimension count {dims} is outside [1, {MAX_DIMS}]")));
        }
        if bytes.len() != 8 + dims {
            return Err(corrupt(format!("{} bytes of codes for {dims} dimensions", bytes.len() - 8)));
        }
        if bytes[3] != 0 {
            return Err(corrupt(format!("reserved byte is {}, not 0", bytes[3])));
        }
        let scale = f32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        let params = Params::new(scale, i64::from(bytes[2] as i8)).map_err(|e| corrupt(e.message))?;
        Ok(Int8Vector { params, codes: bytes[8..].iter().map(|&b| b as i8).collect() })
    }

    pub fn view(&self) -> Int8Ref<'_> {
        Int8Ref::from_parts(self.params, &self.codes)
    }
}

/// The parts of a `(scale,zero_point)[code,code,...]` literal, unvalidated but for syntax
/// (both quantized types write and read this form).
pub(crate) fn parse_literal(text: &str, type_name: &str, max_dims: usize) -> Result<(f32, i64, Vec<i64>)> {
    let syntax = |detail: &str| Error::syntax(type_name, text, format!("{detail}; the form is \"(scale,zero_point)[code,code,...]\""));
    let rest = text.trim_start().strip_prefix('(').ok_or_else(|| syntax("expected \"(\""))?;
    let (params_text, rest) = rest.split_once(')').ok_or_else(|| syntax("expected \")\""))?;
    let (scale_text, zero_text) = params_text.split_once(',').ok_or_else(|| syntax("expected \"scale,zero_point\""))?;
    let scale: f32 = scale_text.trim().parse().map_err(|_| syntax("scale is not a number"))?;
    let zero: i64 = zero_text.trim().parse().map_err(|_| syntax("zero-point is not an integer"))?;
    let rest = rest.trim_start().strip_prefix('[').ok_or_else(|| syntax("expected \"[\""))?;
    let (codes_text, tail) = rest.split_once(']').ok_or_else(|| syntax("expected \"]\""))?;
    if !tail.trim().is_empty() {
        return Err(syntax("unexpected characters after \"]\""));
    }
    if codes_text.trim().is_empty() {
        floats::check_dims(0, type_name, max_dims)?;
    }
    let codes = codes_text
        .split(',')
        .map(|c| c.trim().parse::<i64>().map_err(|_| syntax(&format!("code \"{}\" is not an integer", c.trim()))))
        .collect::<Result<Vec<i64>>>()?;
    Ok((scale, zero, codes))
}

/// `(scale,zero_point)[code,...]`, the scale in the shortest digits that parse back to it.
pub(crate) fn format_literal(scale: f32, zero_point: i64, codes: impl Iterator<Item = i64>) -> String {
    let mut out = format!("({scale:?},{zero_point})[");
    for (i, code) in codes.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&code.to_string());
    }
    out.push(']');
    out
}

/// A borrowed, stored vector: what distance functions read.
#[derive(Clone, Copy, Debug)]
pub struct Int8Ref<'a> {
    pub params: Params,
    pub sum: i32,
    pub sum_sq: i32,
    pub codes: &'a [i8],
}

impl<'a> Int8Ref<'a> {
    fn from_parts(params: Params, codes: &'a [i8]) -> Int8Ref<'a> {
        let sum = codes.iter().map(|&c| i32::from(c)).sum();
        let sum_sq = codes.iter().map(|&c| i32::from(c) * i32::from(c)).sum();
        Int8Ref { params, sum, sum_sq, codes }
    }

    /// Reads a stored payload. Checks the header against the length so that no read can
    /// leave the buffer; the cached sums are trusted, as only `encode_into` writes them.
    #[inline]
    pub fn decode(payload: &'a [u8]) -> Result<Int8Ref<'a>> {
        let corrupt = |detail: String| Error::new(ErrorKind::InvalidBinary, format!("corrupt {TYPE_NAME} value")).with_detail(detail);
        if payload.len() < HEADER_LEN {
            return Err(corrupt(format!("{} bytes is shorter than the header", payload.len())));
        }
        let dims = usize::from(u16::from_ne_bytes([payload[0], payload[1]]));
        // Beyond MAX_DIMS no input function makes a value, and receive would refuse it.
        if dims == 0 || dims > MAX_DIMS || payload.len() != HEADER_LEN + dims || payload[3] != 0 {
            return Err(corrupt(format!("header says {dims} dimensions in {} bytes", payload.len())));
        }
        let scale = f32::from_ne_bytes(payload[4..8].try_into().expect("4 bytes"));
        let params = Params::new(scale, i64::from(payload[2] as i8)).map_err(|e| corrupt(e.message))?;
        let codes = &payload[HEADER_LEN..];
        // SAFETY: i8 and u8 have the same size and alignment and every bit pattern is valid
        // for both, so the bytes can be viewed as codes for the same lifetime.
        let codes = unsafe { std::slice::from_raw_parts(codes.as_ptr().cast::<i8>(), codes.len()) };
        Ok(Int8Ref {
            params,
            sum: i32::from_ne_bytes(payload[8..12].try_into().expect("4 bytes")),
            sum_sq: i32::from_ne_bytes(payload[12..16].try_into().expect("4 bytes")),
            codes,
        })
    }

    pub fn dims(&self) -> usize {
        self.codes.len()
    }

    pub fn to_owned(&self) -> Int8Vector {
        Int8Vector { params: self.params, codes: self.codes.to_vec() }
    }

    pub fn dequantize(&self) -> Vec<f32> {
        self.codes.iter().map(|&c| self.params.dequantize(c)).collect()
    }

    /// `dequantize`, with values past f32's range (a huge scale) held at ±f32::MAX: what
    /// the index clusters and encodes, which must stay finite for any finite value.
    pub fn dequantize_finite(&self) -> Vec<f32> {
        self.codes.iter().map(|&c| self.params.dequantize(c).clamp(-f32::MAX, f32::MAX)).collect()
    }

    pub fn to_text(&self) -> String {
        format_literal(self.params.scale, i64::from(self.params.zero_point), self.codes.iter().map(|&c| i64::from(c)))
    }

    pub fn to_wire(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.dims());
        out.extend_from_slice(&(self.dims() as u16).to_be_bytes());
        out.push(self.params.zero_point as u8);
        out.push(0);
        out.extend_from_slice(&self.params.scale.to_be_bytes());
        out.extend(self.codes.iter().map(|&c| c as u8));
        out
    }

    /// Σ(q − z)², exact.
    fn centered_norm_sq(&self) -> i64 {
        centered_norm_sq(self.dims(), self.params.zero_point, i64::from(self.sum), i64::from(self.sum_sq))
    }

    /// ‖s·(q − z)‖.
    pub fn norm(&self) -> f64 {
        f64::from(self.params.scale) * (self.centered_norm_sq() as f64).sqrt()
    }
}

/// Σ(qa − za)(qb − zb), exact: one integer dot product plus corrections from the cached sums.
#[inline]
fn centered_dot(k: &Kernels, a: &Int8Ref, b: &Int8Ref) -> i64 {
    let n = a.dims() as i64;
    let (za, zb) = (i64::from(a.params.zero_point), i64::from(b.params.zero_point));
    (k.dot_i8)(a.codes, b.codes) - zb * i64::from(a.sum) - za * i64::from(b.sum) + n * za * zb
}

#[inline]
fn same_dims(a: &Int8Ref, b: &Int8Ref) -> Result<()> {
    floats::check_same_dims(a.dims(), b.dims(), TYPE_NAME)
}

#[inline]
pub fn inner_product(k: &Kernels, a: &Int8Ref, b: &Int8Ref) -> Result<f64> {
    same_dims(a, b)?;
    Ok(f64::from(a.params.scale) * f64::from(b.params.scale) * centered_dot(k, a, b) as f64)
}

#[inline]
pub fn l2_distance_sq(k: &Kernels, a: &Int8Ref, b: &Int8Ref) -> Result<f64> {
    same_dims(a, b)?;
    let dot = centered_dot(k, a, b);
    if a.params == b.params {
        // Shared parameters: Σ(qa − qb)² exactly, in integers.
        let s = f64::from(a.params.scale);
        return Ok(s * s * (a.centered_norm_sq() + b.centered_norm_sq() - 2 * dot) as f64);
    }
    // The three terms are exact integers scaled once each, so the cancellation error is
    // about 1e-16 of ‖a‖² + ‖b‖², far below f32 resolution.
    let (sa, sb) = (f64::from(a.params.scale), f64::from(b.params.scale));
    let value = sa * sa * a.centered_norm_sq() as f64 + sb * sb * b.centered_norm_sq() as f64 - 2.0 * sa * sb * dot as f64;
    Ok(value.max(0.0))
}

#[inline]
pub fn l2_distance(k: &Kernels, a: &Int8Ref, b: &Int8Ref) -> Result<f64> {
    Ok(l2_distance_sq(k, a, b)?.sqrt())
}

/// 1 − cos; NaN when either vector is zero (as in pgvector), so such rows sort last.
#[inline]
pub fn cosine_distance(k: &Kernels, a: &Int8Ref, b: &Int8Ref) -> Result<f64> {
    same_dims(a, b)?;
    // The scales are positive, so they cancel out of the cosine.
    let denominator = (a.centered_norm_sq() as f64 * b.centered_norm_sq() as f64).sqrt();
    Ok(cosine_from(centered_dot(k, a, b) as f64, denominator))
}

#[inline]
pub(crate) fn cosine_from(dot: f64, norms: f64) -> f64 {
    if norms == 0.0 {
        return f64::NAN;
    }
    (1.0 - dot / norms).clamp(0.0, 2.0)
}

#[inline]
pub fn l1_distance(k: &Kernels, a: &Int8Ref, b: &Int8Ref) -> Result<f64> {
    same_dims(a, b)?;
    Ok(codes_l1(k, a.codes, a.params, b.codes, b.params))
}

/// Σ|sa(qa − za) − sb(qb − zb)| over codes of equal length (`int4vec`'s unpacked too).
pub(crate) fn codes_l1(k: &Kernels, a: &[i8], pa: Params, b: &[i8], pb: Params) -> f64 {
    if pa == pb {
        return f64::from(pa.scale) * (k.l1_i8)(a, b) as f64;
    }
    let fast = (k.l1_dequant)(a, pa, b, pb);
    if fast.is_finite() {
        return f64::from(fast);
    }
    // The f32 sum overflowed (scales near f32::MAX / 255 / dims): f64 holds any of these
    // sums. A sum of magnitudes cannot lose itself to underflow, so that needs no check.
    let (sa, za, sb, zb) = (f64::from(pa.scale), f64::from(pa.zero_point), f64::from(pb.scale), f64::from(pb.zero_point));
    a.iter().zip(b).map(|(&p, &q)| (sa * (f64::from(p) - za) - sb * (f64::from(q) - zb)).abs()).sum()
}

/// A float query against stored codes (asymmetric distance): the query keeps its full
/// precision, which is what rescoring wants.
///
/// The sums run in the f32 kernels, and their result is kept unless it shows that f32 could
/// not hold the sum (see `asymmetric_l2_sq`); then it is redone in f64, which holds every
/// such sum of finite f32 inputs. The index rescores through the same `asymmetric_*`
/// functions, so that it orders rows exactly as these operators do.
#[inline]
pub fn inner_product_f32(k: &Kernels, a: &Int8Ref, x: &Query) -> Result<f64> {
    x.check_dims(a.dims(), TYPE_NAME)?;
    Ok(asymmetric_dot(k, a.codes, a.params, x))
}

#[inline]
pub fn l2_distance_f32(k: &Kernels, a: &Int8Ref, x: &Query) -> Result<f64> {
    x.check_dims(a.dims(), TYPE_NAME)?;
    Ok(asymmetric_l2_sq(k, a.codes, a.params, x).sqrt())
}

#[inline]
pub fn cosine_distance_f32(k: &Kernels, a: &Int8Ref, x: &Query) -> Result<f64> {
    x.check_dims(a.dims(), TYPE_NAME)?;
    Ok(asymmetric_cosine(k, a.codes, a.params.zero_point, a.centered_norm_sq(), x))
}

/// Σ(q − z)² from Σq and Σq², exact.
fn centered_norm_sq(dims: usize, zero_point: i8, sum: i64, sum_sq: i64) -> i64 {
    let (n, z) = (dims as i64, i64::from(zero_point));
    sum_sq - 2 * z * sum + n * z * z
}

/// Σ(q − z)² of bare codes (a vector item of an index has no cached sums), exact. Σq is
/// taken as the dot product with ones (the SIMD kernel is several times faster than a loop
/// widening bytes with the baseline instruction set), and only when z ≠ 0 needs it.
pub(crate) fn codes_centered_norm_sq(k: &Kernels, codes: &[i8], zero_point: i8) -> i64 {
    static ONES: [i8; MAX_DIMS] = [1; MAX_DIMS];
    let sum = if zero_point == 0 {
        0
    } else if let Some(ones) = ONES.get(..codes.len()) {
        (k.dot_i8)(codes, ones)
    } else {
        codes.iter().map(|&c| i64::from(c)).sum()
    };
    centered_norm_sq(codes.len(), zero_point, sum, (k.dot_i8)(codes, codes))
}

/// Σ x·(q − z) = Σ x·q − z·Σx. Each product is 0 or at least |x| in magnitude, so only
/// overflow (|x| near f32::MAX / (128·dims)) can spoil the f32 sum, and an overflow leaves
/// it infinite or NaN.
fn centered_dot_f32(k: &Kernels, codes: &[i8], zero_point: i8, x: &Query) -> f64 {
    let raw = (k.dot_f32_i8)(x.values(), codes);
    if raw.is_finite() {
        return f64::from(raw) - f64::from(zero_point) * x.sum();
    }
    let z = f64::from(zero_point);
    x.values().iter().zip(codes).map(|(&v, &c)| f64::from(v) * (f64::from(c) - z)).sum()
}

/// Σ x·s(q − z).
pub(crate) fn asymmetric_dot(k: &Kernels, codes: &[i8], params: Params, x: &Query) -> f64 {
    f64::from(params.scale) * centered_dot_f32(k, codes, params.zero_point, x)
}

/// Below this an f32 sum of squares may have lost much of its value to underflow: squares
/// under 2^-126 keep fewer bits, or none where denormals are flushed. Each loses at most
/// 2^-126 (2^-150 with denormals), so at or above 2^-90 the loss over 16,000 dimensions is
/// below 2^-22 of the sum (2^-46): within f32 rounding.
const F32_SQUARES_FLOOR: f32 = 1.0 / (1u128 << 90) as f32;

/// Σ (x − s(q − z))², summed directly over the differences (well conditioned even for
/// nearby vectors). Redone in f64 when the f32 sum overflowed (infinite or NaN: differences
/// from about 1e17 to 1e19 up, by dimension count) or came out below [`F32_SQUARES_FLOOR`] (differences below about
/// 1e-14, such as an exact match, which then costs one more pass).
pub(crate) fn asymmetric_l2_sq(k: &Kernels, codes: &[i8], params: Params, x: &Query) -> f64 {
    let fast = (k.l2_f32_i8)(x.values(), codes, params);
    if fast.is_finite() && fast >= F32_SQUARES_FLOOR {
        return f64::from(fast);
    }
    // s·(q − z) is exact in f64 (24 × 9 bits), and f64's range holds every square and sum
    // of these (from 2^-298 to about 1e86).
    let (s, z) = (f64::from(params.scale), f64::from(params.zero_point));
    x.values()
        .iter()
        .zip(codes)
        .map(|(&v, &c)| {
            let d = f64::from(v) - s * (f64::from(c) - z);
            d * d
        })
        .sum()
}

/// 1 − cos between a query and codes with Σ(q − z)² = `centered_norm_sq`. The scale
/// cancels, so the operator and the index (whose cosine items hold s/‖x‖, not s) compute
/// the same value from the same inputs.
pub(crate) fn asymmetric_cosine(k: &Kernels, codes: &[i8], zero_point: i8, centered_norm_sq: i64, x: &Query) -> f64 {
    cosine_from(centered_dot_f32(k, codes, zero_point, x), (centered_norm_sq as f64).sqrt() * x.norm())
}

#[cfg(test)]
mod tests;
