//! The answer form as `POST /s/{token}` receives it: raw body bytes, decoded by
//! `serde_urlencoded` as the handler does, read by `FormInput::from_pairs`, checked by
//! `FormInput::validate`, and shown back through the survey's own `form` template.
//!
//! The first byte chooses the survey's M (1 to 10), whether it asks how often and for
//! consent, and the page's locale; the rest is the body.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use pds::answer::form::MAX_TEXT_CHARS;
use pds::answer::{Answer, FormInput};
use pds::survey::{Locale, Survey};

/// The shipped survey with every M and both settings of each question.
static SURVEYS: LazyLock<Vec<Survey>> = LazyLock::new(|| {
    (0..40)
        .map(|i: u32| {
            let mut survey = Survey::shipped("discovery").expect("the shipped survey is valid");
            survey.max_problems = i % 10 + 1;
            survey.ask_frequency = i / 10 % 2 == 1;
            survey.ask_consent = i / 20 == 1;
            survey
        })
        .collect()
});

fuzz_target!(|data: &[u8]| {
    let Some((&choice, body)) = data.split_first() else {
        return;
    };
    let survey = &SURVEYS[usize::from(choice) % 40];
    let locale = if choice & 0x80 == 0 {
        Locale::En
    } else {
        Locale::Sv
    };
    let m = survey.max_problems;

    // The handler answers 400 to a body it cannot decode.
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) else {
        return;
    };
    let input = FormInput::from_pairs(&pairs, m);
    assert_eq!(
        input.slots.len(),
        m as usize,
        "one slot per problem the survey asks for"
    );
    let filled: Vec<_> = input.slots.iter().filter(|s| !s.text.is_empty()).collect();
    for slot in &input.slots {
        assert_eq!(slot.text, slot.text.trim(), "slot text is trimmed");
    }

    let errors = match input.validate(survey) {
        Ok(Answer::NoProblems) => {
            assert!(input.no_problems && filled.is_empty() && input.extra_problems == 0);
            return;
        }
        Ok(Answer::Problems(problems)) => {
            assert!(!input.no_problems && input.extra_problems == 0);
            assert!(
                !problems.is_empty() && problems.len() <= m as usize,
                "1 to M problems"
            );
            assert_eq!(problems.len(), filled.len(), "every filled slot is kept");
            for (i, p) in problems.iter().enumerate() {
                assert_eq!(p.rank, i as u32 + 1, "ranks are 1..m in order");
                assert!(!p.text.is_empty() && p.text.chars().count() <= MAX_TEXT_CHARS);
                assert!(survey.ask_frequency || p.frequency.is_none());
                assert!(survey.ask_consent || !p.may_contact);
            }
            // Renumbering keeps the respondent's order: chosen ranks were distinct
            // and in range, and sorting them gives the problems' order.
            let mut chosen: Vec<(u32, &str)> = filled
                .iter()
                .map(|s| {
                    (
                        s.rank.expect("a valid answer has every rank"),
                        s.text.as_str(),
                    )
                })
                .collect();
            chosen.sort();
            assert!(chosen.windows(2).all(|w| w[0].0 < w[1].0), "distinct ranks");
            assert!(chosen.iter().all(|(r, _)| (1..=m).contains(r)));
            let texts: Vec<&str> = problems.iter().map(|p| p.text.as_str()).collect();
            let expected: Vec<&str> = chosen.iter().map(|c| c.1).collect();
            assert_eq!(texts, expected);
            return;
        }
        Err(errors) => errors,
    };
    assert!(!errors.is_empty(), "a refused form says why");
    for (index, (key, vars)) in &errors.slots {
        assert!(
            (1..=m as usize).contains(index),
            "slot errors belong to a slot"
        );
        assert!(
            !input.slots[index - 1].text.is_empty(),
            "only filled slots have errors"
        );
        assert!(!survey.message(locale, key, vars.clone()).trim().is_empty());
    }
    for (key, vars) in &errors.form {
        assert!(!survey.message(locale, key, vars.clone()).trim().is_empty());
    }

    // The form is shown again with the text kept: it must render, and the
    // respondent's text must be escaped. Replacing every text with a harmless one
    // must leave the markup the same, so the texts added no `<`, `>` or `"`.
    let page = |input: &FormInput| {
        let ctx = input.context(survey, locale, &errors, "Anna", "/s/token", false);
        survey
            .render_page(locale, "form", ctx)
            .expect("the form page renders for any input")
    };
    let shown = page(&input);
    let mut plain = input.clone();
    for slot in &mut plain.slots {
        if !slot.text.is_empty() {
            slot.text = "x".into();
        }
    }
    let reference = page(&plain);
    for markup in ['<', '>', '"'] {
        assert_eq!(
            shown.matches(markup).count(),
            reference.matches(markup).count(),
            "respondent text is escaped ({markup})"
        );
    }
});
