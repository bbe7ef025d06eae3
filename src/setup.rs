//! A survey folder as a whole: the survey itself (`survey.toml` and templates,
//! the survey room's), its routing rules (`routing.toml`, the route room's), its
//! codebook (`codebook.toml`, the coding room's) and a checklist survey's items
//! (`checklist.toml`, the checklist room's), checked together and created in one
//! transaction. It stands above those rooms, so none of them needs to reach the
//! others.

use std::path::Path;

use crate::checklist::Checklist;
use crate::coding::store::{save_codebook, SurveyCodebook};
use crate::db::Database;
use crate::error::Result;
use crate::route::{self, Routing};
use crate::survey::{store, StoredSurvey, Survey, SurveyError, SurveySlug, CHECKLIST_FILE};

/// A survey folder that passed every check, with its optional rules parsed.
#[derive(Debug)]
pub struct CheckedSurvey {
    pub survey: Survey,
    pub routing: Option<Routing>,
    pub codebook: Option<SurveyCodebook>,
    /// The items of a checklist survey (the survey room made sure a checklist
    /// survey has the file and a discovery survey has none).
    pub checklist: Option<Checklist>,
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

/// Parses the routing rules, codebook and checklist that came with `survey`.
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
    let checklist = match survey.file(CHECKLIST_FILE) {
        Some(text) => match Checklist::parse(CHECKLIST_FILE, text, &survey.locales) {
            Ok(c) => Some(c),
            Err(e) => {
                problems.extend(e.lines());
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
        checklist,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::SurveyKind;

    #[test]
    fn the_shipped_checklist_survey_is_checked_with_its_items() {
        let checked = shipped("checklist").expect("shipped checklist validates");
        assert_eq!(checked.survey.kind, SurveyKind::Checklist);
        let checklist = checked.checklist.expect("its items are parsed");
        assert!(checklist.items.len() >= 3);
        assert!(shipped("discovery").unwrap().checklist.is_none());
    }

    #[test]
    fn a_broken_checklist_is_reported_with_its_file_and_line() {
        let mut files = Survey::shipped("checklist").unwrap().files().clone();
        let text =
            files[CHECKLIST_FILE].replace("id = \"damaged-goods\"", "id = \"late-delivery\"");
        files.insert(CHECKLIST_FILE.into(), text);
        let survey = Survey::from_files("x", files).expect("the survey room keeps it as text");
        let err = check("x", survey).unwrap_err().to_string();
        assert!(
            err.contains("checklist.toml line 15: item id \"late-delivery\" is used twice"),
            "{err}"
        );
    }

    #[test]
    fn a_checklist_survey_needs_its_checklist_and_a_discovery_survey_has_none() {
        let mut files = Survey::shipped("checklist").unwrap().files().clone();
        files.remove(CHECKLIST_FILE);
        let err = Survey::from_files("x", files).unwrap_err().to_string();
        assert!(err.contains("checklist.toml: missing"), "{err}");

        let mut files = Survey::shipped("discovery").unwrap().files().clone();
        files.insert(CHECKLIST_FILE.into(), "[[item]]\n".into());
        let err = Survey::from_files("x", files).unwrap_err().to_string();
        assert!(err.contains("only a checklist survey has one"), "{err}");
    }
}
