//! The checklist of a checklist study (phase 2 of a Problem Detection Study, see
//! docs/METHOD.md §1 and §4): the concrete problem statements a larger sample answers
//! item by item, as written in a survey folder's `checklist.toml`.
//!
//! ```toml
//! [checklist]
//! ask_solved_elsewhere = true          # optional: "does another supplier solve this?"
//!
//! [[item]]
//! id = "late-delivery"                 # stable id: a-z, 0-9, '-'
//! area = "late-delivery"               # optional: the discovery area it came from
//! group = "delivery"                   # optional: items of a group are shown together
//! text = { en = "The delivery came later than promised", sv = "Leveransen kom senare än utlovat" }
//! ```
//!
//! This room parses and checks that text (every problem with its file and line),
//! orders items for one respondent from a seed, and drafts a checklist from a
//! discovery survey's ranked areas (`draft`, which reads them through the report and
//! coding rooms) and stores answers per item (`store`, its one file with SQL). It
//! reads and writes no files and renders no page: the survey
//! folder (`setup`) hands it the text, the CLI writes a draft to disk, and the
//! answer form asks it for the order.

pub mod answer;
pub mod draft;
pub mod drafts;
pub mod form;
pub mod import;
pub mod results;
pub mod store;

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Deserialize;
use toml::Spanned;

use crate::source_lines::{one_line, LineIndex};
use crate::survey::{Locale, CHECKLIST_FILE};

/// The most items one checklist may hold: the method asks for a few dozen, and a
/// respondent answers every one.
pub const MAX_ITEMS: usize = 200;

/// The longest wording of one item, in characters.
pub const MAX_TEXT_CHARS: usize = 300;

/// The group of an item that names none.
pub const DEFAULT_GROUP: &str = "main";

/// A stable id of an item, group or area reference: lower-case ASCII letters,
/// digits and '-', starting with a letter or digit, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ItemId(String);

impl ItemId {
    /// Parses an id, saying what is wrong with it when it is not one.
    pub fn parse(id: &str) -> Result<ItemId, String> {
        if is_key(id) {
            Ok(ItemId(id.to_string()))
        } else {
            Err(format!(
                "id {id:?} must be lower-case letters a-z, digits and '-' (at most 64), such as \"late-delivery\""
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_key(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

/// One problem statement of the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: ItemId,
    /// The discovery area it was drafted from (an area id or key), if any.
    pub area: Option<String>,
    /// Items of one group are shown together; groups keep the order of the file.
    pub group: String,
    /// The wording per locale: every locale the survey offers.
    pub text: BTreeMap<Locale, String>,
    /// Where the item starts in the file.
    pub line: usize,
}

/// A parsed, checked checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checklist {
    /// Ask "does another supplier already solve this?" of problems had.
    pub ask_solved_elsewhere: bool,
    /// In the order of the file.
    pub items: Vec<Item>,
}

/// One thing wrong with a checklist, where the parser could place it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: Option<usize>,
    pub reason: String,
}

/// A checklist that cannot be used, with every problem found:
/// `checklist.toml line 7: item "late": text has no "sv" wording ...`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ChecklistError {
    /// The file name as the user gave it.
    pub file: String,
    pub problems: Vec<Problem>,
}

impl ChecklistError {
    /// Each problem as one line, prefixed with the file and line.
    pub fn lines(&self) -> Vec<String> {
        self.problems
            .iter()
            .map(|p| match p.line {
                Some(line) => format!("{} line {}: {}", self.file, line, p.reason),
                None => format!("{}: {}", self.file, p.reason),
            })
            .collect()
    }
}

impl fmt::Display for ChecklistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lines().join("; "))
    }
}

/// `value` if it is a key (lower-case letters a-z, digits and '-'); else the
/// problem `problem(value)` at its place, and none.
fn key_or_problem(
    value: Option<Spanned<String>>,
    at: &mut dyn FnMut(usize, String),
    problem: impl FnOnce(&str) -> String,
) -> Option<String> {
    let value = value?;
    if is_key(value.get_ref()) {
        return Some(value.into_inner());
    }
    at(value.span().start, problem(value.get_ref()));
    None
}

