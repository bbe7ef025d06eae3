//! `pds purge --older-than 2y [--dry-run]`: data minimisation on a schedule.

use clap::Parser;

use crate::config::Settings;
use crate::error::Result;
use crate::invite::privacy;

#[derive(Debug, Parser)]
pub struct Args {
    /// Erase contacts not imported, invited or heard from for this long, and delete
    /// sent and cancelled email older than this: a number and d, w, m (30 days) or
    /// y (365 days), e.g. 2y or 18m.
    #[arg(long, value_name = "AGE", value_parser = privacy::parse_retention)]
    older_than: chrono::Duration,
    /// Only count what would be erased and deleted.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let db = super::open_db(settings)?;
    let report = privacy::purge(&db, args.older_than, args.dry_run)?;
    let verb = if args.dry_run {
        "Would erase"
    } else {
        "Erased"
    };
    println!(
        "{verb} {} contact(s) ({} answer(s) unlinked, kept anonymous) and {} {} old email(s).",
        report.contacts_erased,
        report.responses_unlinked,
        if args.dry_run {
            "would delete"
        } else {
            "deleted"
        },
        report.outbox_deleted,
    );
    Ok(())
}
