//! Results as one CSV table for spreadsheets: full precision, the method and n on
//! every row, the seed on every bootstrap figure, and text cells neutralised
//! against formulas. The `section` column says what a row is:
//!
//! - `overall`: one row per area, in rank order, with rank stability, early-vs-late
//!   and (for a single wave) the wave's response rate;
//! - `segment`: one row per area and segment (`--by`), with the area's chi-square
//!   test on each of its rows;
//! - `wave-change`: one row per area (`--compare-wave`), later wave in the common
//!   columns, the earlier one and the change in the `earlier_*` and
//!   `difference*` columns;
//! - `response-rate`: one row per wave, when more than one wave is shown;
//! - `uncoded`: one row per mention in no area, its text in the `area` column and
//!   `method` saying why (`not-yet-coded`: run `pds code`; `not-placed`: coding
//!   could not place it).
//!
//! The first 17 columns are those of the first release, in the same order.

use std::io::Write;

use super::{spreadsheet_safe, Results, Segments, UncodedText, WaveChange, WaveResponse};
use crate::error::{Error, Result};
use crate::stats::Interval;

const COLUMNS: [&str; 71] = [
    "position",
    "area",
    "method",
    "grouping",
    "n",
    "mentions",
    "frequency",
    "frequency_low",
    "frequency_high",
    "importance",
    "importance_low",
    "importance_high",
    "score",
    "first_choice_share",
    "small_sample",
    "survey",
    "wave",
    "section",
    "segment_attribute",
    "segment",
    "frequency_method",
    "importance_method",
    "importance_small_sample",
    "rank_low",
    "rank_high",
    "score_low",
    "score_high",
    "p_top_k",
    "top_k",
    "bootstrap_method",
    "replicates",
    "seed",
    "test_method",
    "statistic",
    "dof",
    "p_value",
    "p_adjusted",
    "adjustment",
    "yates",
    "min_expected",
    "low_expected",
    "compare_wave",
    "earlier_n",
    "earlier_mentions",
    "earlier_frequency",
    "difference",
    "difference_low",
    "difference_high",
    "paired_method",
    "pairs",
    "yes_to_no",
    "no_to_yes",
    "paired_p_value",
    "paired_p_adjusted",
    "worth_method",
    "worth",
    "early_late_method",
    "early_n",
    "late_n",
    "early_late_difference",
    "early_late_low",
    "early_late_high",
    "early_late_p_value",
    "early_late_p_adjusted",
    "response_rate_method",
    "invited",
    "completed",
    "imported",
    "response_rate",
    "response_rate_low",
    "response_rate_high",
];

/// The index of `column` in [`COLUMNS`].
fn column(column: &str) -> usize {
    COLUMNS
        .iter()
        .position(|c| *c == column)
        .unwrap_or_else(|| panic!("no CSV column {column}"))
}

/// A row being filled by column name; unnamed cells stay empty.
struct Row(Vec<String>);

impl Row {
    fn new() -> Row {
        Row(vec![String::new(); COLUMNS.len()])
    }

    fn set(&mut self, column_name: &str, value: impl ToString) -> &mut Row {
        self.0[column(column_name)] = value.to_string();
        self
    }

    fn text(&mut self, column: &str, value: &str) -> &mut Row {
        self.set(column, spreadsheet_safe(value))
    }

    fn opt<T: ToString>(&mut self, column: &str, value: Option<T>) -> &mut Row {
        if let Some(v) = value {
            self.set(column, v);
        }
        self
    }

    fn interval(&mut self, low: &str, high: &str, ci: Option<Interval>) -> &mut Row {
        if let Some(ci) = ci {
            self.set(low, ci.low).set(high, ci.high);
        }
        self
    }

    /// The area a row is about, the method of its figures and how its mentions
    /// were grouped into it.
    fn area(&mut self, area: &str, method: &str, grouping: &str) -> &mut Row {
        self.text("area", area)
            .set("method", method)
            .text("grouping", grouping)
    }

    /// An area's frequency: of `n` respondents, `mentions` (k) mention it; k/n
    /// with its interval.
    fn frequency(&mut self, n: u64, mentions: u64, frequency: f64, ci: Interval) -> &mut Row {
        self.set("n", n)
            .set("mentions", mentions)
            .set("frequency", frequency)
            .interval("frequency_low", "frequency_high", Some(ci))
    }

