//! The one error type of `stats`: what was wrong with the numbers handed in.
//!
//! Every variant names the offending value so that the door (CLI, HTTP) can tell
//! the analyst what to fix without knowing how the statistics work.

/// Why a statistic could not be computed from the data given.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum StatsError {
    /// A discovery survey must let a respondent list at least one problem.
    #[error(
        "max_problems is 0: a discovery survey must let each respondent list at least one problem"
    )]
    MaxProblemsZero,
    /// A mention's rank is 0 or greater than `max_problems`.
    #[error(
        "respondent {respondent}: rank {rank} is outside 1..={max_problems} (1 = most important)"
    )]
    RankOutOfRange {
        respondent: usize,
        rank: u32,
        max_problems: u32,
    },
    /// A mention or answer names an area that is not in `0..area_count`.
    #[error("respondent {respondent}: area {area} does not exist (areas are 0..{area_count})")]
    AreaOutOfRange {
        respondent: usize,
        area: usize,
        area_count: usize,
    },
    /// A checklist bother rating outside 1..=5.
    #[error("respondent {respondent}: area {area} has bother rating {bother}, expected 1 to 5")]
    BotherOutOfRange {
        respondent: usize,
        area: usize,
        bother: u8,
    },
    /// A checklist problem experienced often has no bother rating, so its
    /// checklist `joint-v1` contribution is unknown.
    #[error(
        "respondent {respondent}: area {area} is experienced often but has no bother rating (1 to 5)"
    )]
    MissingBother { respondent: usize, area: usize },
    /// A checklist respondent answered the same area twice.
    #[error("respondent {respondent}: area {area} is answered more than once")]
    DuplicateAnswer { respondent: usize, area: usize },
    /// A ranking lists an area twice.
    #[error("ranking {ranking}: area {area} appears more than once")]
    DuplicateInRanking { ranking: usize, area: usize },
    /// Plackett-Luce worths exist only when every area beats, and loses to, the
    /// others, directly or through a chain of rankings.
    #[error(
        "Plackett-Luce worths cannot be fitted: {problem}; drop or merge these areas, or collect more rankings"
    )]
    ComparisonsDisconnected { problem: Disconnection },
    /// Two lists that must have one entry per respondent (or per area) differ in length.
    #[error("{what}: expected {expected} entries (one per {per}), found {found}")]
    LengthMismatch {
        what: &'static str,
        per: &'static str,
        expected: usize,
        found: usize,
    },
    /// A segment label outside `0..segment_count`.
    #[error(
        "respondent {respondent}: segment {segment} does not exist (segments are 0..{segment_count})"
    )]
    SegmentOutOfRange {
        respondent: usize,
        segment: usize,
        segment_count: usize,
    },
    /// The answer order must list every respondent exactly once.
    #[error(
        "answer order must list each of the {respondents} respondents exactly once; {problem}"
    )]
    NotAnOrder { respondents: usize, problem: String },
    /// A pair of respondents (same contact in two waves) points past the end of a wave.
    #[error(
        "pair {pair}: respondent {index} does not exist in the {wave} wave ({len} respondents)"
    )]
    PairOutOfRange {
        pair: usize,
        wave: &'static str,
        index: usize,
        len: usize,
    },
    /// A probability (share, incidence, p-value, target) outside its range.
    #[error("{what} is {value}, expected a number in {range}")]
    InvalidProbability {
        what: &'static str,
        value: f64,
        range: &'static str,
    },
    /// A score that must be a finite number is not.
    #[error("{what}: entry {index} is {value}, expected a finite number")]
    NotFinite {
        what: &'static str,
        index: usize,
        value: f64,
    },
    /// A count that must be positive was zero.
    #[error("{what} is 0, expected at least 1")]
    Zero { what: &'static str },
    /// More completed responses than invitations.
    #[error(
        "{completed} completed responses out of {invited} invitations: completed cannot exceed invited"
    )]
    MoreCompletedThanInvited { completed: u64, invited: u64 },
    /// The caller's progress callback asked to stop.
    #[error("stopped before the end at the caller's request")]
    Cancelled,
}

/// What keeps a set of rankings from identifying Plackett-Luce worths.
#[derive(Debug, Clone, PartialEq)]
pub enum Disconnection {
    /// The area is never ranked together with another area.
    NeverCompared { area: usize },
    /// The area is ranked with others but never above any of them.
    NeverBeats { area: usize },
    /// The area is ranked with others but never below any of them.
    NeverLoses { area: usize },
    /// These areas beat the rest but never lose to them (or the reverse).
    Group { areas: Vec<usize> },
}

impl std::fmt::Display for Disconnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Disconnection::NeverCompared { area } => {
                write!(f, "area {area} is never ranked together with another area")
            }
            Disconnection::NeverBeats { area } => {
                write!(f, "area {area} is never ranked above another area")
            }
            Disconnection::NeverLoses { area } => {
                write!(f, "area {area} is never ranked below another area")
            }
            Disconnection::Group { areas } => write!(
                f,
                "areas {areas:?} are only ever ranked above, or only ever below, the other areas"
            ),
        }
    }
}
