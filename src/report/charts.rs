//! Charts of results as SVG, drawn on the server: a frequency-by-importance scatter
//! and a ranked bar chart of `joint-v1` scores, each figure with its interval.
//!
//! Pure functions from [`Results`] to an SVG string: no database, no clock, no
//! fonts (text is SVG `<text>`, drawn by whoever shows the picture); [`png`]
//! rasterises such a chart with resvg and the machine's fonts. Every word a
//! person reads (titles, axis titles) comes from the caller in [`ChartText`], so it
//! stays in the templates; customers' words (area labels) are XML-escaped here.
//! Styling is by presentation attributes only: the dashboard's Content-Security-Policy
//! forbids inline `<style>`, and a chart must look the same when opened on its own.

use std::fmt::Write;
use std::sync::{Arc, LazyLock};

use resvg::tiny_skia;
use resvg::usvg::{self, fontdb};

use super::{AreaResult, Results};

/// The words on a chart, already rendered from the dashboard's templates.
#[derive(Debug, Clone, Default)]
pub struct ChartText {
    pub title: String,
    pub x_axis: String,
    pub y_axis: String,
}

/// Longest area label drawn, in characters; longer ones end in an ellipsis.
const LABEL_CHARS: usize = 38;

const WIDTH: f64 = 760.0;
const FONT: &str = "-apple-system, 'Segoe UI', Roboto, Arial, sans-serif";
const TEXT: &str = "#1a1a1a";
const MUTED: &str = "#4a5360";
const BRAND: &str = "#1d4e89";
const GRID: &str = "#d0d5dc";

/// XML-escapes text for an element or an attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn shorten(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(LABEL_CHARS - 1).collect();
        s.push('…');
        s
    }
}

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

/// A "nice" upper end for an axis that must show `max`: 0.1, 0.2, 0.25, 0.5, 1 and
/// so on, never below `floor`.
fn nice_max(max: f64, floor: f64) -> f64 {
    let max = max.max(floor);
    let magnitude = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if step * magnitude >= max - 1e-12 {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

fn open_svg(out: &mut String, height: f64, text: &ChartText) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="chart-title" font-family="{FONT}" font-size="12" fill="{TEXT}">"#
    );
    let _ = write!(
        out,
        r#"<title id="chart-title">{}</title><rect x="0" y="0" width="{WIDTH}" height="{height}" fill="white"/><text x="{}" y="22" font-size="15" font-weight="700" text-anchor="middle">{}</text>"#,
        escape(&text.title),
        WIDTH / 2.0,
        escape(&text.title)
    );
}

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

/// The areas in rank order as horizontal bars of their `joint-v1` score, each with
/// the bootstrap percentile interval of the score as a whisker.
pub fn bars(results: &Results, text: &ChartText) -> String {
    let row = 24.0;
    let (left, right, top) = (300.0, WIDTH - 30.0, 44.0);
    let bottom = top + row * results.areas.len().max(1) as f64;
    let height = bottom + 56.0;
    let x_max = nice_max(
        results
            .areas
            .iter()
            .map(|a| a.score_ci.high.max(a.score))
            .fold(0.0, f64::max),
        0.05,
    );
    let x = |v: f64| left + (v.clamp(0.0, x_max) / x_max) * (right - left);

    let mut out = String::new();
    open_svg(&mut out, height, text);
    axes(&mut out, (left, right, top, bottom), text);
    for i in 0..=5 {
        let v = x_max * i as f64 / 5.0;
        let _ = write!(
            out,
            r#"<line x1="{0:.1}" y1="{top}" x2="{0:.1}" y2="{bottom}" stroke="{GRID}" stroke-width="1"/><text x="{0:.1}" y="{1:.1}" text-anchor="middle" fill="{MUTED}">{2}</text>"#,
            x(v),
            bottom + 16.0,
            trim_number(v)
        );
    }
    for (i, a) in results.areas.iter().enumerate() {
        let cy = top + row * (i as f64 + 0.5);
        let label = escape(&a.area);
        let _ = write!(
            out,
            r#"<g class="area" data-position="{pos}"><text x="{tx:.1}" y="{ty:.1}" text-anchor="end">{pos}. {shown}</text><rect class="bar" x="{left}" y="{by:.1}" width="{bw:.1}" height="{bh:.1}" fill="{BRAND}" fill-opacity="0.8"><title>{pos}. {label}: {score:.3}</title></rect><line x1="{lo:.1}" y1="{cy:.1}" x2="{hi:.1}" y2="{cy:.1}" stroke="{TEXT}" stroke-width="1.5"/><line x1="{lo:.1}" y1="{t1:.1}" x2="{lo:.1}" y2="{t2:.1}" stroke="{TEXT}" stroke-width="1.5"/><line x1="{hi:.1}" y1="{t1:.1}" x2="{hi:.1}" y2="{t2:.1}" stroke="{TEXT}" stroke-width="1.5"/></g>"#,
            pos = a.position,
            tx = left - 8.0,
            ty = cy + 4.0,
            shown = escape(&shorten(&a.area)),
            by = cy - row * 0.35,
            bw = x(a.score) - left,
            bh = row * 0.7,
            score = a.score,
            lo = x(a.score_ci.low),
            hi = x(a.score_ci.high),
            t1 = cy - 5.0,
            t2 = cy + 5.0,
        );
    }
    out.push_str("</svg>");
    out
}

