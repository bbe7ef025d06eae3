//! The checklist form: what it asks (every item in the respondent's order, then
//! the "other problems" write-ins, which are the discovery form's slots), how a
//! submission is read and checked, and the template context (docs/TEMPLATES.md).
//! Pure: no HTTP, no database.
//!
//! Field names: `experienced_{id}` (never, sometimes, often), `bother_{id}` (1-5),
//! `solved_{id}` (yes, no, dont_know), and the write-ins' `problem_N`, `rank_N`,
//! `consent_N`. A submission that claims an `audience` other than its link's (a
//! staff invitation's link used to send a customer's answer) is refused.

use std::collections::{BTreeMap, HashMap};

use super::answer::{Bother, Experienced, ItemAnswer, ItemAnswerError, SolvedElsewhere};
use super::Checklist;
use crate::answer::{Answer, FormErrors, FormInput};
use crate::survey::{Locale, Survey};

/// One item as the respondent filled it in; a value that does not parse is kept
/// as absent, so the form can always be shown back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemInput {
    pub experienced: Option<Experienced>,
    pub bother: Option<Bother>,
    pub solved_elsewhere: Option<SolvedElsewhere>,
}

/// The raw checklist form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChecklistInput {
    /// By item id.
    pub items: HashMap<String, ItemInput>,
    /// The "other problems" boxes, read as the discovery form reads them.
    pub write_ins: FormInput,
    /// An `audience` field: the form has none, so only a crafted request claims
    /// an audience; the link's own audience always decides.
    pub claimed_audience: Option<String>,
}

/// What is wrong with a checklist submission, as `messages.toml` keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChecklistErrors {
    /// By item id.
    pub items: BTreeMap<String, &'static str>,
    pub write_ins: FormErrors,
}

impl ChecklistErrors {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.write_ins.is_empty()
    }
}

/// A whole, valid checklist answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistAnswer {
    /// One per item, in the order shown.
    pub items: Vec<ItemAnswer>,
    /// The other problems written in (`Answer::NoProblems` when none).
    pub write_ins: Answer,
}

/// A submission names an item the checklist does not have: only a crafted request
/// does that, so it is refused whole rather than shown back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the form names item {0:?}, which this checklist does not have")]
pub struct UnknownItem(pub String);

const PREFIXES: [&str; 3] = ["experienced_", "bother_", "solved_"];

impl ChecklistInput {
    /// Reads a submission's decoded pairs.
    pub fn from_pairs(
        pairs: &[(String, String)],
        checklist: &Checklist,
        max_problems: u32,
    ) -> Result<Self, UnknownItem> {
        let mut items: HashMap<String, ItemInput> = HashMap::new();
        let mut claimed_audience = None;
        for (key, value) in pairs {
            if key == "audience" {
                claimed_audience = Some(value.trim().to_string());
                continue;
            }
            let Some((prefix, id)) = PREFIXES
                .iter()
                .find_map(|p| key.strip_prefix(p).map(|id| (*p, id)))
            else {
                continue;
            };
            if checklist.item(id).is_none() {
                return Err(UnknownItem(id.to_string()));
            }
            let input = items.entry(id.to_string()).or_default();
            match prefix {
                "experienced_" => input.experienced = value.parse().ok(),
                "bother_" => input.bother = value.parse().ok(),
                _ => input.solved_elsewhere = value.parse().ok(),
            }
        }
        Ok(ChecklistInput {
            items,
            write_ins: FormInput::from_pairs(pairs, max_problems),
            claimed_audience,
        })
    }

    /// The form filled in from stored answers.
    pub fn from_answer(
        items: &[ItemAnswer],
        write_ins: Option<&Answer>,
        max_problems: u32,
    ) -> Self {
        ChecklistInput {
            items: items
                .iter()
                .map(|a| {
                    let input = ItemInput {
                        experienced: Some(a.experienced),
                        bother: a.bother,
                        solved_elsewhere: a.solved_elsewhere,
                    };
                    (a.item.as_str().to_string(), input)
                })
                .collect(),
            write_ins: match write_ins {
                Some(answer) => FormInput::from_answer(answer, max_problems),
                None => FormInput::from_pairs(&[], max_problems),
            },
            claimed_audience: None,
        }
    }

