//! The respondent's form: what it posts, how it is checked, and what the template
//! is given back. Pure: no database, no HTTP.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::survey::{Locale, Survey};

/// Longest problem text accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 1000;

/// How often a problem happens, as the respondent said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    Once,
    Sometimes,
    Often,
}

impl Frequency {
    pub const ALL: [Frequency; 3] = [Frequency::Once, Frequency::Sometimes, Frequency::Often];

    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Once => "once",
            Frequency::Sometimes => "sometimes",
            Frequency::Often => "often",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Frequency::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// One problem as the respondent reported it. `rank` 1 matters most.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub rank: u32,
    /// Exactly as written (only surrounding white space removed).
    pub text: String,
    pub frequency: Option<Frequency>,
    pub may_contact: bool,
}

/// A complete, valid answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    /// "I have had no problems": a respondent who still counts in n.
    NoProblems,
    /// One or more problems, ranks 1..m in order.
    Problems(Vec<Problem>),
}

/// One slot of the form as the respondent filled it in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotInput {
    pub text: String,
    pub rank: Option<u32>,
    pub frequency: Option<Frequency>,
    pub consent: bool,
}

/// The raw form, parsed leniently so it can always be shown back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormInput {
    pub slots: Vec<SlotInput>,
    pub no_problems: bool,
    /// "Yes, I have had problems" was chosen (the form's first question).
    pub said_problems: bool,
    /// Problem fields beyond the survey's M, which a crafted request could send.
    pub extra_problems: usize,
    /// How many problem boxes the form shows (1 to M); the rest wait behind "add another".
    pub boxes: usize,
    /// The field to put the keyboard focus on when the form is shown again after
    /// an edit (see [`Edit`]).
    pub focus: Option<String>,
}

/// A button that changes the form instead of sending it. With JavaScript the form
/// script does these in place; without it the server does them and shows the form
/// again with everything typed so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// "+ Add another problem": one more box, up to M.
    AddBox,
    /// Swap problem `n` (1-based) with the one above it.
    MoveUp(usize),
    /// Swap problem `n` with the one below it.
    MoveDown(usize),
}

impl Edit {
    /// The edit a submission asks for (`add=1`, `move=up_3`, `move=down_2`), if any.
    pub fn from_pairs(pairs: &[(String, String)]) -> Option<Edit> {
        pairs.iter().find_map(|(k, v)| match k.as_str() {
            "add" => Some(Edit::AddBox),
            "move" => {
                let (direction, n) = v.split_once('_')?;
                let n: usize = n.parse().ok()?;
                match direction {
                    "up" => Some(Edit::MoveUp(n)),
                    "down" => Some(Edit::MoveDown(n)),
                    _ => None,
                }
            }
            _ => None,
        })
    }
}

