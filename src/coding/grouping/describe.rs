//! Pass 3: assigning every doc to its nearest area, then labelling each area
//! and picking its typical mentions.

use rayon::prelude::*;

use super::super::corpus::Corpus;
use super::super::features::{dot, FnvMap, Matrix, Vectors};
use super::super::text::Analysed;
use super::group::Group;
use super::index::{Index, Scratch};
use super::label::{is_redaction, phrase_label};
use super::{Assignment, ProposedArea};

/// Pass 3: each doc to the area whose centroid is nearest, if near enough.
pub(super) fn assign(
    matrix: &Matrix,
    vectors: &Vectors,
    areas: &[Group],
    least: f32,
) -> Vec<Option<Assignment>> {
    let mut centroids = Matrix::new();
    let mut index = Index::new(vectors.features);
    for (a, g) in areas.iter().enumerate() {
        let (ids, ws) = g.centroid();
        centroids.push(&ids, &ws);
        index.insert(a as u32, centroids.row(a));
    }
    let mut home: Vec<Option<u32>> = vec![None; matrix.rows()];
    for (a, g) in areas.iter().enumerate() {
        for &doc in &g.members {
            home[doc as usize] = Some(a as u32);
        }
    }
    (0..matrix.rows())
        .into_par_iter()
        .map_init(Scratch::default, |scratch, doc| {
            let row = matrix.row(doc);
            if row.0.is_empty() {
                return None;
            }
            let mut candidates = index.candidates(row, scratch);
            candidates.extend(home[doc]);
            let best = candidates
                .into_iter()
                .map(|a| (a, dot(row, centroids.row(a as usize))))
                .fold(None, |best: Option<(u32, f32)>, (a, s)| match best {
                    Some((b_a, b)) if b > s || (b == s && b_a < a) => best,
                    _ => Some((a, s)),
                })?;
            // A member of an area goes to the nearest area (its own or better); a
            // text from a group too small to propose needs `least` to be placed.
            let placed = home[doc].is_some() || best.1 >= least;
            placed.then_some(Assignment {
                proposal: best.0 as usize,
                similarity: best.1.clamp(0.0, 1.0),
                moved_by: None,
            })
        })
        .collect()
}

/// Labels and examples of each area, from the docs assigned to it.
#[allow(clippy::too_many_arguments)]
pub(super) fn describe(
    corpus: &Corpus,
    selected: &[u32],
    docs: &[&Analysed],
    counts: &[u32],
    texts: &[&str],
    vectors: &Vectors,
    areas: &[Group],
    assignments: &[Option<Assignment>],
) -> Vec<ProposedArea> {
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); areas.len()];
    for (doc, a) in assignments.iter().enumerate() {
        if let Some(a) = a {
            members[a.proposal].push(doc as u32);
        }
    }
    members
        .par_iter()
        .map(|docs_in| {
            // Typical words: the stems with most weight in the area, shown in
            // their most frequent written form.
            let mut weight: FnvMap<&str, f32> = FnvMap::default();
            let mut forms: FnvMap<(&str, &str), u64> = FnvMap::default();
            let mut mentions = 0u64;
            for &doc in docs_in {
                let d = doc as usize;
                let c = counts[d];
                mentions += u64::from(c);
                let row = vectors.matrix.row(d);
                for token in docs[d].content() {
                    let w = vectors
                        .stem_id(&token.stem, docs[d].locale)
                        .and_then(|id| row.0.binary_search(&id).ok())
                        .map_or(0.0, |k| row.1[k]);
                    *weight.entry(&token.stem).or_insert(0.0) += w * c as f32;
                    *forms.entry((&token.stem, &token.word)).or_insert(0) += u64::from(c);
                }
            }
            let mut stems: Vec<(&str, f32)> = weight.into_iter().collect();
            stems.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
            let mut best_form: FnvMap<&str, (&str, u64)> = FnvMap::default();
            for ((stem, word), n) in forms {
                let entry = best_form.entry(stem).or_insert((word, n));
                if n > entry.1 || (n == entry.1 && word < entry.0) {
                    *entry = (word, n);
                }
            }
            let mut terms: Vec<String> = Vec::new();
            for (stem, _) in stems {
                let word = best_form.get(stem).map_or(stem, |f| f.0);
                if !is_redaction(word) && !terms.iter().any(|t| t == word) {
                    terms.push(word.to_string());
                }
                if terms.len() == 8 {
                    break;
                }
            }
            let label = phrase_label(docs_in, docs, counts, &terms, mentions);

            // Typical mentions: the most frequent wordings, then the nearest to
            // the centroid.
            let mut typical: Vec<(u32, f32)> = docs_in
                .iter()
                .map(|&doc| {
                    let s = assignments[doc as usize].map_or(0.0, |a| a.similarity);
                    (doc, s)
                })
                .collect();
            typical.sort_by(|a, b| {
                counts[b.0 as usize]
                    .cmp(&counts[a.0 as usize])
                    .then(b.1.total_cmp(&a.1))
                    .then_with(|| texts[a.0 as usize].cmp(texts[b.0 as usize]))
            });
            let examples = typical
                .iter()
                .map(|&(doc, _)| doc as usize)
                .fold(Vec::<usize>::new(), |mut picked, doc| {
                    if picked.len() < 3 && !picked.iter().any(|&p| texts[p] == texts[doc]) {
                        picked.push(doc);
                    }
                    picked
                })
                .into_iter()
                .map(|doc| corpus.first[selected[doc] as usize])
                .collect();
            ProposedArea {
                label,
                terms,
                examples,
                mentions: mentions as usize,
            }
        })
        .collect()
}

pub(super) fn drop_empty(
    assignments: Vec<Option<Assignment>>,
    proposals: Vec<ProposedArea>,
) -> (Vec<Option<Assignment>>, Vec<ProposedArea>) {
    let mut renumber = vec![None; proposals.len()];
    let mut kept = Vec::new();
    let mut order: Vec<usize> = (0..proposals.len())
        .filter(|&p| proposals[p].mentions > 0)
        .collect();
    order.sort_by(|&a, &b| {
        proposals[b]
            .mentions
            .cmp(&proposals[a].mentions)
            .then(a.cmp(&b))
    });
    let mut proposals: Vec<Option<ProposedArea>> = proposals.into_iter().map(Some).collect();
    for p in order {
        renumber[p] = Some(kept.len());
        if let Some(area) = proposals[p].take() {
            kept.push(area);
        }
    }
    let assignments = assignments
        .into_iter()
        .map(|a| a.and_then(|a| renumber[a.proposal].map(|proposal| Assignment { proposal, ..a })))
        .collect();
    (assignments, kept)
}