    /// Checks every item and the write-ins, for a link of `audience` (`customer`
    /// or `staff`). `order` is the respondent's order (indexes into the
    /// checklist's items), stored with each answer.
    pub fn validate(
        &self,
        survey: &Survey,
        checklist: &Checklist,
        order: &[usize],
        audience: &str,
    ) -> Result<ChecklistAnswer, ChecklistErrors> {
        let mut errors = ChecklistErrors::default();
        let mut answers = Vec::with_capacity(order.len());
        for (place, &index) in order.iter().enumerate() {
            let item = &checklist.items[index];
            let input = self
                .items
                .get(item.id.as_str())
                .cloned()
                .unwrap_or_default();
            let Some(experienced) = input.experienced else {
                errors.items.insert(item.id.to_string(), "item_unanswered");
                continue;
            };
            let solved = if checklist.ask_solved_elsewhere {
                input.solved_elsewhere
            } else {
                None
            };
            let position = u32::try_from(place + 1).ok();
            match ItemAnswer::new(item.id.clone(), position, experienced, input.bother, solved) {
                Ok(answer) => answers.push(answer),
                Err(ItemAnswerError::BotherMissing) => {
                    errors.items.insert(item.id.to_string(), "bother_missing");
                }
                Err(ItemAnswerError::FollowUpWithoutProblem) => {
                    errors
                        .items
                        .insert(item.id.to_string(), "follow_up_without_problem");
                }
            }
        }
        // The write-ins are optional: none written is "no other problems".
        let mut write_ins = self.write_ins.clone();
        write_ins.no_problems = write_ins.slots.iter().all(|s| s.text.is_empty());
        let write_ins = match write_ins.validate(survey) {
            Ok(answer) => Some(answer),
            Err(e) => {
                errors.write_ins = e;
                None
            }
        };
        if self
            .claimed_audience
            .as_deref()
            .is_some_and(|claimed| claimed != audience)
        {
            let staff = audience == crate::audience::STAFF;
            errors
                .write_ins
                .form
                .push(("audience_fixed", serde_json::json!({ "staff": staff })));
        }
        match write_ins {
            Some(write_ins) if errors.is_empty() => Ok(ChecklistAnswer {
                items: answers,
                write_ins,
            }),
            _ => Err(errors),
        }
    }

