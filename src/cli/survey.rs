//! `pds survey create|check|list`.

use std::path::PathBuf;

use clap::Subcommand;

use crate::config::Settings;
use crate::error::Result;
use crate::setup;
use crate::survey::{store, SurveySlug};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a survey folder and store it under a new slug.
    Create {
        /// The survey folder, e.g. survey-templates/discovery.
        #[arg(long, value_name = "DIR")]
        template: PathBuf,
        /// Short name used in commands, e.g. acme-2026.
        #[arg(long)]
        slug: String,
    },
    /// Validate a survey folder without storing anything.
    Check {
        #[arg(long, value_name = "DIR")]
        template: PathBuf,
    },
    /// List stored surveys.
    List,
}

pub fn run(cmd: Command, settings: &Settings) -> Result<()> {
    match cmd {
        Command::Create { template, slug } => {
            let slug: SurveySlug = slug.parse()?;
            let checked = setup::check_folder(&template)?;
            if let Some(routing) = &checked.routing {
                crate::route::check_webhook_addresses(routing, settings)?;
            }
            let db = super::open_db(settings)?;
            let stored = setup::create(&db, &slug, &checked)?;
            let survey = &checked.survey;
            let asks = match &checked.checklist {
                Some(checklist) => format!(
                    "a checklist of {} items and up to {} other problems per respondent",
                    checklist.items.len(),
                    checked.survey.max_problems
                ),
                None => format!(
                    "up to {} problems per respondent",
                    checked.survey.max_problems
                ),
            };
            println!(
                "Created survey {} ({}), locales {}, {}{}{}.",
                stored.slug,
                survey.title(),
                survey
                    .locales
                    .iter()
                    .map(|l| l.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                asks,
                survey
                    .closes
                    .map(|d| format!(", closes {d}"))
                    .unwrap_or_default(),
                if survey.anonymous {
                    ", anonymous (answers are unlinked from contacts once routed)"
                } else {
                    ""
                },
            );
            println!(
                "Next: pds contacts import FILE.csv, then pds invite --survey {} --wave LABEL",
                stored.slug
            );
            Ok(())
        }
        Command::Check { template } => {
            let checked = setup::check_folder(&template)?;
            let items = match &checked.checklist {
                Some(checklist) => format!(", a checklist of {} items", checklist.items.len()),
                None => String::new(),
            };
            println!(
                "{} is a valid survey folder ({}{items}).",
                template.display(),
                checked.survey.title()
            );
            Ok(())
        }
        Command::List => {
            let db = super::open_db(settings)?;
            let surveys = store::list(&mut *db.conn()?)?;
            if surveys.is_empty() {
                println!("No surveys yet. Create one with: pds survey create --template survey-templates/discovery --slug NAME");
            }
            for (slug, title, created) in surveys {
                println!(
                    "{slug:<24} {title}  (created {})",
                    created.format("%Y-%m-%d %H:%M")
                );
            }
            Ok(())
        }
    }
}
