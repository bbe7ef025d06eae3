//! Checklist results as a terminal table (rounded, intervals beside figures, a
//! legend naming methods, n and seed) and as one long CSV (full precision): one row
//! per figure, its `section` (`item`, `area`, `segment`, `wave-change`,
//! `staff-gap`, `write-in`, `uncoded`), the `figure` it is (`often`, `bothered`,
//! `crawford`, `joint`, `solved-elsewhere`, `preemptible`, `gap`, ...), its method,
//! interval, interval method and n. Text cells are neutralised against formulas.

use std::io::{self, Write};

use super::*;
use crate::report::spreadsheet_safe;
use crate::report::table::{label, label_width, p, pct, pct_ci, signed_pct_ci};

fn flag(on: bool, text: &str) -> &str {
    if on {
        text
    } else {
        ""
    }
}

fn score(f: &Figure) -> String {
    format!("{:.3} [{:.3}-{:.3}]", f.value, f.ci.low, f.ci.high)
}

pub(super) fn table(r: &ChecklistResults, out: &mut dyn Write) -> io::Result<()> {
    let st = &r.rank_stability;
    writeln!(
        out,
        "Checklist survey {}{}: n = {} customers{}",
        r.survey,
        r.wave
            .as_deref()
            .map(|w| format!(", wave {w}"))
            .unwrap_or_else(|| ", all waves".into()),
        r.n,
        flag(r.small_sample, "  [n<30]")
    )?;
    rows(out, "Items", &r.items, r.preemptibility_asked)?;
    if r.areas.iter().any(|a| a.items.len() > 1) {
        rows(
            out,
            "Areas (each customer's worst item of the area, worst-item-v1)",
            &r.areas,
            r.preemptibility_asked,
        )?;
    }
    writeln!(
        out,
        "A = share meeting the problem often, B = share bothered 4-5 of those who rated it (wilson-95);\n\
         crawford-v1 = A x B (interval: bounds-product-95); joint-v1 = mean of often x (bother-1)/4 \
         (interval and ranks: {} B={} seed={}, P(top {}));{}",
        st.method,
        st.replicates,
        st.seed,
        st.top_k,
        if r.preemptibility_asked {
            " preemptible-v1 = joint-v1 x (1 - share solved elsewhere)."
        } else {
            ""
        }
    )?;
    if let Some(s) = &r.segments {
        segments(out, s)?;
    }
    if let Some(w) = &r.wave_comparison {
        writeln!(
            out,
            "\nWave {} against {} ({}, {}; n = {} / {}):",
            w.later_wave, w.earlier_wave, w.test, w.adjustment, w.later_n, w.earlier_n
        )?;
        let width = label_width(w.items.iter().map(|i| i.label.chars().count()));
        for i in &w.items {
            writeln!(
                out,
                "  {}  A {}  p {}  p(BH) {}",
                label(&i.label, width),
                signed_pct_ci(i.change.difference, i.change.difference_ci),
                p(i.change.p_value),
                p(i.p_adjusted)
            )?;
        }
    }
    write_ins(out, &r.write_ins, r.n)?;
    if let Some(g) = &r.staff_gap {
        gap(out, g)?;
    }
    Ok(())
}

fn rows(
    out: &mut dyn Write,
    title: &str,
    rows: &[ChecklistRow],
    preemptible: bool,
) -> io::Result<()> {
    let width = label_width(rows.iter().map(|r| r.label.chars().count()));
    writeln!(out, "\n{title}:")?;
    writeln!(
        out,
        "  #  rank     {}  A often                B bothered             crawford-v1            joint-v1               {}P(top k)  n",
        label("item", width),
        if preemptible { "preemptible-v1         " } else { "" }
    )?;
    for row in rows {
        writeln!(
            out,
            "{:>3}  {:>2}-{:<2}    {}  {:<21}  {:<21}  {:<21}  {:<21}  {}{:>6.1}%  {}{}{}",
            row.position,
            row.rank_low,
            row.rank_high,
            label(&row.label, width),
            pct_ci(row.often.value, row.often.ci),
            pct_ci(row.bothered.value, row.bothered.ci),
            score(&row.crawford),
            score(&row.joint),
            match (&row.preemptible, preemptible) {
                (Some(f), _) => format!("{:<21}  ", score(f)),
                (None, true) => format!("{:<21}  ", "-"),
                (None, false) => String::new(),
            },
            row.p_top_k * 100.0,
            row.joint.n,
            flag(row.often.small_sample, "  [n<30]"),
            flag(
                row.bothered.small_sample && !row.often.small_sample,
                "  [B: rated<30]"
            ),
        )?;
    }
    Ok(())
}

