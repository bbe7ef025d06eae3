//! A first draft of a checklist from a discovery survey's problem areas: one item
//! per chosen area (the top N of the discovery ranking, or the areas named), worded
//! from the area's labels for the analyst to edit, in a survey folder copied from
//! the shipped `survey-templates/checklist`.
//!
//! `ranked_areas` reads the discovery survey through the report and coding rooms;
//! everything else here is pure and returns the folder's files as text. Writing
//! them to disk is the door's job (`pds checklist draft`).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::coding::store::{areas_of, mentions_of};
use crate::db::AnyConnection;
use crate::error::{Error, Result};
use crate::survey::{Locale, StoredSurvey, Survey, SurveyKind, CHECKLIST_FILE};
use crate::text_safety;

/// How many of a discovery area's mentions a drafted item quotes as comments.
const EXAMPLES_PER_ITEM: usize = 2;

/// The longest mention quoted as an example, in characters.
const EXAMPLE_MAX_CHARS: usize = 160;

/// A discovery area as a draft sees it, in ranking order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftArea {
    /// How the checklist refers to the area: its codebook id (`late-delivery`), or
    /// the grouping key of an automatic area made into an id.
    pub area: String,
    /// The area's label per locale (at least one).
    pub labels: BTreeMap<Locale, String>,
    /// A few of its mentions, verbatim, to help the analyst word the item.
    pub examples: Vec<String>,
}

/// Which areas become items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// The first N of the discovery ranking.
    Top(usize),
    /// These areas, in this order (area ids as `pds areas list` shows them).
    Areas(Vec<String>),
}

/// The areas of a coded discovery survey, ranked as `pds results` ranks them.
pub fn ranked_areas(conn: &mut AnyConnection, survey: &StoredSurvey) -> Result<Vec<DraftArea>> {
    if survey.survey.kind != SurveyKind::Discovery {
        return Err(Error::Invalid(format!(
            "survey {} is a {} survey; draft a checklist from the discovery survey whose problem areas it should ask about",
            survey.slug, survey.survey.kind
        )));
    }
    let results = crate::report::results(conn, survey, None)?;
    let stored: Vec<_> = areas_of(conn, survey.id)?
        .into_iter()
        .filter(|a| a.merged_into.is_none())
        .collect();
    let mut examples: HashMap<i64, Vec<String>> = HashMap::new();
    for mention in mentions_of(conn, survey.id)? {
        if let Some(area) = mention.area_id {
            examples.entry(area).or_default().push(mention.text);
        }
    }
    let mut ranked = Vec::with_capacity(results.areas.len());
    for result in &results.areas {
        let Some(area) = stored.iter().find(|a| a.label == result.area) else {
            continue;
        };
        let mut labels: BTreeMap<Locale, String> = area
            .labels()
            .into_iter()
            .filter_map(|(l, text)| Some((l.parse().ok()?, text)))
            .collect();
        if labels.is_empty() {
            labels.insert(survey.survey.default_locale, area.label.clone());
        }
        let reference = area
            .codebook_id()
            .map(str::to_string)
            .unwrap_or_else(|| key_of(&area.key));
        ranked.push(DraftArea {
            area: reference,
            labels,
            examples: typical(examples.remove(&area.id).unwrap_or_default()),
        });
    }
    if ranked.is_empty() {
        return Err(Error::Invalid(format!(
            "survey {} has no coded problem areas yet; run pds code --survey {} (and decide the areas with pds areas) first",
            survey.slug, survey.slug
        )));
    }
    Ok(ranked)
}

/// A few short, distinct mentions, shortest first: a quick reminder of what
/// customers wrote, not a sample.
fn typical(mut texts: Vec<String>) -> Vec<String> {
    texts.retain(|t| !t.trim().is_empty() && t.chars().count() <= EXAMPLE_MAX_CHARS);
    texts.sort_by_key(|t| t.chars().count());
    let mut seen = HashSet::new();
    texts
        .into_iter()
        .map(|t| text_safety::for_terminal(t.trim()))
        .filter(|t| seen.insert(t.to_lowercase()))
        .take(EXAMPLES_PER_ITEM)
        .collect()
}

