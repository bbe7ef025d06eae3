//! Properties every discovery result must have, checked on random studies
//! (proptest): score = frequency x importance, figures within [0, 1], no
//! dependence on respondent order, and a bootstrap that contains its point
//! estimate and repeats itself with the same seed.

use proptest::prelude::*;

use super::{joint_v1, rank_stability, BootstrapOptions, DiscoveryInput, Mention};

/// (max_problems, area_count, respondents)
fn study() -> impl Strategy<Value = (u32, usize, Vec<Vec<Mention>>)> {
    (1u32..=6, 1usize..=8).prop_flat_map(|(max_problems, area_count)| {
        let mention =
            (0..area_count, 1..=max_problems).prop_map(|(area, rank)| Mention { area, rank });
        let respondent = prop::collection::vec(mention, 0..=max_problems as usize);
        (
            Just(max_problems),
            Just(area_count),
            prop::collection::vec(respondent, 0..60),
        )
    })
}

fn options(seed: u64) -> BootstrapOptions {
    BootstrapOptions {
        replicates: 200,
        seed,
        top_k: 3,
    }
}

proptest! {
    #[test]
    fn score_is_frequency_times_importance((m, areas, respondents) in study()) {
        let input = DiscoveryInput { max_problems: m, area_count: areas, respondents: crate::stats::Respondents::Nested(&respondents) };
        let scores = joint_v1(&input).expect("generated mentions are valid");
        prop_assert_eq!(scores.len(), areas);
        for s in &scores {
            let product = s.frequency * s.importance.unwrap_or(0.0);
            prop_assert!((s.score - product).abs() < 1e-12, "{:?}", s);
        }
    }

    #[test]
    fn figures_lie_in_zero_to_one((m, areas, respondents) in study()) {
        let input = DiscoveryInput { max_problems: m, area_count: areas, respondents: crate::stats::Respondents::Nested(&respondents) };
        let scores = joint_v1(&input).expect("valid");
        for s in &scores {
            prop_assert!((0.0..=1.0).contains(&s.score));
            prop_assert!((0.0..=1.0).contains(&s.frequency));
            prop_assert!((0.0..=1.0).contains(&s.first_choice_share));
            prop_assert!(s.frequency_ci.contains(s.frequency));
            prop_assert!(0.0 <= s.frequency_ci.low && s.frequency_ci.high <= 1.0);
            if let Some(importance) = s.importance {
                prop_assert!(importance > 0.0 && importance <= 1.0);
            }
            if let Some(ci) = s.importance_ci {
                prop_assert!(0.0 <= ci.low && ci.low <= ci.high && ci.high <= 1.0);
            }
        }
        // Shares of first choices add up to at most 1, unless a respondent has two
        // rank-1 mentions in different areas (one mention coded into two areas).
        let first_choices: f64 = scores.iter().map(|s| s.first_choice_share).sum();
        let shared_first = respondents
            .iter()
            .any(|r| r.iter().filter(|x| x.rank == 1).count() > 1);
        prop_assert!(first_choices <= 1.0 + 1e-12 || shared_first);
        for pair in scores.windows(2) {
            prop_assert!(pair[0].score >= pair[1].score);
        }
    }

    #[test]
    fn respondent_order_does_not_matter(
        ((m, areas, respondents), shuffled_seed) in (study(), any::<u64>())
    ) {
        let mut shuffled = respondents.clone();
        // A deterministic shuffle driven by the generated seed.
        let len = shuffled.len();
        let mut state = shuffled_seed | 1;
        for i in (1..len).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let a = DiscoveryInput { max_problems: m, area_count: areas, respondents: crate::stats::Respondents::Nested(&respondents) };
        let b = DiscoveryInput { max_problems: m, area_count: areas, respondents: crate::stats::Respondents::Nested(&shuffled) };
        prop_assert_eq!(joint_v1(&a), joint_v1(&b));
        prop_assert_eq!(rank_stability(&a, &options(1)), rank_stability(&b, &options(1)));
    }

    #[test]
    fn bootstrap_interval_contains_the_point_estimate((m, areas, respondents) in study()) {
        let input = DiscoveryInput { max_problems: m, area_count: areas, respondents: crate::stats::Respondents::Nested(&respondents) };
        let stability = rank_stability(&input, &options(5)).expect("valid");
        prop_assert_eq!(stability.areas.len(), areas);
        for a in &stability.areas {
            prop_assert!(a.score_ci.contains(a.score), "{:?}", a);
            prop_assert!(a.rank_low <= a.rank_high);
            prop_assert!((0.0..=1.0).contains(&a.p_top_k));
        }
    }

    #[test]
    fn bootstrap_repeats_itself_with_the_same_seed(
        ((m, areas, respondents), seed) in (study(), any::<u64>())
    ) {
        let input = DiscoveryInput { max_problems: m, area_count: areas, respondents: crate::stats::Respondents::Nested(&respondents) };
        let first = rank_stability(&input, &options(seed));
        prop_assert_eq!(&first, &rank_stability(&input, &options(seed)));
        prop_assert_eq!(first.map(|s| s.seed), Ok(seed));
    }
}
