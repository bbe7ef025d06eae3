//! Passes 1 and 2: gathering near-identical texts, then merging groups
//! (reciprocal nearest neighbours, or Louvain communities when the data decide).

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::super::features::{dot, Matrix, Spread};
use super::super::graph::{louvain, Graph};
use super::dense::DenseIndex;
use super::group::{summed, Group};
use super::index::{order, Index, Scratch, VERIFIED};
use super::GroupingOptions;

/// Texts of the gather pass looked up together: in parallel against the
/// leaders before them, then one by one against the leaders among themselves.
const GATHER_BATCH: usize = 256;

/// Pass 1: leader grouping in `order`: each text joins the most similar
/// leader before it (of the index's `VERIFIED` best estimates) if their
/// cosine reaches `join`, else becomes a leader.
///
/// The texts go in batches of [`GATHER_BATCH`]: the leaders from before a
/// batch are searched for all its texts in parallel (with the exact cosines
/// of their candidates); then, text by text, the leaders the batch itself
/// made so far, in an index of their own read as if appended to the main
/// one. The best of both candidate lists are what one index would give, so
/// the groups are those of taking the texts one at a time.
pub(super) fn gather(
    matrix: &Matrix,
    features: usize,
    order: &[u32],
    counts: &[u32],
    join: f32,
) -> Vec<Group> {
    let mut index = Index::new(features);
    let mut batch_index = Index::new(features);
    let mut leaders: Vec<u32> = Vec::new();
    let mut members: Vec<Vec<u32>> = Vec::new();
    let mut scratch = Scratch::default();
    for batch in order.chunks(GATHER_BATCH) {
        let earlier: Vec<Vec<(u32, f32, f32)>> = batch
            .par_iter()
            .map_init(Scratch::default, |scratch, &doc| {
                let row = matrix.row(doc as usize);
                let found = index.scored_candidates(row, scratch, None);
                let spread = Spread::new(&mut scratch.spread, row);
                found
                    .into_iter()
                    .map(|(g, estimate)| {
                        let leader = matrix.row(leaders[g as usize] as usize);
                        (g, estimate, spread.dot(leader))
                    })
                    .collect()
            })
            .collect();
        for (&doc, earlier) in batch.iter().zip(earlier) {
            let row = matrix.row(doc as usize);
            let within = batch_index.scored_candidates(row, &mut scratch, Some(&index));
            let best = best_of(earlier, within, |g| {
                dot(row, matrix.row(leaders[g as usize] as usize))
            });
            match best {
                Some((g, s)) if s >= join => members[g as usize].push(doc),
                _ => {
                    let g = leaders.len() as u32;
                    batch_index.insert(g, row);
                    leaders.push(doc);
                    members.push(vec![doc]);
                }
            }
        }
        index.append(&mut batch_index);
    }
    members
        .into_par_iter()
        .enumerate()
        .map(|(rank, members)| {
            let (ids, sums, size) = summed(matrix, counts, &members);
            Group {
                ids,
                sums,
                size,
                rank,
                members,
            }
        })
        .collect()
}

/// The most similar of the `VERIFIED` best estimated candidates of two
/// lists (`earlier` with their cosines, `within` whose cosine `cosine`
/// gives), ties to the better estimate: what one search over both would pick.
fn best_of(
    earlier: Vec<(u32, f32, f32)>,
    within: Vec<(u32, f32)>,
    cosine: impl Fn(u32) -> f32,
) -> Option<(u32, f32)> {
    let mut candidates: Vec<(u32, f32, Option<f32>)> = earlier
        .into_iter()
        .map(|(g, estimate, s)| (g, estimate, Some(s)))
        .chain(within.into_iter().map(|(g, estimate)| (g, estimate, None)))
        .collect();
    candidates.sort_by(|a, b| order(&(a.0, a.1), &(b.0, b.1)));
    candidates.truncate(VERIFIED);
    candidates
        .into_iter()
        .map(|(g, _, s)| (g, s.unwrap_or_else(|| cosine(g))))
        .fold(None, |best: Option<(u32, f32)>, (g, s)| match best {
            Some((_, b)) if b >= s => best,
            _ => Some((g, s)),
        })
}

