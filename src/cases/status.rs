//! Where a case stands and what may happen to it next. Pure: no database, no clock.
//! A case moves `open -> acknowledged -> resolved | declined`; it may also be
//! resolved or declined straight from `open`. Resolved and declined are final.

use std::fmt;
use std::str::FromStr;

/// The status of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Acknowledged,
    Resolved,
    Declined,
}

/// What a team (or an analyst) does to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Acknowledge,
    Resolve,
    Decline,
}

/// An action that does not apply to a case in its present status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("case is {from}; it cannot be {} now", action.past())]
pub struct Refused {
    pub from: Status,
    pub action: Action,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Open,
        Status::Acknowledged,
        Status::Resolved,
        Status::Declined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Acknowledged => "acknowledged",
            Status::Resolved => "resolved",
            Status::Declined => "declined",
        }
    }

    /// Resolved and declined cases are closed: nothing more happens to them.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Resolved | Status::Declined)
    }

    /// The status after `action`, or why the action does not apply.
    pub fn after(self, action: Action) -> Result<Status, Refused> {
        let refused = Refused { from: self, action };
        match (self, action) {
            (Status::Open, Action::Acknowledge) => Ok(Status::Acknowledged),
            (Status::Open | Status::Acknowledged, Action::Resolve) => Ok(Status::Resolved),
            (Status::Open | Status::Acknowledged, Action::Decline) => Ok(Status::Declined),
            _ => Err(refused),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::named::find(&Status::ALL, Status::as_str, s).ok_or_else(|| {
            format!("{s:?} is not a case status; use open, acknowledged, resolved or declined")
        })
    }
}

impl Action {
    pub const ALL: [Action; 3] = [Action::Acknowledge, Action::Resolve, Action::Decline];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Acknowledge => "acknowledge",
            Action::Resolve => "resolve",
            Action::Decline => "decline",
        }
    }

    /// The word for the audit trail and messages: "acknowledged", ...: the name
    /// of the status the action leads to.
    pub fn past(self) -> &'static str {
        match self {
            Action::Acknowledge => Status::Acknowledged,
            Action::Resolve => Status::Resolved,
            Action::Decline => Status::Declined,
        }
        .as_str()
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::named::find(&Action::ALL, Action::as_str, s)
            .ok_or_else(|| format!("{s:?} is not a case action"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_case_can_be_acknowledged_resolved_or_declined() {
        assert_eq!(
            Status::Open.after(Action::Acknowledge),
            Ok(Status::Acknowledged)
        );
        assert_eq!(Status::Open.after(Action::Resolve), Ok(Status::Resolved));
        assert_eq!(Status::Open.after(Action::Decline), Ok(Status::Declined));
    }

    #[test]
    fn an_acknowledged_case_is_resolved_or_declined_but_not_acknowledged_twice() {
        assert_eq!(
            Status::Acknowledged.after(Action::Resolve),
            Ok(Status::Resolved)
        );
        assert_eq!(
            Status::Acknowledged.after(Action::Decline),
            Ok(Status::Declined)
        );
        let refused = Status::Acknowledged.after(Action::Acknowledge).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "case is acknowledged; it cannot be acknowledged now"
        );
    }

    #[test]
    fn closed_cases_stay_closed() {
        for closed in [Status::Resolved, Status::Declined] {
            assert!(closed.is_closed());
            for action in Action::ALL {
                assert_eq!(
                    closed.after(action),
                    Err(Refused {
                        from: closed,
                        action
                    })
                );
            }
        }
        assert!(!Status::Open.is_closed() && !Status::Acknowledged.is_closed());
    }

    #[test]
    fn statuses_and_actions_parse_back() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>(), Ok(a));
        }
        assert!("closed".parse::<Status>().is_err());
    }
}
