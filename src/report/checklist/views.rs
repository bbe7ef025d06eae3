//! The optional views of checklist results: segments (chi-square of often / not
//! often by segment, Benjamini-Hochberg over the items), two waves (pooled
//! two-proportion z-test of `A`) and the staff gap (docs/METHOD.md §5).

use std::collections::BTreeMap;

use super::analyse::{answers_of, often_figure, Item, Respondent};
use super::*;
use crate::report::ViewError;
use crate::stats::{self, ChecklistAnswer, ChecklistInput, Experience, StatsError};

fn scores(
    answers: &[Vec<ChecklistAnswer>],
    count: usize,
) -> std::result::Result<Vec<stats::ChecklistAreaScore>, StatsError> {
    let mut scores = stats::checklist_scores(&ChecklistInput {
        area_count: count,
        respondents: answers,
    })?
    .areas;
    scores.sort_by_key(|s| s.area);
    Ok(scores)
}

fn index_of(items: &[Item], id: &str) -> usize {
    items.iter().position(|i| i.id == id).unwrap_or(0)
}

fn invalid(e: StatsError) -> Error {
    Error::Invalid(e.to_string())
}

/// BH-adjusted p-values beside the raw ones (`None` where there is no test).
fn adjusted(p_values: &[Option<f64>]) -> Result<Vec<Option<f64>>> {
    let raw: Vec<f64> = p_values.iter().flatten().copied().collect();
    let mut adjusted = stats::benjamini_hochberg(&raw)
        .map_err(invalid)?
        .into_iter();
    Ok(p_values
        .iter()
        .map(|p| p.and_then(|_| adjusted.next()))
        .collect())
}

/// `A` and `joint-v1` per value of `attribute`, and a chi-square test per item.
pub(super) fn segments(
    attribute: &str,
    customers: &[&Respondent],
    items: &[Item],
    ranked: &[ChecklistRow],
) -> Result<ChecklistSegments> {
    let mut groups: BTreeMap<&str, Vec<&Respondent>> = BTreeMap::new();
    for r in customers {
        if let Some(value) = r.attributes.get(attribute) {
            groups.entry(value).or_default().push(r);
        }
    }
    if groups.is_empty() {
        let known: Vec<&str> = customers
            .iter()
            .flat_map(|r| r.attributes.names())
            .collect();
        return Err(ViewError::unknown_attribute(attribute, known).into());
    }
    let with: usize = groups.values().map(Vec::len).sum();
    let per_segment: Vec<(String, Vec<stats::ChecklistAreaScore>)> = groups
        .iter()
        .map(|(name, people)| {
            Ok((
                name.to_string(),
                scores(&answers_of(people), items.len()).map_err(invalid)?,
            ))
        })
        .collect::<Result<_>>()?;
    let tests: Vec<Option<stats::ChiSquareTest>> = ranked
        .iter()
        .map(|row| {
            let item = index_of(items, &row.id);
            let table: Vec<Vec<u64>> = per_segment
                .iter()
                .map(|(_, s)| vec![s[item].often, s[item].n - s[item].often])
                .collect();
            stats::chi_square(&table)
        })
        .collect();
    let p_adjusted = adjusted(
        &tests
            .iter()
            .map(|t| t.as_ref().map(|t| t.p_value))
            .collect::<Vec<_>>(),
    )?;
    Ok(ChecklistSegments {
        attribute: attribute.to_string(),
        tested: "often / not often",
        test: stats::CHI_SQUARE_V1,
        adjustment: stats::BH_V1,
        without_attribute: (customers.len() - with) as u64,
        segments: per_segment
            .iter()
            .map(|(name, s)| {
                let n = s.first().map_or(0, |a| a.n);
                SegmentInfo {
                    segment: name.clone(),
                    n,
                    small_sample: stats::is_small_sample(n),
                }
            })
            .collect(),
        items: ranked
            .iter()
            .zip(tests.into_iter().zip(p_adjusted))
            .map(|(row, (test, p_adjusted))| {
                let item = index_of(items, &row.id);
                SegmentItem {
                    id: row.id.clone(),
                    label: row.label.clone(),
                    per_segment: per_segment
                        .iter()
                        .map(|(name, s)| SegmentCell {
                            segment: name.clone(),
                            often: often_figure(&s[item]),
                            joint: s[item].joint,
                            joint_method: stats::JOINT_V1,
                            n: s[item].n,
                        })
                        .collect(),
                    test,
                    p_adjusted,
                }
            })
            .collect(),
    })
}

