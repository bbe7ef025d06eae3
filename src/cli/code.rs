//! `pds code --survey SLUG [--areas N]`: codes every mention an analyst has not
//! decided, with the survey's codebook rules and then automatic grouping, and stores
//! each mention's area with how and when. Safe to run again at any time.

use crate::coding::store::{self, CodingRun};
use crate::coding::GroupingOptions;
use crate::config::Settings;
use crate::db::Database;
use crate::error::Result;
use crate::survey::{store as survey_store, StoredSurvey, SurveySlug};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    survey: String,
    /// Propose at most this many areas (default: the data decide).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    areas: Option<u64>,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let db = super::open_db(settings)?;
    let survey = survey_store::find(&mut *db.conn()?, &args.survey.parse::<SurveySlug>()?)?;
    let options = GroupingOptions {
        areas: args.areas.map(|n| n as usize),
        ..GroupingOptions::default()
    };
    let bar = super::progress("coding");
    let run = code(&db, &survey, &options, &bar);
    bar.finish_and_clear();
    println!("{}", summary(&survey, &run?));
    Ok(())
}

/// Codes a survey, following the storing on `bar`.
pub fn code(
    db: &Database,
    survey: &StoredSurvey,
    options: &GroupingOptions,
    bar: &indicatif::ProgressBar,
) -> Result<CodingRun> {
    store::code_survey(db, survey, options, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
}

/// What a run did, in one sentence and a hint.
pub fn summary(survey: &StoredSurvey, run: &CodingRun) -> String {
    format!(
        "Coded survey {}: {} mentions in {} areas; {} by codebook rules, {} grouped automatically, \
         {} left as analysts decided, {} not placed ({} changed in this run).\n\
         See them with `pds areas list --survey {}`.",
        survey.slug,
        run.mentions,
        run.areas,
        run.by_rule,
        run.automatic,
        run.decided,
        run.uncoded,
        run.changed,
        survey.slug
    )
}
