//! The quality report: how well each precision keeps a column's nearest neighbours, from a
//! sample of its own vectors, so that a user can choose before converting anything.
//!
//! Queries are held-out rows of the sample; the truth is the exact float top-10 over the
//! rest. Each representation is searched exhaustively, so the recall measures the
//! precision alone, not an index's settings.

use crate::bits::{self, BitVector};
use crate::error::{bail, Result};
use crate::eval::{nearest, recall, top_k, Scored};
use crate::floats::{exact, Query};
use crate::int4::{self, Int4Vector, PackedInt4};
use crate::int8::{self, Int8Vector};
use crate::kernels::Kernels;

/// The distance the report ranks by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distance {
    L2,
    InnerProduct,
    Cosine,
}

impl Distance {
    pub fn from_name(name: &str) -> Result<Distance> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "l2" | "<->" => Distance::L2,
            "ip" | "inner_product" | "<#>" => Distance::InnerProduct,
            "cosine" | "<=>" => Distance::Cosine,
            other => bail!(InvalidParameter, "unknown distance \"{other}\"; use l2, inner_product or cosine"),
        })
    }

    fn exact(self, a: &[f32], b: &[f32]) -> f64 {
        match self {
            Distance::L2 => exact::l2_distance(a, b),
            Distance::InnerProduct => exact::inner_product(a, b).map(|ip| -ip),
            Distance::Cosine => exact::cosine_distance(a, b),
        }
        .unwrap_or(f64::NAN)
    }

    fn int8(self, k: &Kernels, a: &int8::Int8Ref, q: &Query) -> f64 {
        match self {
            Distance::L2 => int8::l2_distance_f32(k, a, q),
            Distance::InnerProduct => int8::inner_product_f32(k, a, q).map(|ip| -ip),
            Distance::Cosine => int8::cosine_distance_f32(k, a, q),
        }
        .unwrap_or(f64::NAN)
    }

    fn int4(self, k: &Kernels, a: &int4::Int4Ref, q: &Query) -> f64 {
        match self {
            Distance::L2 => int4::l2_distance_f32(k, a, q),
            Distance::InnerProduct => int4::inner_product_f32(k, a, q).map(|ip| -ip),
            Distance::Cosine => int4::cosine_distance_f32(k, a, q),
        }
        .unwrap_or(f64::NAN)
    }

    fn int4_symmetric(self, k: &Kernels, a: &int4::Int4Ref, b: &int4::Int4Ref) -> f64 {
        match self {
            Distance::L2 => int4::l2_distance(k, a, b),
            Distance::InnerProduct => int4::inner_product(k, a, b).map(|ip| -ip),
            Distance::Cosine => int4::cosine_distance(k, a, b),
        }
        .unwrap_or(f64::NAN)
    }

    fn int8_symmetric(self, k: &Kernels, a: &int8::Int8Ref, b: &int8::Int8Ref) -> f64 {
        match self {
            Distance::L2 => int8::l2_distance(k, a, b),
            Distance::InnerProduct => int8::inner_product(k, a, b).map(|ip| -ip),
            Distance::Cosine => int8::cosine_distance(k, a, b),
        }
        .unwrap_or(f64::NAN)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReportRow {
    pub representation: String,
    /// First-pass candidates rescored, for two-stage searches.
    pub candidates: Option<usize>,
    pub recall_at_10: f64,
    /// Stored size of the column's value, header included.
    pub bytes_per_vector: usize,
    /// The quantvec index that serves this search, if one does.
    pub index: Option<IndexKind>,
}

/// Which quantvec index a search in the report corresponds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexKind {
    /// On an int8vec column: binary first pass, int8 rescoring.
    Int8,
    /// On an int4vec column: binary first pass, rescoring from the 4-bit codes.
    Int4,
    /// On a bitvec column, Hamming.
    Hamming,
}

/// Bytes Postgres stores for a varlena value of `payload` bytes: a 1-byte header up to
/// 126 bytes of payload, else 4.
pub fn stored_bytes(payload: usize) -> usize {
    payload + if payload < 127 { 1 } else { 4 }
}

