//! The inverted-file index over quantized vectors, independent of where its pages live.
//!
//! Rows are clustered by k-means into lists. A list holds FastScan blocks of 32 rows: the
//! binary codes of the rows' residuals to the list centroid, transposed so that one SIMD
//! table lookup scores 32 rows, with two correction factors per row (the RaBitQ
//! estimator) and a pointer to each row's vector: its heap TID and codes, stored
//! apart because only the best candidates are read. A search ranks lists by centroid,
//! scores every row of the probed lists from the binary codes (a float query against
//! bits), and rescores the best candidates with their vectors; see [`search`].
//!
//! The estimator: with r = x − c the residual and s = sign(r), ⟨r, q − c⟩ is estimated by
//! α·⟨s, q − c⟩ with α = ‖r‖²/‖r‖₁ (exact when q − c is parallel to s), so
//! ⟨x, q⟩ ≈ ⟨c, q⟩ + (δ − αγ) + α·⟨s, q⟩ with δ = ⟨r, c⟩ and γ = ⟨s, c⟩ fixed per row.
//! ⟨s, q⟩ = 2·Σ_{set bits} q − Σq needs only the query, so one masked sum per row scores it
//! in any list; the per-row constants fold into the item's two factors.
//!
//! With `code_bits = 4` the codes are 16 levels per dimension, s = u − 7.5 on a grid of step
//! max|r|/7.5, and α = ⟨r, s⟩/‖s‖² (r's projection onto s, as for signs); the same formula
//! holds with ⟨s, q⟩ = Σ u_i q_i − 7.5·Σq, which FastScan sums with one table per dimension.
//! An index on an `int4vec` column keeps the column's 4-bit codes as its vectors.

pub mod block;
pub mod build;
pub mod kmeans;
pub mod memory;
pub mod meta;
pub mod paged;
pub mod recall;
pub mod search;

use std::sync::Arc;

use crate::bits::BitRef;
use crate::error::{bail, Result};
use crate::floats::Query;
use crate::int4::{self, Int4Ref};
use crate::int8::{self, Int8Ref, Int8Vector, Params};
use crate::kernels::scalar::EstimateTerms;
use crate::kernels::{self, Kernels};

/// The distance an index orders by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Metric {
    L2 = 1,
    InnerProduct = 2,
    Cosine = 3,
    /// On `bitvec`: rows are bits, scores are exact Hamming distances.
    Hamming = 4,
}

impl Metric {
    pub fn from_u8(value: u8) -> Option<Metric> {
        [Metric::L2, Metric::InnerProduct, Metric::Cosine, Metric::Hamming].into_iter().find(|m| *m as u8 == value)
    }

    /// The name users see (quantvec_index_stats, the quality report's distances).
    pub fn name(self) -> &'static str {
        match self {
            Metric::L2 => "l2",
            Metric::InnerProduct => "inner_product",
            Metric::Cosine => "cosine",
            Metric::Hamming => "hamming",
        }
    }

    fn spherical(self) -> bool {
        self == Metric::Cosine
    }
}

/// A (block, offset) pair: a heap tuple id, or the slot of a row's vector in the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemPointer {
    pub block: u32,
    pub offset: u16,
}

/// An `ItemPointer` as pages store it (as PostgreSQL's `ItemPointerData`: 6 bytes, no
/// padding), in native byte order.
#[repr(C)]
pub(crate) struct StoredPointer {
    block: [u8; 4],
    offset: [u8; 2],
}

const _: () = assert!(std::mem::size_of::<StoredPointer>() == ItemPointer::LEN);

impl ItemPointer {
    /// Marks an empty slot.
    pub const NONE: ItemPointer = ItemPointer { block: u32::MAX, offset: u16::MAX };
    pub const LEN: usize = 6;

    pub fn write(self, out: &mut [u8]) {
        let at = std::mem::offset_of!(StoredPointer, offset);
        out[..at].copy_from_slice(&self.block.to_ne_bytes());
        out[at..Self::LEN].copy_from_slice(&self.offset.to_ne_bytes());
    }

    #[inline]
    pub fn read(bytes: &[u8]) -> ItemPointer {
        let at = std::mem::offset_of!(StoredPointer, offset);
        ItemPointer {
            block: u32::from_ne_bytes(bytes[..at].try_into().expect("4 bytes")),
            offset: u16::from_ne_bytes(bytes[at..Self::LEN].try_into().expect("2 bytes")),
        }
    }
}

/// One row as its list stores it: the binary code with its estimator factors (in a
/// FastScan block), and for int8 indexes the vector that rescoring reads.
pub struct EncodedRow {
    pub list: usize,
    pub code: Vec<u8>,
    pub alpha: f32,
    pub beta: f32,
    /// `[heap tid][rescoring scale f32][zero-point i8][codes]`; empty for Hamming indexes,
    /// whose block slots point at the heap directly.
    pub vector: Vec<u8>,
    /// The row's label, for an index with a label column (None: NULL, which no filter
    /// matches).
    pub label: Option<i32>,
}

/// The trained quantizer of an index: how it encodes rows (the metric, the dimensions, the
/// list centroids, and the widths of its first-pass codes and of its vectors).
#[derive(Clone, Debug)]
pub struct Quantizer {
    pub metric: Metric,
    pub dims: usize,
    /// Binary codes of residuals to the list centroid (true) or of the raw vectors.
    pub residual: bool,
    /// Bits per dimension of the first-pass codes: 1 (signs, RaBitQ) or 4 (16 levels).
    pub code_bits: u8,
    /// Bits per code of the vectors rescoring reads: 8 (`int8vec` columns) or 4 (`int4vec`
    /// columns, two codes a byte as the column stores them).
    pub vector_bits: u8,
    /// Whether blocks carry a label per row (an index's second column), which a search
    /// can filter on before it estimates a row.
    pub labels: bool,
    /// Rows of `dims` floats, one per list (values that float16 represents exactly).
    pub centroids: Vec<f32>,
    /// The same as float16 bits, for assigning rows and for the exact list terms.
    centroid_halves: Vec<u16>,
    centroid_norms: Vec<f32>,
    /// The same as int8 codes (symmetric, a scale per centroid), for ranking the lists:
    /// a quarter of the bytes of the floats to stream per query, and VNNI dot products.
    centroid_codes: Vec<i8>,
    centroid_code_scales: Vec<f32>,
}

