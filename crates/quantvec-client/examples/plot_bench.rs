//! Draws the index benchmark's pictures from the tables scripts/bench_index.sh writes:
//! `search.tsv` (`series<TAB>label<TAB>recall<TAB>QPS`) becomes `recall_qps.svg`, one line
//! per configuration through the best of its runs (the series of one index at each rescore
//! factor, and at each recall target, are one configuration); `sizes.tsv` (`setup<TAB>table MiB<TAB>index MiB`) becomes
//! `sizes.svg`, a stacked bar per setup. It also prints what the figures give: each side's
//! queries per second at recall 0.95 and 0.99, and quantvec's speed and size against
//! VectorChord's and pgvector's.
//!
//!     cargo run -p quantvec-client --example plot_bench -- DIR ["100k x 384"]

use std::error::Error;
use std::path::Path;

use plotters::prelude::*;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: plot_bench DIR (holding search.tsv and sizes.tsv) [DATA, e.g. \"100k x 384\"]")?;
    let data = args.next().unwrap_or_else(|| "100k x 384".to_owned());
    let dir = Path::new(&dir);
    let (search, size_rows) = (read_tsv(&dir.join("search.tsv"))?, read_tsv(&dir.join("sizes.tsv"))?);
    recall_qps(&search, &data, &dir.join("recall_qps.svg"))?;
    sizes(&size_rows, &data, &dir.join("sizes.svg"))?;
    qps_ratios(&search)?;
    size_ratios(&size_rows)?;
    println!("wrote {} and {}", dir.join("recall_qps.svg").display(), dir.join("sizes.svg").display());
    Ok(())
}

fn read_tsv(path: &Path) -> Result<Vec<Vec<String>>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text.lines().filter(|l| !l.is_empty()).map(|l| l.split('\t').map(str::to_owned).collect()).collect())
}

fn number(field: Option<&String>) -> Result<f64> {
    Ok(field.ok_or("a short line")?.parse()?)
}

/// A named series of (recall, QPS) points.
type Series = (String, Vec<(f64, f64)>);

