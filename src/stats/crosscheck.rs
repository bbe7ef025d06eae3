//! Cases for the cross-check against SciPy and statsmodels
//! (`scripts/stats_crosscheck.py`): random inputs together with this crate's
//! answers, written as JSON, so that an independent implementation can confirm
//! every interval and test to many more digits than docs/METHOD.md §6 shows.
//!
//! This file only builds a string; writing it and running the script is the
//! caller's business (an integration test).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::agreement::{kendall_tau_b, staff_vs_customers};
use super::checklist::{checklist_scores, ChecklistAnswer, ChecklistInput, Experience};
use super::hypothesis::{benjamini_hochberg, chi_square, mcnemar_exact, two_proportion_test};
use super::interval::wilson;

/// JSON of `cases` random cases of each kind (Wilson intervals, pooled
/// two-proportion z-tests with Newcombe intervals, chi-square with and without
/// Yates, Benjamini-Hochberg, McNemar exact, Kendall's tau-b), each with this
/// crate's answer under `"rust"`. Same seed, same cases.
pub fn crosscheck_cases(seed: u64, cases: usize) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // In this order: each kind draws from the one generator after the one before.
    let kinds = [
        ("wilson", wilson_cases(&mut rng, cases)),
        ("ztest", z_cases(&mut rng, cases)),
        ("chi2", chi_cases(&mut rng, cases)),
        ("bh", bh_cases(&mut rng, cases)),
        ("mcnemar", mcnemar_cases(&mut rng, cases)),
        ("kendall", kendall_cases(&mut rng, cases)),
        (
            "checklist",
            (0..cases).map(|_| checklist_case(&mut rng)).collect(),
        ),
    ];
    let kinds: Vec<String> = kinds
        .iter()
        .map(|(name, cases)| format!("\"{name}\":[{}]", cases.join(",")))
        .collect();
    format!("{{\"seed\":{seed},{}}}\n", kinds.join(","))
}

/// Wilson intervals of random counts, a fifth of them at 0 or n.
fn wilson_cases(rng: &mut ChaCha8Rng, cases: usize) -> Vec<String> {
    let mut wilson_cases = Vec::new();
    for _ in 0..cases {
        let n = rng.random_range(1..=600u64);
        let k = if rng.random_bool(0.2) {
            [0, n][rng.random_range(0..2usize)]
        } else {
            rng.random_range(0..=n)
        };
        let ci = wilson(k, n);
        wilson_cases.push(format!(
            "{{\"k\":{k},\"n\":{n},\"rust\":[{},{}]}}",
            num(ci.low),
            num(ci.high)
        ));
    }
    wilson_cases
}

/// Pooled two-proportion z-tests with their Newcombe intervals (tables with no test left out).
fn z_cases(rng: &mut ChaCha8Rng, cases: usize) -> Vec<String> {
    let mut z_cases = Vec::new();
    while z_cases.len() < cases {
        let (n1, n2) = (rng.random_range(1..=600u64), rng.random_range(1..=600u64));
        let (k1, k2) = (rng.random_range(0..=n1), rng.random_range(0..=n2));
        let test = two_proportion_test(k1, n1, k2, n2);
        let (Some(z), Some(p)) = (test.z, test.p_value) else {
            continue;
        };
        z_cases.push(format!(
            "{{\"k1\":{k1},\"n1\":{n1},\"k2\":{k2},\"n2\":{n2},\"rust\":{{\"z\":{},\"p\":{},\"diff\":{},\"ci\":[{},{}]}}}}",
            num(z),
            num(p),
            num(test.difference),
            num(test.difference_ci.low),
            num(test.difference_ci.high)
        ));
    }
    z_cases
}

