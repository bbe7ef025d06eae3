//! A team's working-hours calendar (`working_hours = "Mon-Fri 08:00-17:00"`,
//! `timezone = "Europe/Stockholm"`, `holidays = ["2027-12-24"]` in
//! routing.toml), and the one question service levels ask of it: when is a
//! length of working time after a moment over. Without a calendar, time is
//! plain elapsed time. Pure: takes times in UTC (as the database stores them)
//! and returns them; it reads no clock and imports nothing of the crate.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Weekday};
use chrono_tz::Tz;

/// How service-level times are counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Calendar {
    /// Every hour counts (the default).
    #[default]
    Elapsed,
    /// Only a team's working hours count.
    Working(WorkingHours),
}

impl Calendar {
    /// The working hours as written, or `None` for elapsed time.
    pub fn working_hours(&self) -> Option<String> {
        match self {
            Calendar::Elapsed => None,
            Calendar::Working(hours) => Some(hours.to_string()),
        }
    }

    /// The moment `amount` of counted time after `start` (both UTC).
    pub fn after(&self, start: NaiveDateTime, amount: Duration) -> NaiveDateTime {
        match self {
            Calendar::Elapsed => start + amount,
            Calendar::Working(hours) => hours.after(start, amount),
        }
    }
}

/// Working days and hours in a time zone, with holidays off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    /// Monday first.
    days: [bool; 7],
    opens: NaiveTime,
    closes: NaiveTime,
    zone: Tz,
    holidays: BTreeSet<NaiveDate>,
    /// As routing.toml writes it, with the zone: "Mon-Fri 08:00-17:00 Europe/Stockholm".
    written: String,
}

impl std::fmt::Display for WorkingHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.written)
    }
}

/// How `working_hours` is written, for error messages.
pub const FORM: &str =
    "days and hours such as \"Mon-Fri 08:00-17:00\" or \"Mon-Thu,Sat 09:00-12:30\"";

/// The most days a deadline is looked for ahead: a calendar with nearly every
/// day a holiday still ends, ten years on.
const HORIZON_DAYS: i64 = 3660;

impl WorkingHours {
    /// Parses `spec` (`"Mon-Fri 08:00-17:00"`), an IANA time zone name and
    /// holidays (`YYYY-MM-DD`). The error says what to write instead.
    pub fn parse(spec: &str, zone: &str, holidays: &[String]) -> Result<WorkingHours, String> {
        let (days, hours) = spec
            .trim()
            .split_once(' ')
            .ok_or_else(|| format!("working_hours {spec:?} is not {FORM}"))?;
        let days = parse_days(days)
            .ok_or_else(|| format!("working_hours {spec:?}: the days are not {FORM}"))?;
        let (opens, closes) = hours
            .trim()
            .split_once('-')
            .and_then(|(a, b)| Some((parse_time(a)?, parse_time(b)?)))
            .ok_or_else(|| format!("working_hours {spec:?}: the hours are not {FORM}"))?;
        if closes <= opens {
            return Err(format!(
                "working_hours {spec:?}: a working day must end after it starts, on the same day"
            ));
        }
        let written = format!("{} {}", spec.trim(), zone.trim());
        let zone: Tz = zone.trim().parse().map_err(|_| {
            format!(
                "timezone {zone:?} is not a time zone name such as \"Europe/Stockholm\" or \"UTC\""
            )
        })?;
        let holidays = holidays
            .iter()
            .map(|d| {
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| format!("holiday {d:?} is not a date such as \"2027-12-24\""))
            })
            .collect::<Result<_, _>>()?;
        Ok(WorkingHours {
            days,
            opens,
            closes,
            zone,
            holidays,
            written,
        })
    }

    /// The moment `amount` of working time after `start` (both UTC): the clock
    /// runs only inside working hours, in the team's time zone (so summer and
    /// winter time are followed), and stops on days off and holidays.
    pub fn after(&self, start: NaiveDateTime, amount: Duration) -> NaiveDateTime {
        let mut left = amount;
        let mut cursor = start;
        let first = self.zone.from_utc_datetime(&start).date_naive();
        for offset in 0..HORIZON_DAYS {
            let Some((opens, closes)) = self.hours_on(first + Duration::days(offset)) else {
                continue;
            };
            if closes <= cursor {
                continue;
            }
            cursor = cursor.max(opens);
            if left <= closes - cursor {
                return cursor + left;
            }
            left -= closes - cursor;
            cursor = closes;
        }
        NaiveDateTime::MAX
    }

    /// The working hours of local day `day` in UTC, if it is a working day.
    fn hours_on(&self, day: NaiveDate) -> Option<(NaiveDateTime, NaiveDateTime)> {
        let weekday = day.weekday().num_days_from_monday() as usize;
        if !self.days[weekday] || self.holidays.contains(&day) {
            return None;
        }
        Some((
            self.utc(day.and_time(self.opens)),
            self.utc(day.and_time(self.closes)),
        ))
    }

    /// A local time in UTC. A time that does not exist (the hour skipped when
    /// summer time starts) is taken an hour later; one that exists twice (the
    /// hour repeated when it ends), the first time.
    fn utc(&self, local: NaiveDateTime) -> NaiveDateTime {
        self.zone
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                self.zone
                    .from_local_datetime(&(local + Duration::hours(1)))
                    .earliest()
            })
            .map_or(local, |t| t.naive_utc())
    }
}

