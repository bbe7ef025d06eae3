//! Evaluation of automatic grouping against labelled complaints.
//!
//! Reads CSV files with columns `id,text,label` (header required), groups the texts
//! without looking at the labels, and prints how well the proposed areas agree with
//! the labels (adjusted Rand index, normalised mutual information, purity) and how
//! fast grouping ran, beside a baseline that groups each mention by its single
//! most frequent stem (the one with the highest document frequency in the file).
//! Uncoded mentions count as one shared cluster, never as singletons.
//!
//! ```text
//! cargo run --release --example coding_eval [FILE.csv ...]
//! ```
//!
//! Without arguments it reads every `*.csv` in `../shared/data/`; when that folder
//! has none it says so and uses `tests/fixtures/coding/sample.csv`.

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pds::coding::evaluate::{adjusted_rand_index, normalized_mutual_information, purity};
use pds::coding::{group, Analyzer, Grouping, GroupingOptions, MentionText};

/// Repeat timed runs until this much time has passed, for a steady rate.
const TIMING: Duration = Duration::from_millis(500);

struct Labelled {
    texts: Vec<String>,
    labels: Vec<usize>,
    names: Vec<String>,
}

fn main() -> Result<(), Box<dyn Error>> {
    let files = files_to_read()?;
    for file in &files {
        let data = read(file)?;
        evaluate(file, &data);
    }
    Ok(())
}

fn files_to_read() -> Result<Vec<PathBuf>, Box<dyn Error>> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if !args.is_empty() {
        return Ok(args);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/data");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&shared)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "csv"))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    if found.is_empty() {
        let fixture = root.join("tests/fixtures/coding/sample.csv");
        println!(
            "no *.csv in {}; using {}",
            shared.display(),
            fixture.display()
        );
        found.push(fixture);
    }
    Ok(found)
}

fn read(file: &Path) -> Result<Labelled, Box<dyn Error>> {
    let mut reader =
        csv::Reader::from_path(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| {
                format!(
                    "{}: no column {name:?} (need id,text,label)",
                    file.display()
                )
            })
    };
    let (text_at, label_at) = (column("text")?, column("label")?);
    let mut data = Labelled {
        texts: Vec::new(),
        labels: Vec::new(),
        names: Vec::new(),
    };
    let mut label_ids: BTreeMap<String, usize> = BTreeMap::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("{} record {}: {e}", file.display(), i + 1))?;
        let (Some(text), Some(label)) = (record.get(text_at), record.get(label_at)) else {
            return Err(
                format!("{} record {}: missing text or label", file.display(), i + 1).into(),
            );
        };
        let next = label_ids.len();
        let id = *label_ids.entry(label.trim().to_string()).or_insert(next);
        if id == data.names.len() {
            data.names.push(label.trim().to_string());
        }
        data.texts.push(text.to_string());
        data.labels.push(id);
    }
    Ok(data)
}

