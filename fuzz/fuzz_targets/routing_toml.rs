//! A survey's `routing.toml` through `route::Routing::parse` (what `pds route set`
//! and `pds survey create` do), then one mention routed with it as an answer
//! arrives. The input is the file, then optionally a NUL byte, a rank byte and the
//! mention's text.

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use pds::route::{Facts, Routing};

fuzz_target!(|data: &[u8]| {
    let (source, rest) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b"\x01Fakturan var fel, igen"[..]),
    };
    let Ok(source) = std::str::from_utf8(source) else {
        return;
    };
    let lines = source.lines().count().max(1);
    let routing = match Routing::parse(source, "routing.toml") {
        Ok(routing) => routing,
        Err(error) => {
            assert!(!error.problems.is_empty(), "a refusal says why");
            for problem in &error.problems {
                assert!(!problem.trim().is_empty());
                if let Some(line) = problem
                    .strip_prefix("line ")
                    .and_then(|p| p.split(':').next())
                    .and_then(|n| n.parse::<usize>().ok())
                {
                    assert!((1..=lines + 1).contains(&line), "line {line} of {lines}");
                }
            }
            assert!(error.to_string().starts_with("routing.toml"));
            return;
        }
    };
    for (id, team) in &routing.teams {
        assert_eq!(id, &team.id);
        assert!(!team.emails.is_empty(), "every team has somewhere to send");
    }
    for rule in &routing.rules {
        assert!(!rule.teams.is_empty());
        assert!(rule.teams.iter().all(|t| routing.teams.contains_key(t)));
        assert_ne!(rule.max_rank, Some(0));
    }
    // What is stored is parsed again when the survey is loaded.
    let again =
        Routing::parse(&routing.source, "routing.toml").expect("a stored file parses again");
    assert_eq!(again.rules.len(), routing.rules.len());

    let (rank, text) = match rest.split_first() {
        Some((&r, text)) => (u32::from(r % 12), String::from_utf8_lossy(text)),
        None => (1, "".into()),
    };
    let segments = BTreeMap::from([
        ("customer_type".to_string(), "current".to_string()),
        ("region".to_string(), "North".to_string()),
    ]);
    for area in [None, Some(text.as_ref())] {
        let facts = Facts {
            text: &text,
            rank,
            area,
            segments: &segments,
        };
        for fired in routing.route(&facts) {
            // Two rules may share a name; one of them must be the rule that fired.
            assert!(
                routing.rules.iter().any(|r| r.name == fired.rule
                    && r.teams == fired.teams
                    && r.max_rank.is_none_or(|max| rank <= max)),
                "a fired rule is one of the file's rules, within its max_rank"
            );
            assert!(!fired.why.is_empty(), "a fired rule says why");
            assert!(fired.teams.iter().all(|t| routing.teams.contains_key(t)));
        }
    }
});
