//! A `[teams.ID]` table of `routing.toml` checked: who a team is, where its
//! complaints go (emails, a webhook and its format and secret's variable) and its
//! service levels with their working-hours calendar. Pure: no database; the rules
//! that name the teams are checked in `rules.rs`.

use serde::Deserialize;

use crate::config::SECRET_ENV_PREFIX;
use crate::survey::Locale;
use crate::working_hours::{Calendar, WorkingHours};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TeamToml {
    name: String,
    #[serde(default)]
    emails: Vec<String>,
    locale: Option<String>,
    digest: Option<String>,
    webhook: Option<String>,
    format: Option<String>,
    secret_env: Option<String>,
    ack_within: Option<String>,
    resolve_within: Option<String>,
    escalate_to: Option<String>,
    working_hours: Option<String>,
    timezone: Option<String>,
    #[serde(default)]
    holidays: Vec<String>,
}

/// An operations team and where its complaints go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub emails: Vec<String>,
    pub locale: Option<Locale>,
    /// `digest = "daily"`: one email a day listing the day's complaints instead
    /// of one email per complaint.
    pub daily_digest: bool,
    pub webhook: Option<Webhook>,
    pub sla: Sla,
}

/// Where a team's webhook posts, and in which shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: url::Url,
    pub format: WebhookFormat,
    /// The environment variable holding this team's signing secret
    /// (`secret_env = "PDS_WEBHOOK_SECRET_LOGISTICS"`); `None`: the global
    /// `webhook_secret`. The secret itself never stands in routing.toml.
    pub secret_env: Option<String>,
}

/// The body a webhook receives: PDS's own signed JSON, or what Slack's and
/// Microsoft Teams' incoming webhooks accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    Json,
    Slack,
    Teams,
}

impl WebhookFormat {
    fn parse(text: &str) -> Option<WebhookFormat> {
        match text {
            "json" => Some(WebhookFormat::Json),
            "slack" => Some(WebhookFormat::Slack),
            "teams" => Some(WebhookFormat::Teams),
            _ => None,
        }
    }
}

/// A team's service levels (all optional): acknowledge within, resolve within
/// (counted in the team's working hours when it has a calendar, else in plain
/// elapsed time since the case was opened), and who hears of a case that
/// missed them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sla {
    pub ack_within: Option<chrono::Duration>,
    pub resolve_within: Option<chrono::Duration>,
    pub escalate_to: Option<String>,
    pub calendar: Calendar,
}

impl Sla {
    /// When a case opened at `opened` has missed `within` taken `times` times.
    pub fn due(
        &self,
        opened: chrono::NaiveDateTime,
        within: chrono::Duration,
        times: i32,
    ) -> chrono::NaiveDateTime {
        self.calendar.after(opened, within * times)
    }
}

/// Checks one `[teams.ID]` table; each problem goes to `problem`.
pub(super) fn check_team(id: &str, team: TeamToml, problem: &mut dyn FnMut(String)) -> Team {
    if team.emails.is_empty() && team.webhook.is_none() {
        problem(format!(
            "team {id:?} has no emails and no webhook; give it at least one of them"
        ));
    }
    for email in team.emails.iter().chain(&team.escalate_to) {
        if email.parse::<lettre::Address>().is_err() {
            problem(format!("team {id:?}: {email:?} is not an email address"));
        }
    }
    let locale = match team.locale.as_deref().map(str::parse::<Locale>) {
        Some(Ok(l)) => Some(l),
        Some(Err(e)) => {
            problem(format!("team {id:?}: {e}"));
            None
        }
        None => None,
    };
    let daily_digest = match team.digest.as_deref() {
        None => false,
        Some("daily") => true,
        Some(other) => {
            problem(format!(
                "team {id:?}: digest {other:?} is not known; write digest = \"daily\" or leave it out"
            ));
            false
        }
    };
    let webhook = check_webhook(id, &team, problem);
    let calendar = check_calendar(id, &team, problem);
    let working = calendar != Calendar::Elapsed;
    let mut within = |key: &str, text: Option<&str>| {
        let parsed = text.map(|t| (t, crate::age::parse(t)));
        match parsed {
            // A working day is not 24 hours: days would mean two things.
            Some((t, Some(_))) if working && !in_hours(t) => {
                problem(format!(
                    "team {id:?}: {key} {t:?}: with working_hours, write the working time in hours, \
                     such as \"4h\", or \"45h\" for five 9-hour days"
                ));
                None
            }
            Some((_, Some(d))) if d > chrono::Duration::zero() => Some(d),
            Some((t, _)) => {
                problem(format!(
                    "team {id:?}: {key} {t:?} is not a length of time such as \"8h\" or \"5d\" (units: {})",
                    crate::age::UNITS
                ));
                None
            }
            None => None,
        }
    };
    let sla = Sla {
        ack_within: within("ack_within", team.ack_within.as_deref()),
        resolve_within: within("resolve_within", team.resolve_within.as_deref()),
        calendar,
        escalate_to: team.escalate_to,
    };
    Team {
        id: id.to_string(),
        name: team.name,
        emails: team.emails,
        locale,
        daily_digest,
        webhook,
        sla,
    }
}

