//! Computing `Results`: which respondents are in scope (wave, segment), handing
//! their answers to `stats`, and the optional views (worths, segments, wave
//! changes, early against late respondents). Every figure comes from `stats`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::ControlFlow;

use super::error::ViewError;
use super::*;
use crate::db::AnyConnection;
use crate::error::{Error, Result};
use crate::stats::{self, Progress, StatsError};
use crate::survey::{store as survey_store, StoredSurvey, SurveyError, WaveLabel};

/// Computes everything `options` asks for. `on_progress` follows the bootstrap.
pub fn compute(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    options: &Options,
    on_progress: &(dyn Fn(Progress) -> ControlFlow<()> + Sync),
) -> Result<Results> {
    let invalid = |e: StatsError| Error::Invalid(format!("survey {}: {e}", survey.slug));
    let find_wave = |conn: &mut AnyConnection, label: &WaveLabel| {
        survey_store::find_wave(conn, survey.id, label)?.ok_or_else(|| {
            Error::from(SurveyError::UnknownWave {
                survey: survey.slug.clone(),
                wave: label.to_string(),
            })
        })
    };
    let wave = options
        .wave
        .as_ref()
        .map(|w| find_wave(conn, w))
        .transpose()?;
    let earlier = match (&options.compare_wave, &wave) {
        (None, _) => None,
        (Some(_), None) => return Err(ViewError::CompareWithoutWave.into()),
        (Some(label), Some(w)) => {
            let e = find_wave(conn, label)?;
            if e.id == w.id {
                return Err(ViewError::CompareWithItself(label.to_string()).into());
            }
            Some(e)
        }
    };
    let wave_ids: Option<Vec<i64>> = wave.as_ref().map(|w| {
        std::iter::once(w.id)
            .chain(earlier.iter().map(|e| e.id))
            .collect()
    });
    let scope = load::Scope {
        survey_id: survey.id,
        wave_ids: wave_ids.as_deref(),
    };
    let loaded = load::responses_of(conn, scope)?;
    // Indices into `loaded` of the respondents in scope.
    let in_scope: Vec<usize> = (0..loaded.respondents.len())
        .filter(|&i| {
            wave.as_ref()
                .is_none_or(|w| loaded.respondents[i].wave_id == w.id)
        })
        .collect();
    let in_scope_waves: Option<Vec<i64>> = wave.as_ref().map(|w| vec![w.id]);
    let in_scope_only = load::Scope {
        survey_id: survey.id,
        wave_ids: in_scope_waves.as_deref(),
    };

    let max_problems = survey.survey.max_problems;
    let (local_areas, respondents) = scoped_one(&loaded, &in_scope);
    let respondents: &[Vec<stats::Mention>] = &respondents;
    let input = stats::DiscoveryInput {
        max_problems,
        area_count: local_areas.len(),
        respondents,
    };
    let scores = stats::joint_v1(&input).map_err(invalid)?;
    let stability_info = StabilityInfo {
        method: stats::RANK_BOOTSTRAP_V1,
        replicates: options.bootstrap.replicates,
        seed: options.bootstrap.seed,
        top_k: options.bootstrap.top_k,
    };
    let area_of = |local: usize| &loaded.areas[local_areas[local]];
    let mut areas = Vec::new();
    // Local index of each area, in the order of the ranking.
    let mut ranked: Vec<usize> = Vec::new();
    if !local_areas.is_empty() {
        let stability =
            stats::rank_stability_with_progress(&input, &options.bootstrap, on_progress)
                .map_err(invalid)?;
        let score_of: HashMap<usize, &stats::AreaScore> =
            scores.iter().map(|s| (s.area, s)).collect();
        for st in &stability.areas {
            let s = score_of[&st.area];
            let area = area_of(st.area);
            ranked.push(st.area);
            areas.push(AreaResult {
                position: st.rank as usize,
                area: area.label.clone(),
                grouping: area.grouping.clone(),
                method: stats::JOINT_V1,
                n: s.n,
                mentions: s.k,
                frequency: s.frequency,
                frequency_ci: s.frequency_ci,
                frequency_method: FREQUENCY_CI,
                importance: s.importance,
                importance_ci: s.importance_ci,
                importance_method: IMPORTANCE_CI,
                score: s.score,
                score_ci: st.score_ci,
                rank_low: st.rank_low,
                rank_high: st.rank_high,
                p_top_k: st.p_top_k,
                first_choice_share: s.first_choice_share,
                small_sample: s.small_sample,
                importance_small_sample: s.importance_small_sample,
            });
        }
    }

    let worth = if options.worth && !local_areas.is_empty() {
        Some(worth(&input, &ranked, &|a| area_of(a).label.clone())?)
    } else {
        None
    };

    let segments = match &options.by {
        Some(attribute) => Some(segments(
            attribute,
            load::attribute_values(conn, in_scope_only, attribute)?,
            &loaded,
            &in_scope,
            &input,
            &ranked,
            &|a| area_of(a).clone(),
        )?),
        None => None,
    };

    let wave_comparison = match (&earlier, &wave) {
        (Some(e), Some(w)) => {
            let before: Vec<usize> = (0..loaded.respondents.len())
                .filter(|&i| loaded.respondents[i].wave_id == e.id)
                .collect();
            Some(compare_waves(
                &loaded,
                &load::people(conn, scope)?,
                &before,
                &in_scope,
                max_problems,
                (&e.label, &w.label),
            )?)
        }
        _ => None,
    };

    let response_rates = response_rates(conn, survey, wave_ids.as_deref(), &loaded)?;

    let early_late = early_late(
        conn,
        in_scope_only,
        &loaded,
        &in_scope,
        &local_areas,
        &ranked,
        max_problems,
    )?;

    let grouping = grouping_of(&loaded, &local_areas);
    let n = in_scope.len() as u64;
    // A respondent whose problems are not coded yet still has problems.
    let with_uncoded: HashSet<i64> = loaded.uncoded.iter().map(|m| m.response_id).collect();
    let respondents_with_problems = in_scope
        .iter()
        .filter(|&&i| {
            !loaded.mentions[i].is_empty()
                || with_uncoded.contains(&loaded.respondents[i].response_id)
        })
        .count() as u64;
    let uncoded = uncoded_of(&loaded, wave.as_ref().map(|w| w.id));
    Ok(Results {
        survey: survey.slug.clone(),
        wave: options.wave.as_ref().map(|w| w.to_string()),
        method: stats::JOINT_V1,
        grouping,
        n,
        respondents_with_problems,
        max_problems,
        small_sample: stats::is_small_sample(n),
        frequency_method: FREQUENCY_CI,
        importance_method: IMPORTANCE_CI,
        rank_stability: stability_info,
        areas,
        uncoded,
        worth,
        response_rates,
        early_late,
        segments,
        wave_comparison,
    })
}