fn evaluate(file: &Path, data: &Labelled) {
    let mentions: Vec<MentionText<'_>> = data
        .texts
        .iter()
        .map(|t| MentionText::new(t, None))
        .collect();
    println!(
        "\n{}: {} mentions, {} labels",
        file.display(),
        mentions.len(),
        data.names.len()
    );
    println!(
        "{:<34} {:>6} {:>8} {:>7} {:>7} {:>7} {:>12}",
        "method", "areas", "uncoded", "ARI", "NMI", "purity", "mentions/s"
    );

    let data_decides = GroupingOptions::default();
    let (grouping, rate) = timed(mentions.len(), || group(&mentions, &data_decides));
    report(
        "automatic, data decides",
        data,
        &clusters_of(&grouping),
        grouping.proposals.len(),
        rate,
    );

    let fixed = GroupingOptions {
        areas: Some(data.names.len()),
        ..GroupingOptions::default()
    };
    let (fixed_grouping, rate) = timed(mentions.len(), || group(&mentions, &fixed));
    let title = format!("automatic, k = {}", data.names.len());
    report(
        &title,
        data,
        &clusters_of(&fixed_grouping),
        fixed_grouping.proposals.len(),
        rate,
    );

    let (baseline, rate) = timed(mentions.len(), || most_frequent_stem(&mentions));
    let areas = baseline
        .iter()
        .filter(|c| c.is_some())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    report("baseline: most frequent stem", data, &baseline, areas, rate);

    println!("\nproposed areas (data decides), largest first:");
    for (i, area) in grouping.proposals.iter().enumerate().take(20) {
        let examples: Vec<&str> = area
            .examples
            .iter()
            .map(|&m| data.texts[m].as_str())
            .collect();
        let mut labels: BTreeMap<&str, usize> = BTreeMap::new();
        for (m, a) in grouping.assignments.iter().enumerate() {
            if a.is_some_and(|a| a.proposal == i) {
                *labels
                    .entry(data.names[data.labels[m]].as_str())
                    .or_insert(0) += 1;
            }
        }
        let mut labels: Vec<_> = labels.into_iter().collect();
        labels.sort_by_key(|l| std::cmp::Reverse(l.1));
        let labels: Vec<String> = labels
            .iter()
            .take(3)
            .map(|(l, n)| format!("{l} {n}"))
            .collect();
        println!(
            "{:>4}  {:<40} {:?}  [{}]",
            area.mentions,
            area.label,
            examples,
            labels.join(", ")
        );
    }
}

fn clusters_of(grouping: &Grouping) -> Vec<Option<usize>> {
    grouping
        .assignments
        .iter()
        .map(|a| a.map(|a| a.proposal))
        .collect()
}

fn report(method: &str, data: &Labelled, clusters: &[Option<usize>], areas: usize, rate: f64) {
    // Uncoded mentions form one shared cluster.
    let uncoded_id = usize::MAX;
    let predicted: Vec<usize> = clusters.iter().map(|c| c.unwrap_or(uncoded_id)).collect();
    let uncoded = clusters.iter().filter(|c| c.is_none()).count();
    println!(
        "{:<34} {:>6} {:>8} {:>7.3} {:>7.3} {:>7.3} {:>12.0}",
        method,
        areas,
        uncoded,
        adjusted_rand_index(&data.labels, &predicted),
        normalized_mutual_information(&data.labels, &predicted),
        purity(&data.labels, &predicted),
        rate
    );
}

/// Runs `work` repeatedly for at least `TIMING` and returns its last result and
/// the rate in mentions per second.
fn timed<T>(mentions: usize, mut work: impl FnMut() -> T) -> (T, f64) {
    let started = Instant::now();
    let mut runs = 0u32;
    loop {
        let result = work();
        runs += 1;
        let elapsed = started.elapsed();
        if elapsed >= TIMING {
            let rate = mentions as f64 * f64::from(runs) / elapsed.as_secs_f64();
            return (result, rate);
        }
    }
}

/// The baseline: each mention's cluster is its content stem with the highest
/// document frequency in the file (ties: alphabetical); no stem, no cluster.
fn most_frequent_stem(mentions: &[MentionText<'_>]) -> Vec<Option<usize>> {
    let analyzer = Analyzer::new();
    let stems: Vec<Vec<String>> = mentions
        .iter()
        .map(|m| {
            let mut s: Vec<String> = analyzer
                .analyse(m.text, m.locale)
                .stems()
                .map(str::to_string)
                .collect();
            s.sort();
            s.dedup();
            s
        })
        .collect();
    let mut df: BTreeMap<&str, usize> = BTreeMap::new();
    for s in stems.iter().flatten() {
        *df.entry(s.as_str()).or_insert(0) += 1;
    }
    let ids: BTreeMap<&str, usize> = df.keys().enumerate().map(|(i, s)| (*s, i)).collect();
    stems
        .iter()
        .map(|s| {
            s.iter()
                .max_by(|a, b| df[a.as_str()].cmp(&df[b.as_str()]).then_with(|| b.cmp(a)))
                .map(|best| ids[best.as_str()])
        })
        .collect()
}
