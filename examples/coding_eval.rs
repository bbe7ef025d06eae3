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
//! cargo run --release --example coding_eval -- --train TRAIN.csv [--per-label N] FILE.csv ...
//! ```
//!
//! With `--train`, the labels of TRAIN.csv stand for an analyst's decisions: a
//! model learned from them codes each FILE, and a row per model tells the share
//! of mentions put in the area of their label (accuracy), the share it was sure
//! of (the rest stay proposals for review) and the accuracy among those, beside
//! the usual columns. One model learns from every row of TRAIN.csv, another from
//! the first N rows of each label (default 10).
//!
//! `--set NAME=VALUE` (repeatable) changes one setting of automatic grouping for
//! this run, to tune on a dev file: `join_similarity`, `stem_weight`,
//! `neighbours`, `resolution`, `same_area_similarity`, `cohesion_factor`,
//! `vote_neighbours`, `word_vectors` (the share of similarity from word
//! vectors; 0: none), `word_vectors_max_words`, `word_vectors_min_english`
//! (the gate: which studies get them), `word_vector_dims`,
//! `word_vector_full_length`, and `vectors_resolution`,
//! `vectors_same_area_similarity`, `vectors_cohesion_factor` (what stands for
//! those three settings in a study that gets word vectors).
//!
//! `--word-vectors FILE` groups with the word vectors of another table made by
//! `scripts/make-word-vectors-minilm.py` or `scripts/make-word-vectors-wordllama.py`
//! instead of the built-in one, to
//! measure a table without rebuilding; `--word-vectors none` groups without
//! any. Each file's line `texts: ...` says whether the gate lets them in.
//!
//! `--by-label` also lists, for each label whose mentions went to more than one
//! area, those areas and their mentions with the language each was read in
//! (for dev files and fixtures: to see why wordings of one problem did not meet).
//!
//! `--assignments OUT.csv` writes each mention's area (`file,row,label,area`,
//! appended to OUT.csv if it exists) for analysis with other tools.
//!
//! `--copies N` (1 to 40) also groups N copies of each file, copy `i` without
//! the rows `i`, `i + 40`, `i + 80`, ..., and prints the mean ARI and NMI of the
//! copies with their range: grouping moves by about 0.01 when a few rows change,
//! so a tuning step should beat the mean of copies, not one run.
//!
//! Without arguments it reads `tests/fixtures/coding/sample.csv`; labelled data
//! kept outside the repository is named by its path.

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pds::coding::evaluate::{adjusted_rand_index, normalized_mutual_information, purity};
use pds::coding::word_vectors::{Profile, WordVectors};
use pds::coding::{
    group, Analyzer, Grouping, GroupingOptions, Learned, LearningOptions, MentionText,
};

/// Repeat timed runs until this much time has passed, for a steady rate.
const TIMING: Duration = Duration::from_millis(500);

struct Labelled {
    texts: Vec<String>,
    labels: Vec<usize>,
    names: Vec<String>,
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let train = take_option(&mut args, "--train")?;
    let per_label = match take_option(&mut args, "--per-label")? {
        Some(n) => n.parse().map_err(|e| format!("--per-label {n}: {e}"))?,
        None => 10,
    };
    let by_label = take_flag(&mut args, "--by-label");
    let assignments_out = take_option(&mut args, "--assignments")?.map(PathBuf::from);
    let copies = match take_option(&mut args, "--copies")? {
        Some(n) => match n.parse::<usize>() {
            Ok(n) if (1..=COPY_STRIDE).contains(&n) => n,
            _ => return Err(format!("--copies {n}: give a number from 1 to {COPY_STRIDE}").into()),
        },
        None => 0,
    };
    if let Some(table) = take_option(&mut args, "--word-vectors")? {
        use_word_vectors(&table)?;
    }
    let mut options = GroupingOptions::default();
    while let Some(setting) = take_option(&mut args, "--set")? {
        set(&mut options, &setting)?;
    }
    let files = files_to_read(args.into_iter().map(PathBuf::from).collect())?;
    if let Some(train) = train {
        let train_file = PathBuf::from(train);
        let training = read(&train_file)?;
        for file in &files {
            let data = read(file)?;
            evaluate_learning(&train_file, &training, file, &data, per_label);
        }
        return Ok(());
    }
    for file in &files {
        let data = read(file)?;
        let grouping = evaluate(file, &data, &options, by_label);
        if let Some(out) = &assignments_out {
            write_assignments(out, file, &data, &grouping)?;
        }
        if copies > 0 {
            evaluate_copies(&data, &options, copies);
        }
    }
    Ok(())
}

