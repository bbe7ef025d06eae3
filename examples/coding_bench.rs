//! Benchmark of coding at scale: 1,000,000 mentions through codebook rules and
//! automatic grouping. Target: under 30 s and 2 GB peak memory on 2 cores.
//!
//! Mentions are generated from the demo's problem bank (`examples/demo/problems.toml`:
//! each area's Swedish and English phrasings, drawn by incidence), with seeded
//! noise as customers write: typos (dropped, doubled, swapped or replaced letters),
//! filler words, case, punctuation and emoji; a fifth have no locale, so their
//! language is detected. The codebook covers about half of the areas, so grouping
//! gets the rest.
//!
//! ```text
//! cargo run --release --example coding_bench [--no-word-vectors] [MENTIONS] [SEED]
//! ```
//!
//! `--no-word-vectors` groups without the shipped word-vector table, to see
//! what it costs.

use std::error::Error;
use std::time::Instant;

use pds::coding::{code_mentions, Codebook, Coding, GroupingOptions, MentionText};
use pds::survey::Locale;
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

const MENTIONS: usize = 1_000_000;
const SEED: u64 = 2024;

const PROBLEMS: &str = include_str!("demo/problems.toml");

/// What an analyst might have written after a first look at the data.
const CODEBOOK: &str = r#"
[[area]]
id = "late-delivery"
label = { sv = "Sena leveranser", en = "Late delivery" }
team = "logistics"
keywords = ["levtid", "leveranstid*", "*försen*", "för sent", "försent", "sen* leverans*",
            "late", "delay*", "deliveri* never arrive*"]

[[area]]
id = "invoice-errors"
label = { sv = "Fakturafel", en = "Invoice errors" }
team = "finance"
keywords = ["*faktura*", "invoic*", "kreditfaktura*", "credit note", "moms", "vat", "billed twice"]

[[area]]
id = "hard-to-reach-support"
label = { sv = "Svårt att nå kundtjänst", en = "Hard to reach support" }
team = "customer-service"
keywords = ["*telefonkö*", "svårt att nå", "nobody answers", "hard to reach", "phone queue",
            "get hold of", "få tag på"]

[[area]]
id = "webshop-problems"
label = { sv = "Webbshoppen", en = "Web shop" }
team = "e-commerce"
keywords = ["webbshop*", "webbshopp*", "webshop*", "web shop", "website", "sajt*", "hemsida*", "logga in", "log in"]
regex = ['\bcheckout\b', '\bkassan\b']

[[area]]
id = "damaged-goods"
label = { sv = "Skadade varor", en = "Damaged goods" }
team = "logistics"
keywords = ["skada*", "*skador", "*skadat", "trasig*", "damag*", "damged", "broken", "crushed", "mosat", "krossad"]

[[area]]
id = "out-of-stock"
label = { sv = "Slut i lager", en = "Out of stock" }
keywords = ["slut i lager", "out of stock", "restorder*", "restnoter*", "slutsål*", "sold out", "back orders"]
"#;

#[derive(Deserialize)]
struct Bank {
    problem: Vec<Problem>,
}

#[derive(Deserialize)]
struct Problem {
    incidence: f64,
    en: Vec<String>,
    sv: Vec<String>,
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let before = args.len();
    args.retain(|a| a != "--no-word-vectors");
    let options = GroupingOptions {
        word_vectors: if args.len() == before {
            GroupingOptions::default().word_vectors
        } else {
            0.0
        },
        ..GroupingOptions::default()
    };
    let mut args = args.into_iter();
    let count: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(MENTIONS);
    let seed: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(SEED);

    let started = Instant::now();
    let bank: Bank = toml::from_str(PROBLEMS)?;
    let generated = generate(&bank, count, seed)?;
    let generating = started.elapsed();
    let codebook = Codebook::parse("coding_bench codebook", CODEBOOK)?;
    let mentions: Vec<MentionText<'_>> = generated
        .iter()
        .map(|(t, l)| MentionText::new(t, *l))
        .collect();

    let coding = Instant::now();
    let result = code_mentions(&mentions, &codebook, &options);
    let coded = coding.elapsed();

