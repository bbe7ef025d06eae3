//! Survey definitions: a folder in `survey-templates/` with a `survey.toml` and
//! Handlebars templates per locale (see `docs/TEMPLATES.md`). This room parses and
//! validates them, renders every email and page, and stores surveys and waves.
//! It does not decide who is invited or what an answer means.

pub mod cadence;
pub(crate) mod error;
mod includes;
mod locale;
pub mod store;
mod templates;
pub mod trust;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use cadence::Cadence;
pub use error::SurveyError;
pub use locale::{Locale, UnknownLocale};
pub use store::{StoredSurvey, Wave};
pub use templates::{site_page, static_file, Rendered, SiteTemplates};

/// The survey folder shipped with the engine, embedded so `pds demo` runs anywhere.
pub static SHIPPED_TEMPLATES: include_dir::Dir<'_> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/survey-templates");

/// Files every locale folder of a survey must have.
pub const LOCALE_FILES: [&str; 15] = [
    "invitation.subject.hbs",
    "invitation.txt.hbs",
    "invitation.html.hbs",
    "reminder.subject.hbs",
    "reminder.txt.hbs",
    "reminder.html.hbs",
    "complaint.subject.hbs",
    "complaint.txt.hbs",
    "complaint.html.hbs",
    "form.html.hbs",
    "thanks.html.hbs",
    "closed.html.hbs",
    "unsubscribe.html.hbs",
    "unsubscribed.html.hbs",
    "messages.toml",
];

/// The follow-up to a customer whose case was resolved (`cases`): a locale folder
/// has all of these or none (surveys stored before follow-ups existed have none,
/// and their customers get no follow-up).
pub const FOLLOWUP_FILES: [&str; 3] = [
    "followup.subject.hbs",
    "followup.txt.hbs",
    "followup.html.hbs",
];

/// "You said, we did" (`pds areas announce`): a locale folder has all of these or
/// none (a survey without them cannot announce).
pub const ANNOUNCEMENT_FILES: [&str; 3] = [
    "announcement.subject.hbs",
    "announcement.txt.hbs",
    "announcement.html.hbs",
];

/// The emails a survey may do without, each with its files and what to call it.
const OPTIONAL_EMAILS: [(&str, &str, [&str; 3]); 2] = [
    ("followup", "a follow-up", FOLLOWUP_FILES),
    ("announcement", "an announcement", ANNOUNCEMENT_FILES),
];

/// Keys every `messages.toml` must define.
pub const MESSAGE_KEYS: [&str; 7] = [
    "text_too_long",
    "rank_duplicate",
    "rank_missing",
    "too_many",
    "empty_answer",
    "no_problems_and_problems",
    "form_too_large",
];

/// Keys a checklist survey's `messages.toml` must define besides [`MESSAGE_KEYS`].
pub const CHECKLIST_MESSAGE_KEYS: [&str; 5] = [
    "item_unanswered",
    "bother_missing",
    "follow_up_without_problem",
    "draft_item",
    "audience_fixed",
];

/// What a survey asks: customers' own words (discovery, phase 1 of the method) or
/// a checklist of problem statements answered item by item (phase 2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SurveyKind {
    #[default]
    Discovery,
    /// Its items are in `checklist.toml`, which this room keeps as text (the
    /// checklist room parses it).
    Checklist,
}

impl SurveyKind {
    /// The keys its `messages.toml` must define (and the only ones it may).
    pub fn message_keys(self) -> Vec<&'static str> {
        let extra: &[&'static str] = match self {
            SurveyKind::Discovery => &[],
            SurveyKind::Checklist => &CHECKLIST_MESSAGE_KEYS,
        };
        MESSAGE_KEYS.iter().chain(extra).copied().collect()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SurveyKind::Discovery => "discovery",
            SurveyKind::Checklist => "checklist",
        }
    }
}

impl fmt::Display for SurveyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A survey's short name, used in commands and URLs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SurveySlug(String);