/// Chi-square tests of random tables of 2 to 5 rows (tables with an empty row or column left out).
fn chi_cases(rng: &mut ChaCha8Rng, cases: usize) -> Vec<String> {
    let mut chi_cases = Vec::new();
    while chi_cases.len() < cases {
        let rows = rng.random_range(2..=5usize);
        let columns = if rng.random_bool(0.5) {
            2
        } else {
            rng.random_range(2..=4usize)
        };
        let table: Vec<Vec<u64>> = (0..rows)
            .map(|_| {
                let scale = rng.random_range(1..=80u64);
                (0..columns).map(|_| rng.random_range(0..=scale)).collect()
            })
            .collect();
        let row_empty = table.iter().any(|r| r.iter().all(|&c| c == 0));
        let column_empty = (0..columns).any(|c| table.iter().all(|r| r[c] == 0));
        if row_empty || column_empty {
            continue;
        }
        let Some(test) = chi_square(&table) else {
            continue;
        };
        let rows_json: Vec<String> = table
            .iter()
            .map(|r| format!("[{}]", join(r.iter().map(|c| c.to_string()))))
            .collect();
        chi_cases.push(format!(
            "{{\"table\":[{}],\"rust\":{{\"statistic\":{},\"p\":{},\"dof\":{},\"yates\":{}}}}}",
            rows_json.join(","),
            num(test.statistic),
            num(test.p_value),
            test.dof,
            test.yates
        ));
    }
    chi_cases
}

/// Benjamini-Hochberg adjustments of random p-values, with ties at 0, 0.05 and 1.
fn bh_cases(rng: &mut ChaCha8Rng, cases: usize) -> Vec<String> {
    let mut bh_cases = Vec::new();
    for _ in 0..cases {
        let m = rng.random_range(1..=25usize);
        let p: Vec<f64> = (0..m)
            .map(|_| match rng.random_range(0..10u32) {
                0 => 0.0,
                1 => 1.0,
                2 => 0.05,
                _ => rng.random::<f64>().powi(3),
            })
            .collect();
        let adjusted = benjamini_hochberg(&p).unwrap_or_default();
        bh_cases.push(format!(
            "{{\"p\":[{}],\"rust\":[{}]}}",
            join(p.iter().map(|&x| num(x))),
            join(adjusted.iter().map(|&x| num(x)))
        ));
    }
    bh_cases
}

/// McNemar exact tests of random paired tables.
fn mcnemar_cases(rng: &mut ChaCha8Rng, cases: usize) -> Vec<String> {
    let mut mcnemar_cases = Vec::new();
    for _ in 0..cases {
        let (b, c) = (rng.random_range(0..=60u64), rng.random_range(0..=60u64));
        let (a, d) = (rng.random_range(0..=60u64), rng.random_range(0..=60u64));
        let test = mcnemar_exact(b, c, a + b + c + d);
        mcnemar_cases.push(format!(
            "{{\"table\":[[{a},{b}],[{c},{d}]],\"rust\":{}}}",
            num(test.p_value)
        ));
    }
    mcnemar_cases
}

/// Kendall's tau-b of random tied scores (pairs with no tau-b left out).
fn kendall_cases(rng: &mut ChaCha8Rng, cases: usize) -> Vec<String> {
    let mut kendall_cases = Vec::new();
    while kendall_cases.len() < cases {
        let m = rng.random_range(2..=30usize);
        let levels = rng.random_range(2..=40u32);
        let x: Vec<f64> = (0..m)
            .map(|_| f64::from(rng.random_range(0..levels)))
            .collect();
        let y: Vec<f64> = (0..m)
            .map(|_| f64::from(rng.random_range(0..levels)))
            .collect();
        let Some(tau) = kendall_tau_b(&x, &y) else {
            continue;
        };
        kendall_cases.push(format!(
            "{{\"x\":[{}],\"y\":[{}],\"rust\":{}}}",
            join(x.iter().map(|&v| num(v))),
            join(y.iter().map(|&v| num(v))),
            num(tau)
        ));
    }
    kendall_cases
}

