//! `pds results --survey SLUG [--wave W] [--by ATTRIBUTE] [--compare-wave W2]
//! [--bootstrap B] [--seed S] [--top K] [--worth] [--format table|csv|json] [--output FILE]`.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::report::{self, Format, Options, ViewError};
use crate::stats::{self, BootstrapOptions};
use crate::survey::{store, SurveyKind, SurveySlug, WaveLabel};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    survey: String,
    /// Only this wave (default: all waves together).
    #[arg(long)]
    wave: Option<String>,
    /// Compare segments by this respondent attribute (a contacts segment column,
    /// or `segment` for imported responses).
    #[arg(long, value_name = "ATTRIBUTE")]
    by: Option<String>,
    /// Compare --wave with this earlier wave.
    #[arg(long, value_name = "WAVE")]
    compare_wave: Option<String>,
    /// Bootstrap replicates for rank stability.
    #[arg(long, value_name = "B", default_value_t = stats::DEFAULT_REPLICATES,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    bootstrap: u32,
    /// Seed of the bootstrap; the same data and seed give the same output.
    #[arg(long, default_value_t = stats::DEFAULT_SEED)]
    seed: u64,
    /// k of P(top k).
    #[arg(long, value_name = "K", default_value_t = stats::DEFAULT_TOP_K as u64,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    top: u64,
    /// Also fit Plackett-Luce worths (worth-pl-v1).
    #[arg(long)]
    worth: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write to this file instead of the terminal.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let slug: SurveySlug = args.survey.parse()?;
    let parse_wave = |w: &Option<String>| -> Result<Option<WaveLabel>> {
        Ok(w.as_deref().map(str::parse).transpose()?)
    };
    let options = Options {
        wave: parse_wave(&args.wave)?,
        by: args.by.map(|b| b.trim().to_string()),
        compare_wave: parse_wave(&args.compare_wave)?,
        bootstrap: BootstrapOptions {
            replicates: args.bootstrap,
            seed: args.seed,
            top_k: args.top as usize,
        },
        worth: args.worth,
    };
    let db = super::open_db(settings)?;
    let mut conn = db.conn()?;
    let survey = store::find(&mut conn, &slug)?;
    let bar = super::progress("bootstrap");
    let progress = |p: stats::Progress| {
        bar.set_length(u64::from(p.total));
        bar.set_position(u64::from(p.done));
        ControlFlow::Continue(())
    };
    let results = if survey.survey.kind == SurveyKind::Checklist {
        crate::checklist::results::compute(&mut conn, &survey, &options, &progress)
            .map(Computed::Checklist)
    } else {
        report::compute_beside(db.url(), &mut conn, &survey, &options, &progress)
            .map(Computed::Discovery)
    };
    bar.finish_and_clear();
    let results = results.map_err(in_flags)?;
    match &args.output {
        Some(path) => {
            let mut file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
            let rows = results.write(args.format, &mut file)?;
            file.flush().map_err(|e| Error::io(path, e))?;
            println!("Wrote {rows} to {}.", path.display());
        }
        None => {
            results.write(args.format, &mut std::io::stdout().lock())?;
        }
    }
    Ok(())
}

/// The results of either kind of survey.
enum Computed {
    Discovery(report::Results),
    Checklist(report::checklist::ChecklistResults),
}

impl Computed {
    /// Writes the results; says what was written ("4 areas").
    fn write(&self, format: Format, out: &mut dyn Write) -> Result<String> {
        match self {
            Computed::Discovery(r) => {
                report::write(r, format, out)?;
                Ok(format!("{} areas", r.areas.len()))
            }
            Computed::Checklist(r) => {
                report::checklist::write(r, format, out)?;
                Ok(format!("{} checklist items", r.items.len()))
            }
        }
    }
}

/// A view that cannot be computed, said with the command's own flags.
fn in_flags(e: Error) -> Error {
    match e {
        Error::View(ViewError::CompareWithoutWave) => Error::Invalid(
            "--compare-wave needs --wave: name the wave to compare the earlier one with".into(),
        ),
        Error::View(ViewError::CompareWithItself(label)) => Error::Invalid(format!(
            "--compare-wave {label} is the same wave as --wave; name another wave"
        )),
        Error::View(ViewError::UnknownAttribute { attribute, known }) => Error::Invalid(format!(
            "--by {attribute}: no respondent in scope has a value for {attribute:?}; known attributes: {known}"
        )),
        other => other,
    }
}
