//! Statistics of a Problem Detection Study (PDS-METHOD §3-§6).
//!
//! This room is pure: plain structs in, plain structs out. Nothing here touches the
//! database, does I/O, logs or reads the clock; randomness takes a seed. Every result
//! names the method (and version) that made it, so a figure can be traced to
//! the formula in `PDS-METHOD.md`.

mod bootstrap;
mod discovery;
mod error;
mod hypothesis;
mod interval;

pub use bootstrap::{
    AreaStability, BootstrapOptions, DEFAULT_REPLICATES, DEFAULT_SEED, DEFAULT_TOP_K, Progress,
    RANK_BOOTSTRAP_V1, RankStability, rank_stability, rank_stability_with_progress,
};
pub use discovery::{AreaScore, DiscoveryInput, Mention, SMALL_SAMPLE, joint_v1};
pub use error::{Disconnection, StatsError};
pub use hypothesis::{
    BH_V1, CHI_SQUARE_V1, ChiSquareTest, MCNEMAR_EXACT_V1, McNemarTest, ProportionTest,
    TWO_PROPORTION_Z_V1, benjamini_hochberg, chi_square, mcnemar_exact, two_proportion_test,
};
pub use interval::{Interval, Z95, wilson};

/// Discovery scoring: frequency weighted by importance (PDS-METHOD §3), and its
/// checklist form (§4).
pub const JOINT_V1: &str = "joint-v1";