fn read_f32(bytes: &[u8], at: usize) -> f32 {
    f32::from_ne_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

impl Quantizer {
    pub fn new(k: &Kernels, metric: Metric, dims: usize, residual: bool, centroids: Vec<f32>) -> Result<Quantizer> {
        if dims == 0 || centroids.is_empty() || !centroids.len().is_multiple_of(dims) {
            bail!(InvalidParameter, "{} centroid values do not make lists of {dims} dimensions", centroids.len());
        }
        let centroid_norms = kmeans::squared_norms(k, &centroids, dims);
        let centroid_halves = centroids.iter().map(|&c| half::f16::from_f32(c).to_bits()).collect();
        let (mut centroid_codes, mut centroid_code_scales) = (Vec::with_capacity(centroids.len()), Vec::new());
        for centroid in centroids.chunks_exact(dims) {
            let quantized = Int8Vector::quantize_absmax(centroid)?;
            centroid_codes.extend(quantized.codes);
            centroid_code_scales.push(quantized.params.scale);
        }
        Ok(Quantizer {
            metric,
            dims,
            residual,
            code_bits: 1,
            vector_bits: 8,
            labels: false,
            centroids,
            centroid_halves,
            centroid_norms,
            centroid_codes,
            centroid_code_scales,
        })
    }

    /// The same quantizer with first-pass codes of `bits` bits per dimension (1 or 4; Hamming
    /// indexes compare bits, so they keep 1).
    pub fn with_code_bits(mut self, bits: u8) -> Result<Quantizer> {
        if !(bits == 1 || bits == 4 && self.has_vectors()) {
            bail!(InvalidParameter, "first-pass codes have 1 or 4 bits per dimension (1 for bitvec), not {bits}");
        }
        self.code_bits = bits;
        Ok(self)
    }

    /// The same quantizer for a column of `bits`-bit codes (8: `int8vec`, 4: `int4vec`).
    pub fn with_vector_bits(mut self, bits: u8) -> Result<Quantizer> {
        if !(bits == 8 || bits == 4 && self.has_vectors()) {
            bail!(InvalidParameter, "rescoring reads vectors of 8 or 4 bits per code, not {bits}");
        }
        self.vector_bits = bits;
        Ok(self)
    }

    /// The same quantizer for blocks with a label per row, or without.
    pub fn with_labels(mut self, labels: bool) -> Quantizer {
        self.labels = labels;
        self
    }

    pub fn lists(&self) -> usize {
        self.centroids.len() / self.dims
    }

    pub fn centroid(&self, list: usize) -> &[f32] {
        &self.centroids[list * self.dims..(list + 1) * self.dims]
    }

    #[inline]
    pub fn code_len(&self) -> usize {
        if self.code_bits == 4 {
            self.dims.div_ceil(2)
        } else {
            self.dims.div_ceil(8)
        }
    }

    /// Whether rows carry vectors for rescoring (all metrics but Hamming).
    pub fn has_vectors(&self) -> bool {
        self.metric != Metric::Hamming
    }

    /// Bytes of a row's vector item.
    pub fn vector_len(&self) -> usize {
        if self.has_vectors() {
            VECTOR_CODES_AT + self.vector_code_len()
        } else {
            0
        }
    }

    /// Bytes of a vector item's codes.
    fn vector_code_len(&self) -> usize {
        if self.vector_bits == 4 {
            self.dims.div_ceil(2)
        } else {
            self.dims
        }
    }

    /// Bytes of a FastScan block of 32 rows.
    #[inline]
    pub fn block_len(&self) -> usize {
        block::len(self)
    }

    /// `x`'s inner product with every centroid.
    fn centroid_dots(&self, k: &Kernels, x: &[f32]) -> Vec<f32> {
        let mut dots = vec![0.0; self.lists()];
        (k.dot_f16_rows)(x, &self.centroid_halves, &mut dots);
        dots
    }

    /// The list a vector (as floats) belongs to: the nearest centroid, by inner product
    /// for cosine (spherical lists), else by L2.
    pub fn list_of(&self, k: &Kernels, x: &[f32]) -> usize {
        let dots = self.centroid_dots(k, x);
        let score = |(i, &dot): (usize, &f32)| if self.metric.spherical() { -dot } else { self.centroid_norms[i] - 2.0 * dot };
        dots.iter().enumerate().map(|e| (score(e), e.0)).fold((f32::INFINITY, 0), |best, s| if s.0 < best.0 { s } else { best }).1
    }

    /// The centroids laid out for [`Quantizer::lists_of_stored`].
    pub fn assigner(&self) -> Assigner {
        // The values list_of scores, float16's.
        let centroids: Vec<f32> = self.centroid_halves.iter().map(|&h| half::f16::from_bits(h).to_f32()).collect();
        Assigner { packed: kernels::pack_rows(&centroids, self.dims) }
    }

    /// The lists of stored column values (see [`Quantizer::encode_stored`]), as
    /// [`Quantizer::list_of`] assigns them, scored together: a build assigns its rows so,
    /// streaming the centroids once per group of rows instead of once per row.
    pub fn lists_of_stored<'p>(&self, k: &Kernels, assigner: &Assigner, payloads: impl ExactSizeIterator<Item = &'p [u8]>) -> Result<Vec<usize>> {
        let mut lists = vec![usize::MAX; payloads.len()];
        let mut xs = Vec::with_capacity(lists.len() * self.dims);
        for payload in payloads {
            let x = stored_floats(self.metric, self.vector_bits, payload)?;
            if x.len() != self.dims {
                bail!(DataException, "expected {} dimensions, not {}", self.dims, x.len());
            }
            xs.extend(x);
        }
        kmeans::assign(k, &xs, self.dims, &assigner.packed, &self.centroid_norms, self.metric.spherical(), &mut lists);
        Ok(lists)
    }

    /// Whether lists `a` and `b` are equally near a stored column value within the rounding
    /// of the f32 sums that score lists: each of them may be where a build (in groups) or an
    /// insert (one row at a time), on any kernel table, put the value.
    pub fn lists_tie(&self, payload: &[u8], a: usize, b: usize) -> Result<bool> {
        let x = stored_floats(self.metric, self.vector_bits, payload)?;
        if x.len() != self.dims || a.max(b) >= self.lists() {
            return Ok(false);
        }
        // The score list_of compares, in f64, with the bound of its f32 sum's rounding.
        let scored = |list: usize| {
            let (mut dot, mut norm, mut magnitude) = (0.0f64, 0.0f64, 0.0f64);
            for (&v, &h) in x.iter().zip(&self.centroid_halves[list * self.dims..(list + 1) * self.dims]) {
                let c = f64::from(half::f16::from_bits(h).to_f32());
                (dot, norm, magnitude) = (dot + f64::from(v) * c, norm + c * c, magnitude + (f64::from(v) * c).abs());
            }
            let score = if self.metric.spherical() { -dot } else { norm - 2.0 * dot };
            (score, 4.0 * (self.dims as f64 + 2.0) * f64::from(f32::EPSILON) * (2.0 * magnitude + norm))
        };
        let ((score_a, bound_a), (score_b, bound_b)) = (scored(a), scored(b));
        // Where the f32 sums overflow (a value near f32::MAX), they rank no list: any may
        // have been chosen.
        let overflows = bound_a.max(bound_b) / (4.0 * (self.dims as f64 + 2.0) * f64::from(f32::EPSILON)) > f64::from(f32::MAX);
        Ok(overflows || (score_a - score_b).abs() <= bound_a + bound_b)
    }

    /// Assigns an int8 row to its list and encodes it.
    pub fn encode_int8(&self, k: &Kernels, tid: ItemPointer, row: &Int8Ref) -> Result<EncodedRow> {
        self.encode_int8_in(k, tid, row, None)
    }

    fn encode_int8_in(&self, k: &Kernels, tid: ItemPointer, row: &Int8Ref, list: Option<usize>) -> Result<EncodedRow> {
        if self.vector_bits != 8 {
            bail!(DataException, "an index of int4vec rows takes no int8vec row");
        }
        let codes = |out: &mut [u8]| out.iter_mut().zip(row.codes).for_each(|(byte, &c)| *byte = c as u8);
        self.encode_vector(k, tid, row.dequantize_finite(), list, (row.params.scale, row.params.zero_point as u8), codes)
    }

    /// Assigns a 4-bit row to its list and encodes it (its vector keeps the packed codes).
    pub fn encode_int4(&self, k: &Kernels, tid: ItemPointer, row: &Int4Ref) -> Result<EncodedRow> {
        self.encode_int4_in(k, tid, row, None)
    }

    fn encode_int4_in(&self, k: &Kernels, tid: ItemPointer, row: &Int4Ref, list: Option<usize>) -> Result<EncodedRow> {
        if self.vector_bits != 4 {
            bail!(DataException, "an index of int8vec rows takes no int4vec row");
        }
        let codes = |out: &mut [u8]| out.copy_from_slice(row.packed());
        self.encode_vector(k, tid, row.dequantize_finite(), list, (row.params.scale, row.params.zero_point), codes)
    }

    /// Encodes the row `x` (dequantized) into `list`, or the list it is nearest, whose
    /// vector item gets the (scale, zero-point) of its codes, which `write_codes` writes.
    fn encode_vector(
        &self,
        k: &Kernels,
        tid: ItemPointer,
        mut x: Vec<f32>,
        list: Option<usize>,
        (scale, zero_point): (f32, u8),
        write_codes: impl FnOnce(&mut [u8]),
    ) -> Result<EncodedRow> {
        if !self.has_vectors() || x.len() != self.dims {
            bail!(DataException, "expected {} dimensions, not {}", self.dims, x.len());
        }
        let norm = crate::floats::norm(&x);
        let list = list.filter(|&l| l < self.lists()).unwrap_or_else(|| self.list_of(k, &x));
        if self.metric.spherical() {
            kmeans::normalize(&mut x);
        }
        let zero = vec![0.0; self.dims];
        let c = if self.residual { self.centroid(list) } else { &zero[..] };
        let residual: Vec<f32> = x.iter().zip(c).map(|(a, b)| a - b).collect();
        let delta: f64 = residual.iter().zip(c).map(|(&r, &c)| f64::from(r) * f64::from(c)).sum();
        let (alpha, gamma, code) = if self.code_bits == 4 { nibble_code(&residual, c) } else { sign_code(&residual, c) };
        let (alpha, beta) = match self.metric {
            Metric::L2 => {
                let x_sq: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
                (-2.0 * alpha, x_sq - 2.0 * delta + 2.0 * alpha * gamma)
            }
            _ => (-alpha, alpha * gamma - delta),
        };
        // Cosine rows hold s/‖x‖ (NaN for a zero row), which rescoring no longer reads (it
        // works from the codes, as the operator does); the bytes stay the same so that
        // existing indexes still match what the index check re-encodes.
        let rescore_scale = match self.metric {
            Metric::Cosine if norm > 0.0 => (f64::from(scale) / norm) as f32,
            Metric::Cosine => f32::NAN,
            _ => scale,
        };
        let mut vector = vec![0u8; self.vector_len()];
        tid.write(&mut vector);
        vector[VECTOR_SCALE_AT..VECTOR_ZERO_POINT_AT].copy_from_slice(&rescore_scale.to_ne_bytes());
        vector[VECTOR_ZERO_POINT_AT] = zero_point;
        write_codes(&mut vector[VECTOR_CODES_AT..]);
        Ok(EncodedRow { list, code, alpha: alpha as f32, beta: beta as f32, vector, label: None })
    }

    /// Decodes a stored column value (an `int8vec` or `int4vec` payload, or a `bitvec`
    /// one for a Hamming index) and encodes it as row `tid`.
    pub fn encode_stored(&self, k: &Kernels, tid: ItemPointer, payload: &[u8]) -> Result<EncodedRow> {
        self.encode_stored_in(k, tid, payload, None)
    }

    /// [`Quantizer::encode_stored`] into `list` where it is given (from
    /// [`Quantizer::lists_of_stored`]).
    pub fn encode_stored_in(&self, k: &Kernels, tid: ItemPointer, payload: &[u8], list: Option<usize>) -> Result<EncodedRow> {
        match (self.has_vectors(), self.vector_bits) {
            (false, _) => self.encode_bits_in(k, &BitRef::decode(payload)?, list),
            (true, 4) => self.encode_int4_in(k, tid, &Int4Ref::decode(payload)?, list),
            (true, _) => self.encode_int8_in(k, tid, &Int8Ref::decode(payload)?, list),
        }
    }

    /// Assigns a bit row to its list (by its ±1 vector) and encodes it.
    pub fn encode_bits(&self, k: &Kernels, row: &BitRef) -> Result<EncodedRow> {
        self.encode_bits_in(k, row, None)
    }

    fn encode_bits_in(&self, k: &Kernels, row: &BitRef, list: Option<usize>) -> Result<EncodedRow> {
        if self.has_vectors() || row.dims() != self.dims {
            bail!(DataException, "expected {} dimensions, not {}", self.dims, row.dims());
        }
        let list = list.filter(|&l| l < self.lists()).unwrap_or_else(|| self.list_of(k, &signs(row)));
        Ok(EncodedRow { list, code: row.bytes().to_vec(), alpha: 0.0, beta: 0.0, vector: Vec::new(), label: None })
    }
}

