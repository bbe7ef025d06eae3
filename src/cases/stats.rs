//! `pds cases stats`: how fast teams act on their cases, per team and per area.
//! Pure: it takes the cases (with their trails), each team's service levels and
//! the time, and returns figures, each with its n.
//!
//! - time to acknowledge: from the case's opening to its first action
//!   (acknowledged, resolved or declined), over the cases that have one;
//! - time to resolve: from opening to resolved or declined, over closed cases;
//! - within SLA: of the cases whose deadline has passed or that were acted on,
//!   the share acted on within the team's `ack_within` (`resolve_within`),
//!   counted in the team's working hours when it has a calendar; none when the
//!   team has no such service level;
//! - open cases by age: open or acknowledged cases, under 1 day, 1 to 7 days,
//!   over 7 days since opening.
//!
//! Medians are the middle value (the mean of the two middle values for an even
//! n), in hours: method `median-v1`.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};
use serde::Serialize;

use super::team::TeamCase;
use super::Status;
use crate::working_hours::Calendar;

/// The method name printed beside the medians.
pub const METHOD: &str = "median-v1";

/// A team's service levels, as the stats need them.
#[derive(Debug, Clone, Default)]
pub struct Deadlines {
    pub ack_within: Option<Duration>,
    pub resolve_within: Option<Duration>,
    /// How the times are counted (working hours or elapsed).
    pub calendar: Calendar,
}

/// A median time and a share within the service level, each with its n.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timing {
    pub median_hours: Option<f64>,
    pub n: usize,
    /// Cases acted on within the service level, and of how many it applies to.
    pub within_sla: usize,
    pub sla_n: usize,
}

impl Timing {
    pub fn share_within(&self) -> Option<f64> {
        (self.sla_n > 0).then(|| self.within_sla as f64 / self.sla_n as f64)
    }

    /// "12.5 h (7)": the median with its n, or "- (0)".
    pub fn median_text(&self) -> String {
        match self.median_hours {
            Some(h) => format!("{h:.1} h ({})", self.n),
            None => format!("- ({})", self.n),
        }
    }

    /// "80% (5)": the share within the service level with its n, or "no SLA".
    pub fn share_text(&self) -> String {
        match self.share_within() {
            Some(s) => format!("{:.0}% ({})", s * 100.0, self.sla_n),
            None => "no SLA".into(),
        }
    }
}

/// The figures of one team or one area.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub cases: usize,
    pub acknowledge: Timing,
    pub resolve: Timing,
    /// Open cases under 1 day, 1 to 7 days, and over 7 days old.
    pub open_by_age: [usize; 3],
}

/// Per team (by id) and per area (its label, or `None` before coding).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    pub teams: BTreeMap<String, Figures>,
    pub areas: BTreeMap<Option<String>, Figures>,
}

/// The figures for `cases` at `now`; `deadlines` gives each team's levels.
pub fn compute(
    cases: &[TeamCase],
    deadlines: impl Fn(&str) -> Deadlines,
    now: NaiveDateTime,
) -> Stats {
    let mut teams: BTreeMap<String, Vec<&TeamCase>> = BTreeMap::new();
    let mut areas: BTreeMap<Option<String>, Vec<&TeamCase>> = BTreeMap::new();
    for c in cases {
        teams.entry(c.team.clone()).or_default().push(c);
        areas.entry(c.area.clone()).or_default().push(c);
    }
    let levels: BTreeMap<String, Deadlines> =
        teams.keys().map(|t| (t.clone(), deadlines(t))).collect();
    let figures = |group: Vec<&TeamCase>| figures(&group, &levels, now);
    Stats {
        teams: teams.into_iter().map(|(k, g)| (k, figures(g))).collect(),
        areas: areas.into_iter().map(|(k, g)| (k, figures(g))).collect(),
    }
}

fn first_of(case: &TeamCase, actions: &[&str]) -> Option<NaiveDateTime> {
    case.events
        .iter()
        .find(|(_, a, _)| actions.contains(&a.as_str()))
        .map(|(at, _, _)| *at)
}

fn hours(d: Duration) -> f64 {
    d.num_seconds() as f64 / 3600.0
}

