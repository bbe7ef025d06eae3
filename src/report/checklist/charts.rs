//! Charts of checklist results as SVG: `A` by `B` (each item a point with both
//! Wilson intervals) and staff against customers (one row per item, a dot for each
//! side's `joint-v1` score). Pure, like the discovery charts whose drawing parts
//! they share; every word comes from the caller, item wordings are escaped.

use std::fmt::Write;

use super::{ChecklistResults, StaffGap};
use crate::report::charts::{
    axes, escape, nice_max, open_svg, percent, shorten, trim_number, ChartText, BRAND, GRID, MUTED,
    WIDTH,
};

/// The staff side's colour (an orange that reads apart from the brand blue).
const STAFF: &str = "#c0561b";

/// `A` (x) by `B` (y), each item a point with its two Wilson intervals, labelled
/// with its rank by `joint-v1`.
pub fn ab(results: &ChecklistResults, text: &ChartText) -> String {
    const HEIGHT: f64 = 520.0;
    let (left, right, top, bottom) = (72.0, WIDTH - 24.0, 40.0, HEIGHT - 62.0);
    let max_of = |f: &dyn Fn(&super::ChecklistRow) -> f64| {
        nice_max(results.items.iter().map(f).fold(0.0, f64::max), 0.05).min(1.0)
    };
    let x_max = max_of(&|r| r.often.ci.high);
    let y_max = max_of(&|r| r.bothered.ci.high);
    let x = |v: f64| left + (v.clamp(0.0, x_max) / x_max) * (right - left);
    let y = |v: f64| bottom - (v.clamp(0.0, y_max) / y_max) * (bottom - top);
    let mut out = String::new();
    open_svg(&mut out, HEIGHT, text);
    axes(&mut out, (left, right, top, bottom), text);
    for i in 0..=5 {
        let (fx, fy) = (x_max * i as f64 / 5.0, y_max * i as f64 / 5.0);
        let _ = write!(
            out,
            r#"<line x1="{0:.1}" y1="{top}" x2="{0:.1}" y2="{bottom}" stroke="{GRID}"/><text x="{0:.1}" y="{1:.1}" text-anchor="middle" fill="{MUTED}">{2}</text><line x1="{left}" y1="{3:.1}" x2="{right}" y2="{3:.1}" stroke="{GRID}"/><text x="{4:.1}" y="{5:.1}" text-anchor="end" fill="{MUTED}">{6}</text>"#,
            x(fx),
            bottom + 16.0,
            percent(fx),
            y(fy),
            left - 6.0,
            y(fy) + 4.0,
            percent(fy),
        );
    }
    for row in &results.items {
        let (px, py) = (x(row.often.value), y(row.bothered.value));
        let _ = write!(
            out,
            r#"<g class="item" data-position="{pos}"><line x1="{:.1}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" stroke="{BRAND}" stroke-width="1.2"/><line x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{:.1}" stroke="{BRAND}" stroke-width="1.2"/><circle class="point" cx="{px:.1}" cy="{py:.1}" r="5" fill="{BRAND}" stroke="white" stroke-width="1.5"><title>{pos}. {label}</title></circle><text class="label" x="{:.1}" y="{:.1}" stroke="white" stroke-width="3" paint-order="stroke">{pos}. {shown}</text></g>"#,
            x(row.often.ci.low),
            x(row.often.ci.high),
            y(row.bothered.ci.low),
            y(row.bothered.ci.high),
            px + 8.0,
            py - 6.0,
            pos = row.position,
            label = escape(&row.label),
            shown = escape(&shorten(&row.label)),
        );
    }
    out.push_str("</svg>");
    out
}

/// One row per item in the customers' order: the customers' `joint-v1` score as a
/// filled dot, staff's as a hollow one, joined by a line; blind spots marked. The
/// title says which dot is which (it comes from the templates).
pub fn gap(gap: &StaffGap, text: &ChartText) -> String {
    let row = 26.0;
    let (left, right, top) = (300.0, WIDTH - 30.0, 44.0);
    let bottom = top + row * gap.items.len().max(1) as f64;
    let x_max = nice_max(
        gap.items
            .iter()
            .map(|i| i.figures.customer_score.max(i.figures.staff_score))
            .fold(0.0, f64::max),
        0.05,
    );
    let x = |v: f64| left + (v.clamp(0.0, x_max) / x_max) * (right - left);
    let mut out = String::new();
    open_svg(&mut out, bottom + 56.0, text);
    axes(&mut out, (left, right, top, bottom), text);
    for i in 0..=5 {
        let v = x_max * i as f64 / 5.0;
        let _ = write!(
            out,
            r#"<line x1="{0:.1}" y1="{top}" x2="{0:.1}" y2="{bottom}" stroke="{GRID}"/><text x="{0:.1}" y="{1:.1}" text-anchor="middle" fill="{MUTED}">{2}</text>"#,
            x(v),
            bottom + 16.0,
            trim_number(v)
        );
    }
    for (i, item) in gap.items.iter().enumerate() {
        let cy = top + row * (i as f64 + 0.5);
        let (cx, sx) = (x(item.figures.customer_score), x(item.figures.staff_score));
        let mark = if item.blind_spot { " ⚠" } else { "" };
        let _ = write!(
            out,
            r#"<g class="item{blind}" data-position="{pos}"><text x="{tx:.1}" y="{ty:.1}" text-anchor="end">{pos}. {shown}{mark}</text><line x1="{cx:.1}" y1="{cy:.1}" x2="{sx:.1}" y2="{cy:.1}" stroke="{MUTED}" stroke-width="2"/><circle class="customers" cx="{cx:.1}" cy="{cy:.1}" r="6" fill="{BRAND}"><title>{label}: customers {cs:.3}</title></circle><circle class="staff" cx="{sx:.1}" cy="{cy:.1}" r="6" fill="white" stroke="{STAFF}" stroke-width="2.5"><title>{label}: staff {ss:.3}</title></circle></g>"#,
            blind = if item.blind_spot { " blind-spot" } else { "" },
            pos = item.figures.customer_rank,
            tx = left - 8.0,
            ty = cy + 4.0,
            shown = escape(&shorten(&item.label)),
            label = escape(&item.label),
            cs = item.figures.customer_score,
            ss = item.figures.staff_score,
        );
    }
    out.push_str("</svg>");
    out
}