/// `Mon-Fri`, `Mon,Wed,Fri`, `Mon-Thu,Sat`: which weekdays, Monday first.
fn parse_days(text: &str) -> Option<[bool; 7]> {
    let mut days = [false; 7];
    for part in text.split(',') {
        let (from, to) = match part.split_once('-') {
            Some((a, b)) => (weekday(a)?, weekday(b)?),
            None => (weekday(part)?, weekday(part)?),
        };
        let (from, to) = (from.num_days_from_monday(), to.num_days_from_monday());
        if to < from {
            return None;
        }
        for d in from..=to {
            days[d as usize] = true;
        }
    }
    Some(days)
}

fn weekday(text: &str) -> Option<Weekday> {
    text.trim().parse().ok()
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stockholm(holidays: &[&str]) -> WorkingHours {
        let holidays: Vec<String> = holidays.iter().map(|d| d.to_string()).collect();
        WorkingHours::parse("Mon-Fri 08:00-17:00", "Europe/Stockholm", &holidays).unwrap()
    }

    fn utc(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    /// Asserts, for each (holidays, opened, working hours, due), when a case opened
    /// at `opened` (UTC) is due in Stockholm (UTC).
    fn assert_due_in_stockholm(cases: &[(&[&str], &str, i64, &str)]) {
        for (holidays, opened, hours, due) in cases {
            assert_eq!(
                stockholm(holidays).after(utc(opened), Duration::hours(*hours)),
                utc(due),
                "opened {opened} UTC with {hours} h, holidays {holidays:?}"
            );
        }
    }

    #[test]
    fn a_case_opened_in_the_evening_is_due_the_next_working_morning() {
        assert_due_in_stockholm(&[
            // Wednesday 18:00 in Stockholm (winter time): Thursday 10:00.
            (&[], "2027-01-13 17:00", 2, "2027-01-14 09:00"),
            // Opened at 15:00 local with 4 working hours: 2 today, 2 tomorrow.
            (&[], "2027-01-13 14:00", 4, "2027-01-14 09:00"),
            // Nine hours is exactly one working day.
            (&[], "2027-01-13 07:00", 9, "2027-01-13 16:00"),
        ]);
    }

    #[test]
    fn weekends_and_holidays_do_not_count() {
        assert_due_in_stockholm(&[
            // Friday 16:00 local: one hour on Friday, seven on Monday (15:00 local).
            (&[], "2027-01-15 15:00", 8, "2027-01-18 14:00"),
            // Monday is a holiday: Tuesday instead.
            (&["2027-01-18"], "2027-01-15 15:00", 8, "2027-01-19 14:00"),
            // Opened on a Saturday: the clock starts on Monday at 08:00.
            (&[], "2027-01-16 10:00", 1, "2027-01-18 08:00"),
        ]);
    }

    #[test]
    fn summer_time_moves_the_hours_in_utc() {
        assert_due_in_stockholm(&[
            // Summer time starts on Sunday 2027-03-28: Friday closes at 16:00 UTC,
            // Monday opens at 06:00 UTC (09:00 in Stockholm).
            (&[], "2027-03-26 15:00", 2, "2027-03-29 07:00"),
            // And back on Sunday 2027-10-31: Monday 09:00, winter time.
            (&[], "2027-10-29 14:00", 2, "2027-11-01 08:00"),
        ]);
        // A zone whose working hours cross the change at night: New York.
        let ny = WorkingHours::parse("Mon-Sun 01:00-03:00", "America/New_York", &[]).unwrap();
        // 2027-03-14: 02:00 does not exist; the day has one working hour (01:00-03:00 EDT = 1 h).
        let day_start = utc("2027-03-14 06:00"); // 01:00 EST
        assert_eq!(
            ny.after(day_start, Duration::minutes(30)),
            utc("2027-03-14 06:30")
        );
        assert_eq!(
            ny.after(day_start, Duration::minutes(90)),
            utc("2027-03-15 05:30"),
            "the rest on the next night, 01:30 EDT"
        );
    }

    #[test]
    fn elapsed_time_counts_every_hour() {
        let start = utc("2027-01-15 15:00");
        assert_eq!(
            Calendar::Elapsed.after(start, Duration::hours(8)),
            utc("2027-01-15 23:00")
        );
    }

    #[test]
    fn a_wrong_calendar_says_how_to_write_it() {
        for (spec, zone, holiday, says) in [
            ("weekdays", "UTC", "2027-01-01", "Mon-Fri 08:00-17:00"),
            ("Mon-Fri 8-17", "UTC", "2027-01-01", "the hours are not"),
            (
                "Fri-Mon 08:00-17:00",
                "UTC",
                "2027-01-01",
                "the days are not",
            ),
            (
                "Mon-Fri 17:00-08:00",
                "UTC",
                "2027-01-01",
                "must end after it starts",
            ),
            (
                "Mon-Fri 08:00-17:00",
                "Stockholm",
                "2027-01-01",
                "Europe/Stockholm",
            ),
            ("Mon-Fri 08:00-17:00", "UTC", "24 Dec", "2027-12-24"),
        ] {
            let err = WorkingHours::parse(spec, zone, &[holiday.to_string()]).unwrap_err();
            assert!(err.contains(says), "{spec} {zone} {holiday}: {err}");
        }
    }
}
