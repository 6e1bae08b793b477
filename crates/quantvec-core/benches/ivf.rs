//! The index algorithm without Postgres, on the shared wordnet-minilm-384 set: build time,
//! and recall@10 / time per query over probes and rescore factors, for residual and raw
//! binary codes.
//!
//!     cargo bench -p quantvec-core --bench ivf [-- ROWS QUERIES]

use std::time::Instant;

use quantvec_core::datasets::Embeddings;
use quantvec_core::eval::{nearest, recall};
use quantvec_core::floats::Query;
use quantvec_core::int8::Int8Vector;
use quantvec_core::ivf::memory::MemoryIndex;
use quantvec_core::ivf::search::{Search, SearchOptions};
use quantvec_core::ivf::{BuildOptions, IndexQuery, Metric, Scorer};
use quantvec_core::kernels;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (rows, queries) = (args.first().copied().unwrap_or(100_000), args.get(1).copied().unwrap_or(200));
    let k = kernels::active();
    let data = Embeddings::wordnet(rows, queries).expect("shared data set");
    let codes: Vec<Int8Vector> = (0..data.base.rows).map(|i| Int8Vector::quantize_minmax(data.base.row(i)).unwrap()).collect();
    let norms: Vec<f64> = (0..data.base.rows).map(|i| f64::from((k.dot_f32)(data.base.row(i), data.base.row(i))).sqrt()).collect();
    let truth: Vec<Vec<usize>> = (0..data.queries.rows)
        .map(|q| {
            let x = data.queries.row(q);
            let xn = f64::from((k.dot_f32)(x, x)).sqrt();
            nearest(data.base.rows, 10, |i| 1.0 - f64::from((k.dot_f32)(x, data.base.row(i))) / (xn * norms[i]))
        })
        .collect();
    println!("{} rows, {} queries, kernels {}", data.base.rows, data.queries.rows, k.isa.name());
    let mut options = BuildOptions::for_rows(data.base.rows);
    if let Some(bits) = std::env::var("CODE_BITS").ok().and_then(|b| b.parse().ok()) {
        options.code_bits = bits;
    }
    if let Some(lists) = std::env::var("LISTS").ok().and_then(|l| l.parse().ok()) {
        options = BuildOptions { lists, sample_rows: lists * 40, ..options };
    }
    for residual in [true, false].into_iter().filter(|r| *r || std::env::var("RAW").is_ok()) {
        let started = Instant::now();
        let index = MemoryIndex::build_int8(k, Metric::Cosine, &codes, &options, residual).unwrap();
        println!("\n{} codes: {} lists, build {:.2} s", if residual { "residual" } else { "raw" }, index.quantizer.lists(), started.elapsed().as_secs_f64());
        println!("{:>7} {:>8} {:>10} {:>12}", "probes", "rescore", "recall@10", "us/query");
        let only: Option<usize> = std::env::var("PROBES").ok().and_then(|p| p.parse().ok());
        let scale = options.lists as f64 / 632.0;
        println!("(probes scaled to {} lists)", options.lists);
        for probes in [20, 40, 60, 80, 120, 160, 240].map(|p| (p as f64 * scale).round() as usize).into_iter().filter(|p| only.is_none_or(|o| o == *p)) {
            for rescore_factor in [2.0, 4.0, 8.0] {
                let options = SearchOptions { probes, rescore_factor };
                let started = Instant::now();
                let mut total = 0.0;
                for (q, truth) in truth.iter().enumerate() {
                    let query = IndexQuery::Floats(Query::new(data.queries.row(q)).unwrap());
                    let mut search = Search::new(Scorer::new(index.quantizer.clone(), k, query).unwrap(), options);
                    let found: Vec<usize> = (0..10).filter_map(|_| search.next(&index)).map(|(tid, _)| tid.block as usize).collect();
                    total += recall(&found, truth);
                }
                let us = started.elapsed().as_secs_f64() * 1e6 / truth.len() as f64;
                println!("{probes:>7} {rescore_factor:>8} {:>10.4} {us:>12.1}", total / truth.len() as f64);
            }
        }
    }
}
