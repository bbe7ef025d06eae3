//! What a coding run decides for each undecided mention, before anything is
//! written: the survey's areas followed through merges, what the decided mentions
//! say of each proposal of grouping, what analysts' decisions teach, and from
//! those the area (stored, or to create), who coded it and why. Reads nothing.

use std::collections::HashMap;

use super::super::{
    is_decided, StoredArea, StoredMention, AUTO_KEY, BY_AUTOMATIC, BY_NONE, BY_RULE, RULE_KEY,
};
use super::CodingRun;
use crate::coding::learn::{Learned, LearningOptions};
use crate::coding::{Analyzer, Assignment, Codebook, Coding, CodingResult, MentionText, RuleMatch};

/// Where coding puts an undecided mention.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Target {
    Area(AreaRef),
    Nowhere,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum AreaRef {
    Existing(i64),
    /// A codebook area, by codebook index, not stored yet.
    Rule(usize),
    /// A proposal of automatic grouping, not stored yet.
    Proposal(usize),
}

/// The survey's stored areas by id and key.
pub(super) struct KnownAreas<'a> {
    by_id: HashMap<i64, &'a StoredArea>,
    by_key: HashMap<&'a str, &'a StoredArea>,
}

impl<'a> KnownAreas<'a> {
    pub(super) fn new(areas: &'a [StoredArea]) -> Self {
        KnownAreas {
            by_id: areas.iter().map(|a| (a.id, a)).collect(),
            by_key: areas.iter().map(|a| (a.key.as_str(), a)).collect(),
        }
    }

    /// Follows merges to the area that now holds a merged area's mentions.
    pub(super) fn resolve(&self, mut id: i64) -> i64 {
        for _ in 0..self.by_id.len() {
            match self.by_id.get(&id).and_then(|a| a.merged_into) {
                Some(next) => id = next,
                None => break,
            }
        }
        id
    }

    /// The area stored under `key`, followed through merges.
    fn keyed(&self, key: &str) -> Option<i64> {
        self.by_key.get(key).map(|a| self.resolve(a.id))
    }

    /// An area's label as a note quotes it.
    fn name(&self, id: i64) -> String {
        self.by_id
            .get(&id)
            .map_or_else(|| format!("area {id}"), |a| format!("{:?}", a.label))
    }
}

/// What the decided mentions say of each proposal of automatic grouping.
pub(super) struct ProposalPlaces {
    /// The analyst's area a proposal continues: where most of its decided mentions sit.
    pub(super) continued: Vec<Option<i64>>,
    /// The first undecided mention of each proposal: its stable key.
    pub(super) first_of: Vec<Option<i64>>,
}

impl ProposalPlaces {
    pub(super) fn new(all: &[StoredMention], result: &CodingResult, areas: &KnownAreas) -> Self {
        let count = result.proposals.len();
        let mut decided_in: Vec<HashMap<i64, usize>> = vec![HashMap::new(); count];
        let mut first_of: Vec<Option<i64>> = vec![None; count];
        for (m, coding) in all.iter().zip(&result.codings) {
            let Coding::Automatic(a) = coding else {
                continue;
            };
            if is_decided(m.coded_by.as_deref()) {
                if let Some(area) = m.area_id {
                    *decided_in[a.proposal]
                        .entry(areas.resolve(area))
                        .or_default() += 1;
                }
            } else if first_of[a.proposal].is_none() {
                first_of[a.proposal] = Some(m.id);
            }
        }
        let continued = decided_in
            .iter()
            .map(|counts| {
                let total: usize = counts.values().sum();
                counts
                    .iter()
                    .max_by_key(|(id, n)| (**n, std::cmp::Reverse(**id)))
                    .filter(|(_, n)| **n * 2 > total)
                    .map(|(id, _)| *id)
            })
            .collect();
        ProposalPlaces {
            continued,
            first_of,
        }
    }
}

/// Where one undecided mention goes: `all[index]` into `target`, with who and why.
pub(super) struct Planned {
    pub(super) index: usize,
    pub(super) target: Target,
    pub(super) by: &'static str,
    pub(super) note: String,
}

/// Everything a run decides from.
pub(super) struct Plan<'a> {
    pub(super) codebook: &'a Codebook,
    pub(super) result: &'a CodingResult,
    pub(super) areas: &'a KnownAreas<'a>,
    pub(super) places: &'a ProposalPlaces,
    pub(super) learned: &'a [LearnedCoding],
}

