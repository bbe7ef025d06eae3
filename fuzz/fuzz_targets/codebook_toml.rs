//! A survey's `codebook.toml` through `coding::Codebook::parse`, then one mention
//! coded against it with the rules `pds code` uses. The input is the codebook, then
//! optionally a NUL byte and the mention's text.

#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use pds::coding::{match_rules, Analyzer, Codebook};

fuzz_target!(|data: &[u8]| {
    let (source, mention) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b"Leveransen kom en vecka f\xc3\xb6r sent"[..]),
    };
    let Ok(source) = std::str::from_utf8(source) else {
        return;
    };
    let lines = source.lines().count().max(1);
    let codebook = match Codebook::parse("codebook.toml", source) {
        Ok(codebook) => codebook,
        Err(error) => {
            assert!(!error.reason.trim().is_empty(), "a refusal says why");
            if let Some(line) = error.line {
                assert!((1..=lines + 1).contains(&line), "line {line} of {lines}");
            }
            assert!(error.to_string().starts_with("codebook.toml"));
            return;
        }
    };
    let mut ids = HashSet::new();
    for area in &codebook.areas {
        assert!(ids.insert(area.id.clone()), "area ids are unique");
        assert!(!area.labels.is_empty(), "every area has a label");
        assert!((1..=lines + 1).contains(&area.line));
        for keyword in &area.keywords {
            assert!((1..=lines + 1).contains(&keyword.line));
        }
    }

    let text = String::from_utf8_lossy(mention);
    let analysed = Analyzer::new().analyse(&text, None);
    if let Some(hit) = match_rules(&codebook, &analysed) {
        assert!(
            codebook.area(&hit.area).is_some(),
            "a match names an area of the codebook"
        );
        assert!(!hit.rule.is_empty());
        for other in &hit.also {
            assert!(other != &hit.area && codebook.area(other).is_some());
        }
    }
});
