//! Checklist drafts: the answers chosen so far, kept when a respondent presses
//! "Save and continue later", so that the same link opens the form filled in
//! again. One row per invitation in `checklist_drafts`: the chosen answers as a
//! JSON object of form fields (`{"experienced_late-delivery": "often",
//! "bother_late-delivery": "4", "problem_1": "…", "rank_1": "1"}`) and when it was
//! saved. A draft is never checked for completeness and never counted: it is
//! deleted when the answer is sent (in the answer's transaction) and when the
//! person is erased (`invite::privacy`, which deletes the rows itself). This room
//! must not render pages or talk HTTP.

use std::collections::BTreeMap;

use diesel::prelude::*;

use super::form::ChecklistInput;
use super::Checklist;
use crate::answer::form::MAX_TEXT_CHARS;
use crate::db::schema::checklist_drafts;
use crate::db::AnyConnection;
use crate::error::{Error, Result};

/// The chosen answers of an unfinished checklist, as form fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    fields: BTreeMap<String, String>,
}

/// A draft the form's own limits refuse: a written-in problem longer than the
/// form accepts (1-based slot, as the form numbers them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("other problem {0} is longer than {MAX_TEXT_CHARS} characters")]
pub struct TooLong(pub usize);

impl Draft {
    /// The answers chosen so far in a submitted form. What `ChecklistInput` read
    /// is already bounded by the checklist (known items only) and the survey's
    /// number of write-ins; a write-in must also fit the form's length limit.
    pub fn of_input(input: &ChecklistInput) -> std::result::Result<Draft, TooLong> {
        let mut fields = BTreeMap::new();
        for (id, item) in &input.items {
            if let Some(e) = item.experienced {
                fields.insert(format!("experienced_{id}"), e.as_str().to_string());
            }
            if let Some(b) = item.bother {
                fields.insert(format!("bother_{id}"), b.get().to_string());
            }
            if let Some(s) = item.solved_elsewhere {
                fields.insert(format!("solved_{id}"), s.as_str().to_string());
            }
        }
        for (i, slot) in input.write_ins.slots.iter().enumerate() {
            let n = i + 1;
            if slot.text.chars().count() > MAX_TEXT_CHARS {
                return Err(TooLong(n));
            }
            if !slot.text.is_empty() {
                fields.insert(format!("problem_{n}"), slot.text.clone());
            }
            if let Some(rank) = slot.rank {
                fields.insert(format!("rank_{n}"), rank.to_string());
            }
            if slot.consent {
                fields.insert(format!("consent_{n}"), "yes".into());
            }
        }
        Ok(Draft { fields })
    }

    /// The form filled in from the draft, read as a submission is (the form's
    /// re-fill path). Items the checklist no longer has are left out.
    pub fn to_input(&self, checklist: &Checklist, max_problems: u32) -> ChecklistInput {
        let known = |key: &str| match key.split_once('_') {
            Some(("problem" | "rank" | "consent", _)) => true,
            Some((_, id)) => checklist.item(id).is_some(),
            None => false,
        };
        let pairs: Vec<(String, String)> = self
            .fields
            .iter()
            .filter(|(k, _)| known(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        ChecklistInput::from_pairs(&pairs, checklist, max_problems).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

#[derive(Insertable)]
#[diesel(table_name = checklist_drafts)]
struct Row<'a> {
    invitation_id: i64,
    answers: &'a str,
    updated_at: chrono::NaiveDateTime,
}

/// Keeps `draft` as the invitation's draft, replacing the one it had. The caller
/// holds the transaction.
pub fn save(
    conn: &mut AnyConnection,
    invitation_id: i64,
    draft: &Draft,
    at: chrono::NaiveDateTime,
) -> Result<()> {
    let answers = serde_json::to_string(&draft.fields)
        .map_err(|e| Error::Internal(format!("a checklist draft as JSON: {e}")))?;
    discard(conn, invitation_id)?;
    diesel::insert_into(checklist_drafts::table)
        .values(Row {
            invitation_id,
            answers: &answers,
            updated_at: at,
        })
        .execute(conn)?;
    Ok(())
}

/// The invitation's draft, if one was saved.
pub fn load(conn: &mut AnyConnection, invitation_id: i64) -> Result<Option<Draft>> {
    let answers: Option<String> = checklist_drafts::table
        .find(invitation_id)
        .select(checklist_drafts::answers)
        .first(conn)
        .optional()?;
    answers
        .map(|text| {
            serde_json::from_str(&text)
                .map(|fields| Draft { fields })
                .map_err(|e| {
                    Error::Internal(format!(
                        "the checklist draft of invitation {invitation_id} cannot be read: {e}"
                    ))
                })
        })
        .transpose()
}

/// Deletes the invitation's draft (the answer was sent); none is no error.
pub fn discard(conn: &mut AnyConnection, invitation_id: i64) -> Result<()> {
    diesel::delete(checklist_drafts::table.find(invitation_id)).execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist::form::tests::setup;

    fn input(list: &[(&str, &str)], checklist: &Checklist, m: u32) -> ChecklistInput {
        let pairs: Vec<(String, String)> = list
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ChecklistInput::from_pairs(&pairs, checklist, m).unwrap()
    }

    #[test]
    fn a_half_answered_form_comes_back_as_it_was() {
        let (survey, checklist) = setup();
        let m = survey.max_problems;
        let half = input(
            &[
                ("experienced_late-delivery", "often"),
                ("bother_late-delivery", "4"),
                ("experienced_damaged-goods", "never"),
                ("problem_1", "Parking is hard"),
                ("rank_1", "1"),
            ],
            &checklist,
            m,
        );
        let draft = Draft::of_input(&half).unwrap();
        let json = serde_json::to_string(&draft.fields).unwrap();
        let back = Draft {
            fields: serde_json::from_str(&json).unwrap(),
        };
        assert_eq!(back.to_input(&checklist, m), half);
    }

    #[test]
    fn a_write_in_longer_than_the_form_allows_is_not_kept() {
        let (survey, checklist) = setup();
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        let too_long = input(&[("problem_2", &long)], &checklist, survey.max_problems);
        assert_eq!(Draft::of_input(&too_long), Err(TooLong(2)));
    }

    #[test]
    fn an_item_no_longer_in_the_checklist_is_left_out() {
        let (survey, checklist) = setup();
        let mut fields = BTreeMap::new();
        fields.insert("experienced_parking".to_string(), "often".to_string());
        fields.insert("experienced_late-delivery".to_string(), "never".to_string());
        let restored = Draft { fields }.to_input(&checklist, survey.max_problems);
        assert_eq!(restored.items.len(), 1);
        assert!(restored.items.contains_key("late-delivery"));
    }
}