/// The 1-bit code of a residual r (bit i: r_i > 0) with its estimator factors: α =
/// ‖r‖²/‖r‖₁, so that α·s (s = ±1) is r's projection onto s, and γ = ⟨s, c⟩.
fn sign_code(residual: &[f32], c: &[f32]) -> (f64, f64, Vec<u8>) {
    let r_sq: f64 = residual.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    let r_l1: f64 = residual.iter().map(|&v| f64::from(v.abs())).sum();
    let alpha = if r_l1 > 0.0 { r_sq / r_l1 } else { 0.0 };
    let gamma: f64 = residual.iter().zip(c).map(|(&r, &c)| if r > 0.0 { f64::from(c) } else { -f64::from(c) }).sum();
    let mut code = vec![0u8; residual.len().div_ceil(8)];
    for (i, &r) in residual.iter().enumerate() {
        code[i / 8] |= u8::from(r > 0.0) << (i % 8);
    }
    (alpha, gamma, code)
}

/// The 4-bit code of a residual r: levels u_i in 0..=15 standing for s = u − 7.5 (a
/// symmetric grid of step `step` = max|r|/7.5, no level at 0), two per byte (dimension 2p in
/// byte p's low nibble, as FastScan groups them). The factors play the 1-bit ones' parts:
/// α·s is r's projection onto s (α = ⟨r, s⟩/‖s‖²) and γ = ⟨s, c⟩.
fn nibble_code(residual: &[f32], c: &[f32]) -> (f64, f64, Vec<u8>) {
    let absmax = residual.iter().fold(0.0f64, |m, &r| m.max(f64::from(r.abs())));
    let step = if absmax > 0.0 { absmax / 7.5 } else { 1.0 };
    let levels: Vec<u8> = residual.iter().map(|&r| (f64::from(r) / step + 8.0).floor().clamp(0.0, 15.0) as u8).collect();
    let grid = |u: u8| f64::from(u) - 7.5;
    let (r_dot_s, s_sq) = residual.iter().zip(&levels).fold((0.0, 0.0), |(rs, ss), (&r, &u)| (rs + f64::from(r) * grid(u), ss + grid(u) * grid(u)));
    let alpha = r_dot_s / s_sq;
    let gamma: f64 = levels.iter().zip(c).map(|(&u, &c)| grid(u) * f64::from(c)).sum();
    let mut code = vec![0u8; residual.len().div_ceil(2)];
    for (i, &u) in levels.iter().enumerate() {
        code[i / 2] |= u << (4 * (i % 2));
    }
    (alpha, gamma, code)
}

