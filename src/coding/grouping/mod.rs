//! Automatic grouping of the mentions no codebook rule covers into proposed
//! problem areas, for an analyst to review.
//!
//! How, in four passes that never compare all pairs:
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
//!    sharing nothing with any area).
//! 4. **Vote** (`vote`). Each text moves to the area most of its
//!    `vote_neighbours` nearest texts are in, until none moves. Each area is
//!    labelled with its most typical words and shown with three typical
//!    mentions.
//!
//! There is no randomness: the same mentions give the same areas in any order
//! (ties are broken by the normalised text, never by position or hash order).

use super::corpus::{Corpus, MentionText};
use super::features::{vectorise_with, Vectors, Weighting};
use super::text::{Analysed, Analyzer};
use super::word_vectors::{self, Profile, WordVectors};
use describe::{assign, describe, drop_empty};
use group::Group;
use passes::{cohesion, communities, gather, merge};
use vote::vote;

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
    /// How texts become vectors: the share of stems against character
    /// trigrams, term-frequency and IDF weighting.
    pub weighting: Weighting,
    /// After the communities, each text moves to the area most of its
    /// `vote_neighbours` nearest texts are in, until none moves (0: off).
    pub vote_neighbours: usize,
    /// In a study that gets word vectors (see the next two), the share of a
    /// similarity that comes from the texts' word vectors (`word_vectors`),
    /// the rest from their stems and trigrams; 0: never.
    pub word_vectors: f32,
    /// Word vectors only where the median mention has at most this many
    /// content words (long complaints lost with them)...
    pub word_vectors_max_words: usize,
    /// ...and at least this share of the mentions is English (the table is
    /// English; a Swedish-only study lost with them).
    pub word_vectors_min_english: f32,
    /// Dimensions of the word vectors used (the table's first, strongest).
    pub word_vector_dims: usize,
    /// A text's word vector less the study's mean counts in full (scaled to
    /// unit length) from this length up, shorter ones in proportion, so texts
    /// whose words are what every text of the study says get next to nothing
    /// from their word vectors (the dev files' texts are nearly all above
    /// 0.5); 0: every one scaled to unit length.
    pub word_vector_full_length: f32,
    /// Where a study gets word vectors, these stand for `resolution`,
    /// `same_area_similarity` and `cohesion_factor`: dense vectors make every
    /// two texts more alike, so communities are cut finer and merged less
    /// (a trained table, `scripts/make-word-vectors-wordllama.py`, grouped
    /// Banking77 dev best with 5, 0.75 and 1.5; docs/coding-wordllama.md).
    pub vectors_resolution: f64,
    pub vectors_same_area_similarity: f32,
    pub vectors_cohesion_factor: f32,
    /// In a study with word vectors, each search for a text's or group's
    /// nearest also takes this many per neighbour wanted whose word vectors
    /// alone are most alike (`dense`), so texts that share no word can meet.
    pub vector_candidates: usize,
}

