//! The shipped discovery codebook, read as an analyst would check it: every way the
//! demo's customers describe a problem, in Swedish and in English, is coded by a
//! rule into the area the problem bank names, and says which keyword matched.
//! Pure: no database, no server.

use pds::coding::{match_rules, Analyzer, Codebook};
use pds::survey::Locale;
use serde::Deserialize;

const CODEBOOK: &str = include_str!("../../survey-templates/discovery/codebook.toml");
const PROBLEMS: &str = include_str!("../../examples/demo/problems.toml");

#[derive(Deserialize)]
struct Bank {
    problem: Vec<Problem>,
}

#[derive(Deserialize)]
struct Problem {
    area: String,
    en: Vec<String>,
    sv: Vec<String>,
}

#[test]
fn every_demo_phrasing_is_coded_into_its_area_in_both_languages() {
    let codebook =
        Codebook::parse("codebook.toml", CODEBOOK).expect("the shipped codebook is valid");
    let bank: Bank = toml::from_str(PROBLEMS).expect("problem bank");
    let analyzer = Analyzer::new();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for problem in &bank.problem {
        assert!(
            codebook.areas.iter().any(|a| a.id.as_str() == problem.area),
            "the codebook has no area {}",
            problem.area
        );
        for (locale, texts) in [(Locale::En, &problem.en), (Locale::Sv, &problem.sv)] {
            for text in texts {
                // As the form stores them: the respondent's locale, and also detected.
                for given in [Some(locale), None] {
                    checked += 1;
                    let analysed = analyzer.analyse(text, given);
                    match match_rules(&codebook, &analysed) {
                        Some(m) if m.area.as_str() == problem.area => {
                            assert!(m.to_string().starts_with("matched "), "{m}");
                        }
                        other => wrong.push(format!(
                            "{text:?} ({given:?}): expected {}, got {:?}",
                            problem.area,
                            other.map(|m| format!("{} by {}", m.area, m))
                        )),
                    }
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {checked} phrasings miscoded:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
