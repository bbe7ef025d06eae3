//! `pds areas list|show|rename|merge|split|move|accept|codebook|log --survey SLUG`:
//! the analyst's view of a survey's problem areas and their decisions. Every
//! decision marks the mentions it touches `coded_by = analyst` with the time, so
//! `pds code` never undoes it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Subcommand;
use serde::Serialize;

use crate::coding::store::{self, Decision, StoredArea, StoredMention, SurveyCodebook};
use crate::config::Settings;
use crate::db::Database;
use crate::error::{Error, Result};
use crate::survey::{store as survey_store, StoredSurvey, SurveySlug};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The survey's areas, largest first, and how many mentions are not coded.
    List {
        #[arg(long)]
        survey: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One area: its labels, how many mentions, and example mentions as written.
    Show {
        #[arg(long)]
        survey: String,
        /// The area: its id, codebook id or label.
        area: String,
        /// How many mentions to show (0: all).
        #[arg(long, default_value_t = 10)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Give an area a new label (and accept it).
    Rename {
        #[arg(long)]
        survey: String,
        area: String,
        label: String,
    },
    /// Move every mention of one area into another; the first area goes away.
    Merge {
        #[arg(long)]
        survey: String,
        /// The area to merge away.
        from: String,
        /// The area that takes its mentions.
        into: String,
    },
    /// Move chosen mentions of an area into a new area.
    Split {
        #[arg(long)]
        survey: String,
        area: String,
        /// Mention ids (as `pds areas show` lists them), e.g. 12,13.
        #[arg(long, value_delimiter = ',', required = true)]
        mentions: Vec<i64>,
        /// The new area's label.
        #[arg(long)]
        label: String,
    },
    /// Move mentions (coded or not) to an area.
    Move {
        #[arg(long)]
        survey: String,
        #[arg(long, value_delimiter = ',', required = true)]
        mentions: Vec<i64>,
        #[arg(long)]
        to: String,
    },
    /// Accept areas as they are: the area and its mentions become the analyst's.
    Accept {
        #[arg(long)]
        survey: String,
        #[arg(required_unless_present = "all")]
        areas: Vec<String>,
        /// Accept every area.
        #[arg(long, conflicts_with = "areas")]
        all: bool,
    },
    /// Print the survey's codebook, or replace it with FILE (validated first).
    Codebook {
        #[arg(long)]
        survey: String,
        file: Option<PathBuf>,
    },
    /// The analysts' decisions, oldest first.
    Log {
        #[arg(long)]
        survey: String,
    },
    /// "You said, we did": tell the respondents who mentioned an area (and agreed
    /// to be contacted) what was done about it.
    Announce(super::announce::Args),
}

pub fn run(cmd: Command, settings: &Settings) -> Result<()> {
    let db = super::open_db(settings)?;
    let find = |slug: &str| -> Result<StoredSurvey> {
        survey_store::find(&mut *db.conn()?, &slug.parse::<SurveySlug>()?)
    };
    match cmd {
        Command::List { survey, json } => list(&db, &find(&survey)?, json),
        Command::Show {
            survey,
            area,
            limit,
            json,
        } => show(&db, &find(&survey)?, &area, limit, json),
        Command::Rename {
            survey,
            area,
            label,
        } => rename(&db, &find(&survey)?, &area, label),
        Command::Merge { survey, from, into } => merge(&db, &find(&survey)?, &from, &into),
        Command::Split {
            survey,
            area,
            mentions,
            label,
        } => split(&db, &find(&survey)?, &area, mentions, label),
        Command::Move {
            survey,
            mentions,
            to,
        } => move_mentions(&db, &find(&survey)?, mentions, &to),
        Command::Accept { survey, areas, all } => accept(&db, &find(&survey)?, &areas, all),
        Command::Codebook { survey, file } => codebook(&db, &find(&survey)?, file),
        Command::Log { survey } => log(&db, &find(&survey)?),
        Command::Announce(args) => super::announce::run(args, settings),
    }
}

fn rename(db: &Database, survey: &StoredSurvey, area: &str, label: String) -> Result<()> {
    let area = area_named(db, survey, area)?;
    store::decide(
        db,
        survey,
        &Decision::Rename {
            area: area.id,
            label: label.clone(),
        },
    )?;
    println!(
        "Area {} is now called {:?} (was {:?}).",
        area.id,
        label.trim(),
        area.label
    );
    Ok(())
}

fn merge(db: &Database, survey: &StoredSurvey, from: &str, into: &str) -> Result<()> {
    let (from, into) = (area_named(db, survey, from)?, area_named(db, survey, into)?);
    let done = store::decide(
        db,
        survey,
        &Decision::Merge {
            from: from.id,
            into: into.id,
        },
    )?;
    println!(
        "Merged {:?} (area {}) into {:?} (area {}): {} mentions moved.",
        from.label, from.id, into.label, into.id, done.mentions
    );
    Ok(())
}

fn split(
    db: &Database,
    survey: &StoredSurvey,
    area: &str,
    mentions: Vec<i64>,
    label: String,
) -> Result<()> {
    let area = area_named(db, survey, area)?;
    let done = store::decide(
        db,
        survey,
        &Decision::Split {
            area: area.id,
            mentions,
            label: label.clone(),
        },
    )?;
    println!(
        "Split {} mentions of {:?} into the new area {} {:?}.",
        done.mentions,
        area.label,
        done.area.unwrap_or_default(),
        label.trim()
    );
    Ok(())
}

fn move_mentions(db: &Database, survey: &StoredSurvey, mentions: Vec<i64>, to: &str) -> Result<()> {
    let to = area_named(db, survey, to)?;
    let done = store::decide(
        db,
        survey,
        &Decision::Move {
            mentions,
            to: to.id,
        },
    )?;
    println!(
        "Moved {} mentions to {:?} (area {}).",
        done.mentions, to.label, to.id
    );
    Ok(())
}

fn accept(db: &Database, survey: &StoredSurvey, areas: &[String], all: bool) -> Result<()> {
    let ids: Vec<i64> = if all {
        store::areas_of(&mut *db.conn()?, survey.id)?
            .into_iter()
            .filter(|a| a.status != store::MERGED)
            .map(|a| a.id)
            .collect()
    } else {
        areas
            .iter()
            .map(|a| area_named(db, survey, a).map(|a| a.id))
            .collect::<Result<_>>()?
    };
    if ids.is_empty() {
        println!(
            "Survey {} has no areas yet; run `pds code --survey {}` first.",
            survey.slug, survey.slug
        );
        return Ok(());
    }
    let done = store::decide(db, survey, &Decision::Accept { areas: ids.clone() })?;
    println!(
        "Accepted {} area(s); {} mentions are now the analyst's and stay when coding runs again.",
        ids.len(),
        done.mentions
    );
    Ok(())
}

/// Prints the survey's codebook, or replaces it with `file`.
fn codebook(db: &Database, survey: &StoredSurvey, file: Option<PathBuf>) -> Result<()> {
    let Some(file) = file else {
        match store::load_codebook(&mut *db.conn()?, survey.id)? {
            Some(c) => print!("{}", c.source),
            None => println!(
                "Survey {} has no codebook; add one with `pds areas codebook --survey {} codebook.toml`.",
                survey.slug, survey.slug
            ),
        }
        return Ok(());
    };
    let source = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
    let codebook = SurveyCodebook::parse(&source, &file.display().to_string())
        .map_err(|e| Error::Invalid(e.to_string()))?;
    db.write(|conn| store::save_codebook(conn, survey.id, &codebook))?;
    println!(
        "Survey {} now has a codebook of {} areas; run `pds code --survey {}` to apply it.",
        survey.slug,
        codebook.codebook.areas.len(),
        survey.slug
    );
    Ok(())
}

fn log(db: &Database, survey: &StoredSurvey) -> Result<()> {
    let log = store::decisions_of(&mut *db.conn()?, survey.id)?;
    if log.is_empty() {
        println!("No analyst decisions yet for survey {}.", survey.slug);
    }
    for d in log {
        println!(
            "{}  {:<7} area {:>5}  {}",
            d.decided_at.format("%Y-%m-%d %H:%M:%S"),
            d.action,
            d.area_id.map(|a| a.to_string()).unwrap_or_default(),
            one_line(&d.detail)
        );
    }
    Ok(())
}

fn area_named(db: &Database, survey: &StoredSurvey, wanted: &str) -> Result<StoredArea> {
    let areas = store::areas_of(&mut *db.conn()?, survey.id)?;
    store::find_area(&areas, &survey.slug, wanted)
}

#[derive(Debug, Serialize)]
struct AreaLine {
    id: i64,
    key: String,
    label: String,
    labels: BTreeMap<String, String>,
    origin: String,
    status: String,
    team: Option<String>,
    mentions: usize,
    /// Mentions per `coded_by`.
    coded_by: BTreeMap<String, usize>,
}

#[derive(Debug, Serialize)]
struct Listing {
    survey: String,
    mentions: usize,
    coded: usize,
    /// Mentions that arrived since coding last ran.
    not_yet_coded: usize,
    /// Mentions coding ran on and could not place.
    not_placed: usize,
    areas: Vec<AreaLine>,
}

fn listing(db: &Database, survey: &StoredSurvey) -> Result<(Listing, Vec<StoredMention>)> {
    let mut conn = db.conn()?;
    let areas = store::areas_of(&mut conn, survey.id)?;
    let mentions = store::mentions_of(&mut conn, survey.id)?;
    let mut lines: Vec<AreaLine> = areas
        .iter()
        .filter(|a| a.status != store::MERGED)
        .map(|a| AreaLine {
            id: a.id,
            key: a.key.clone(),
            label: a.label.clone(),
            labels: a.labels(),
            origin: a.origin.clone(),
            status: a.status.clone(),
            team: a.team.clone(),
            mentions: 0,
            coded_by: BTreeMap::new(),
        })
        .collect();
    let index: BTreeMap<i64, usize> = lines.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
    let (mut not_yet, mut not_placed) = (0, 0);
    for m in &mentions {
        match m.area_id.and_then(|id| index.get(&id)) {
            Some(&i) => {
                lines[i].mentions += 1;
                *lines[i]
                    .coded_by
                    .entry(m.coded_by.clone().unwrap_or_else(|| "-".into()))
                    .or_default() += 1;
            }
            None if m.coded_by.is_none() => not_yet += 1,
            None => not_placed += 1,
        }
    }
    lines.sort_by(|a, b| b.mentions.cmp(&a.mentions).then(a.id.cmp(&b.id)));
    Ok((
        Listing {
            survey: survey.slug.clone(),
            mentions: mentions.len(),
            coded: mentions.len() - not_yet - not_placed,
            not_yet_coded: not_yet,
            not_placed,
            areas: lines,
        },
        mentions,
    ))
}

fn list(db: &Database, survey: &StoredSurvey, json: bool) -> Result<()> {
    let (listing, _) = listing(db, survey)?;
    if json {
        println!("{}", to_json(&listing)?);
        return Ok(());
    }
    if listing.areas.is_empty() {
        println!("Survey {} has no areas yet.", survey.slug);
    } else {
        println!(
            "{:>5}  {:>8}  {:<9}  {:<9}  area",
            "id", "mentions", "status", "origin"
        );
        for a in &listing.areas {
            let others: Vec<String> = a
                .labels
                .values()
                .filter(|l| **l != a.label)
                .map(|l| one_line(l))
                .collect();
            println!(
                "{:>5}  {:>8}  {:<9}  {:<9}  {}{}{}",
                a.id,
                a.mentions,
                a.status,
                a.origin,
                one_line(&a.label),
                if others.is_empty() {
                    String::new()
                } else {
                    format!(" / {}", others.join(" / "))
                },
                a.team
                    .as_deref()
                    .map(|t| format!("  [team {t}]"))
                    .unwrap_or_default()
            );
        }
    }
    println!(
        "{} mentions: {} in {} areas, {} not yet coded, {} that coding could not place.",
        listing.mentions,
        listing.coded,
        listing.areas.len(),
        listing.not_yet_coded,
        listing.not_placed
    );
    if listing.not_yet_coded > 0 {
        println!("Run `pds code --survey {}` to code them.", survey.slug);
    }
    if listing.not_placed > 0 {
        println!(
            "Place the others with `pds areas move --survey {} --mentions ID,... --to AREA`.",
            survey.slug
        );
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct MentionLine<'a> {
    id: i64,
    /// Exactly as the customer wrote it.
    text: &'a str,
    coded_by: Option<&'a str>,
    note: Option<&'a str>,
    coded_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    area: &'a AreaLine,
    shown: Vec<MentionLine<'a>>,
}

fn show(
    db: &Database,
    survey: &StoredSurvey,
    wanted: &str,
    limit: usize,
    json: bool,
) -> Result<()> {
    let area = area_named(db, survey, wanted)?;
    let (listing, mentions) = listing(db, survey)?;
    let line = listing
        .areas
        .iter()
        .find(|a| a.id == area.id)
        .ok_or_else(|| Error::NotFound(format!("area {} has gone", area.id)))?;
    let limit = if limit == 0 { usize::MAX } else { limit };
    let shown: Vec<MentionLine<'_>> = mentions
        .iter()
        .filter(|m| m.area_id == Some(area.id))
        .take(limit)
        .map(|m| MentionLine {
            id: m.id,
            text: &m.text,
            coded_by: m.coded_by.as_deref(),
            note: m.note.as_deref(),
            coded_at: m
                .coded_at
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
        })
        .collect();
    if json {
        println!("{}", to_json(&Shown { area: line, shown })?);
        return Ok(());
    }
    println!("Area {}: {}", line.id, one_line(&line.label));
    for (locale, label) in &line.labels {
        println!("  label.{locale}: {}", one_line(label));
    }
    println!(
        "  {} ({}), key {}{}",
        line.status,
        line.origin,
        line.key,
        line.team
            .as_deref()
            .map(|t| format!(", team {t}"))
            .unwrap_or_default()
    );
    let how: Vec<String> = line
        .coded_by
        .iter()
        .map(|(by, n)| format!("{n} by {by}"))
        .collect();
    println!("  {} mentions: {}", line.mentions, how.join(", "));
    println!(
        "  {} of them, as written ([id] coded by: why):",
        shown.len()
    );
    for m in &shown {
        println!(
            "  [{}] {}: {}\n       {}",
            m.id,
            m.coded_by.unwrap_or("-"),
            one_line(m.note.unwrap_or("")),
            one_line(m.text)
        );
    }
    Ok(())
}

/// Labels, notes and mention texts on one line, safe for a terminal.
fn one_line(text: &str) -> String {
    crate::text_safety::for_terminal(text)
}

fn to_json(value: &impl Serialize) -> Result<String> {
    serde_json::to_string_pretty(value).map_err(|e| Error::Invalid(e.to_string()))
}
