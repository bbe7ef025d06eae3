//! Results as aligned text for a terminal: rounded for reading (CSV and JSON keep
//! full precision), intervals beside each figure, flags in their own column, and a
//! legend under each table naming the methods, n and the seed.

use std::io::{self, Write};

use super::{Results, Segments, WaveChange};
use crate::stats::Interval;

/// Longest area label shown; longer ones are cut with an ellipsis.
const LABEL_CHARS: usize = 36;

pub(super) fn label(text: &str, width: usize) -> String {
    let one_line = crate::text_safety::for_terminal(text);
    let cut: String = if one_line.chars().count() > width {
        one_line.chars().take(width - 1).chain(['…']).collect()
    } else {
        one_line
    };
    let pad = width.saturating_sub(cut.chars().count());
    format!("{cut}{}", " ".repeat(pad))
}

pub(super) fn label_width(labels: impl Iterator<Item = usize>) -> usize {
    labels.map(|l| l.min(LABEL_CHARS)).max().unwrap_or(4).max(4)
}

pub(super) fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

pub(super) fn pct_ci(x: f64, ci: Interval) -> String {
    format!(
        "{:.1}% [{:.1}-{:.1}]",
        x * 100.0,
        ci.low * 100.0,
        ci.high * 100.0
    )
}

pub(super) fn signed_pct_ci(x: f64, ci: Interval) -> String {
    format!(
        "{:+.1}% [{:+.1}, {:+.1}]",
        x * 100.0,
        ci.low * 100.0,
        ci.high * 100.0
    )
}

pub(super) fn p(value: Option<f64>) -> String {
    match value {
        None => "-".into(),
        Some(v) if v < 0.001 => "<0.001".into(),
        Some(v) => format!("{v:.3}"),
    }
}

