//! A continuous survey's cadence (`cadence = "12 months"` in survey.toml): how long
//! after a contact's last invitation to the survey they are invited again. Pure:
//! the invite room decides who is due and when batches go out.

use std::fmt;

use chrono::{Months, NaiveDateTime};

/// How often a continuous survey invites each contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    Days(u32),
    /// Calendar months: a contact invited on 15 March is due on 15 March a year later.
    Months(u32),
}

/// The spellings survey.toml accepts, as a person would read them.
pub const CADENCE_FORMS: &str =
    "a number and a unit: days, weeks, months or years, e.g. \"12 months\" or \"26 weeks\"";

impl Cadence {
    /// Parses `"12 months"`, `"1 year"`, `"26 weeks"`, `"90 days"`: at least a week,
    /// at most ten years.
    pub fn parse(text: &str) -> Result<Cadence, String> {
        let bad = || format!("cadence {text:?} is not {CADENCE_FORMS}");
        let mut words = text.split_whitespace();
        let (Some(number), Some(unit), None) = (words.next(), words.next(), words.next()) else {
            return Err(bad());
        };
        let n: u32 = number.parse().map_err(|_| bad())?;
        let cadence = match unit.trim_end_matches('s') {
            "day" => Cadence::Days(n),
            "week" => Cadence::Days(n.checked_mul(7).ok_or_else(bad)?),
            "month" => Cadence::Months(n),
            "year" => Cadence::Months(n.checked_mul(12).ok_or_else(bad)?),
            _ => return Err(bad()),
        };
        let days = cadence.days();
        if !(7..=3660).contains(&days) {
            return Err(format!("cadence {text:?} must be from a week to ten years"));
        }
        Ok(cadence)
    }

    /// When a contact last invited at `last` is due again.
    pub fn due_after(self, last: NaiveDateTime) -> NaiveDateTime {
        match self {
            Cadence::Days(n) => last + chrono::Duration::days(i64::from(n)),
            Cadence::Months(n) => last
                .checked_add_months(Months::new(n))
                .unwrap_or(NaiveDateTime::MAX),
        }
    }

    /// The period in whole days (a month counted as 365/12 days), over which one
    /// round of invitations is spread.
    pub fn days(self) -> i64 {
        match self {
            Cadence::Days(n) => i64::from(n),
            Cadence::Months(n) => (i64::from(n) * 365 + 6) / 12,
        }
    }
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cadence::Days(n) => write!(f, "{n} days"),
            Cadence::Months(n) => write!(f, "{n} months"),
        }
    }
}

/// The wave a continuous survey's invitations of the day `at` belong to: its month,
/// e.g. `2026-12`.
pub fn period_wave(at: NaiveDateTime) -> String {
    at.format("%Y-%m").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn cadences_are_written_in_words() {
        assert_eq!(Cadence::parse("12 months"), Ok(Cadence::Months(12)));
        assert_eq!(Cadence::parse("1 year"), Ok(Cadence::Months(12)));
        assert_eq!(Cadence::parse("26 weeks"), Ok(Cadence::Days(182)));
        assert_eq!(Cadence::parse(" 90  days "), Ok(Cadence::Days(90)));
        assert_eq!(Cadence::Months(12).days(), 365);
        assert_eq!(Cadence::Months(6).days(), 183);
    }

    #[test]
    fn anything_else_says_how_to_write_it() {
        for bad in [
            "12",
            "months",
            "12 moons",
            "twelve months",
            "12months",
            "-1 year",
        ] {
            let err = Cadence::parse(bad).unwrap_err();
            assert!(err.contains("\"12 months\""), "{bad:?}: {err}");
        }
        assert!(Cadence::parse("3 days")
            .unwrap_err()
            .contains("from a week"));
        assert!(Cadence::parse("11 years")
            .unwrap_err()
            .contains("ten years"));
    }

    #[test]
    fn months_are_calendar_months_and_waves_are_named_by_month() {
        let last = at("2026-03-15 09:00:00");
        assert_eq!(
            Cadence::Months(12).due_after(last),
            at("2027-03-15 09:00:00")
        );
        assert_eq!(Cadence::Days(7).due_after(last), at("2026-03-22 09:00:00"));
        assert_eq!(period_wave(last), "2026-03");
    }
}
