//! Pass 4, after the communities: each text moves to the area most of its
//! nearest texts are in (a k-nearest-neighbour vote, repeated until no text
//! moves).
//!
//! Why: an area's centroid is an average, and a text near the edge of two
//! areas can be nearer the wrong centroid while almost every text like it sits
//! in the other area. The vote asks the texts themselves.

use rayon::prelude::*;

use super::super::features::{dot, Matrix, Spread, Vectors};
use super::dense::DenseIndex;
use super::group::summed;
use super::index::{Index, Scratch};
use super::{Assignment, GroupingOptions, NearestVote};

/// Candidates per neighbour wanted whose exact cosine is computed.
const CANDIDATES: usize = 2;

/// Rounds of the vote at most; it usually settles in a few.
const MAX_ROUNDS: usize = 20;

/// How much a text's own area counts in its vote, per mention of the text (a
/// neighbour counts its cosine per mention).
const OWN_VOTE: f32 = 1.0;

/// Each text with an area moves to the area its `vote_neighbours` nearest
/// texts vote for; the similarity shown is then to the area's new centroid,
/// and a text that moved says how its nearest texts voted.
pub(super) fn vote(
    vectors: &Vectors,
    counts: &[u32],
    order: &[u32],
    assignments: Vec<Option<Assignment>>,
    options: &GroupingOptions,
) -> Vec<Option<Assignment>> {
    let areas = assignments
        .iter()
        .flatten()
        .map(|a| a.proposal + 1)
        .max()
        .unwrap_or(0);
    let coded: u64 = assignments
        .iter()
        .zip(counts)
        .filter(|(a, _)| a.is_some())
        .map(|(_, &c)| u64::from(c))
        .sum();
    let k = neighbours_for(options.vote_neighbours, coded, areas);
    if k == 0 {
        return assignments;
    }
    let neighbours = nearest_texts(
        &vectors.matrix,
        vectors.features,
        order,
        k,
        options.vector_candidates,
    );
    let mut area: Vec<Option<u32>> = assignments
        .iter()
        .map(|a| a.map(|a| a.proposal as u32))
        .collect();
    let before = area.clone();
    settle(&neighbours, counts, order, &mut area, areas);
    let mut assignments = with_similarity(&vectors.matrix, counts, &area, areas);
    mark_moved(&mut assignments, &before, &area, &neighbours);
    assignments
}

/// Notes on each assignment whose area the vote changed (from `before` to
/// `area`) how the text's nearest texts voted.
fn mark_moved(
    assignments: &mut [Option<Assignment>],
    before: &[Option<u32>],
    area: &[Option<u32>],
    neighbours: &[Vec<(u32, f32)>],
) {
    for (doc, assignment) in assignments.iter_mut().enumerate() {
        if let Some(a) = assignment {
            if before[doc] != area[doc] {
                a.moved_by = Some(how_voted(&neighbours[doc], area, a.proposal as u32));
            }
        }
    }
}

/// How a text's `neighbours` (nearest first) stand towards `here`.
fn how_voted(neighbours: &[(u32, f32)], area: &[Option<u32>], here: u32) -> NearestVote {
    let in_here: Vec<f32> = neighbours
        .iter()
        .filter(|&&(j, _)| area[j as usize] == Some(here))
        .map(|&(_, s)| s)
        .collect();
    NearestVote {
        here: in_here.len() as u16,
        asked: neighbours.len() as u16,
        nearest: in_here.first().copied().unwrap_or(0.0),
    }
}

/// Neighbours each text asks: `wanted`, but at most half the mean area size
/// (`coded` mentions in `areas` areas), so that most of a text's neighbours
/// can be in its own area; a small study's small areas are otherwise outvoted
/// by their larger neighbours. 0 (no vote) below 2.
pub(super) fn neighbours_for(wanted: usize, coded: u64, areas: usize) -> usize {
    if areas == 0 {
        return 0;
    }
    let k = wanted.min((coded / areas as u64 / 2) as usize);
    if k < 2 {
        0
    } else {
        k
    }
}