/// Series in the order they first appear, each with its points by recall.
fn series(rows: &[Vec<String>]) -> Result<Vec<Series>> {
    let mut all: Vec<Series> = Vec::new();
    for row in rows {
        let point = (number(row.get(2))?, number(row.get(3))?);
        match all.iter_mut().find(|(name, _)| name == &row[0]) {
            Some((_, points)) => points.push(point),
            None => all.push((row[0].clone(), vec![point])),
        }
    }
    for (_, points) in &mut all {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Ok(all)
}

/// A series' configuration: its name up to the first setting (`rescore_factor=2`,
/// `epsilon=1.9`) and without a trailing `target_recall`, so that a grid over settings and
/// the recall targets of one index are one line, and one side of the comparison.
fn configuration(series: &str) -> String {
    let words: Vec<&str> = series.split(' ').take_while(|w| !w.contains('=')).collect();
    let name = words.join(" ");
    name.strip_suffix(" target_recall").unwrap_or(&name).to_owned()
}

/// QPS on a frontier (points by recall, each faster than every more accurate one) at
/// `recall`, interpolated between the runs around it, or, where no run is below it, that of
/// the least accurate (fastest) run reaching it; None where no run reaches it.
fn qps_at(frontier: &[(f64, f64)], recall: f64) -> Option<f64> {
    let above = frontier.iter().position(|p| p.0 >= recall)?;
    let high = frontier[above];
    let Some(low) = above.checked_sub(1).map(|i| frontier[i]) else {
        return Some(high.1);
    };
    Some(low.1 + (recall - low.0) / (high.0 - low.0) * (high.1 - low.1))
}

/// Each side's QPS at recall 0.95 and 0.99 (interpolated on its frontier), and quantvec's
/// default index (configuration `quantvec`) against each peer and against the best
/// VectorChord and pgvector sides.
fn qps_ratios(rows: &[Vec<String>]) -> Result<()> {
    let sides = frontiers(rows)?;
    const LEVELS: [f64; 2] = [0.95, 0.99];
    let shown = |q: Option<f64>| q.map_or("     -".to_owned(), |q| format!("{q:>6.0}"));
    println!("{:<44} {:>8} {:>8} {:>8}", "side", "top", "QPS@0.95", "QPS@0.99");
    for (name, frontier) in sides.iter().filter(|(name, _)| name != "client floor") {
        let top = frontier.last().map_or(0.0, |p| p.0);
        println!("{name:<44} {top:>8.4} {:>8} {:>8}", shown(qps_at(frontier, LEVELS[0])), shown(qps_at(frontier, LEVELS[1])));
    }
    let Some((_, ours)) = sides.iter().find(|(name, _)| name == "quantvec") else {
        return Ok(());
    };
    // The floor's recall is meaningless (it searches nothing): its one run is its speed.
    if let (Some(floor), Some(mine)) = (rows.iter().find(|r| r[0] == "client floor"), qps_at(ours, LEVELS[0])) {
        let floor_ms = 1000.0 / number(floor.get(3))?;
        println!("recall {}: quantvec {:.3} ms a query, {:.2}x the client floor ({floor_ms:.3} ms)", LEVELS[0], 1000.0 / mine, 1000.0 / mine / floor_ms);
    }
    for level in LEVELS {
        let Some(mine) = qps_at(ours, level) else {
            println!("recall {level}: quantvec does not reach it");
            continue;
        };
        for peer in ["VectorChord", "pgvector"] {
            let best = sides
                .iter()
                .filter(|(name, _)| name.starts_with(peer))
                .filter_map(|(name, frontier)| Some((name, qps_at(frontier, level)?)))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            match best {
                Some((name, theirs)) => println!("recall {level}: quantvec {mine:.0} QPS, {:.2}x {peer}'s best side ({name}, {theirs:.0})", mine / theirs),
                None if sides.iter().any(|(name, _)| name.starts_with(peer)) => println!("recall {level}: quantvec {mine:.0} QPS; no {peer} side reaches it"),
                None => {}
            }
        }
    }
    Ok(())
}

/// quantvec's table and index against pgvector's halfvec index and VectorChord's rabitq8
/// configuration.
fn size_ratios(rows: &[Vec<String>]) -> Result<()> {
    let find = |name: &str| rows.iter().find(|r| r[0] == name).map(|r| Ok::<_, Box<dyn Error>>((number(r.get(1))?, number(r.get(2))?))).transpose();
    let Some(ours) = find("int8vec + quantvec index")? else {
        return Ok(());
    };
    if let Some(halfvec) = find("pgvector: vector + HNSW on halfvec")? {
        println!("index: {:.2} MiB, {:.0}% of pgvector's halfvec HNSW index ({:.2} MiB)", ours.1, 100.0 * ours.1 / halfvec.1, halfvec.1);
    }
    if let Some(rabitq8) = find("VectorChord: rabitq8 + vchordrq")? {
        println!(
            "table + index: {:.2} MiB, {:.2}x VectorChord's rabitq8 table + index ({:.2} MiB)",
            ours.0 + ours.1,
            (ours.0 + ours.1) / (rabitq8.0 + rabitq8.1),
            rabitq8.0 + rabitq8.1
        );
    }
    Ok(())
}

const COLORS: [RGBColor; 10] = [
    RGBColor(214, 39, 40),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(23, 190, 207),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(227, 119, 194),
];

/// A configuration's series merged, and each point kept only where no run of that
/// configuration is both faster and at least as accurate: its best speed at each recall.
fn frontiers(rows: &[Vec<String>]) -> Result<Vec<Series>> {
    let mut merged: Vec<Series> = Vec::new();
    for (name, points) in series(rows)? {
        let configuration = configuration(&name);
        match merged.iter_mut().find(|(n, _)| *n == configuration) {
            Some((_, all)) => all.extend(points),
            None => merged.push((configuration, points)),
        }
    }
    for (_, points) in &mut merged {
        points.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.total_cmp(&a.1)));
        let mut fastest = 0.0;
        points.retain(|p| {
            let kept = p.1 > fastest;
            fastest = fastest.max(p.1);
            kept
        });
        points.reverse();
    }
    Ok(merged)
}

