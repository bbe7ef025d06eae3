//! Benchmark of discovery scoring at scale: 1,000,000 respondents with 1 to 5
//! ranked mentions over 50 areas, `joint-v1` plus a 2000-replicate rank bootstrap.
//!
//! Area popularity is skewed (Zipf, s = 1.2) so answer patterns repeat as they do
//! in real studies. Run with `cargo run --release --example stats_bench [-- RESPONDENTS]`;
//! the target is under 10 s and 1 GB on 2 cores at the default 1,000,000.

use std::time::Instant;

use pds::stats::{joint_v1, rank_stability, BootstrapOptions, DiscoveryInput, Mention};
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Respondents unless the first argument says otherwise.
const RESPONDENTS: usize = 1_000_000;
const AREAS: usize = 50;
const MAX_PROBLEMS: u32 = 5;
/// Share of respondents listing 1, 2, 3, 4 and 5 problems.
const MENTION_COUNTS: [f64; 5] = [0.40, 0.25, 0.17, 0.11, 0.07];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = match std::env::args().nth(1) {
        Some(a) => a.parse()?,
        None => RESPONDENTS,
    };
    let started = Instant::now();
    let respondents = generate(n, 2024)?;
    let generated = started.elapsed();

    let input = DiscoveryInput {
        max_problems: MAX_PROBLEMS,
        area_count: AREAS,
        respondents: pds::stats::Respondents::Nested(&respondents),
    };
    let scoring = Instant::now();
    let scores = joint_v1(&input)?;
    let scored = scoring.elapsed();
    let options = BootstrapOptions::default();
    let resampling = Instant::now();
    let stability = rank_stability(&input, &options)?;
    let resampled = resampling.elapsed();

    let work = scored + resampled;
    println!(
        "respondents {n}, areas {AREAS}, B = {}, top k = {}, threads {}",
        options.replicates,
        options.top_k,
        rayon::current_num_threads()
    );
    println!("generate   {:>8.3} s", generated.as_secs_f64());
    println!("joint-v1   {:>8.3} s", scored.as_secs_f64());
    println!("bootstrap  {:>8.3} s", resampled.as_secs_f64());
    println!(
        "total      {:>8.3} s  ({:.0} respondents/s through joint-v1 + bootstrap)",
        work.as_secs_f64(),
        n as f64 / work.as_secs_f64()
    );
    match peak_memory_kib() {
        Some(kib) => println!("peak memory {:.1} MiB (VmHWM)", kib as f64 / 1024.0),
        None => println!("peak memory unknown (no /proc/self/status)"),
    }
    println!("top areas: rank [2.5%, 97.5%]  score [95% interval]  P(top 5)");
    for a in stability.areas.iter().take(8) {
        println!(
            "  area {:>2}: {:>2} [{:>2}, {:>2}]  {:.5} [{:.5}, {:.5}]  {:.3}",
            a.area,
            a.rank,
            a.rank_low,
            a.rank_high,
            a.score,
            a.score_ci.low,
            a.score_ci.high,
            a.p_top_k
        );
    }
    let best = &scores[0];
    println!(
        "best area {}: frequency {:.4}, importance {:.4}, score {:.5}",
        best.area,
        best.frequency,
        best.importance.unwrap_or(0.0),
        best.score
    );
    Ok(())
}

/// Respondents with 1 to 5 distinct areas ranked 1..k, areas drawn by Zipf popularity.
fn generate(count: usize, seed: u64) -> Result<Vec<Vec<Mention>>, Box<dyn std::error::Error>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let popularity: Vec<f64> = (1..=AREAS).map(|a| 1.0 / (a as f64).powf(1.2)).collect();
    let areas = WeightedIndex::new(&popularity)?;
    let lengths = WeightedIndex::new(MENTION_COUNTS)?;
    let mut respondents = Vec::with_capacity(count);
    for _ in 0..count {
        let length = lengths.sample(&mut rng) + 1;
        let mut mentions: Vec<Mention> = Vec::with_capacity(length);
        while mentions.len() < length {
            let area = areas.sample(&mut rng);
            if mentions.iter().all(|m| m.area != area) {
                let rank = mentions.len() as u32 + 1;
                mentions.push(Mention { area, rank });
            }
        }
        // A few respondents write the same problem twice; joint-v1 keeps the best rank.
        if length < 5 && rng.random_bool(0.02) {
            let rank = length as u32 + 1;
            mentions.push(Mention {
                area: mentions[0].area,
                rank,
            });
        }
        respondents.push(mentions);
    }
    Ok(respondents)
}

/// Peak resident memory of this process in KiB, from `/proc/self/status`.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