fn segments(out: &mut dyn Write, s: &ChecklistSegments) -> io::Result<()> {
    writeln!(
        out,
        "\nBy {} ({} of {}, {}; {} without a value left out):",
        s.attribute, s.test, s.tested, s.adjustment, s.without_attribute
    )?;
    for seg in &s.segments {
        writeln!(
            out,
            "  {}: n = {}{}",
            seg.segment,
            seg.n,
            flag(seg.small_sample, "  [n<30]")
        )?;
    }
    let width = label_width(s.items.iter().map(|i| i.label.chars().count()));
    for item in &s.items {
        let cells: Vec<String> = item
            .per_segment
            .iter()
            .map(|c| format!("{} A {}", c.segment, pct_ci(c.often.value, c.often.ci)))
            .collect();
        let low = item.test.as_ref().is_some_and(|t| t.low_expected);
        writeln!(
            out,
            "  {}  {}  p {}  p(BH) {}{}",
            label(&item.label, width),
            cells.join("  "),
            p(item.test.as_ref().map(|t| t.p_value)),
            p(item.p_adjusted),
            flag(low, "  [expected<5]")
        )?;
    }
    Ok(())
}

fn write_ins(out: &mut dyn Write, w: &WriteIns, n: u64) -> io::Result<()> {
    writeln!(
        out,
        "\nOther problems written in: {} by {} of {} customers",
        w.mentions, w.respondents, n
    )?;
    for a in &w.areas {
        writeln!(
            out,
            "  {}  {} ({} mentions, n = {})",
            crate::text_safety::for_terminal(&a.area),
            pct_ci(a.share.value, a.share.ci),
            a.mentions,
            a.share.n
        )?;
    }
    for u in &w.uncoded {
        writeln!(
            out,
            "  [{}] {}",
            u.why,
            crate::text_safety::for_terminal(&u.text)
        )?;
    }
    Ok(())
}

fn gap(out: &mut dyn Write, g: &StaffGap) -> io::Result<()> {
    writeln!(
        out,
        "\nStaff gap ({}, {} resampled apart B={} seed={}): customers n = {}, staff n = {}{}",
        g.stamp.method,
        g.stamp.interval_method,
        g.stamp.replicates,
        g.stamp.seed,
        g.stamp.customers_n,
        g.stamp.staff_n,
        flag(g.stamp.small_sample, "  [n<30]")
    )?;
    writeln!(
        out,
        "  top {} overlap {}; Kendall tau-b {}",
        g.top_k,
        pct(g.overlap_share),
        match (g.kendall_tau_b, g.kendall_tau_b_ci) {
            (Some(t), Some(ci)) => format!("{t:.3} [{:.3}, {:.3}]", ci.low, ci.high),
            (Some(t), None) => format!("{t:.3}"),
            _ => "-".into(),
        }
    )?;
    let width = label_width(g.items.iter().map(|i| i.label.chars().count()));
    writeln!(
        out,
        "  {}  customers        staff            gap (joint-v1)",
        label("item", width)
    )?;
    for i in &g.items {
        writeln!(
            out,
            "  {}  #{:<2} {:.3}       #{:<2} {:.3}       {:+.3} [{:+.3}, {:+.3}]{}",
            label(&i.label, width),
            i.figures.customer_rank,
            i.figures.customer_score,
            i.figures.staff_rank,
            i.figures.staff_score,
            i.figures.gap,
            i.figures.gap_ci.low,
            i.figures.gap_ci.high,
            flag(i.blind_spot, "  BLIND SPOT")
        )?;
    }
    if !g.blind_spots.is_empty() {
        writeln!(
            out,
            "  Blind spots (customers' top {}, staff rank below): {}",
            g.top_k,
            g.blind_spots.join(", ")
        )?;
    }
    Ok(())
}

