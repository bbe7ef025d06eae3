//! The figures of a checklist survey from answers already read: pure, so that the
//! benchmark times exactly what `pds results` computes after loading.

use std::collections::HashSet;
use std::ops::ControlFlow;

use super::*;
use crate::stats::{self, ChecklistAnswer, ChecklistInput, StatsError};

/// One response, ready for the statistics.
#[derive(Debug, Clone, Default)]
pub struct Respondent {
    pub response_id: i64,
    pub wave_id: i64,
    /// The contact's segment columns (or `segment` of an imported response).
    pub attributes: crate::attributes::Attributes,
    /// `area` is the index of the item in [`Analysis::items`].
    pub answers: Vec<ChecklistAnswer>,
}

/// A problem written in the "other problems" box.
#[derive(Debug, Clone)]
pub struct WriteIn {
    pub response_id: i64,
    pub text: String,
    /// The label of the area it was coded into.
    pub area: Option<String>,
    /// Who coded it (`None`: not yet coded).
    pub coded_by: Option<String>,
}

/// One checklist item as results name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: String,
    /// The wording in the survey's default language.
    pub label: String,
    /// The discovery area it came from.
    pub area: Option<String>,
}

/// A checklist survey's answers, read for one view.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub survey: String,
    pub items: Vec<Item>,
    pub ask_solved_elsewhere: bool,
    /// `(id, label)` of the wave in scope; all waves when `None`.
    pub wave: Option<(i64, String)>,
    /// `(id, label)` of the wave to compare `wave` with.
    pub earlier: Option<(i64, String)>,
    /// Customers' responses of every wave (staff's are apart).
    pub customers: Vec<Respondent>,
    pub staff: Vec<Respondent>,
    pub write_ins: Vec<WriteIn>,
}

impl Analysis {
    fn in_wave(people: &[Respondent], wave: Option<i64>) -> Vec<&Respondent> {
        people
            .iter()
            .filter(|r| wave.is_none_or(|w| r.wave_id == w))
            .collect()
    }
}

/// The answers of some respondents, as the statistics take them.
pub(super) fn answers_of(people: &[&Respondent]) -> Vec<Vec<ChecklistAnswer>> {
    people.iter().map(|r| r.answers.clone()).collect()
}

/// Computes every section `options` asks for.
///
/// # Errors
/// An answer the statistics refuse, or a view that cannot be computed (an
/// attribute no respondent has).
pub fn analyse(
    analysis: &Analysis,
    options: &Options,
    on_progress: &(dyn Fn(Progress) -> ControlFlow<()> + Sync),
) -> Result<ChecklistResults> {
    let invalid = |e: StatsError| Error::Invalid(format!("survey {}: {e}", analysis.survey));
    let wave = analysis.wave.as_ref().map(|w| w.0);
    let customers = Analysis::in_wave(&analysis.customers, wave);
    let answers = answers_of(&customers);
    let labels: Vec<(String, String)> = analysis
        .items
        .iter()
        .map(|i| (i.id.clone(), i.label.clone()))
        .collect();
    let (items, draws) = rows(
        &labels,
        &answers,
        analysis.ask_solved_elsewhere,
        options,
        on_progress,
    )
    .map_err(invalid)?;
    let areas = area_rows(analysis, &answers, &items, options).map_err(invalid)?;
    let segments = options
        .by
        .as_deref()
        .map(|by| views::segments(by, &customers, &analysis.items, &items))
        .transpose()?;
    let wave_comparison = match (&analysis.earlier, &analysis.wave) {
        (Some(earlier), Some(later)) => Some(views::compare_waves(
            &Analysis::in_wave(&analysis.customers, Some(earlier.0)),
            &customers,
            (&earlier.1, &later.1),
            &analysis.items,
            &items,
        )?),
        _ => None,
    };
    let staff = Analysis::in_wave(&analysis.staff, wave);
    let staff_gap = if staff.is_empty() {
        None
    } else {
        let staff = answers_of(&staff);
        Some(
            views::staff_gap((&answers, &draws), &staff, &analysis.items, options)
                .map_err(invalid)?,
        )
    };
    let n = customers.len() as u64;
    let in_scope: HashSet<i64> = customers.iter().map(|r| r.response_id).collect();
    Ok(ChecklistResults {
        survey: analysis.survey.clone(),
        kind: "checklist",
        wave: analysis.wave.as_ref().map(|w| w.1.clone()),
        audience: crate::audience::CUSTOMER,
        method: stats::JOINT_V1,
        n,
        small_sample: stats::is_small_sample(n),
        preemptibility_asked: analysis.ask_solved_elsewhere,
        area_method: AREA_WORST_ITEM_V1,
        rank_stability: StabilityInfo {
            method: stats::RANK_BOOTSTRAP_V1,
            replicates: options.bootstrap.replicates,
            seed: options.bootstrap.seed,
            top_k: options.bootstrap.top_k,
        },
        items,
        areas,
        segments,
        wave_comparison,
        write_ins: write_ins(&analysis.write_ins, &in_scope, n),
        staff_gap,
    })
}