/// A stored vector item's header, which its codes follow: one int8 code a dimension, or for
/// an `int4vec` column its 4-bit codes packed as the column stores them.
#[repr(C)]
struct VectorItemHeader {
    tid: StoredPointer,
    /// The rescoring scale, f32.
    scale: [u8; 4],
    zero_point: i8,
}

const VECTOR_SCALE_AT: usize = std::mem::offset_of!(VectorItemHeader, scale);
const VECTOR_ZERO_POINT_AT: usize = std::mem::offset_of!(VectorItemHeader, zero_point);
const VECTOR_CODES_AT: usize = std::mem::size_of::<VectorItemHeader>();
// The on-disk layout since format version 1.
const _: () = assert!(VECTOR_SCALE_AT == 6 && VECTOR_ZERO_POINT_AT == 10 && VECTOR_CODES_AT == 11);

/// The heap tid in a vector item.
pub fn vector_tid(vector: &[u8]) -> ItemPointer {
    ItemPointer::read(vector)
}

/// The floats of a stored column value as an index of `metric` over `vector_bits`-bit
/// codes clusters them: dequantized codes, or ±1 per bit for a Hamming index.
pub fn stored_floats(metric: Metric, vector_bits: u8, payload: &[u8]) -> Result<Vec<f32>> {
    Ok(match (metric, vector_bits) {
        (Metric::Hamming, _) => signs(&BitRef::decode(payload)?),
        (_, 4) => Int4Ref::decode(payload)?.dequantize_finite(),
        _ => Int8Ref::decode(payload)?.dequantize_finite(),
    })
}

/// The dimensions of a stored column value (see [`stored_floats`]).
pub fn stored_dims(metric: Metric, vector_bits: u8, payload: &[u8]) -> Result<usize> {
    Ok(match (metric, vector_bits) {
        (Metric::Hamming, _) => BitRef::decode(payload)?.dims(),
        (_, 4) => Int4Ref::decode(payload)?.dims(),
        _ => Int8Ref::decode(payload)?.dims(),
    })
}

/// The centroids of a [`Quantizer`] packed for scoring many rows at once.
pub struct Assigner {
    packed: Vec<f32>,
}

/// A bit vector as ±1 floats, the space its lists are clustered in.
pub fn signs(row: &BitRef) -> Vec<f32> {
    (0..row.dims()).map(|i| if row.get(i) { 1.0 } else { -1.0 }).collect()
}

/// A query as the index uses it.
pub enum IndexQuery {
    Floats(Query),
    Bits(Vec<u8>),
}