/// Copy `i` of `--copies` leaves out every row whose index is `i` modulo this.
const COPY_STRIDE: usize = 40;

/// Groups `copies` copies of `data`, copy `i` without the rows `i` modulo
/// [`COPY_STRIDE`], and prints the mean ARI and NMI with their range.
fn evaluate_copies(data: &Labelled, options: &GroupingOptions, copies: usize) {
    let mut ari = Vec::with_capacity(copies);
    let mut nmi = Vec::with_capacity(copies);
    for copy in 0..copies {
        let kept: Vec<usize> = (0..data.texts.len())
            .filter(|row| row % COPY_STRIDE != copy)
            .collect();
        let mentions: Vec<MentionText<'_>> = kept
            .iter()
            .map(|&row| MentionText::new(&data.texts[row], None))
            .collect();
        let labels: Vec<usize> = kept.iter().map(|&row| data.labels[row]).collect();
        let predicted: Vec<usize> = clusters_of(&group(&mentions, options))
            .into_iter()
            .map(|c| c.unwrap_or(usize::MAX))
            .collect();
        ari.push(adjusted_rand_index(&labels, &predicted));
        nmi.push(normalized_mutual_information(&labels, &predicted));
    }
    let summary = |values: &[f64]| {
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let low = values.iter().copied().fold(f64::INFINITY, f64::min);
        let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("{mean:.3} ({low:.3}-{high:.3})")
    };
    println!(
        "\ndata decides, {copies} copies each without 1 row in {COPY_STRIDE}: ARI {}, NMI {}",
        summary(&ari),
        summary(&nmi)
    );
}

/// Removes the flag `name` from `args`; whether it was there.
fn take_flag(args: &mut Vec<String>, name: &str) -> bool {
    let before = args.len();
    args.retain(|a| a != name);
    args.len() != before
}

/// Makes grouping use the word-vector table in `file`, or none (`none`).
fn use_word_vectors(file: &str) -> Result<(), Box<dyn Error>> {
    let table = if file == "none" {
        None
    } else {
        let bytes = std::fs::read(file).map_err(|e| format!("--word-vectors {file}: {e}"))?;
        Some(WordVectors::parse(&bytes).map_err(|e| format!("--word-vectors {file}: {e}"))?)
    };
    WordVectors::install(table);
    Ok(())
}

/// Removes `--name VALUE` from `args` and returns VALUE.
fn take_option(args: &mut Vec<String>, name: &str) -> Result<Option<String>, Box<dyn Error>> {
    let Some(at) = args.iter().position(|a| a == name) else {
        return Ok(None);
    };
    if at + 1 >= args.len() {
        return Err(format!("{name} needs a value").into());
    }
    let value = args.remove(at + 1);
    args.remove(at);
    Ok(Some(value))
}

/// Applies `NAME=VALUE` to `options`.
fn set(options: &mut GroupingOptions, setting: &str) -> Result<(), Box<dyn Error>> {
    let (name, value) = setting
        .split_once('=')
        .ok_or_else(|| format!("--set {setting}: write NAME=VALUE"))?;
    let number: f64 = value
        .parse()
        .map_err(|e| format!("--set {setting}: {value:?} is not a number ({e})"))?;
    match name {
        "join_similarity" => options.join_similarity = number as f32,
        "stem_weight" => options.weighting.stem_weight = number as f32,
        "neighbours" => options.neighbours = number as usize,
        "resolution" => options.resolution = number,
        "same_area_similarity" => options.same_area_similarity = number as f32,
        "cohesion_factor" => options.cohesion_factor = number as f32,
        "vote_neighbours" => options.vote_neighbours = number as usize,
        "word_vectors" => options.word_vectors = number as f32,
        "word_vectors_max_words" => options.word_vectors_max_words = number as usize,
        "word_vectors_min_english" => options.word_vectors_min_english = number as f32,
        "word_vector_dims" => options.word_vector_dims = number as usize,
        "word_vector_full_length" => options.word_vector_full_length = number as f32,
        "vectors_resolution" => options.vectors_resolution = number,
        "vectors_same_area_similarity" => options.vectors_same_area_similarity = number as f32,
        "vectors_cohesion_factor" => options.vectors_cohesion_factor = number as f32,
        "vector_candidates" => options.vector_candidates = number as usize,
        other => return Err(format!("--set: no setting {other:?}").into()),
    }
    Ok(())
}

