//! `pds cases list|show|ack|resolve|decline|review`: what became of routed complaints,
//! and acting on them from the terminal. Customers' words and notes are printed
//! through `text_safety::for_terminal`.

use clap::Subcommand;

use crate::cases::{self, Action, Actor, Decision, Filter, FollowUp, Note, Status};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::survey::SurveySlug;
use crate::text_safety::for_terminal;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List cases, oldest first.
    List {
        #[arg(long)]
        survey: Option<String>,
        /// A team's id in routing.toml, e.g. logistics.
        #[arg(long)]
        team: Option<String>,
        /// open, acknowledged, resolved or declined; repeat for several.
        #[arg(long)]
        status: Vec<String>,
    },
    /// Show one case with its history, by number or by the reference in its email.
    Show { case: String },
    /// How fast the teams act: per team and per area, median times to
    /// acknowledge and to resolve, the share within the service levels, open
    /// cases by age, each with its n.
    Stats {
        #[arg(long)]
        survey: Option<String>,
    },
    /// Every case as CSV (no names or email addresses; cells safe for spreadsheets).
    Export {
        #[arg(long)]
        survey: Option<String>,
        /// Write to this file instead of the terminal.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Acknowledge a case: the team is looking into it.
    Ack {
        id: i64,
        #[arg(long)]
        note: Option<String>,
        /// Who acts, for the case's history (default: your user name).
        #[arg(long = "as", value_name = "NAME")]
        actor: Option<String>,
    },
    /// Resolve a case; with --note, a customer who agreed to be contacted gets the note by email.
    Resolve {
        id: i64,
        #[arg(long)]
        note: Option<String>,
        #[arg(long = "as", value_name = "NAME")]
        actor: Option<String>,
    },
    /// Release (--approve) or withhold (--reject) a follow-up held for review
    /// (followup_review = true in survey.toml).
    Review {
        id: i64,
        #[arg(long, conflicts_with = "reject", required_unless_present = "reject")]
        approve: bool,
        #[arg(long)]
        reject: bool,
        /// With --approve: the text the customer gets instead of the team's note;
        /// with --reject: why (kept in the case's history).
        #[arg(long)]
        note: Option<String>,
        #[arg(long = "as", value_name = "NAME")]
        actor: Option<String>,
    },
    /// Decline a case, with a note on why (it stays with the study).
    Decline {
        id: i64,
        #[arg(long)]
        note: Option<String>,
        #[arg(long = "as", value_name = "NAME")]
        actor: Option<String>,
    },
}

pub fn run(cmd: Command, settings: &Settings) -> Result<()> {
    let db = super::open_db(settings)?;
    let (id, step, note, actor) = match cmd {
        Command::List {
            survey,
            team,
            status,
        } => return list(&db, survey, team, &status),
        Command::Stats { survey } => return super::case_figures::stats(&db, survey.as_deref()),
        Command::Export { survey, output } => {
            return super::case_figures::export(&db, survey.as_deref(), output.as_ref())
        }
        Command::Show { case } => return show(&db, &case),
        Command::Review {
            id,
            approve,
            reject: _,
            note,
            actor,
        } => {
            let decision = if approve {
                Decision::Approve
            } else {
                Decision::Reject
            };
            (id, Step::Review(decision), note, actor)
        }
        Command::Ack { id, note, actor } => (id, Step::Act(Action::Acknowledge), note, actor),
        Command::Resolve { id, note, actor } => (id, Step::Act(Action::Resolve), note, actor),
        Command::Decline { id, note, actor } => (id, Step::Act(Action::Decline), note, actor),
    };
    take_step(&db, settings, id, step, note.as_deref(), actor)
}

/// `pds cases list`: one line per case that matches.
fn list(
    db: &crate::db::Database,
    survey: Option<String>,
    team: Option<String>,
    status: &[String],
) -> Result<()> {
    let filter = Filter {
        survey: survey
            .map(|s| s.parse::<SurveySlug>().map(|s| s.to_string()))
            .transpose()?,
        team,
        status: status
            .iter()
            .map(|s| s.parse::<Status>().map_err(Error::Invalid))
            .collect::<Result<_>>()?,
    };
    let found = cases::list(&mut *db.conn()?, &filter)?;
    if found.is_empty() {
        println!("No cases match.");
    }
    for c in found {
        println!(
            "{:>5}  {:<12}  {:<10}  {:<12}  {}  rank {}  {}",
            c.id,
            c.status.as_str(),
            c.survey,
            for_terminal(&c.team),
            c.created_at.format("%Y-%m-%d"),
            c.rank,
            excerpt(&for_terminal(&c.text), 60),
        );
    }
    Ok(())
}