/// An area key made into an id: lower-case, other characters become '-'.
fn key_of(key: &str) -> String {
    let mut id = String::new();
    for c in key.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            id.push(c);
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    let id: String = id.trim_end_matches('-').chars().take(56).collect();
    if id.is_empty() {
        "area".into()
    } else {
        id.trim_end_matches('-').to_string()
    }
}

/// The areas `choice` picks from `ranked`, in the order they will be written.
pub fn choose<'a>(ranked: &'a [DraftArea], choice: &Choice) -> Result<Vec<&'a DraftArea>> {
    match choice {
        Choice::Top(0) => Err(Error::Invalid("--top must be at least 1".into())),
        Choice::Top(n) => Ok(ranked.iter().take(*n).collect()),
        Choice::Areas(ids) => {
            let mut chosen = Vec::with_capacity(ids.len());
            for id in ids {
                let id = id.trim();
                match ranked.iter().find(|a| a.area == id) {
                    Some(a) if chosen.contains(&a) => {
                        return Err(Error::Invalid(format!("--areas names {id} twice")))
                    }
                    Some(a) => chosen.push(a),
                    None => {
                        let known: Vec<&str> = ranked.iter().map(|a| a.area.as_str()).collect();
                        return Err(Error::Invalid(format!(
                            "--areas: no area {id:?} in the discovery survey; its areas are: {}",
                            known.join(", ")
                        )));
                    }
                }
            }
            if chosen.is_empty() {
                return Err(Error::Invalid("--areas names no area".into()));
            }
            Ok(chosen)
        }
    }
}

/// The files of a checklist survey folder drafted from `discovery` with one item
/// per area of `areas`: `template` (the shipped checklist survey) for everything
/// but `survey.toml`, which takes the discovery survey's locales and organisation,
/// and `checklist.toml`, which is written here.
pub fn folder(
    template: &Survey,
    discovery: &StoredSurvey,
    areas: &[&DraftArea],
) -> Result<BTreeMap<String, String>> {
    let locales = &discovery.survey.locales;
    let mut files: BTreeMap<String, String> = template
        .files()
        .iter()
        .filter(|(path, _)| match path.split_once('/') {
            Some((locale, _)) => locales.iter().any(|l| l.as_str() == locale),
            None => true,
        })
        .map(|(p, t)| (p.clone(), t.clone()))
        .collect();
    files.insert("survey.toml".into(), survey_toml(template, discovery)?);
    files.insert(
        CHECKLIST_FILE.into(),
        checklist_toml(template, discovery, areas),
    );
    Ok(files)
}

fn survey_toml(template: &Survey, discovery: &StoredSurvey) -> Result<String> {
    let source = &discovery.survey;
    let text = template.file("survey.toml").unwrap_or_default();
    let mut table: toml::Table = toml::from_str(text)
        .map_err(|e| Error::Internal(format!("the shipped checklist survey.toml: {e}")))?;
    let locales: Vec<toml::Value> = source
        .locales
        .iter()
        .map(|l| toml::Value::from(l.as_str()))
        .collect();
    if let Some(survey) = table.get_mut("survey").and_then(|s| s.as_table_mut()) {
        survey.insert("locales".into(), toml::Value::Array(locales));
        survey.insert(
            "default_locale".into(),
            toml::Value::from(source.default_locale.as_str()),
        );
        // Trust lines come from the discovery survey, never from the example
        // organisation of the template: the same people answer for both studies.
        let trust = &source.trust;
        set_or_remove(
            survey,
            "reply_to",
            trust.reply_to.as_ref().map(ToString::to_string),
        );
        set_or_remove(
            survey,
            "privacy_url",
            trust.privacy_url.as_ref().map(ToString::to_string),
        );
    }
    if let Some(wording) = table.get_mut("locale").and_then(|s| s.as_table_mut()) {
        wording.retain(|l, _| source.locales.iter().any(|s| s.as_str() == l));
        for (locale, words) in source.wording.iter() {
            if let Some(w) = wording
                .get_mut(locale.as_str())
                .and_then(|w| w.as_table_mut())
            {
                w.insert("title".into(), toml::Value::from(words.title.clone()));
                w.insert(
                    "organisation".into(),
                    toml::Value::from(words.organisation.clone()),
                );
                set_or_remove(w, "sender", words.sender.clone());
                set_or_remove(w, "contact", words.contact.clone());
            }
        }
    }
    let body = toml::to_string_pretty(&table)
        .map_err(|e| Error::Internal(format!("writing survey.toml: {e}")))?;
    Ok(format!(
        "# A checklist survey drafted by `pds checklist draft` from the discovery survey\n\
         # {}. Edit the title and question, then the items in checklist.toml; see\n\
         # docs/TEMPLATES.md for every setting.\n\n{body}",
        discovery.slug
    ))
}

