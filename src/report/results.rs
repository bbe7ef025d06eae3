//! What `pds results` returns: every figure with its method name and n, as the
//! terminal table, CSV, JSON, API and dashboard show them. Plain data; computed in
//! `compute.rs`.

use serde::Serialize;

use crate::stats::{
    BootstrapOptions, ChangeTests, ChiSquareTest, EarlyLateStamp, Interval, ProportionTest,
    SegmentStamp, WaveStamp,
};
use crate::survey::WaveLabel;

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
    #[serde(flatten)]
    pub stamp: EarlyLateStamp,
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
    #[serde(flatten)]
    pub stamp: SegmentStamp,
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
    #[serde(flatten)]
    pub stamp: WaveStamp,
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
    /// Later minus earlier, Newcombe 95% interval, pooled z-test, McNemar.
    #[serde(flatten)]
    pub tests: ChangeTests,
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

impl Results {
    /// A copy with `uncoded` in place of these uncoded mentions, which are not
    /// copied (at a million respondents there are hundreds of thousands).
    pub fn with_uncoded(&self, uncoded: Uncoded) -> Results {
        let Results {
            survey,
            wave,
            method,
            grouping,
            n,
            respondents_with_problems,
            max_problems,
            small_sample,
            frequency_method,
            importance_method,
            rank_stability,
            areas,
            uncoded: _,
            worth,
            response_rates,
            early_late,
            segments,
            wave_comparison,
        } = self;
        Results {
            survey: survey.clone(),
            wave: wave.clone(),
            method,
            grouping: grouping.clone(),
            n: *n,
            respondents_with_problems: *respondents_with_problems,
            max_problems: *max_problems,
            small_sample: *small_sample,
            frequency_method,
            importance_method,
            rank_stability: *rank_stability,
            areas: areas.clone(),
            uncoded,
            worth: worth.clone(),
            response_rates: response_rates.clone(),
            early_late: early_late.clone(),
            segments: segments.clone(),
            wave_comparison: wave_comparison.clone(),
        }
    }
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