fn flags(list: &[(bool, &str)]) -> String {
    list.iter()
        .filter(|(on, _)| *on)
        .map(|(_, f)| *f)
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn write(results: &Results, out: &mut dyn Write) -> io::Result<()> {
    let stability = &results.rank_stability;
    writeln!(
        out,
        "Survey {}{}: n = {} respondents ({} with problems), M = {}{}",
        results.survey,
        results
            .wave
            .as_deref()
            .map(|w| format!(", wave {w}"))
            .unwrap_or_else(|| ", all waves".into()),
        results.n,
        results.respondents_with_problems,
        results.max_problems,
        if results.small_sample { "  [n<30]" } else { "" },
    )?;
    if results.areas.is_empty() && results.uncoded.mentions == 0 {
        writeln!(out, "No problems reported yet (method {}).", results.method)?;
    } else if results.areas.is_empty() {
        writeln!(out, "No mention is in a problem area yet.")?;
    } else {
        write_ranking(results, out)?;
    }
    write_uncoded(results, out)?;
    if let Some(worth) = &results.worth {
        writeln!(out)?;
        match &worth.problem {
            Some(problem) => writeln!(out, "{} not shown: {problem}", worth.method)?,
            None => {
                writeln!(
                    out,
                    "Plackett-Luce worths ({}, Hunter's MM; {} rankings of 2+ areas{}{}), summing to 1:",
                    worth.method,
                    worth.rankings_used,
                    if worth.converged { "" } else { ", NOT converged" },
                    if worth.small_sample { ", n<30" } else { "" },
                )?;
                let width = label_width(worth.areas.iter().map(|a| a.area.chars().count()));
                for a in &worth.areas {
                    writeln!(out, "  {}  {:.4}", label(&a.area, width), a.worth)?;
                }
            }
        }
    }
    if let Some(seg) = &results.segments {
        write_segments(seg, out)?;
    }
    if let Some(change) = &results.wave_comparison {
        write_waves(change, out)?;
    }
    write_response(results, out)?;
    if !results.areas.is_empty() {
        writeln!(
            out,
            "Seed {} (--seed), B = {} (--bootstrap): the same data and seed always give the same output.",
            stability.seed, stability.replicates
        )?;
    }
    Ok(())
}

fn write_ranking(results: &Results, out: &mut dyn Write) -> io::Result<()> {
    let s = &results.rank_stability;
    let width = label_width(results.areas.iter().map(|a| a.area.chars().count()));
    let top = format!("P(top{})", s.top_k);
    writeln!(
        out,
        "{:>3}  {:>9}  {}  {:>4}  {:>20}  {:>18}  {:>6}  {:>15}  {:>8}  {:>6}  flags",
        "#",
        "rank 95%",
        label("area", width),
        "k",
        "frequency (95% CI)",
        "importance (95%CI)",
        "score",
        "score (95% CI)",
        top,
        "first",
    )?;
    for a in &results.areas {
        let importance = match (a.importance, a.importance_ci) {
            (Some(i), Some(ci)) => format!("{:.2} [{:.2}-{:.2}]", i, ci.low, ci.high),
            (Some(i), None) => format!("{i:.2} [k<2]"),
            _ => "-".into(),
        };
        writeln!(
            out,
            "{:>3}  {:>9}  {}  {:>4}  {:>20}  {:>18}  {:>6.3}  {:>15}  {:>8.3}  {:>6}  {}",
            a.position,
            format!("{}-{}", a.rank_low, a.rank_high),
            label(&a.area, width),
            a.mentions,
            pct_ci(a.frequency, a.frequency_ci),
            importance,
            a.score,
            format!("[{:.3}-{:.3}]", a.score_ci.low, a.score_ci.high),
            a.p_top_k,
            pct(a.first_choice_share),
            flags(&[
                (a.small_sample, "n<30"),
                (a.importance_small_sample, "k<30")
            ]),
        )?;
    }
    writeln!(
        out,
        "Legend: n = {n}; k = respondents who mention the area; frequency = k/n, Wilson 95% ({fm});\n  \
         importance = mean rank weight (M-r+1)/M among the k, Student-t 95% ({im}); score = frequency x importance ({m});\n  \
         rank 95% and score (95% CI) = 2.5-97.5% percentiles over B = {b} resamples of the n respondents ({bm}, seed {seed});\n  \
         {top} = share of resamples in which the area ranks {k} or better; first = share whose rank-1 problem is in the area;\n  \
         areas grouped by {g}; flags: n<30 / k<30 = figure rests on fewer than 30 respondents.",
        n = results.n,
        fm = results.frequency_method,
        im = results.importance_method,
        m = results.method,
        b = s.replicates,
        bm = s.method,
        seed = s.seed,
        k = s.top_k,
        g = results.grouping,
    )
}

/// Texts of uncoded mentions shown in the table; CSV and JSON list them all.
const UNCODED_SHOWN: usize = 10;

fn write_uncoded(results: &Results, out: &mut dyn Write) -> io::Result<()> {
    let u = &results.uncoded;
    if u.mentions == 0 {
        return Ok(());
    }
    writeln!(out)?;
    if u.not_yet_coded > 0 {
        writeln!(
            out,
            "{} mentions not yet coded — run pds code --survey {}",
            u.not_yet_coded, results.survey
        )?;
    }
    if u.not_placed > 0 {
        writeln!(
            out,
            "{} mentions coding could not place — place them with pds areas move --survey {}",
            u.not_placed, results.survey
        )?;
    }
    writeln!(
        out,
        "These count in no area above (their respondents still count in n):"
    )?;
    for t in u.texts.iter().take(UNCODED_SHOWN) {
        writeln!(out, "  - {}", label(&t.text, 70).trim_end())?;
    }
    if u.texts.len() > UNCODED_SHOWN {
        writeln!(
            out,
            "  ... and {} more (--format csv or json lists them all)",
            u.texts.len() - UNCODED_SHOWN
        )?;
    }
    Ok(())
}

fn write_segments(seg: &Segments, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "Segments by {} ({}: {} per segment; {} on mentioned / not mentioned x segment, Yates when dof = 1; {}):",
        seg.attribute, seg.stamp.method, seg.stamp.scoring, seg.stamp.test, seg.stamp.adjustment
    )?;
    let sizes: Vec<String> = seg
        .segments
        .iter()
        .map(|s| {
            format!(
                "{} n = {}{}",
                s.segment,
                s.n,
                if s.small_sample { " [n<30]" } else { "" }
            )
        })
        .collect();
    writeln!(
        out,
        "  {}{}",
        sizes.join(", "),
        if seg.without_attribute > 0 {
            format!(
                "; {} respondents without {} left out",
                seg.without_attribute, seg.attribute
            )
        } else {
            String::new()
        }
    )?;
    let width = label_width(seg.areas.iter().map(|a| a.area.chars().count()));
    let cell = 13;
    let mut head = format!("  {}", label("area", width));
    for s in &seg.segments {
        head.push_str(&format!("  {:>cell$}", label(&s.segment, cell).trim_end()));
    }
    head.push_str(&format!(
        "  {:>7}  {:>3}  {:>6}  {:>6}  flags",
        "chi2", "dof", "p", "p(BH)"
    ));
    writeln!(out, "{head}")?;
    for a in &seg.areas {
        let mut line = format!("  {}", label(&a.area, width));
        for c in &a.per_segment {
            line.push_str(&format!(
                "  {:>cell$}",
                format!("{:>6} {:.3}", pct(c.frequency), c.score)
            ));
        }
        let small = a.per_segment.iter().any(|c| c.small_sample);
        match &a.test {
            Some(t) => line.push_str(&format!(
                "  {:>7.2}  {:>3}  {:>6}  {:>6}  {}",
                t.statistic,
                t.dof,
                p(Some(t.p_value)),
                p(a.p_adjusted),
                flags(&[(t.low_expected, "E<5"), (small, "n<30")]),
            )),
            None => line.push_str(&format!(
                "  {:>7}  {:>3}  {:>6}  {:>6}  {}",
                "-",
                "-",
                "-",
                "-",
                flags(&[(small, "n<30")])
            )),
        }
        writeln!(out, "{line}")?;
    }
    writeln!(
        out,
        "Legend: each segment cell = frequency and {} score within the segment (intervals in CSV/JSON);\n  \
         p(BH) = Benjamini-Hochberg adjusted over the areas; E<5 = an expected count below 5 (p unreliable); n<30 = a segment of fewer than 30.",
        seg.stamp.scoring
    )
}