/// `pds cases show`: the case, then its history.
fn show(db: &crate::db::Database, case: &str) -> Result<()> {
    let id = cases::id_of(&mut *db.conn()?, case)?;
    let (c, events) = cases::show(&mut *db.conn()?, id)?;
    println!("Case {}: {}", c.id, c.status.as_str());
    if let Some(r) = &c.reference {
        println!("Reference: {r}");
    }
    println!(
        "Survey: {} ({}), wave {}",
        c.survey,
        for_terminal(&c.survey_title),
        c.wave
    );
    println!(
        "Team: {} ({})",
        for_terminal(&c.team_name),
        for_terminal(&c.team)
    );
    println!("Rank: {}", c.rank);
    if let Some(area) = &c.area {
        println!("Area: {}", for_terminal(area));
    }
    println!(
        "Customer agreed to be contacted: {}",
        if c.may_contact { "yes" } else { "no" }
    );
    println!("Words: {}", for_terminal(&c.text));
    println!("History:");
    for e in events {
        let note = e
            .note
            .map(|n| format!(": {}", for_terminal(&n)))
            .unwrap_or_default();
        let who = match e.actor_kind.as_str() {
            "rule" => format!("routing rule {:?}", e.actor_name),
            "team" => format!("{} (email link)", e.actor_name),
            "api" => format!("API key {:?}", e.actor_name),
            "cli" => format!("{} (command line)", e.actor_name),
            other => other.to_string(),
        };
        println!(
            "  {}  {}  {}{}",
            e.at.format("%Y-%m-%d %H:%M:%S"),
            for_terminal(&who),
            e.action,
            note
        );
    }
    Ok(())
}

/// A step on a case from the command line.
enum Step {
    /// `pds cases ack|resolve|decline`.
    Act(Action),
    /// `pds cases review --approve|--reject`.
    Review(Decision),
}

/// Takes `step` on case `id` with its `--note`, by the one named with `--as`
/// (else `$USER`), then says what became of the customer's follow-up.
fn take_step(
    db: &crate::db::Database,
    settings: &Settings,
    id: i64,
    step: Step,
    note: Option<&str>,
    actor: Option<String>,
) -> Result<()> {
    let note = Note::parse(note.unwrap_or("")).map_err(|e| {
        Error::Invalid(match step {
            Step::Act(_) => e.to_string(),
            Step::Review(_) => format!("--note: {e}"),
        })
    })?;
    let actor = actor
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into());
    let actor = Actor::Cli(&actor);
    match step {
        Step::Act(action) => {
            let what = cases::CaseAction {
                id,
                action,
                note: note.as_ref(),
                actor,
            };
            let acted = cases::act(db, settings, what)?;
            say_acted(&acted);
        }
        Step::Review(decision) => {
            let done = cases::review(db, settings, id, decision, note.as_ref(), actor)?;
            say_reviewed(id, done.follow_up);
        }
    }
    Ok(())
}

fn say_acted(acted: &cases::Acted) {
    println!(
        "Case {} is now {}.",
        acted.case.id,
        acted.case.status.as_str()
    );
    match &acted.follow_up {
        Some(FollowUp::Queued) => {
            println!("The customer's follow-up email is queued; the worker sends it.")
        }
        Some(FollowUp::Skipped(why)) => {
            println!("No follow-up to the customer: {}.", why.describe())
        }
        Some(FollowUp::AwaitingReview) => println!(
            "The customer's follow-up awaits review: pds cases review {} --approve (or --reject).",
            acted.case.id
        ),
        None => {}
    }
}

fn say_reviewed(id: i64, follow_up: Option<FollowUp>) {
    match follow_up {
        Some(FollowUp::Queued) => println!(
            "Case {id}: follow-up approved; the customer's email is queued and the worker sends it."
        ),
        Some(FollowUp::Skipped(why)) => println!(
            "Case {id}: follow-up approved, but not sent: {}.",
            why.describe()
        ),
        Some(FollowUp::AwaitingReview) | None => {
            println!("Case {id}: follow-up rejected; the customer gets no email.")
        }
    }
}

fn excerpt(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(chars).collect::<String>())
    }
}
