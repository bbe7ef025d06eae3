//! Which area a mention counts in. This is the one place that decides it: a mention
//! counts in the area it is stored in (coded by codebook rules or automatic
//! grouping with `pds code`, decided by an analyst with `pds areas`, or named in an
//! imported file), and a mention in no area counts in none. Such mentions are not
//! dropped silently: they are returned apart, and results list them as not coded.

use std::collections::HashMap;

use serde::Serialize;

use crate::coding::store::{BY_ANALYST, BY_AUTOMATIC, BY_IMPORT, BY_RULE, CODING_METHOD};

/// The grouping of results in which no mention is in an area yet.
pub const TEXT_GROUPING: &str = CODING_METHOD;

/// One mention as stored, with the area it was coded into, if any.
#[derive(Debug, Clone)]
pub struct StoredMention {
    pub text: String,
    /// `(area id, area label, how the area was made)`: see [`grouping_of`].
    pub coded: Option<(i64, String, String)>,
}

/// A problem area: its label and how its mentions were put together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Area {
    pub label: String,
    /// `codebook+auto-v1` (coded by `pds code`), `analyst` (made by an analyst's
    /// split) or `import` (named in an imported file).
    pub grouping: String,
}

/// Areas in order of first mention, the area of each mention (`None`: not coded),
/// and the indices of the mentions that are in no area.
#[derive(Debug, Clone, Default)]
pub struct Grouping {
    pub areas: Vec<Area>,
    pub area_of: Vec<Option<usize>>,
    pub uncoded: Vec<usize>,
}

/// The grouping name of an area made by `origin` (`areas.origin`).
pub fn grouping_of(origin: &str) -> String {
    match origin {
        BY_RULE | BY_AUTOMATIC => CODING_METHOD.to_string(),
        BY_ANALYST => BY_ANALYST.to_string(),
        BY_IMPORT => BY_IMPORT.to_string(),
        other => other.to_string(),
    }
}

/// Groups mentions into their stored areas (see the module comment).
pub fn group(mentions: &[StoredMention]) -> Grouping {
    let mut numbering = Numbering::default();
    let mut grouping = Grouping::default();
    for (i, m) in mentions.iter().enumerate() {
        let Some((id, label, by)) = &m.coded else {
            grouping.area_of.push(None);
            grouping.uncoded.push(i);
            continue;
        };
        grouping.area_of.push(Some(numbering.area(*id, label, by)));
    }
    grouping.areas = numbering.areas;
    grouping
}

/// Numbers stored areas in order of first mention, as [`group`] does, for a caller
/// that reads mentions in that order without keeping them.
#[derive(Debug, Default)]
pub struct Numbering {
    index: HashMap<i64, usize>,
    pub areas: Vec<Area>,
}

impl Numbering {
    /// The number of the area stored as `id` (labelled `label`, grouping `by`).
    pub fn area(&mut self, id: i64, label: &str, by: &str) -> usize {
        let next = self.areas.len();
        *self.index.entry(id).or_insert_with(|| {
            self.areas.push(Area {
                label: label.to_string(),
                grouping: by.to_string(),
            });
            next
        })
    }
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

    fn coded(t: &str, id: i64, label: &str, by: &str) -> StoredMention {
        StoredMention {
            text: t.into(),
            coded: Some((id, label.into(), by.into())),
        }
    }

    #[test]
    fn coded_mentions_count_in_their_area_and_the_rest_are_set_apart() {
        let g = group(&[
            coded("late delivery", 7, "Delivery", "import"),
            text("Late delivery!"),
            coded("levtid", 9, "Late delivery", CODING_METHOD),
            coded("the parcel was late", 7, "Delivery", "import"),
            text("🙂"),
        ]);
        assert_eq!(g.area_of, vec![Some(0), None, Some(1), Some(0), None]);
        assert_eq!(g.uncoded, vec![1, 4], "nothing silently disappears");
        assert_eq!(g.areas[0].label, "Delivery");
        assert_eq!(g.areas[0].grouping, "import");
        assert_eq!(g.areas[1].grouping, CODING_METHOD);
    }

    #[test]
    fn origins_name_their_grouping() {
        assert_eq!(grouping_of("rule"), CODING_METHOD);
        assert_eq!(grouping_of("automatic"), CODING_METHOD);
        assert_eq!(grouping_of("import"), "import");
        assert_eq!(grouping_of("analyst"), "analyst");
    }
}
