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
//!
//! Here: what every chart shares (the frame, axes, escaping, number formats), the
//! bar chart and rasterising; the scatter chart, with its placement of numbers
//! clear of each other, is `scatter.rs`.

use std::fmt::Write;
use std::sync::{Arc, LazyLock};

use resvg::tiny_skia;
use resvg::usvg::{self, fontdb};

mod scatter;

use super::Results;

pub use scatter::scatter;

/// The words on a chart, already rendered from the dashboard's templates.
#[derive(Debug, Clone, Default)]
pub struct ChartText {
    pub title: String,
    pub x_axis: String,
    pub y_axis: String,
}

/// Longest area label drawn, in characters; longer ones end in an ellipsis.
const LABEL_CHARS: usize = 38;

pub(super) const WIDTH: f64 = 760.0;
const FONT: &str = "-apple-system, 'Segoe UI', Roboto, Arial, sans-serif";
pub(super) const TEXT: &str = "#1a1a1a";
pub(super) const MUTED: &str = "#4a5360";
pub(super) const BRAND: &str = "#1d4e89";
pub(super) const GRID: &str = "#d0d5dc";

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

pub(super) fn shorten(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(LABEL_CHARS - 1).collect();
        s.push('…');
        s
    }
}

/// A "nice" upper end for an axis that must show `max`: 0.1, 0.2, 0.25, 0.5, 1 and
/// so on, never below `floor`.
pub(super) fn nice_max(max: f64, floor: f64) -> f64 {
    let max = max.max(floor);
    let magnitude = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if step * magnitude >= max - 1e-12 {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

pub(super) fn open_svg(out: &mut String, height: f64, text: &ChartText) {
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

pub(super) fn axes(
    out: &mut String,
    (left, right, top, bottom): (f64, f64, f64, f64),
    text: &ChartText,
) {
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

pub(super) fn percent(share: f64) -> String {
    format!("{}%", trim_number(share * 100.0))
}

/// A tick value without needless decimals: 0, 0.05, 12.5.
pub(super) fn trim_number(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{AreaResult, StabilityInfo, Uncoded};
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
