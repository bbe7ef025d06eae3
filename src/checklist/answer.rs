//! One respondent's answer to one checklist item, parsed once at the edge (form,
//! import) so that a stored answer is always whole: bother and "solved elsewhere"
//! only for a problem had. Pure: storing is `store.rs`'s job.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::ItemId;
use crate::named;

/// The value of `all` named `text` (spaces around it ignored), or an error that
/// lists the names.
fn one_of<T: Copy>(all: &[T], name: fn(T) -> &'static str, text: &str) -> Result<T, String> {
    named::find(all, name, text.trim())
        .ok_or_else(|| format!("{text:?} is not one of {}", named::list(all, name)))
}

/// "Have you had this problem?"
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Experienced {
    Never,
    Sometimes,
    Often,
}

impl Experienced {
    pub const ALL: [Experienced; 3] = [
        Experienced::Never,
        Experienced::Sometimes,
        Experienced::Often,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Experienced::Never => "never",
            Experienced::Sometimes => "sometimes",
            Experienced::Often => "often",
        }
    }

    /// Sometimes or often: the follow-up questions apply.
    pub fn had(self) -> bool {
        self != Experienced::Never
    }
}

impl FromStr for Experienced {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        one_of(&Experienced::ALL, Experienced::as_str, s)
    }
}

impl fmt::Display for Experienced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a problem had bothers: 1 (not at all) to 5 (very much).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Bother(u8);

impl Bother {
    pub fn new(value: i64) -> Result<Bother, String> {
        match u8::try_from(value) {
            Ok(v @ 1..=5) => Ok(Bother(v)),
            _ => Err(format!("bother {value} is not from 1 to 5")),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl FromStr for Bother {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse::<i64>()
            .map_err(|_| format!("bother {s:?} is not a number from 1 to 5"))
            .and_then(Bother::new)
    }
}

/// "Does another supplier already solve this?"
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SolvedElsewhere {
    Yes,
    No,
    DontKnow,
}

impl SolvedElsewhere {
    pub const ALL: [SolvedElsewhere; 3] = [
        SolvedElsewhere::Yes,
        SolvedElsewhere::No,
        SolvedElsewhere::DontKnow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SolvedElsewhere::Yes => "yes",
            SolvedElsewhere::No => "no",
            SolvedElsewhere::DontKnow => "dont_know",
        }
    }
}

impl FromStr for SolvedElsewhere {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        one_of(&SolvedElsewhere::ALL, SolvedElsewhere::as_str, s)
    }
}

/// Why an item's answer cannot be stored as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ItemAnswerError {
    #[error("sometimes or often needs how much it bothers (1-5)")]
    BotherMissing,
    #[error("how much it bothers, or whether another supplier solves it, is only asked of a problem had (sometimes or often)")]
    FollowUpWithoutProblem,
}

/// One item's answer, whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemAnswer {
    pub item: ItemId,
    /// 1-based place in the order the respondent was shown; `None` when imported.
    pub position: Option<u32>,
    pub experienced: Experienced,
    /// Present exactly when the problem was had.
    pub bother: Option<Bother>,
    /// Only when the problem was had and the survey asks it; may be left out.
    pub solved_elsewhere: Option<SolvedElsewhere>,
}

impl ItemAnswer {
    /// An answer, refused when its parts do not fit together.
    pub fn new(
        item: ItemId,
        position: Option<u32>,
        experienced: Experienced,
        bother: Option<Bother>,
        solved_elsewhere: Option<SolvedElsewhere>,
    ) -> Result<ItemAnswer, ItemAnswerError> {
        match (experienced.had(), bother, solved_elsewhere) {
            (true, None, _) => Err(ItemAnswerError::BotherMissing),
            (false, Some(_), _) | (false, _, Some(_)) => {
                Err(ItemAnswerError::FollowUpWithoutProblem)
            }
            _ => Ok(ItemAnswer {
                item,
                position,
                experienced,
                bother,
                solved_elsewhere,
            }),
        }
    }
}

