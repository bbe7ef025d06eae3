//! Statistics of a Problem Detection Study (docs/METHOD.md §3-§6).
//!
//! This room is pure: plain structs in, plain structs out. Nothing here touches the
//! database, does I/O, logs or reads the clock; randomness takes a seed. Every result
//! names the method (and version) that made it, so a figure can be traced to
//! the formula in `docs/METHOD.md`.

mod agreement;
mod bootstrap;
mod checklist;
mod crosscheck;
mod discovery;
mod error;
mod flags;
mod hypothesis;
mod interval;
mod patterns;
mod planning;
#[cfg(test)]
mod properties;
mod ranking;
mod resample;
mod segments;
mod waves;
mod words;

pub use agreement::{
    kendall_tau_b, staff_gap, staff_gap_with_draws, staff_vs_customers, AreaGap, GapFigures,
    GapStamp, RankingAgreement, StaffGap, STAFF_VS_CUSTOMERS_V1,
};
pub use bootstrap::{
    rank_stability, rank_stability_with_progress, scores_and_rank_stability, AreaStability,
    BootstrapOptions, Progress, RankStability, DEFAULT_REPLICATES, DEFAULT_SEED, DEFAULT_TOP_K,
    RANK_BOOTSTRAP_V1,
};
pub use checklist::{
    checklist_bootstrap, checklist_rank_stability, checklist_rank_stability_with_progress,
    checklist_scores, crawford_v1, group_answers, ChecklistAnswer, ChecklistAreaScore,
    ChecklistDraws, ChecklistInput, ChecklistScores, Experience, CRAWFORD_V1,
};
pub use crosscheck::crosscheck_cases;
pub use discovery::{
    joint_v1, AreaScore, DiscoveryInput, FlatMentions, Mention, Respondents, SMALL_SAMPLE,
};
pub use error::{Disconnection, StatsError};
pub use flags::{
    early_vs_late, is_imprecise, is_small_sample, response_rate, AreaEarlyLate, EarlyLate,
    EarlyLateStamp, ResponseRate, EARLY_LATE_V1, RESPONSE_RATE_V1,
};
pub use hypothesis::{
    benjamini_hochberg, chi_square, mcnemar_exact, two_proportion_test, ChiSquareTest, McNemarTest,
    ProportionTest, BH_V1, CHI_SQUARE_V1, MCNEMAR_EXACT_V1, TWO_PROPORTION_Z_V1,
};
pub use interval::{wilson, Interval, Z95};
pub use planning::{coverage, interviews_needed, Coverage, COVERAGE_V1};
pub use ranking::{
    borda, plackett_luce, rankings_from_discovery, worth_pl_v1, AreaWorth, BordaCount, PlOptions,
    PlWorths, BORDA_V1, WORTH_PL_V1,
};
pub use segments::{
    segment_comparison, AreaSegmentTest, SegmentComparison, SegmentScores, SegmentStamp,
    SEGMENTS_V1,
};
pub use waves::{wave_comparison, AreaChange, ChangeTests, WaveComparison, WaveStamp, WAVES_V1};

/// Discovery scoring: frequency weighted by importance (docs/METHOD.md §3), and its
/// checklist form (§4).
pub const JOINT_V1: &str = "joint-v1";

/// `x` rounded to `digits` decimals: how the tests compare a figure with a
/// published table.
#[cfg(test)]
pub(crate) fn rounded(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}