/// After `PAIR_ROUNDS` rounds of reciprocal pairs, a group that at least
/// `HUB` live groups have as their nearest (at the threshold) is a hub, and
/// they all join it in one round. Pairs alone can merge one pair a round: a
/// hub nearest to every group but itself nearest to one takes one group a
/// round, and every pointer to it is recomputed each time (5,000 texts of one
/// template took 5,000 rounds). The dev files need at most 25 rounds.
pub(super) const PAIR_ROUNDS: usize = 32;
pub(super) const HUB: usize = 16;

/// The most rounds a merge pass runs, so that no input makes it quadratic.
pub(super) const MAX_ROUNDS: usize = 64;

/// Pass 2: merge reciprocal nearest groups while their cosine reaches
/// `threshold`. With `until = Some((k, min_size))`, only groups of at least
/// `min_size` mentions take part and merging stops when `k` of them remain.
///
/// Nearest neighbours are found once, then only for the groups a round created
/// and for those whose nearest neighbour was merged away, so a round costs what
/// changed, not a pass over all groups. After [`PAIR_ROUNDS`] rounds groups
/// whose nearest is a hub join it in the same round, and there are at most
/// [`MAX_ROUNDS`] rounds. Returns the number of rounds.
pub(super) fn merge(
    groups: &mut Vec<Group>,
    features: usize,
    threshold: f32,
    until: Option<(usize, u64)>,
) -> usize {
    let (active, rest): (Vec<Group>, Vec<Group>) = match until {
        Some((_, min_size)) => std::mem::take(groups)
            .into_iter()
            .partition(|g| g.size >= min_size),
        None => (std::mem::take(groups), Vec::new()),
    };
    let mut slots: Vec<Option<Group>> = active.into_iter().map(Some).collect();
    let mut centroids = Matrix::new();
    let mut index = Index::new(features);
    for (i, g) in slots.iter().flatten().enumerate() {
        let (ids, ws) = g.centroid();
        centroids.push(&ids, &ws);
        index.insert(i as u32, centroids.row(i));
    }
    let mut alive: Vec<bool> = vec![true; slots.len()];
    let mut replaced_by: Vec<u32> = vec![u32::MAX; slots.len()];
    let mut remaining = slots.len();
    let find =
        |i: usize, centroids: &Matrix, index: &Index, alive: &[bool], scratch: &mut Scratch| {
            let row = centroids.row(i);
            let found = index.candidates_alive(row, scratch, alive);
            let spread = Spread::new(&mut scratch.spread, row);
            found
                .into_iter()
                .filter(|&j| j as usize != i)
                .map(|j| (j, spread.dot(centroids.row(j as usize))))
                .fold(None, |best: Option<(u32, f32)>, (j, s)| match best {
                    Some((b_j, b)) if b > s || (b == s && b_j < j) => best,
                    _ => Some((j, s)),
                })
        };
    let mut nearest: Vec<Option<(u32, f32)>> = (0..slots.len())
        .into_par_iter()
        .map_init(Scratch::default, |scratch, i| {
            find(i, &centroids, &index, &alive, scratch)
        })
        .collect();
    let mut rounds = 0;
    while rounds < MAX_ROUNDS {
        if until.is_some_and(|(k, _)| remaining <= k) {
            break;
        }
        let limit = until.map_or(usize::MAX, |(k, _)| remaining - k);
        let hubs = rounds >= PAIR_ROUNDS;
        let joins = joins(&nearest, &alive, threshold, limit, hubs);
        if joins.is_empty() {
            break;
        }
        rounds += 1;
        let mut created = Vec::with_capacity(joins.len());
        for join in joins {
            let id = slots.len();
            let mut into: Option<Group> = None;
            for &i in &join {
                let g = slots[i].take().expect("a live group joins once");
                alive[i] = false;
                replaced_by[i] = id as u32;
                match &mut into {
                    Some(into) => into.absorb(g),
                    None => into = Some(g),
                }
            }
            let a = into.expect("a join has groups");
            let (ids, ws) = a.centroid();
            centroids.push(&ids, &ws);
            index.insert(id as u32, centroids.row(id));
            slots.push(Some(a));
            alive.push(true);
            nearest.push(None);
            replaced_by.push(u32::MAX);
            created.push(id);
            remaining -= join.len() - 1;
        }
        // Only the merged groups themselves search the index again.
        repoint(&mut nearest, &alive, &replaced_by, &centroids);
        let found: Vec<Option<(u32, f32)>> = created
            .par_iter()
            .map_init(Scratch::default, |scratch, &i| {
                find(i, &centroids, &index, &alive, scratch)
            })
            .collect();
        for (i, n) in created.into_iter().zip(found) {
            nearest[i] = n;
        }
    }
    let mut merged: Vec<Group> = slots.into_iter().flatten().collect();
    merged.extend(rest);
    merged.sort_by_key(|g| g.rank);
    *groups = merged;
    rounds
}