/// An item's wordings by locale: one for each of the survey's `locales`, none
/// for another, none empty or too long.
fn check_text(
    id: &ItemId,
    raw: &Spanned<BTreeMap<String, String>>,
    locales: &[Locale],
    at: &mut dyn FnMut(usize, String),
) -> BTreeMap<Locale, String> {
    let text_at = raw.span().start;
    let mut text = BTreeMap::new();
    for (locale, wording) in raw.get_ref() {
        let wording = wording.trim();
        match locale.parse::<Locale>() {
            Err(e) => at(text_at, format!("item \"{id}\": text: {e}")),
            Ok(l) if !locales.contains(&l) => at(
                text_at,
                format!("item \"{id}\": text.{l}: the survey is not offered in {l} (survey.toml locales); remove it or add the locale"),
            ),
            Ok(l) if wording.is_empty() => {
                at(text_at, format!("item \"{id}\": text.{l} is empty"))
            }
            Ok(l) if wording.chars().count() > MAX_TEXT_CHARS => at(
                text_at,
                format!("item \"{id}\": text.{l} is longer than {MAX_TEXT_CHARS} characters; a checklist item is one short sentence"),
            ),
            Ok(l) => {
                text.insert(l, wording.to_string());
            }
        }
    }
    for locale in locales {
        if !raw.get_ref().contains_key(locale.as_str()) {
            at(
                text_at,
                format!("item \"{id}\": text has no {locale} wording; the survey is offered in {locale}, so write text.{locale}"),
            );
        }
    }
    text
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChecklist {
    #[serde(default)]
    checklist: RawSettings,
    #[serde(default)]
    item: Vec<RawItem>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    #[serde(default)]
    ask_solved_elsewhere: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: Spanned<String>,
    area: Option<Spanned<String>>,
    group: Option<Spanned<String>>,
    text: Spanned<BTreeMap<String, String>>,
}

impl Checklist {
    /// Parses and checks `source`, the text of a checklist file named `file`, for a
    /// survey offered in `locales`: every item needs a wording in each of them.
    pub fn parse(
        file: &str,
        source: &str,
        locales: &[Locale],
    ) -> Result<Checklist, ChecklistError> {
        let lines = LineIndex::new(source);
        let fail = |problems| ChecklistError {
            file: file.to_string(),
            problems,
        };
        let raw: RawChecklist = toml::from_str(source).map_err(|e| {
            fail(vec![Problem {
                line: e.span().map(|s| lines.line_of(s.start)),
                reason: one_line(e.message()),
            }])
        })?;
        let mut problems = Vec::new();
        let mut at = |offset: usize, reason: String| {
            problems.push(Problem {
                line: Some(lines.line_of(offset)),
                reason,
            })
        };
        let mut seen = HashSet::new();
        let mut items = Vec::with_capacity(raw.item.len());
        for raw_item in raw.item {
            let start = raw_item.id.span().start;
            let id = match ItemId::parse(raw_item.id.get_ref()) {
                Ok(id) => id,
                Err(reason) => {
                    at(start, format!("item {reason}"));
                    continue;
                }
            };
            if !seen.insert(id.clone()) {
                at(
                    start,
                    format!("item id \"{id}\" is used twice; each item needs its own id"),
                );
                continue;
            }
            let area = key_or_problem(raw_item.area, &mut at, |area| {
                format!(
                    "item \"{id}\": area {area:?} is not an area id (a-z, 0-9, '-'); leave `area` out if the item came from no area"
                )
            });
            let group = key_or_problem(raw_item.group, &mut at, |group| {
                format!(
                    "item \"{id}\": group {group:?} must be lower-case letters a-z, digits and '-', such as \"delivery\""
                )
            })
            .unwrap_or_else(|| DEFAULT_GROUP.to_string());
            let text = check_text(&id, &raw_item.text, locales, &mut at);
            items.push(Item {
                id,
                area,
                group,
                text,
                line: lines.line_of(start),
            });
        }
        if items.is_empty() && problems.is_empty() {
            problems.push(Problem {
                line: None,
                reason: "no items; a checklist needs at least one [[item]] with an id and text"
                    .into(),
            });
        }
        if items.len() > MAX_ITEMS {
            problems.push(Problem {
                line: None,
                reason: format!(
                    "{} items; a checklist may hold at most {MAX_ITEMS}",
                    items.len()
                ),
            });
        }
        if !problems.is_empty() {
            return Err(fail(problems));
        }
        Ok(Checklist {
            ask_solved_elsewhere: raw.checklist.ask_solved_elsewhere,
            items,
        })
    }

    /// The checklist of a stored checklist survey (checked when the survey was
    /// created, so one that no longer parses is our fault, not the user's).
    pub fn of_survey(survey: &crate::survey::StoredSurvey) -> crate::error::Result<Checklist> {
        let text = survey.survey.file(CHECKLIST_FILE).unwrap_or_default();
        Checklist::parse(CHECKLIST_FILE, text, &survey.survey.locales).map_err(|e| {
            crate::error::Error::Internal(format!(
                "survey {}: its stored checklist no longer parses: {e}",
                survey.slug
            ))
        })
    }

    /// The item with this id.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id.as_str() == id)
    }

    /// The order one respondent sees the items in, as indexes into `items`: groups
    /// in the order of the file, items shuffled within their group by `seed`, so
    /// that order effects average out over respondents and the same seed (the
    /// invitation's) always gives the same order.
    pub fn order_for(&self, seed: u64) -> Vec<usize> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
        for (index, item) in self.items.iter().enumerate() {
            match groups.iter_mut().find(|(g, _)| *g == item.group) {
                Some((_, members)) => members.push(index),
                None => groups.push((&item.group, vec![index])),
            }
        }
        groups
            .into_iter()
            .flat_map(|(_, mut members)| {
                members.shuffle(&mut rng);
                members
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: [Locale; 2] = [Locale::En, Locale::Sv];

    const GOOD: &str = r#"[checklist]
ask_solved_elsewhere = true

[[item]]
id = "late-delivery"
area = "late-delivery"
group = "delivery"
text = { en = "The delivery came later than promised", sv = "Leveransen kom senare än utlovat" }

[[item]]
id = "wrong-invoice"
text.en = "The invoice was wrong"
text.sv = "Fakturan var fel"
"#;

    fn problems(source: &str, locales: &[Locale]) -> Vec<String> {
        match Checklist::parse("checklist.toml", source, locales) {
            Ok(_) => panic!("expected problems for:\n{source}"),
            Err(e) => e.lines(),
        }
    }

    #[test]
    fn a_good_checklist_keeps_items_in_order_with_their_lines() {
        let c = Checklist::parse("checklist.toml", GOOD, &BOTH).unwrap();
        assert!(c.ask_solved_elsewhere);
        assert_eq!(c.items.len(), 2);
        assert_eq!(c.items[0].id.as_str(), "late-delivery");
        assert_eq!(c.items[0].area.as_deref(), Some("late-delivery"));
        assert_eq!(c.items[0].group, "delivery");
        assert_eq!(c.items[0].line, 5);
        assert_eq!(c.items[1].group, DEFAULT_GROUP);
        assert_eq!(c.items[1].text[&Locale::Sv], "Fakturan var fel");
    }

    #[test]
    fn an_area_or_group_that_is_not_a_key_is_refused_with_its_line() {
        let source = GOOD
            .replace("area = \"late-delivery\"", "area = \"Late delivery\"")
            .replace("group = \"delivery\"", "group = \"Delivery!\"");
        let p = problems(&source, &BOTH);
        assert_eq!(
            p,
            vec![
                "checklist.toml line 6: item \"late-delivery\": area \"Late delivery\" is not an area id (a-z, 0-9, '-'); leave `area` out if the item came from no area",
                "checklist.toml line 7: item \"late-delivery\": group \"Delivery!\" must be lower-case letters a-z, digits and '-', such as \"delivery\"",
            ]
        );
    }

    #[test]
    fn duplicate_ids_are_refused_with_their_line() {
        let source = GOOD.replace("id = \"wrong-invoice\"", "id = \"late-delivery\"");
        let p = problems(&source, &BOTH);
        assert_eq!(
            p,
            vec!["checklist.toml line 11: item id \"late-delivery\" is used twice; each item needs its own id"]
        );
    }

    #[test]
    fn every_locale_of_the_survey_must_be_worded() {
        let source = GOOD.replace("text.sv = \"Fakturan var fel\"\n", "");
        let p = problems(&source, &BOTH);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with(
                "checklist.toml line 12: item \"wrong-invoice\": text has no sv wording"
            ),
            "{p:?}"
        );
        assert!(Checklist::parse("checklist.toml", &source, &[Locale::En]).is_err());
    }

    #[test]
    fn all_problems_are_reported_at_once() {
        let source = r#"
[[item]]
id = "Bad Id"
text = { en = "x" }

[[item]]
id = "ok"
group = "No Group"
text = { en = "", xx = "y" }
"#;
        let p = problems(source, &[Locale::En]);
        assert!(
            p.iter()
                .any(|l| l.starts_with("checklist.toml line 3: item id \"Bad Id\"")),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|l| l.starts_with("checklist.toml line 8: item \"ok\": group")),
            "{p:?}"
        );
        assert!(p.iter().any(|l| l.contains("text.en is empty")), "{p:?}");
        assert!(
            p.iter().any(|l| l.contains("unknown locale \"xx\"")),
            "{p:?}"
        );
    }

    #[test]
    fn syntax_errors_and_unknown_keys_name_the_line() {
        let p = problems(
            "[[item]]\nid = \"a\"\ntext = { en = \"x\" }\nwording = 1\n",
            &[Locale::En],
        );
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("checklist.toml line 4:"), "{p:?}");
        let p = problems("[[item]]\nid = \"a\n", &[Locale::En]);
        assert!(p[0].starts_with("checklist.toml line 2:"), "{p:?}");
    }

    #[test]
    fn an_empty_checklist_is_refused() {
        let p = problems("[checklist]\n", &BOTH);
        assert!(p[0].contains("no items"), "{p:?}");
    }

    #[test]
    fn wording_in_a_locale_the_survey_does_not_offer_is_refused() {
        let p = problems(GOOD, &[Locale::En]);
        assert!(p.iter().all(|l| l.contains("not offered in sv")), "{p:?}");
    }

    #[test]
    fn the_order_is_a_seeded_shuffle_within_groups() {
        let mut source = String::new();
        for i in 0..10 {
            source.push_str(&format!(
                "[[item]]\nid = \"a{i}\"\ngroup = \"first\"\ntext.en = \"A {i}\"\n"
            ));
        }
        for i in 0..5 {
            source.push_str(&format!(
                "[[item]]\nid = \"b{i}\"\ngroup = \"second\"\ntext.en = \"B {i}\"\n"
            ));
        }
        let c = Checklist::parse("checklist.toml", &source, &[Locale::En]).unwrap();
        let one = c.order_for(7);
        assert_eq!(one, c.order_for(7), "the same seed gives the same order");
        let mut sorted = one.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..15).collect::<Vec<_>>(), "every item once");
        assert!(
            one[..10].iter().all(|&i| i < 10),
            "groups stay together: {one:?}"
        );
        assert!((0..20).any(|seed| c.order_for(seed) != one), "seeds differ");
    }
}
