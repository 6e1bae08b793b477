//! `quantvec_quality_report`: recall@10 of each precision on a sample of a column's own
//! vectors, with the storage each would take, before anything is converted.

use pgrx::prelude::*;
use quantvec_core::ivf::{estimated_index_bytes, Metric};
use quantvec_core::kernels;
use quantvec_core::quality::{report, Distance, IndexKind};

use crate::error::OrRaise;

/// First-pass candidates the report rescores: k × rescore factors 2 to 20 for k = 10.
const CANDIDATES: [usize; 4] = [20, 40, 80, 200];
/// Bytes of row data on a heap page, and of data on an index page.
const HEAP_PAGE_DATA: usize = pg_sys::BLCKSZ as usize - std::mem::offset_of!(pg_sys::PageHeaderData, pd_linp);
const INDEX_PAGE_DATA: usize = crate::index::PAGE_DATA;

/// Heap bytes for `rows` rows whose other columns take `other` bytes, with a vector
/// column of `vector` bytes.
fn table_bytes(rows: f64, other: f64, vector: usize) -> i64 {
    let tuple = (24.0 + other + vector as f64).max(24.0);
    let aligned = (tuple / 8.0).ceil() * 8.0 + 4.0; // MAXALIGN, plus the line pointer
    let per_page = (HEAP_PAGE_DATA as f64 / aligned).floor().max(1.0);
    ((rows / per_page).ceil() * 8192.0) as i64
}

#[pg_extern(volatile, parallel_safe)]
#[allow(clippy::type_complexity)]
fn quantvec_quality_report(
    table: pgrx::PgRelation,
    column: &str,
    sample_rows: default!(i32, 2000),
    queries: default!(i32, 100),
    distance: default!(&str, "'cosine'"),
) -> TableIterator<
    'static,
    (
        name!(representation, String),
        name!(candidates, Option<i32>),
        name!(recall_at_10, f64),
        name!(bytes_per_vector, i32),
        name!(estimated_table_bytes, i64),
        name!(estimated_index_bytes, Option<i64>),
    ),
> {
    let distance = Distance::from_name(distance).or_raise();
    if sample_rows < 1 || queries < 1 {
        error!("quantvec_quality_report: sample_rows and queries must be positive (got {sample_rows} and {queries})");
    }
    // At least 20 rows, and at most half of them held out as queries.
    let sample_rows = sample_rows.max(20);
    let (sample_rows, queries) = (sample_rows as usize, queries.min(sample_rows / 2) as usize);
    let oid = table.oid();
    let (name, rows): (String, f64) = Spi::connect(|client| {
        let row = client.select("SELECT $1::regclass::text, greatest(reltuples, 0)::float8 FROM pg_class WHERE oid = $1", None, &[oid.into()])?.first();
        Ok::<_, pgrx::spi::Error>((row.get::<String>(1)?.unwrap_or_default(), row.get::<f64>(2)?.unwrap_or(0.0)))
    })
    .unwrap_or_else(|e| error!("quantvec_quality_report: {e}"));
    let column_sql = pgrx::spi::quote_identifier(column);
    // A Bernoulli sample a little larger than needed (reltuples is an estimate), the same
    // one each time for the same table.
    let percent = if rows > 0.0 { (150.0 * (sample_rows + queries) as f64 / rows).min(100.0) } else { 100.0 };
    let query = format!(
        "SELECT ({column_sql})::real[], pg_column_size(t.*)::float8 - pg_column_size({column_sql})::float8
           FROM {name} t TABLESAMPLE BERNOULLI ({percent}) REPEATABLE (42) WHERE {column_sql} IS NOT NULL LIMIT {}",
        sample_rows + queries
    );
    let (vectors, other_widths): (Vec<Vec<f32>>, Vec<f64>) = Spi::connect(|client| {
        let mut vectors = Vec::new();
        let mut widths = Vec::new();
        for row in client.select(&query, None, &[])? {
            if let Some(v) = row.get::<Vec<f32>>(1)? {
                vectors.push(v);
                widths.push(row.get::<f64>(2)?.unwrap_or(0.0));
            }
        }
        Ok::<_, pgrx::spi::Error>((vectors, widths))
    })
    .unwrap_or_else(|e| error!("quantvec_quality_report: {e}"));
    if vectors.len() < 2 * queries {
        error!("quantvec_quality_report: {name}.{column} has {} non-NULL vectors in the sample; at least {} are needed", vectors.len(), 2 * queries);
    }
    let rows = rows.max(vectors.len() as f64);
    let other = other_widths.iter().sum::<f64>() / other_widths.len() as f64;
    let (held_out, base) = vectors.split_at(queries);
    let dims = base[0].len();
    let metric = match distance {
        Distance::L2 => Metric::L2,
        Distance::InnerProduct => Metric::InnerProduct,
        Distance::Cosine => Metric::Cosine,
    };
    let int8_index = estimated_index_bytes(metric, 8, dims, rows as usize, INDEX_PAGE_DATA) as i64;
    let int4_index = estimated_index_bytes(metric, 4, dims, rows as usize, INDEX_PAGE_DATA) as i64;
    let bit_index = estimated_index_bytes(Metric::Hamming, 8, dims, rows as usize, INDEX_PAGE_DATA) as i64;
    let results = report(kernels::active(), base, held_out, distance, &CANDIDATES, &|| {
        pgrx::check_for_interrupts!();
        Ok(())
    })
    .or_raise();
    let lines: Vec<_> = results
        .into_iter()
        .map(|r| {
            let index = r.index.map(|kind| match kind {
                IndexKind::Int8 => int8_index,
                IndexKind::Int4 => int4_index,
                IndexKind::Hamming => bit_index,
            });
            (r.representation, r.candidates.map(|c| c as i32), r.recall_at_10, r.bytes_per_vector as i32, table_bytes(rows, other, r.bytes_per_vector), index)
        })
        .collect();
    TableIterator::new(lines)
}
