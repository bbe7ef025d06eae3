//! `pds contacts import FILE`: the whole file through `invite::contacts::parse`.
//! Every contact it accepts has a valid, lower-cased, unique email address and
//! fields within the limits; every refusal names the file or the line.

#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use pds::invite::contacts::{self, EmailAddress, MAX_ATTRIBUTES, MAX_FIELD_CHARS};

fn acceptable(text: &str) -> bool {
    text.chars().count() <= MAX_FIELD_CHARS && !text.chars().any(char::is_control)
}

fuzz_target!(|data: &[u8]| {
    match contacts::parse(data, "contacts.csv") {
        Ok((rows, errors)) => {
            let mut emails = HashSet::new();
            for row in &rows {
                let email = row.email.as_str();
                assert_eq!(email, email.to_lowercase(), "emails are stored lower-cased");
                assert_eq!(
                    email.parse::<EmailAddress>().as_ref(),
                    Ok(&row.email),
                    "an accepted email parses again to itself"
                );
                assert!(email.contains('@') && email.len() <= 254);
                assert!(emails.insert(email), "one row per email address");
                assert!(acceptable(&row.name));
                assert!(row.attributes.len() <= MAX_ATTRIBUTES);
                for (key, value) in &row.attributes {
                    assert!(!key.is_empty() && acceptable(key));
                    assert!(!value.is_empty() && acceptable(value));
                }
            }
            for error in &errors {
                assert!(
                    error.starts_with("line "),
                    "a bad row is named by line: {error}"
                );
            }
        }
        Err(error) => {
            let message = error.to_string();
            assert!(
                message.contains("contacts.csv"),
                "the refusal names the file: {message}"
            );
        }
    }
});
