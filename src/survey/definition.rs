//! `survey.toml` as written, and the checks of its values that need no other
//! file of the folder: locales, the default locale, limits, the closing day, the
//! cadence and each locale's wording.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{trust, Cadence, Locale, SurveyKind};

/// `survey.toml` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SurveyToml {
    pub(super) survey: SurveySection,
    locale: BTreeMap<String, LocaleWording>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SurveySection {
    #[serde(default)]
    pub(super) kind: SurveyKind,
    pub(super) default_locale: String,
    pub(super) locales: Vec<String>,
    #[serde(default = "default_max_problems")]
    pub(super) max_problems: u32,
    #[serde(default)]
    pub(super) ask_frequency: bool,
    #[serde(default)]
    pub(super) ask_consent: bool,
    #[serde(default)]
    pub(super) anonymous: bool,
    pub(super) closes: Option<String>,
    pub(super) cadence: Option<String>,
    #[serde(default)]
    pub(super) followup_review: bool,
    /// Where customers' replies to survey emails go (docs/TEMPLATES.md, "Trust").
    pub(super) reply_to: Option<String>,
    /// The organisation's privacy notice, linked from every customer page and email.
    pub(super) privacy_url: Option<String>,
}

fn default_max_problems() -> u32 {
    5
}

/// The words of a survey in one language.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocaleWording {
    pub title: String,
    pub question: String,
    pub organisation: String,
    /// The From display name of customer emails; the organisation when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// How to reach a person about the survey, shown in every customer email and page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

/// The most problems a survey may let one respondent list.
pub const MAX_PROBLEMS_LIMIT: u32 = 10;

/// The values of `survey.toml` that passed their checks.
pub(super) struct Checked {
    pub locales: Vec<Locale>,
    /// `None` when it was wrong (a problem says so).
    pub default_locale: Option<Locale>,
    pub closes: Option<NaiveDate>,
    pub cadence: Option<Cadence>,
    pub wording: BTreeMap<Locale, LocaleWording>,
}

impl SurveyToml {
    /// Reads `survey.toml` from the survey's files; the problem when it is missing
    /// or not valid TOML of this shape.
    pub(super) fn parse(files: &BTreeMap<String, String>) -> Result<SurveyToml, String> {
        let text = files
            .get("survey.toml")
            .ok_or_else(|| "survey.toml: not found".to_string())?;
        toml::from_str(text).map_err(|e| format!("survey.toml: {}", e.to_string().trim_end()))
    }

    /// Checks every value, adding what is wrong to `problems`.
    pub(super) fn check(&self, problems: &mut Vec<String>) -> Checked {
        let locales = self.locales(problems);
        let default_locale = self.default_locale(&locales, problems);
        self.check_max_problems(problems);
        let closes = self.closes(problems);
        let cadence = self.survey.cadence.as_deref().and_then(|text| {
            Cadence::parse(text)
                .map_err(|e| problems.push(format!("survey.toml: {e}")))
                .ok()
        });
        let wording = self.wording(&locales, problems);
        Checked {
            locales,
            default_locale,
            closes,
            cadence,
            wording,
        }
    }

    fn locales(&self, problems: &mut Vec<String>) -> Vec<Locale> {
        let mut locales = Vec::new();
        for name in &self.survey.locales {
            match name.parse::<Locale>() {
                Ok(l) if !locales.contains(&l) => locales.push(l),
                Ok(_) => problems.push(format!("survey.toml: locale {name:?} is listed twice")),
                Err(e) => problems.push(format!("survey.toml: locales: {e}")),
            }
        }
        if self.survey.locales.is_empty() {
            problems.push("survey.toml: locales is empty; list at least one, e.g. [\"en\"]".into());
        }
        locales
    }

    fn default_locale(&self, locales: &[Locale], problems: &mut Vec<String>) -> Option<Locale> {
        match self.survey.default_locale.parse::<Locale>() {
            Ok(l) if locales.contains(&l) || locales.is_empty() => Some(l),
            Ok(l) => {
                problems.push(format!("survey.toml: default_locale {l} is not in locales"));
                None
            }
            Err(e) => {
                problems.push(format!("survey.toml: default_locale: {e}"));
                None
            }
        }
    }

    fn check_max_problems(&self, problems: &mut Vec<String>) {
        let max_problems = self.survey.max_problems;
        if !(1..=MAX_PROBLEMS_LIMIT).contains(&max_problems) {
            problems.push(format!(
                "survey.toml: max_problems is {max_problems}; it must be from 1 to {MAX_PROBLEMS_LIMIT}"
            ));
        }
    }

    fn closes(&self, problems: &mut Vec<String>) -> Option<NaiveDate> {
        let text = self.survey.closes.as_ref()?;
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| {
                problems.push(format!(
                    "survey.toml: closes {text:?} is not a date such as 2027-06-30"
                ))
            })
            .ok()
    }

    /// Each listed locale's wording, checked; a `[locale.X]` table for a locale not
    /// listed is a problem too.
    fn wording(
        &self,
        locales: &[Locale],
        problems: &mut Vec<String>,
    ) -> BTreeMap<Locale, LocaleWording> {
        let mut wording = BTreeMap::new();
        for locale in locales {
            let Some(w) = self.locale.get(locale.as_str()) else {
                problems.push(format!(
                    "survey.toml: [locale.{locale}] is missing (title, question, organisation)"
                ));
                continue;
            };
            for (field, value) in [
                ("title", &w.title),
                ("question", &w.question),
                ("organisation", &w.organisation),
            ] {
                if value.trim().is_empty() {
                    problems.push(format!("survey.toml: [locale.{locale}] {field} is empty"));
                }
            }
            trust::check_wording(*locale, w, problems);
            wording.insert(*locale, w.clone());
        }
        for key in self.locale.keys() {
            if !locales.iter().any(|l| l.as_str() == key) {
                problems.push(format!(
                    "survey.toml: [locale.{key}] is not listed in locales"
                ));
            }
        }
        wording
    }
}