impl Plan<'_> {
    /// Where every undecided mention goes, counting in `run` how it was coded.
    pub(super) fn all(&self, all: &[StoredMention], run: &mut CodingRun) -> Vec<Planned> {
        let mut planned = Vec::new();
        for (index, (m, coding)) in all.iter().zip(&self.result.codings).enumerate() {
            if is_decided(m.coded_by.as_deref()) {
                continue;
            }
            let learned = &self.learned[index];
            let (target, by, note) = match coding {
                Coding::Rule(rule) => {
                    run.by_rule += 1;
                    self.by_rule(rule)
                }
                Coding::Automatic(_) | Coding::Uncoded if learned.sure.is_some() => {
                    run.automatic += 1;
                    let (area, note) = learned.sure.clone().unwrap_or_default();
                    (Target::Area(AreaRef::Existing(area)), BY_AUTOMATIC, note)
                }
                Coding::Automatic(a) => {
                    run.automatic += 1;
                    self.by_grouping(a)
                }
                Coding::Uncoded => {
                    run.uncoded += 1;
                    (
                        Target::Nowhere,
                        BY_NONE,
                        "no rule matched and it is unlike every proposed area".to_string(),
                    )
                }
            };
            let note = match (&learned.unsure, by) {
                (Some(unsure), BY_AUTOMATIC) => format!("{note}; {unsure}"),
                _ => note,
            };
            planned.push(Planned {
                index,
                target,
                by,
                note,
            });
        }
        planned
    }

    /// A codebook rule's area: stored already (perhaps merged since), or to create.
    fn by_rule(&self, rule: &RuleMatch) -> (Target, &'static str, String) {
        let index = self
            .codebook
            .areas
            .iter()
            .position(|a| a.id == rule.area)
            .unwrap_or_default();
        let target = match self.areas.keyed(&format!("{RULE_KEY}{}", rule.area)) {
            Some(id) => AreaRef::Existing(id),
            None => AreaRef::Rule(index),
        };
        (Target::Area(target), BY_RULE, rule.to_string())
    }

    /// A proposal's area: the analyst's area it continues, the area stored for it
    /// by an earlier run, or a new one.
    fn by_grouping(&self, a: &Assignment) -> (Target, &'static str, String) {
        let proposal = &self.result.proposals[a.proposal];
        let moved = a.moved_by.map_or(String::new(), |vote| {
            format!(
                "; moved there by the texts most like it ({} of its {} nearest are there, \
                 the nearest at {:.2})",
                vote.here, vote.asked, vote.nearest
            )
        });
        if let Some(area) = self.places.continued[a.proposal] {
            let note = format!(
                "similar ({:.2}) to mentions an analyst put in this area (proposal {:?}){moved}",
                a.similarity, proposal.label
            );
            return (Target::Area(AreaRef::Existing(area)), BY_AUTOMATIC, note);
        }
        let key = self.places.first_of[a.proposal].map(|id| format!("{AUTO_KEY}{id}"));
        let target = match key.as_deref().and_then(|k| self.areas.keyed(k)) {
            Some(id) => AreaRef::Existing(id),
            None => AreaRef::Proposal(a.proposal),
        };
        let note = format!(
            "similar ({:.2}) to the proposal {:?}{moved}",
            a.similarity, proposal.label
        );
        (Target::Area(target), BY_AUTOMATIC, note)
    }
}

/// What the model learned from analysts' decisions says of one mention: an
/// area it is sure of (and why), or why it is unsure (kept as a note beside the
/// automatic proposal, so the analyst sees the nearest areas).
#[derive(Debug, Clone, Default)]
pub(super) struct LearnedCoding {
    sure: Option<(i64, String)>,
    unsure: Option<String>,
}

/// Trains on the mentions an analyst (or an imported file) placed, each in the
/// area it now counts in, and says for every other mention where it belongs.
/// Nothing is learned from fewer than two areas. Decided mentions never change
/// when coding runs, so neither does the model: running again changes nothing.
pub(super) fn learn_from_decisions(
    all: &[StoredMention],
    texts: &[MentionText<'_>],
    asked: &[bool],
    areas: &KnownAreas,
) -> Vec<LearnedCoding> {
    let mut area_ids: Vec<i64> = Vec::new();
    let mut examples = Vec::new();
    let mut labels = Vec::new();
    for (m, text) in all.iter().zip(texts) {
        if let (true, Some(area)) = (is_decided(m.coded_by.as_deref()), m.area_id) {
            let area = areas.resolve(area);
            let label = match area_ids.iter().position(|&a| a == area) {
                Some(l) => l,
                None => {
                    area_ids.push(area);
                    area_ids.len() - 1
                }
            };
            examples.push(*text);
            labels.push(label);
        }
    }
    let mut out = vec![LearnedCoding::default(); all.len()];
    if area_ids.len() < 2 {
        return out;
    }
    let analyzer = Analyzer::new();
    let model = Learned::train(
        &analyzer,
        &examples,
        &labels,
        area_ids.len(),
        &LearningOptions::default(),
    );
    let undecided: Vec<usize> = (0..all.len())
        .filter(|&i| asked[i] && !is_decided(all[i].coded_by.as_deref()))
        .collect();
    let asked: Vec<MentionText<'_>> = undecided.iter().map(|&i| texts[i]).collect();
    let name = |l: usize| areas.name(area_ids[l]);
    let decisions = examples.len();
    for (i, suggestion) in undecided.into_iter().zip(model.suggest(&analyzer, &asked)) {
        let Some(s) = suggestion else { continue };
        let reason = s.reason(name);
        out[i] = if s.sure {
            LearnedCoding {
                sure: Some((
                    area_ids[s.area],
                    format!("{reason} ({decisions} analyst decisions)"),
                )),
                unsure: None,
            }
        } else {
            LearnedCoding {
                sure: None,
                unsure: Some(reason),
            }
        };
    }
    out
}