/// The machine's fonts, loaded once; the charts' sans-serif falls back to the first
/// of a few common free families that is installed.
static FONTS: LazyLock<Arc<fontdb::Database>> = LazyLock::new(|| {
    let mut fonts = fontdb::Database::new();
    fonts.load_system_fonts();
    let installed = |family: &str| {
        fonts
            .faces()
            .any(|f| f.families.iter().any(|(name, _)| name == family))
    };
    if let Some(family) = ["Liberation Sans", "DejaVu Sans", "Noto Sans", "Arial"]
        .into_iter()
        .find(|f| installed(f))
    {
        fonts.set_sans_serif_family(family);
    }
    Arc::new(fonts)
});

/// A chart drawn by this module as a PNG, `scale` pixels per SVG unit. Text needs
/// a font installed on the machine (Debian's `fonts-liberation` or `fonts-dejavu`).
pub fn png(svg: &str, scale: f32) -> Result<Vec<u8>, String> {
    let options = usvg::Options {
        fontdb: FONTS.clone(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| format!("the chart's SVG: {e}"))?;
    let size = tree.size();
    let (width, height) = (
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    );
    let mut pixmap = tiny_skia::Pixmap::new(width.max(1), height.max(1))
        .ok_or_else(|| format!("no {width}x{height} picture"))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| format!("encoding the PNG: {e}"))
}

fn axes(out: &mut String, (left, right, top, bottom): (f64, f64, f64, f64), text: &ChartText) {
    let _ = write!(
        out,
        r#"<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{TEXT}" stroke-width="1"/><line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="{TEXT}" stroke-width="1"/><text class="axis-title" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        WIDTH / 2.0,
        bottom + 40.0,
        escape(&text.x_axis)
    );
    if !text.y_axis.is_empty() {
        let (cx, cy) = (18.0, (top + bottom) / 2.0);
        let _ = write!(
            out,
            r#"<text class="axis-title" x="{cx}" y="{cy:.1}" text-anchor="middle" transform="rotate(-90 {cx} {cy:.1})">{}</text>"#,
            escape(&text.y_axis)
        );
    }
}

fn percent(share: f64) -> String {
    format!("{}%", trim_number(share * 100.0))
}