fn files_to_read(args: Vec<PathBuf>) -> Result<Vec<PathBuf>, Box<dyn Error>> {
    if !args.is_empty() {
        return Ok(args);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Ok(vec![root.join("tests/fixtures/coding/sample.csv")])
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

fn evaluate(file: &Path, data: &Labelled, options: &GroupingOptions, by_label: bool) -> Grouping {
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
    let analyzer = Analyzer::new();
    let analysed: Vec<_> = data
        .texts
        .iter()
        .map(|t| analyzer.analyse(t, None))
        .collect();
    let refs: Vec<_> = analysed.iter().collect();
    let profile = Profile::of(&refs, &vec![1; refs.len()]);
    let on = options.word_vectors > 0.0
        && profile.suits_word_vectors(
            options.word_vectors_max_words,
            options.word_vectors_min_english,
        );
    println!(
        "texts: median {} content words, {:.0}% English: word vectors {}",
        profile.median_words,
        100.0 * profile.english,
        if on { "on" } else { "off" }
    );
    println!(
        "{:<34} {:>6} {:>8} {:>7} {:>7} {:>7} {:>12}",
        "method", "areas", "uncoded", "ARI", "NMI", "purity", "mentions/s"
    );

    let data_decides = options.clone();
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
        ..options.clone()
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
    if by_label {
        print_by_label(data, &grouping);
    }
    grouping
}

/// Writes one row per mention of `file` (`file,row,label,area`; area empty
/// when uncoded) to `out`, appending when several files are read, for
/// analysis outside this tool.
fn write_assignments(
    out: &Path,
    file: &Path,
    data: &Labelled,
    grouping: &Grouping,
) -> Result<(), Box<dyn Error>> {
    let fresh = !out.exists();
    let handle = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out)
        .map_err(|e| format!("--assignments {}: {e}", out.display()))?;
    let mut writer = csv::Writer::from_writer(handle);
    if fresh {
        writer.write_record(["file", "row", "label", "area"])?;
    }
    let file = file.display().to_string();
    for (row, assignment) in grouping.assignments.iter().enumerate() {
        let area = assignment.map_or(String::new(), |a| a.proposal.to_string());
        writer.write_record([
            file.as_str(),
            &row.to_string(),
            &data.names[data.labels[row]],
            &area,
        ])?;
    }
    writer.flush()?;
    Ok(())
}

/// For each label split over several areas, the areas its mentions went to and
/// the mentions themselves (with the language they were read in), to see why
/// wordings of one problem did not meet. Only for dev files and fixtures.
fn print_by_label(data: &Labelled, grouping: &Grouping) {
    let analyzer = Analyzer::new();
    println!("\nlabels split over areas (area: mentions, [sv]/[en] as read):");
    for (label, name) in data.names.iter().enumerate() {
        let mut areas: BTreeMap<Option<usize>, Vec<usize>> = BTreeMap::new();
        for (m, a) in grouping.assignments.iter().enumerate() {
            if data.labels[m] == label {
                areas.entry(a.map(|a| a.proposal)).or_default().push(m);
            }
        }
        if areas.len() < 2 {
            continue;
        }
        println!("{name}:");
        for (area, mentions) in &areas {
            let title = area.map_or("(uncoded)", |a| grouping.proposals[a].label.as_str());
            let texts: Vec<String> = mentions
                .iter()
                .map(|&m| {
                    let locale = analyzer.detect_language(&data.texts[m]);
                    format!("[{}] {}", locale.as_str(), data.texts[m])
                })
                .collect();
            println!("  {title}: {}", texts.join(" | "));
        }
    }
}

/// Learned coding: models trained on `training`'s labels code `data`.
fn evaluate_learning(
    train_file: &Path,
    training: &Labelled,
    file: &Path,
    data: &Labelled,
    per_label: usize,
) {
    println!(
        "\n{}: {} mentions, {} labels; learning from {}: {} mentions, {} labels",
        file.display(),
        data.texts.len(),
        data.names.len(),
        train_file.display(),
        training.texts.len(),
        training.names.len()
    );
    let unknown = data
        .labels
        .iter()
        .filter(|&&l| !training.names.contains(&data.names[l]))
        .count();
    if unknown > 0 {
        println!(
            "note: {unknown} of {} mentions have a label the training file lacks; they can never be right",
            data.texts.len()
        );
    }
    println!(
        "{:<34} {:>6} {:>8} {:>7} {:>7} {:>7} {:>12} {:>8} {:>6} {:>9} {:>8}",
        "method",
        "areas",
        "uncoded",
        "ARI",
        "NMI",
        "purity",
        "mentions/s",
        "accuracy",
        "sure",
        "sure acc.",
        "train s"
    );
    let all: Vec<usize> = (0..training.texts.len()).collect();
    let mut taken = vec![0usize; training.names.len()];
    let few: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| {
            let l = training.labels[i];
            taken[l] += 1;
            taken[l] <= per_label
        })
        .collect();
    let analyzer = Analyzer::new();
    let mentions: Vec<MentionText<'_>> = data
        .texts
        .iter()
        .map(|t| MentionText::new(t, None))
        .collect();
    // Truth in the training file's label numbering; labels it lacks get ids
    // past its own, so they are never predicted.
    let truth: Vec<usize> = data
        .labels
        .iter()
        .map(|&l| {
            let name = &data.names[l];
            training
                .names
                .iter()
                .position(|n| n == name)
                .unwrap_or(training.names.len() + l)
        })
        .collect();
    for (title, rows) in [
        (format!("learned, all {} examples", all.len()), &all),
        (
            format!("learned, {per_label} per label ({})", few.len()),
            &few,
        ),
    ] {
        let examples: Vec<MentionText<'_>> = rows
            .iter()
            .map(|&i| MentionText::new(&training.texts[i], None))
            .collect();
        let labels: Vec<usize> = rows.iter().map(|&i| training.labels[i]).collect();
        let started = Instant::now();
        let model = Learned::train(
            &analyzer,
            &examples,
            &labels,
            training.names.len(),
            &LearningOptions::default(),
        );
        let train_secs = started.elapsed().as_secs_f64();
        let (suggestions, rate) = timed(mentions.len(), || model.suggest(&analyzer, &mentions));
        let predicted: Vec<usize> = suggestions
            .iter()
            .map(|s| s.as_ref().map_or(usize::MAX, |s| s.area))
            .collect();
        let right = predicted.iter().zip(&truth).filter(|(p, t)| p == t).count();
        let sure: Vec<usize> = (0..predicted.len())
            .filter(|&m| suggestions[m].as_ref().is_some_and(|s| s.sure))
            .collect();
        let sure_right = sure.iter().filter(|&&m| predicted[m] == truth[m]).count();
        let n = predicted.len().max(1) as f64;
        let areas = predicted
            .iter()
            .filter(|&&p| p != usize::MAX)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        println!(
            "{:<34} {:>6} {:>8} {:>7.3} {:>7.3} {:>7.3} {:>12.0} {:>8.3} {:>6.3} {:>9.3} {:>8.2}",
            title,
            areas,
            predicted.len() - sure.len(),
            adjusted_rand_index(&truth, &predicted),
            normalized_mutual_information(&truth, &predicted),
            purity(&truth, &predicted),
            rate,
            right as f64 / n,
            sure.len() as f64 / n,
            sure_right as f64 / sure.len().max(1) as f64,
            train_secs
        );
    }
    println!("(uncoded here: mentions left for review, unsure or without content words)");
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