/// The `k` nearest texts of each text in `order` (by cosine, among candidates
/// found through an inverted index and, with word vectors, the
/// `vector_candidates * k` texts whose word vectors are most alike), nearest
/// first; texts not in `order` get none.
pub(super) fn nearest_texts(
    matrix: &Matrix,
    features: usize,
    order: &[u32],
    k: usize,
    vector_candidates: usize,
) -> Vec<Vec<(u32, f32)>> {
    let mut index = Index::new(features);
    for &doc in order {
        index.insert(doc, matrix.row(doc as usize));
    }
    let dense = match vector_candidates {
        0 => DenseIndex::build(matrix, std::iter::empty()),
        _ => DenseIndex::build(matrix, order.iter().copied()),
    };
    let found: Vec<(u32, Vec<(u32, f32)>)> = order
        .par_iter()
        .map_init(Scratch::default, |scratch, &doc| {
            let row = matrix.row(doc as usize);
            let mut found = index.nearest(row, scratch, CANDIDATES * k);
            if !dense.is_empty() {
                found.extend(dense.nearest(row, vector_candidates * k));
                found.sort_unstable();
                found.dedup();
            }
            let spread = Spread::new(&mut scratch.spread, row);
            let mut near: Vec<(u32, f32)> = found
                .into_iter()
                .filter(|&j| j != doc)
                .map(|j| (j, spread.dot(matrix.row(j as usize))))
                .filter(|&(_, s)| s > 0.0)
                .collect();
            near.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            near.truncate(k);
            (doc, near)
        })
        .collect();
    let mut neighbours = vec![Vec::new(); matrix.rows()];
    for (doc, near) in found {
        neighbours[doc as usize] = near;
    }
    neighbours
}

/// The vote: in `order`, each text with an area moves to the area with the
/// most votes (its own counts `OWN_VOTE` per mention, each neighbour its
/// cosine per mention), until a round moves none. Returns the moves made.
pub(super) fn settle(
    neighbours: &[Vec<(u32, f32)>],
    counts: &[u32],
    order: &[u32],
    area: &mut [Option<u32>],
    areas: usize,
) -> usize {
    let mut tally = vec![0.0f32; areas];
    let mut touched: Vec<u32> = Vec::new();
    let mut moves = 0;
    for _ in 0..MAX_ROUNDS {
        let mut moved = 0;
        for &doc in order {
            let Some(own) = area[doc as usize] else {
                continue;
            };
            let mut add = |a: u32, w: f32, tally: &mut [f32]| {
                if tally[a as usize] == 0.0 {
                    touched.push(a);
                }
                tally[a as usize] += w;
            };
            add(own, OWN_VOTE * counts[doc as usize] as f32, &mut tally);
            for &(j, s) in &neighbours[doc as usize] {
                if let Some(a) = area[j as usize] {
                    add(a, s * counts[j as usize] as f32, &mut tally);
                }
            }
            touched.sort_unstable();
            let mut best = own;
            for &a in &touched {
                if tally[a as usize] > tally[best as usize] {
                    best = a;
                }
            }
            for a in touched.drain(..) {
                tally[a as usize] = 0.0;
            }
            if best != own {
                area[doc as usize] = Some(best);
                moved += 1;
            }
        }
        moves += moved;
        if moved == 0 {
            break;
        }
    }
    moves
}

