//! Survey definitions: a folder in `survey-templates/` with a `survey.toml` and
//! Handlebars templates per locale (see `docs/TEMPLATES.md`). This room parses and
//! validates them, renders every email and page, and stores surveys and waves.
//! It does not decide who is invited or what an answer means.

pub mod cadence;
mod definition;
pub(crate) mod error;
mod folder;
mod includes;
mod locale;
mod names;
mod render_check;
pub mod store;
pub mod summary;
mod templates;
pub mod trust;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use chrono::NaiveDate;

use definition::SurveyToml;

pub use cadence::Cadence;
pub use definition::{LocaleWording, MAX_PROBLEMS_LIMIT};
pub use error::SurveyError;
use folder::{collect_embedded, collect_files, OPTIONAL_EMAILS};
pub use folder::{
    ANNOUNCEMENT_FILES, CHECKLIST_MESSAGE_KEYS, FOLLOWUP_FILES, LOCALE_FILES, MAX_FILE_BYTES,
    MAX_FOLDER_DEPTH, MAX_FOLDER_ENTRIES, MAX_SURVEY_BYTES, MESSAGE_KEYS,
};
pub use locale::{Locale, UnknownLocale};
pub use names::{SurveyKind, SurveySlug, WaveLabel};
pub use store::{StoredSurvey, Wave};
pub use templates::{site_page, static_file, Rendered, SiteTemplates};

/// The survey folder shipped with the engine, embedded so `pds demo` runs anywhere.
pub static SHIPPED_TEMPLATES: include_dir::Dir<'_> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/survey-templates");

/// A validated survey: settings, wording and compiled templates.
pub struct Survey {
    pub kind: SurveyKind,
    pub default_locale: Locale,
    pub locales: Vec<Locale>,
    /// M in docs/METHOD.md: how many problems one respondent may list.
    pub max_problems: u32,
    pub ask_frequency: bool,
    pub ask_consent: bool,
    /// Answers keep no link to the contact once they are stored and routed: the
    /// response has no invitation or contact, the invitation records only the day
    /// it was opened and answered, and a link answers once (it cannot reopen an
    /// answer that is no longer linked to it).
    pub anonymous: bool,
    /// The last day answers are accepted (until its end, UTC).
    pub closes: Option<NaiveDate>,
    /// A continuous survey invites each contact again this long after their last
    /// invitation to it (`pds invite --cadence-run`, the worker in `pds serve`).
    pub cadence: Option<Cadence>,
    /// A resolved case's follow-up waits for an analyst's review before it is sent.
    pub followup_review: bool,
    pub wording: BTreeMap<Locale, LocaleWording>,
    /// Who customers hear from and how they reach a person (docs/TEMPLATES.md).
    pub trust: trust::Trust,
    templates: templates::SurveyTemplates,
    /// The files it was made from, relative path -> text; stored with the survey.
    files: BTreeMap<String, String>,
}

impl fmt::Debug for Survey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Survey")
            .field("kind", &self.kind)
            .field("locales", &self.locales)
            .field("max_problems", &self.max_problems)
            .field("closes", &self.closes)
            .finish_non_exhaustive()
    }
}

impl Survey {
    /// Reads and validates a survey folder on disk.
    pub fn from_folder(folder: &Path) -> Result<Survey, SurveyError> {
        let name = folder.display().to_string();
        let invalid = |problems| SurveyError::Invalid {
            folder: name.clone(),
            problems,
        };
        if !folder.join("survey.toml").is_file() {
            return Err(invalid(vec![format!(
                "survey.toml: not found (a survey folder holds survey.toml and one folder per locale)"
            )]));
        }
        let mut files = BTreeMap::new();
        let mut problems = Vec::new();
        collect_files(folder, &mut files, &mut problems);
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        Survey::from_files(&name, files)
    }