impl Default for GroupingOptions {
    fn default() -> Self {
        GroupingOptions {
            areas: None,
            min_area_size: None,
            join_similarity: 0.8,
            merge_similarity: 0.15,
            neighbours: 10,
            resolution: 2.5,
            same_area_similarity: 0.5,
            cohesion_factor: 1.2,
            weighting: Weighting::default(),
            vote_neighbours: 12,
            word_vectors: 0.5,
            word_vectors_max_words: word_vectors::GATE_MAX_WORDS,
            word_vectors_min_english: word_vectors::GATE_MIN_ENGLISH,
            word_vector_dims: 64,
            word_vector_full_length: 0.5,
            vectors_resolution: 5.0,
            vectors_same_area_similarity: 0.75,
            vectors_cohesion_factor: 1.5,
            vector_candidates: 1,
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
    /// Set when the nearest-text vote moved the mention here: how its
    /// nearest texts voted.
    pub moved_by: Option<NearestVote>,
}

/// The nearest-text vote that moved a mention: of the `asked` texts most like
/// it, `here` are in the area it moved to, the nearest of them at cosine
/// `nearest`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearestVote {
    pub here: u16,
    pub asked: u16,
    pub nearest: f32,
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

mod dense;
mod describe;
mod group;
mod index;
mod label;
mod passes;
#[cfg(test)]
mod tests;
mod vote;

/// Groups the docs `selected` of `corpus` (those no rule covered).
pub(crate) fn group_docs(
    corpus: &Corpus,
    selected: &[u32],
    options: &GroupingOptions,
) -> DocGrouping {
    group_docs_with(corpus, selected, options, WordVectors::installed)
}

/// [`group_docs`] with the word vectors of `table()`, if any, mixed into every
/// similarity (`options.word_vectors`) when the study's texts suit them (the
/// table is only read then).
fn group_docs_with<'t>(
    corpus: &Corpus,
    selected: &[u32],
    options: &GroupingOptions,
    table: impl FnOnce() -> Option<&'t WordVectors>,
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
    let mut vectors = vectorise_with(&docs, &counts, &options.weighting);
    let with_vectors;
    let mut options = options;
    if options.word_vectors > 0.0
        && Profile::of(&docs, &counts).suits_word_vectors(
            options.word_vectors_max_words,
            options.word_vectors_min_english,
        )
    {
        if let Some(table) = table() {
            with_vectors = GroupingOptions {
                resolution: options.vectors_resolution,
                same_area_similarity: options.vectors_same_area_similarity,
                cohesion_factor: options.vectors_cohesion_factor,
                ..options.clone()
            };
            word_vectors::mix(
                &mut vectors,
                &docs,
                &counts,
                table,
                options.word_vectors,
                options.word_vector_dims,
                options.word_vector_full_length,
            );
            options = &with_vectors;
        }
    }
    let order = gather_order(&vectors, &counts, &texts);
    let groups = gather(
        &vectors.matrix,
        vectors.features,
        &order,
        &counts,
        options.join_similarity,
    );
    let areas = proposed_areas(groups, &vectors, &counts, options);
    let mut assignments = assign(&vectors.matrix, &vectors, &areas, f32::MIN_POSITIVE);
    if options.vote_neighbours > 0 {
        assignments = vote(&vectors, &counts, &order, assignments, options);
    }
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

/// The order of the gather pass: texts with content, most frequent first; ties
/// by text, so input order never matters.
fn gather_order(vectors: &Vectors, counts: &[u32], texts: &[&str]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..counts.len() as u32)
        .filter(|&i| !vectors.matrix.row(i as usize).0.is_empty())
        .collect();
    order.sort_by(|&a, &b| {
        counts[b as usize]
            .cmp(&counts[a as usize])
            .then_with(|| texts[a as usize].cmp(texts[b as usize]))
    });
    order
}

/// Pass 2: the gathered groups become areas (communities when the data decide,
/// else merging down to `areas`), largest first; groups too small to propose
/// are left out.
fn proposed_areas(
    mut groups: Vec<Group>,
    vectors: &Vectors,
    counts: &[u32],
    options: &GroupingOptions,
) -> Vec<Group> {
    let total: u64 = counts.iter().map(|&c| u64::from(c)).sum();
    let min_size = options
        .min_area_size
        .unwrap_or_else(|| (total.div_ceil(1000)).max(2) as usize)
        .max(1) as u64;
    match options.areas {
        None => {
            groups = communities(groups, vectors.features, options);
            // Modularity never finds a single community, so a small study that
            // speaks of one problem would be split in two; and long texts make
            // communities of loosely similar texts. Communities whose centroids
            // are as alike as a typical mention is to its own community's
            // centroid (times `cohesion_factor`, at most `same_area_similarity`)
            // are one area.
            let alike = (options.cohesion_factor * cohesion(&vectors.matrix, counts, &groups))
                .min(options.same_area_similarity);
            merge(&mut groups, vectors.features, alike, None);
        }
        Some(k) => {
            merge(
                &mut groups,
                vectors.features,
                options.merge_similarity,
                None,
            );
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
    }
    let mut areas: Vec<Group> = groups.into_iter().filter(|g| g.size >= min_size).collect();
    areas.sort_by(|a, b| b.size.cmp(&a.size).then(a.rank.cmp(&b.rank)));
    if let Some(k) = options.areas {
        areas.truncate(k.max(1));
    }
    areas
}
