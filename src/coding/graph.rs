//! Communities in a similarity graph: how automatic grouping lets the data decide
//! how many areas there are.
//!
//! Each text (or tight group of texts) is linked to its nearest neighbours by
//! cosine similarity; the Louvain method (Blondel et al. 2008) then finds the
//! partition of that graph with the highest modularity: groups whose members are
//! more linked to each other than the links' totals would predict. Nobody says how
//! many groups: a question everyone asks in twenty wordings becomes one community,
//! a one-off stays small. `resolution` above 1 favours more, smaller communities.
//!
//! Deterministic: nodes are visited in index order and ties go to the lower
//! community, so the same graph always gives the same partition.

/// An undirected weighted graph as adjacency lists; every edge is listed at both
/// ends, never as a self loop (a node's own weight is in `self_weight`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    pub adjacency: Vec<Vec<(u32, f64)>>,
    pub self_weight: Vec<f64>,
}

impl Graph {
    /// `nodes` nodes and no edges.
    pub fn new(nodes: usize) -> Graph {
        Graph {
            adjacency: vec![Vec::new(); nodes],
            self_weight: vec![0.0; nodes],
        }
    }

    /// Builds a graph from directed neighbour lists (`neighbours[i]`: nodes near
    /// `i` and their similarity); an edge listed at either end counts once, at the
    /// larger weight.
    pub fn from_neighbours(neighbours: &[Vec<(u32, f32)>]) -> Graph {
        let n = neighbours.len();
        let mut edges: Vec<(u32, u32, f64)> = Vec::new();
        for (i, list) in neighbours.iter().enumerate() {
            for &(j, w) in list {
                if j as usize != i && (j as usize) < n && w > 0.0 {
                    let (a, b) = if (i as u32) < j {
                        (i as u32, j)
                    } else {
                        (j, i as u32)
                    };
                    edges.push((a, b, f64::from(w)));
                }
            }
        }
        edges.sort_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)).then(y.2.total_cmp(&x.2)));
        edges.dedup_by(|later, first| later.0 == first.0 && later.1 == first.1);
        let mut graph = Graph::new(n);
        for (a, b, w) in edges {
            graph.adjacency[a as usize].push((b, w));
            graph.adjacency[b as usize].push((a, w));
        }
        graph
    }

    pub fn nodes(&self) -> usize {
        self.adjacency.len()
    }

    /// Weighted degree of each node, its own weight included.
    fn degrees(&self) -> Vec<f64> {
        self.adjacency
            .iter()
            .zip(&self.self_weight)
            .map(|(list, s)| s + list.iter().map(|e| e.1).sum::<f64>())
            .collect()
    }
}

/// Community of each node (numbered from 0, in order of first node) by the
/// Louvain method at `resolution`.
pub fn louvain(graph: &Graph, resolution: f64) -> Vec<u32> {
    let n = graph.nodes();
    let mut membership: Vec<u32> = (0..n as u32).collect();
    let mut level = graph.clone();
    // Each level at least halves nothing in the worst case; the bound only
    // guards against a float oddity looping forever.
    for _ in 0..32 {
        let (communities, moved) = local_moves(&level, resolution);
        if !moved {
            break;
        }
        for m in membership.iter_mut() {
            *m = communities[*m as usize];
        }
        level = aggregate(&level, &communities);
    }
    renumber(&mut membership);
    membership
}

/// One level of Louvain: nodes move to the neighbouring community that raises
/// modularity most, until none does. Returns each node's community (numbered
/// densely from 0) and whether any node moved.
fn local_moves(graph: &Graph, resolution: f64) -> (Vec<u32>, bool) {
    let n = graph.nodes();
    let degree = graph.degrees();
    let total: f64 = degree.iter().sum();
    let mut community: Vec<u32> = (0..n as u32).collect();
    if total <= 0.0 {
        return (community, false);
    }
    let mut tot: Vec<f64> = degree.clone();
    let mut links: Vec<f64> = vec![0.0; n];
    let mut touched: Vec<u32> = Vec::new();
    let mut moved = false;
    for _pass in 0..64 {
        let mut changed = 0usize;
        for i in 0..n {
            let own = community[i];
            for &(j, w) in &graph.adjacency[i] {
                let c = community[j as usize];
                if links[c as usize] == 0.0 {
                    touched.push(c);
                }
                links[c as usize] += w;
            }
            tot[own as usize] -= degree[i];
            let gain = |c: u32, links: &[f64], tot: &[f64]| {
                links[c as usize] - resolution * tot[c as usize] * degree[i] / total
            };
            let mut best = own;
            let mut best_gain = gain(own, &links, &tot);
            touched.sort_unstable();
            for &c in &touched {
                let g = gain(c, &links, &tot);
                if g > best_gain + 1e-12 {
                    best = c;
                    best_gain = g;
                }
            }
            tot[best as usize] += degree[i];
            if best != own {
                community[i] = best;
                changed += 1;
            }
            for c in touched.drain(..) {
                links[c as usize] = 0.0;
            }
        }
        if changed == 0 {
            break;
        }
        moved = true;
    }
    renumber(&mut community);
    (community, moved)
}