/// Assignments for `area`, each with its cosine to its area's centroid.
fn with_similarity(
    matrix: &Matrix,
    counts: &[u32],
    area: &[Option<u32>],
    areas: usize,
) -> Vec<Option<Assignment>> {
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); areas];
    for (doc, a) in area.iter().enumerate() {
        if let Some(a) = a {
            members[*a as usize].push(doc as u32);
        }
    }
    let centroids: Vec<(Vec<u32>, Vec<f32>)> = members
        .par_iter()
        .map(|m| {
            let (ids, sums, _) = summed(matrix, counts, m);
            let norm = sums
                .iter()
                .map(|w| w * w)
                .sum::<f32>()
                .sqrt()
                .max(f32::MIN_POSITIVE);
            (ids, sums.into_iter().map(|w| w / norm).collect())
        })
        .collect();
    area.par_iter()
        .enumerate()
        .map(|(doc, a)| {
            let a = (*a)? as usize;
            let c = &centroids[a];
            Some(Assignment {
                proposal: a,
                similarity: dot(matrix.row(doc), (&c.0, &c.1)).clamp(0.0, 1.0),
                moved_by: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four texts: 0, 1 and 2 are alike, 3 stands apart.
    fn neighbours() -> Vec<Vec<(u32, f32)>> {
        vec![
            vec![(1, 0.9), (2, 0.8)],
            vec![(0, 0.9), (2, 0.85)],
            vec![(1, 0.85), (0, 0.8), (3, 0.1)],
            vec![(2, 0.1)],
        ]
    }

    #[test]
    fn a_text_moves_to_the_area_of_its_neighbours() {
        // Text 2 was put in area 1 (say, by a centroid), its neighbours are in 0.
        let mut area = vec![Some(0), Some(0), Some(1), Some(1)];
        let moves = settle(&neighbours(), &[1, 1, 1, 1], &[0, 1, 2, 3], &mut area, 2);
        assert_eq!(area, [Some(0), Some(0), Some(0), Some(1)]);
        assert_eq!(moves, 1);
        // A fixed point: voting again moves nothing.
        assert_eq!(
            settle(&neighbours(), &[1; 4], &[0, 1, 2, 3], &mut area, 2),
            0
        );
    }

    #[test]
    fn a_moved_text_says_how_its_nearest_texts_voted() {
        let before = vec![Some(0), Some(0), Some(1), Some(1)];
        let mut area = before.clone();
        settle(&neighbours(), &[1; 4], &[0, 1, 2, 3], &mut area, 2);
        let mut assignments: Vec<Option<Assignment>> = area
            .iter()
            .map(|a| {
                a.map(|a| Assignment {
                    proposal: a as usize,
                    similarity: 0.5,
                    moved_by: None,
                })
            })
            .collect();
        mark_moved(&mut assignments, &before, &area, &neighbours());
        // Text 2 moved to area 0: two of its three nearest texts are there,
        // the nearer at 0.85; the texts that stayed say nothing of a vote.
        let moved = NearestVote {
            here: 2,
            asked: 3,
            nearest: 0.85,
        };
        assert_eq!(assignments[2].and_then(|a| a.moved_by), Some(moved));
        for doc in [0, 1, 3] {
            assert_eq!(assignments[doc].and_then(|a| a.moved_by), None);
        }
    }

    #[test]
    fn a_wording_said_often_keeps_its_area_and_uncoded_texts_stay_uncoded() {
        // Text 2 stands for five mentions: its own vote outweighs its
        // neighbours', and its five votes then bring them over.
        let mut area = vec![Some(0), Some(0), Some(1), None];
        settle(&neighbours(), &[1, 1, 5, 1], &[2, 0, 1, 3], &mut area, 2);
        assert_eq!(area, [Some(1), Some(1), Some(1), None]);
    }

    #[test]
    fn small_areas_ask_fewer_neighbours() {
        assert_eq!(neighbours_for(12, 3_000, 50), 12);
        assert_eq!(neighbours_for(12, 110, 11), 5);
        assert_eq!(neighbours_for(12, 30, 10), 0);
        assert_eq!(neighbours_for(12, 30, 0), 0);
        assert_eq!(neighbours_for(0, 3_000, 50), 0);
    }

    #[test]
    fn the_vote_reports_the_similarity_to_the_new_centroid() {
        let mut matrix = Matrix::new();
        for row in [[1.0f32, 0.0], [0.8, 0.6], [0.0, 1.0]] {
            let norm = row.iter().map(|w| w * w).sum::<f32>().sqrt();
            matrix.push(&[0, 1], &[row[0] / norm, row[1] / norm]);
        }
        let got = with_similarity(&matrix, &[1, 1, 1], &[Some(0), Some(0), Some(1)], 2);
        let a = got[0].expect("coded");
        assert_eq!(a.proposal, 0);
        assert!(a.similarity > 0.9 && a.similarity < 1.0, "{a:?}");
        assert!((got[2].expect("coded").similarity - 1.0).abs() < 1e-5);
    }
}
