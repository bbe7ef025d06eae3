//! `pds plan --incidence P [--interviews N | --target-probability Q]`: how many
//! discovery interviews it takes to hear of a problem that a share P of customers
//! have (docs/METHOD.md §5, `coverage-v1`: 1 - (1 - P)^N).

use crate::error::{Error, Result};
use crate::stats::{self, Coverage};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Share of customers who have the problem: 0.05 or 5%.
    #[arg(long, value_parser = parse_share)]
    incidence: f64,
    /// Chance of hearing the problem in this many interviews.
    #[arg(long, value_name = "N", conflicts_with = "target_probability")]
    interviews: Option<u64>,
    /// Interviews needed to hear the problem at least once with this chance: 0.9 or 90%.
    #[arg(long, value_name = "Q", value_parser = parse_share)]
    target_probability: Option<f64>,
    /// Print JSON (with the method name) instead of a sentence.
    #[arg(long)]
    json: bool,
}

/// A share written as `0.05` or `5%`.
fn parse_share(s: &str) -> std::result::Result<f64, String> {
    let t = s.trim();
    let (number, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (t, 1.0),
    };
    number
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(|v| v / scale)
        .ok_or_else(|| format!("{s:?} is not a share; write it as 0.05 or 5%"))
}

pub fn run(args: Args) -> Result<()> {
    let invalid = |e: stats::StatsError| Error::Invalid(e.to_string());
    let plans: Vec<Coverage> = match (args.interviews, args.target_probability) {
        (Some(n), _) => vec![stats::coverage(args.incidence, n).map_err(invalid)?],
        (None, Some(q)) => vec![stats::interviews_needed(args.incidence, q).map_err(invalid)?],
        (None, None) => [0.5, 0.8, 0.9, 0.95, 0.99]
            .iter()
            .map(|&q| stats::interviews_needed(args.incidence, q).map_err(invalid))
            .collect::<Result<_>>()?,
    };
    if args.json {
        let json =
            serde_json::to_string_pretty(&plans).map_err(|e| Error::Invalid(e.to_string()))?;
        println!("{json}");
        return Ok(());
    }
    let p = args.incidence;
    match (args.interviews, args.target_probability) {
        (Some(_), _) => println!(
            "A problem that {} of customers have is heard at least once in {} interviews with probability {:.3} ({}: 1 - (1 - p)^n).",
            share(p),
            plans[0].interviews,
            plans[0].probability,
            plans[0].method
        ),
        (None, Some(q)) => println!(
            "To hear a problem that {} of customers have at least once with probability {:.3}, plan {} interviews (they give {:.4}; {}: 1 - (1 - p)^n).",
            share(p),
            q,
            plans[0].interviews,
            plans[0].probability,
            plans[0].method
        ),
        (None, None) => {
            println!(
                "Interviews needed to hear a problem that {} of customers have at least once ({}: 1 - (1 - p)^n):",
                share(p),
                stats::COVERAGE_V1
            );
            println!("  {:>11}  {:>10}", "probability", "interviews");
            for (q, plan) in [0.5, 0.8, 0.9, 0.95, 0.99].iter().zip(&plans) {
                println!("  {:>11.2}  {:>10}", q, plan.interviews);
            }
        }
    }
    Ok(())
}

fn share(p: f64) -> String {
    let percent = format!("{:.4}", p * 100.0);
    let trimmed = percent.trim_end_matches('0').trim_end_matches('.');
    format!("{trimmed}%")
}
