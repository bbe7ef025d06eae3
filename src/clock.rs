//! The time `pds` runs at: the system clock, unless `PDS_NOW` fixes it for one
//! process. Schedules that span months (the yearly cadence, the contact frequency
//! cap, SLAs) can then be run on simulated days, by a test or by an operator
//! trying a plan: `PDS_NOW=2027-03-01T09:00:00 pds invite --cadence-run --dry-run`.
//! A leaf: it imports no other room of the crate.

use std::sync::OnceLock;

/// The variable that fixes the clock.
pub const FIXED_NOW_VARIABLE: &str = "PDS_NOW";

/// The spellings `PDS_NOW` accepts (UTC), as a person would read them.
pub const FORMATS: &str = "2027-03-01T09:00:00, 2027-03-01 09:00:00 or 2027-03-01";

/// The current time in UTC: `PDS_NOW` when it is set and valid, else the system's.
/// `Settings::load` refuses an invalid `PDS_NOW`, so commands never run on a
/// clock they did not ask for.
pub fn now() -> chrono::NaiveDateTime {
    static FIXED: OnceLock<Option<chrono::NaiveDateTime>> = OnceLock::new();
    FIXED
        .get_or_init(|| {
            std::env::var(FIXED_NOW_VARIABLE)
                .ok()
                .and_then(|t| parse(&t))
        })
        .unwrap_or_else(|| chrono::Utc::now().naive_utc())
}

/// Parses a UTC time written as in [`FORMATS`]; `None` for anything else.
pub fn parse(text: &str) -> Option<chrono::NaiveDateTime> {
    let t = text.trim();
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(t, f).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_time_is_written_as_a_date_and_maybe_a_time() {
        let t = parse("2027-03-01T09:30:00").unwrap();
        assert_eq!(t.to_string(), "2027-03-01 09:30:00");
        assert_eq!(parse("2027-03-01 09:30:00"), Some(t));
        assert_eq!(
            parse("2027-03-01").unwrap().to_string(),
            "2027-03-01 00:00:00"
        );
        for bad in ["", "tomorrow", "2027-13-01", "01/03/2027"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