/// `key = value` in `table`, or no `key` when there is no value.
fn set_or_remove(table: &mut toml::Table, key: &str, value: Option<String>) {
    match value {
        Some(v) => table.insert(key.into(), toml::Value::from(v)),
        None => table.remove(key),
    };
}

fn checklist_toml(template: &Survey, discovery: &StoredSurvey, areas: &[&DraftArea]) -> String {
    let locales = &discovery.survey.locales;
    let quote = |s: &str| toml::Value::from(s).to_string();
    let mut out = format!(
        "# Drafted by `pds checklist draft` from the discovery survey {}: one item per\n\
         # problem area, in the order of its ranking. Word each item as one concrete\n\
         # problem the customer may have had; the examples are what customers wrote.\n\
         # See docs/TEMPLATES.md, checklist.toml.\n\n\
         [checklist]\n\
         ask_solved_elsewhere = false   # true: also ask \"does another supplier already solve this?\"\n",
        discovery.slug
    );
    let mut ids = HashSet::new();
    for area in areas {
        let mut id = area.area.clone();
        let mut n = 2;
        while !ids.insert(id.clone()) {
            id = format!("{}-{n}", area.area);
            n += 1;
        }
        out.push_str("\n[[item]]\n");
        out.push_str(&format!("id = {}\n", quote(&id)));
        out.push_str(&format!("area = {}\n", quote(&area.area)));
        for example in &area.examples {
            out.push_str(&format!("# a customer wrote: {}\n", quote(example)));
        }
        for locale in locales {
            let label = area
                .labels
                .get(locale)
                .or_else(|| area.labels.values().next())
                .map(String::as_str)
                .unwrap_or(area.area.as_str());
            let wording =
                template.message(*locale, "draft_item", serde_json::json!({ "label": label }));
            out.push_str(&format!("text.{locale} = {}\n", quote(wording.trim())));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(id: &str) -> DraftArea {
        DraftArea {
            area: id.into(),
            labels: BTreeMap::from([(Locale::En, format!("Label {id}"))]),
            examples: vec![],
        }
    }

    #[test]
    fn the_top_areas_or_the_named_ones_are_chosen() {
        let ranked = vec![area("a"), area("b"), area("c")];
        let top = choose(&ranked, &Choice::Top(2)).unwrap();
        assert_eq!(
            top.iter().map(|a| a.area.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        let named = choose(&ranked, &Choice::Areas(vec!["c".into(), "a".into()])).unwrap();
        assert_eq!(
            named.iter().map(|a| a.area.as_str()).collect::<Vec<_>>(),
            ["c", "a"]
        );
        let err = choose(&ranked, &Choice::Areas(vec!["x".into()]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no area \"x\"") && err.contains("a, b, c"),
            "{err}"
        );
        assert!(choose(&ranked, &Choice::Areas(vec!["a".into(), "a".into()])).is_err());
    }

    #[test]
    fn keys_of_automatic_areas_become_ids() {
        assert_eq!(key_of("auto:Leverans sen!"), "auto-leverans-sen");
        assert_eq!(key_of("åäö"), "area");
    }

    #[test]
    fn typical_examples_are_short_distinct_and_on_one_line() {
        let examples = typical(vec![
            "Late again\nand again".into(),
            "late again and again".into(),
            "x".repeat(500),
            "Late".into(),
        ]);
        assert_eq!(examples, ["Late", "Late again and again"]);
    }
}