/// Per-query state for scoring: list ranking, the FastScan table, rescoring.
pub struct Scorer {
    pub quantizer: Arc<Quantizer>,
    k: &'static Kernels,
    query: IndexQuery,
    /// The query in the space the lists were clustered in, as floats and as int8 codes.
    ranking: Vec<f32>,
    ranking_codes: Vec<i8>,
    ranking_scale: f32,
    /// 7-bit FastScan entries, 32 bytes per code byte (see `kernels::scalar::fastscan`).
    lut: Vec<u8>,
    /// Σ over set bits ≈ lut_scale · (sum of entries) + lut_offset.
    lut_scale: f32,
    lut_offset: f32,
}

impl Scorer {
    pub fn new(quantizer: Arc<Quantizer>, k: &'static Kernels, query: IndexQuery) -> Result<Scorer> {
        let groups = quantizer.code_len() * 2;
        let code_bits = quantizer.code_bits;
        let (ranking, lut, lut_scale, lut_offset) = match &query {
            IndexQuery::Floats(q) => {
                if quantizer.metric == Metric::Hamming {
                    bail!(DataException, "a Hamming index takes a bitvec query");
                }
                if q.values().len() != quantizer.dims {
                    bail!(DataException, "the query has {} dimensions, but the indexed column has {}", q.values().len(), quantizer.dims);
                }
                let (lut, scale, offset) = if code_bits == 4 { level_lut(q.values(), groups) } else { float_lut(q.values(), groups) };
                (q.values().to_vec(), lut, scale, offset)
            }
            IndexQuery::Bits(bytes) => {
                if quantizer.metric != Metric::Hamming {
                    bail!(DataException, "a bitvec query needs a Hamming index");
                }
                if bytes.len() != quantizer.code_len() {
                    bail!(
                        DataException,
                        "the query has {} bytes of bits, but the indexed column has {} ({} dimensions)",
                        bytes.len(),
                        quantizer.code_len(),
                        quantizer.dims
                    );
                }
                let ranking = (0..quantizer.dims).map(|i| if bytes[i / 8] >> (i % 8) & 1 == 1 { 1.0 } else { -1.0 }).collect();
                (ranking, hamming_lut(bytes), 1.0, 0.0)
            }
        };
        let Int8Vector { codes: ranking_codes, params } = Int8Vector::quantize_absmax(&ranking)?;
        let ranking_scale = params.scale;
        Ok(Scorer { quantizer, k, query, ranking, ranking_codes, ranking_scale, lut, lut_scale, lut_offset })
    }

    /// Every list with its rank (lower is nearer; unsorted), from int8 dot products:
    /// their error only reorders lists at nearly equal distances, where either is as good
    /// a probe.
    pub fn ranked_lists(&self) -> Vec<(f32, u32)> {
        let quantizer = &self.quantizer;
        let dims = quantizer.dims;
        (0..quantizer.lists())
            .map(|list| {
                let codes = &quantizer.centroid_codes[list * dims..(list + 1) * dims];
                let dot = (self.k.dot_i8)(&self.ranking_codes, codes) as f32 * self.ranking_scale * quantizer.centroid_code_scales[list];
                let rank = match quantizer.metric {
                    Metric::L2 | Metric::Hamming => quantizer.centroid_norms[list] - 2.0 * dot,
                    Metric::InnerProduct | Metric::Cosine => -dot,
                };
                (rank, list as u32)
            })
            .collect()
    }

    /// The part of a probed list's first-pass scores that its centroid contributes,
    /// from the float16 centroid (exact enough to add to every row's estimate).
    pub fn list_term(&self, list: u32) -> f32 {
        let quantizer = &self.quantizer;
        if !quantizer.residual || quantizer.metric == Metric::Hamming {
            return 0.0;
        }
        let (dims, list) = (quantizer.dims, list as usize);
        let mut dot = [0.0f32];
        (self.k.dot_f16_rows)(&self.ranking, &quantizer.centroid_halves[list * dims..(list + 1) * dims], &mut dot);
        if quantizer.metric == Metric::L2 {
            -2.0 * dot[0]
        } else {
            -dot[0]
        }
    }

    /// First-pass scores (lower is nearer) of the 32 rows of a block: estimated from the
    /// binary codes, or exact Hamming distances for a bit index.
    pub fn estimate_block(&self, block: &[u8], list_term: f32, out: &mut [f32; block::ROWS]) {
        let mut sums = [0u32; block::ROWS];
        (self.k.fastscan)(&self.lut, block::codes(&self.quantizer, block), &mut sums);
        let IndexQuery::Floats(q) = &self.query else {
            for (o, s) in out.iter_mut().zip(sums) {
                *o = s as f32;
            }
            return;
        };
        let q_sum = q.sum() as f32;
        // What the codes contribute, from the LUT sum σ: ⟨s, q⟩ = 2σ − Σq for signs (σ sums q
        // over the set bits), σ − 7.5·Σq for levels (σ = Σ u_i q_i).
        let (sum_weight, q_weight) = if self.quantizer.code_bits == 4 { (1.0, 7.5 * q_sum) } else { (2.0, q_sum) };
        let (alphas, betas) = block::factors(&self.quantizer, block);
        let terms = EstimateTerms { lut_scale: self.lut_scale, lut_offset: self.lut_offset, sum_weight, q_weight, list_term };
        (self.k.estimate_rows)(&sums, alphas.try_into().expect("32 factors"), betas.try_into().expect("32 factors"), terms, out);
    }

    /// The distance the operator would give, from a row's int8 vector.
    pub fn rescore(&self, vector: &[u8]) -> f64 {
        let IndexQuery::Floats(q) = &self.query else {
            unreachable!("Hamming indexes have no vectors to rescore");
        };
        let scale = read_f32(vector, VECTOR_SCALE_AT);
        let k = self.k;
        // The operators' own functions (`int4vec`'s unpack to these too): a scan must order
        // rows exactly as a sort by the operator does, and they stay finite where f32 sums
        // overflow or underflow.
        with_vector_codes(k, &self.quantizer, vector, |codes, zero_point| match self.quantizer.metric {
            Metric::L2 => int8::asymmetric_l2_sq(k, codes, Params { scale, zero_point }, q).sqrt(),
            // As `<#>` negates: 0 − x, not −x, so that 0 stays +0.
            Metric::InnerProduct => 0.0 - int8::asymmetric_dot(k, codes, Params { scale, zero_point }, q),
            // From the codes alone, as the operator computes it (the scale cancels); the
            // stored scale, s/‖x‖, is not needed.
            Metric::Cosine => int8::asymmetric_cosine(k, codes, zero_point, int8::codes_centered_norm_sq(k, codes, zero_point), q),
            Metric::Hamming => unreachable!("Hamming indexes have no vectors to rescore"),
        })
    }
}