/// The response rate of each wave shown (the wave in scope and the one compared
/// with, or all): form answers over invitations; imported answers apart.
fn response_rates(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    wave_ids: Option<&[i64]>,
    loaded: &load::Loaded,
) -> Result<Vec<WaveResponse>> {
    let mut waves_shown = survey_store::waves_of(conn, survey.id)?;
    if let Some(ids) = wave_ids {
        waves_shown.retain(|w| ids.contains(&w.id));
    }
    let invited = load::invitations_per_wave(conn, survey.id)?;
    let mut response_rates = Vec::new();
    for w in &waves_shown {
        let of_wave = loaded.respondents.iter().filter(|r| r.wave_id == w.id);
        let completed = of_wave.clone().filter(|r| r.via_form).count() as u64;
        let imported = of_wave.filter(|r| !r.via_form).count() as u64;
        let invited = invited.get(&w.id).copied().unwrap_or(0);
        let rate = (invited > 0)
            .then(|| stats::response_rate(completed.min(invited), invited))
            .transpose()
            .map_err(|e| Error::Invalid(format!("survey {}: {e}", survey.slug)))?;
        response_rates.push(WaveResponse {
            wave: w.label.clone(),
            method: stats::RESPONSE_RATE_V1,
            invited,
            completed,
            imported,
            rate: rate.map(|r| r.rate),
            ci: rate.map(|r| r.ci),
            small_sample: rate.map_or(stats::is_small_sample(completed), |r| r.small_sample),
        });
    }
    Ok(response_rates)
}

/// How the ranked areas were grouped: their groupings joined by `+`, or
/// [`TEXT_GROUPING`] when there are none.
fn grouping_of(loaded: &load::Loaded, local_areas: &[usize]) -> String {
    let mut groupings: Vec<&str> = local_areas
        .iter()
        .map(|&g| loaded.areas[g].grouping.as_str())
        .collect();
    groupings.sort_unstable();
    groupings.dedup();
    if groupings.is_empty() {
        TEXT_GROUPING.to_string()
    } else {
        groupings.join("+")
    }
}

/// The mentions in no area of the respondents of `wave_id` (or all), and why.
fn uncoded_of(loaded: &load::Loaded, wave_id: Option<i64>) -> Uncoded {
    let mut uncoded = Uncoded::default();
    for m in &loaded.uncoded {
        if wave_id.is_none_or(|w| m.wave_id == w) {
            uncoded.mentions += 1;
            let why = match m.coded_by {
                None => {
                    uncoded.not_yet_coded += 1;
                    "not-yet-coded"
                }
                Some(_) => {
                    uncoded.not_placed += 1;
                    "not-placed"
                }
            };
            uncoded.texts.push(UncodedText {
                text: m.text.clone(),
                why,
            });
        }
    }
    uncoded
}