const COLUMNS: [&str; 26] = [
    "survey",
    "wave",
    "section",
    "id",
    "label",
    "segment",
    "figure",
    "method",
    "value",
    "low",
    "high",
    "ci_method",
    "n",
    "small_sample",
    "position",
    "rank_low",
    "rank_high",
    "p_top_k",
    "top_k",
    "replicates",
    "seed",
    "test",
    "statistic",
    "dof",
    "p_value",
    "p_adjusted",
];

/// A test's method, statistic, degrees of freedom, p and adjusted p.
type Test = (
    &'static str,
    Option<f64>,
    Option<u64>,
    Option<f64>,
    Option<f64>,
);

/// One CSV row; unset cells stay empty.
#[derive(Default)]
struct Line {
    section: &'static str,
    id: String,
    label: String,
    segment: String,
    figure: &'static str,
    value: Option<(f64, Option<Interval>)>,
    method: &'static str,
    ci_method: &'static str,
    n: Option<u64>,
    small_sample: Option<bool>,
    ranks: Option<(usize, u32, u32, f64)>,
    test: Option<Test>,
}

impl Line {
    /// A line about one item (or area) of `section`, its figure still to fill.
    fn of_item(section: &'static str, id: &str, label: &str) -> Line {
        Line {
            section,
            id: id.to_string(),
            label: label.to_string(),
            ..Line::default()
        }
    }

    fn of_figure(
        section: &'static str,
        id: &str,
        label: &str,
        figure: &'static str,
        f: &Figure,
    ) -> Line {
        Line {
            figure,
            value: Some((f.value, Some(f.ci))),
            method: f.method,
            ci_method: f.ci_method,
            n: Some(f.n),
            small_sample: Some(f.small_sample),
            ..Line::of_item(section, id, label)
        }
    }
}

fn num<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn row_lines(section: &'static str, row: &ChecklistRow) -> Vec<Line> {
    let mut figures = vec![
        ("often", row.often),
        ("bothered", row.bothered),
        ("crawford", row.crawford),
        ("joint", row.joint),
    ];
    figures.extend(row.solved_elsewhere.map(|f| ("solved-elsewhere", f)));
    figures.extend(row.preemptible.map(|f| ("preemptible", f)));
    figures
        .into_iter()
        .map(|(name, f)| {
            let mut line = Line::of_figure(section, &row.id, &row.label, name, &f);
            if name == "joint" {
                line.ranks = Some((row.position, row.rank_low, row.rank_high, row.p_top_k));
            }
            line
        })
        .collect()
}

