//! The command-line door: one file per subcommand. Each parses its arguments into
//! domain types, calls a capability, and prints what happened. Errors become a
//! message on stderr and an exit code (2: fix your input or settings; 1: other).

mod announce;
mod areas;
mod case_figures;
mod cases;
mod checklist;
mod code;
mod contacts;
mod db;
mod demo;
mod export;
mod invite;
mod keys;
mod outbox;
mod plan;
mod purge;
mod remind;
mod responses;
mod results;
mod route;
mod serve;
mod survey;
mod worker;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::db::Database;
use crate::error::Result;

#[derive(Debug, Parser)]
#[command(
    name = "pds",
    version,
    about = "Problem Detection Study engine: emailed surveys, customers' own words, ranked improvement areas"
)]
pub struct Cli {
    /// Settings file (default: pds.toml in the current folder, if present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a whole demo study in a fresh folder: invitations, answers, ranked areas, CSV.
    Demo(demo::Args),
    /// Serve the answer form (and deliver queued email) over HTTP.
    Serve(serve::Args),
    /// Create, check and list surveys.
    #[command(subcommand)]
    Survey(survey::Command),
    /// Import contacts, or erase one.
    #[command(subcommand)]
    Contacts(contacts::Command),
    /// Invite contacts to a survey wave by email.
    Invite(invite::Args),
    /// Remind contacts who have not answered a wave.
    Remind(remind::Args),
    /// Show, test and change a survey's routing rules.
    #[command(subcommand)]
    Route(route::Command),
    /// Show the email outbox, or requeue failed messages.
    #[command(subcommand)]
    Outbox(outbox::Command),
    /// Deliver queued email and exit, or keep running.
    Worker(worker::Args),
    /// Show ranked problem areas for a survey, with rank stability, segments and waves.
    Results(results::Args),
    /// Export ranked areas, mentions or responses as CSV (with --excel for Excel).
    Export(export::Args),
    /// Plan discovery interviews: the chance of hearing a problem of a given incidence.
    Plan(plan::Args),
    /// Import responses collected elsewhere (phone, paper, another tool).
    #[command(subcommand)]
    Responses(responses::Command),
    /// Code mentions into problem areas: codebook rules, then automatic grouping.
    Code(code::Args),
    /// List, inspect and decide problem areas (rename, merge, split, move, accept).
    #[command(subcommand)]
    Areas(areas::Command),
    /// List routed complaints as cases, and acknowledge, resolve or decline them.
    #[command(subcommand)]
    Cases(cases::Command),
    /// Draft a checklist survey (phase 2) from a coded discovery survey's areas.
    #[command(subcommand)]
    Checklist(checklist::Command),
    /// Create, list and revoke API keys for the admin API.
    #[command(subcommand)]
    Keys(keys::Command),
    /// Erase contacts not heard from for a while, and delete old sent email.
    Purge(purge::Args),
    /// Move the whole installation into an empty PostgreSQL database.
    #[command(subcommand)]
    Db(db::Command),
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let verbose = matches!(cli.command, Command::Serve(_) | Command::Worker(_));
    if !matches!(
        cli.command,
        Command::Serve(_) | Command::Worker(_) | Command::Demo(_)
    ) {
        end_quietly_on_closed_pipe();
    }
    init_tracing(verbose);
    let result = match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Plan(args) => plan::run(args),
        command => Settings::load(cli.config.as_deref()).and_then(|settings| match command {
            Command::Serve(args) => serve::run(args, settings),
            Command::Survey(cmd) => survey::run(cmd, &settings),
            Command::Contacts(cmd) => contacts::run(cmd, &settings),
            Command::Invite(args) => invite::run(args, &settings),
            Command::Remind(args) => remind::run(args, &settings),
            Command::Route(cmd) => route::run(cmd, &settings),
            Command::Outbox(cmd) => outbox::run(cmd, &settings),
            Command::Worker(args) => worker::run(args, &settings),
            Command::Results(args) => results::run(args, &settings),
            Command::Export(args) => export::run(args, &settings),
            Command::Responses(cmd) => responses::run(cmd, &settings),
            Command::Code(args) => code::run(args, &settings),
            Command::Areas(cmd) => areas::run(cmd, &settings),
            Command::Keys(cmd) => keys::run(cmd, &settings),
            Command::Cases(cmd) => cases::run(cmd, &settings),
            Command::Checklist(cmd) => checklist::run(cmd, &settings),
            Command::Purge(args) => purge::run(args, &settings),
            Command::Db(cmd) => db::run(cmd, &settings),
            Command::Demo(_) | Command::Plan(_) => unreachable!("handled above"),
        }),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// `pds export ... | head` closes the pipe after ten lines: like `cat` or `grep`,
/// the command should then just end, not panic in `println!`. Rust ignores
/// SIGPIPE so that writes fail instead; commands that only print get the default
/// back (the process ends quietly on a closed pipe). The server, the worker and
/// the demo keep Rust's choice: a client or SMTP server going away must be an
/// error they handle, never their end.
fn end_quietly_on_closed_pipe() {
    // SAFETY: called once at start, before any thread is spawned; it only restores
    // the default disposition of one signal.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn init_tracing(verbose: bool) {
    let default = if verbose { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PDS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colours only on a terminal: a log file or journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}

fn open_db(settings: &Settings) -> Result<Database> {
    Database::open(&settings.database_url)
}

/// A progress bar on the terminal; invisible when output is not a terminal.
fn progress(what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len} {per_sec}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}
