//! The frequency-by-importance scatter chart: points with both intervals as
//! whiskers, median lines as quadrants, rank numbers placed clear of each other
//! and of the points, and a numbered key. Pure, like the rest of `charts`.

use std::fmt::Write;

use super::{
    axes, escape, nice_max, open_svg, percent, shorten, ChartText, BRAND, GRID, MUTED, WIDTH,
};
use crate::report::{AreaResult, Results};

/// Frequency (x) by importance (y): each area a point with its frequency interval
/// (horizontal whisker) and importance interval (vertical whisker), dashed lines at
/// the median frequency and the median importance splitting the plane into
/// quadrants. Every point carries its rank number, drawn after all whiskers and
/// lines (so none crosses a number) and placed clear of other numbers and points;
/// a numbered key under the plot names every area.
pub fn scatter(results: &Results, text: &ChartText) -> String {
    let plotted: Vec<&AreaResult> = results
        .areas
        .iter()
        .filter(|a| a.importance.is_some())
        .collect();
    let key_rows = plotted.len().div_ceil(KEY_COLUMNS);
    let plot_bottom = 458.0;
    let height = plot_bottom + 62.0 + KEY_ROW * key_rows as f64 + 8.0;
    let frame = (72.0, WIDTH - 24.0, 40.0, plot_bottom);
    let scale = ScatterScale::fit(&plotted, frame);

    let mut out = String::new();
    open_svg(&mut out, height, text);
    axes(&mut out, frame, text);
    scatter_grid(&mut out, &scale);
    scatter_medians(&mut out, &plotted, &scale);
    for a in &plotted {
        scatter_whiskers(&mut out, a, &scale);
    }
    let points: Vec<(f64, f64)> = plotted.iter().map(|a| scale.point(a)).collect();
    let mut placed: Vec<Box2> = Vec::new();
    for (a, &(px, py)) in plotted.iter().zip(&points) {
        let label = escape(&a.area);
        let _ = write!(
            out,
            r#"<circle class="point" data-position="{pos}" cx="{px:.1}" cy="{py:.1}" r="5" fill="{BRAND}" stroke="white" stroke-width="1.5"><title>{pos}. {label}</title></circle>"#,
            pos = a.position
        );
        let number = a.position.to_string();
        let (lx, ly) = place_number(&number, (px, py), &points, &placed, frame);
        placed.push(number_box(&number, lx, ly));
        let _ = write!(
            out,
            r#"<text class="label" data-position="{}" x="{lx:.1}" y="{ly:.1}" font-weight="700" stroke="white" stroke-width="3" paint-order="stroke">{number}</text>"#,
            a.position
        );
    }
    scatter_key(&mut out, &plotted, plot_bottom + 62.0);
    out.push_str("</svg>");
    out
}

/// Columns and row height of the numbered key under the scatter chart.
const KEY_COLUMNS: usize = 2;
const KEY_ROW: f64 = 17.0;

/// A text's box as (left, baseline, width): digits are about 7 px wide at 12 px.
type Box2 = (f64, f64, f64);

fn number_box(number: &str, x: f64, y: f64) -> Box2 {
    (x, y, 7.5 * number.len() as f64)
}

/// Where a point's number goes: right of the point, then left, above, below and
/// the corners, the first spot that covers neither another number nor a point.
fn place_number(
    number: &str,
    (px, py): (f64, f64),
    points: &[(f64, f64)],
    placed: &[Box2],
    (left, right, top, bottom): (f64, f64, f64, f64),
) -> (f64, f64) {
    let w = 7.5 * number.len() as f64;
    let clear = |lx: f64, ly: f64| {
        let inside = lx >= left + 2.0 && lx + w <= right && ly - 10.0 >= top && ly <= bottom;
        let off_numbers = placed.iter().all(|&(ox, oy, ow)| {
            (ly - oy).abs() >= 12.0 || lx >= ox + ow + 1.0 || ox >= lx + w + 1.0
        });
        let off_points = points.iter().all(|&(qx, qy)| {
            let (nx, ny) = (qx.clamp(lx, lx + w), qy.clamp(ly - 10.0, ly));
            (qx - nx).powi(2) + (qy - ny).powi(2) > 36.0
        });
        inside && off_numbers && off_points
    };
    let spots = [
        (px + 7.0, py + 4.0),
        (px - 7.0 - w, py + 4.0),
        (px - w / 2.0, py - 8.0),
        (px - w / 2.0, py + 17.0),
        (px + 6.0, py - 6.0),
        (px - 6.0 - w, py - 6.0),
        (px + 6.0, py + 15.0),
        (px - 6.0 - w, py + 15.0),
    ];
    for ring in 0..6 {
        let push = 9.0 * ring as f64;
        for (sx, sy) in spots {
            let (dx, dy) = (sx - px, sy - py);
            let norm = (dx * dx + dy * dy).sqrt().max(1.0);
            let (lx, ly) = (sx + push * dx / norm, sy + push * dy / norm);
            if clear(lx, ly) {
                return (lx, ly);
            }
        }
    }
    (px + 7.0, py + 4.0)
}