/// Random answers of customers and staff to a checklist, as `[experienced (0 never,
/// 1 sometimes, 2 often), bother (0 = none), solved (-1 = not answered, 0, 1)]` per
/// respondent and area, with this crate's per-area figures and the staff gap's
/// top-k overlap and tau-b.
fn checklist_case(rng: &mut ChaCha8Rng) -> String {
    let areas = rng.random_range(2..=8usize);
    let (customer_count, staff_count) =
        (rng.random_range(1..=60usize), rng.random_range(1..=20usize));
    let mut draw = |count: usize| -> Vec<Vec<ChecklistAnswer>> {
        (0..count)
            .map(|_| {
                (0..areas)
                    .map(|area| {
                        let experienced =
                            [Experience::No, Experience::Sometimes, Experience::Often]
                                [rng.random_range(0..3usize)];
                        let had = experienced != Experience::No;
                        ChecklistAnswer {
                            area,
                            experienced,
                            bother: had.then(|| rng.random_range(1..=5u8)),
                            solved_elsewhere: (had && rng.random_bool(0.7))
                                .then(|| rng.random_bool(0.3)),
                        }
                    })
                    .collect()
            })
            .collect()
    };
    let customers = draw(customer_count);
    let staff = draw(staff_count);
    let figures = |respondents: &[Vec<ChecklistAnswer>]| {
        let mut scores = checklist_scores(&ChecklistInput {
            area_count: areas,
            respondents,
        })
        .map(|s| s.areas)
        .unwrap_or_default();
        scores.sort_by_key(|s| s.area);
        scores
    };
    let (ours, theirs) = (figures(&customers), figures(&staff));
    let joint =
        |s: &[super::ChecklistAreaScore]| -> Vec<f64> { s.iter().map(|a| a.joint).collect() };
    let top_k = rng.random_range(1..=areas);
    let agreement = staff_vs_customers(&joint(&theirs), &joint(&ours), top_k).ok();
    let answers = |people: &[Vec<ChecklistAnswer>]| -> String {
        let rows: Vec<String> = people
            .iter()
            .map(|r| {
                let cells = r.iter().map(|a| {
                    let solved = a.solved_elsewhere.map_or(-1, i32::from);
                    format!(
                        "[{},{},{solved}]",
                        a.experienced as u8,
                        a.bother.unwrap_or(0)
                    )
                });
                format!("[{}]", join(cells))
            })
            .collect();
        format!("[{}]", rows.join(","))
    };
    let per_area = |f: &dyn Fn(&super::ChecklistAreaScore) -> Option<f64>| {
        format!(
            "[{}]",
            join(ours.iter().map(|a| f(a).map_or("null".into(), num)))
        )
    };
    format!(
        "{{\"customers\":{},\"staff\":{},\"top_k\":{top_k},\"rust\":{{\"a\":{},\"b\":{},\"crawford\":{},\"joint\":{},\"preemptible\":{},\"overlap\":{},\"tau\":{}}}}}",
        answers(&customers),
        answers(&staff),
        per_area(&|a| Some(a.often_share)),
        per_area(&|a| Some(a.bothered_share)),
        per_area(&|a| Some(a.crawford)),
        per_area(&|a| Some(a.joint)),
        per_area(&|a| a.joint_preemptible),
        agreement.as_ref().map_or("null".into(), |g| num(g.overlap_share)),
        agreement
            .and_then(|g| g.kendall_tau_b)
            .map_or("null".into(), num),
    )
}

/// A JSON number (shortest round-trip form), or `null` for NaN and infinities.
fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:?}")
    } else {
        "null".to_string()
    }
}

fn join(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_reproducible_and_cover_every_kind() {
        let json = crosscheck_cases(7, 5);
        assert_eq!(json, crosscheck_cases(7, 5));
        assert_ne!(json, crosscheck_cases(8, 5));
        for kind in [
            "wilson",
            "ztest",
            "chi2",
            "bh",
            "mcnemar",
            "kendall",
            "checklist",
        ] {
            assert!(json.contains(&format!("\"{kind}\":[{{")), "{kind} missing");
        }
        assert!(!json.contains("NaN") && !json.contains("inf"));
    }

    #[test]
    fn numbers_are_written_as_json() {
        assert_eq!(num(0.1), "0.1");
        assert_eq!(num(1.0), "1.0");
        assert_eq!(num(1e-300), "1e-300");
        assert_eq!(num(f64::NAN), "null");
    }
}