    fn rate(&mut self, r: &WaveResponse) -> &mut Row {
        self.set("response_rate_method", r.method)
            .set("invited", r.invited)
            .set("completed", r.completed)
            .set("imported", r.imported)
            .opt("response_rate", r.rate)
            .interval("response_rate_low", "response_rate_high", r.ci)
    }
}

pub fn write(results: &Results, out: &mut dyn Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let fail = |e: csv::Error| Error::Internal(format!("writing CSV: {e}"));
    w.write_record(COLUMNS).map_err(fail)?;
    let rows = overall_rows(results)
        .into_iter()
        .chain(
            results
                .segments
                .iter()
                .flat_map(|s| segment_rows(results, s)),
        )
        .chain(
            results
                .wave_comparison
                .iter()
                .flat_map(|c| wave_change_rows(results, c)),
        )
        .chain(response_rate_rows(results));
    for row in rows {
        w.write_record(&row.0).map_err(fail)?;
    }
    let out = (w.into_inner()).map_err(|e| Error::io("<output>", e.into_error()))?;
    uncoded_rows(results, out)
}

/// Uncoded rows formatted per block on each thread, then written in order.
const UNCODED_BLOCK: usize = 8192;

/// The uncoded section: one row per uncoded mention, which at a million
/// respondents is hundreds of thousands of rows. Blocks of rows are formatted on
/// every thread at once, each into a buffer of its own, and the buffers written in
/// order (a CSV row is the same whichever writer writes it); in each block one row
/// is filled once and only its text and reason change, so no row is built (or
/// held) per mention.
fn uncoded_rows(results: &Results, out: &mut dyn Write) -> Result<()> {
    use rayon::prelude::*;
    let template = uncoded_row(results);
    let (text, why) = (column("area"), column("method"));
    let fill = |buffer: &mut Vec<u8>, block: &[UncodedText]| -> csv::Result<()> {
        buffer.clear();
        let mut w = csv::Writer::from_writer(buffer);
        let mut row = Row(template.0.clone());
        for t in block {
            crate::text_safety::for_spreadsheet_into(&t.text, &mut row.0[text]);
            row.0[why].clear();
            row.0[why].push_str(t.why);
            w.write_record(&row.0)?;
        }
        w.flush()?;
        Ok(())
    };
    let threads = rayon::current_num_threads().max(1);
    let mut buffers: Vec<Vec<u8>> = vec![Vec::new(); threads];
    for blocks in results.uncoded.texts.chunks(UNCODED_BLOCK * threads) {
        let filled: Vec<csv::Result<()>> = (buffers.par_iter_mut())
            .zip(blocks.par_chunks(UNCODED_BLOCK))
            .map(|(buffer, block)| fill(buffer, block))
            .collect();
        for (buffer, done) in buffers.iter().zip(filled) {
            done.map_err(|e| Error::Internal(format!("writing CSV: {e}")))?;
            out.write_all(buffer)
                .map_err(|e| Error::io("<output>", e))?;
        }
    }
    out.flush().map_err(|e| Error::io("<output>", e))
}

/// A row that names the survey and the wave in scope.
fn scoped_row(results: &Results) -> Row {
    let mut row = Row::new();
    row.text("survey", &results.survey)
        .text("wave", results.wave.as_deref().unwrap_or(""));
    row
}

/// One row per ranked area, with its worth, early/late test and the response rate
/// of the wave in scope.
fn overall_rows(results: &Results) -> Vec<Row> {
    let scope_rate = match (&results.wave, results.response_rates.as_slice()) {
        (Some(w), rates) => rates.iter().find(|r| &r.wave == w),
        (None, [only]) => Some(only),
        _ => None,
    };
    let mut rows = Vec::new();
    for (i, a) in results.areas.iter().enumerate() {
        let mut row = scoped_row(results);
        row.set("section", "overall")
            .set("position", a.position)
            .area(&a.area, a.method, &a.grouping)
            .frequency(a.n, a.mentions, a.frequency, a.frequency_ci)
            .set("frequency_method", a.frequency_method)
            .opt("importance", a.importance)
            .interval("importance_low", "importance_high", a.importance_ci)
            .set("importance_method", a.importance_method)
            .set("importance_small_sample", a.importance_small_sample)
            .set("score", a.score)
            .set("first_choice_share", a.first_choice_share)
            .set("small_sample", a.small_sample)
            .set("rank_low", a.rank_low)
            .set("rank_high", a.rank_high)
            .interval("score_low", "score_high", Some(a.score_ci))
            .set("p_top_k", a.p_top_k)
            .set("top_k", results.rank_stability.top_k)
            .set("bootstrap_method", results.rank_stability.method)
            .set("replicates", results.rank_stability.replicates)
            .set("seed", results.rank_stability.seed);
        if let Some(worth) = &results.worth {
            row.set("worth_method", worth.method)
                .opt("worth", worth.areas.get(i).map(|w| w.worth));
        }
        if let Some(el) = &results.early_late {
            if let Some(t) = el.areas.get(i) {
                row.set("early_late_method", el.stamp.method)
                    .set("early_n", el.stamp.early_n)
                    .set("late_n", el.stamp.late_n)
                    .set("early_late_difference", t.test.difference)
                    .interval(
                        "early_late_low",
                        "early_late_high",
                        Some(t.test.difference_ci),
                    )
                    .opt("early_late_p_value", t.test.p_value)
                    .opt("early_late_p_adjusted", t.p_adjusted);
            }
        }
        if let Some(r) = scope_rate {
            row.rate(r);
        }
        rows.push(row);
    }
    rows
}