    /// The survey shipped in the binary under `survey-templates/NAME`.
    pub fn shipped(name: &str) -> Result<Survey, SurveyError> {
        let dir = SHIPPED_TEMPLATES
            .get_dir(name)
            .ok_or_else(|| SurveyError::Invalid {
                folder: format!("survey-templates/{name}"),
                problems: vec!["not shipped with this build".into()],
            })?;
        let mut files = BTreeMap::new();
        collect_embedded(dir, name, &mut files);
        Survey::from_files(&format!("survey-templates/{name}"), files)
    }

    /// Validates a set of files (relative path -> text): the single path every
    /// survey takes, from a folder, from the binary or from the database.
    pub fn from_files(
        folder: &str,
        files: BTreeMap<String, String>,
    ) -> Result<Survey, SurveyError> {
        let invalid = |problems| SurveyError::Invalid {
            folder: folder.to_string(),
            problems,
        };
        let parsed = SurveyToml::parse(&files).map_err(|problem| invalid(vec![problem]))?;
        let mut problems = Vec::new();
        let checked = parsed.check(&mut problems);
        let kind = parsed.survey.kind;
        folder::check_files(&checked.locales, kind, &files, &mut problems);
        let trust = trust::Trust::parse(
            parsed.survey.reply_to.as_deref(),
            parsed.survey.privacy_url.as_deref(),
            &mut problems,
        );
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        let templates = templates::SurveyTemplates::compile(
            &checked.locales,
            &files,
            &kind.message_keys(),
            &mut problems,
        );
        let survey = Survey {
            kind,
            default_locale: checked.default_locale.unwrap_or(Locale::En),
            locales: checked.locales,
            max_problems: parsed.survey.max_problems,
            ask_frequency: parsed.survey.ask_frequency,
            ask_consent: parsed.survey.ask_consent,
            anonymous: parsed.survey.anonymous,
            closes: checked.closes,
            cadence: checked.cadence,
            followup_review: parsed.survey.followup_review,
            wording: checked.wording,
            trust,
            templates,
            files,
        };
        if problems.is_empty() {
            survey.check_renders(&mut problems);
        }
        if problems.is_empty() {
            Ok(survey)
        } else {
            Err(invalid(problems))
        }
    }

    /// The locale to speak to someone who prefers `wanted`.
    pub fn locale_for(&self, wanted: Locale) -> Locale {
        if self.locales.contains(&wanted) {
            wanted
        } else {
            self.default_locale
        }
    }

    /// Whether the survey has templates for the email `name` in `locale` (the
    /// optional ones, follow-up and announcement, may be absent).
    pub fn has_email(&self, locale: Locale, name: &str) -> bool {
        !OPTIONAL_EMAILS.iter().any(|(n, _, _)| *n == name)
            || self.files.contains_key(&format!("{locale}/{name}.txt.hbs"))
    }

    /// The survey's title in its default language.
    pub fn title(&self) -> &str {
        &self.wording[&self.default_locale].title
    }

    pub fn files(&self) -> &BTreeMap<String, String> {
        &self.files
    }

    /// Whether answers are still accepted at `now` (UTC).
    pub fn is_open_at(&self, now: chrono::NaiveDateTime) -> bool {
        self.closes_at().is_none_or(|closes| now < closes)
    }

    /// The first moment answers are no longer accepted.
    pub fn closes_at(&self) -> Option<chrono::NaiveDateTime> {
        self.closes
            .and_then(|d| d.succ_opt())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    }

    /// Variables every template of this survey sees (docs/TEMPLATES.md).
    pub fn common_context(&self, locale: Locale) -> serde_json::Value {
        let locale = self.locale_for(locale);
        let w = &self.wording[&locale];
        serde_json::json!({
            "lang": locale.as_str(),
            "survey": {
                "title": w.title,
                "question": w.question,
                "organisation": w.organisation,
                "max_problems": self.max_problems,
                "ask_frequency": self.ask_frequency,
                "ask_consent": self.ask_consent,
                "anonymous": self.anonymous,
                "closes": self.closes.map(|d| d.to_string()),
                "kind": self.kind.as_str(),
                "sender": self.sender(locale),
                "reply_to": self.trust.reply_to.as_ref().map(ToString::to_string),
                "privacy_url": self.trust.privacy_url.as_ref().map(ToString::to_string),
                "contact": w.contact,
            }
        })
    }

