//! Search benchmark client: QPS the way a client sees it (one session, one prepared
//! statement per run, the query vector sent as a real[] parameter, wall time over all
//! queries after a warm-up pass; the best of BENCH_ROUNDS (default 3) timed passes, taken in
//! rounds over all runs, as the machines are noisy) and recall@10 against the exact top-10 of
//! a shared data set (wordnet-minilm-384, pkg-summaries: the same layout).
//!
//! Reads runs from standard input, one per line:
//! `series<TAB>label<TAB>SET commands<TAB>query with $1`, prints a result line per run and,
//! with RESULTS_TSV set, also appends `series<TAB>label<TAB>recall<TAB>QPS` lines to that
//! file for the plots (examples/plot_bench.rs).
//!
//!     cargo run --release -p quantvec-client --example bench_index -- SOCKET_DIR PORT DATA_DIR [QUERIES]

use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Instant;

use quantvec_core::eval::recall;
use quantvec_core::npy;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [socket, port, data, ..] = &args[..] else {
        return Err("usage: bench_index SOCKET_DIR PORT DATA_DIR [QUERIES] < runs".into());
    };
    let data = Path::new(data);
    let limit: usize = args.get(3).and_then(|q| q.parse().ok()).unwrap_or(1000);
    let queries = npy::read_f32(&data.join("queries_f16.npy"))?;
    let truth = npy::read_i32(&data.join("gt_cosine_top100.npy"))?;
    let count = queries.rows.min(limit);
    let mut client = postgres::Config::new().host_path(socket).port(port.parse()?).user("postgres").dbname("postgres").connect(postgres::NoTls)?;
    let mut results = match std::env::var_os("RESULTS_TSV") {
        Some(path) => Some(std::fs::OpenOptions::new().create(true).append(true).open(path)?),
        None => None,
    };
    let rounds: usize = std::env::var("BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(3).max(1);
    let mut runs = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let fields: Vec<&str> = line.split('\t').collect();
        if let [series, label, settings, sql] = fields[..] {
            client.batch_execute(&format!("RESET ALL; {settings}"))?;
            let statement = client.prepare(sql)?;
            runs.push(Run {
                series: series.to_owned(),
                label: label.to_owned(),
                settings: settings.to_owned(),
                statement,
                recall: 0.0,
                seconds: f64::INFINITY,
            });
        }
    }
    let pass = |client: &mut postgres::Client, run: &Run| -> Result<(f64, f64), postgres::Error> {
        client.batch_execute(&format!("RESET ALL; {}", run.settings))?;
        let started = Instant::now();
        let mut total = 0.0;
        for q in 0..count {
            let rows = client.query(&run.statement, &[&queries.row(q).to_vec()])?;
            let found: Vec<usize> = rows.iter().map(|r| r.get::<_, i32>(0) as usize).collect();
            let want: Vec<usize> = truth.row(q)[..10].iter().map(|&i| i as usize).collect();
            total += recall(&found, &want);
        }
        Ok((total / count as f64, started.elapsed().as_secs_f64()))
    };
    // Rounds: every run once per round, so that a burst of noise from other tenants slows
    // one pass of several runs rather than every pass of one run.
    for round in 0..=rounds {
        for run in runs.iter_mut() {
            let (r, seconds) = pass(&mut client, run)?;
            if round > 0 {
                // Round 0 is the warm-up.
                (run.recall, run.seconds) = (r, run.seconds.min(seconds));
            }
        }
        eprintln!("round {round} of {rounds} done");
    }
    println!("{:<44} {:>9} {:>9} {:>9}", "run", "recall@10", "QPS", "ms/query");
    for run in &runs {
        let qps = count as f64 / run.seconds;
        println!("{:<44} {:>9.4} {qps:>9.0} {:>9.3}", run.label, run.recall, run.seconds * 1000.0 / count as f64);
        if let Some(file) = results.as_mut() {
            writeln!(file, "{}\t{}\t{:.4}\t{qps:.1}", run.series, run.label, run.recall)?;
        }
    }
    Ok(())
}

struct Run {
    series: String,
    label: String,
    settings: String,
    statement: postgres::Statement,
    recall: f64,
    /// The fastest pass.
    seconds: f64,
}
