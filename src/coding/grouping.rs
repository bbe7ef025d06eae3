//! Automatic grouping of the mentions no codebook rule covers into proposed
//! problem areas, for an analyst to review.
//!
//! How, in three passes that never compare all pairs:
//!
//! 1. **Gather.** Distinct texts, most frequent first, each join the first-seen
//!    text ("leader") they are most similar to, if the cosine of their TF-IDF
//!    vectors (stems with `1 + ln tf` weights + character trigrams, see
//!    `features`) reaches `join_similarity` (0.8: near-identical wordings).
//!    Candidate leaders come from an inverted index over the leaders' strongest
//!    features, so each text is compared with a few leaders, not with all.
//! 2. **Communities** (the data decide). Each group is linked to its
//!    `neighbours` most similar groups (found through the same kind of index),
//!    and the Louvain method (`graph`) finds the communities of that graph: the
//!    number of areas is where modularity peaks, at `resolution`. With
//!    `areas = Some(k)` the older pass runs instead: reciprocal nearest groups
//!    merge while their centroids' cosine reaches `merge_similarity`, then on
//!    until at most `k` areas remain.
//! 3. **Assign.** Groups of at least `min_area_size` mentions become proposed
//!    areas. Every text with content goes to the area whose centroid it is most
//!    similar to (so few stay uncoded: only texts with no content words or
//!    sharing nothing with any area). Each area is labelled with its most typical
//!    words and shown with three typical mentions.
//!
//! There is no randomness: the same mentions give the same areas in any order
//! (ties are broken by the normalised text, never by position or hash order).

use rayon::prelude::*;

use super::corpus::{Corpus, MentionText};
use super::features::{dot, vectorise_with, FnvMap, Matrix, Vectors, Weighting};
use super::graph::{louvain, Graph};
use super::text::{Analysed, Analyzer};

/// Settings of automatic grouping. `Default` suits studies of any size.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupingOptions {
    /// A fixed number of proposed areas (at most this many); `None` lets the data
    /// decide.
    pub areas: Option<usize>,
    /// The fewest mentions a proposed area has; `None`: 2, or 1 in 1,000 mentions
    /// when that is more.
    pub min_area_size: Option<usize>,
    /// Cosine at which a text joins a group's first text in the gather pass.
    pub join_similarity: f32,
    /// Cosine of two group centroids at which they merge, and the least a text
    /// from a group too small to propose needs to an area's centroid to join it
    /// (with a fixed number of areas, any similarity will do).
    pub merge_similarity: f32,
    /// Share of a vector's weight on stems; the rest is on character trigrams.
    pub stem_weight: f32,
    /// Neighbours each group is linked to in the similarity graph whose
    /// communities are the areas when the data decide.
    pub neighbours: usize,
    /// Louvain resolution: above 1, more and smaller areas.
    pub resolution: f64,
    /// Cosine of two communities' centroids at which they are one area anyway;
    /// lower when mentions are less alike their own community (see
    /// `cohesion_factor`).
    pub same_area_similarity: f32,
    /// Communities merge when their centroids' cosine reaches this times the
    /// mean cosine of a mention to its community's centroid.
    pub cohesion_factor: f32,
    /// Pairs of neighbouring stems as features, and `1 + ln(tf)` term weights.
    pub bigrams: bool,
    pub sublinear_tf: bool,
}

impl Default for GroupingOptions {
    fn default() -> Self {
        GroupingOptions {
            areas: None,
            min_area_size: None,
            join_similarity: 0.8,
            merge_similarity: 0.15,
            stem_weight: 0.6,
            neighbours: 10,
            resolution: 2.5,
            same_area_similarity: 0.5,
            cohesion_factor: 1.2,
            bigrams: false,
            sublinear_tf: true,
        }
    }
}

/// An area proposed by automatic grouping.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposedArea {
    /// A short phrase its mentions share ("late delivery"), or its two most
    /// typical words ("leveransen / levtid").
    pub label: String,
    /// Up to eight typical words, most typical first.
    pub terms: Vec<String>,
    /// Indices (into the mentions given) of three typical, distinct mentions.
    pub examples: Vec<usize>,
    /// How many mentions it holds.
    pub mentions: usize,
}