fn timing(
    group: &[&TeamCase],
    done: impl Fn(&TeamCase) -> Option<NaiveDateTime>,
    due: impl Fn(&TeamCase) -> Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Timing {
    let mut times = Vec::new();
    let (mut within_sla, mut sla_n) = (0, 0);
    for case in group {
        let finished = done(case);
        if let Some(at) = finished {
            times.push(hours(at - case.created_at));
        }
        if let Some(deadline) = due(case) {
            match finished {
                Some(at) => {
                    sla_n += 1;
                    within_sla += usize::from(at <= deadline);
                }
                None if now > deadline => sla_n += 1,
                None => {}
            }
        }
    }
    Timing {
        n: times.len(),
        median_hours: median(times),
        within_sla,
        sla_n,
    }
}

fn figures(
    group: &[&TeamCase],
    levels: &BTreeMap<String, Deadlines>,
    now: NaiveDateTime,
) -> Figures {
    let due = |case: &TeamCase, within: fn(&Deadlines) -> Option<Duration>| {
        let level = levels.get(&case.team)?;
        within(level).map(|w| level.calendar.after(case.created_at, w))
    };
    let mut open_by_age = [0; 3];
    for c in group {
        if matches!(c.status, Status::Open | Status::Acknowledged) {
            let days = (now - c.created_at).num_days();
            open_by_age[match days {
                d if d < 1 => 0,
                d if d <= 7 => 1,
                _ => 2,
            }] += 1;
        }
    }
    Figures {
        cases: group.len(),
        acknowledge: timing(
            group,
            |c| first_of(c, &["acknowledged", "resolved", "declined"]),
            |c| due(c, |d| d.ack_within),
            now,
        ),
        resolve: timing(
            group,
            |c| first_of(c, &["resolved", "declined"]),
            |c| due(c, |d| d.resolve_within),
            now,
        ),
        open_by_age,
    }
}

/// The median of `values` (statrs: the mean of the two middle values for an
/// even n); `None` when empty.
fn median(values: Vec<f64>) -> Option<f64> {
    use statrs::statistics::OrderStatistics;
    (!values.is_empty()).then(|| statrs::statistics::Data::new(values).median())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2027, 1, 4)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap()
            + Duration::hours(h)
    }

    fn case(team: &str, status: Status, events: &[(i64, &str)]) -> TeamCase {
        TeamCase {
            id: 1,
            survey_id: 1,
            team: team.into(),
            reference: None,
            rank: 1,
            of: 1,
            text: String::new(),
            status,
            created_at: at(0),
            answer_locale: "sv".into(),
            answered_at: at(0),
            area: None,
            customer: None,
            events: events
                .iter()
                .map(|(h, a)| (at(*h), a.to_string(), None))
                .collect(),
        }
    }

    #[test]
    fn medians_and_shares_count_what_they_say() {
        let cases = [
            case(
                "ops",
                Status::Resolved,
                &[(2, "acknowledged"), (30, "resolved")],
            ),
            case("ops", Status::Acknowledged, &[(10, "acknowledged")]),
            case("ops", Status::Declined, &[(4, "declined")]),
            case("ops", Status::Open, &[]),
        ];
        let sla = |_: &str| Deadlines {
            ack_within: Some(Duration::hours(8)),
            resolve_within: Some(Duration::hours(24)),
            calendar: Calendar::Elapsed,
        };
        let stats = compute(&cases, sla, at(48));
        let ops = &stats.teams["ops"];
        assert_eq!(ops.cases, 4);
        assert_eq!(ops.acknowledge.median_hours, Some(4.0), "2, 4, 10");
        assert_eq!(ops.acknowledge.n, 3);
        assert_eq!((ops.acknowledge.within_sla, ops.acknowledge.sla_n), (2, 4));
        assert_eq!(ops.resolve.median_hours, Some(17.0), "4 and 30");
        assert_eq!((ops.resolve.within_sla, ops.resolve.sla_n), (1, 4));
        assert_eq!(ops.open_by_age, [0, 2, 0]);
        assert_eq!(stats.areas[&None].cases, 4);
    }
}
