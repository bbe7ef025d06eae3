//! Lengths of time as people type them (`--after 5d`, `--older-than 18mo`): one
//! spelling everywhere, so that a unit never means two things. A leaf: it imports
//! no other room of the crate.

/// The units, as a person would read them in a message.
pub const UNITS: &str = "s (seconds), m or min (minutes), h (hours), d (days), w (weeks), \
                         mo (months of 30 days), y (years of 365 days)";

/// Parses a whole number and a unit, e.g. `90m`, `36h`, `5d`, `18mo`, `2y`.
/// `None` when the text is not of that form or the length does not fit.
pub fn parse(text: &str) -> Option<chrono::Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = t.split_at(split);
    let n: i64 = number.parse().ok()?;
    let days = |per: i64| n.checked_mul(per).and_then(chrono::Duration::try_days);
    match unit {
        "s" => chrono::Duration::try_seconds(n),
        "m" | "min" => chrono::Duration::try_minutes(n),
        "h" => chrono::Duration::try_hours(n),
        "d" => days(1),
        "w" => days(7),
        "mo" => days(30),
        "y" => days(365),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn every_unit_means_one_thing() {
        assert_eq!(parse("0s"), Some(Duration::zero()));
        assert_eq!(parse("90m"), Some(Duration::minutes(90)));
        assert_eq!(parse("90min"), Some(Duration::minutes(90)));
        assert_eq!(parse("36h"), Some(Duration::hours(36)));
        assert_eq!(parse(" 5d "), Some(Duration::days(5)));
        assert_eq!(parse("3w"), Some(Duration::days(21)));
        assert_eq!(parse("18mo"), Some(Duration::days(540)));
        assert_eq!(parse("2y"), Some(Duration::days(730)));
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "5",
            "d",
            "5 d",
            "5days",
            "-5d",
            "5D",
            "99999999999999999999y",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