impl FromStr for SurveySlug {
    type Err = SurveyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-');
        if ok {
            Ok(SurveySlug(s.to_string()))
        } else {
            Err(SurveyError::BadSlug(s.to_string()))
        }
    }
}

impl SurveySlug {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SurveySlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A wave label such as `2026-H2`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct WaveLabel(String);

impl FromStr for WaveLabel {
    type Err = SurveyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if (1..=64).contains(&t.chars().count()) && !t.chars().any(char::is_control) {
            Ok(WaveLabel(t.to_string()))
        } else {
            Err(SurveyError::BadWave(s.to_string()))
        }
    }
}

impl WaveLabel {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WaveLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `survey.toml` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SurveyToml {
    survey: SurveySection,
    locale: BTreeMap<String, LocaleWording>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SurveySection {
    #[serde(default)]
    kind: SurveyKind,
    default_locale: String,
    locales: Vec<String>,
    #[serde(default = "default_max_problems")]
    max_problems: u32,
    #[serde(default)]
    ask_frequency: bool,
    #[serde(default)]
    ask_consent: bool,
    #[serde(default)]
    anonymous: bool,
    closes: Option<String>,
    cadence: Option<String>,
    #[serde(default)]
    followup_review: bool,
    /// Where customers' replies to survey emails go (docs/TEMPLATES.md, "Trust").
    reply_to: Option<String>,
    /// The organisation's privacy notice, linked from every customer page and email.
    privacy_url: Option<String>,
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
        let toml_text = files
            .get("survey.toml")
            .ok_or_else(|| invalid(vec!["survey.toml: not found".into()]))?;
        let parsed: SurveyToml = toml::from_str(toml_text)
            .map_err(|e| invalid(vec![format!("survey.toml: {}", e.to_string().trim_end())]))?;

        let mut problems = Vec::new();
        let mut locales = Vec::new();
        for name in &parsed.survey.locales {
            match name.parse::<Locale>() {
                Ok(l) if !locales.contains(&l) => locales.push(l),
                Ok(_) => problems.push(format!("survey.toml: locale {name:?} is listed twice")),
                Err(e) => problems.push(format!("survey.toml: locales: {e}")),
            }
        }
        if parsed.survey.locales.is_empty() {
            problems.push("survey.toml: locales is empty; list at least one, e.g. [\"en\"]".into());
        }
        let default_locale = match parsed.survey.default_locale.parse::<Locale>() {
            Ok(l) if locales.contains(&l) || locales.is_empty() => Some(l),
            Ok(l) => {
                problems.push(format!("survey.toml: default_locale {l} is not in locales"));
                None
            }
            Err(e) => {
                problems.push(format!("survey.toml: default_locale: {e}"));
                None
            }
        };
        let max_problems = parsed.survey.max_problems;
        if !(1..=MAX_PROBLEMS_LIMIT).contains(&max_problems) {
            problems.push(format!(
                "survey.toml: max_problems is {max_problems}; it must be from 1 to {MAX_PROBLEMS_LIMIT}"
            ));
        }
        let closes = match &parsed.survey.closes {
            None => None,
            Some(text) => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    problems.push(format!(
                        "survey.toml: closes {text:?} is not a date such as 2027-06-30"
                    ));
                    None
                }
            },
        };
        let cadence = parsed.survey.cadence.as_deref().and_then(|text| {
            Cadence::parse(text)
                .map_err(|e| problems.push(format!("survey.toml: {e}")))
                .ok()
        });
        let mut wording = BTreeMap::new();
        for locale in &locales {
            match parsed.locale.get(locale.as_str()) {
                Some(w) => {
                    for (field, value) in [
                        ("title", &w.title),
                        ("question", &w.question),
                        ("organisation", &w.organisation),
                    ] {
                        if value.trim().is_empty() {
                            problems
                                .push(format!("survey.toml: [locale.{locale}] {field} is empty"));
                        }
                    }
                    trust::check_wording(*locale, w, &mut problems);
                    wording.insert(*locale, w.clone());
                }
                None => problems.push(format!(
                    "survey.toml: [locale.{locale}] is missing (title, question, organisation)"
                )),
            }
        }
        for key in parsed.locale.keys() {
            if !locales.iter().any(|l| l.as_str() == key) {
                problems.push(format!(
                    "survey.toml: [locale.{key}] is not listed in locales"
                ));
            }
        }
        for locale in &locales {
            for file in LOCALE_FILES {
                let path = format!("{locale}/{file}");
                if !files.contains_key(&path) {
                    problems.push(format!("{path}: missing"));
                }
            }
            for (_, what, set) in OPTIONAL_EMAILS {
                let present = set
                    .iter()
                    .filter(|f| files.contains_key(&format!("{locale}/{f}")))
                    .count();
                if present == 0 || present == set.len() {
                    continue;
                }
                for file in set {
                    let path = format!("{locale}/{file}");
                    if !files.contains_key(&path) {
                        problems.push(format!(
                            "{path}: missing ({what} needs all of {})",
                            set.join(", ")
                        ));
                    }
                }
            }
        }
        let kind = parsed.survey.kind;
        match (kind, files.contains_key(CHECKLIST_FILE)) {
            (SurveyKind::Checklist, false) => problems.push(format!(
                "{CHECKLIST_FILE}: missing (a survey of kind \"checklist\" lists its items there)"
            )),
            (SurveyKind::Discovery, true) => problems.push(format!(
                "{CHECKLIST_FILE}: only a checklist survey has one; write kind = \"checklist\" under [survey] in survey.toml, or remove the file"
            )),
            _ => {}
        }
        let trust = trust::Trust::parse(
            parsed.survey.reply_to.as_deref(),
            parsed.survey.privacy_url.as_deref(),
            &mut problems,
        );
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        let default_locale = default_locale.unwrap_or(Locale::En);
        let templates = templates::SurveyTemplates::compile(
            &locales,
            &files,
            &kind.message_keys(),
            &mut problems,
        );
        let survey = Survey {
            kind,
            default_locale,
            locales,
            max_problems,
            ask_frequency: parsed.survey.ask_frequency,
            ask_consent: parsed.survey.ask_consent,
            anonymous: parsed.survey.anonymous,
            closes,
            cadence,
            followup_review: parsed.survey.followup_review,
            wording,
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
        let locale = self.locale_for(locale);
        let mut ctx = self.common_context(locale);
        merge(&mut ctx, extra);
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
        let locale = self.locale_for(locale);
        let mut ctx = self.common_context(locale);
        merge(&mut ctx, extra);
        self.templates.render_html(locale, page, &ctx)
    }

