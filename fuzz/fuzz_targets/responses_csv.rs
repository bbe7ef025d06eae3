//! `pds responses import --survey S FILE`: the whole file through
//! `answer::import::parse`, for a survey whose M is chosen by the first byte.
//! Every respondent it accepts is an answer the form could have given.

#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use pds::answer::form::MAX_TEXT_CHARS;
use pds::answer::import::{self, MAX_FIELD_CHARS};
use pds::coding::group_key;

fn acceptable(text: &str) -> bool {
    text.chars().count() <= MAX_FIELD_CHARS && !text.chars().any(char::is_control)
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, file)) = data.split_first() else {
        return;
    };
    let max_problems = u32::from(choice) % 10 + 1;
    match import::parse(file, "responses.csv", max_problems) {
        Ok((respondents, bad, errors)) => {
            assert!(
                bad == 0 || !errors.is_empty(),
                "a left-out respondent has a reason"
            );
            let mut seen = HashSet::new();
            for r in &respondents {
                assert!(!r.respondent.is_empty() && acceptable(&r.respondent));
                assert!(
                    seen.insert((r.wave.as_str().to_string(), r.respondent.clone())),
                    "one answer per respondent and wave"
                );
                assert!(r
                    .segment
                    .as_deref()
                    .is_none_or(|s| !s.is_empty() && acceptable(s)));
                assert!(
                    r.problems.len() <= max_problems as usize,
                    "at most M problems"
                );
                for (i, p) in r.problems.iter().enumerate() {
                    assert_eq!(p.rank, i as u32 + 1, "ranks are 1..m in order");
                    assert!(!p.text.is_empty() && p.text.chars().count() <= MAX_TEXT_CHARS);
                    if let Some(area) = &p.area {
                        assert!(acceptable(area) && !group_key(area).is_empty());
                    }
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
                message.contains("responses.csv"),
                "the refusal names the file: {message}"
            );
        }
    }
});