const K: usize = 10;

/// The report over `base` rows with `queries` held-out rows. `check` runs before each
/// query of each measurement (to check for cancellation: the work grows with
/// queries × rows); an error from it stops the report.
pub fn report(
    k: &'static Kernels,
    base: &[Vec<f32>],
    queries: &[Vec<f32>],
    distance: Distance,
    candidates: &[usize],
    check: &dyn Fn() -> Result<()>,
) -> Result<Vec<ReportRow>> {
    let Some(dims) = base.first().map(Vec::len) else {
        bail!(DataException, "the sample has no vectors");
    };
    if queries.is_empty() || base.iter().chain(queries).any(|v| v.len() != dims) {
        bail!(DataException, "the sample needs queries and vectors of one dimension count");
    }
    let codes: Vec<Int8Vector> = base.iter().map(|v| Int8Vector::quantize_minmax(v)).collect::<Result<_>>()?;
    let signs: Vec<BitVector> = base.iter().map(|v| BitVector::from_signs(v)).collect::<Result<_>>()?;
    let prepared: Vec<Query> = queries.iter().map(|q| Query::new(q)).collect::<Result<_>>()?;
    let truth: Vec<Vec<usize>> = queries.iter().map(|q| check().map(|()| nearest(base.len(), K, |i| distance.exact(q, &base[i])))).collect::<Result<_>>()?;
    let mean = |found: &dyn Fn(usize) -> Vec<usize>| -> Result<f64> {
        let mut total = 0.0;
        for (q, truth) in truth.iter().enumerate() {
            check()?;
            total += recall(&found(q), truth);
        }
        Ok(total / queries.len() as f64)
    };

    let int8_top = |q: usize, n: usize| nearest(base.len(), n, |i| distance.int8(k, &codes[i].view(), &prepared[q]));
    let rescored = |q: usize, first: Vec<usize>| -> Vec<usize> {
        let scored = first.into_iter().map(|id| Scored { distance: distance.int8(k, &codes[id].view(), &prepared[q]), id });
        top_k(scored, K).into_iter().map(|s| s.id).collect()
    };
    let int8_bytes = stored_bytes(int8::HEADER_LEN + dims);
    let int4_bytes = stored_bytes(int4::HEADER_LEN + dims.div_ceil(2));
    let codes4: Vec<PackedInt4> = base.iter().map(|v| Int4Vector::quantize_minmax(v).map(|c| c.packed())).collect::<Result<_>>()?;
    let queries4: Vec<PackedInt4> = queries.iter().map(|q| Int4Vector::quantize_minmax(q).map(|c| c.packed())).collect::<Result<_>>()?;
    let int4_top = |q: usize, n: usize| nearest(base.len(), n, |i| distance.int4(k, &codes4[i].view(), &prepared[q]));
    let bit_bytes = stored_bytes(bits::HEADER_LEN + dims.div_ceil(8));
    let row = |representation: &str, candidates, recall_at_10, bytes_per_vector, index| ReportRow {
        representation: representation.into(),
        candidates,
        recall_at_10,
        bytes_per_vector,
        index,
    };
    let quantized_queries: Vec<Int8Vector> = queries.iter().map(|q| Int8Vector::quantize_minmax(q)).collect::<Result<_>>()?;
    let query_signs: Vec<BitVector> = queries.iter().map(|q| BitVector::from_signs(q)).collect::<Result<_>>()?;
    let hamming = |q: usize| nearest(base.len(), K, |i| bits::hamming_distance(k, &signs[i].view(), &query_signs[q].view()).unwrap_or(f64::NAN));
    let bits_first = |q: usize, n: usize| nearest(base.len(), n, |i| -bits::inner_product_f32(k, &signs[i].view(), &prepared[q]).unwrap_or(f64::NAN));
    let mut rows = vec![
        row("real[] (exact search)", None, 1.0, 24 + 4 * dims, None),
        row("int8vec, real[] query", None, mean(&|q| int8_top(q, K))?, int8_bytes, Some(IndexKind::Int8)),
        row(
            "int8vec, int8vec query",
            None,
            mean(&|q| nearest(base.len(), K, |i| distance.int8_symmetric(k, &codes[i].view(), &quantized_queries[q].view())))?,
            int8_bytes,
            Some(IndexKind::Int8),
        ),
        row("int4vec, real[] query", None, mean(&|q| int4_top(q, K))?, int4_bytes, Some(IndexKind::Int4)),
        row(
            "int4vec, int4vec query",
            None,
            mean(&|q| nearest(base.len(), K, |i| distance.int4_symmetric(k, &codes4[i].view(), &queries4[q].view())))?,
            int4_bytes,
            Some(IndexKind::Int4),
        ),
        row("bitvec, Hamming to the query's bits", None, mean(&hamming)?, bit_bytes, Some(IndexKind::Hamming)),
        row("bitvec, real[] query", None, mean(&|q| bits_first(q, K))?, bit_bytes, None),
    ];
    for &n in candidates {
        let name = format!("int8vec, binary first pass, top {n} rescored");
        rows.push(row(&name, Some(n), mean(&|q| rescored(q, bits_first(q, n)))?, int8_bytes, Some(IndexKind::Int8)));
    }
    // A 4-bit column beside the int8 one: what the pair costs, and what rescoring buys.
    for &n in candidates {
        let name = format!("int4vec first pass, top {n} rescored by int8vec");
        rows.push(row(&name, Some(n), mean(&|q| rescored(q, int4_top(q, n)))?, int4_bytes + int8_bytes, None));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::Embeddings;
    use crate::kernels;

    #[test]
    fn report_on_real_embeddings() {
        let data = Embeddings::wordnet(2100, 0).expect("shared data set");
        let rows: Vec<Vec<f32>> = (0..data.base.rows).map(|i| data.base.row(i).to_vec()).collect();
        let (queries, base) = rows.split_at(100);
        let report = report(kernels::active(), base, queries, Distance::Cosine, &[20, 40, 100], &|| Ok(())).unwrap();
        let checks = std::cell::Cell::new(0);
        let stopped = super::report(kernels::active(), base, queries, Distance::Cosine, &[20], &|| {
            checks.set(checks.get() + 1);
            if checks.get() > 5 {
                Err(crate::Error::new(crate::ErrorKind::InvalidParameter, "canceled"))
            } else {
                Ok(())
            }
        });
        assert!(stopped.is_err() && checks.get() == 6, "the report stops at the first failed check");
        let recall = |name: &str| report.iter().find(|r| r.representation.starts_with(name)).unwrap().recall_at_10;
        assert_eq!(recall("real[] (exact search)"), 1.0);
        assert!(recall("int8vec, real[] query") >= 0.97, "{report:?}");
        let first_pass = |n: usize| report.iter().find(|r| r.candidates == Some(n)).unwrap().recall_at_10;
        assert!(first_pass(100) >= first_pass(20), "{report:?}");
        // The float query against bits ranks better than Hamming between bits, and
        // rescoring its top 40 with int8 beats either alone.
        assert!(recall("bitvec, real[] query") > recall("bitvec, Hamming"), "{report:?}");
        assert!(first_pass(40) > recall("bitvec, real[] query"), "{report:?}");
        assert_eq!(report[1].bytes_per_vector, 404);
        assert!(recall("int4vec, real[] query") >= 0.9 && recall("int4vec, int4vec query") >= 0.85, "{report:?}");
        let int4_first = |n: usize| report.iter().find(|r| r.candidates == Some(n) && r.representation.starts_with("int4vec")).unwrap();
        assert!(int4_first(20).recall_at_10 > recall("int4vec, real[] query"), "{report:?}");
        assert_eq!(int4_first(20).bytes_per_vector, 404 + 204);
        let int4_row = report.iter().find(|r| r.representation == "int4vec, real[] query").unwrap();
        assert_eq!((int4_row.bytes_per_vector, int4_row.index), (204, Some(IndexKind::Int4)));
        assert_eq!(report.iter().find(|r| r.representation.starts_with("bitvec, Hamming")).unwrap().bytes_per_vector, 51);
        assert!(Distance::from_name("manhattan").is_err());
    }
}