    let (rules, automatic, uncoded) = result.tally();
    let distinct = {
        let mut texts: Vec<&str> = generated.iter().map(|(t, _)| t.as_str()).collect();
        texts.sort_unstable();
        texts.dedup();
        texts.len()
    };
    println!(
        "mentions {count} ({distinct} distinct texts), seed {seed}, threads {}",
        rayon::current_num_threads()
    );
    println!("generate   {:>8.3} s", generating.as_secs_f64());
    println!(
        "code       {:>8.3} s  ({:.0} mentions/s, rules + grouping)",
        coded.as_secs_f64(),
        count as f64 / coded.as_secs_f64()
    );
    println!(
        "by rule {rules}, by grouping {automatic} in {} proposed areas, uncoded {uncoded}",
        result.proposals.len()
    );
    match peak_memory_kib() {
        Some(kib) => println!("peak memory {:.1} MiB (VmHWM)", kib as f64 / 1024.0),
        None => println!("peak memory unknown (no /proc/self/status)"),
    }
    println!("largest proposed areas:");
    for area in result.proposals.iter().take(10) {
        let examples: Vec<&str> = area
            .examples
            .iter()
            .map(|&m| generated[m].0.as_str())
            .collect();
        println!("{:>8}  {:<40} {:?}", area.mentions, area.label, examples);
    }
    if let Some(Coding::Rule(rule)) = result.codings.iter().find(|c| matches!(c, Coding::Rule(_))) {
        println!("a rule match: {} -> {}", rule.area, rule);
    }
    Ok(())
}

/// Generated mentions: text and the respondent's locale, if known.
type Generated = Vec<(String, Option<Locale>)>;

/// `count` mentions with their locale (`None` for a fifth: detect it).
fn generate(bank: &Bank, count: usize, seed: u64) -> Result<Generated, Box<dyn Error>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let areas = WeightedIndex::new(bank.problem.iter().map(|p| p.incidence))?;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let problem = &bank.problem[areas.sample(&mut rng)];
        let swedish = rng.random_bool(0.6);
        let phrasings = if swedish { &problem.sv } else { &problem.en };
        let Some(phrase) = phrasings.get(rng.random_range(0..phrasings.len().max(1))) else {
            continue;
        };
        let text = noisy(phrase, swedish, &mut rng);
        let locale = if rng.random_bool(0.2) {
            None
        } else if swedish {
            Some(Locale::Sv)
        } else {
            Some(Locale::En)
        };
        out.push((text, locale));
    }
    Ok(out)
}

fn noisy(phrase: &str, swedish: bool, rng: &mut ChaCha8Rng) -> String {
    const SV_BEFORE: [&str; 4] = ["tyvärr ", "ofta ", "återigen ", "ärligt talat "];
    const SV_AFTER: [&str; 4] = [" igen", " hela tiden", " varje gång", " tyvärr"];
    const EN_BEFORE: [&str; 4] = ["unfortunately ", "often ", "again ", "honestly "];
    const EN_AFTER: [&str; 4] = [" again", " all the time", " every time", " sadly"];
    const ENDINGS: [&str; 5] = ["!", "!!", ".", " :(", " 😡"];
    let mut text: Vec<char> = phrase.chars().collect();
    let typos = match rng.random_range(0..10) {
        0..=5 => 0,
        6..=8 => 1,
        _ => 2,
    };
    for _ in 0..typos {
        typo(&mut text, rng);
    }
    let mut s: String = text.into_iter().collect();
    if rng.random_bool(0.3) {
        s = s.to_lowercase();
    }
    if rng.random_bool(0.15) {
        let before = if swedish { SV_BEFORE } else { EN_BEFORE };
        s = format!("{}{s}", before[rng.random_range(0..before.len())]);
    }
    if rng.random_bool(0.15) {
        let after = if swedish { SV_AFTER } else { EN_AFTER };
        s.push_str(after[rng.random_range(0..after.len())]);
    }
    if rng.random_bool(0.25) {
        s.push_str(ENDINGS[rng.random_range(0..ENDINGS.len())]);
    }
    s
}

fn typo(text: &mut Vec<char>, rng: &mut ChaCha8Rng) {
    if text.len() < 4 {
        return;
    }
    let at = rng.random_range(1..text.len() - 1);
    if !text[at].is_alphabetic() {
        return;
    }
    match rng.random_range(0..4) {
        0 => {
            text.remove(at);
        }
        1 => text.insert(at, text[at]),
        2 => text.swap(at, at + 1),
        _ => text[at] = char::from(b'a' + rng.random_range(0..26u8)),
    }
}

fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
