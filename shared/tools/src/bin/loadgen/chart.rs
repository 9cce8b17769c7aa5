//! SVG charts of a benchmark run (plotters): the ramp's offered against delivered rate with
//! each step's latency percentiles, and latency distributions. `ci/bench` links them from
//! `ci/BENCHMARKS.md`.

use anyhow::Context as _;
use plotters::prelude::*;
use std::time::Duration;

const SIZE: (u32, u32) = (960, 420);
/// A percentile's name and where a ramp step keeps it.
type Percentile = (&'static str, fn(&RampStep) -> f64);

const COLOURS: [RGBColor; 4] =
    [RGBColor(31, 119, 180), RGBColor(255, 127, 14), RGBColor(44, 160, 44), RGBColor(214, 39, 40)];

/// One step of the ramp, as the chart shows it.
pub struct RampStep {
    pub offered: f64,
    pub delivered: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

/// Left: delivered against offered orders/s (the diagonal is keeping up). Right: order →
/// tablet p50, p95 and p99 per step, on a log scale.
pub fn ramp(file: &str, steps: &[RampStep]) -> anyhow::Result<()> {
    anyhow::ensure!(!steps.is_empty(), "no ramp steps to chart");
    let root = SVGBackend::new(file, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    let top = steps.iter().map(|s| s.offered.max(s.delivered)).fold(0.0, f64::max) * 1.1;

    let mut rates = ChartBuilder::on(&left)
        .caption("Throughput", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..top, 0.0..top)
        .map_err(plot_error)?;
    rates.configure_mesh().x_desc("offered orders/s").y_desc("delivered orders/s").draw().map_err(plot_error)?;
    rates
        .draw_series(LineSeries::new([(0.0, 0.0), (top, top)], BLACK.mix(0.25)))
        .map_err(plot_error)?
        .label("keeping up")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLACK.mix(0.25)));
    let delivered: Vec<(f64, f64)> = steps.iter().map(|s| (s.offered, s.delivered)).collect();
    rates
        .draw_series(LineSeries::new(delivered.clone(), COLOURS[0].stroke_width(2)))
        .map_err(plot_error)?
        .label("delivered")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], COLOURS[0].stroke_width(2)));
    rates.draw_series(delivered.iter().map(|p| Circle::new(*p, 3, COLOURS[0].filled()))).map_err(plot_error)?;
    rates.configure_series_labels().border_style(BLACK.mix(0.3)).background_style(WHITE).draw().map_err(plot_error)?;

    let slowest = steps.iter().map(|s| s.p99_ms).fold(1.0, f64::max) * 1.5;
    let fastest = steps.iter().map(|s| s.p50_ms).fold(f64::INFINITY, f64::min).clamp(0.1, 1.0) * 0.5;
    let (low, high) = (steps[0].offered, steps[steps.len() - 1].offered.max(steps[0].offered + 1.0));
    let mut delays = ChartBuilder::on(&right)
        .caption("Order → tablet per step", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(low..high, (fastest..slowest).log_scale())
        .map_err(plot_error)?;
    delays.configure_mesh().x_desc("offered orders/s").y_desc("ms").draw().map_err(plot_error)?;
    let percentiles: [Percentile; 3] = [("p50", |s| s.p50_ms), ("p95", |s| s.p95_ms), ("p99", |s| s.p99_ms)];
    for (i, (name, value)) in percentiles.into_iter().enumerate() {
        let colour = COLOURS[i + 1];
        delays
            .draw_series(LineSeries::new(
                steps.iter().map(|s| (s.offered, value(s).max(fastest))),
                colour.stroke_width(2),
            ))
            .map_err(plot_error)?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2)));
    }
    delays.configure_series_labels().border_style(BLACK.mix(0.3)).background_style(WHITE).draw().map_err(plot_error)?;
    root.present().map_err(plot_error).with_context(|| format!("writing {file}"))
}

/// Each series' cumulative distribution: the share of measurements at or below a delay, on a
/// log scale of milliseconds.
pub fn distributions(file: &str, title: &str, series: &[(&str, &[Duration])]) -> anyhow::Result<()> {
    let all = || series.iter().flat_map(|(_, values)| values.iter().map(|d| d.as_secs_f64() * 1000.0));
    anyhow::ensure!(all().next().is_some(), "no measurements to chart");
    let high = all().fold(1.0, f64::max) * 1.2;
    let low = all().fold(f64::INFINITY, f64::min).clamp(0.01, 1.0) * 0.8;
    let root = SVGBackend::new(file, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d((low..high).log_scale(), 0.0..100.0)
        .map_err(plot_error)?;
    chart.configure_mesh().x_desc("ms").y_desc("% at or below").draw().map_err(plot_error)?;
    for (i, (name, values)) in series.iter().enumerate() {
        let mut sorted: Vec<f64> = values.iter().map(|d| (d.as_secs_f64() * 1000.0).max(low)).collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len() as f64;
        let colour = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(
                sorted.iter().enumerate().map(|(rank, ms)| (*ms, 100.0 * (rank + 1) as f64 / n)),
                colour.stroke_width(2),
            ))
            .map_err(plot_error)?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .border_style(BLACK.mix(0.3))
        .background_style(WHITE)
        .draw()
        .map_err(plot_error)?;
    root.present().map_err(plot_error).with_context(|| format!("writing {file}"))
}

/// Plotters' drawing errors borrow the backend's error type; a message is all a benchmark needs.
fn plot_error(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("drawing a chart: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_files_with_their_titles_and_series() {
        let dir = std::env::temp_dir().join(format!("loadgen-charts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let ramp_file = dir.join("ramp.svg");
        let steps: Vec<RampStep> = [(50.0, 50.0, 4.0), (100.0, 99.0, 6.0), (200.0, 150.0, 900.0)]
            .into_iter()
            .map(|(offered, delivered, p50_ms)| RampStep {
                offered,
                delivered,
                p50_ms,
                p95_ms: p50_ms * 2.0,
                p99_ms: p50_ms * 3.0,
            })
            .collect();
        ramp(ramp_file.to_str().expect("a UTF-8 path"), &steps).expect("the ramp chart is drawn");
        let svg = std::fs::read_to_string(&ramp_file).expect("the ramp chart was written");
        assert!(svg.starts_with("<svg"), "not an SVG file");
        assert!(svg.contains("Order → tablet per step") || svg.contains("Order &#8594; tablet"), "no caption");
        assert!(svg.contains("p99"), "no p99 series label");
        assert!(svg.contains("<polyline") || svg.contains("<path"), "no lines drawn");

        let cdf_file = dir.join("latency.svg");
        let fast = [Duration::from_millis(3), Duration::from_millis(5), Duration::from_millis(40)];
        distributions(cdf_file.to_str().expect("a UTF-8 path"), "Latency", &[("bump → customer", &fast)])
            .expect("the distribution chart is drawn");
        let svg = std::fs::read_to_string(&cdf_file).expect("the distribution chart was written");
        assert!(svg.contains("Latency"), "no title");
        std::fs::remove_dir_all(&dir).ok();
    }
}
