//! A survey folder as a whole: the survey itself (`survey.toml` and templates,
//! the survey room's), its routing rules (`routing.toml`, the route room's) and its
//! codebook (`codebook.toml`, the coding room's), checked together and created in
//! one transaction. It stands above those three rooms, so none of them needs to
//! reach the others.

use std::path::Path;

use crate::coding::store::{save_codebook, SurveyCodebook};
use crate::db::Database;
use crate::error::Result;
use crate::route::{self, Routing};
use crate::survey::{store, StoredSurvey, Survey, SurveyError, SurveySlug};

/// A survey folder that passed every check, with its optional rules parsed.
#[derive(Debug)]
pub struct CheckedSurvey {
    pub survey: Survey,
    pub routing: Option<Routing>,
    pub codebook: Option<SurveyCodebook>,
}

/// Reads and checks the survey folder at `folder`: the survey, then its routing
/// rules and codebook. Every problem is reported with its file and line.
pub fn check_folder(folder: &Path) -> Result<CheckedSurvey> {
    check(&folder.display().to_string(), Survey::from_folder(folder)?)
}

/// The survey shipped in the binary under `survey-templates/NAME`, checked.
pub fn shipped(name: &str) -> Result<CheckedSurvey> {
    check(&format!("survey-templates/{name}"), Survey::shipped(name)?)
}

/// Parses the routing rules and codebook that came with `survey`.
pub fn check(folder: &str, survey: Survey) -> Result<CheckedSurvey> {
    let mut problems = Vec::new();
    let routing = match survey.file("routing.toml") {
        Some(text) => match Routing::parse(text, "routing.toml") {
            Ok(r) => Some(r),
            Err(e) => {
                problems.extend(e.problems.iter().map(|p| format!("routing.toml: {p}")));
                None
            }
        },
        None => None,
    };
    let codebook = match survey.file("codebook.toml") {
        Some(text) => match SurveyCodebook::parse(text, "codebook.toml") {
            Ok(c) => Some(c),
            Err(e) => {
                problems.push(e.to_string());
                None
            }
        },
        None => None,
    };
    if !problems.is_empty() {
        return Err(SurveyError::Invalid {
            folder: folder.to_string(),
            problems,
        }
        .into());
    }
    Ok(CheckedSurvey {
        survey,
        routing,
        codebook,
    })
}

/// Stores the checked survey under `slug` with its routing rules and codebook, all
/// or nothing.
pub fn create(db: &Database, slug: &SurveySlug, checked: &CheckedSurvey) -> Result<StoredSurvey> {
    db.write(|conn| {
        let id = store::insert(conn, slug, &checked.survey)?;
        if let Some(routing) = &checked.routing {
            route::save(conn, id, routing)?;
        }
        if let Some(codebook) = &checked.codebook {
            save_codebook(conn, id, codebook)?;
        }
        Ok::<_, crate::error::Error>(())
    })?;
    store::find(&mut *db.conn()?, slug)
}