/// One row per area and segment, with the area's chi-square test.
fn segment_rows(results: &Results, seg: &Segments) -> Vec<Row> {
    let mut rows = Vec::new();
    for a in &seg.areas {
        for cell in &a.per_segment {
            let mut row = scoped_row(results);
            row.set("section", "segment")
                .text("segment_attribute", &seg.attribute)
                .text("segment", &cell.segment)
                .area(&a.area, cell.method, &a.grouping)
                .frequency(cell.n, cell.mentions, cell.frequency, cell.frequency_ci)
                .set("frequency_method", results.frequency_method)
                .opt("importance", cell.importance)
                .set("score", cell.score)
                .set("small_sample", cell.small_sample)
                .set("test_method", seg.stamp.test)
                .set("adjustment", seg.stamp.adjustment)
                .opt("p_adjusted", a.p_adjusted);
            if let Some(t) = &a.test {
                row.set("statistic", t.statistic)
                    .set("dof", t.dof)
                    .set("p_value", t.p_value)
                    .set("yates", t.yates)
                    .set("min_expected", t.min_expected)
                    .set("low_expected", t.low_expected);
            }
            rows.push(row);
        }
    }
    rows
}

/// One row per area: the change from the earlier wave, with its paired test.
fn wave_change_rows(results: &Results, change: &WaveChange) -> Vec<Row> {
    change
        .areas
        .iter()
        .map(|a| {
            let mut row = scoped_row(results);
            let c = &a.tests.change;
            row.set("section", "wave-change")
                .text("compare_wave", &change.earlier_wave)
                .area(&a.area, change.stamp.method, &a.grouping)
                .set("n", change.stamp.later_n)
                .set("mentions", a.later_mentions)
                .set("frequency", a.later_frequency)
                .set("small_sample", c.small_sample)
                .set("earlier_n", change.stamp.earlier_n)
                .set("earlier_mentions", a.earlier_mentions)
                .set("earlier_frequency", a.earlier_frequency)
                .set("difference", c.difference)
                .interval("difference_low", "difference_high", Some(c.difference_ci))
                .set("test_method", change.stamp.test)
                .opt("statistic", c.z)
                .opt("p_value", c.p_value)
                .opt("p_adjusted", a.tests.p_adjusted)
                .set("adjustment", change.stamp.adjustment)
                .set("paired_method", change.stamp.paired_test)
                .set("pairs", change.stamp.pairs);
            if let Some(p) = &a.tests.paired {
                row.set("yes_to_no", p.yes_to_no)
                    .set("no_to_yes", p.no_to_yes)
                    .set("paired_p_value", p.p_value)
                    .opt("paired_p_adjusted", a.tests.paired_p_adjusted);
            }
            row
        })
        .collect()
}

/// One row per wave's response rate, when there is more than one wave.
fn response_rate_rows(results: &Results) -> Vec<Row> {
    if results.response_rates.len() <= 1 {
        return Vec::new();
    }
    results
        .response_rates
        .iter()
        .map(|r| {
            let mut row = Row::new();
            row.set("section", "response-rate")
                .text("survey", &results.survey)
                .text("wave", &r.wave)
                .set("method", r.method)
                .set("n", r.invited)
                .set("small_sample", r.small_sample)
                .rate(r);
            row
        })
        .collect()
}

/// The cells every row of a mention in no area has; [`write`] adds its text (in
/// `area`) and the reason (in `method`).
fn uncoded_row(results: &Results) -> Row {
    let mut row = scoped_row(results);
    row.set("section", "uncoded").set("n", results.n);
    row
}