/// A float query as int8 codes, to rank many vector items by one int8 dot product each
/// (a recall calibration's search for true neighbours among all rows), before the few
/// near the top are rescored exactly. The order approximates the rescored distance's: the
/// query's own rounding (8 bits) is the only error added to the rows' codes.
pub struct CoarseQuery {
    metric: Metric,
    codes: Vec<i8>,
    scale: f64,
    code_sum: i64,
}

/// What [`CoarseQuery::distance`] needs of a vector item besides the query: Σ (c − z)²
/// of its codes, computed once per row for all queries.
pub fn vector_centered_norm_sq(k: &Kernels, quantizer: &Quantizer, vector: &[u8]) -> i64 {
    with_vector_codes(k, quantizer, vector, |codes, zero_point| int8::codes_centered_norm_sq(k, codes, zero_point))
}

/// The row a vector item holds, as floats s·(q − z): a query like the row (for a cosine
/// row the scale is s/‖x‖, which keeps its direction); None for a cosine row of zeros,
/// which has none.
pub fn vector_floats(k: &Kernels, quantizer: &Quantizer, vector: &[u8]) -> Option<Vec<f32>> {
    let scale = f32::from_ne_bytes(vector[VECTOR_SCALE_AT..VECTOR_ZERO_POINT_AT].try_into().expect("4 bytes"));
    if !scale.is_finite() {
        return None;
    }
    Some(with_vector_codes(k, quantizer, vector, |codes, zero_point| codes.iter().map(|&c| scale * (f32::from(c) - f32::from(zero_point))).collect()))
}

/// Runs `f` on a vector item's codes, one byte each (4-bit ones unpacked: 0..=15 are int8
/// codes too), and its zero-point.
fn with_vector_codes<R>(k: &Kernels, quantizer: &Quantizer, vector: &[u8], f: impl FnOnce(&[i8], i8) -> R) -> R {
    // Sliced first: a short item must fail the bounds check, not be read past its end.
    let codes = &vector[VECTOR_CODES_AT..VECTOR_CODES_AT + quantizer.vector_code_len()];
    let zero_point = vector[VECTOR_ZERO_POINT_AT] as i8;
    if quantizer.vector_bits == 4 {
        return int4::with_unpacked(k, codes, quantizer.dims, |codes| f(codes, zero_point));
    }
    // SAFETY: i8 and u8 have the same layout and every bit pattern is valid for both.
    f(unsafe { std::slice::from_raw_parts(codes.as_ptr().cast::<i8>(), codes.len()) }, zero_point)
}

impl CoarseQuery {
    pub fn new(quantizer: &Quantizer, query: &[f32]) -> Result<CoarseQuery> {
        let Int8Vector { codes, params } = Int8Vector::quantize_absmax(query)?;
        let code_sum = codes.iter().map(|&c| i64::from(c)).sum();
        Ok(CoarseQuery { metric: quantizer.metric, codes, scale: f64::from(params.scale), code_sum })
    }

    /// Lower is nearer, comparable between rows for this query only (terms that are the
    /// same for every row are left out). `centered_norm_sq` is the row's
    /// [`vector_centered_norm_sq`].
    pub fn distance(&self, k: &Kernels, quantizer: &Quantizer, vector: &[u8], centered_norm_sq: i64) -> f64 {
        // Σ q_i (c_i − z), in the query's codes.
        let dot = with_vector_codes(k, quantizer, vector, |codes, zero_point| (k.dot_i8)(&self.codes, codes) - i64::from(zero_point) * self.code_sum) as f64
            * self.scale;
        let scale = f64::from(read_f32(vector, VECTOR_SCALE_AT));
        let norm_sq = centered_norm_sq as f64;
        match self.metric {
            Metric::L2 => scale * scale * norm_sq - 2.0 * scale * dot,
            Metric::InnerProduct => -scale * dot,
            // The stored scale cancels; a zero row sorts last, as NaN does.
            Metric::Cosine if norm_sq > 0.0 => -dot / norm_sq.sqrt(),
            Metric::Cosine => f64::INFINITY,
            Metric::Hamming => unreachable!("Hamming indexes have no vectors"),
        }
    }
}

/// FastScan table of a float query: for each group of 4 dimensions, the sums of its 16
/// subsets, shifted to start at 0 and quantized to 7 bits with one scale for all groups.
fn float_lut(q: &[f32], groups: usize) -> (Vec<u8>, f32, f32) {
    let mut sums = vec![0.0f32; groups * 16];
    let mut offset = 0.0f64;
    for g in 0..groups {
        let dims: [f32; 4] = std::array::from_fn(|j| q.get(4 * g + j).copied().unwrap_or(0.0));
        let entries = &mut sums[16 * g..16 * (g + 1)];
        // Entry v is entry v-without-its-highest-bit plus that bit's dimension: the same
        // additions, in the same order, as summing v's dimensions in ascending order.
        for v in 1..16 {
            let high = 31 - (v as u32).leading_zeros() as usize;
            entries[v] = entries[v ^ (1 << high)] + dims[high];
        }
        let low = entries.iter().copied().fold(f32::INFINITY, f32::min);
        entries.iter_mut().for_each(|e| *e -= low);
        offset += f64::from(low);
    }
    let high = sums.iter().copied().fold(0.0f32, f32::max);
    let scale = if high > 0.0 { high / 127.0 } else { 1.0 };
    // Entries are non-negative: adding one half and truncating rounds them.
    let lut = sums.iter().map(|&e| (e / scale + 0.5).min(127.0) as u8).collect();
    (lut, scale, offset as f32)
}