/// A figure resting on `n` respondents.
pub(super) fn figure(
    method: &'static str,
    value: f64,
    ci: Interval,
    ci_method: &'static str,
    n: u64,
) -> Figure {
    Figure {
        method,
        value,
        ci,
        ci_method,
        n,
        small_sample: stats::is_small_sample(n),
    }
}

/// `A` of an area score.
pub(super) fn often_figure(s: &stats::ChecklistAreaScore) -> Figure {
    figure(
        OFTEN_SHARE,
        s.often_share,
        s.often_ci,
        crate::report::FREQUENCY_CI,
        s.n,
    )
}

/// Ranked rows of `labels` (`(id, label)` per area of `answers`), and the
/// bootstrap's draws.
fn rows(
    labels: &[(String, String)],
    answers: &[Vec<ChecklistAnswer>],
    ask_solved_elsewhere: bool,
    options: &Options,
    on_progress: &(dyn Fn(Progress) -> ControlFlow<()> + Sync),
) -> std::result::Result<(Vec<ChecklistRow>, stats::ChecklistDraws), StatsError> {
    let input = ChecklistInput {
        area_count: labels.len(),
        respondents: answers,
    };
    let scores = stats::checklist_scores(&input)?;
    let (stability, draws) = stats::checklist_bootstrap(&input, &options.bootstrap, on_progress)?;
    let mut by_area: Vec<Option<&stats::ChecklistAreaScore>> = vec![None; labels.len()];
    for s in &scores.areas {
        by_area[s.area] = Some(s);
    }
    let wilson = crate::report::FREQUENCY_CI;
    let rows = stability
        .areas
        .iter()
        .filter_map(|st| {
            let s = by_area[st.area]?;
            let joint = figure(
                stats::JOINT_V1,
                s.joint,
                st.score_ci,
                stats::RANK_BOOTSTRAP_V1,
                s.n,
            );
            let solved = s
                .solved_elsewhere_share
                .filter(|_| ask_solved_elsewhere)
                .map(|share| {
                    figure(
                        SOLVED_ELSEWHERE_SHARE,
                        share,
                        stats::wilson(s.solved_elsewhere, s.asked_elsewhere),
                        wilson,
                        s.asked_elsewhere,
                    )
                });
            let preemptible = solved.map(|solved| {
                figure(
                    PREEMPTIBLE_V1,
                    s.joint * (1.0 - solved.value),
                    Interval {
                        low: joint.ci.low * (1.0 - solved.ci.high),
                        high: joint.ci.high * (1.0 - solved.ci.low),
                    },
                    BOUNDS_PRODUCT_95,
                    s.n,
                )
            });
            Some(ChecklistRow {
                position: st.rank as usize,
                id: labels[st.area].0.clone(),
                label: labels[st.area].1.clone(),
                area: None,
                items: Vec::new(),
                often: often_figure(s),
                bothered: figure(
                    BOTHERED_SHARE,
                    s.bothered_share,
                    s.bothered_ci,
                    wilson,
                    s.rated,
                ),
                crawford: figure(
                    stats::CRAWFORD_V1,
                    s.crawford,
                    Interval {
                        low: s.often_ci.low * s.bothered_ci.low,
                        high: s.often_ci.high * s.bothered_ci.high,
                    },
                    BOUNDS_PRODUCT_95,
                    s.n,
                ),
                crawford_rank: s.crawford_rank,
                joint,
                solved_elsewhere: solved,
                preemptible,
                rank_low: st.rank_low,
                rank_high: st.rank_high,
                p_top_k: st.p_top_k,
            })
        })
        .collect();
    Ok((rows, draws))
}

