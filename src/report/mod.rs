//! Results for analysts: assembles a survey's responses into the `joint-v1` ranking
//! (PDS-METHOD.md §3) and writes it as a terminal table, CSV or JSON. The numbers
//! come from `stats`; this room only gathers the inputs and lays the output out.

use std::collections::HashMap;
use std::io::Write;

use diesel::prelude::*;
use serde::Serialize;

use crate::coding;
use crate::db::schema::{mentions, responses};
use crate::db::AnyConnection;
use crate::error::{Error, Result};
use crate::stats::{self, Interval};
use crate::survey::{store as survey_store, StoredSurvey, WaveLabel};

/// How the grouping into areas was done; shown with every result.
pub const GROUPING: &str = "normalised-text-v1";

/// One ranked area.
#[derive(Debug, Clone, Serialize)]
pub struct AreaResult {
    pub position: usize,
    pub area: String,
    pub mentions: u64,
    pub n: u64,
    pub frequency: f64,
    pub frequency_ci: Interval,
    pub importance: Option<f64>,
    pub importance_ci: Option<Interval>,
    pub score: f64,
    pub first_choice_share: f64,
    pub small_sample: bool,
}

/// Everything `pds results` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub survey: String,
    pub wave: Option<String>,
    pub method: &'static str,
    pub grouping: &'static str,
    pub n: u64,
    pub respondents_with_problems: u64,
    pub max_problems: u32,
    pub areas: Vec<AreaResult>,
}

/// Computes the ranking for a survey, or one wave of it.
pub fn results(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    wave: Option<&WaveLabel>,
) -> Result<Results> {
    let mut query = responses::table
        .filter(responses::survey_id.eq(survey.id))
        .select(responses::id)
        .into_boxed();
    if let Some(label) = wave {
        let w = survey_store::find_wave(conn, survey.id, label)?.ok_or_else(|| {
            Error::from(crate::survey::SurveyError::UnknownWave {
                survey: survey.slug.clone(),
                wave: label.to_string(),
            })
        })?;
        query = query.filter(responses::wave_id.eq(w.id));
    }
    let response_ids: Vec<i64> = query.order(responses::id).load(conn)?;
    let index_of: HashMap<i64, usize> = response_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, i))
        .collect();

    let mut rows: Vec<(i64, i32, String)> = Vec::new();
    for chunk in response_ids.chunks(10_000) {
        rows.extend(
            mentions::table
                .filter(mentions::response_id.eq_any(chunk))
                .select((mentions::response_id, mentions::rank, mentions::text))
                .load::<(i64, i32, String)>(conn)?,
        );
    }

    // Group by normalised text; label each area with its most frequent wording.
    let mut area_of_key: HashMap<String, usize> = HashMap::new();
    let mut wordings: Vec<HashMap<String, u64>> = Vec::new();
    let mut respondents: Vec<Vec<stats::Mention>> = vec![Vec::new(); response_ids.len()];
    for (response_id, rank, text) in rows {
        let key = coding::group_key(&text);
        let next = area_of_key.len();
        let area = *area_of_key.entry(key).or_insert(next);
        if area == wordings.len() {
            wordings.push(HashMap::new());
        }
        *wordings[area].entry(text.trim().to_string()).or_default() += 1;
        if let Some(&i) = index_of.get(&response_id) {
            respondents[i].push(stats::Mention {
                area,
                rank: rank.max(0) as u32,
            });
        }
    }
    let labels: Vec<String> = wordings
        .iter()
        .map(|w| {
            w.iter()
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(t, _)| t.clone())
                .unwrap_or_default()
        })
        .collect();

    let scores = stats::joint_v1(&stats::DiscoveryInput {
        max_problems: survey.survey.max_problems,
        area_count: labels.len(),
        respondents: &respondents,
    })
    .map_err(|e| Error::Invalid(format!("survey {}: {e}", survey.slug)))?;

    let areas = scores
        .into_iter()
        .enumerate()
        .map(|(i, s)| AreaResult {
            position: i + 1,
            area: labels[s.area].clone(),
            mentions: s.k,
            n: s.n,
            frequency: s.frequency,
            frequency_ci: s.frequency_ci,
            importance: s.importance,
            importance_ci: s.importance_ci,
            score: s.score,
            first_choice_share: s.first_choice_share,
            small_sample: s.small_sample,
        })
        .collect();
    Ok(Results {
        survey: survey.slug.clone(),
        wave: wave.map(|w| w.to_string()),
        method: stats::JOINT_V1,
        grouping: GROUPING,
        n: response_ids.len() as u64,
        respondents_with_problems: respondents.iter().filter(|r| !r.is_empty()).count() as u64,
        max_problems: survey.survey.max_problems,
        areas,
    })
}

