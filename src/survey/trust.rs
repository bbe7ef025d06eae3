//! What tells a customer the survey is genuine: who it comes from (a sender name
//! per locale), where a reply goes, the privacy notice and how to reach a person.
//! Parsed and checked here from `survey.toml`; this room does not send or render.

use lettre::Address;
use url::Url;

use super::{Locale, LocaleWording};

/// The longest sender name or contact line accepted, in characters.
pub const MAX_TRUST_TEXT: usize = 200;

/// The survey-wide trust settings (`[survey]` in `survey.toml`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    pub reply_to: Option<Address>,
    /// Always `http` or `https`.
    pub privacy_url: Option<Url>,
}

impl Trust {
    /// Reads `reply_to` and `privacy_url`, adding what is wrong to `problems`.
    pub fn parse(
        reply_to: Option<&str>,
        privacy_url: Option<&str>,
        problems: &mut Vec<String>,
    ) -> Trust {
        let reply_to = reply_to.and_then(|text| match text.trim().parse::<Address>() {
            Ok(address) => Some(address),
            Err(_) => {
                problems.push(format!(
                    "survey.toml: reply_to {text:?} is not an email address; write one such as \"research@example.com\""
                ));
                None
            }
        });
        let privacy_url = privacy_url.and_then(|text| match Url::parse(text.trim()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url),
            _ => {
                problems.push(format!(
                    "survey.toml: privacy_url {text:?} is not a web address; write one such as \"https://example.com/privacy\""
                ));
                None
            }
        });
        Trust {
            reply_to,
            privacy_url,
        }
    }
}

/// Checks the optional `sender` and `contact` of one `[locale.X]` table.
pub fn check_wording(locale: Locale, wording: &LocaleWording, problems: &mut Vec<String>) {
    for (field, value) in [("sender", &wording.sender), ("contact", &wording.contact)] {
        let Some(value) = value else { continue };
        let fault = if value.trim().is_empty() {
            Some("is empty; remove it or write it out".to_string())
        } else if value.chars().any(char::is_control) {
            Some("must be one line".to_string())
        } else if value.chars().count() > MAX_TRUST_TEXT {
            Some(format!("is longer than {MAX_TRUST_TEXT} characters"))
        } else if field == "sender" && value.contains(['<', '>', '@', '"']) {
            Some("is the name shown as the sender, without an address or quotes (the address is the mail_from setting's)".to_string())
        } else {
            None
        };
        if let Some(fault) = fault {
            problems.push(format!("survey.toml: [locale.{locale}] {field} {fault}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_reply_address_or_privacy_link_is_named_with_what_to_write() {
        let mut problems = Vec::new();
        let trust = Trust::parse(Some("research@"), Some("ftp://x.example/p"), &mut problems);
        assert_eq!(trust, Trust::default());
        assert!(
            problems[0].contains("reply_to \"research@\""),
            "{problems:?}"
        );
        assert!(problems[1].contains("privacy_url"), "{problems:?}");
        let mut problems = Vec::new();
        let trust = Trust::parse(
            Some("research@nordvik.example"),
            Some("https://nordvik.example/privacy"),
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            trust.reply_to.unwrap().to_string(),
            "research@nordvik.example"
        );
    }

    #[test]
    fn a_sender_is_a_name_on_one_line() {
        let wording = |sender: &str| LocaleWording {
            title: "t".into(),
            question: "q".into(),
            organisation: "o".into(),
            sender: Some(sender.into()),
            contact: Some("Ring oss på 08-123 45 67".into()),
        };
        let mut problems = Vec::new();
        check_wording(
            Locale::Sv,
            &wording("Nordvik Supply kundundersökning"),
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        check_wording(Locale::Sv, &wording("Nordvik <x@y.example>"), &mut problems);
        check_wording(Locale::Sv, &wording("Nordvik\nBcc: x@y"), &mut problems);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("survey.toml: [locale.sv] sender"));
    }

    #[test]
    fn customer_emails_come_from_the_sender_in_their_language_and_team_emails_do_not() {
        let survey = crate::survey::Survey::shipped("discovery").unwrap();
        let sample = serde_json::json!({
            "contact": {"name": "Anna"},
            "complaint": {"text": "Sent", "rank": 1},
            "note": "Fixat.",
            "team": {"name": "Logistik"},
            "wave": "w1",
        });
        let followup = survey.render_email(Locale::Sv, "followup", sample).unwrap();
        assert_eq!(
            followup.sender.as_deref(),
            Some("Nordvik Supply kundundersökning")
        );
        assert_eq!(
            followup.reply_to.map(|a| a.to_string()).as_deref(),
            Some("research@nordvik.example")
        );
        assert!(
            followup.text.contains("https://nordvik.example/privacy"),
            "{}",
            followup.text
        );
        assert_eq!(
            survey.sender(Locale::En),
            "Nordvik Supply customer research"
        );
    }
}
