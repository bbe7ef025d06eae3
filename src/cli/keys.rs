//! `pds keys create|list|revoke`: API keys for the admin API (`/api/`).

use clap::Subcommand;

use crate::config::Settings;
use crate::error::Result;
use crate::keys::{self, KeyName};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a key and print it once (only its hash is stored).
    Create {
        /// A name to recognise the key by, e.g. dashboard or ci-export.
        #[arg(long)]
        name: String,
    },
    /// List keys: name, created, last used, revoked (never the key itself).
    List,
    /// Revoke a key: from now on it opens nothing.
    Revoke { name: String },
}

fn when(t: Option<chrono::NaiveDateTime>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}

pub fn run(cmd: Command, settings: &Settings) -> Result<()> {
    let db = super::open_db(settings)?;
    match cmd {
        Command::Create { name } => {
            let name: KeyName = name.parse()?;
            let key = keys::create(&db, &name)?;
            println!("{}", key.reveal());
            eprintln!(
                "Created key {:?}. It is shown only now: keep it somewhere safe. \
                 Send it as `Authorization: Bearer KEY`; revoke it with pds keys revoke {}.",
                name.as_str(),
                name.as_str()
            );
        }
        Command::List => {
            let all = keys::list(&mut *db.conn()?)?;
            if all.is_empty() {
                println!("No keys yet; create one with pds keys create --name NAME.");
                return Ok(());
            }
            println!(
                "{:<24} {:<19}  {:<19}  {:<19}",
                "name", "created (UTC)", "last used", "revoked"
            );
            for k in all {
                println!(
                    "{:<24} {:<19}  {:<19}  {:<19}",
                    k.name,
                    when(Some(k.created_at)),
                    when(k.last_used_at),
                    when(k.revoked_at)
                );
            }
        }
        Command::Revoke { name } => {
            let name: KeyName = name.parse()?;
            let info = keys::revoke(&db, &name)?;
            println!(
                "Key {:?} is revoked (since {} UTC); requests with it get 401.",
                info.name,
                when(info.revoked_at)
            );
        }
    }
    Ok(())
}
