//! Passes 1 and 2: gathering near-identical texts, then merging groups
//! (reciprocal nearest neighbours, or Louvain communities when the data decide).

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::super::features::{dot, Matrix};
use super::super::graph::{louvain, Graph};
use super::group::{summed, Group};
use super::index::{Index, Scratch};
use super::GroupingOptions;

/// Pass 1: leader grouping in `order`.
pub(super) fn gather(
    matrix: &Matrix,
    features: usize,
    order: &[u32],
    counts: &[u32],
    join: f32,
) -> Vec<Group> {
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
                let g = leaders.len() as u32;
                index.insert(g, row);
                leaders.push(doc);
                members.push(vec![doc]);
            }
        }
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
            index
                .candidates_alive(row, scratch, alive)
                .into_iter()
                .filter(|&j| j as usize != i)
                .map(|j| (j, dot(row, centroids.row(j as usize))))
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
    let neighbours: Vec<Vec<(u32, f32)>> = (0..groups.len())
        .into_par_iter()
        .map_init(Scratch::default, |scratch, i| {
            let row = centroids.row(i);
            let mut near: Vec<(u32, f32)> = index
                .nearest(row, scratch, 4 * k)
                .into_iter()
                .filter(|&j| j as usize != i)
                .map(|j| (j, dot(row, centroids.row(j as usize))))
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