fn check_webhook(id: &str, team: &TeamToml, problem: &mut dyn FnMut(String)) -> Option<Webhook> {
    let secret_env = check_secret_env(id, team.secret_env.as_deref(), problem);
    let format = match team.format.as_deref().map(|f| (f, WebhookFormat::parse(f))) {
        None => WebhookFormat::Json,
        Some((_, Some(f))) => f,
        Some((f, None)) => {
            problem(format!(
                "team {id:?}: format {f:?} is not known; write \"json\", \"slack\" or \"teams\""
            ));
            WebhookFormat::Json
        }
    };
    let Some(url) = team.webhook.as_deref() else {
        if format != WebhookFormat::Json || secret_env.is_some() {
            problem(format!(
                "team {id:?}: format or secret_env is set but webhook is not"
            ));
        }
        return None;
    };
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
            Some(Webhook {
                url: u,
                format,
                secret_env,
            })
        }
        Ok(_) => {
            problem(format!(
                "team {id:?}: webhook {url:?} must be an http:// or https:// address"
            ));
            None
        }
        Err(e) => {
            problem(format!("team {id:?}: webhook {url:?} is not a URL: {e}"));
            None
        }
    }
}

/// Whether a length is written in hours or shorter units, which mean the same
/// in working time as on the clock (a day or a week does not).
fn in_hours(text: &str) -> bool {
    let unit = text.trim().trim_start_matches(|c: char| c.is_ascii_digit());
    matches!(unit, "h" | "m" | "min" | "s")
}

/// Checks a team's working-hours calendar: `working_hours` with its
/// `timezone`, and `holidays` only beside them.
fn check_calendar(id: &str, team: &TeamToml, problem: &mut dyn FnMut(String)) -> Calendar {
    match (&team.working_hours, &team.timezone) {
        (Some(hours), Some(zone)) => WorkingHours::parse(hours, zone, &team.holidays)
            .map(Calendar::Working)
            .unwrap_or_else(|e| {
                problem(format!("team {id:?}: {e}"));
                Calendar::Elapsed
            }),
        (Some(_), None) => {
            problem(format!(
                "team {id:?}: working_hours needs a timezone, such as timezone = \"Europe/Stockholm\""
            ));
            Calendar::Elapsed
        }
        (None, _) if team.timezone.is_some() || !team.holidays.is_empty() => {
            problem(format!(
                "team {id:?}: timezone and holidays go with working_hours, such as working_hours = \"Mon-Fri 08:00-17:00\""
            ));
            Calendar::Elapsed
        }
        (None, _) => Calendar::Elapsed,
    }
}

/// Checks a team's `secret_env`: the name of a variable starting with
/// `PDS_WEBHOOK_SECRET_`, in capitals, digits and underscores.
fn check_secret_env(
    id: &str,
    name: Option<&str>,
    problem: &mut dyn FnMut(String),
) -> Option<String> {
    let name = name?;
    let suffix = name.strip_prefix(SECRET_ENV_PREFIX).unwrap_or_default();
    let valid = !suffix.is_empty()
        && suffix
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        problem(format!(
            "team {id:?}: secret_env {name:?} is not the name of an environment variable \
             starting with {SECRET_ENV_PREFIX} (capitals, digits, underscores), such as \
             \"{SECRET_ENV_PREFIX}{}\"; write the variable's name here, never the secret",
            id.to_ascii_uppercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        ));
        return None;
    }
    Some(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::rules::Routing;

    #[test]
    fn a_working_hours_team_counts_in_hours_in_its_time_zone() {
        let team = |extra: &str| {
            format!(
                "[teams.ops]\nname = \"Ops\"\nemails = [\"ops@example.com\"]\n{extra}\n\
                 [[rules]]\nname = \"late\"\nkeywords = [\"late\"]\nteams = [\"ops\"]\n"
            )
        };
        let hours = "working_hours = \"Mon-Fri 08:00-17:00\"\ntimezone = \"Europe/Stockholm\"\n";
        let routing = Routing::parse(&team(&format!("{hours}ack_within = \"4h\"")), "r").unwrap();
        let sla = &routing.teams["ops"].sla;
        assert_eq!(
            sla.calendar.working_hours().as_deref(),
            Some("Mon-Fri 08:00-17:00 Europe/Stockholm")
        );
        for (extra, says) in [
            (
                format!("{hours}resolve_within = \"5d\""),
                "write the working time in hours",
            ),
            (
                "working_hours = \"Mon-Fri 08:00-17:00\"".to_string(),
                "needs a timezone",
            ),
            ("timezone = \"UTC\"".to_string(), "go with working_hours"),
            (format!("{hours}holidays = [\"24/12\"]"), "is not a date"),
        ] {
            let err = Routing::parse(&team(&extra), "r").unwrap_err().to_string();
            assert!(err.contains(says), "{extra}: {err}");
        }
    }

    #[test]
    fn a_team_names_its_webhook_secret_by_variable_never_by_value() {
        let team = |extra: &str| {
            format!(
                "[teams.ops]\nname = \"Ops\"\nwebhook = \"https://hooks.example/x\"\n{extra}\n\
                 [[rules]]\nname = \"late\"\nkeywords = [\"late\"]\nteams = [\"ops\"]\n"
            )
        };
        let routing = Routing::parse(&team("secret_env = \"PDS_WEBHOOK_SECRET_OPS\""), "r")
            .expect("a variable's name");
        let hook = routing.teams["ops"].webhook.clone().unwrap();
        assert_eq!(hook.secret_env.as_deref(), Some("PDS_WEBHOOK_SECRET_OPS"));
        let global = Routing::parse(&team(""), "r").unwrap();
        assert_eq!(
            global.teams["ops"].webhook.clone().unwrap().secret_env,
            None
        );
        for wrong in [
            "3f9a0c1b2d4e5f60718293a4b5c6d7e8",
            "PDS_DATABASE_URL",
            "PDS_WEBHOOK_SECRET_",
        ] {
            let err = Routing::parse(&team(&format!("secret_env = \"{wrong}\"")), "r")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("never the secret") && err.contains("PDS_WEBHOOK_SECRET_OPS"),
                "{wrong}: {err}"
            );
        }
    }
}
