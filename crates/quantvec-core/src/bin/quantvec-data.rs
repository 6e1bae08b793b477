//! Data helper for the demo and benchmarks: turns `.npy` embedding files into COPY input,
//! computes exact ground truth, and cuts samples.
//!
//!   quantvec-data copy FILE.npy [--limit N]               id<TAB>{f,f,...} per row (COPY text)
//!   quantvec-data truth BASE.npy QUERIES.npy [--base N] [--queries N] [--k K]
//!                                                         query<TAB>{id,...}: exact cosine top-K
//!   quantvec-data sample SRC_DIR DST_DIR --base N --queries N
//!                                                         first rows of base/queries as float16,
//!                                                         and their exact cosine top-100

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use quantvec_core::datasets::Embeddings;
use quantvec_core::eval::nearest;
use quantvec_core::kernels;
use quantvec_core::npy::{self, Matrix};

fn option(args: &[String], name: &str, default: usize) -> Result<usize, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args.get(i + 1).and_then(|v| v.parse().ok()).ok_or(format!("{name} needs a number")),
    }
}

fn copy(path: &str, limit: usize) -> Result<(), String> {
    let m = npy::read_f32(Path::new(path)).map_err(|e| e.to_string())?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    for i in 0..m.rows.min(limit) {
        let items: Vec<String> = m.row(i).iter().map(|v| format!("{v:?}")).collect();
        writeln!(out, "{i}\t{{{}}}", items.join(",")).map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}

fn truncated(mut m: Matrix<f32>, rows: usize) -> Matrix<f32> {
    m.rows = m.rows.min(rows);
    m.data.truncate(m.rows * m.cols);
    m
}

/// Each query's exact cosine top `k` among the base rows.
fn exact_top(base: &Matrix<f32>, queries: &Matrix<f32>, k: usize) -> Vec<Vec<usize>> {
    let dot = kernels::active().dot_f32;
    let norm = |v: &[f32]| f64::from(dot(v, v)).sqrt();
    let base_norms: Vec<f64> = (0..base.rows).map(|i| norm(base.row(i))).collect();
    (0..queries.rows)
        .map(|q| {
            let query = queries.row(q);
            let query_norm = norm(query);
            nearest(base.rows, k, |i| 1.0 - f64::from(dot(query, base.row(i))) / (query_norm * base_norms[i]))
        })
        .collect()
}

fn truth(base: &str, queries: &str, max_base: usize, max_queries: usize, k: usize) -> Result<(), String> {
    let base = truncated(npy::read_f32(Path::new(base)).map_err(|e| e.to_string())?, max_base);
    let queries = truncated(npy::read_f32(Path::new(queries)).map_err(|e| e.to_string())?, max_queries);
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (q, ids) in exact_top(&base, &queries, k).iter().enumerate() {
        let ids: Vec<String> = ids.iter().map(usize::to_string).collect();
        writeln!(out, "{q}\t{{{}}}", ids.join(",")).map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}

fn sample(source: &str, destination: &str, base: usize, queries: usize) -> Result<(), String> {
    let data = Embeddings::load(Path::new(source), base, queries).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(destination).map_err(|e| e.to_string())?;
    for (name, m) in [("base_f16.npy", &data.base), ("queries_f16.npy", &data.queries)] {
        npy::write_f16(&Path::new(destination).join(name), m.rows, m.cols, &m.data).map_err(|e| e.to_string())?;
    }
    // Rows read back from float16 are what a benchmark loads, so the truth is theirs.
    let k = 100.min(data.base.rows);
    let ids: Vec<i32> = exact_top(&data.base, &data.queries, k).into_iter().flatten().map(|id| id as i32).collect();
    npy::write_i32(&Path::new(destination).join("gt_cosine_top100.npy"), data.queries.rows, k, &ids).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("copy") if args.len() >= 2 => option(&args, "--limit", usize::MAX).and_then(|limit| copy(&args[1], limit)),
        Some("truth") if args.len() >= 3 => (|| {
            truth(&args[1], &args[2], option(&args, "--base", usize::MAX)?, option(&args, "--queries", usize::MAX)?, option(&args, "--k", 10)?)
        })(),
        Some("sample") if args.len() >= 3 => {
            (|| sample(&args[1], &args[2], option(&args, "--base", 5000)?, option(&args, "--queries", 100)?))()
        }
        _ => Err("usage: quantvec-data copy FILE.npy [--limit N] | truth BASE.npy QUERIES.npy [--base N] [--queries N] [--k K] | sample SRC DST --base N --queries N".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("quantvec-data: {message}");
            ExitCode::FAILURE
        }
    }
}