/// Output formats of `pds results`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// Writes the results in `format`. CSV and JSON keep full precision.
pub fn write(results: &Results, format: Format, out: &mut dyn Write) -> Result<()> {
    let io = |e: std::io::Error| Error::io("<output>", e);
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, results)
                .map_err(|e| Error::Invalid(e.to_string()))?;
            writeln!(out).map_err(io)?;
        }
        Format::Csv => write_csv(results, out)?,
        Format::Table => write_table(results, out).map_err(io)?,
    }
    Ok(())
}

fn write_csv(results: &Results, out: &mut dyn Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let fail = |e: csv::Error| Error::Invalid(format!("writing CSV: {e}"));
    w.write_record([
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
    ])
    .map_err(fail)?;
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for a in &results.areas {
        w.write_record([
            a.position.to_string(),
            spreadsheet_safe(&a.area),
            results.method.to_string(),
            results.grouping.to_string(),
            a.n.to_string(),
            a.mentions.to_string(),
            a.frequency.to_string(),
            a.frequency_ci.low.to_string(),
            a.frequency_ci.high.to_string(),
            opt(a.importance),
            opt(a.importance_ci.map(|c| c.low)),
            opt(a.importance_ci.map(|c| c.high)),
            a.score.to_string(),
            a.first_choice_share.to_string(),
            a.small_sample.to_string(),
            spreadsheet_safe(&results.survey),
            spreadsheet_safe(results.wave.as_deref().unwrap_or("")),
        ])
        .map_err(fail)?;
    }
    w.flush().map_err(|e| Error::io("<output>", e))?;
    Ok(())
}

/// Text that a spreadsheet would run as a formula gets a leading apostrophe, so a
/// customer who writes `=HYPERLINK(...)` cannot reach the analyst's machine.
pub fn spreadsheet_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

fn write_table(results: &Results, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "Survey {}{} - method {}, areas by {}, n = {} respondents ({} with problems), M = {}",
        results.survey,
        results
            .wave
            .as_deref()
            .map(|w| format!(", wave {w}"))
            .unwrap_or_default(),
        results.method,
        results.grouping,
        results.n,
        results.respondents_with_problems,
        results.max_problems,
    )?;
    if results.areas.is_empty() {
        writeln!(out, "No problems reported yet.")?;
        return Ok(());
    }
    let width = results
        .areas
        .iter()
        .map(|a| a.area.chars().count().min(40))
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(
        out,
        "{:>3}  {:<width$}  {:>4}  {:>21}  {:>21}  {:>6}  {:>6}",
        "#", "area", "k", "frequency (95% CI)", "importance (95% CI)", "score", "first"
    )?;
    for a in &results.areas {
        let label: String = if a.area.chars().count() > 40 {
            a.area.chars().take(39).chain(['…']).collect()
        } else {
            a.area.clone()
        };
        let importance = match (a.importance, a.importance_ci) {
            (Some(i), Some(ci)) => format!("{:.2} [{:.2}-{:.2}]", i, ci.low, ci.high),
            (Some(i), None) => format!("{i:.2} [k<2]"),
            _ => "-".into(),
        };
        writeln!(
            out,
            "{:>3}  {:<width$}  {:>4}  {:>21}  {:>21}  {:>6.3}  {:>5.1}%{}",
            a.position,
            label,
            a.mentions,
            format!(
                "{:.1}% [{:.1}-{:.1}]",
                a.frequency * 100.0,
                a.frequency_ci.low * 100.0,
                a.frequency_ci.high * 100.0
            ),
            importance,
            a.score,
            a.first_choice_share * 100.0,
            if a.small_sample { "  (n<30)" } else { "" },
        )?;
    }
    writeln!(
        out,
        "score = frequency x importance ({}); importance = mean rank weight (M-r+1)/M among those who mention the area.",
        results.method
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_for_spreadsheets() {
        assert_eq!(spreadsheet_safe("=1+1"), "'=1+1");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("-2"), "'-2");
        assert_eq!(spreadsheet_safe("late delivery"), "late delivery");
    }
}