/// Numbers communities densely from 0 in order of their first node.
fn renumber(community: &mut [u32]) {
    let mut new_id: Vec<u32> = vec![u32::MAX; community.len()];
    let mut next = 0;
    for c in community.iter_mut() {
        let slot = &mut new_id[*c as usize];
        if *slot == u32::MAX {
            *slot = next;
            next += 1;
        }
        *c = *slot;
    }
}

/// The graph of communities: a node per community, edges summed, edges inside a
/// community added to its own weight.
fn aggregate(graph: &Graph, community: &[u32]) -> Graph {
    let count = community.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
    let mut next = Graph::new(count);
    let mut rows: Vec<Vec<(u32, f64)>> = vec![Vec::new(); count];
    for (i, list) in graph.adjacency.iter().enumerate() {
        let ci = community[i];
        next.self_weight[ci as usize] += graph.self_weight[i];
        for &(j, w) in list {
            let cj = community[j as usize];
            if ci == cj {
                next.self_weight[ci as usize] += w;
            } else {
                rows[ci as usize].push((cj, w));
            }
        }
    }
    for (c, mut row) in rows.into_iter().enumerate() {
        row.sort_by_key(|e| e.0);
        let mut merged: Vec<(u32, f64)> = Vec::with_capacity(row.len());
        for (j, w) in row {
            match merged.last_mut() {
                Some((last, sum)) if *last == j => *sum += w,
                _ => merged.push((j, w)),
            }
        }
        next.adjacency[c] = merged;
    }
    next
}

/// Modularity of a partition at `resolution` (for tests and diagnostics).
pub fn modularity(graph: &Graph, community: &[u32], resolution: f64) -> f64 {
    let degree = graph.degrees();
    let total: f64 = degree.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    let count = community.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
    let mut inside = vec![0.0; count];
    let mut tot = vec![0.0; count];
    for (i, list) in graph.adjacency.iter().enumerate() {
        let ci = community[i] as usize;
        inside[ci] += graph.self_weight[i];
        tot[ci] += degree[i];
        for &(j, w) in list {
            if community[j as usize] as usize == ci {
                inside[ci] += w;
            }
        }
    }
    inside
        .iter()
        .zip(&tot)
        .map(|(a, t)| a / total - resolution * (t / total) * (t / total))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two cliques of `size` joined by one weak edge.
    fn two_cliques(size: u32) -> Graph {
        let mut neighbours: Vec<Vec<(u32, f32)>> = vec![Vec::new(); 2 * size as usize];
        for half in 0..2 {
            for a in 0..size {
                for b in 0..size {
                    if a != b {
                        neighbours[(half * size + a) as usize].push((half * size + b, 0.8));
                    }
                }
            }
        }
        neighbours[0].push((size, 0.1));
        Graph::from_neighbours(&neighbours)
    }

    #[test]
    fn two_cliques_are_two_communities() {
        let graph = two_cliques(5);
        let c = louvain(&graph, 1.0);
        assert_eq!(c, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
        assert!(modularity(&graph, &c, 1.0) > 0.4);
        let one = vec![0; 10];
        assert!(modularity(&graph, &c, 1.0) > modularity(&graph, &one, 1.0));
    }

    #[test]
    fn edges_listed_at_both_ends_count_once() {
        let g = Graph::from_neighbours(&[vec![(1, 0.5)], vec![(0, 0.7)], vec![]]);
        assert_eq!(g.adjacency[0], [(1, 0.7f32 as f64)]);
        assert_eq!(g.adjacency[1], [(0, 0.7f32 as f64)]);
        assert!(g.adjacency[2].is_empty());
    }

    #[test]
    fn lone_nodes_and_empty_graphs_stay_apart() {
        assert!(louvain(&Graph::new(0), 1.0).is_empty());
        assert_eq!(louvain(&Graph::new(3), 1.0), [0, 1, 2]);
    }

    #[test]
    fn a_higher_resolution_gives_no_fewer_communities() {
        // A ring of ten cliques: at a low resolution neighbours merge.
        let mut neighbours: Vec<Vec<(u32, f32)>> = vec![Vec::new(); 40];
        for c in 0..10u32 {
            for a in 0..4 {
                for b in 0..4 {
                    if a != b {
                        neighbours[(c * 4 + a) as usize].push((c * 4 + b, 1.0));
                    }
                }
            }
            neighbours[(c * 4) as usize].push((((c + 1) % 10) * 4 + 1, 0.9));
        }
        let graph = Graph::from_neighbours(&neighbours);
        let count = |r: f64| louvain(&graph, r).into_iter().max().map_or(0, |m| m + 1);
        assert!(count(0.2) <= count(1.0), "{} {}", count(0.2), count(1.0));
        assert!(count(1.0) <= count(3.0));
        assert_eq!(count(1.0), 10);
    }
}