fn recall_qps(rows: &[Vec<String>], data: &str, out: &Path) -> Result<()> {
    let all: Vec<Series> = frontiers(rows)?.into_iter().filter(|(name, _)| name != "client floor").collect();
    let points = || all.iter().flat_map(|(_, p)| p.iter().copied());
    // Recall below 0.85 is not a setting anyone would choose; leave it off the chart.
    let low_recall = points().map(|p| p.0).fold(1.0, f64::min).max(0.85);
    let x_from = (low_recall * 50.0).floor() / 50.0;
    let (qps_min, qps_max) = points().fold((f64::MAX, 0.0f64), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let root = SVGBackend::new(out, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("recall@10 vs queries per second ({data}, one session)"), ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x_from..1.0, (qps_min * 0.8..qps_max * 1.25).log_scale())?;
    chart.configure_mesh().x_desc("recall@10").y_desc("queries per second (log)").y_label_formatter(&|v| format!("{v:.0}")).draw()?;
    for (i, (name, points)) in all.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let visible: Vec<(f64, f64)> = points.iter().copied().filter(|p| p.0 >= x_from).collect();
        chart
            .draw_series(LineSeries::new(visible.clone(), color.stroke_width(2)))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(visible.into_iter().map(|p| Circle::new(p, 3, color.filled())))?;
    }
    chart.configure_series_labels().position(SeriesLabelPosition::LowerLeft).background_style(WHITE.mix(0.9)).border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}

fn sizes(rows: &[Vec<String>], data: &str, out: &Path) -> Result<()> {
    let bars: Vec<(&str, f64, f64)> = rows.iter().map(|r| Ok((r[0].as_str(), number(r.get(1))?, number(r.get(2))?))).collect::<Result<_>>()?;
    let widest = bars.iter().map(|b| b.1 + b.2).fold(0.0, f64::max);
    let root = SVGBackend::new(out, (900, 120 + 60 * bars.len() as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("on-disk size, {data} (MiB): table and index"), ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(40)
        // An empty row at the bottom holds the legend.
        .build_cartesian_2d(0.0..widest * 1.45, -1.3..bars.len() as f64 - 0.5)?;
    chart.configure_mesh().disable_y_mesh().disable_y_axis().light_line_style(TRANSPARENT).x_desc("MiB").x_label_formatter(&|v| format!("{v:.0}")).draw()?;
    let table_color = RGBColor(110, 140, 190);
    let index_color = RGBColor(230, 150, 70);
    for (i, &(name, table, index)) in bars.iter().enumerate() {
        // The first setup at the top.
        let y = (bars.len() - 1 - i) as f64;
        chart.draw_series([
            Rectangle::new([(0.0, y - 0.3), (table, y + 0.3)], table_color.filled()),
            Rectangle::new([(table, y - 0.3), (table + index, y + 0.3)], index_color.filled()),
        ])?;
        let label = format!("{name}: {:.1} MiB", table + index);
        chart.draw_series([Text::new(label, (table + index + widest * 0.01, y + 0.1), ("sans-serif", 15))])?;
    }
    chart
        .draw_series([Rectangle::new([(0.0, -0.5), (0.0, -0.5)], table_color.filled())])?
        .label("table")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], table_color.filled()));
    chart
        .draw_series([Rectangle::new([(0.0, -0.5), (0.0, -0.5)], index_color.filled())])?
        .label("index")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], index_color.filled()));
    chart.configure_series_labels().position(SeriesLabelPosition::LowerRight).background_style(WHITE.mix(0.9)).border_style(BLACK).draw()?;
    root.present()?;
    Ok(())
}