fn write_waves(change: &WaveChange, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "Change from wave {} (n = {}) to wave {} (n = {}) ({}); {} respondents answered both:",
        change.earlier_wave,
        change.stamp.earlier_n,
        change.later_wave,
        change.stamp.later_n,
        change.stamp.method,
        change.stamp.pairs
    )?;
    let width = label_width(change.areas.iter().map(|a| a.area.chars().count()));
    let wave_width = |w: &str| w.chars().count().clamp(6, 12);
    let (ew, lw) = (
        wave_width(&change.earlier_wave),
        wave_width(&change.later_wave),
    );
    writeln!(
        out,
        "  {}  {:>ew$}  {:>lw$}  {:>24}  {:>6}  {:>6}  {:>6}  {:>9}  {:>6}  flags",
        label("area", width),
        label(&change.earlier_wave, ew).trim_end(),
        label(&change.later_wave, lw).trim_end(),
        "change (95% CI)",
        "z",
        "p",
        "p(BH)",
        "McNemar p",
        "p(BH)",
    )?;
    for a in &change.areas {
        let c = &a.tests.change;
        writeln!(
            out,
            "  {}  {:>ew$}  {:>lw$}  {:>24}  {:>6}  {:>6}  {:>6}  {:>9}  {:>6}  {}",
            label(&a.area, width),
            pct(a.earlier_frequency),
            pct(a.later_frequency),
            signed_pct_ci(c.difference, c.difference_ci),
            c.z.map(|z| format!("{z:.2}")).unwrap_or_else(|| "-".into()),
            p(c.p_value),
            p(a.tests.p_adjusted),
            p(a.tests.paired.map(|t| t.p_value)),
            p(a.tests.paired_p_adjusted),
            flags(&[
                (c.small_sample, "n<30"),
                (a.tests.paired.is_some_and(|t| t.small_sample), "pairs<30")
            ]),
        )?;
    }
    writeln!(
        out,
        "Legend: change = later - earlier frequency, Newcombe 95% interval; z, p = pooled two-proportion z-test ({});\n  \
         McNemar p = exact test on the respondents who answered both waves ({}); p(BH) = Benjamini-Hochberg ({}).",
        change.stamp.test, change.stamp.paired_test, change.stamp.adjustment
    )
}

fn write_response(results: &Results, out: &mut dyn Write) -> io::Result<()> {
    if results.response_rates.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let method = results.response_rates[0].method;
    writeln!(out, "Response rate ({method}, Wilson 95%):")?;
    for r in &results.response_rates {
        let imported = if r.imported > 0 {
            format!("; {} imported responses (not in the rate)", r.imported)
        } else {
            String::new()
        };
        match (r.rate, r.ci) {
            (Some(rate), Some(ci)) => writeln!(
                out,
                "  wave {}: {} answered of {} invited = {}{}{}",
                r.wave,
                r.completed,
                r.invited,
                pct_ci(rate, ci),
                if r.small_sample { " [n<30]" } else { "" },
                imported
            )?,
            _ => writeln!(out, "  wave {}: nobody invited{}", r.wave, imported)?,
        }
    }
    if let Some(el) = &results.early_late {
        writeln!(
            out,
            "Early vs late respondents ({}: first vs second half by answer time, form answers only; {}, {}): early n = {}, late n = {}{}",
            el.stamp.method,
            el.stamp.test,
            el.stamp.adjustment,
            el.stamp.early_n,
            el.stamp.late_n,
            if el.small_sample { " [n<30]" } else { "" },
        )?;
        writeln!(
            out,
            "  any problem, late - early: {}, p = {}",
            signed_pct_ci(el.any_problem.difference, el.any_problem.difference_ci),
            p(el.any_problem.p_value)
        )?;
        let differing: Vec<&super::EarlyLateArea> = el
            .areas
            .iter()
            .filter(|a| a.p_adjusted.is_some_and(|q| q < 0.05))
            .collect();
        if differing.is_empty() {
            writeln!(
                out,
                "  no area's frequency differs between early and late respondents at p(BH) < 0.05"
            )?;
        }
        for a in differing {
            writeln!(
                out,
                "  {}: late - early {}, p = {}, p(BH) = {}",
                a.area,
                signed_pct_ci(a.test.difference, a.test.difference_ci),
                p(a.test.p_value),
                p(a.p_adjusted)
            )?;
        }
    }
    Ok(())
}