    /// The template context of the checklist form, items in the respondent's
    /// order, errors in their language beside their fields.
    #[allow(clippy::too_many_arguments)]
    pub fn context(
        &self,
        survey: &Survey,
        checklist: &Checklist,
        order: &[usize],
        locale: Locale,
        errors: &ChecklistErrors,
        name: &str,
        action: &str,
        answered_before: bool,
    ) -> serde_json::Value {
        let locale = survey.locale_for(locale);
        let options = |values: &[&str], chosen: Option<&str>| {
            values
                .iter()
                .map(|v| serde_json::json!({"value": v, "selected": Some(*v) == chosen}))
                .collect::<Vec<_>>()
        };
        let mut previous_group: Option<&str> = None;
        let mut section = 0;
        let sections = checklist
            .items
            .iter()
            .map(|i| i.group.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len();
        let items: Vec<_> = order
            .iter()
            .enumerate()
            .map(|(place, &index)| {
                let item = &checklist.items[index];
                let input = self.items.get(item.id.as_str()).cloned().unwrap_or_default();
                let first_in_group = previous_group != Some(item.group.as_str());
                previous_group = Some(item.group.as_str());
                section += usize::from(first_in_group);
                let bother = input.bother.map(|b| b.get().to_string());
                serde_json::json!({
                    "index": place + 1,
                    "id": item.id.as_str(),
                    "text": item.text.get(&locale).or_else(|| item.text.values().next()),
                    "group": item.group,
                    "first_in_group": first_in_group,
                    "section": section,
                    "error": errors.items.get(item.id.as_str()).map(|key| survey.message(locale, key, serde_json::json!({}))),
                    "experienced_options": options(&crate::survey::EXPERIENCED, input.experienced.map(Experienced::as_str)),
                    "bother_options": options(&["1", "2", "3", "4", "5"], bother.as_deref()),
                    "solved_options": options(&crate::survey::SOLVED_ELSEWHERE, input.solved_elsewhere.map(SolvedElsewhere::as_str)),
                })
            })
            .collect();
        let mut ctx = self.write_ins.context(
            survey,
            locale,
            &errors.write_ins,
            name,
            action,
            answered_before,
        );
        if let Some(map) = ctx.as_object_mut() {
            map.remove("no_problems");
            map.insert("items".into(), serde_json::Value::Array(items));
            map.insert(
                "ask_solved_elsewhere".into(),
                checklist.ask_solved_elsewhere.into(),
            );
            map.insert("has_errors".into(), (!errors.is_empty()).into());
            // Sections are the checklist's groups (kept together in every order);
            // the progress counts the items answered so far.
            map.insert("sections".into(), sections.into());
            map.insert("total".into(), order.len().into());
            let answered = order
                .iter()
                .filter(|&&i| {
                    self.items
                        .get(checklist.items[i].id.as_str())
                        .is_some_and(|input| input.experienced.is_some())
                })
                .count();
            map.insert("answered".into(), answered.into());
        }
        ctx
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The shipped checklist survey and its parsed checklist.
    pub(in crate::checklist) fn setup() -> (Survey, Checklist) {
        let survey = Survey::shipped("checklist").unwrap();
        let checklist = Checklist::parse(
            "checklist.toml",
            survey.file("checklist.toml").unwrap(),
            &survey.locales,
        )
        .unwrap();
        (survey, checklist)
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const ALL_NEVER: [(&str, &str); 4] = [
        ("experienced_late-delivery", "never"),
        ("experienced_damaged-goods", "never"),
        ("experienced_invoice-errors", "never"),
        ("experienced_hard-to-reach", "never"),
    ];

    #[test]
    fn a_whole_answer_is_kept_in_the_order_shown() {
        let (survey, checklist) = setup();
        let order = checklist.order_for(42);
        let mut fields = pairs(&ALL_NEVER);
        fields.retain(|(k, _)| k != "experienced_invoice-errors");
        fields.extend(pairs(&[
            ("experienced_invoice-errors", "often"),
            ("bother_invoice-errors", "5"),
            ("solved_invoice-errors", "no"),
            ("problem_1", "Parking is hard"),
            ("rank_1", "1"),
        ]));
        let input = ChecklistInput::from_pairs(&fields, &checklist, survey.max_problems).unwrap();
        let answer = input
            .validate(&survey, &checklist, &order, "customer")
            .unwrap();
        assert_eq!(answer.items.len(), 4);
        for (place, (a, &index)) in answer.items.iter().zip(&order).enumerate() {
            assert_eq!(a.item, checklist.items[index].id);
            assert_eq!(a.position, Some(place as u32 + 1));
        }
        let invoice = answer
            .items
            .iter()
            .find(|a| a.item.as_str() == "invoice-errors")
            .unwrap();
        assert_eq!(invoice.bother.map(Bother::get), Some(5));
        assert_eq!(invoice.solved_elsewhere, Some(SolvedElsewhere::No));
        assert!(
            matches!(answer.write_ins, Answer::Problems(ref p) if p[0].text == "Parking is hard")
        );
    }

    #[test]
    fn each_item_error_is_beside_its_item() {
        let (survey, checklist) = setup();
        let order = checklist.order_for(1);
        let fields = pairs(&[
            ("experienced_late-delivery", "often"),
            ("experienced_damaged-goods", "never"),
            ("bother_damaged-goods", "3"),
            ("experienced_invoice-errors", "rarely"),
        ]);
        let input = ChecklistInput::from_pairs(&fields, &checklist, survey.max_problems).unwrap();
        let errors = input
            .validate(&survey, &checklist, &order, "customer")
            .unwrap_err();
        assert_eq!(errors.items["late-delivery"], "bother_missing");
        assert_eq!(errors.items["damaged-goods"], "follow_up_without_problem");
        assert_eq!(errors.items["invoice-errors"], "item_unanswered");
        assert_eq!(errors.items["hard-to-reach"], "item_unanswered");
        let ctx = input.context(
            &survey,
            &checklist,
            &order,
            Locale::En,
            &errors,
            "A",
            "/s/x",
            false,
        );
        assert_eq!(ctx["has_errors"], true);
        let late = ctx["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == "late-delivery")
            .unwrap();
        assert!(
            late["error"].as_str().unwrap().contains("bothers you"),
            "{late}"
        );
        assert!(survey.render_page(Locale::En, "form", ctx).is_ok());
    }

    #[test]
    fn an_unknown_item_is_refused() {
        let (survey, checklist) = setup();
        let fields = pairs(&[("experienced_parking", "often")]);
        assert_eq!(
            ChecklistInput::from_pairs(&fields, &checklist, survey.max_problems),
            Err(UnknownItem("parking".into()))
        );
    }

    #[test]
    fn a_staff_link_cannot_send_a_customers_answer() {
        let (survey, checklist) = setup();
        let mut fields = pairs(&ALL_NEVER);
        fields.push(("audience".into(), "customer".into()));
        let input = ChecklistInput::from_pairs(&fields, &checklist, survey.max_problems).unwrap();
        let order = checklist.order_for(5);
        let errors = input
            .validate(&survey, &checklist, &order, "staff")
            .unwrap_err();
        assert_eq!(errors.write_ins.form[0].0, "audience_fixed");
        assert!(errors.items.is_empty(), "{errors:?}");
        assert!(
            input
                .validate(&survey, &checklist, &order, "customer")
                .is_ok(),
            "the link's own audience is no claim to refuse"
        );
    }

    #[test]
    fn no_write_ins_is_no_other_problems() {
        let (survey, checklist) = setup();
        let input = ChecklistInput::from_pairs(&pairs(&ALL_NEVER), &checklist, survey.max_problems)
            .unwrap();
        let answer = input
            .validate(&survey, &checklist, &checklist.order_for(3), "customer")
            .unwrap();
        assert_eq!(answer.write_ins, Answer::NoProblems);
    }
}