/// FastScan table of a float query for 4-bit codes: one group per dimension, entry u of
/// group d is u·q_d, shifted to start at 0 and quantized to 7 bits with one scale.
fn level_lut(q: &[f32], groups: usize) -> (Vec<u8>, f32, f32) {
    let mut entries = vec![0.0f32; groups * 16];
    let mut offset = 0.0f64;
    for (d, group) in entries.chunks_exact_mut(16).enumerate() {
        let x = q.get(d).copied().unwrap_or(0.0);
        let low = if x < 0.0 { 15.0 * x } else { 0.0 };
        for (u, e) in group.iter_mut().enumerate() {
            *e = u as f32 * x - low;
        }
        offset += f64::from(low);
    }
    let high = entries.iter().copied().fold(0.0f32, f32::max);
    let scale = if high > 0.0 { high / 127.0 } else { 1.0 };
    let lut = entries.iter().map(|&e| (e / scale + 0.5).min(127.0) as u8).collect();
    (lut, scale, offset as f32)
}

/// FastScan table of a bit query: entry v of group g is popcount(v ⊕ the query's nibble g),
/// so the sums are exact Hamming distances.
fn hamming_lut(bytes: &[u8]) -> Vec<u8> {
    let mut lut = vec![0u8; bytes.len() * 32];
    for (p, &byte) in bytes.iter().enumerate() {
        for half in 0..2 {
            let nibble = (byte >> (4 * half)) & 15;
            for v in 0..16u8 {
                lut[32 * p + 16 * half + usize::from(v)] = (v ^ nibble).count_ones() as u8;
            }
        }
    }
    lut
}

/// Approximate size of an index over `rows` rows of `vector_bits`-bit codes (8: `int8vec`,
/// 4: `int4vec`; Hamming indexes keep no vectors) with the default number of lists, for
/// pages holding `page_capacity` bytes of data: full code pages of 32-row blocks (plus a
/// partial block per list), vector pages, and float16 centroids.
pub fn estimated_index_bytes(metric: Metric, vector_bits: u8, dims: usize, rows: usize, page_capacity: usize) -> u64 {
    let k = crate::kernels::table(crate::kernels::Isa::Scalar).expect("scalar kernels");
    let Ok(quantizer) = Quantizer::new(k, metric, dims, true, vec![0.0; dims]).and_then(|q| q.with_vector_bits(vector_bits)) else { return 0 };
    // In u64 with saturation: `rows` comes from an estimate (reltuples) and may be anything.
    let (rows, dims, page_capacity) = (rows as u64, dims as u64, page_capacity.max(1) as u64);
    let lists = build::default_lists(usize::try_from(rows).unwrap_or(usize::MAX)) as u64;
    let blocks = rows.div_ceil(block::ROWS as u64).saturating_add(lists / 2);
    let stored = quantizer.block_len() as u64 + 8;
    // Blocks share pages, or a wide block spans pages of its own.
    let code_pages =
        if stored <= page_capacity { blocks.div_ceil((page_capacity / stored).max(1)) } else { blocks.saturating_mul(stored.div_ceil(page_capacity)) };
    let mut pages = code_pages.saturating_add(lists.saturating_mul(dims).saturating_mul(2).div_ceil(page_capacity)).saturating_add(2);
    if quantizer.has_vectors() {
        pages = pages.saturating_add(rows.div_ceil((page_capacity / quantizer.vector_len() as u64).max(1)));
    }
    pages.saturating_mul(8192)
}

/// Build settings, with defaults derived from the row count.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    pub lists: usize,
    pub sample_rows: usize,
    pub iterations: usize,
    /// Bits per dimension of the first-pass codes (see [`Quantizer::with_code_bits`]).
    pub code_bits: u8,
}

impl BuildOptions {
    /// The defaults of [`build::plan`] with an unbounded sample.
    pub fn for_rows(rows: usize) -> BuildOptions {
        let plan = build::plan(rows, 0, 0, rows).expect("an unbounded sample fits");
        BuildOptions { lists: plan.lists, sample_rows: plan.sample_rows, iterations: KMEANS_ITERATIONS, code_bits: 1 }
    }
}