/// `A` of each item, later wave against earlier.
pub(super) fn compare_waves(
    earlier: &[&Respondent],
    later: &[&Respondent],
    (earlier_label, later_label): (&str, &str),
    items: &[Item],
    ranked: &[ChecklistRow],
) -> Result<ChecklistWaveChange> {
    let count = items.len();
    let often = |people: &[&Respondent]| {
        let mut counts = vec![0u64; count];
        for r in people {
            for a in r
                .answers
                .iter()
                .filter(|a| a.experienced == Experience::Often)
            {
                counts[a.area] += 1;
            }
        }
        counts
    };
    let (before, after) = (often(earlier), often(later));
    let (n1, n2) = (later.len() as u64, earlier.len() as u64);
    let changes: Vec<stats::ProportionTest> = ranked
        .iter()
        .map(|row| {
            let i = index_of(items, &row.id);
            stats::two_proportion_test(after[i], n1, before[i], n2)
        })
        .collect();
    let p_adjusted = adjusted(&changes.iter().map(|c| c.p_value).collect::<Vec<_>>())?;
    Ok(ChecklistWaveChange {
        earlier_wave: earlier_label.to_string(),
        later_wave: later_label.to_string(),
        tested: OFTEN_SHARE,
        test: stats::TWO_PROPORTION_Z_V1,
        adjustment: stats::BH_V1,
        earlier_n: n2,
        later_n: n1,
        items: ranked
            .iter()
            .zip(changes.into_iter().zip(p_adjusted))
            .map(|(row, (change, p_adjusted))| WaveItem {
                id: row.id.clone(),
                label: row.label.clone(),
                change,
                p_adjusted,
            })
            .collect(),
    })
}

/// Customers' and staff's rankings side by side, in the customers' order.
pub(super) fn staff_gap(
    (customers, draws): (&[Vec<ChecklistAnswer>], &stats::ChecklistDraws),
    staff: &[Vec<ChecklistAnswer>],
    items: &[Item],
    options: &Options,
) -> std::result::Result<StaffGap, StatsError> {
    let input = |respondents| ChecklistInput {
        area_count: items.len(),
        respondents,
    };
    let gap =
        stats::staff_gap_with_draws(&input(customers), draws, &input(staff), &options.bootstrap)?;
    let ids =
        |areas: &[usize]| -> Vec<String> { areas.iter().map(|&a| items[a].id.clone()).collect() };
    let mut rows: Vec<GapItem> = gap
        .areas
        .iter()
        .map(|g| GapItem {
            id: items[g.area].id.clone(),
            label: items[g.area].label.clone(),
            figures: g.figures,
            blind_spot: gap.blind_spots.contains(&g.area),
        })
        .collect();
    rows.sort_by_key(|r| r.figures.customer_rank);
    Ok(StaffGap {
        stamp: gap.stamp,
        top_k: gap.agreement.top_k,
        overlap_share: gap.agreement.overlap_share,
        in_both: ids(&gap.agreement.in_both),
        customers_only: ids(&gap.agreement.customers_only),
        staff_only: ids(&gap.agreement.staff_only),
        kendall_tau_b: gap.agreement.kendall_tau_b,
        kendall_tau_b_ci: gap.kendall_tau_b_ci,
        items: rows,
        blind_spots: ids(&gap.blind_spots),
    })
}
