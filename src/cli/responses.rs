//! `pds responses import --survey SLUG FILE.csv [--skip-invalid]`: answers collected
//! elsewhere (phone, paper, another tool): one row per mention for a discovery
//! survey, one row per item answered or problem written in for a checklist survey
//! (`checklist::import`), so that one command imports into any survey.

use std::path::PathBuf;

use clap::Subcommand;

use crate::answer::import;
use crate::config::Settings;
use crate::db::Database;
use crate::error::{Error, Result};
use crate::survey::{store, SurveyKind, SurveySlug};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import responses from CSV. A discovery survey: columns
    /// respondent,wave,segment,rank,problem and optionally area, one row per
    /// mention. A checklist survey: respondent,wave,item,experienced and optionally
    /// segment,audience,bother,solved_elsewhere,rank,problem, one row per item or
    /// other problem. Re-importing a respondent replaces their answer in that wave.
    Import {
        #[arg(long)]
        survey: String,
        file: PathBuf,
        /// Import the respondents without errors even if some rows are invalid
        /// (every respondent with a bad row is left out, and the rows are listed).
        #[arg(long)]
        skip_invalid: bool,
    },
}

pub fn run(cmd: Command, settings: &Settings) -> Result<()> {
    match cmd {
        Command::Import {
            survey,
            file,
            skip_invalid,
        } => {
            let slug: SurveySlug = survey.parse()?;
            let reader = std::fs::File::open(&file).map_err(|e| Error::io(&file, e))?;
            // One connection: a large import may then write its rows once (`write_bulk`).
            let db = Database::open_alone(&settings.database_url)?;
            let survey = store::find(&mut *db.conn()?, &slug)?;
            let name = file.display().to_string();
            let report = match survey.survey.kind {
                SurveyKind::Checklist => {
                    crate::checklist::import::import(&db, &survey, reader, &name, skip_invalid)?
                }
                SurveyKind::Discovery => {
                    let bar = super::progress("respondents");
                    let report = import::import(&db, &survey, reader, &name, skip_invalid, &bar)?;
                    bar.finish_and_clear();
                    report
                }
            };
            for line in &report.errors {
                eprintln!("skipped {line}");
            }
            println!(
                "Imported {} new and replaced {} earlier respondents ({} mentions{}) into survey {} from {}{}.",
                report.inserted,
                report.replaced,
                report.mentions,
                if survey.survey.kind == SurveyKind::Checklist {
                    " written in"
                } else {
                    ""
                },
                survey.slug,
                file.display(),
                if report.skipped_respondents == 0 {
                    String::new()
                } else {
                    format!(
                        "; left out {} respondents with invalid rows",
                        report.skipped_respondents
                    )
                }
            );
            Ok(())
        }
    }
}