/// What is wrong, as `messages.toml` keys with their variables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FormErrors {
    pub form: Vec<(&'static str, serde_json::Value)>,
    pub slots: BTreeMap<usize, (&'static str, serde_json::Value)>,
}

impl FormErrors {
    pub fn is_empty(&self) -> bool {
        self.form.is_empty() && self.slots.is_empty()
    }
}

impl FormInput {
    /// Reads `problem_N`, `rank_N`, `frequency_N`, `consent_N` and `no_problems` from
    /// decoded form pairs. Unknown fields are ignored.
    pub fn from_pairs(pairs: &[(String, String)], max_problems: u32) -> Self {
        let fields: HashMap<&str, &str> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let slots: Vec<SlotInput> = (1..=max_problems)
            .map(|i| SlotInput {
                text: fields
                    .get(format!("problem_{i}").as_str())
                    .map(|t| crate::text_safety::stored(t))
                    .unwrap_or_default(),
                rank: fields
                    .get(format!("rank_{i}").as_str())
                    .and_then(|r| r.trim().parse().ok()),
                frequency: fields
                    .get(format!("frequency_{i}").as_str())
                    .and_then(|f| Frequency::parse(f)),
                consent: fields.get(format!("consent_{i}").as_str()) == Some(&"yes"),
            })
            .collect();
        let extra_problems = pairs
            .iter()
            .filter(|(k, v)| {
                k.strip_prefix("problem_")
                    .and_then(|n| n.parse::<u32>().ok())
                    .is_some_and(|n| n == 0 || n > max_problems)
                    && !v.trim().is_empty()
            })
            .count();
        let last_filled = slots
            .iter()
            .rposition(|s: &SlotInput| !s.text.is_empty())
            .map_or(0, |i| i + 1);
        let asked: usize = fields
            .get("boxes")
            .and_then(|b| b.trim().parse().ok())
            .unwrap_or(1);
        FormInput {
            slots,
            no_problems: fields.get("no_problems") == Some(&"yes"),
            said_problems: fields.get("no_problems") == Some(&"no"),
            extra_problems,
            boxes: asked
                .max(last_filled)
                .clamp(1, max_problems.max(1) as usize),
            focus: None,
        }
    }

    /// Does what an [`Edit`] button asks; an edit that cannot apply (moving the
    /// first problem up) changes nothing.
    pub fn apply(&mut self, edit: Edit) {
        let swap = |input: &mut FormInput, a: usize, b: usize, button: String| {
            if a >= 1 && b >= 1 && a.max(b) <= input.boxes {
                input.slots.swap(a - 1, b - 1);
                for i in [a, b] {
                    // The rank is the position: it stays with the box, not the text.
                    input.slots[i - 1].rank = Some(i as u32);
                }
                input.focus = Some(button);
            }
        };
        match edit {
            Edit::AddBox if self.boxes < self.slots.len() => {
                self.boxes += 1;
                self.focus = Some(format!("problem_{}", self.boxes));
            }
            Edit::AddBox => {}
            Edit::MoveUp(n) => swap(
                self,
                n,
                n.wrapping_sub(1),
                format!("move_up_{}", n.wrapping_sub(1)),
            ),
            Edit::MoveDown(n) => swap(self, n, n + 1, format!("move_down_{}", n + 1)),
        }
    }

    /// The form pre-filled from a stored answer.
    pub fn from_answer(answer: &Answer, max_problems: u32) -> Self {
        let mut input = FormInput {
            slots: vec![SlotInput::default(); max_problems as usize],
            no_problems: matches!(answer, Answer::NoProblems),
            said_problems: matches!(answer, Answer::Problems(_)),
            extra_problems: 0,
            boxes: match answer {
                Answer::Problems(p) => p.len().clamp(1, max_problems.max(1) as usize),
                Answer::NoProblems => 1,
            },
            focus: None,
        };
        if let Answer::Problems(problems) = answer {
            for (slot, p) in input.slots.iter_mut().zip(problems) {
                *slot = SlotInput {
                    text: p.text.clone(),
                    rank: Some(p.rank),
                    frequency: p.frequency,
                    consent: p.may_contact,
                };
            }
        }
        input
    }

    /// Checks the form against the survey's rules. Filled-in slots must have distinct
    /// ranks; the ranks are then renumbered 1..m in the order the respondent chose,
    /// so leaving a slot empty never leaves a gap.
    pub fn validate(&self, survey: &Survey) -> Result<Answer, FormErrors> {
        let mut errors = FormErrors::default();
        let max = survey.max_problems as usize;
        let filled: Vec<(usize, &SlotInput)> = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.text.is_empty())
            .map(|(i, s)| (i + 1, s))
            .collect();

        if self.extra_problems > 0 || filled.len() > max {
            errors
                .form
                .push(("too_many", serde_json::json!({ "max": max })));
        }
        if self.no_problems && !filled.is_empty() {
            errors
                .form
                .push(("no_problems_and_problems", serde_json::json!({})));
        }
        if !self.no_problems && filled.is_empty() {
            errors.form.push(("empty_answer", serde_json::json!({})));
        }
        let mut seen: HashMap<u32, usize> = HashMap::new();
        for (index, slot) in &filled {
            if slot.text.chars().count() > MAX_TEXT_CHARS {
                errors.slots.insert(
                    *index,
                    (
                        "text_too_long",
                        serde_json::json!({ "max": MAX_TEXT_CHARS }),
                    ),
                );
                continue;
            }
            match slot.rank {
                Some(rank) if (1..=survey.max_problems).contains(&rank) => {
                    if seen.insert(rank, *index).is_some() {
                        errors.slots.insert(
                            *index,
                            ("rank_duplicate", serde_json::json!({ "rank": rank })),
                        );
                    }
                }
                _ => {
                    errors
                        .slots
                        .insert(*index, ("rank_missing", serde_json::json!({})));
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if self.no_problems {
            return Ok(Answer::NoProblems);
        }
        let mut problems: Vec<Problem> = filled
            .iter()
            .map(|(_, s)| Problem {
                rank: s.rank.unwrap_or(u32::MAX),
                text: s.text.clone(),
                frequency: if survey.ask_frequency {
                    s.frequency
                } else {
                    None
                },
                may_contact: survey.ask_consent && s.consent,
            })
            .collect();
        problems.sort_by_key(|p| p.rank);
        for (i, p) in problems.iter_mut().enumerate() {
            p.rank = i as u32 + 1;
        }
        Ok(Answer::Problems(problems))
    }

    /// The template context for the form (docs/TEMPLATES.md), with errors in the
    /// respondent's language next to their fields and, linked, in a summary.
    pub fn context(
        &self,
        survey: &Survey,
        locale: Locale,
        errors: &FormErrors,
        name: &str,
        action: &str,
        answered_before: bool,
    ) -> serde_json::Value {
        let message = |(key, vars): &(&'static str, serde_json::Value)| {
            survey.message(locale, key, vars.clone())
        };
        let slots: Vec<_> = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, slot)| {
                let error = errors.slots.get(&(i + 1)).map(|e| (e.0, message(e)));
                self.slot_context(survey, i + 1, slot, error)
            })
            .collect();
        let form_errors: Vec<String> = errors.form.iter().map(message).collect();
        let summary: Vec<_> = errors
            .form
            .iter()
            .map(|e| serde_json::json!({"href": format!("#{}", form_error_field(e.0)), "text": message(e)}))
            .chain(errors.slots.iter().map(|(index, e)| {
                serde_json::json!({"href": format!("#{}", slot_error_field(e.0, *index)), "text": message(e)})
            }))
            .collect();
        serde_json::json!({
            "contact": {"name": name},
            "action": action,
            "answered_before": answered_before,
            "no_problems": self.no_problems,
            "had_problems": !self.no_problems && (self.said_problems || self.slots.iter().any(|s| !s.text.is_empty())),
            "has_errors": !errors.is_empty(),
            "form_errors": form_errors,
            "errors": summary,
            "slots": slots,
            "boxes": self.boxes,
            "can_add": self.boxes < self.slots.len(),
            "max_text": MAX_TEXT_CHARS,
        })
    }

    /// One problem box as the template sees it. Move buttons are offered only
    /// where they do something: on a box with text, towards a neighbour with text.
    fn slot_context(
        &self,
        survey: &Survey,
        index: usize,
        slot: &SlotInput,
        error: Option<(&'static str, String)>,
    ) -> serde_json::Value {
        let m = survey.max_problems;
        let chosen = slot.rank.unwrap_or(index as u32);
        let has_text = |i: usize| {
            i >= 1 && i <= self.boxes && self.slots.get(i - 1).is_some_and(|s| !s.text.is_empty())
        };
        let (rank_error, text_error) = match error {
            Some((key, text)) if key.starts_with("rank_") => (Some(text), None),
            Some((_, text)) => (None, Some(text)),
            None => (None, None),
        };
        let chars = slot.text.chars().count();
        let (up, down) = (
            has_text(index) && has_text(index - 1),
            has_text(index) && has_text(index + 1),
        );
        // After a move the focus follows the problem to its button, or, where that
        // button is not shown (the top or the bottom), to the other one or the text.
        let focus = self.focus.as_deref().and_then(|f| match f {
            _ if f == format!("problem_{index}") => Some(Focus::Text),
            _ if f == format!("move_up_{index}") => Some(Focus::Up),
            _ if f == format!("move_down_{index}") => Some(Focus::Down),
            _ => None,
        });
        serde_json::json!({
            "index": index,
            "text": slot.text,
            "error": rank_error.as_ref().or(text_error.as_ref()),
            "text_error": text_error,
            "rank_error": rank_error,
            "rank": chosen,
            "rank_options": (1..=m).map(|v| serde_json::json!({"value": v, "selected": v == chosen})).collect::<Vec<_>>(),
            "frequency_options": Frequency::ALL.iter().map(|f| serde_json::json!({"value": f.as_str(), "selected": slot.frequency == Some(*f)})).collect::<Vec<_>>(),
            "consent": slot.consent,
            "hidden": index > self.boxes,
            "most_important": index == 1,
            "chars": chars,
            "over": chars > MAX_TEXT_CHARS,
            "can_move_up": up,
            "can_move_down": down,
            "focus_text": focus == Some(Focus::Text) || (focus.is_some() && !up && !down),
            "focus_up": focus == Some(Focus::Up) && up,
            "focus_down": down && (focus == Some(Focus::Down) || (focus == Some(Focus::Up) && !up)),
        })
    }
}

/// Where in a box the keyboard focus goes when the form is shown again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Focus {
    Text,
    Up,
    Down,
}

/// The field a form-wide error's summary link leads to.
fn form_error_field(key: &str) -> &'static str {
    match key {
        "no_problems_and_problems" => "no_problems_yes",
        _ => "problem_1",
    }
}

