//! Results for analysts: gathers a survey's responses from the database, hands them
//! to `stats` (docs/METHOD.md §3-§7) and lays the answers out as a terminal table,
//! CSV or JSON. Every figure is computed in `stats`; this room only decides which
//! respondents are in scope, names the method and n beside each figure, and never
//! shows a rank without its bootstrap rank interval (docs/METHOD.md §5).

mod areas;
pub mod charts;
mod csv_out;
pub mod export;
pub mod freshness;
mod load;
mod table;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::ops::ControlFlow;

use serde::Serialize;

pub use areas::{group, grouping_of, Area, Grouping, StoredMention, TEXT_GROUPING};
pub use export::{export, Dialect, Export, ExportOptions, Exported};

use crate::db::AnyConnection;
use crate::error::{Error, Result};
use crate::stats::{
    self, BootstrapOptions, ChiSquareTest, Interval, McNemarTest, Progress, ProportionTest,
    StatsError,
};
use crate::survey::{store as survey_store, StoredSurvey, SurveyError, WaveLabel};

/// How mentions are grouped into areas (`pds code`); kept for callers of the spine.
pub const GROUPING: &str = TEXT_GROUPING;
/// The frequency interval: Wilson score, 95% (docs/METHOD.md §5).
pub const FREQUENCY_CI: &str = "wilson-95";
/// The importance interval: Student-t, 95%, over those who mention the area.
pub const IMPORTANCE_CI: &str = "student-t-95";

/// What `pds results` is asked to compute.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Options {
    /// The wave in scope; all waves together when `None`.
    pub wave: Option<WaveLabel>,
    /// A respondent attribute (contact segment column) to compare segments by.
    pub by: Option<String>,
    /// An earlier wave to compare `wave` with.
    pub compare_wave: Option<WaveLabel>,
    pub bootstrap: BootstrapOptions,
    /// Also fit Plackett-Luce worths (`worth-pl-v1`).
    pub worth: bool,
}

/// How the rank stability bootstrap was run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StabilityInfo {
    pub method: &'static str,
    pub replicates: u32,
    pub seed: u64,
    pub top_k: usize,
}

/// One ranked area, with its rank stability.
#[derive(Debug, Clone, Serialize)]
pub struct AreaResult {
    /// Rank of the point estimate (1 = highest score); read it with `rank_low` and
    /// `rank_high`.
    pub position: usize,
    pub area: String,
    pub grouping: String,
    pub method: &'static str,
    pub n: u64,
    /// `k`: respondents who mention the area.
    pub mentions: u64,
    pub frequency: f64,
    pub frequency_ci: Interval,
    pub frequency_method: &'static str,
    pub importance: Option<f64>,
    pub importance_ci: Option<Interval>,
    pub importance_method: &'static str,
    pub score: f64,
    /// 2.5-97.5% percentile interval of the score over the bootstrap.
    pub score_ci: Interval,
    /// 2.5% and 97.5% percentiles of the area's rank over the bootstrap.
    pub rank_low: u32,
    pub rank_high: u32,
    /// Share of bootstrap replicates in which the area ranks in the top k.
    pub p_top_k: f64,
    pub first_choice_share: f64,
    /// n < 30.
    pub small_sample: bool,
    /// k < 30: the importance rests on few respondents.
    pub importance_small_sample: bool,
}