/// Restricts respondents to the areas they mention: returns the global index of
/// each local area (areas mentioned in any of `sets`, in global order) and each
/// set's mentions renumbered to local areas. `sets` hold indices into `loaded`.
fn scoped(loaded: &load::Loaded, sets: &[&[usize]]) -> (Vec<usize>, Vec<Vec<Vec<stats::Mention>>>) {
    let mut used = vec![false; loaded.areas.len()];
    for set in sets {
        for &i in set.iter() {
            for m in &loaded.mentions[i] {
                used[m.area] = true;
            }
        }
    }
    let global: Vec<usize> = (0..loaded.areas.len()).filter(|&a| used[a]).collect();
    let local = local_numbers(&global, loaded.areas.len());
    let inputs = sets
        .iter()
        .map(|set| {
            set.iter()
                .map(|&i| renumbered(&loaded.mentions[i], &local))
                .collect()
        })
        .collect();
    (global, inputs)
}

/// As [`scoped`] for one set, borrowing the loaded mentions when the set is every
/// respondent and every area is mentioned (the usual case: areas are numbered from
/// the mentions read), so a million respondents are not copied.
fn scoped_one<'a>(
    loaded: &'a load::Loaded,
    set: &[usize],
) -> (Vec<usize>, Cow<'a, [Vec<stats::Mention>]>) {
    let every_respondent = set.len() == loaded.respondents.len();
    let mut used = vec![false; loaded.areas.len()];
    if every_respondent {
        for m in loaded.mentions.iter().flatten() {
            used[m.area] = true;
        }
        if used.iter().all(|&u| u) {
            return (
                (0..loaded.areas.len()).collect(),
                Cow::Borrowed(&loaded.mentions),
            );
        }
    }
    let (global, mut inputs) = scoped(loaded, &[set]);
    (global, Cow::Owned(inputs.remove(0)))
}

/// The local number of each global area (`usize::MAX`: not in `global`).
fn local_numbers(global: &[usize], area_count: usize) -> Vec<usize> {
    let mut local = vec![usize::MAX; area_count];
    for (l, &g) in global.iter().enumerate() {
        local[g] = l;
    }
    local
}

fn renumbered(mentions: &[stats::Mention], local: &[usize]) -> Vec<stats::Mention> {
    mentions
        .iter()
        .map(|m| stats::Mention {
            area: local[m.area],
            rank: m.rank,
        })
        .collect()
}

fn worth(
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

fn segments(
    attribute: &str,
    (values_by_response, mut known): (HashMap<i64, String>, Vec<String>),
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
    let mut names: Vec<&String> = values.iter().flatten().copied().collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        known.sort_unstable();
        return Err(ViewError::UnknownAttribute {
            attribute: attribute.to_string(),
            known: if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            },
        }
        .into());
    }
    let index: BTreeMap<&String, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut with: Vec<Vec<stats::Mention>> = Vec::new();
    let mut segment_of = Vec::new();
    let respondents = input.respondents;
    for (value, mentions) in values.iter().zip(respondents) {
        if let Some(v) = value {
            with.push(mentions.clone());
            segment_of.push(index[v]);
        }
    }
    let without = (respondents.len() - with.len()) as u64;
    let sub = stats::DiscoveryInput {
        max_problems: input.max_problems,
        area_count: input.area_count,
        respondents: &with,
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
        method: comparison.method,
        scoring: comparison.scoring,
        test: comparison.test,
        adjustment: comparison.adjustment,
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
                        .map(|(seg, scores)| {
                            let s = scores[&a];
                            SegmentCell {
                                segment: names[seg.segment].clone(),
                                method: stats::JOINT_V1,
                                n: s.n,
                                mentions: s.k,
                                frequency: s.frequency,
                                frequency_ci: s.frequency_ci,
                                importance: s.importance,
                                score: s.score,
                                small_sample: s.small_sample,
                            }
                        })
                        .collect(),
                    test: test_of.get(&a).and_then(|t| t.test.clone()),
                    p_adjusted: test_of.get(&a).and_then(|t| t.p_adjusted),
                }
            })
            .collect(),
    })
}

fn compare_waves(
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
        respondents,
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
                earlier_mentions: c.change.k2,
                earlier_frequency: c.earlier_frequency,
                later_mentions: c.change.k1,
                later_frequency: c.later_frequency,
                change: c.change,
                p_adjusted: c.p_adjusted,
                paired: c.paired,
                paired_p_adjusted: c.paired_p_adjusted,
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
        method: comparison.method,
        test: comparison.test,
        paired_test: comparison.paired_test,
        adjustment: comparison.adjustment,
        earlier_n: comparison.earlier_n,
        later_n: comparison.later_n,
        pairs: comparison.pairs,
        areas,
    })
}

/// Early against late respondents among those who answered through the form (an
/// imported answer's time is the import's, not the respondent's).
fn early_late(
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
            respondents: &respondents,
        },
        &order,
    )
    .map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(Some(EarlyLateResult {
        method: result.method,
        test: result.test,
        adjustment: result.adjustment,
        early_n: result.early_n,
        late_n: result.late_n,
        small_sample: stats::is_small_sample(result.early_n.min(result.late_n)),
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
