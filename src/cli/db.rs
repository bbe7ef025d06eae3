//! `pds db copy --to postgres://...`: moves the whole installation into an empty
//! PostgreSQL database (see `db::copy`) and prints what was copied and verified.

use clap::Subcommand;

use crate::config::{DatabaseUrl, Settings};
use crate::db::copy;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Copy every table into an empty PostgreSQL database, verifying each one.
    Copy {
        /// The empty target, e.g. postgres://pds@db.example/pds.
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

pub fn run(cmd: Command, settings: &Settings) -> Result<()> {
    let Command::Copy { to } = cmd;
    let target = DatabaseUrl::parse(&to)?;
    let source = super::open_db(settings)?;
    let bar = super::progress("copying");
    let copied = copy::copy(&source, &target, &mut |table, done, total| {
        bar.set_message(table.to_string());
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    println!(
        "Copied {} into {}; every table verified (rows and SHA-256 of every value):",
        settings.database_url.redacted(),
        target.redacted()
    );
    for table in &copied {
        println!(
            "  {:<20} {:>10} rows  {}",
            table.table,
            table.rows,
            &table.checksum[..16]
        );
    }
    println!(
        "Point database_url (or PDS_DATABASE_URL) at {} and start pds serve there.",
        target.redacted()
    );
    Ok(())
}