/// Plackett-Luce worths, or why they cannot be fitted.
#[derive(Debug, Clone, Serialize)]
pub struct Worth {
    pub method: &'static str,
    /// Respondents with at least two ranked areas (those that compare areas).
    pub rankings_used: u64,
    pub converged: bool,
    pub small_sample: bool,
    /// In the order of [`Results::areas`]; empty when `problem` is set.
    pub areas: Vec<AreaWorth>,
    /// Why the worths do not exist (the comparison graph is disconnected).
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AreaWorth {
    pub area: String,
    pub worth: f64,
}

/// Response rate of one wave: form answers over invitations.
#[derive(Debug, Clone, Serialize)]
pub struct WaveResponse {
    pub wave: String,
    pub method: &'static str,
    pub invited: u64,
    /// Answers given through the emailed link.
    pub completed: u64,
    /// Answers imported from a file (no invitation, so not in the rate).
    pub imported: u64,
    /// `None` when nobody was invited to the wave.
    pub rate: Option<f64>,
    pub ci: Option<Interval>,
    /// Fewer than 30 completed answers.
    pub small_sample: bool,
}

/// Early against late respondents (by answer time, form answers only).
#[derive(Debug, Clone, Serialize)]
pub struct EarlyLateResult {
    pub method: &'static str,
    pub test: &'static str,
    pub adjustment: &'static str,
    pub early_n: u64,
    pub late_n: u64,
    pub small_sample: bool,
    /// Share with any problem, late minus early.
    pub any_problem: ProportionTest,
    /// In the order of [`Results::areas`].
    pub areas: Vec<EarlyLateArea>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EarlyLateArea {
    pub area: String,
    /// Mention frequency, late minus early.
    pub test: ProportionTest,
    pub p_adjusted: Option<f64>,
}

/// Scores per segment and a chi-square test per area.
#[derive(Debug, Clone, Serialize)]
pub struct Segments {
    pub attribute: String,
    pub method: &'static str,
    pub scoring: &'static str,
    pub test: &'static str,
    pub adjustment: &'static str,
    /// Respondents in scope without a value for the attribute (left out).
    pub without_attribute: u64,
    pub segments: Vec<SegmentInfo>,
    /// In the order of [`Results::areas`].
    pub areas: Vec<SegmentArea>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentInfo {
    pub segment: String,
    pub n: u64,
    pub small_sample: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentArea {
    pub area: String,
    pub grouping: String,
    /// One per segment, in the order of [`Segments::segments`].
    pub per_segment: Vec<SegmentCell>,
    /// Mentioned / not mentioned x segment; `None` when there is nothing to test.
    pub test: Option<ChiSquareTest>,
    pub p_adjusted: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentCell {
    pub segment: String,
    pub method: &'static str,
    pub n: u64,
    pub mentions: u64,
    pub frequency: f64,
    pub frequency_ci: Interval,
    pub importance: Option<f64>,
    pub score: f64,
    pub small_sample: bool,
}

/// What changed between two waves.
#[derive(Debug, Clone, Serialize)]
pub struct WaveChange {
    pub earlier_wave: String,
    pub later_wave: String,
    pub method: &'static str,
    pub test: &'static str,
    pub paired_test: &'static str,
    pub adjustment: &'static str,
    pub earlier_n: u64,
    pub later_n: u64,
    /// Contacts (or imported respondent ids) who answered both waves.
    pub pairs: u64,
    pub areas: Vec<WaveChangeArea>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaveChangeArea {
    pub area: String,
    pub grouping: String,
    pub earlier_mentions: u64,
    pub earlier_frequency: f64,
    pub later_mentions: u64,
    pub later_frequency: f64,
    /// Later minus earlier, Newcombe 95% interval, pooled z-test.
    pub change: ProportionTest,
    pub p_adjusted: Option<f64>,
    pub paired: Option<McNemarTest>,
    pub paired_p_adjusted: Option<f64>,
}

/// Everything `pds results` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub survey: String,
    pub wave: Option<String>,
    pub method: &'static str,
    pub grouping: String,
    pub n: u64,
    pub respondents_with_problems: u64,
    pub max_problems: u32,
    pub small_sample: bool,
    pub frequency_method: &'static str,
    pub importance_method: &'static str,
    pub rank_stability: StabilityInfo,
    pub areas: Vec<AreaResult>,
    /// Mentions of the respondents in scope that count in no area, listed apart.
    pub uncoded: Uncoded,
    pub worth: Option<Worth>,
    pub response_rates: Vec<WaveResponse>,
    pub early_late: Option<EarlyLateResult>,
    pub segments: Option<Segments>,
    pub wave_comparison: Option<WaveChange>,
}

/// Mentions in no area: they are in no area's figures, and listed here instead.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Uncoded {
    pub mentions: u64,
    /// Arrived since coding last ran: `pds code` codes them.
    pub not_yet_coded: u64,
    /// Coding ran and could not place them: an analyst places them with
    /// `pds areas move`.
    pub not_placed: u64,
    /// Each as the customer wrote it, by response and rank.
    pub texts: Vec<UncodedText>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UncodedText {
    pub text: String,
    /// `not-yet-coded` or `not-placed`.
    pub why: &'static str,
}

/// The default analysis of a survey, or one wave of it (what the demo shows).
pub fn results(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    wave: Option<&WaveLabel>,
) -> Result<Results> {
    let options = Options {
        wave: wave.cloned(),
        ..Options::default()
    };
    compute(conn, survey, &options, &|_| ControlFlow::Continue(()))
}

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
        (Some(_), None) => {
            return Err(Error::Invalid(
                "--compare-wave needs --wave: name the wave to compare the earlier one with".into(),
            ))
        }
        (Some(label), Some(w)) => {
            let e = find_wave(conn, label)?;
            if e.id == w.id {
                return Err(Error::Invalid(format!(
                    "--compare-wave {label} is the same wave as --wave; name another wave"
                )));
            }
            Some(e)
        }
    };
    let wave_ids: Option<Vec<i64>> = wave.as_ref().map(|w| {
        std::iter::once(w.id)
            .chain(earlier.iter().map(|e| e.id))
            .collect()
    });
    let loaded = load::responses_of(conn, survey.id, wave_ids.as_deref())?;
    let in_scope: Vec<&load::Respondent> = loaded
        .respondents
        .iter()
        .filter(|r| wave.as_ref().is_none_or(|w| r.wave_id == w.id))
        .collect();

    let max_problems = survey.survey.max_problems;
    let (local_areas, inputs) = scoped(&loaded.areas, &[&in_scope]);
    let respondents = &inputs[0];
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
            &in_scope,
            respondents,
            &input,
            &ranked,
            &|a| area_of(a).clone(),
        )?),
        None => None,
    };