/// Rows per discovery area: each respondent's worst item of the area counts
/// (`worst-item-v1`). When every area has one item these are the item rows.
fn area_rows(
    analysis: &Analysis,
    answers: &[Vec<ChecklistAnswer>],
    items: &[ChecklistRow],
    options: &Options,
) -> std::result::Result<Vec<ChecklistRow>, StatsError> {
    let mut keys: Vec<String> = Vec::new();
    let mut group_of = Vec::with_capacity(analysis.items.len());
    for item in &analysis.items {
        let key = item.area.clone().unwrap_or_else(|| item.id.clone());
        let group = match keys.iter().position(|k| *k == key) {
            Some(g) => g,
            None => {
                keys.push(key);
                keys.len() - 1
            }
        };
        group_of.push(group);
    }
    let members = |key: &str| -> Vec<String> {
        analysis
            .items
            .iter()
            .zip(&group_of)
            .filter(|(_, &g)| keys[g] == key)
            .map(|(i, _)| i.id.clone())
            .collect()
    };
    let mut areas = if keys.len() == analysis.items.len() {
        items
            .iter()
            .map(|row| {
                let item = analysis
                    .items
                    .iter()
                    .position(|i| i.id == row.id)
                    .unwrap_or(0);
                ChecklistRow {
                    id: keys[group_of[item]].clone(),
                    label: keys[group_of[item]].clone(),
                    ..row.clone()
                }
            })
            .collect()
    } else {
        let grouped = stats::group_answers(answers, &group_of, keys.len());
        let labels: Vec<(String, String)> = keys.iter().map(|k| (k.clone(), k.clone())).collect();
        let go_on = |_| ControlFlow::Continue(());
        rows(
            &labels,
            &grouped,
            analysis.ask_solved_elsewhere,
            options,
            &go_on,
        )?
        .0
    };
    for row in &mut areas {
        row.items = members(&row.id);
    }
    Ok(areas)
}

