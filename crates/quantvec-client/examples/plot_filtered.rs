//! Draws the filtered-search benchmark's picture from the table scripts/bench_filtered.sh
//! writes: `filtered.tsv` (`filter<TAB>side<TAB>recall@10<TAB>ms a query`) becomes
//! `filtered.svg`, a panel per filter with a bar per side: its time per query (log scale),
//! labelled with its recall@10, so that speed is read at the recall it came with.
//!
//!     cargo run -p quantvec-client --example plot_filtered -- DIR ["100k x 384"]

use std::error::Error;
use std::path::Path;

use plotters::prelude::*;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// One measurement: a side's recall@10 and milliseconds a query under one filter.
struct Run {
    filter: String,
    side: String,
    recall: f64,
    ms: f64,
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: plot_filtered DIR (holding filtered.tsv) [DATA, e.g. \"100k x 384\"]")?;
    let data = args.next().unwrap_or_else(|| "100k x 384".to_owned());
    let dir = Path::new(&dir);
    let path = dir.join("filtered.tsv");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let runs = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let [filter, side, recall, ms] = fields[..] else {
                return Err(format!("{}: not four fields: {line}", path.display()).into());
            };
            Ok(Run { filter: filter.to_owned(), side: side.to_owned(), recall: recall.parse()?, ms: ms.parse()? })
        })
        .collect::<Result<Vec<Run>>>()?;
    let out = dir.join("filtered.svg");
    draw(&runs, &data, &out)?;
    println!("wrote {}", out.display());
    Ok(())
}

/// The distinct values of `key` in the order they first appear.
fn in_order<'a>(runs: &'a [Run], key: impl Fn(&'a Run) -> &'a str) -> Vec<&'a str> {
    let mut seen: Vec<&str> = Vec::new();
    for run in runs {
        if !seen.contains(&key(run)) {
            seen.push(key(run));
        }
    }
    seen
}

/// Two shades for each family of sides: quantvec's, pgvector's, VectorChord's, any other.
const SHADES: [[RGBColor; 2]; 4] = [
    [RGBColor(214, 39, 40), RGBColor(255, 127, 14)],
    [RGBColor(31, 119, 180), RGBColor(120, 170, 220)],
    [RGBColor(44, 160, 44), RGBColor(140, 205, 120)],
    [RGBColor(127, 127, 127), RGBColor(180, 180, 180)],
];

/// A side's color: quantvec's sides warm, pgvector's blue, VectorChord's green, alternating
/// shades so that neighbouring bars of a family differ.
fn color(side: &str, index: usize) -> RGBColor {
    let family = ["quantvec", "pgvector", "VectorChord"].iter().position(|f| side.starts_with(f)).unwrap_or(3);
    SHADES[family][index % 2]
}

fn draw(runs: &[Run], data: &str, out: &Path) -> Result<()> {
    let filters = in_order(runs, |r| r.filter.as_str());
    let sides = in_order(runs, |r| r.side.as_str());
    let (fastest, slowest) = runs.iter().fold((f64::MAX, 0.0f64), |(lo, hi), r| (lo.min(r.ms), hi.max(r.ms)));
    let panel_height = 50 + 22 * sides.len() as u32;
    let root = SVGBackend::new(out, (1100, 50 + panel_height * filters.len() as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let (title, body) = root.split_vertically(50);
    title.titled(&format!("WHERE label = $2 ORDER BY e <=> $1 LIMIT 10 ({data}): ms a query (log), and recall@10"), ("sans-serif", 20))?;
    for (panel, filter) in body.split_evenly((filters.len(), 1)).iter().zip(&filters) {
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("filter keeps {filter}"), ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(26)
            .y_label_area_size(380)
            // Room on the right of the slowest bar for its label.
            .build_cartesian_2d((fastest * 0.5..slowest * 8.0).log_scale(), -0.5..sides.len() as f64 - 0.5)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(sides.len())
            .y_label_formatter(&|y| {
                let at = y.round();
                // The first side at the top.
                let i = sides.len() as f64 - 1.0 - at;
                if (y - at).abs() < 0.01 && (0.0..sides.len() as f64).contains(&i) {
                    sides[i as usize].to_owned()
                } else {
                    String::new()
                }
            })
            .x_label_formatter(&|v| format!("{v}"))
            .label_style(("sans-serif", 13))
            .draw()?;
        for run in runs.iter().filter(|r| r.filter == *filter) {
            let i = sides.iter().position(|s| *s == run.side).expect("a side of the table");
            let y = (sides.len() - 1 - i) as f64;
            chart.draw_series([Rectangle::new([(fastest * 0.5, y - 0.35), (run.ms, y + 0.35)], color(&run.side, i).filled())])?;
            let label = format!("{:.2} ms, recall {:.3}", run.ms, run.recall);
            chart.draw_series([Text::new(label, (run.ms * 1.08, y + 0.25), ("sans-serif", 13))])?;
        }
    }
    root.present()?;
    Ok(())
}
