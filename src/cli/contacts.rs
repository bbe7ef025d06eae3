//! `pds contacts import FILE.csv` and `pds contacts erase EMAIL`.

use std::path::PathBuf;

use clap::Subcommand;

use crate::audience::Audience;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::invite::{contacts, privacy, EmailAddress};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import contacts from CSV: columns email,name,locale, then any segment columns.
    Import {
        file: PathBuf,
        /// Import the valid rows even if some rows are invalid (they are listed).
        #[arg(long)]
        skip_invalid: bool,
        /// Whose contacts these are: customers, or staff (who answer a checklist
        /// as they think customers would and never count as customers).
        #[arg(long, value_enum, default_value_t = Audience::Customer)]
        audience: Audience,
    },
    /// Erase a contact's personal data; their answers stay, anonymous.
    Erase { email: EmailAddress },
}

pub fn run(cmd: Command, settings: &Settings) -> Result<()> {
    match cmd {
        Command::Import {
            file,
            skip_invalid,
            audience,
        } => {
            let reader = std::fs::File::open(&file).map_err(|e| Error::io(&file, e))?;
            let db = super::open_db(settings)?;
            let bar = super::progress("contacts");
            let name = file.display().to_string();
            let report = contacts::import_audience(
                &db,
                reader,
                &name,
                skip_invalid,
                audience.as_str(),
                &bar,
            )?;
            bar.finish_and_clear();
            for line in &report.skipped {
                eprintln!("skipped {line}");
            }
            println!(
                "Imported {} new and updated {} known {} contacts from {}{}.",
                report.inserted,
                report.updated,
                audience.as_str(),
                file.display(),
                if report.skipped.is_empty() {
                    String::new()
                } else {
                    format!("; skipped {} invalid rows", report.skipped.len())
                }
            );
            Ok(())
        }
        Command::Erase { email } => {
            let db = super::open_db(settings)?;
            let report = privacy::erase(&db, &email)?;
            println!(
                "Erased contact {}: {} answer(s) unlinked and kept anonymous, {} invitation(s) kept for response rates, {} personal link(s) revoked, {} email(s) scrubbed ({} cancelled before sending), {} unsent checklist draft(s) deleted.",
                report.contact_id,
                report.responses_unlinked,
                report.invitations_kept,
                report.links_revoked,
                report.emails_scrubbed,
                report.emails_cancelled,
                report.drafts_deleted,
            );
            Ok(())
        }
    }
}
