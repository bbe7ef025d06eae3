//! Benchmark of checklist results at scale: 100,000 customers answering 40 items
//! (in three segments, over two waves), 300 staff and write-ins, every section of
//! `pds results` on a checklist survey (items, areas, segments, wave comparison,
//! write-ins, staff gap) with a 2000-replicate bootstrap: what
//! `report::checklist::analyse` computes once the answers are read.
//!
//! Baseline in the same run: the discovery statistics core (`joint-v1` and its rank
//! bootstrap) on as many respondents, each with 1 to 5 ranked mentions over 40
//! areas. Each is run 3 times; the medians are printed. Run with
//! `cargo run --release --example checklist_bench [-- RESPONDENTS]`; the target is
//! under 5 s and 500 MB on 2 cores at the default 100,000.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use pds::report::checklist::{analyse, Analysis, Item, Respondent, WriteIn};
use pds::report::Options;
use pds::stats::{
    joint_v1, rank_stability, BootstrapOptions, ChecklistAnswer, DiscoveryInput, Experience,
    Mention,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Customers unless the first argument says otherwise.
const RESPONDENTS: usize = 100_000;
const ITEMS: usize = 40;
const STAFF: usize = 300;
const SEGMENTS: [&str; 3] = ["current", "potential", "lost"];
const RUNS: usize = 3;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = match std::env::args().nth(1) {
        Some(a) => a.parse()?,
        None => RESPONDENTS,
    };
    let analysis = generate(n, 2027);
    let options = Options {
        by: Some("customer_type".into()),
        bootstrap: BootstrapOptions::default(),
        ..Options::default()
    };
    let go_on = |_| ControlFlow::Continue(());
    let mut checklist = Vec::new();
    let mut results = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        results = Some(analyse(&analysis, &options, &go_on)?);
        checklist.push(started.elapsed());
    }
    let results = results.expect("ran");
    let discovery = discovery_respondents(n, 2027);
    let input = DiscoveryInput {
        max_problems: 5,
        area_count: ITEMS,
        respondents: pds::stats::Respondents::Nested(&discovery),
    };
    let mut baseline = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        joint_v1(&input)?;
        rank_stability(&input, &BootstrapOptions::default())?;
        baseline.push(started.elapsed());
    }
    let (c, b) = (median(checklist), median(baseline));
    println!(
        "customers {n} in scope ({} earlier), staff {STAFF}, items {ITEMS}, B = {}, threads {}",
        n / 5,
        options.bootstrap.replicates,
        rayon::current_num_threads()
    );
    println!(
        "checklist results {:>8.3} s median of {RUNS}  ({:.0} respondents/s, every section)",
        c.as_secs_f64(),
        n as f64 / c.as_secs_f64()
    );
    println!(
        "baseline          {:>8.3} s median of {RUNS}  (discovery joint-v1 + rank bootstrap, same n)",
        b.as_secs_f64()
    );
    println!(
        "checklist / baseline = {:.2}x",
        c.as_secs_f64() / b.as_secs_f64()
    );
    match peak_memory_kib() {
        Some(kib) => println!("peak memory {:.1} MiB (VmHWM)", kib as f64 / 1024.0),
        None => println!("peak memory unknown (no /proc/self/status)"),
    }
    let gap = results.staff_gap.as_ref().expect("staff answered");
    println!(
        "top item {}: A {:.4}, B {:.4}, joint-v1 {:.4}, ranks {}-{}; staff tau-b {:.3}, blind spots {}",
        results.items[0].id,
        results.items[0].often.value,
        results.items[0].bothered.value,
        results.items[0].joint.value,
        results.items[0].rank_low,
        results.items[0].rank_high,
        gap.kendall_tau_b.unwrap_or(f64::NAN),
        gap.blind_spots.len()
    );
    Ok(())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// One respondent's answers: item `a` is met often with a probability falling with
/// `a` (and higher for lost customers), sometimes about as often again.
fn answers(rng: &mut ChaCha8Rng, lost: bool, staff: bool) -> Vec<ChecklistAnswer> {
    (0..ITEMS)
        .map(|a| {
            // Staff see the list in another order than customers do.
            let place = if staff { ITEMS - 1 - a } else { a };
            let often = 0.35 / (1.0 + place as f64 * 0.15) + if lost { 0.05 } else { 0.0 };
            let draw: f64 = rng.random();
            let experienced = if draw < often {
                Experience::Often
            } else if draw < 2.0 * often {
                Experience::Sometimes
            } else {
                Experience::No
            };
            let had = experienced != Experience::No;
            ChecklistAnswer {
                area: a,
                experienced,
                bother: had.then(|| rng.random_range(1..=5)),
                solved_elsewhere: (had && rng.random_bool(0.8)).then(|| rng.random_bool(0.2)),
            }
        })
        .collect()
}

fn generate(n: usize, seed: u64) -> Analysis {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let earlier = n / 5;
    let mut customers = Vec::with_capacity(n + earlier);
    for i in 0..n + earlier {
        let segment = SEGMENTS[[0, 0, 0, 1, 2][i % 5]];
        let mut r = Respondent {
            response_id: i as i64,
            wave_id: if i < n { 2 } else { 1 },
            answers: answers(&mut rng, segment == "lost", false),
            ..Respondent::default()
        };
        r.attributes
            .insert("customer_type", segment)
            .expect("a short segment name is a valid segment column");
        customers.push(r);
    }
    let staff = (0..STAFF)
        .map(|i| Respondent {
            response_id: (n + earlier + i) as i64,
            wave_id: 2,
            answers: answers(&mut rng, false, true),
            ..Respondent::default()
        })
        .collect();
    let write_ins = (0..n / 10)
        .map(|i| WriteIn {
            response_id: (i * 10) as i64,
            text: format!("another problem {}", i % 7),
            area: (i % 3 != 0).then(|| format!("write-in area {}", i % 5)),
            coded_by: Some("rule".into()),
        })
        .collect();
    Analysis {
        survey: "bench".into(),
        items: (0..ITEMS)
            .map(|a| Item {
                id: format!("item-{a}"),
                label: format!("Problem number {a}"),
                // Pairs of items share an area, so the area section has work to do.
                area: Some(format!("area-{}", a / 2)),
            })
            .collect(),
        ask_solved_elsewhere: true,
        wave: Some((2, "w2".into())),
        earlier: Some((1, "w1".into())),
        customers,
        staff,
        write_ins,
    }
}

/// Discovery respondents for the baseline: 1 to 5 distinct areas ranked 1..k.
fn discovery_respondents(n: usize, seed: u64) -> Vec<Vec<Mention>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let length = rng.random_range(1..=5);
            let mut mentions: Vec<Mention> = Vec::with_capacity(length);
            while mentions.len() < length {
                let area = (rng.random::<f64>().powi(2) * ITEMS as f64) as usize;
                if mentions.iter().all(|m| m.area != area) {
                    let rank = mentions.len() as u32 + 1;
                    mentions.push(Mention { area, rank });
                }
            }
            mentions
        })
        .collect()
}

/// Peak resident memory of this process in KiB, from `/proc/self/status`.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
