//! The optional views of the results: Plackett-Luce worths, segments compared,
//! a wave compared with an earlier one, early against late respondents.

use std::collections::{BTreeMap, HashMap};

use super::scope::{local_numbers, renumbered, scoped};
use crate::db::AnyConnection;
use crate::error::{Error, Result};
use crate::report::error::ViewError;
use crate::report::*;
use crate::stats::{self, StatsError};

pub(super) fn worth(
    input: &stats::DiscoveryInput,
    ranked: &[usize],
    label: &dyn Fn(usize) -> String,
) -> Result<Worth> {
    let rankings_used = input.respondents.iter().filter(|r| r.len() >= 2).count() as u64;
    match stats::worth_pl_v1(input) {
        Ok(pl) => {
            let worth_of: HashMap<usize, f64> =
                pl.areas.iter().map(|a| (a.area, a.worth)).collect();
            Ok(Worth {
                method: pl.method,
                rankings_used: pl.rankings_used,
                converged: pl.converged,
                small_sample: stats::is_small_sample(pl.rankings_used),
                areas: ranked
                    .iter()
                    .map(|&a| AreaWorth {
                        area: label(a),
                        worth: worth_of.get(&a).copied().unwrap_or(0.0),
                    })
                    .collect(),
                problem: None,
            })
        }
        Err(StatsError::ComparisonsDisconnected { problem }) => {
            use stats::Disconnection as D;
            let why = match problem {
                D::NeverCompared { area } => {
                    format!(
                        "{:?} is never ranked together with another area",
                        label(area)
                    )
                }
                D::NeverBeats { area } => {
                    format!("{:?} is never ranked above another area", label(area))
                }
                D::NeverLoses { area } => {
                    format!("{:?} is never ranked below another area", label(area))
                }
                D::Group { areas } => format!(
                    "{} are only ever ranked above, or only ever below, the other areas",
                    areas
                        .iter()
                        .map(|&a| format!("{:?}", label(a)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            Ok(Worth {
                method: stats::WORTH_PL_V1,
                rankings_used,
                converged: false,
                small_sample: stats::is_small_sample(rankings_used),
                areas: Vec::new(),
                problem: Some(format!(
                    "Plackett-Luce worths cannot be fitted: {why}; merge or drop such areas, or collect more rankings"
                )),
            })
        }
        Err(e) => Err(Error::Invalid(e.to_string())),
    }
}

pub(super) fn segments(
    attribute: &str,
    (values_by_response, known): (HashMap<i64, String>, Vec<String>),
    loaded: &load::Loaded,
    in_scope: &[usize],
    input: &stats::DiscoveryInput,
    ranked: &[usize],
    area: &dyn Fn(usize) -> Area,
) -> Result<Segments> {
    let values: Vec<Option<&String>> = in_scope
        .iter()
        .map(|&i| values_by_response.get(&loaded.respondents[i].response_id))
        .collect();
    let names = segment_names(attribute, &values, known)?;
    let index: BTreeMap<&String, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut with: Vec<Vec<stats::Mention>> = Vec::new();
    let mut segment_of = Vec::new();
    let respondents = input.respondents;
    for (value, mentions) in values.iter().zip(respondents.iter()) {
        if let Some(v) = value {
            with.push(mentions.to_vec());
            segment_of.push(index[v]);
        }
    }
    let without = (respondents.len() - with.len()) as u64;
    let sub = stats::DiscoveryInput {
        max_problems: input.max_problems,
        area_count: input.area_count,
        respondents: stats::Respondents::Nested(&with),
    };
    let comparison = stats::segment_comparison(&sub, &segment_of, names.len())
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let score_of: Vec<HashMap<usize, &stats::AreaScore>> = comparison
        .segments
        .iter()
        .map(|s| s.scores.iter().map(|a| (a.area, a)).collect())
        .collect();
    let test_of: HashMap<usize, &stats::AreaSegmentTest> =
        comparison.areas.iter().map(|t| (t.area, t)).collect();
    Ok(Segments {
        attribute: attribute.to_string(),
        stamp: comparison.stamp,
        without_attribute: without,
        segments: comparison
            .segments
            .iter()
            .map(|s| SegmentInfo {
                segment: names[s.segment].clone(),
                n: s.n,
                small_sample: s.small_sample,
            })
            .collect(),
        areas: ranked
            .iter()
            .map(|&a| {
                let info = area(a);
                SegmentArea {
                    area: info.label,
                    grouping: info.grouping,
                    per_segment: comparison
                        .segments
                        .iter()
                        .zip(&score_of)
                        .map(|(segment, scores)| segment_cell(names[segment.segment], scores[&a]))
                        .collect(),
                    test: test_of.get(&a).and_then(|t| t.test.clone()),
                    p_adjusted: test_of.get(&a).and_then(|t| t.p_adjusted),
                }
            })
            .collect(),
    })
}

/// The values of the attribute among `values`, sorted; when there are none, the
/// error names the attributes that respondents do have (`known`).
fn segment_names<'a>(
    attribute: &str,
    values: &[Option<&'a String>],
    known: Vec<String>,
) -> Result<Vec<&'a String>> {
    let mut names: Vec<&String> = values.iter().flatten().copied().collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        return Err(ViewError::unknown_attribute(attribute, known).into());
    }
    Ok(names)
}

/// An area's `joint-v1` figures in one segment.
fn segment_cell(segment: &str, s: &stats::AreaScore) -> SegmentCell {
    SegmentCell {
        segment: segment.to_string(),
        method: stats::JOINT_V1,
        n: s.n,
        mentions: s.k,
        frequency: s.frequency,
        frequency_ci: s.frequency_ci,
        importance: s.importance,
        score: s.score,
        small_sample: s.small_sample,
    }
}

pub(super) fn compare_waves(
    loaded: &load::Loaded,
    people: &HashMap<i64, String>,
    before: &[usize],
    after: &[usize],
    max_problems: u32,
    (earlier_label, later_label): (&str, &str),
) -> Result<WaveChange> {
    let all = &loaded.areas;
    let (global, inputs) = scoped(loaded, &[before, after]);
    let input = |respondents| stats::DiscoveryInput {
        max_problems,
        area_count: global.len(),
        respondents: stats::Respondents::Nested(respondents),
    };
    // The same person in both waves: the same contact, or the same imported id.
    let person = |i: usize| people.get(&loaded.respondents[i].response_id);
    let earlier_index: HashMap<&String, usize> = before
        .iter()
        .enumerate()
        .filter_map(|(i, &r)| person(r).map(|p| (p, i)))
        .collect();
    let pairs: Vec<(usize, usize)> = after
        .iter()
        .enumerate()
        .filter_map(|(j, &r)| person(r).and_then(|p| earlier_index.get(p).map(|&i| (i, j))))
        .collect();
    let comparison = stats::wave_comparison(&input(&inputs[0]), &input(&inputs[1]), &pairs)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let mut areas: Vec<WaveChangeArea> = comparison
        .areas
        .iter()
        .map(|c| {
            let a = &all[global[c.area]];
            WaveChangeArea {
                area: a.label.clone(),
                grouping: a.grouping.clone(),
                earlier_mentions: c.tests.change.k2,
                earlier_frequency: c.earlier_frequency,
                later_mentions: c.tests.change.k1,
                later_frequency: c.later_frequency,
                tests: c.tests,
            }
        })
        .collect();
    areas.sort_by(|a, b| {
        b.later_frequency
            .total_cmp(&a.later_frequency)
            .then(b.earlier_frequency.total_cmp(&a.earlier_frequency))
    });
    Ok(WaveChange {
        earlier_wave: earlier_label.to_string(),
        later_wave: later_label.to_string(),
        stamp: comparison.stamp,
        areas,
    })
}

/// Early against late respondents among those who answered through the form (an
/// imported answer's time is the import's, not the respondent's).
pub(super) fn early_late(
    conn: &mut AnyConnection,
    scope: load::Scope,
    loaded: &load::Loaded,
    in_scope: &[usize],
    local_areas: &[usize],
    ranked: &[usize],
    max_problems: u32,
) -> Result<Option<EarlyLateResult>> {
    let mut answered: Vec<usize> = in_scope
        .iter()
        .copied()
        .filter(|&i| loaded.respondents[i].via_form)
        .collect();
    if answered.len() < 2 {
        return Ok(None);
    }
    let times = load::form_answer_times(conn, scope)?;
    let id = |i: usize| loaded.respondents[i].response_id;
    answered.sort_by_key(|&i| (times.get(&id(i)).copied(), id(i)));
    let all = &loaded.areas;
    let local = local_numbers(local_areas, all.len());
    let respondents: Vec<Vec<stats::Mention>> = answered
        .iter()
        .map(|&i| renumbered(&loaded.mentions[i], &local))
        .collect();
    let order: Vec<usize> = (0..respondents.len()).collect();
    let result = stats::early_vs_late(
        &stats::DiscoveryInput {
            max_problems,
            area_count: local_areas.len(),
            respondents: stats::Respondents::Nested(&respondents),
        },
        &order,
    )
    .map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(Some(EarlyLateResult {
        stamp: result.stamp,
        small_sample: stats::is_small_sample(result.stamp.early_n.min(result.stamp.late_n)),
        any_problem: result.any_problem,
        areas: ranked
            .iter()
            .map(|&a| {
                let e = &result.areas[a];
                EarlyLateArea {
                    area: all[local_areas[e.area]].label.clone(),
                    test: e.test,
                    p_adjusted: e.p_adjusted,
                }
            })
            .collect(),
    }))
}
