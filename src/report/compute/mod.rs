//! Computing `Results`: which respondents are in scope (wave, segment), handing
//! their answers to `stats`, and the optional views (worths, segments, wave
//! changes, early against late respondents). Every figure comes from `stats`.
//! Which respondents and areas a figure is over is in `scope.rs`; the optional
//! views in `views.rs`.

mod scope;
mod views;

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use super::error::ViewError;
use super::*;
use crate::config::DatabaseUrl;
use crate::db::AnyConnection;
use crate::error::{Error, Result};
use crate::stats::{self, Progress, StatsError};
use crate::survey::{store as survey_store, StoredSurvey};
use scope::scoped_one;
use views::{compare_waves, early_late, segments, worth};

/// Computes everything `options` asks for. `on_progress` follows the bootstrap.
pub fn compute(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    options: &Options,
    on_progress: &(dyn Fn(Progress) -> ControlFlow<()> + Sync),
) -> Result<Results> {
    compute_reading(conn, None, survey, options, on_progress)
}

/// As [`compute`] on the database at `url`, which `conn` reads: on PostgreSQL a
/// second connection to it reads responses beside `conn` (on SQLite `conn`'s file
/// is enough to open one).
pub fn compute_beside(
    url: &DatabaseUrl,
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    options: &Options,
    on_progress: &(dyn Fn(Progress) -> ControlFlow<()> + Sync),
) -> Result<Results> {
    compute_reading(conn, Some(url), survey, options, on_progress)
}

fn compute_reading(
    conn: &mut AnyConnection,
    postgres_url: Option<&DatabaseUrl>,
    survey: &StoredSurvey,
    options: &Options,
    on_progress: &(dyn Fn(Progress) -> ControlFlow<()> + Sync),
) -> Result<Results> {
    let (wave, earlier) = waves_asked(conn, survey, options)?;
    let wave_ids: Option<Vec<i64>> = wave.as_ref().map(|w| {
        std::iter::once(w.id)
            .chain(earlier.iter().map(|e| e.id))
            .collect()
    });
    let scope = load::Scope {
        survey_id: survey.id,
        wave_ids: wave_ids.as_deref(),
    };
    let started = std::time::Instant::now();
    let mut loaded = load::responses_of(conn, scope, postgres_url)?;
    tracing::debug!(
        respondents = loaded.respondents.len(),
        ms = started.elapsed().as_millis() as u64,
        "results: responses loaded"
    );
    let in_scope = respondents_of(&loaded, wave.as_ref().map(|w| w.id));
    let in_scope_waves: Option<Vec<i64>> = wave.as_ref().map(|w| vec![w.id]);
    let in_scope_only = load::Scope {
        survey_id: survey.id,
        wave_ids: in_scope_waves.as_deref(),
    };

    let max_problems = survey.survey.max_problems;
    let (local_areas, respondents) = scoped_one(&loaded, &in_scope);
    let input = stats::DiscoveryInput {
        max_problems,
        area_count: local_areas.len(),
        respondents: stats::Respondents::Flat(&respondents),
    };
    let area_of = |local: usize| &loaded.areas[local_areas[local]];
    let invalid = |e: StatsError| Error::Invalid(format!("survey {}: {e}", survey.slug));
    let (areas, ranked) =
        ranked_areas(&input, &options.bootstrap, on_progress, &area_of).map_err(invalid)?;
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "results: areas ranked"
    );
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
        (Some(e), Some(w)) => Some(compare_waves(
            &loaded,
            &load::people(conn, scope)?,
            &respondents_of(&loaded, Some(e.id)),
            &in_scope,
            max_problems,
            (&e.label, &w.label),
        )?),
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
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "results: views computed"
    );
    let n = in_scope.len() as u64;
    let grouping = grouping_of(&loaded, &local_areas);
    let respondents_with_problems = with_problems(&loaded, &in_scope);
    // The texts move into the results, not copied (hundreds of thousands at scale).
    let uncoded = uncoded_of(
        std::mem::take(&mut loaded.uncoded),
        wave.as_ref().map(|w| w.id),
    );
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
        rank_stability: StabilityInfo {
            method: stats::RANK_BOOTSTRAP_V1,
            replicates: options.bootstrap.replicates,
            seed: options.bootstrap.seed,
            top_k: options.bootstrap.top_k,
        },
        areas,
        uncoded,
        worth,
        response_rates,
        early_late,
        segments,
        wave_comparison,
    })
}

/// The wave `options` asks for and the earlier one to compare it with, each
/// found by its label; comparing needs a wave, and another one. Discovery and
/// checklist results check them alike.
pub fn waves_asked(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    options: &Options,
) -> Result<(Option<survey_store::Wave>, Option<survey_store::Wave>)> {
    let wave = options
        .wave
        .as_ref()
        .map(|w| survey_store::existing_wave(conn, survey, w))
        .transpose()?;
    let earlier = match (&options.compare_wave, &wave) {
        (None, _) => None,
        (Some(_), None) => return Err(ViewError::CompareWithoutWave.into()),
        (Some(label), Some(w)) => {
            let e = survey_store::existing_wave(conn, survey, label)?;
            if e.id == w.id {
                return Err(ViewError::CompareWithItself(label.to_string()).into());
            }
            Some(e)
        }
    };
    Ok((wave, earlier))
}

/// Indices into `loaded` of the respondents of wave `wave_id`, or of all.
fn respondents_of(loaded: &load::Loaded, wave_id: Option<i64>) -> Vec<usize> {
    (0..loaded.respondents.len())
        .filter(|&i| wave_id.is_none_or(|w| loaded.respondents[i].wave_id == w))
        .collect()
}

/// The areas ranked by `joint-v1` with their bootstrap rank stability, and the
/// local index of each in the order of the ranking.
fn ranked_areas<'a>(
    input: &stats::DiscoveryInput,
    bootstrap: &stats::BootstrapOptions,
    on_progress: &(dyn Fn(Progress) -> ControlFlow<()> + Sync),
    area_of: &dyn Fn(usize) -> &'a Area,
) -> Result<(Vec<AreaResult>, Vec<usize>), StatsError> {
    let mut areas = Vec::new();
    let mut ranked: Vec<usize> = Vec::new();
    if input.area_count == 0 {
        stats::joint_v1(input)?;
        return Ok((areas, ranked));
    }
    let (scores, stability) = stats::scores_and_rank_stability(input, bootstrap, on_progress)?;
    let score_of: HashMap<usize, &stats::AreaScore> = scores.iter().map(|s| (s.area, s)).collect();
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
    Ok((areas, ranked))
}

/// How many of the respondents `in_scope` have problems: a respondent whose
/// problems are not coded yet still has problems.
fn with_problems(loaded: &load::Loaded, in_scope: &[usize]) -> u64 {
    let with_uncoded: HashSet<i64> = loaded.uncoded.iter().map(|m| m.response_id).collect();
    in_scope
        .iter()
        .filter(|&&i| {
            !loaded.mentions[i].is_empty()
                || with_uncoded.contains(&loaded.respondents[i].response_id)
        })
        .count() as u64
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
fn uncoded_of(mentions: Vec<load::UncodedMention>, wave_id: Option<i64>) -> Uncoded {
    let mut uncoded = Uncoded::default();
    uncoded.texts.reserve(mentions.len());
    for m in mentions {
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
            uncoded.texts.push(UncodedText { text: m.text, why });
        }
    }
    uncoded
}