fn lines(r: &ChecklistResults) -> Vec<Line> {
    let mut lines: Vec<Line> = r
        .items
        .iter()
        .flat_map(|row| row_lines("item", row))
        .collect();
    lines.extend(r.areas.iter().flat_map(|row| row_lines("area", row)));
    if let Some(s) = &r.segments {
        for item in &s.items {
            for c in &item.per_segment {
                let mut line = Line::of_figure("segment", &item.id, &item.label, "often", &c.often);
                line.segment = format!("{}={}", s.attribute, c.segment);
                line.test = item.test.as_ref().map(|t| {
                    (
                        t.method,
                        Some(t.statistic),
                        Some(t.dof),
                        Some(t.p_value),
                        item.p_adjusted,
                    )
                });
                lines.push(line);
            }
        }
    }
    if let Some(w) = &r.wave_comparison {
        for i in &w.items {
            lines.push(Line {
                segment: format!("{} - {}", w.later_wave, w.earlier_wave),
                figure: "often-difference",
                value: Some((i.change.difference, Some(i.change.difference_ci))),
                method: OFTEN_SHARE,
                ci_method: i.change.method,
                n: Some(w.later_n + w.earlier_n),
                test: Some((
                    i.change.method,
                    i.change.z,
                    None,
                    i.change.p_value,
                    i.p_adjusted,
                )),
                ..Line::of_item("wave-change", &i.id, &i.label)
            });
        }
    }
    if let Some(g) = &r.staff_gap {
        for i in &g.items {
            lines.push(Line {
                segment: if i.blind_spot {
                    "blind-spot".into()
                } else {
                    String::new()
                },
                figure: "gap",
                value: Some((i.figures.gap, Some(i.figures.gap_ci))),
                method: g.stamp.method,
                ci_method: g.stamp.interval_method,
                n: Some(g.stamp.customers_n.min(g.stamp.staff_n)),
                small_sample: Some(g.stamp.small_sample),
                ranks: Some((
                    i.figures.customer_rank as usize,
                    i.figures.staff_rank,
                    i.figures.staff_rank,
                    0.0,
                )),
                ..Line::of_item("staff-gap", &i.id, &i.label)
            });
        }
        lines.push(Line {
            section: "staff-gap",
            figure: "kendall-tau-b",
            value: g.kendall_tau_b.map(|t| (t, g.kendall_tau_b_ci)),
            method: g.stamp.method,
            ci_method: g.stamp.interval_method,
            n: Some(g.stamp.customers_n.min(g.stamp.staff_n)),
            small_sample: Some(g.stamp.small_sample),
            ..Line::default()
        });
    }
    for a in &r.write_ins.areas {
        lines.push(Line::of_figure(
            "write-in", &a.area, &a.area, "share", &a.share,
        ));
    }
    for u in &r.write_ins.uncoded {
        lines.push(Line {
            section: "uncoded",
            label: u.text.clone(),
            method: u.why,
            ..Line::default()
        });
    }
    lines
}

pub(super) fn csv(r: &ChecklistResults, out: &mut dyn Write) -> Result<()> {
    let mut w = ::csv::Writer::from_writer(out);
    let fail = |e: ::csv::Error| Error::Internal(format!("writing CSV: {e}"));
    w.write_record(COLUMNS).map_err(fail)?;
    let st = &r.rank_stability;
    for line in lines(r) {
        let (value, ci) = line.value.unwrap_or((f64::NAN, None));
        let (position, low_rank, high_rank, p_top) = match line.ranks {
            Some((a, b, c, d)) => (Some(a), Some(b), Some(c), Some(d)),
            None => (None, None, None, None),
        };
        let bootstrap = line.ranks.is_some() || line.ci_method == st.method;
        let (test, statistic, dof, p_value, p_adjusted) =
            line.test.unwrap_or(("", None, None, None, None));
        let record = [
            spreadsheet_safe(&r.survey),
            r.wave
                .clone()
                .map(|w| spreadsheet_safe(&w))
                .unwrap_or_default(),
            line.section.to_string(),
            spreadsheet_safe(&line.id),
            spreadsheet_safe(&line.label),
            spreadsheet_safe(&line.segment),
            line.figure.to_string(),
            line.method.to_string(),
            num(line.value.map(|_| value)),
            num(ci.map(|c| c.low)),
            num(ci.map(|c| c.high)),
            line.ci_method.to_string(),
            num(line.n),
            num(line.small_sample),
            num(position),
            num(low_rank),
            num(high_rank),
            num(p_top),
            num(bootstrap.then_some(st.top_k)),
            num(bootstrap.then_some(st.replicates)),
            num(bootstrap.then_some(st.seed)),
            test.to_string(),
            num(statistic),
            num(dof),
            num(p_value),
            num(p_adjusted),
        ];
        w.write_record(&record).map_err(fail)?;
    }
    w.flush().map_err(|e| Error::io("<output>", e))?;
    Ok(())
}