/// The write-ins of the respondents in scope: per area, and those in none.
fn write_ins(all: &[WriteIn], in_scope: &HashSet<i64>, n: u64) -> WriteIns {
    let mut out = WriteIns::default();
    let mut writers = HashSet::new();
    // (area label, respondents, mentions), in order of first mention.
    let mut areas: Vec<(String, HashSet<i64>, u64)> = Vec::new();
    for w in all.iter().filter(|w| in_scope.contains(&w.response_id)) {
        out.mentions += 1;
        writers.insert(w.response_id);
        match &w.area {
            Some(label) => {
                let at = match areas.iter().position(|a| a.0 == *label) {
                    Some(at) => at,
                    None => {
                        areas.push((label.clone(), HashSet::new(), 0));
                        areas.len() - 1
                    }
                };
                areas[at].1.insert(w.response_id);
                areas[at].2 += 1;
            }
            None => out.uncoded.push(crate::report::UncodedText {
                text: w.text.clone(),
                why: if w.coded_by.is_none() {
                    "not-yet-coded"
                } else {
                    "not-placed"
                },
            }),
        }
    }
    out.respondents = writers.len() as u64;
    out.areas = areas
        .into_iter()
        .map(|(area, who, mentions)| {
            let k = who.len() as u64;
            let share = if n == 0 { 0.0 } else { k as f64 / n as f64 };
            WriteInArea {
                area,
                share: figure(
                    "write-in-share",
                    share,
                    stats::wilson(k, n),
                    crate::report::FREQUENCY_CI,
                    n,
                ),
                mentions,
            }
        })
        .collect();
    out.areas
        .sort_by(|a, b| b.share.value.total_cmp(&a.share.value));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Experience;

    /// 100 pet owners whose answers give Crawford & Di Benedetto's shares
    /// (docs/METHOD.md §6): `often[a]` meet problem `a` often, `bothered[a]` rate it 4-5.
    fn pet_owners() -> Analysis {
        let often = [78, 70, 44, 98, 66];
        let bothered = [53, 46, 48, 21, 25];
        let names = [
            "Get fleas",
            "Shed hairs",
            "Have unwanted babies",
            "Need constant feeding",
            "Make noise",
        ];
        let customers = (0..100)
            .map(|i| Respondent {
                response_id: i as i64,
                wave_id: 1,
                answers: (0..5)
                    .map(|a| ChecklistAnswer {
                        area: a,
                        experienced: if i < often[a] {
                            Experience::Often
                        } else {
                            Experience::No
                        },
                        bother: Some(if (i + 37 * a) % 100 < bothered[a] {
                            5
                        } else {
                            2
                        }),
                        solved_elsewhere: None,
                    })
                    .collect(),
                ..Respondent::default()
            })
            .collect();
        Analysis {
            survey: "pets".into(),
            items: names
                .iter()
                .enumerate()
                .map(|(i, n)| Item {
                    id: format!("p{i}"),
                    label: n.to_string(),
                    area: None,
                })
                .collect(),
            customers,
            ..Analysis::default()
        }
    }

    fn options() -> Options {
        Options {
            bootstrap: stats::BootstrapOptions {
                replicates: 200,
                ..Default::default()
            },
            ..Options::default()
        }
    }

    #[test]
    fn results_reproduce_the_pet_owner_table() {
        let r = analyse(&pet_owners(), &options(), &|_| ControlFlow::Continue(())).expect("valid");
        let mut by_crawford: Vec<&ChecklistRow> = r.items.iter().collect();
        by_crawford.sort_by_key(|row| row.crawford_rank);
        let table: Vec<(&str, String, String, String, u32)> = by_crawford
            .iter()
            .map(|row| {
                (
                    row.label.as_str(),
                    format!("{:.2}", row.often.value),
                    format!("{:.2}", row.bothered.value),
                    format!("{:.4}", row.crawford.value),
                    row.crawford_rank,
                )
            })
            .collect();
        let expected = [
            ("Get fleas", "0.78", "0.53", "0.4134", 1),
            ("Shed hairs", "0.70", "0.46", "0.3220", 2),
            ("Have unwanted babies", "0.44", "0.48", "0.2112", 3),
            ("Need constant feeding", "0.98", "0.21", "0.2058", 4),
            ("Make noise", "0.66", "0.25", "0.1650", 5),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|(l, a, b, c, k)| (*l, a.to_string(), b.to_string(), c.to_string(), *k))
            .collect();
        assert_eq!(table, expected);
        let fleas = by_crawford[0];
        assert_eq!(
            (fleas.often.method, fleas.crawford.method, fleas.often.n),
            (OFTEN_SHARE, stats::CRAWFORD_V1, 100)
        );
        assert!(fleas.crawford.ci.low <= 0.4134 && 0.4134 <= fleas.crawford.ci.high);
        assert!(
            r.items.iter().all(|row| row.preemptible.is_none()),
            "not asked"
        );
        assert!(r.staff_gap.is_none() && r.segments.is_none());
        assert_eq!(r.areas.len(), 5, "each item its own area");
    }

    #[test]
    fn staff_are_kept_out_of_customer_figures() {
        let mut analysis = pet_owners();
        let alone = analyse(&analysis, &options(), &|_| ControlFlow::Continue(())).expect("valid");
        analysis.staff = analysis.customers[..10].to_vec();
        let with_staff =
            analyse(&analysis, &options(), &|_| ControlFlow::Continue(())).expect("valid");
        assert_eq!(with_staff.n, 100);
        for (a, b) in alone.items.iter().zip(&with_staff.items) {
            assert_eq!((a.often, a.joint), (b.often, b.joint));
        }
        assert_eq!(
            with_staff.staff_gap.expect("staff answered").stamp.staff_n,
            10
        );
    }

    #[test]
    fn items_of_one_area_count_each_respondents_worst() {
        let mut analysis = pet_owners();
        analysis.items[0].area = Some("animals".into());
        analysis.items[1].area = Some("animals".into());
        let r = analyse(&analysis, &options(), &|_| ControlFlow::Continue(())).expect("valid");
        assert_eq!(r.areas.len(), 4);
        let animals = r.areas.iter().find(|a| a.id == "animals").expect("grouped");
        assert_eq!(animals.items, vec!["p0", "p1"]);
        // Fleas (78) and shedding (70) both go to the first respondents: 78 often.
        assert_eq!(animals.often.value, 0.78);
    }

    #[test]
    fn an_unknown_segment_attribute_names_the_known_ones() {
        let mut analysis = pet_owners();
        analysis.customers[0]
            .attributes
            .insert("customer_type", "lost")
            .unwrap();
        let options = Options {
            by: Some("region".into()),
            ..options()
        };
        let err = analyse(&analysis, &options, &|_| ControlFlow::Continue(())).unwrap_err();
        assert!(
            matches!(
                err,
                Error::View(crate::report::ViewError::UnknownAttribute { ref known, .. }) if known == "customer_type"
            ),
            "{err}"
        );
    }
}
