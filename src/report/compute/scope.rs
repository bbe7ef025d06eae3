//! Which respondents and areas a figure is over: the areas mentioned by a set of
//! respondents, numbered locally, with each respondent's mentions renumbered to
//! them (borrowed, not copied, when the set is everyone).

use std::borrow::Cow;

use crate::report::load;
use crate::stats;

/// Restricts respondents to the areas they mention: returns the global index of
/// each local area (areas mentioned in any of `sets`, in global order) and each
/// set's mentions renumbered to local areas. `sets` hold indices into `loaded`.
pub(super) fn scoped(
    loaded: &load::Loaded,
    sets: &[&[usize]],
) -> (Vec<usize>, Vec<Vec<Vec<stats::Mention>>>) {
    let mut used = vec![false; loaded.areas.len()];
    for set in sets {
        for &i in set.iter() {
            for m in &loaded.mentions[i] {
                used[m.area] = true;
            }
        }
    }
    let global: Vec<usize> = (0..loaded.areas.len()).filter(|&a| used[a]).collect();
    let local = local_numbers(&global, loaded.areas.len());
    let inputs = sets
        .iter()
        .map(|set| {
            set.iter()
                .map(|&i| renumbered(&loaded.mentions[i], &local))
                .collect()
        })
        .collect();
    (global, inputs)
}

/// As [`scoped`] for one set, borrowing the loaded mentions when the set is every
/// respondent and every area is mentioned (the usual case: areas are numbered from
/// the mentions read), so a million respondents are not copied.
pub(super) fn scoped_one<'a>(
    loaded: &'a load::Loaded,
    set: &[usize],
) -> (Vec<usize>, Cow<'a, stats::FlatMentions>) {
    let every_respondent = set.len() == loaded.respondents.len();
    let mut used = vec![false; loaded.areas.len()];
    if every_respondent {
        for m in loaded.mentions.entries() {
            used[m.area] = true;
        }
        if used.iter().all(|&u| u) {
            return (
                (0..loaded.areas.len()).collect(),
                Cow::Borrowed(&loaded.mentions),
            );
        }
    }
    let (global, mut inputs) = scoped(loaded, &[set]);
    let flat = stats::FlatMentions::from_nested(&inputs.remove(0));
    (global, Cow::Owned(flat))
}

/// The local number of each global area (`usize::MAX`: not in `global`).
pub(super) fn local_numbers(global: &[usize], area_count: usize) -> Vec<usize> {
    let mut local = vec![usize::MAX; area_count];
    for (l, &g) in global.iter().enumerate() {
        local[g] = l;
    }
    local
}

pub(super) fn renumbered(mentions: &[stats::Mention], local: &[usize]) -> Vec<stats::Mention> {
    mentions
        .iter()
        .map(|m| stats::Mention {
            area: local[m.area],
            rank: m.rank,
        })
        .collect()
}