    /// A validation message from `messages.toml`, with its variables filled in.
    pub fn message(&self, locale: Locale, key: &str, vars: serde_json::Value) -> String {
        self.templates.message(self.locale_for(locale), key, &vars)
    }

    /// Renders every template against sample data, so a misspelt variable is
    /// reported now rather than in a customer's inbox.
    fn check_renders(&self, problems: &mut Vec<String>) {
        for &locale in &self.locales {
            let sample = sample_contexts(self, locale);
            for (name, extra) in sample {
                if !self.has_email(locale, name) {
                    continue;
                }
                let result = if EMAILS.contains(&name) {
                    self.render_email(locale, name, extra).map(|_| ())
                } else {
                    self.render_page(locale, name, extra).map(|_| ())
                };
                if let Err(e) = result {
                    problems.push(e.to_string());
                }
            }
            for key in self.kind.message_keys() {
                self.templates.check_message(
                    locale,
                    key,
                    &serde_json::json!({"max": 1000, "rank": 2, "label": "Late delivery"}),
                    problems,
                );
            }
        }
    }
}

/// How often a problem happens, as the form offers it and stores it (the answer
/// room's `Frequency` spells its values so; a test there holds them together).
pub const FREQUENCIES: [&str; 3] = ["once", "sometimes", "often"];