/// A tick value without needless decimals: 0, 0.05, 12.5.
fn trim_number(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{StabilityInfo, Uncoded};
    use crate::stats::Interval;

    fn area(position: usize, label: &str, frequency: f64, importance: f64) -> AreaResult {
        AreaResult {
            position,
            area: label.to_string(),
            grouping: "analyst".into(),
            method: "joint-v1",
            n: 100,
            mentions: (frequency * 100.0) as u64,
            frequency,
            frequency_ci: Interval {
                low: frequency * 0.7,
                high: (frequency * 1.3).min(1.0),
            },
            frequency_method: "wilson-95",
            importance: Some(importance),
            importance_ci: Some(Interval {
                low: importance - 0.1,
                high: (importance + 0.1).min(1.0),
            }),
            importance_method: "student-t-95",
            score: frequency * importance,
            score_ci: Interval {
                low: frequency * importance * 0.8,
                high: frequency * importance * 1.2,
            },
            rank_low: position as u32,
            rank_high: position as u32 + 1,
            p_top_k: 0.5,
            first_choice_share: 0.1,
            small_sample: false,
            importance_small_sample: false,
        }
    }

    fn results(areas: Vec<AreaResult>) -> Results {
        Results {
            survey: "s".into(),
            wave: None,
            method: "joint-v1",
            grouping: "analyst".into(),
            n: 100,
            respondents_with_problems: 80,
            max_problems: 5,
            small_sample: false,
            frequency_method: "wilson-95",
            importance_method: "student-t-95",
            rank_stability: StabilityInfo {
                method: "rank-bootstrap-v1",
                replicates: 10,
                seed: 1,
                top_k: 5,
            },
            areas,
            uncoded: Uncoded::default(),
            worth: None,
            response_rates: Vec::new(),
            early_late: None,
            segments: None,
            wave_comparison: None,
        }
    }

    fn text() -> ChartText {
        ChartText {
            title: "Areas <by> frequency & importance".into(),
            x_axis: "Frequency (wilson-95, n = 100)".into(),
            y_axis: "Importance (student-t-95)".into(),
        }
    }

    fn sample() -> Results {
        let mut areas: Vec<AreaResult> = (1..=20)
            .map(|i| {
                area(
                    i,
                    &format!("Area {i}"),
                    0.5 / i as f64,
                    0.9 - i as f64 / 40.0,
                )
            })
            .collect();
        areas[2].area = "<script>alert('x')</script> & \"more\"".into();
        results(areas)
    }

    fn count(doc: &roxmltree::Document, element: &str, class: &str) -> usize {
        doc.descendants()
            .filter(|n| n.has_tag_name(element) && n.attribute("class") == Some(class))
            .count()
    }

    #[test]
    fn the_scatter_chart_is_valid_svg_with_one_point_per_area() {
        let svg = scatter(&sample(), &text());
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        assert_eq!(count(&doc, "circle", "point"), 20);
        assert_eq!(count(&doc, "line", "quadrant"), 2);
        assert_eq!(count(&doc, "text", "label"), 20, "every point numbered");
        assert_eq!(count(&doc, "text", "key"), 20, "every area in the key");
        assert!(svg.contains("Frequency (wilson-95, n = 100)"));
        assert!(svg.contains("Areas &lt;by&gt; frequency &amp; importance"));
    }

    #[test]
    fn customers_words_are_escaped_in_charts() {
        for svg in [scatter(&sample(), &text()), bars(&sample(), &text())] {
            assert!(!svg.contains("<script"), "{svg}");
            let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
            assert!(doc.descendants().all(|n| !n.has_tag_name("script")));
            assert!(doc
                .descendants()
                .filter_map(|n| n.text())
                .any(|t| t.contains("<script>alert('x')</script> & \"more\"")));
        }
    }

    #[test]
    fn the_bar_chart_has_one_bar_per_area_in_rank_order() {
        let r = sample();
        let svg = bars(&r, &text());
        let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
        assert_eq!(count(&doc, "rect", "bar"), 20);
        let positions: Vec<usize> = doc
            .descendants()
            .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some("area"))
            .map(|n| n.attribute("data-position").unwrap().parse().unwrap())
            .collect();
        assert_eq!(positions, (1..=20).collect::<Vec<_>>());
    }

    /// (x, y) of every element of `class`, by data-position.
    fn spots(doc: &roxmltree::Document, element: &str, class: &str) -> Vec<(f64, f64)> {
        doc.descendants()
            .filter(|n| n.has_tag_name(element) && n.attribute("class") == Some(class))
            .map(|n| {
                let at = |a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
                if element == "circle" {
                    (at("cx"), at("cy"))
                } else {
                    (at("x"), at("y"))
                }
            })
            .collect()
    }

    #[test]
    fn numbers_on_a_crowded_scatter_cover_no_number_and_no_point() {
        let areas = (1..=12)
            .map(|i| area(i, &format!("Crowded {i}"), 0.3 + i as f64 * 0.002, 0.6))
            .collect();
        let svg = scatter(&results(areas), &text());
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let labels = spots(&doc, "text", "label");
        let points = spots(&doc, "circle", "point");
        assert_eq!(labels.len(), 12);
        for (i, &(x, y)) in labels.iter().enumerate() {
            let w = 7.5 * (i + 1).to_string().len() as f64;
            for (j, &(ox, oy)) in labels.iter().enumerate().filter(|(j, _)| *j != i) {
                let ow = 7.5 * (j + 1).to_string().len() as f64;
                assert!(
                    (y - oy).abs() >= 12.0 || x >= ox + ow || ox >= x + w,
                    "numbers {} and {} overlap",
                    i + 1,
                    j + 1
                );
            }
            for &(px, py) in &points {
                let inside = px > x && px < x + w && py > y - 10.0 && py < y;
                assert!(!inside, "number {} covers a point", i + 1);
            }
        }
    }

    #[test]
    fn whiskers_are_drawn_before_every_number() {
        let svg = scatter(&sample(), &text());
        let last_whisker = svg.rfind("class=\"whisker\"").unwrap();
        let first_label = svg.find("class=\"label\"").unwrap();
        assert!(last_whisker < first_label);
    }

    #[test]
    fn a_chart_becomes_a_png_of_its_size() {
        let png = png(&bars(&sample(), &text()), 2.0).expect("rendered");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert_eq!(width, 2 * WIDTH as u32);
    }

    #[test]
    fn no_areas_still_make_a_picture() {
        let empty = results(Vec::new());
        for svg in [scatter(&empty, &text()), bars(&empty, &text())] {
            roxmltree::Document::parse(&svg).expect("well-formed XML");
        }
    }
}