    /// Renders one of the survey's emails (`invitation`, `reminder`, `complaint`) in
    /// `locale`, with `extra` merged over the common variables.
    pub fn render_email(
        &self,
        locale: Locale,
        kind: &str,
        extra: serde_json::Value,
    ) -> Result<Rendered, crate::Error> {
        let (locale, ctx) = self.context_with(locale, extra);
        let mut rendered = self.templates.render_email(locale, kind, &ctx)?;
        // A team's email is not from the survey to a customer: the route room
        // decides who it comes from and where replies go.
        if kind != "complaint" {
            rendered.sender = Some(self.sender(locale).to_string());
            rendered.reply_to = self.trust.reply_to.clone();
        }
        Ok(rendered)
    }

    /// The name customers in `locale` see as the sender of survey emails.
    pub fn sender(&self, locale: Locale) -> &str {
        let w = &self.wording[&self.locale_for(locale)];
        w.sender.as_deref().unwrap_or(&w.organisation)
    }

    /// Renders the invitation (or, with `reminder_number`, a reminder) for one contact.
    pub fn render_invitation(
        &self,
        to: &Addressee<'_>,
        reminder_number: Option<u32>,
    ) -> Result<Rendered, crate::Error> {
        let mut extra = serde_json::json!({
            "contact": {"name": to.name, "email": to.email},
            "link": to.link,
            "wave": to.wave,
            "unsubscribe_link": to.unsubscribe_link,
            "staff": to.audience == crate::audience::STAFF,
        });
        match reminder_number {
            None => self.render_email(to.locale, "invitation", extra),
            Some(n) => {
                merge(&mut extra, serde_json::json!({"reminder_number": n}));
                self.render_email(to.locale, "reminder", extra)
            }
        }
    }

    /// Renders one of the survey's pages (`form`, `thanks`, `closed`) with `extra`
    /// merged over the common variables.
    pub fn render_page(
        &self,
        locale: Locale,
        page: &str,
        extra: serde_json::Value,
    ) -> Result<String, crate::Error> {
        let (locale, ctx) = self.context_with(locale, extra);
        self.templates.render_html(locale, page, &ctx)
    }

    /// The locale the survey speaks for `locale`, and the common variables in it
    /// with `extra` merged over them.
    fn context_with(
        &self,
        locale: Locale,
        extra: serde_json::Value,
    ) -> (Locale, serde_json::Value) {
        let locale = self.locale_for(locale);
        let mut ctx = self.common_context(locale);
        merge(&mut ctx, extra);
        (locale, ctx)
    }

    /// A validation message from `messages.toml`, with its variables filled in.
    pub fn message(&self, locale: Locale, key: &str, vars: serde_json::Value) -> String {
        self.templates.message(self.locale_for(locale), key, &vars)
    }
}

/// How often a problem happens, as the form offers it and stores it (the answer
/// room's `Frequency` spells its values so; a test there holds them together).
pub const FREQUENCIES: [&str; 3] = ["once", "sometimes", "often"];

/// The answers to "have you had this problem?" as the checklist form offers them.
pub const EXPERIENCED: [&str; 3] = ["never", "sometimes", "often"];

/// The answers to "does another supplier already solve this?".
pub const SOLVED_ELSEWHERE: [&str; 3] = ["yes", "no", "dont_know"];

/// The file of a checklist survey that holds its items.
pub const CHECKLIST_FILE: &str = "checklist.toml";

impl Survey {
    /// The text of one of the survey's files (`routing.toml`, `en/form.html.hbs`),
    /// if the folder had it.
    pub fn file(&self, name: &str) -> Option<&str> {
        self.files.get(name).map(String::as_str)
    }
}

/// Who an invitation or reminder is for, and their personal links.
#[derive(Debug, Clone)]
pub struct Addressee<'a> {
    pub locale: Locale,
    pub name: &'a str,
    pub email: &'a str,
    pub link: &'a str,
    pub unsubscribe_link: &'a str,
    pub wave: &'a str,
    /// `customer` or `staff`: templates word a staff invitation with `{{#if staff}}`.
    pub audience: &'a str,
}