/// Item answers as plain JSON (for an answer that waits in the answer inbox), and
/// back, checked again on the way in as any answer is.
pub fn to_json(answers: &[ItemAnswer]) -> serde_json::Value {
    serde_json::Value::Array(
        answers
            .iter()
            .map(|a| {
                serde_json::json!({
                    "item": a.item.as_str(),
                    "position": a.position,
                    "experienced": a.experienced.as_str(),
                    "bother": a.bother.map(Bother::get),
                    "solved_elsewhere": a.solved_elsewhere.map(SolvedElsewhere::as_str),
                })
            })
            .collect(),
    )
}

/// The item answers [`to_json`] wrote; `Err` says what is wrong with them.
pub fn from_json(value: &serde_json::Value) -> Result<Vec<ItemAnswer>, String> {
    #[derive(serde::Deserialize)]
    struct Raw {
        item: String,
        position: Option<u32>,
        experienced: String,
        bother: Option<i64>,
        solved_elsewhere: Option<String>,
    }
    let raw: Vec<Raw> =
        serde_json::from_value(value.clone()).map_err(|e| format!("item answers: {e}"))?;
    raw.into_iter()
        .map(|r| {
            ItemAnswer::new(
                ItemId::parse(&r.item)?,
                r.position,
                r.experienced.parse()?,
                r.bother.map(Bother::new).transpose()?,
                r.solved_elsewhere.as_deref().map(str::parse).transpose()?,
            )
            .map_err(|e| format!("item {}: {e}", r.item))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_answers_survive_a_round_trip_through_json_and_are_checked_again() {
        let answers = vec![
            ItemAnswer::new(
                id(),
                Some(2),
                Experienced::Often,
                Some(Bother::new(4).unwrap()),
                None,
            )
            .unwrap(),
            ItemAnswer::new(id(), Some(1), Experienced::Never, None, None).unwrap(),
        ];
        assert_eq!(from_json(&to_json(&answers)).unwrap(), answers);
        let half = serde_json::json!([{"item": "late-delivery", "position": 1,
            "experienced": "often", "bother": null, "solved_elsewhere": null}]);
        assert!(from_json(&half).is_err(), "bother is required for often");
    }

    fn id() -> ItemId {
        ItemId::parse("late-delivery").unwrap()
    }

    #[test]
    fn values_are_spelt_as_the_form_and_templates_spell_them() {
        let spelt: Vec<_> = Experienced::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(spelt, crate::survey::EXPERIENCED);
        let spelt: Vec<_> = SolvedElsewhere::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(spelt, crate::survey::SOLVED_ELSEWHERE);
        assert_eq!("often".parse(), Ok(Experienced::Often));
        assert!("rarely".parse::<Experienced>().is_err());
        assert_eq!("4".parse::<Bother>().map(Bother::get), Ok(4));
        assert!("6".parse::<Bother>().is_err());
        assert!("0".parse::<Bother>().is_err());
    }

    #[test]
    fn a_problem_had_needs_its_bother_and_a_problem_never_had_has_none() {
        let four = Bother::new(4).ok();
        assert!(ItemAnswer::new(id(), Some(1), Experienced::Often, four, None).is_ok());
        assert!(ItemAnswer::new(id(), None, Experienced::Never, None, None).is_ok());
        assert_eq!(
            ItemAnswer::new(id(), None, Experienced::Sometimes, None, None),
            Err(ItemAnswerError::BotherMissing)
        );
        assert_eq!(
            ItemAnswer::new(id(), None, Experienced::Never, four, None),
            Err(ItemAnswerError::FollowUpWithoutProblem)
        );
        assert_eq!(
            ItemAnswer::new(
                id(),
                None,
                Experienced::Never,
                None,
                Some(SolvedElsewhere::Yes)
            ),
            Err(ItemAnswerError::FollowUpWithoutProblem)
        );
    }
}