/// Why a mention was put in a proposed area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assignment {
    /// Index into [`Grouping::proposals`].
    pub proposal: usize,
    /// Cosine similarity of the mention to the area's centroid (0 to 1).
    pub similarity: f32,
}

/// The result of automatic grouping: an assignment per mention, in input order
/// (`None`: close to no proposed area), and the proposed areas, largest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    pub assignments: Vec<Option<Assignment>>,
    pub proposals: Vec<ProposedArea>,
}

/// Groups mentions into proposed areas.
pub fn group(mentions: &[MentionText<'_>], options: &GroupingOptions) -> Grouping {
    let analyzer = Analyzer::new();
    let corpus = Corpus::build(&analyzer, mentions);
    let all: Vec<u32> = (0..corpus.docs.len() as u32).collect();
    let docs = group_docs(&corpus, &all, options);
    Grouping {
        assignments: corpus
            .doc_of
            .iter()
            .map(|&d| docs.assignments[d as usize])
            .collect(),
        proposals: docs.proposals,
    }
}

/// Grouping of some docs of a corpus: `assignments` is indexed like `selected`.
pub(crate) struct DocGrouping {
    pub assignments: Vec<Option<Assignment>>,
    pub proposals: Vec<ProposedArea>,
}

/// Features of a row used to look up candidates, and posted for others to find.
const QUERY_FEATURES: usize = 12;
const POSTED_FEATURES: usize = 16;
/// Candidates per posting list looked at: the earliest, i.e. most frequent, ones.
const POSTING_CAP: usize = 512;
/// Candidates whose exact cosine is computed after the index's estimate.
const VERIFIED: usize = 6;
/// Features kept in a group centroid.
const CENTROID_FEATURES: usize = 96;

/// Groups the docs `selected` of `corpus` (those no rule covered).
pub(crate) fn group_docs(
    corpus: &Corpus,
    selected: &[u32],
    options: &GroupingOptions,
) -> DocGrouping {
    let docs: Vec<&Analysed> = selected.iter().map(|&d| &corpus.docs[d as usize]).collect();
    let counts: Vec<u32> = selected
        .iter()
        .map(|&d| corpus.counts[d as usize])
        .collect();
    let texts: Vec<&str> = selected
        .iter()
        .map(|&d| corpus.normalised[d as usize].as_str())
        .collect();
    let vectors = vectorise_with(
        &docs,
        &counts,
        &Weighting {
            stem_weight: options.stem_weight,
            bigrams: options.bigrams,
            sublinear_tf: options.sublinear_tf,
        },
    );
    let matrix = &vectors.matrix;

    // Most frequent first; ties by text, so input order never matters.
    let mut order: Vec<u32> = (0..docs.len() as u32)
        .filter(|&i| !matrix.row(i as usize).0.is_empty())
        .collect();
    order.sort_by(|&a, &b| {
        counts[b as usize]
            .cmp(&counts[a as usize])
            .then_with(|| texts[a as usize].cmp(texts[b as usize]))
    });

    let mut groups = gather(
        matrix,
        vectors.features,
        &order,
        &counts,
        options.join_similarity,
    );
    if options.areas.is_none() {
        groups = communities(groups, vectors.features, options);
        // Modularity never finds a single community, so a small study that
        // speaks of one problem would be split in two; and long texts make
        // communities of loosely similar texts. Communities whose centroids are
        // as alike as a typical mention is to its own community's centroid
        // (times `cohesion_factor`, at most `same_area_similarity`) are one area.
        let alike = (options.cohesion_factor * cohesion(matrix, &counts, &groups))
            .min(options.same_area_similarity);
        merge(&mut groups, vectors.features, alike, None);
    } else {
        merge(
            &mut groups,
            vectors.features,
            options.merge_similarity,
            None,
        );
    }

    let total: u64 = counts.iter().map(|&c| u64::from(c)).sum();
    let min_size = options
        .min_area_size
        .unwrap_or_else(|| (total.div_ceil(1000)).max(2) as usize)
        .max(1) as u64;
    if let Some(k) = options.areas {
        let big = groups.iter().filter(|g| g.size >= min_size).count();
        if big > k {
            merge(
                &mut groups,
                vectors.features,
                f32::NEG_INFINITY,
                Some((k, min_size)),
            );
        }
    }

    let mut areas: Vec<Group> = groups.into_iter().filter(|g| g.size >= min_size).collect();
    areas.sort_by(|a, b| b.size.cmp(&a.size).then(a.rank.cmp(&b.rank)));
    if let Some(k) = options.areas {
        areas.truncate(k.max(1));
    }
    // With a fixed number of areas every text with content gets one of them.
    let least = f32::MIN_POSITIVE;
    let assignments = assign(matrix, &vectors, &areas, least);
    let proposals = describe(
        corpus,
        selected,
        &docs,
        &counts,
        &texts,
        &vectors,
        &areas,
        &assignments,
    );
    // Areas that lost every mention to others in the assign pass are dropped.
    let (assignments, proposals) = drop_empty(assignments, proposals);
    DocGrouping {
        assignments,
        proposals,
    }
}

/// A group of docs while grouping.
#[derive(Debug, Clone)]
struct Group {
    /// Sum of the members' vectors weighted by mention count, truncated.
    ids: Vec<u32>,
    sums: Vec<f32>,
    /// Mentions in the group.
    size: u64,
    /// Position of its first leader in the gather order: the tie-breaker.
    rank: usize,
    members: Vec<u32>,
}

impl Group {
    fn centroid(&self) -> (Vec<u32>, Vec<f32>) {
        let norm = self.sums.iter().map(|w| w * w).sum::<f32>().sqrt();
        let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
        (
            self.ids.clone(),
            self.sums.iter().map(|w| w * scale).collect(),
        )
    }

    fn absorb(&mut self, other: Group) {
        let mut pairs: Vec<(u32, f32)> = Vec::with_capacity(self.ids.len() + other.ids.len());
        let (mut i, mut j) = (0, 0);
        while i < self.ids.len() || j < other.ids.len() {
            let next = match (self.ids.get(i), other.ids.get(j)) {
                (Some(a), Some(b)) if a == b => {
                    i += 1;
                    j += 1;
                    (*a, self.sums[i - 1] + other.sums[j - 1])
                }
                (Some(a), Some(b)) if a < b => {
                    i += 1;
                    (*a, self.sums[i - 1])
                }
                (Some(a), None) => {
                    i += 1;
                    (*a, self.sums[i - 1])
                }
                (_, Some(b)) => {
                    j += 1;
                    (*b, other.sums[j - 1])
                }
                (None, None) => break,
            };
            pairs.push(next);
        }
        let (ids, sums) = truncate(pairs);
        self.ids = ids;
        self.sums = sums;
        self.size += other.size;
        self.rank = self.rank.min(other.rank);
        self.members.extend(other.members);
    }
}

/// Keeps the `CENTROID_FEATURES` heaviest features, ids ascending.
fn truncate(mut pairs: Vec<(u32, f32)>) -> (Vec<u32>, Vec<f32>) {
    if pairs.len() > CENTROID_FEATURES {
        pairs.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        pairs.truncate(CENTROID_FEATURES);
        pairs.sort_by_key(|p| p.0);
    }
    pairs.into_iter().unzip()
}

/// Inverted index: feature -> (item, weight) for the items' strongest features.
struct Index {
    postings: Vec<Vec<(u32, f32)>>,
}

impl Index {
    fn new(features: usize) -> Index {
        Index {
            postings: vec![Vec::new(); features],
        }
    }

    fn insert(&mut self, item: u32, row: (&[u32], &[f32])) {
        for k in strongest(row, POSTED_FEATURES) {
            self.postings[row.0[k] as usize].push((item, row.1[k]));
        }
    }

    /// Items sharing strong features with `row`, best estimated first, at most
    /// `VERIFIED` of them.
    fn candidates(&self, row: (&[u32], &[f32]), scratch: &mut Scratch) -> Vec<u32> {
        self.candidates_alive(row, scratch, &[])
    }

    /// Up to `n` items sharing strong features with `row`, best estimated first.
    fn nearest(&self, row: (&[u32], &[f32]), scratch: &mut Scratch, n: usize) -> Vec<u32> {
        self.search(row, scratch, &[], n)
    }

    /// `candidates` among the items `alive` marks (all when `alive` is empty).
    fn candidates_alive(
        &self,
        row: (&[u32], &[f32]),
        scratch: &mut Scratch,
        alive: &[bool],
    ) -> Vec<u32> {
        self.search(row, scratch, alive, VERIFIED)
    }

    fn search(
        &self,
        row: (&[u32], &[f32]),
        scratch: &mut Scratch,
        alive: &[bool],
        n: usize,
    ) -> Vec<u32> {
        for k in strongest(row, QUERY_FEATURES) {
            let w = row.1[k];
            let posting = self.postings[row.0[k] as usize]
                .iter()
                .filter(|(item, _)| alive.is_empty() || alive[*item as usize]);
            for &(item, v) in posting.take(POSTING_CAP) {
                let slot = item as usize;
                if slot >= scratch.score.len() {
                    scratch.score.resize(slot + 1, 0.0);
                }
                if scratch.score[slot] == 0.0 {
                    scratch.touched.push(item);
                }
                scratch.score[slot] += w * v;
            }
        }
        let mut found: Vec<(u32, f32)> = scratch
            .touched
            .drain(..)
            .map(|item| (item, std::mem::take(&mut scratch.score[item as usize])))
            .collect();
        let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if found.len() > n {
            found.select_nth_unstable_by(n, order);
            found.truncate(n);
        }
        found.sort_unstable_by(order);
        found.into_iter().map(|(item, _)| item).collect()
    }
}

#[derive(Default)]
struct Scratch {
    score: Vec<f32>,
    touched: Vec<u32>,
}

/// Positions of the `n` heaviest weights of a row, heaviest first.
fn strongest(row: (&[u32], &[f32]), n: usize) -> Vec<usize> {
    let mut positions: Vec<usize> = (0..row.0.len()).collect();
    if positions.len() > n {
        positions.select_nth_unstable_by(n, |&a, &b| {
            row.1[b].total_cmp(&row.1[a]).then(row.0[a].cmp(&row.0[b]))
        });
        positions.truncate(n);
    }
    positions
}

/// Pass 1: leader grouping in `order`.
fn gather(
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

/// Pass 2: merge reciprocal nearest groups while their cosine reaches
/// `threshold`. With `until = Some((k, min_size))`, only groups of at least
/// `min_size` mentions take part and merging stops when `k` of them remain.
///
/// Nearest neighbours are found once, then only for the groups a round created
/// and for those whose nearest neighbour was merged away, so a round costs what
/// changed, not a pass over all groups.
fn merge(groups: &mut Vec<Group>, features: usize, threshold: f32, until: Option<(usize, u64)>) {
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
    loop {
        if until.is_some_and(|(k, _)| remaining <= k) {
            break;
        }
        let mut pairs: Vec<(usize, usize, f32)> = nearest
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let (j, s) = (*n)?;
                let j = j as usize;
                let mutual =
                    alive[i] && alive[j] && nearest[j].is_some_and(|(back, _)| back as usize == i);
                (i < j && mutual && s >= threshold).then_some((i, j, s))
            })
            .collect();
        if pairs.is_empty() {
            break;
        }
        pairs.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
        if let Some((k, _)) = until {
            pairs.truncate(remaining - k);
        }
        let mut created = Vec::with_capacity(pairs.len());
        for (i, j, _) in pairs {
            let (Some(mut a), Some(b)) = (slots[i].take(), slots[j].take()) else {
                continue;
            };
            a.absorb(b);
            let id = slots.len();
            alive[i] = false;
            alive[j] = false;
            replaced_by[i] = id as u32;
            replaced_by[j] = id as u32;
            let (ids, ws) = a.centroid();
            centroids.push(&ids, &ws);
            index.insert(id as u32, centroids.row(id));
            slots.push(Some(a));
            alive.push(true);
            nearest.push(None);
            replaced_by.push(u32::MAX);
            created.push(id);
            remaining -= 1;
        }
        // A group whose nearest neighbour was merged points to the merged group;
        // only the merged groups themselves search the index again.
        for (x, n) in nearest.iter_mut().enumerate() {
            if let Some((j, _)) = *n {
                if alive[x] && !alive[j as usize] {
                    let r = replaced_by[j as usize] as usize;
                    *n = (r != x).then(|| (r as u32, centroids.dot(x, &centroids, r)));
                }
            }
        }
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
}

/// Pass 2 when the data decide: groups become nodes of a graph linking each to
/// its `neighbours` most similar groups; the graph's communities (Louvain) are
/// merged into one group each.
fn communities(groups: Vec<Group>, features: usize, options: &GroupingOptions) -> Vec<Group> {
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
fn favour_mutual(neighbours: Vec<Vec<(u32, f32)>>) -> Vec<Vec<(u32, f32)>> {
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
fn cohesion(matrix: &Matrix, counts: &[u32], groups: &[Group]) -> f32 {
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
fn resolution_for(resolution: f64, nodes: usize) -> f64 {
    let share = (nodes as f64 / FULL_RESOLUTION_NODES).min(1.0);
    if resolution > 1.0 {
        1.0 + (resolution - 1.0) * share
    } else {
        resolution
    }
}

/// The count-weighted sum of some docs' vectors, truncated, and their mentions.
fn summed(matrix: &Matrix, counts: &[u32], members: &[u32]) -> (Vec<u32>, Vec<f32>, u64) {
    let mut sums: FnvMap<u32, f32> = FnvMap::default();
    let mut size = 0u64;
    for &doc in members {
        let c = counts[doc as usize];
        size += u64::from(c);
        let (ids, ws) = matrix.row(doc as usize);
        for (id, w) in ids.iter().zip(ws) {
            *sums.entry(*id).or_insert(0.0) += w * c as f32;
        }
    }
    let mut pairs: Vec<(u32, f32)> = sums.into_iter().collect();
    pairs.sort_by_key(|p| p.0);
    let (ids, sums) = truncate(pairs);
    (ids, sums, size)
}

/// Pass 3: each doc to the area whose centroid is nearest, if near enough.
fn assign(
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
            })
        })
        .collect()
}

