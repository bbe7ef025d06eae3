//! `pds survey check --template DIR`, in memory: the shipped `discovery` folder
//! with some of its files replaced, validated by `survey::Survey::from_files` (the
//! path every survey takes, from a folder, the binary or the database).
//!
//! The input is one or more parts separated by NUL bytes. A part's first byte picks
//! the file it replaces (an index into the folder's files, in path order); the rest
//! is the file's new text. `codebook.toml` and `routing.toml` are left out unless a
//! part picks them.

#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use pds::answer::FormInput;
use pds::survey::{Survey, SurveyError, MAX_PROBLEMS_LIMIT};

static SHIPPED: LazyLock<BTreeMap<String, String>> = LazyLock::new(|| {
    Survey::shipped("discovery")
        .expect("the shipped survey is valid")
        .files()
        .clone()
});

fuzz_target!(|data: &[u8]| {
    let names: Vec<&String> = SHIPPED.keys().collect();
    // The codebook and routing rules have their own targets and are slow to compile
    // (regular expressions, stemmers); they take part only when a part picks them.
    let mut files = SHIPPED.clone();
    files.retain(|name, _| name != "codebook.toml" && name != "routing.toml");
    for part in data.split(|&b| b == 0) {
        let Some((&pick, text)) = part.split_first() else {
            continue;
        };
        let name = names[usize::from(pick) % names.len()];
        files.insert(name.clone(), String::from_utf8_lossy(text).into_owned());
    }

    let survey = match Survey::from_files("fuzz", files) {
        Ok(survey) => survey,
        Err(SurveyError::Invalid { folder, problems }) => {
            assert_eq!(folder, "fuzz");
            assert!(!problems.is_empty(), "an invalid survey says why");
            assert!(problems.iter().all(|p| !p.trim().is_empty()));
            return;
        }
        Err(other) => panic!("validation can only find a survey invalid: {other}"),
    };
    assert!((1..=MAX_PROBLEMS_LIMIT).contains(&survey.max_problems));
    assert!(!survey.locales.is_empty());
    assert!(survey.locales.contains(&survey.default_locale));
    for locale in &survey.locales {
        let wording = &survey.wording[locale];
        assert!(!wording.title.trim().is_empty());
        assert_eq!(survey.locale_for(*locale), *locale);
        // The empty form, as a first visit through the emailed link shows it.
        let input = FormInput::from_pairs(&[], survey.max_problems);
        let ctx = input.context(&survey, *locale, &Default::default(), "Anna", "/s/x", false);
        let _ = survey.render_page(*locale, "form", ctx);
    }
    // A stored survey is validated again from its stored files when loaded.
    let again = Survey::from_files("fuzz", survey.files().clone())
        .expect("a survey that passed validation passes it again from its stored files");
    assert_eq!(again.max_problems, survey.max_problems);
    assert_eq!(again.locales, survey.locales);
});