/// The field a problem's error marks: the rank for a rank error, else the text.
fn slot_error_field(key: &str, index: usize) -> String {
    if key.starts_with("rank_") {
        format!("rank_{index}")
    } else {
        format!("problem_{index}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn survey() -> Survey {
        Survey::shipped("discovery").unwrap()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_form_offers_the_frequencies_survey_templates_are_checked_with() {
        let spelled: Vec<&str> = Frequency::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(spelled, crate::survey::FREQUENCIES);
    }

    #[test]
    fn ranks_are_renumbered_in_the_chosen_order() {
        let form = FormInput::from_pairs(
            &pairs(&[
                ("problem_1", "  late delivery "),
                ("rank_1", "3"),
                ("problem_2", ""),
                ("rank_2", "2"),
                ("problem_3", "wrong invoice"),
                ("rank_3", "1"),
                ("frequency_3", "often"),
                ("consent_3", "yes"),
            ]),
            5,
        );
        let Answer::Problems(p) = form.validate(&survey()).unwrap() else {
            panic!("expected problems")
        };
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].rank, p[0].text.as_str()), (1, "wrong invoice"));
        assert_eq!(p[0].frequency, Some(Frequency::Often));
        assert!(p[0].may_contact);
        assert_eq!((p[1].rank, p[1].text.as_str()), (2, "late delivery"));
    }

    #[test]
    fn duplicate_ranks_and_long_texts_are_errors_next_to_their_fields() {
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        let form = FormInput::from_pairs(
            &pairs(&[
                ("problem_1", "a"),
                ("rank_1", "1"),
                ("problem_2", "b"),
                ("rank_2", "1"),
                ("problem_3", &long),
                ("rank_3", "3"),
            ]),
            5,
        );
        let errors = form.validate(&survey()).unwrap_err();
        assert_eq!(errors.slots[&2].0, "rank_duplicate");
        assert_eq!(errors.slots[&3].0, "text_too_long");
        assert!(errors.form.is_empty());
    }

    #[test]
    fn no_problems_is_an_answer_but_not_together_with_problems() {
        let none = FormInput::from_pairs(&pairs(&[("no_problems", "yes")]), 5);
        assert_eq!(none.validate(&survey()), Ok(Answer::NoProblems));
        let both = FormInput::from_pairs(
            &pairs(&[("no_problems", "yes"), ("problem_1", "x"), ("rank_1", "1")]),
            5,
        );
        assert_eq!(
            both.validate(&survey()).unwrap_err().form[0].0,
            "no_problems_and_problems"
        );
        let empty = FormInput::from_pairs(&[], 5);
        assert_eq!(
            empty.validate(&survey()).unwrap_err().form[0].0,
            "empty_answer"
        );
    }

    #[test]
    fn more_problems_than_the_survey_allows_are_refused() {
        let form = FormInput::from_pairs(
            &pairs(&[("problem_1", "a"), ("rank_1", "1"), ("problem_6", "f")]),
            5,
        );
        assert_eq!(form.validate(&survey()).unwrap_err().form[0].0, "too_many");
    }

    #[test]
    fn a_stored_answer_fills_the_form_back_in() {
        let answer = Answer::Problems(vec![Problem {
            rank: 1,
            text: "Fakturan var fel".into(),
            frequency: Some(Frequency::Sometimes),
            may_contact: true,
        }]);
        let form = FormInput::from_answer(&answer, 5);
        assert_eq!(form.validate(&survey()), Ok(answer));
    }

    #[test]
    fn add_another_and_moves_change_the_form_and_keep_what_was_typed() {
        let posted = pairs(&[
            ("problem_1", "late"),
            ("problem_2", "wrong invoice"),
            ("consent_2", "yes"),
            ("boxes", "2"),
            ("move", "up_2"),
        ]);
        let mut form = FormInput::from_pairs(&posted, 5);
        assert_eq!(Edit::from_pairs(&posted), Some(Edit::MoveUp(2)));
        form.apply(Edit::MoveUp(2));
        assert_eq!(form.slots[0].text, "wrong invoice");
        assert!(form.slots[0].consent, "the consent moves with its problem");
        assert_eq!((form.slots[0].rank, form.slots[1].rank), (Some(1), Some(2)));
        form.apply(Edit::MoveUp(1));
        assert_eq!(
            form.slots[0].text, "wrong invoice",
            "nothing above the first"
        );
        form.apply(Edit::AddBox);
        assert_eq!((form.boxes, form.focus.as_deref()), (3, Some("problem_3")));
        for _ in 0..5 {
            form.apply(Edit::AddBox);
        }
        assert_eq!(form.boxes, 5, "at most M boxes");
    }
}