/// A filled-in form slot for checking templates before a survey is stored: the
/// shape of the slots the answer room gives the form template.
fn sample_slot(index: u32, max_problems: u32) -> serde_json::Value {
    serde_json::json!({
        "index": index,
        "text": "Leveransen kom två veckor för sent <script>",
        "error": if index == 1 { serde_json::Value::from("sample error") } else { serde_json::Value::Null },
        "rank_options": (1..=max_problems).map(|v| serde_json::json!({"value": v, "selected": v == index})).collect::<Vec<_>>(),
        "frequency_options": FREQUENCIES.iter().map(|f| serde_json::json!({"value": f, "selected": false})).collect::<Vec<_>>(),
        "consent": index == 1,
        "text_error": if index == 1 { serde_json::Value::from("sample error") } else { serde_json::Value::Null },
        "rank_error": if index == 2 { serde_json::Value::from("sample error") } else { serde_json::Value::Null },
        "rank": index,
        "hidden": index > 2,
        "most_important": index == 1,
        "chars": 42,
        "over": false,
        "can_move_up": index == 2,
        "can_move_down": index == 1,
        "focus_text": index == 2,
        "focus_up": false,
        "focus_down": false,
    })
}

/// A checklist item as the checklist form template sees it (docs/TEMPLATES.md).
fn sample_item(index: u32, with_error: bool) -> serde_json::Value {
    let options = |values: &[&str], chosen: &str| {
        values
            .iter()
            .map(|v| serde_json::json!({"value": v, "selected": *v == chosen}))
            .collect::<Vec<_>>()
    };
    serde_json::json!({
        "index": index,
        "id": format!("item-{index}"),
        "text": "Leveransen kom senare än utlovat <b>",
        "group": "delivery",
        "first_in_group": index == 1,
        "section": 1,
        "error": if with_error { serde_json::Value::from("sample error") } else { serde_json::Value::Null },
        "experienced_options": options(&EXPERIENCED, "sometimes"),
        "bother_options": options(&["1", "2", "3", "4", "5"], "4"),
        "solved_options": options(&SOLVED_ELSEWHERE, ""),
    })
}

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

fn sample_contexts(survey: &Survey, _locale: Locale) -> Vec<(&'static str, serde_json::Value)> {
    let slots: Vec<_> = (1..=survey.max_problems)
        .map(|i| sample_slot(i, survey.max_problems))
        .collect();
    let addressee = serde_json::json!({
        "contact": {"name": "Anna Åberg", "email": "anna@example.com"},
        "link": "https://example.com/s/x",
        "wave": "2026-H2",
        "unsubscribe_link": "https://example.com/u/x",
    });
    let mut reminder = addressee.clone();
    merge(&mut reminder, serde_json::json!({"reminder_number": 1}));
    let form = match survey.kind {
        SurveyKind::Discovery => serde_json::json!({
            "contact": {"name": "Anna Åberg"},
            "action": "/s/x",
            "answered_before": true,
            "no_problems": false,
            "has_errors": true,
            "form_errors": ["sample"],
            "errors": [{"href": "#problem_1", "text": "sample"}],
            "had_problems": true,
            "boxes": 2,
            "can_add": true,
            "max_text": 1000,
            "slots": slots,
        }),
        SurveyKind::Checklist => serde_json::json!({
            "contact": {"name": "Anna Åberg"},
            "action": "/s/x",
            "answered_before": true,
            "has_errors": true,
            "form_errors": ["sample"],
            "ask_solved_elsewhere": true,
            "items": [sample_item(1, true), sample_item(2, false)],
            "sections": 1,
            "total": 2,
            "answered": 1,
            "slots": slots,
        }),
    };
    vec![
        ("invitation", addressee),
        ("form", form),
        (
            "thanks",
            serde_json::json!({
                "contact": {"name": "Anna Åberg"},
                "no_problems": false,
                "mentions": [{"rank": 1, "text": "sample"}],
                "edit_link": "/s/x",
                "already_answered": false,
            }),
        ),
        ("closed", serde_json::json!({})),
        ("reminder", reminder),
        (
            "complaint",
            serde_json::json!({
                "team": {"name": "Logistics"},
                "complaint": {"text": "Leveransen kom <b>för sent</b>", "snippet": "Leveransen kom <b>för sent</b>", "area": "Late delivery", "rank": 1, "of": 3, "frequency": "often", "rule": "late", "why": "keyword \"leverans*\"", "reference": "K7M2QX4P",
                    "reasons": [
                        {"kind": "keyword", "keyword": "leverans*", "matched": "leveransen", "area": null, "rank": null, "max": null, "label": null, "value": null},
                        {"kind": "segment", "keyword": null, "matched": null, "area": null, "rank": null, "max": null, "label": "Customer type", "value": "current"},
                    ]},
                "answer": {"locale": "sv", "date": "2026-12-01"},
                "dashboard": {"url": "https://example.com/admin/cases/K7M2QX4P"},
                "reply_reaches_customer": true,
                "segments": [{"key": "customer_type", "value": "current", "label": "Customer type", "value_label": "current"}],
                "wave": "2026-H2",
                "customer": {"name": "Anna Åberg", "email": "anna@example.com"},
                "actions": {"acknowledge": "https://example.com/c/a", "resolve": "https://example.com/c/r", "decline": "https://example.com/c/d"},
            }),
        ),
        (
            "followup",
            serde_json::json!({
                "contact": {"name": "Anna Åberg"},
                "complaint": {"text": "Leveransen kom <b>för sent</b>", "rank": 1},
                "note": "Vi har bytt <i>transportör</i>.",
                "team": {"name": "Logistics"},
                "wave": "2026-H2",
            }),
        ),
        (
            "announcement",
            serde_json::json!({
                "contact": {"name": "Anna Åberg"},
                "announcements": [{"area": "Late <b>delivery</b>", "text": "We changed <i>carriers</i>."}],
                "waves": ["2026-H2"],
                "unsubscribe_link": "https://example.com/u/x",
            }),
        ),
        ("unsubscribe", serde_json::json!({"action": "/u/x"})),
        ("unsubscribed", serde_json::json!({})),
    ]
}