/// Lloyd iterations of a build's k-means.
pub const KMEANS_ITERATIONS: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    /// A value whose scale puts it past f32's range is clustered and encoded as finite
    /// floats held at ±f32::MAX, for every metric.
    #[test]
    fn values_past_f32_range_encode() {
        let k = crate::kernels::active();
        let huge = Int8Vector::new(crate::int8::Params::new(3e38, 0).unwrap(), vec![127, -128]).unwrap();
        assert!(huge.view().dequantize().iter().all(|v| v.is_infinite()));
        assert_eq!(huge.view().dequantize_finite(), vec![f32::MAX, -f32::MAX]);
        for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine] {
            let mut centroids = vec![1.0, 2.0, f32::MAX, -f32::MAX];
            let exponent = meta::round_centroids(&mut centroids);
            assert!(exponent > 0 && centroids.iter().all(|c| c.is_finite()));
            let quantizer = Quantizer::new(k, metric, 2, true, centroids).unwrap();
            let row = quantizer.encode_int8(k, ItemPointer { block: 1, offset: 1 }, &huge.view()).unwrap();
            assert!(row.list < 2, "{metric:?}");
        }
    }

    /// A build assigns its rows in groups (`lists_of_stored`) to the lists that one row at a
    /// time (`list_of`, as inserts do) gives them, but for near-ties that the two sums'
    /// rounding may break apart, and encodes them into a given list as into its own.
    #[test]
    fn grouped_assignment_matches_one_row_at_a_time() {
        use rand::{Rng, SeedableRng};
        let k = crate::kernels::active();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(11);
        let (dims, lists, rows) = (70, 37, 1000);
        let floats = |rng: &mut rand::rngs::SmallRng, n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect() };
        for (metric, vector_bits) in [(Metric::L2, 8), (Metric::InnerProduct, 8), (Metric::Cosine, 8), (Metric::Cosine, 4), (Metric::Hamming, 8)] {
            let quantizer = Quantizer::new(k, metric, dims, true, floats(&mut rng, lists * dims)).and_then(|q| q.with_vector_bits(vector_bits)).unwrap();
            let payloads: Vec<Vec<u8>> = (0..rows)
                .map(|_| {
                    let x = floats(&mut rng, dims);
                    match (metric, vector_bits) {
                        (Metric::Hamming, _) => crate::bits::BitVector::from_signs(&x).unwrap().encode(),
                        (_, 4) => crate::int4::Int4Vector::quantize_minmax(&x).unwrap().encode(),
                        _ => Int8Vector::quantize_minmax(&x).unwrap().encode(),
                    }
                })
                .collect();
            let grouped = quantizer.lists_of_stored(k, &quantizer.assigner(), payloads.iter().map(Vec::as_slice)).unwrap();
            let score = |x: &[f32], list: usize| -> f64 {
                let dot: f64 = x.iter().zip(quantizer.centroid(list)).map(|(&a, &c)| f64::from(a) * f64::from(c)).sum();
                if metric.spherical() {
                    -dot
                } else {
                    f64::from(quantizer.centroid_norms[list]) - 2.0 * dot
                }
            };
            let mut same = 0;
            for (payload, &list) in payloads.iter().zip(&grouped) {
                let x = stored_floats(metric, vector_bits, payload).unwrap();
                let alone = quantizer.list_of(k, &x);
                if list == alone {
                    same += 1;
                    let tid = ItemPointer { block: 3, offset: 9 };
                    let (given, own) = (quantizer.encode_stored_in(k, tid, payload, Some(list)).unwrap(), quantizer.encode_stored(k, tid, payload).unwrap());
                    assert_eq!(
                        (given.list, given.code, given.alpha.to_bits(), given.beta.to_bits(), given.vector),
                        (own.list, own.code, own.alpha.to_bits(), own.beta.to_bits(), own.vector)
                    );
                } else {
                    assert!((score(&x, list) - score(&x, alone)).abs() < 1e-4, "{metric:?}: list {list} against {alone}");
                    assert!(quantizer.lists_tie(payload, list, alone).unwrap(), "{metric:?}: a near-tie the check accepts");
                }
                let farthest = (0..lists).max_by(|&a, &b| score(&x, a).total_cmp(&score(&x, b))).unwrap();
                assert!(!quantizer.lists_tie(payload, farthest, list).unwrap(), "{metric:?}: the farthest list is no tie");
                assert!(quantizer.lists_tie(payload, list, list).unwrap());
            }
            assert!(same >= rows - 2, "{metric:?}: {same} of {rows} rows in the same list");
        }
        // An exact tie, and a clear preference, on a quantizer of two lists.
        let two_lists = Quantizer::new(k, Metric::L2, 2, true, vec![0.0, 1.0, 0.0, -1.0]).unwrap();
        let (between, near_first) = (Int8Vector::quantize_minmax(&[1.0, 0.0]).unwrap().encode(), Int8Vector::quantize_minmax(&[0.0, 1.0]).unwrap().encode());
        assert!(two_lists.lists_tie(&between, 0, 1).unwrap() && !two_lists.lists_tie(&near_first, 0, 1).unwrap());
        assert!(!two_lists.lists_tie(&between, 0, 2).unwrap(), "no such list");
        // A value whose f32 sums overflow (codes of 15 at scale 3.4e38 dequantize to
        // f32::MAX) ties every list: the check found it in another list than alone.
        let huge = crate::int4::Int4Vector::from_codes(&[15, 0], crate::int4::Params::new(3.4e38, 0).unwrap()).unwrap().encode();
        let two_int4 = Quantizer::new(k, Metric::L2, 2, true, vec![1.0, 0.0, -1.0, 0.0]).and_then(|q| q.with_vector_bits(4)).unwrap();
        assert!(two_int4.lists_tie(&huge, 0, 1).unwrap());
        let four = Quantizer::new(k, Metric::L2, 4, true, vec![0.0; 8]).unwrap();
        assert!(four.lists_of_stored(k, &four.assigner(), [&[1u8, 2, 3][..]].into_iter()).is_err(), "a malformed value is refused");
        let two = Int8Vector::quantize_minmax(&[1.0, 2.0]).unwrap().encode();
        let err = four.lists_of_stored(k, &four.assigner(), [two.as_slice()].into_iter()).unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::DataException);
    }

    /// Index size estimates (from reltuples, which may be anything) saturate instead of
    /// overflowing, and grow with rows and dimensions.
    #[test]
    fn size_estimates_at_the_limits() {
        for metric in [Metric::L2, Metric::Hamming] {
            let mut last = 0;
            for rows in [0, 1, 1 << 20, 1 << 40, usize::MAX / 2, usize::MAX] {
                let bytes = estimated_index_bytes(metric, 8, 6_000, rows, 8160);
                assert!(bytes >= last, "{metric:?}: {rows} rows: {bytes} < {last}");
                last = bytes;
            }
            assert_eq!(last, u64::MAX);
            assert!(estimated_index_bytes(metric, 8, 64_000, 1_000, 8160) == 0 || metric == Metric::Hamming);
            assert!(estimated_index_bytes(metric, 8, 384, 1_000_000, 0) > 0);
        }
        // 4-bit vectors: half the vector pages of int8 ones; none on bits.
        let (int8, int4) = (estimated_index_bytes(Metric::Cosine, 8, 384, 100_000, 8160), estimated_index_bytes(Metric::Cosine, 4, 384, 100_000, 8160));
        assert!(int4 < int8 && int4 > int8 / 3, "{int4} vs {int8}");
        assert_eq!(estimated_index_bytes(Metric::Hamming, 4, 384, 100_000, 8160), 0);
    }

    /// Found by tests/fuzz.rs: rescoring viewed `dims` codes from a short vector item
    /// without a bounds check, reading past its end; it must be refused.
    #[test]
    fn rescoring_refuses_a_short_vector_item() {
        let k = crate::kernels::active();
        let quantizer = Arc::new(Quantizer::new(k, Metric::L2, 4, true, vec![0.0; 4]).unwrap());
        let scorer = Scorer::new(quantizer.clone(), k, IndexQuery::Floats(Query::new(&[1.0, 0.0, 0.0, 0.0]).unwrap())).unwrap();
        let row = quantizer.encode_int8(k, ItemPointer { block: 1, offset: 1 }, &Int8Vector::quantize_minmax(&[1.0, 0.0, 0.0, 0.0]).unwrap().view()).unwrap();
        assert_eq!(row.vector.len(), quantizer.vector_len());
        assert!(scorer.rescore(&row.vector).abs() < 0.01);
        for len in [11, quantizer.vector_len() - 1] {
            let short = row.vector[..len].to_vec();
            assert!(std::panic::catch_unwind(|| scorer.rescore(&short)).is_err(), "{len} bytes");
        }
    }
}