    let wave_comparison = match (&earlier, &wave) {
        (Some(e), Some(w)) => {
            let before: Vec<&load::Respondent> = loaded
                .respondents
                .iter()
                .filter(|r| r.wave_id == e.id)
                .collect();
            Some(compare_waves(
                &loaded.areas,
                &before,
                &in_scope,
                max_problems,
                (&e.label, &w.label),
            )?)
        }
        _ => None,
    };

    let mut waves_shown = survey_store::waves_of(conn, survey.id)?;
    if let Some(ids) = &wave_ids {
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
            .map_err(invalid)?;
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

    let early_late = early_late(
        &in_scope,
        &local_areas,
        &loaded.areas,
        &ranked,
        max_problems,
    )?;

    let mut groupings: Vec<&str> = local_areas
        .iter()
        .map(|&g| loaded.areas[g].grouping.as_str())
        .collect();
    groupings.sort_unstable();
    groupings.dedup();
    let grouping = if groupings.is_empty() {
        TEXT_GROUPING.to_string()
    } else {
        groupings.join("+")
    };
    let n = in_scope.len() as u64;
    // A respondent whose problems are not coded yet still has problems.
    let with_uncoded: std::collections::HashSet<i64> =
        loaded.uncoded.iter().map(|m| m.response_id).collect();
    let respondents_with_problems = in_scope
        .iter()
        .filter(|r| !r.mentions.is_empty() || with_uncoded.contains(&r.response_id))
        .count() as u64;
    let mut uncoded = Uncoded::default();
    for m in &loaded.uncoded {
        if wave.as_ref().is_none_or(|w| m.wave_id == w.id) {
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

/// Restricts respondents to the areas they mention: returns the global index of
/// each local area (areas mentioned in any of `sets`, in global order) and each
/// set's mentions renumbered to local areas.
fn scoped(
    all: &[Area],
    sets: &[&[&load::Respondent]],
) -> (Vec<usize>, Vec<Vec<Vec<stats::Mention>>>) {
    let mut used = vec![false; all.len()];
    for set in sets {
        for r in set.iter() {
            for m in &r.mentions {
                used[m.area] = true;
            }
        }
    }
    let global: Vec<usize> = (0..all.len()).filter(|&a| used[a]).collect();
    let mut local = vec![usize::MAX; all.len()];
    for (l, &g) in global.iter().enumerate() {
        local[g] = l;
    }
    let inputs = sets
        .iter()
        .map(|set| {
            set.iter()
                .map(|r| {
                    r.mentions
                        .iter()
                        .map(|m| stats::Mention {
                            area: local[m.area],
                            rank: m.rank,
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    (global, inputs)
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
    in_scope: &[&load::Respondent],
    respondents: &[Vec<stats::Mention>],
    input: &stats::DiscoveryInput,
    ranked: &[usize],
    area: &dyn Fn(usize) -> Area,
) -> Result<Segments> {
    let values: Vec<Option<&String>> = in_scope
        .iter()
        .map(|r| r.attributes.get(attribute))
        .collect();
    let mut names: Vec<&String> = values.iter().flatten().copied().collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        let mut known: Vec<&String> = in_scope.iter().flat_map(|r| r.attributes.keys()).collect();
        known.sort_unstable();
        known.dedup();
        return Err(Error::Invalid(format!(
            "--by {attribute}: no respondent in scope has a value for {attribute:?}; known attributes: {}",
            if known.is_empty() {
                "none".to_string()
            } else {
                known
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )));
    }
    let index: BTreeMap<&String, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut with: Vec<Vec<stats::Mention>> = Vec::new();
    let mut segment_of = Vec::new();
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
    all: &[Area],
    before: &[&load::Respondent],
    after: &[&load::Respondent],
    max_problems: u32,
    (earlier_label, later_label): (&str, &str),
) -> Result<WaveChange> {
    let (global, inputs) = scoped(all, &[before, after]);
    let input = |respondents| stats::DiscoveryInput {
        max_problems,
        area_count: global.len(),
        respondents,
    };
    // The same person in both waves: the same contact, or the same imported id.
    let person = |r: &load::Respondent| match (&r.contact_id, &r.imported_as) {
        (Some(c), _) => Some(format!("contact {c}")),
        (None, Some(id)) => Some(format!("imported {id}")),
        _ => None,
    };
    let earlier_index: HashMap<String, usize> = before
        .iter()
        .enumerate()
        .filter_map(|(i, r)| person(r).map(|p| (p, i)))
        .collect();
    let pairs: Vec<(usize, usize)> = after
        .iter()
        .enumerate()
        .filter_map(|(j, r)| person(r).and_then(|p| earlier_index.get(&p).map(|&i| (i, j))))
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
    in_scope: &[&load::Respondent],
    local_areas: &[usize],
    all: &[Area],
    ranked: &[usize],
    max_problems: u32,
) -> Result<Option<EarlyLateResult>> {
    let mut answered: Vec<&load::Respondent> =
        in_scope.iter().copied().filter(|r| r.via_form).collect();
    if answered.len() < 2 {
        return Ok(None);
    }
    answered.sort_by_key(|r| (r.submitted_at, r.response_id));
    let mut local = vec![usize::MAX; all.len()];
    for (l, &g) in local_areas.iter().enumerate() {
        local[g] = l;
    }
    let respondents: Vec<Vec<stats::Mention>> = answered
        .iter()
        .map(|r| {
            r.mentions
                .iter()
                .map(|m| stats::Mention {
                    area: local[m.area],
                    rank: m.rank,
                })
                .collect()
        })
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

/// Output formats of `pds results`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// Writes the results in `format`. CSV and JSON keep full precision.
pub fn write(results: &Results, format: Format, out: &mut dyn Write) -> Result<()> {
    let io = |e: std::io::Error| Error::io("<output>", e);
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, results)
                .map_err(|e| Error::Internal(format!("writing JSON: {e}")))?;
            writeln!(out).map_err(io)?;
        }
        Format::Csv => csv_out::write(results, out)?,
        Format::Table => table::write(results, out).map_err(io)?,
    }
    Ok(())
}

/// A CSV cell's text: formulas neutralised, control characters made visible
/// (see [`crate::text_safety::for_spreadsheet`]).
pub fn spreadsheet_safe(text: &str) -> String {
    crate::text_safety::for_spreadsheet(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_for_spreadsheets() {
        assert_eq!(spreadsheet_safe("=1+1"), "'=1+1");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("-2"), "'-2");
        assert_eq!(spreadsheet_safe("late delivery"), "late delivery");
    }
}
