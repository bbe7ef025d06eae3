//! Results of a checklist survey (phase 2, docs/METHOD.md §4-§5): per item and per
//! area the share meeting the problem often (`A`), the share it bothers (`B`),
//! `crawford-v1`, checklist `joint-v1` and, when the survey asks it, the
//! preemptibility-adjusted score, each with its interval, method name and n; rank
//! intervals and P(top k) by the seeded bootstrap; segments, waves, the write-ins
//! and the staff gap. Only customers' answers count in customer figures; staff's
//! are used in the staff gap alone.
//!
//! `analyse` is pure (what the benchmark times; `checklist::results` reads the
//! database for it), `views` holds the segment, wave and staff views, `output` the
//! table and CSV, `charts` the dashboard's pictures.

mod analyse;
pub mod charts;
mod output;
mod views;

use std::io::Write;

use serde::Serialize;

pub use analyse::{analyse, Analysis, Item, Respondent, WriteIn};

use super::{Format, Options, SegmentInfo, StabilityInfo};
use crate::error::{Error, Result};
use crate::stats::{ChiSquareTest, GapFigures, GapStamp, Interval, Progress, ProportionTest};

/// `A` and `B`: a share of respondents.
pub const OFTEN_SHARE: &str = "often-share";
pub const BOTHERED_SHARE: &str = "bothered-share";
/// `s`: of those affected who answered, the share saying another supplier solves it.
pub const SOLVED_ELSEWHERE_SHARE: &str = "solved-elsewhere-share";
/// Checklist `joint-v1` times `1 - s`.
pub const PREEMPTIBLE_V1: &str = "preemptible-v1";
/// An interval of a product from the bounds of its factors' intervals: the lower
/// ends multiplied and the upper ends multiplied (conservative).
pub const BOUNDS_PRODUCT_95: &str = "bounds-product-95";
/// How a respondent's answers to the items of one area make the area's answer.
pub const AREA_WORST_ITEM_V1: &str = "worst-item-v1";

/// A figure with everything needed to read it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figure {
    pub method: &'static str,
    pub value: f64,
    pub ci: Interval,
    pub ci_method: &'static str,
    /// Respondents the figure rests on.
    pub n: u64,
    /// `n < 30`.
    pub small_sample: bool,
}

/// One item (or area) of the checklist, ranked by checklist `joint-v1`.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistRow {
    /// Rank of the point estimate; read it with `rank_low` and `rank_high`.
    pub position: usize,
    /// The item id (for an area: the area key).
    pub id: String,
    /// The wording in the survey's default language (for an area: its key).
    pub label: String,
    /// The discovery area the item came from (for an area: its items).
    pub area: Option<String>,
    pub items: Vec<String>,
    /// `A`: meets the problem often.
    pub often: Figure,
    /// `B`: rates its bother 4 or 5, of those who rated it.
    pub bothered: Figure,
    pub crawford: Figure,
    pub crawford_rank: u32,
    pub joint: Figure,
    /// `s`, when the survey asks whether another supplier solves it.
    pub solved_elsewhere: Option<Figure>,
    /// `joint * (1 - s)`, when the survey asks it.
    pub preemptible: Option<Figure>,
    pub rank_low: u32,
    pub rank_high: u32,
    pub p_top_k: f64,
}

/// Everything `pds results` shows for a checklist survey.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistResults {
    pub survey: String,
    /// Always `checklist`: tells a reader of the JSON which document this is.
    pub kind: &'static str,
    pub wave: Option<String>,
    /// Whose answers the figures count: `customer` (staff are in `staff_gap`).
    pub audience: &'static str,
    pub method: &'static str,
    /// Customers in scope.
    pub n: u64,
    pub small_sample: bool,
    pub preemptibility_asked: bool,
    pub area_method: &'static str,
    pub rank_stability: StabilityInfo,
    /// Items, highest `joint-v1` first.
    pub items: Vec<ChecklistRow>,
    /// Discovery areas the items came from (an item without one is its own area).
    pub areas: Vec<ChecklistRow>,
    pub segments: Option<ChecklistSegments>,
    pub wave_comparison: Option<ChecklistWaveChange>,
    pub write_ins: WriteIns,
    /// Present when staff answered the checklist.
    pub staff_gap: Option<StaffGap>,
}

/// `A` and `joint-v1` per segment and a chi-square test of often / not often by
/// segment per item.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistSegments {
    pub attribute: String,
    pub tested: &'static str,
    pub test: &'static str,
    pub adjustment: &'static str,
    pub without_attribute: u64,
    pub segments: Vec<SegmentInfo>,
    /// In the order of [`ChecklistResults::items`].
    pub items: Vec<SegmentItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentItem {
    pub id: String,
    pub label: String,
    pub per_segment: Vec<SegmentCell>,
    pub test: Option<ChiSquareTest>,
    pub p_adjusted: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentCell {
    pub segment: String,
    pub often: Figure,
    pub joint: f64,
    pub joint_method: &'static str,
    pub n: u64,
}

/// `A` of each item between two waves.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistWaveChange {
    pub earlier_wave: String,
    pub later_wave: String,
    pub tested: &'static str,
    pub test: &'static str,
    pub adjustment: &'static str,
    pub earlier_n: u64,
    pub later_n: u64,
    pub items: Vec<WaveItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaveItem {
    pub id: String,
    pub label: String,
    /// Later minus earlier share meeting it often.
    pub change: ProportionTest,
    pub p_adjusted: Option<f64>,
}

/// The "other problems" box: written in and coded like discovery answers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WriteIns {
    pub mentions: u64,
    /// Respondents in scope who wrote at least one.
    pub respondents: u64,
    pub areas: Vec<WriteInArea>,
    /// Not in an area: `not-yet-coded` (run `pds code`) or `not-placed`.
    pub uncoded: Vec<super::UncodedText>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WriteInArea {
    pub area: String,
    /// Respondents who wrote a problem in the area, of `n`.
    pub share: Figure,
    pub mentions: u64,
}

/// Customers' and staff's rankings side by side.
#[derive(Debug, Clone, Serialize)]
pub struct StaffGap {
    #[serde(flatten)]
    pub stamp: GapStamp,
    pub top_k: usize,
    pub overlap_share: f64,
    pub in_both: Vec<String>,
    pub customers_only: Vec<String>,
    pub staff_only: Vec<String>,
    pub kendall_tau_b: Option<f64>,
    pub kendall_tau_b_ci: Option<Interval>,
    /// In the customers' order.
    pub items: Vec<GapItem>,
    /// Items in the customers' top k that staff rank below k, largest gap first.
    pub blind_spots: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GapItem {
    pub id: String,
    pub label: String,
    /// `gap`: customers' minus staff's `joint-v1`, positive when staff underrate it.
    #[serde(flatten)]
    pub figures: GapFigures,
    pub blind_spot: bool,
}

/// Writes the results in `format`. CSV and JSON keep full precision.
pub fn write(results: &ChecklistResults, format: Format, out: &mut dyn Write) -> Result<()> {
    super::write_as(results, format, out, output::csv, output::table)
}