/// Labels and examples of each area, from the docs assigned to it.
#[allow(clippy::too_many_arguments)]
fn describe(
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
                        .stem_id(&token.stem)
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
                if !terms.iter().any(|t| t == word) {
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

/// A label that reads like a problem: the pair of neighbouring content words
/// (as written, stop words between them allowed) that the most of an area's
/// mentions share, such as "late delivery" or "exchange rate", when at least a
/// fifth of them (and two) use it and it holds one of the area's top two words;
/// else its two most typical words.
fn phrase_label(
    docs_in: &[u32],
    docs: &[&Analysed],
    counts: &[u32],
    terms: &[String],
    mentions: u64,
) -> String {
    let mut pairs: FnvMap<(&str, &str), u64> = FnvMap::default();
    for &doc in docs_in {
        let d = doc as usize;
        let words: Vec<&str> = docs[d].content().map(|t| t.word.as_str()).collect();
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for w in words.windows(2) {
            if w[0] != w[1] && !seen.contains(&(w[0], w[1])) {
                seen.push((w[0], w[1]));
                *pairs.entry((w[0], w[1])).or_insert(0) += u64::from(counts[d]);
            }
        }
    }
    let top: Vec<&str> = terms.iter().take(2).map(String::as_str).collect();
    let best = pairs
        .into_iter()
        .filter(|((a, b), n)| *n >= 2 && *n * 5 >= mentions && (top.contains(a) || top.contains(b)))
        .max_by(|x, y| x.1.cmp(&y.1).then_with(|| y.0.cmp(&x.0)));
    match best {
        Some(((a, b), _)) => format!("{a} {b}"),
        None => top.join(" / "),
    }
}

fn drop_empty(
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
        .map(|a| {
            a.and_then(|a| {
                renumber[a.proposal].map(|proposal| Assignment {
                    proposal,
                    similarity: a.similarity,
                })
            })
        })
        .collect();
    (assignments, kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coding::evaluate::purity;
    use crate::survey::Locale;

    /// A small study: three areas, Swedish and English, repeated wordings, a
    /// compound and a typo, as customers write.
    const CORPUS: &[(&str, usize, &str)] = &[
        ("leveransen kom för sent", 3, "late"),
        ("sena leveranser", 2, "late"),
        ("leveransförsening", 1, "late"),
        ("försenad leverans", 2, "late"),
        ("leveranserna är alltid försenade", 1, "late"),
        ("late delivery", 3, "late"),
        ("delivery was late", 1, "late"),
        ("late delivey", 1, "late"),
        ("deliveries are always late", 1, "late"),
        ("fel på fakturan", 2, "invoice"),
        ("felaktig faktura", 2, "invoice"),
        ("fakturafel", 1, "invoice"),
        ("fakturan var fel", 1, "invoice"),
        ("wrong invoice", 3, "invoice"),
        ("invoice errors", 1, "invoice"),
        ("incorrect invoices", 1, "invoice"),
        ("webbshoppen fungerar inte", 2, "webshop"),
        ("webbshoppen kraschar", 1, "webshop"),
        ("webbshopen är seg", 1, "webshop"),
        ("web shop does not work", 2, "webshop"),
        ("the web shop crashes", 1, "webshop"),
        ("webshop bugs", 1, "webshop"),
    ];

    fn corpus() -> (Vec<String>, Vec<usize>) {
        let labels = ["late", "invoice", "webshop"];
        let mut texts = Vec::new();
        let mut truth = Vec::new();
        for (text, times, label) in CORPUS {
            for _ in 0..*times {
                texts.push((*text).to_string());
                truth.push(labels.iter().position(|l| l == label).unwrap_or(0));
            }
        }
        (texts, truth)
    }

    fn mentions(texts: &[String]) -> Vec<MentionText<'_>> {
        texts.iter().map(|t| MentionText::new(t, None)).collect()
    }

    fn area_of(grouping: &Grouping, texts: &[String], text: &str) -> Option<usize> {
        let m = texts.iter().position(|t| t == text)?;
        grouping.assignments[m].map(|a| a.proposal)
    }

    #[test]
    fn phrasings_of_one_problem_land_together() {
        let (texts, truth) = corpus();
        let grouping = group(&mentions(&texts), &GroupingOptions::default());
        let predicted: Vec<usize> = grouping
            .assignments
            .iter()
            .map(|a| a.map_or(usize::MAX, |a| a.proposal))
            .collect();
        // The three areas share no stem, so a mixed area would be a real fault;
        // 0.9 leaves room for one stray short text.
        let p = purity(&truth, &predicted);
        assert!(p >= 0.9, "purity {p}: {grouping:#?}");
        let late = area_of(&grouping, &texts, "leveransen kom för sent");
        assert!(late.is_some());
        for same in ["sena leveranser", "leveransförsening", "försenad leverans"] {
            assert_eq!(area_of(&grouping, &texts, same), late, "{same}");
        }
        let en = area_of(&grouping, &texts, "late delivery");
        assert!(en.is_some());
        assert_eq!(
            area_of(&grouping, &texts, "late delivey"),
            en,
            "a typo stays"
        );
        assert_ne!(area_of(&grouping, &texts, "wrong invoice"), en);
    }

    #[test]
    fn areas_are_labelled_and_shown_with_distinct_examples() {
        let (texts, _) = corpus();
        let grouping = group(&mentions(&texts), &GroupingOptions::default());
        assert!(!grouping.proposals.is_empty());
        for area in &grouping.proposals {
            assert!(!area.label.is_empty());
            assert!(area.examples.len() <= 3 && !area.examples.is_empty());
            let shown: Vec<&str> = area.examples.iter().map(|&m| texts[m].as_str()).collect();
            let mut distinct = shown.clone();
            distinct.dedup();
            assert_eq!(shown.len(), distinct.len(), "{shown:?}");
        }
        let sizes: Vec<usize> = grouping.proposals.iter().map(|a| a.mentions).collect();
        assert!(
            sizes.windows(2).all(|w| w[0] >= w[1]),
            "largest first: {sizes:?}"
        );
        let late = area_of(&grouping, &texts, "late delivery").unwrap_or(usize::MAX);
        let label = &grouping.proposals[late].label;
        assert!(
            label.contains("late") || label.contains("delivery"),
            "{label}"
        );
    }

    #[test]
    fn same_mentions_in_any_order_give_the_same_areas() {
        let (texts, _) = corpus();
        let first = group(&mentions(&texts), &GroupingOptions::default());
        let again = group(&mentions(&texts), &GroupingOptions::default());
        assert_eq!(first, again);

        let mut reversed = texts.clone();
        reversed.reverse();
        let other = group(&mentions(&reversed), &GroupingOptions::default());
        let label_of = |g: &Grouping, ts: &[String], t: &str| {
            area_of(g, ts, t).map(|a| g.proposals[a].label.clone())
        };
        for text in &texts {
            assert_eq!(
                label_of(&first, &texts, text),
                label_of(&other, &reversed, text),
                "{text}"
            );
        }
    }

    #[test]
    fn a_fixed_number_of_areas_is_respected() {
        let (texts, _) = corpus();
        for k in [1, 2, 3] {
            let options = GroupingOptions {
                areas: Some(k),
                ..GroupingOptions::default()
            };
            let grouping = group(&mentions(&texts), &options);
            assert!(
                grouping.proposals.len() <= k,
                "k = {k}: {}",
                grouping.proposals.len()
            );
            assert!(!grouping.proposals.is_empty());
        }
    }

    #[test]
    fn one_way_links_weigh_less() {
        let out = favour_mutual(vec![
            vec![(1, 0.8), (2, 0.6)],
            vec![(0, 0.8)],
            vec![(1, 0.4)],
        ]);
        assert_eq!(out[0], [(1, 0.8), (2, 0.3)]);
        assert_eq!(out[1], [(0, 0.8)]);
        assert_eq!(out[2], [(1, 0.2)]);
    }

    #[test]
    fn small_graphs_get_a_milder_resolution() {
        assert_eq!(resolution_for(2.5, 0), 1.0);
        assert!((resolution_for(2.5, 250) - 1.75).abs() < 1e-9);
        assert_eq!(resolution_for(2.5, 10_000), 2.5);
        assert_eq!(resolution_for(0.8, 10), 0.8);
    }

    #[test]
    fn a_shared_phrase_labels_an_area() {
        let analyzer = Analyzer::new();
        let texts = [
            "the exchange rate was wrong",
            "bad exchange rate again",
            "exchange rate is too high",
            "why this rate",
        ];
        let docs: Vec<Analysed> = texts
            .iter()
            .map(|t| analyzer.analyse(t, Some(Locale::En)))
            .collect();
        let refs: Vec<&Analysed> = docs.iter().collect();
        let terms = vec!["exchange".to_string(), "rate".to_string()];
        let label = phrase_label(&[0, 1, 2, 3], &refs, &[1, 1, 1, 1], &terms, 4);
        assert_eq!(label, "exchange rate");
        // No pair shared: the two most typical words.
        let label = phrase_label(&[3], &refs, &[1, 1, 1, 1], &terms, 1);
        assert_eq!(label, "exchange / rate");
    }

    #[test]
    fn bad_input_is_left_uncoded_without_panic() {
        let long = "leverans försenad ".repeat(600);
        let odd = [
            "",
            "   ",
            "🙂🙂🙂",
            "<p><br/></p>",
            long.as_str(),
            "<b>Leveransen</b> kom för sent &amp; late delivery 😡",
            "x",
        ];
        let texts: Vec<String> = odd.iter().map(|t| (*t).to_string()).collect();
        let before = texts.clone();
        let grouping = group(&mentions(&texts), &GroupingOptions::default());
        assert_eq!(texts, before, "texts are never changed");
        assert_eq!(grouping.assignments.len(), texts.len());
        for (text, assignment) in texts.iter().zip(&grouping.assignments).take(4) {
            assert_eq!(*assignment, None, "{text:?}");
        }
        assert!(group(&[], &GroupingOptions::default()).proposals.is_empty());
        let one = [MentionText::new("levtid", Some(Locale::Sv))];
        assert_eq!(
            group(&one, &GroupingOptions::default()).assignments.len(),
            1
        );
    }
}
