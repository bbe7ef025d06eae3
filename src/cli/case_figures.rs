//! `pds cases stats [--survey S]` and `pds cases export [--survey S] [--output F]`:
//! how fast the teams act, and every case as CSV (no names or emails; cells
//! neutralised for spreadsheets by `text_safety::for_spreadsheet`).

use std::io::Write;
use std::path::PathBuf;

use crate::cases::stats::{self, Figures};
use crate::cases::team::{self as case_team, TeamCase};
use crate::db::{AnyConnection, Database};
use crate::error::{Error, Result};
use crate::survey::{store, StoredSurvey, SurveySlug};
use crate::text_safety::{for_spreadsheet, for_terminal};

/// The surveys asked for: one, or every survey.
fn surveys(conn: &mut AnyConnection, survey: Option<&str>) -> Result<Vec<StoredSurvey>> {
    match survey {
        Some(s) => Ok(vec![store::find(conn, &s.parse::<SurveySlug>()?)?]),
        None => store::list(conn)?
            .into_iter()
            .map(|(slug, _, _)| store::find(conn, &slug.parse::<SurveySlug>()?))
            .collect(),
    }
}

pub fn stats(db: &Database, survey: Option<&str>) -> Result<()> {
    let now = crate::db::now();
    let list = surveys(&mut *db.conn()?, survey)?;
    for survey in list {
        let (count, figures) = crate::route::case_figures(&mut *db.conn()?, survey.id, now)?;
        println!(
            "Survey {}: {} cases, as of {} UTC. Times in hours, {} (n = cases with the time); \
             within SLA: share of the cases whose deadline has passed or that were acted on (n).",
            survey.slug,
            count,
            now.format("%Y-%m-%d %H:%M"),
            stats::METHOD
        );
        if count == 0 {
            continue;
        }
        print_table(
            "team",
            figures.teams.iter().map(|(k, f)| (for_terminal(k), f)),
        );
        print_table(
            "area",
            figures.areas.iter().map(|(k, f)| {
                (
                    k.as_deref()
                        .map(for_terminal)
                        .unwrap_or_else(|| "(not coded yet)".into()),
                    f,
                )
            }),
        );
    }
    Ok(())
}

fn print_table<'a>(by: &str, rows: impl Iterator<Item = (String, &'a Figures)>) {
    println!();
    println!(
        "{by:<28} {:>5}  {:>16}  {:>14}  {:>16}  {:>14}  {:>20}",
        "cases",
        "ack median (n)",
        "ack in SLA (n)",
        "resolve med. (n)",
        "res. in SLA (n)",
        "open <1d/1-7d/>7d (n)"
    );
    for (name, f) in rows {
        let [a, b, c] = f.open_by_age;
        println!(
            "{:<28} {:>5}  {:>16}  {:>14}  {:>16}  {:>14}  {:>20}",
            excerpt(&name, 28),
            f.cases,
            f.acknowledge.median_text(),
            f.acknowledge.share_text(),
            f.resolve.median_text(),
            f.resolve.share_text(),
            format!("{a}/{b}/{c} ({})", a + b + c),
        );
    }
}

fn excerpt(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(chars - 1).collect::<String>())
    }
}

/// The CSV columns of `pds cases export`.
const COLUMNS: [&str; 17] = [
    "case",
    "reference",
    "survey",
    "team",
    "area",
    "rank",
    "of",
    "status",
    "opened_at",
    "acknowledged_at",
    "closed_at",
    "hours_to_acknowledge",
    "hours_to_close",
    "answer_locale",
    "answered_on",
    "customer_may_be_contacted",
    "text",
];

pub fn export(db: &Database, survey: Option<&str>, output: Option<&PathBuf>) -> Result<()> {
    let sink: Box<dyn Write> = match output {
        Some(path) => Box::new(std::fs::File::create(path).map_err(|e| Error::io(path, e))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut csv = csv::Writer::from_writer(sink);
    let failed = |e: csv::Error| Error::Invalid(format!("writing the CSV: {e}"));
    csv.write_record(COLUMNS).map_err(failed)?;
    let mut rows = 0;
    for survey in surveys(&mut *db.conn()?, survey)? {
        for case in case_team::load(&mut *db.conn()?, survey.id, &[], None)? {
            csv.write_record(row(&survey.slug, &case)).map_err(failed)?;
            rows += 1;
        }
    }
    csv.flush()
        .map_err(|e| Error::Invalid(format!("writing the CSV: {e}")))?;
    if let Some(path) = output {
        println!("Wrote {rows} cases to {}.", path.display());
    }
    Ok(())
}

fn row(survey: &str, c: &TeamCase) -> Vec<String> {
    let stamp = |t: Option<chrono::NaiveDateTime>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    };
    let acked = ["acknowledged", "resolved", "declined"]
        .iter()
        .filter_map(|a| c.first(a))
        .min();
    let closed = ["resolved", "declined"]
        .iter()
        .filter_map(|a| c.first(a))
        .min();
    let hours = |t: Option<chrono::NaiveDateTime>| {
        t.map(|t| format!("{:.2}", (t - c.created_at).num_seconds() as f64 / 3600.0))
            .unwrap_or_default()
    };
    [
        c.id.to_string(),
        c.reference.clone().unwrap_or_default(),
        survey.to_string(),
        c.team.clone(),
        c.area.clone().unwrap_or_default(),
        c.rank.to_string(),
        c.of.to_string(),
        c.status.as_str().to_string(),
        stamp(Some(c.created_at)),
        stamp(acked),
        stamp(closed),
        hours(acked),
        hours(closed),
        c.answer_locale.clone(),
        c.answered_at.format("%Y-%m-%d").to_string(),
        if c.customer.is_some() { "yes" } else { "no" }.to_string(),
        c.text.clone(),
    ]
    .into_iter()
    .map(|cell| for_spreadsheet(&cell))
    .collect()
}