/// The groups that join in a round: reciprocal nearest pairs at `threshold`
/// or more, and with `hubs` every live group whose nearest (at `threshold`)
/// is a hub (see [`HUB`]) with that hub; links strongest first (ties by
/// index), until
/// `limit` joins are made. Each join lists its groups ascending, joins in the
/// order of their strongest link.
fn joins(
    nearest: &[Option<(u32, f32)>],
    alive: &[bool],
    threshold: f32,
    limit: usize,
    hubs: bool,
) -> Vec<Vec<usize>> {
    let link = |i: usize| -> Option<(usize, f32)> {
        let (j, s) = nearest[i]?;
        let j = j as usize;
        (alive[i] && alive[j] && s >= threshold).then_some((j, s))
    };
    let mut pointed = vec![0u32; nearest.len()];
    if hubs {
        for i in 0..nearest.len() {
            if let Some((j, _)) = link(i) {
                pointed[j] += 1;
            }
        }
    }
    let mut links: Vec<(usize, usize, f32)> = (0..nearest.len())
        .filter_map(|i| {
            let (j, s) = link(i)?;
            let mutual = nearest[j].is_some_and(|(back, _)| back as usize == i);
            let to_hub = pointed[j] as usize >= HUB;
            ((mutual && i < j) || (to_hub && !mutual)).then_some((i.min(j), i.max(j), s))
        })
        .collect();
    links.sort_by(|a, b| b.2.total_cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
    let mut parent: Vec<usize> = (0..nearest.len()).collect();
    // The first group of each join, in the order of the join's strongest link.
    let mut first: Vec<usize> = Vec::new();
    let mut joined = 0;
    for (i, j, _) in links {
        if joined == limit {
            break;
        }
        let (a, b) = (root(&mut parent, i), root(&mut parent, j));
        if a != b {
            parent[a.max(b)] = a.min(b);
            first.push(a.min(b));
            joined += 1;
        }
    }
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in (0..nearest.len()).filter(|&i| alive[i]) {
        let r = root(&mut parent, i);
        members.entry(r).or_default().push(i);
    }
    let mut joins = Vec::new();
    for f in first {
        let r = root(&mut parent, f);
        if let Some(m) = members.remove(&r) {
            if m.len() > 1 {
                joins.push(m);
            }
        }
    }
    joins
}

/// The root of `i`'s tree in a union-find forest (halving the path).
fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// A live group whose nearest neighbour was merged away now points to the
/// group it was merged into (`replaced_by`), at their cosine.
fn repoint(
    nearest: &mut [Option<(u32, f32)>],
    alive: &[bool],
    replaced_by: &[u32],
    centroids: &Matrix,
) {
    for (x, n) in nearest.iter_mut().enumerate() {
        if let Some((j, _)) = *n {
            if alive[x] && !alive[j as usize] {
                let r = replaced_by[j as usize] as usize;
                *n = (r != x).then(|| (r as u32, centroids.dot(x, centroids, r)));
            }
        }
    }
}

/// Pass 2 when the data decide: groups become nodes of a graph linking each to
/// its `neighbours` most similar groups; the graph's communities (Louvain) are
/// merged into one group each.
pub(super) fn communities(
    groups: Vec<Group>,
    features: usize,
    options: &GroupingOptions,
) -> Vec<Group> {
    if groups.len() < 2 {
        return groups;
    }
    let mut centroids = Matrix::new();
    let mut index = Index::new(features);
    for (i, g) in groups.iter().enumerate() {
        let (ids, ws) = g.centroid();
        centroids.push(&ids, &ws);
        index.insert(i as u32, centroids.row(i));
    }
    let k = options.neighbours.max(1);
    let dense = match options.vector_candidates {
        0 => DenseIndex::build(&centroids, std::iter::empty()),
        _ => DenseIndex::build(&centroids, 0..groups.len() as u32),
    };
    let neighbours: Vec<Vec<(u32, f32)>> = (0..groups.len())
        .into_par_iter()
        .map_init(Scratch::default, |scratch, i| {
            let row = centroids.row(i);
            let mut found = index.nearest(row, scratch, 4 * k);
            if !dense.is_empty() {
                found.extend(dense.nearest(row, options.vector_candidates * k));
                found.sort_unstable();
                found.dedup();
            }
            let spread = Spread::new(&mut scratch.spread, row);
            let mut near: Vec<(u32, f32)> = found
                .into_iter()
                .filter(|&j| j as usize != i)
                .map(|j| (j, spread.dot(centroids.row(j as usize))))
                .filter(|&(_, s)| s > 0.0)
                .collect();
            near.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            near.truncate(k);
            near
        })
        .collect();
    let neighbours = favour_mutual(neighbours);
    let mut graph = Graph::from_neighbours(&neighbours);
    for (i, g) in groups.iter().enumerate() {
        // Repeated wordings hold together: each mention past the first is a
        // link of the group to itself.
        graph.self_weight[i] = (g.size.saturating_sub(1)) as f64;
    }
    let community = louvain(&graph, resolution_for(options.resolution, groups.len()));
    let count = community.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
    let mut merged: Vec<Option<Group>> = vec![None; count];
    for (g, c) in groups.into_iter().zip(community) {
        match &mut merged[c as usize] {
            Some(into) => into.absorb(g),
            slot => *slot = Some(g),
        }
    }
    let mut merged: Vec<Group> = merged.into_iter().flatten().collect();
    merged.sort_by_key(|g| g.rank);
    merged
}

/// Weight of a link that only one of its ends counts among its nearest.
const ONE_WAY_WEIGHT: f32 = 0.5;

/// Links both ends count among their nearest keep their similarity; a one-way
/// link (a hub's or an outlier's) counts `ONE_WAY_WEIGHT` of it, so a text near
/// everything does not glue problems together.
pub(super) fn favour_mutual(neighbours: Vec<Vec<(u32, f32)>>) -> Vec<Vec<(u32, f32)>> {
    let sets: Vec<Vec<u32>> = neighbours
        .iter()
        .map(|list| {
            let mut set: Vec<u32> = list.iter().map(|e| e.0).collect();
            set.sort_unstable();
            set
        })
        .collect();
    neighbours
        .into_iter()
        .enumerate()
        .map(|(i, list)| {
            list.into_iter()
                .map(|(j, s)| {
                    let mutual = sets[j as usize].binary_search(&(i as u32)).is_ok();
                    (j, if mutual { s } else { s * ONE_WAY_WEIGHT })
                })
                .collect()
        })
        .collect()
}

/// Mean cosine of a mention to its group's centroid, over all mentions.
pub(super) fn cohesion(matrix: &Matrix, counts: &[u32], groups: &[Group]) -> f32 {
    let (sum, n) = groups
        .par_iter()
        .map(|g| {
            let (ids, ws) = g.centroid();
            g.members.iter().fold((0.0f64, 0u64), |(s, n), &doc| {
                let c = u64::from(counts[doc as usize]);
                let sim = dot(matrix.row(doc as usize), (&ids, &ws));
                (s + f64::from(sim) * c as f64, n + c)
            })
        })
        .reduce(|| (0.0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    if n == 0 {
        0.0
    } else {
        (sum / n as f64) as f32
    }
}

/// Nodes from which the full resolution applies.
const FULL_RESOLUTION_NODES: f64 = 500.0;

/// The Louvain resolution for a graph of `nodes` nodes: `resolution` from
/// `FULL_RESOLUTION_NODES` up, falling linearly to 1 (plain modularity) for a
/// handful. Modularity's null model makes the same resolution cut a large graph
/// into larger communities than a small one; a small study should not be split
/// into pairs of mentions, nor a large one lumped.
pub(super) fn resolution_for(resolution: f64, nodes: usize) -> f64 {
    let share = (nodes as f64 / FULL_RESOLUTION_NODES).min(1.0);
    if resolution > 1.0 {
        1.0 + (resolution - 1.0) * share
    } else {
        resolution
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// Leader grouping one text at a time through one index: what `gather`
    /// must give.
    fn gather_one_by_one(
        matrix: &Matrix,
        features: usize,
        order: &[u32],
        join: f32,
    ) -> Vec<Vec<u32>> {
        let mut index = Index::new(features);
        let mut leaders: Vec<u32> = Vec::new();
        let mut members: Vec<Vec<u32>> = Vec::new();
        let mut scratch = Scratch::default();
        for &doc in order {
            let row = matrix.row(doc as usize);
            let best = index
                .candidates(row, &mut scratch)
                .into_iter()
                .map(|g| (g, dot(row, matrix.row(leaders[g as usize] as usize))))
                .fold(None, |best: Option<(u32, f32)>, (g, s)| match best {
                    Some((_, b)) if b >= s => best,
                    _ => Some((g, s)),
                });
            match best {
                Some((g, s)) if s >= join => members[g as usize].push(doc),
                _ => {
                    index.insert(leaders.len() as u32, row);
                    leaders.push(doc);
                    members.push(vec![doc]);
                }
            }
        }
        members
    }

    #[test]
    fn gathering_in_batches_gives_the_groups_of_one_text_at_a_time() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let features = 300;
        // 60 kinds of text, each a few features; every text a kind's features
        // with its own weights, now and then one more, so that some texts
        // reach the join threshold with their kind's leader and some do not.
        let kinds: Vec<Vec<u32>> = (0..60)
            .map(|_| {
                let mut ids: Vec<u32> = (0..rng.random_range(2..8))
                    .map(|_| rng.random_range(0..features as u32))
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                ids
            })
            .collect();
        let rows: Vec<(Vec<u32>, Vec<f32>)> = (0..1500)
            .map(|_| {
                let mut ids = kinds[rng.random_range(0..kinds.len())].clone();
                if rng.random_bool(0.3) {
                    ids.push(rng.random_range(0..features as u32));
                    ids.sort_unstable();
                    ids.dedup();
                }
                let weights: Vec<f32> = ids.iter().map(|_| rng.random_range(0.2..1.0)).collect();
                let norm = weights.iter().map(|w| w * w).sum::<f32>().sqrt();
                (ids, weights.iter().map(|w| w / norm).collect())
            })
            .collect();
        let matrix = Matrix::with_rows(rows);
        let order: Vec<u32> = (0..1500).collect();
        let counts = vec![1; 1500];
        let expected = gather_one_by_one(&matrix, features, &order, 0.8);
        let groups = gather(&matrix, features, &order, &counts, 0.8);
        let got: Vec<Vec<u32>> = groups.into_iter().map(|g| g.members).collect();
        assert!(
            expected.len() > 100 && expected.len() < 1400,
            "{}",
            expected.len()
        );
        assert_eq!(got, expected);
    }
}