/// Shallow-merges the keys of `extra` into `base` (both JSON objects).
pub(crate) fn merge(base: &mut serde_json::Value, extra: serde_json::Value) {
    if let (Some(base), serde_json::Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped discovery survey's files with `changed` written over them.
    fn shipped_with(changed: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut files = Survey::shipped("discovery").unwrap().files().clone();
        for (name, text) in changed {
            files.insert(name.to_string(), text.to_string());
        }
        files
    }

    #[test]
    fn the_shipped_discovery_survey_is_valid() {
        let survey = Survey::shipped("discovery").expect("shipped survey validates");
        assert_eq!(survey.max_problems, 5);
        assert!(survey.locales.contains(&Locale::Sv));
        assert!(survey.locales.contains(&Locale::En));
    }

    #[test]
    fn every_problem_is_reported_with_its_file() {
        let mut files = Survey::shipped("discovery").unwrap().files().clone();
        files.remove("sv/thanks.html.hbs");
        files.insert(
            "en/form.html.hbs".into(),
            "{{#each slots}}{{nonsense.field}}{{/each}}".into(),
        );
        let toml = files["survey.toml"].replace("max_problems = 5", "max_problems = 11");
        files.insert("survey.toml".into(), toml);
        let err = Survey::from_files("x", files).unwrap_err().to_string();
        assert!(err.contains("max_problems is 11"), "{err}");
        assert!(err.contains("sv/thanks.html.hbs: missing"), "{err}");
    }

    #[test]
    fn a_misspelt_variable_is_caught_before_any_email_is_sent() {
        let files = shipped_with(&[("en/invitation.txt.hbs", "Hello {{contact.nmae}}")]);
        let err = Survey::from_files("x", files).unwrap_err().to_string();
        assert!(err.contains("en/invitation.txt.hbs"), "{err}");
    }

    #[test]
    fn a_template_may_include_another_by_its_file_name() {
        let mut files = shipped_with(&[(
            "en/signature.html.hbs",
            "<p class=\"signature\">{{survey.organisation}}</p>",
        )]);
        let thanks = files["en/thanks.html.hbs"].clone() + "{{> en/signature.html.hbs}}";
        files.insert("en/thanks.html.hbs".into(), thanks);
        let survey = Survey::from_files("x", files).expect("valid with a shared partial");
        let page = survey
            .render_page(
                Locale::En,
                "thanks",
                serde_json::json!({"contact": {"name": "A"}, "no_problems": true, "mentions": [], "edit_link": null, "already_answered": false}),
            )
            .unwrap();
        assert!(page.contains("class=\"signature\""), "{page}");
    }

    #[test]
    fn templates_that_include_each_other_are_refused_with_their_names() {
        let files = shipped_with(&[
            ("sv/a.html.hbs", "{{#if x}}{{> sv/b.html.hbs}}{{/if}}"),
            ("sv/b.html.hbs", "{{> sv/a.html.hbs}}"),
        ]);
        let err = Survey::from_files("x", files).unwrap_err().to_string();
        assert!(
            err.contains("sv/a.html.hbs includes sv/b.html.hbs includes sv/a.html.hbs"),
            "{err}"
        );
    }

    #[test]
    fn slugs_are_checked() {
        assert!("acme-2026".parse::<SurveySlug>().is_ok());
        for bad in ["Acme", "", "../x"] {
            assert!(bad.parse::<SurveySlug>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_survey_closes_at_the_end_of_its_closing_day() {
        let survey = Survey::shipped("discovery").unwrap();
        let closes = survey.closes.expect("shipped survey has a closing date");
        let last_minute = closes.and_hms_opt(23, 59, 0).unwrap();
        assert!(survey.is_open_at(last_minute));
        assert!(!survey.is_open_at(last_minute + chrono::Duration::minutes(2)));
    }
}
