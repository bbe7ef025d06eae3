//! `pds route show|set|test`: a survey's routing rules.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Subcommand;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::invite::SegmentFilter;
use crate::route::{self, Facts, Routing};
use crate::survey::{store, SurveySlug};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the survey's routing rules.
    Show {
        #[arg(long)]
        survey: String,
    },
    /// Replace the survey's routing rules with a routing.toml (validated first).
    Set {
        #[arg(long)]
        survey: String,
        file: PathBuf,
    },
    /// Dry run: which rule fires for a complaint, and why. Sends nothing.
    Test {
        #[arg(long)]
        survey: String,
        /// The complaint, as a customer might write it.
        #[arg(long)]
        text: String,
        /// Its rank (1 = most important to the customer).
        #[arg(long, default_value_t = 1)]
        rank: u32,
        /// Segment values of the customer, e.g. --segment customer_type=current.
        #[arg(long, value_name = "KEY=VALUE")]
        segment: Vec<String>,
    },
}

pub fn run(cmd: Command, settings: &Settings) -> Result<()> {
    let db = super::open_db(settings)?;
    match cmd {
        Command::Show { survey } => {
            let survey = store::find(&mut *db.conn()?, &survey.parse::<SurveySlug>()?)?;
            match route::load(&mut *db.conn()?, survey.id)? {
                Some(r) => print!("{}", r.source),
                None => println!(
                    "Survey {} has no routing rules; add them with pds route set.",
                    survey.slug
                ),
            }
        }
        Command::Set { survey, file } => {
            let survey = store::find(&mut *db.conn()?, &survey.parse::<SurveySlug>()?)?;
            let source = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
            let routing = Routing::parse(&source, &file.display().to_string())
                .map_err(|e| Error::Invalid(e.to_string()))?;
            route::check_webhook_addresses(&routing, settings)?;
            db.write(|conn| route::save(conn, survey.id, &routing))?;
            println!(
                "Survey {} now routes with {} rules to {} teams; new answers use them.",
                survey.slug,
                routing.rules.len(),
                routing.teams.len()
            );
        }
        Command::Test {
            survey,
            text,
            rank,
            segment,
        } => {
            let survey = store::find(&mut *db.conn()?, &survey.parse::<SurveySlug>()?)?;
            let Some(routing) = route::load(&mut *db.conn()?, survey.id)? else {
                println!(
                    "Survey {} has no routing rules: nothing would be routed.",
                    survey.slug
                );
                return Ok(());
            };
            let mut segments = BTreeMap::new();
            for s in &segment {
                let f: SegmentFilter = s.parse()?;
                segments.insert(f.key, f.value);
            }
            let fired = routing.route(&Facts {
                text: &text,
                rank,
                area: None,
                segments: &segments,
            });
            if fired.is_empty() {
                println!("No rule fires: this complaint would not be routed.");
            }
            for f in fired {
                let teams: Vec<String> = f
                    .teams
                    .iter()
                    .map(|t| match routing.teams.get(t) {
                        Some(team) => format!("{} <{}>", team.name, team.emails.join(", ")),
                        None => t.clone(),
                    })
                    .collect();
                println!(
                    "Rule {:?} fires ({}) -> {}",
                    f.rule,
                    f.why,
                    teams.join("; ")
                );
            }
        }
    }
    Ok(())
}