/// The scatter chart's axes: frequency from 0 to a round share above the widest
/// whisker; importance from the tenth below the lowest whisker to 1.
struct ScatterScale {
    frame: (f64, f64, f64, f64),
    x_max: f64,
    y_min: f64,
}

impl ScatterScale {
    fn fit(plotted: &[&AreaResult], frame: (f64, f64, f64, f64)) -> ScatterScale {
        let x_max = nice_max(
            plotted
                .iter()
                .map(|a| a.frequency_ci.high)
                .fold(0.0, f64::max),
            0.05,
        )
        .min(1.0);
        // Importance lies in (0, 1]; the axis starts at the tenth below the lowest whisker.
        let y_min = plotted
            .iter()
            .filter_map(|a| a.importance_ci.map(|c| c.low).or(a.importance))
            .fold(1.0, f64::min);
        let y_min = ((y_min * 10.0).floor() / 10.0).clamp(0.0, 0.5);
        ScatterScale {
            frame,
            x_max,
            y_min,
        }
    }

    fn x(&self, v: f64) -> f64 {
        let (left, right, _, _) = self.frame;
        left + (v.clamp(0.0, self.x_max) / self.x_max) * (right - left)
    }

    fn y(&self, v: f64) -> f64 {
        let (_, _, top, bottom) = self.frame;
        bottom - ((v.clamp(self.y_min, 1.0) - self.y_min) / (1.0 - self.y_min)) * (bottom - top)
    }

    fn point(&self, a: &AreaResult) -> (f64, f64) {
        (
            self.x(a.frequency),
            self.y(a.importance.unwrap_or(self.y_min)),
        )
    }
}

fn scatter_grid(out: &mut String, scale: &ScatterScale) {
    let (left, right, top, bottom) = scale.frame;
    for i in 0..=5 {
        let fx = scale.x_max * i as f64 / 5.0;
        let fy = scale.y_min + (1.0 - scale.y_min) * i as f64 / 5.0;
        let _ = write!(
            out,
            r#"<line x1="{0:.1}" y1="{top}" x2="{0:.1}" y2="{bottom}" stroke="{GRID}" stroke-width="1"/><text x="{0:.1}" y="{1:.1}" text-anchor="middle" fill="{MUTED}">{2}</text>"#,
            scale.x(fx),
            bottom + 16.0,
            percent(fx)
        );
        let _ = write!(
            out,
            r#"<line x1="{left}" y1="{0:.1}" x2="{right}" y2="{0:.1}" stroke="{GRID}" stroke-width="1"/><text x="{1:.1}" y="{2:.1}" text-anchor="end" fill="{MUTED}">{3:.1}</text>"#,
            scale.y(fy),
            left - 6.0,
            scale.y(fy) + 4.0,
            fy
        );
    }
}

fn scatter_medians(out: &mut String, plotted: &[&AreaResult], scale: &ScatterScale) {
    let (left, right, top, bottom) = scale.frame;
    let median_x = median(plotted.iter().map(|a| a.frequency).collect());
    let median_y = median(plotted.iter().filter_map(|a| a.importance).collect());
    if let (Some(mx), Some(my)) = (median_x, median_y) {
        let _ = write!(
            out,
            r#"<line class="quadrant" x1="{0:.1}" y1="{top}" x2="{0:.1}" y2="{bottom}" stroke="{MUTED}" stroke-width="1.5" stroke-dasharray="6 4"/><line class="quadrant" x1="{left}" y1="{1:.1}" x2="{right}" y2="{1:.1}" stroke="{MUTED}" stroke-width="1.5" stroke-dasharray="6 4"/>"#,
            scale.x(mx),
            scale.y(my)
        );
    }
}

fn scatter_whiskers(out: &mut String, a: &AreaResult, scale: &ScatterScale) {
    let (px, py) = scale.point(a);
    let _ = write!(
        out,
        r#"<line class="whisker" x1="{:.1}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" stroke="{BRAND}" stroke-opacity="0.55" stroke-width="1.2"/>"#,
        scale.x(a.frequency_ci.low),
        scale.x(a.frequency_ci.high)
    );
    if let Some(ci) = a.importance_ci {
        let _ = write!(
            out,
            r#"<line class="whisker" x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{:.1}" stroke="{BRAND}" stroke-opacity="0.55" stroke-width="1.2"/>"#,
            scale.y(ci.low),
            scale.y(ci.high)
        );
    }
}

/// The numbered key: every plotted area, `N. label`, in rank order, in columns.
fn scatter_key(out: &mut String, plotted: &[&AreaResult], top: f64) {
    let rows = plotted.len().div_ceil(KEY_COLUMNS).max(1);
    let column_width = (WIDTH - 48.0) / KEY_COLUMNS as f64;
    for (i, a) in plotted.iter().enumerate() {
        let (column, row) = (i / rows, i % rows);
        let _ = write!(
            out,
            r#"<text class="key" data-position="{pos}" x="{:.1}" y="{:.1}"><tspan font-weight="700">{pos}.</tspan> {}</text>"#,
            24.0 + column_width * column as f64,
            top + KEY_ROW * row as f64,
            escape(&shorten(&a.area)),
            pos = a.position
        );
    }
}

/// The median of `values`, none for none.
fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 0 {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}
