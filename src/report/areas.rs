//! Which area a mention counts in. This is the one place that decides it, so that the
//! coding capability can take over by replacing [`group`]: a mention coded into an
//! area (today only by `pds responses import`, `coded_by = "import"`) counts in that
//! area; any other mention is grouped with mentions of identical normalised text
//! (`normalised-text-v1`), and the area is labelled with its most common wording.

use std::collections::HashMap;

use serde::Serialize;

use crate::coding;

/// How uncoded mentions are grouped; shown with every result.
pub const TEXT_GROUPING: &str = "normalised-text-v1";

/// One mention as stored, with the area it was coded into, if any.
#[derive(Debug, Clone)]
pub struct StoredMention {
    pub text: String,
    /// `(area id, area label, coded_by)`.
    pub coded: Option<(i64, String, String)>,
}

/// A problem area: its label and how its mentions were put together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Area {
    pub label: String,
    /// `normalised-text-v1`, or who coded it (`import`).
    pub grouping: String,
}

/// Areas in order of first mention, and the area of each mention.
#[derive(Debug, Clone, Default)]
pub struct Grouping {
    pub areas: Vec<Area>,
    pub area_of: Vec<usize>,
}

/// Groups mentions into areas (see the module comment).
pub fn group(mentions: &[StoredMention]) -> Grouping {
    let mut index: HashMap<(bool, String), usize> = HashMap::new();
    let mut wordings: Vec<HashMap<&str, u64>> = Vec::new();
    let mut grouping = Grouping::default();
    for m in mentions {
        let key = match &m.coded {
            Some((id, _, _)) => (true, id.to_string()),
            None => (false, coding::group_key(&m.text)),
        };
        let next = grouping.areas.len();
        let area = *index.entry(key).or_insert_with(|| {
            let (label, by) = match &m.coded {
                Some((_, label, by)) => (label.clone(), by.clone()),
                None => (String::new(), TEXT_GROUPING.to_string()),
            };
            grouping.areas.push(Area {
                label,
                grouping: by,
            });
            wordings.push(HashMap::new());
            next
        });
        if m.coded.is_none() {
            *wordings[area].entry(m.text.trim()).or_default() += 1;
        }
        grouping.area_of.push(area);
    }
    for (area, words) in grouping.areas.iter_mut().zip(&wordings) {
        if let Some((text, _)) = words
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        {
            area.label = (*text).to_string();
        }
    }
    grouping
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> StoredMention {
        StoredMention {
            text: t.into(),
            coded: None,
        }
    }

    #[test]
    fn coded_mentions_keep_their_area_and_the_rest_group_by_text() {
        let coded = StoredMention {
            text: "late delivery".into(),
            coded: Some((7, "Delivery".into(), "import".into())),
        };
        let g = group(&[
            text("Late delivery!"),
            text("late delivery"),
            text("late delivery"),
            coded,
        ]);
        assert_eq!(g.area_of, vec![0, 0, 0, 1]);
        assert_eq!(g.areas[0].label, "late delivery", "most common wording");
        assert_eq!(g.areas[0].grouping, TEXT_GROUPING);
        assert_eq!(g.areas[1].label, "Delivery");
        assert_eq!(g.areas[1].grouping, "import");
    }
}
