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
    /// Stored size of one vector, header included.
    pub bytes_per_vector: usize,
}

/// Bytes Postgres stores for a varlena value of `payload` bytes: a 1-byte header up to
/// 126 bytes of payload, else 4.
pub fn stored_bytes(payload: usize) -> usize {
    payload + if payload < 127 { 1 } else { 4 }
}

const K: usize = 10;

/// The report over `base` rows with `queries` held-out rows.
pub fn report(k: &'static Kernels, base: &[Vec<f32>], queries: &[Vec<f32>], distance: Distance, candidates: &[usize]) -> Result<Vec<ReportRow>> {
    let Some(dims) = base.first().map(Vec::len) else {
        bail!(DataException, "the sample has no vectors");
    };
    if queries.is_empty() || base.iter().chain(queries).any(|v| v.len() != dims) {
        bail!(DataException, "the sample needs queries and vectors of one dimension count");
    }
    let codes: Vec<Int8Vector> = base.iter().map(|v| Int8Vector::quantize_minmax(v)).collect::<Result<_>>()?;
    let signs: Vec<BitVector> = base.iter().map(|v| BitVector::from_signs(v)).collect::<Result<_>>()?;
    let prepared: Vec<Query> = queries.iter().map(|q| Query::new(q)).collect::<Result<_>>()?;
    let truth: Vec<Vec<usize>> = queries.iter().map(|q| nearest(base.len(), K, |i| distance.exact(q, &base[i]))).collect();
    let mean = |found: &dyn Fn(usize) -> Vec<usize>| (0..queries.len()).map(|q| recall(&found(q), &truth[q])).sum::<f64>() / queries.len() as f64;

    let int8_top = |q: usize, n: usize| nearest(base.len(), n, |i| distance.int8(k, &codes[i].view(), &prepared[q]));
    let rescored = |q: usize, first: Vec<usize>| -> Vec<usize> {
        let scored = first.into_iter().map(|id| Scored { distance: distance.int8(k, &codes[id].view(), &prepared[q]), id });
        top_k(scored, K).into_iter().map(|s| s.id).collect()
    };
    let int8_bytes = stored_bytes(int8::HEADER_LEN + dims);
    let bit_bytes = stored_bytes(bits::HEADER_LEN + dims.div_ceil(8));
    let mut rows = vec![
        ReportRow { representation: "real[] (exact)".into(), candidates: None, recall_at_10: 1.0, bytes_per_vector: 24 + 4 * dims },
        ReportRow { representation: "int8vec".into(), candidates: None, recall_at_10: mean(&|q| int8_top(q, K)), bytes_per_vector: int8_bytes },
    ];
    let quantized_queries: Vec<Int8Vector> = queries.iter().map(|q| Int8Vector::quantize_minmax(q)).collect::<Result<_>>()?;
    rows.push(ReportRow {
        representation: "int8vec, int8vec query".into(),
        candidates: None,
        recall_at_10: mean(&|q| nearest(base.len(), K, |i| distance.int8_symmetric(k, &codes[i].view(), &quantized_queries[q].view()))),
        bytes_per_vector: int8_bytes,
    });
    let bits_first = |q: usize, n: usize| nearest(base.len(), n, |i| -bits::inner_product_f32(k, &signs[i].view(), &prepared[q]).unwrap_or(f64::NAN));
    rows.push(ReportRow { representation: "bitvec".into(), candidates: None, recall_at_10: mean(&|q| bits_first(q, K)), bytes_per_vector: bit_bytes });
    for &n in candidates {
        rows.push(ReportRow {
            representation: "bitvec, rescored with int8vec".into(),
            candidates: Some(n),
            recall_at_10: mean(&|q| rescored(q, bits_first(q, n))),
            bytes_per_vector: bit_bytes + int8_bytes,
        });
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
        let report = report(kernels::active(), base, queries, Distance::Cosine, &[10, 40, 100]).unwrap();
        let recall = |name: &str, c: Option<usize>| report.iter().find(|r| r.representation == name && r.candidates == c).unwrap().recall_at_10;
        assert_eq!(recall("real[] (exact)", None), 1.0);
        assert!(recall("int8vec", None) >= 0.97, "{report:?}");
        assert!(recall("bitvec, rescored with int8vec", Some(100)) >= recall("bitvec, rescored with int8vec", Some(10)));
        assert!(recall("bitvec", None) < recall("bitvec, rescored with int8vec", Some(40)));
        assert_eq!(report[1].bytes_per_vector, 404);
        assert_eq!(report[3].bytes_per_vector, 51);
        assert!(Distance::from_name("manhattan").is_err());
    }
}
