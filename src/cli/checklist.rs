//! `pds checklist draft --from SURVEY --out DIR [--top N] [--areas ID,...]`: writes
//! a checklist survey folder drafted from a coded discovery survey's problem areas.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::checklist::draft::{self, Choice};
use crate::config::Settings;
use crate::db::Database;
use crate::error::{Error, Result};
use crate::setup;
use crate::survey::{store, StoredSurvey, Survey, SurveySlug};

/// How many areas a draft takes when neither --top nor --areas says.
const DEFAULT_TOP: u64 = 10;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Draft a checklist survey folder from a coded discovery survey: one item per
    /// problem area, worded from its labels, for you to edit before `pds survey create`.
    Draft {
        /// The discovery survey whose areas become items.
        #[arg(long, value_name = "SURVEY")]
        from: String,
        /// The folder to write; it must not exist yet, or be empty.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Take the first N areas of the discovery ranking (default 10).
        #[arg(long, value_name = "N", conflicts_with = "areas",
              value_parser = clap::value_parser!(u64).range(1..=crate::checklist::MAX_ITEMS as u64))]
        top: Option<u64>,
        /// Take these areas, in this order (ids as `pds areas list` shows them).
        #[arg(long, value_name = "ID,...", value_delimiter = ',')]
        areas: Vec<String>,
    },
}

pub fn run(cmd: Command, settings: &Settings) -> Result<()> {
    match cmd {
        Command::Draft {
            from,
            out,
            top,
            areas,
        } => {
            let choice = if areas.is_empty() {
                Choice::Top(top.unwrap_or(DEFAULT_TOP) as usize)
            } else {
                Choice::Areas(areas)
            };
            refuse_a_used_folder(&out)?;
            let db = super::open_db(settings)?;
            let discovery = store::find(&mut *db.conn()?, &from.parse::<SurveySlug>()?)?;
            let (checked, chosen) = draft_folder(&db, &discovery, &out, &choice)?;
            println!(
                "Wrote {} with a checklist of {} items from the areas of {} (ranked first: {}).",
                out.display(),
                checked.checklist.map(|c| c.items.len()).unwrap_or_default(),
                discovery.slug,
                chosen.join(", ")
            );
            println!(
                "Next: edit {}/checklist.toml (each item one concrete problem), then pds survey create --template {} --slug NAME",
                out.display(),
                out.display()
            );
            Ok(())
        }
    }
}

/// Writes a checklist survey folder at `out` drafted from `discovery`'s areas as
/// `choice` says, and checks it. Returns the checked folder and the areas chosen.
pub(super) fn draft_folder(
    db: &Database,
    discovery: &StoredSurvey,
    out: &Path,
    choice: &Choice,
) -> Result<(setup::CheckedSurvey, Vec<String>)> {
    let ranked = draft::ranked_areas(&mut *db.conn()?, discovery)?;
    let chosen = draft::choose(&ranked, choice)?;
    if chosen.is_empty() {
        return Err(Error::Invalid(format!(
            "survey {} has no problem areas yet; code its answers first (pds code --survey {})",
            discovery.slug, discovery.slug
        )));
    }
    let template = Survey::shipped("checklist")?;
    let files = draft::folder(&template, discovery, &chosen)?;
    write_folder(out, &files)?;
    let checked = setup::check_folder(out)?;
    Ok((checked, chosen.iter().map(|a| a.area.clone()).collect()))
}

/// An analyst's edits are never overwritten: the folder must be new or empty.
fn refuse_a_used_folder(out: &Path) -> Result<()> {
    match std::fs::read_dir(out) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(Error::Invalid(format!(
                "{} already holds files; name a new folder for the draft (nothing was written)",
                out.display()
            ))),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(out, e)),
    }
}

fn write_folder(out: &Path, files: &std::collections::BTreeMap<String, String>) -> Result<()> {
    for (relative, text) in files {
        let path = out.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    }
    Ok(())
}