/// The emails a survey folder has templates for.
const EMAILS: [&str; 5] = [
    "invitation",
    "reminder",
    "complaint",
    "followup",
    "announcement",
];

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

/// How many folders deep a survey folder may go (`en/` is one level).
pub const MAX_FOLDER_DEPTH: usize = 8;
/// How many files and folders a survey folder may hold, of any kind.
pub const MAX_FOLDER_ENTRIES: usize = 10_000;
/// The largest template or TOML file read from a survey folder.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// The most template and TOML text one survey may hold in all.
pub const MAX_SURVEY_BYTES: u64 = 8 * 1024 * 1024;

/// Reads the survey's `.hbs` and `.toml` files under `root`. What a survey holds
/// must be in its folder: a symbolic link (to a file elsewhere, or back up the
/// tree) or anything else that is not a plain file or folder is refused, not
/// followed, and depth, number of entries and size are bounded, so no folder can
/// make this walk run without end.
fn collect_files(root: &Path, files: &mut BTreeMap<String, String>, problems: &mut Vec<String>) {
    let relative = |path: &Path| {
        path.strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    };
    let mut entries_seen = 0usize;
    let mut bytes_read = 0u64;
    let mut folders = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = folders.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                problems.push(format!("{}: cannot be read: {e}", dir.display()));
                continue;
            }
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            entries_seen += 1;
            if entries_seen > MAX_FOLDER_ENTRIES {
                problems.push(format!(
                    "the folder holds more than {MAX_FOLDER_ENTRIES} files and folders; keep only the survey's files in it"
                ));
                return;
            }
            let path = entry.path();
            let rel = relative(&path);
            // `DirEntry::file_type` describes the entry itself: a link is not followed.
            let kind = match entry.file_type() {
                Ok(kind) => kind,
                Err(e) => {
                    problems.push(format!("{rel}: cannot be read: {e}"));
                    continue;
                }
            };
            if kind.is_symlink() {
                problems.push(format!(
                    "{rel}: is a symbolic link; a survey folder must hold its own files, so copy the file or folder in instead of linking to it"
                ));
            } else if kind.is_dir() {
                if depth + 1 >= MAX_FOLDER_DEPTH {
                    problems.push(format!(
                        "{rel}: folders nest more than {MAX_FOLDER_DEPTH} deep; a survey needs one folder per locale"
                    ));
                } else {
                    folders.push((path, depth + 1));
                }
            } else if !kind.is_file() {
                problems.push(format!(
                    "{rel}: is not a regular file or folder (a device, pipe or socket); remove it from the survey folder"
                ));
            } else if rel.ends_with(".hbs") || rel.ends_with(".toml") {
                match read_bounded(&path, MAX_SURVEY_BYTES.saturating_sub(bytes_read)) {
                    Ok(text) => {
                        bytes_read += text.len() as u64;
                        files.insert(rel, text);
                    }
                    Err(problem) => {
                        let stop = matches!(problem, Unread::Survey);
                        problems.push(format!("{rel}: {problem}"));
                        if stop {
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// Why a survey file was not read.
#[derive(Debug, thiserror::Error)]
enum Unread {
    #[error("is larger than {} KiB; a template or TOML file must be smaller", MAX_FILE_BYTES / 1024)]
    File,
    #[error("the survey's files together are larger than {} MiB; keep only the survey's files in its folder", MAX_SURVEY_BYTES / (1024 * 1024))]
    Survey,
    #[error("cannot be read as UTF-8 text: {0}")]
    Unreadable(std::io::Error),
}

/// A file's text, reading no more than the limits allow (a file that grows while
/// it is read still stops there).
fn read_bounded(path: &Path, room_left: u64) -> Result<String, Unread> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(Unread::Unreadable)?;
    let limit = MAX_FILE_BYTES.min(room_left);
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(Unread::Unreadable)?;
    match bytes.len() as u64 {
        n if n > MAX_FILE_BYTES => Err(Unread::File),
        n if n > limit => Err(Unread::Survey),
        _ => String::from_utf8(bytes).map_err(|e| {
            Unread::Unreadable(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        }),
    }
}

fn collect_embedded(
    dir: &include_dir::Dir<'_>,
    prefix: &str,
    files: &mut BTreeMap<String, String>,
) {
    for file in dir.files() {
        let rel = file
            .path()
            .strip_prefix(prefix)
            .unwrap_or(file.path())
            .to_string_lossy()
            .replace('\\', "/");
        if let Some(text) = file.contents_utf8() {
            files.insert(rel, text.to_string());
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, prefix, files);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut files = Survey::shipped("discovery").unwrap().files().clone();
        files.insert(
            "en/invitation.txt.hbs".into(),
            "Hello {{contact.nmae}}".into(),
        );
        let err = Survey::from_files("x", files).unwrap_err().to_string();
        assert!(err.contains("en/invitation.txt.hbs"), "{err}");
    }

    #[test]
    fn a_template_may_include_another_by_its_file_name() {
        let mut files = Survey::shipped("discovery").unwrap().files().clone();
        files.insert(
            "en/signature.html.hbs".into(),
            "<p class=\"signature\">{{survey.organisation}}</p>".into(),
        );
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
        let mut files = Survey::shipped("discovery").unwrap().files().clone();
        files.insert(
            "sv/a.html.hbs".into(),
            "{{#if x}}{{> sv/b.html.hbs}}{{/if}}".into(),
        );
        files.insert("sv/b.html.hbs".into(), "{{> sv/a.html.hbs}}".into());
        let err = Survey::from_files("x", files).unwrap_err().to_string();
        assert!(
            err.contains("sv/a.html.hbs includes sv/b.html.hbs includes sv/a.html.hbs"),
            "{err}"
        );
    }

    #[test]
    fn slugs_are_checked() {
        assert!("acme-2026".parse::<SurveySlug>().is_ok());
        assert!("Acme".parse::<SurveySlug>().is_err());
        assert!("".parse::<SurveySlug>().is_err());
        assert!("../x".parse::<SurveySlug>().is_err());
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
