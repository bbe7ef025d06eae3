//! `pds areas announce --survey S --area ID --wave W[,W2] --text-sv "..." --text-en "..."`:
//! "you said, we did" for the respondents who mentioned an area and agreed to be
//! contacted. `--send-now` sends what is pending without waiting for the hold
//! (alone: only that).

use std::collections::BTreeMap;

use crate::cases::announce::{self, NewAnnouncement};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::mail;
use crate::survey::{store, SurveySlug, WaveLabel};
use crate::text_safety::for_terminal;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    survey: String,
    /// The area improved: its id, codebook id or label (see pds areas list).
    #[arg(long, required_unless_present = "send_now")]
    area: Option<String>,
    /// The wave(s) whose respondents hear of it, e.g. 2026-H1,2026-H2.
    #[arg(long, value_delimiter = ',', required_unless_present = "send_now")]
    wave: Vec<String>,
    /// What was done, in Swedish (one text per language of the survey).
    #[arg(long)]
    text_sv: Option<String>,
    /// What was done, in English.
    #[arg(long)]
    text_en: Option<String>,
    /// Send every pending announcement now instead of after the hour the worker
    /// waits for other announcements to combine with.
    #[arg(long)]
    send_now: bool,
    /// Who announces, for the record (default: your user name).
    #[arg(long = "as", value_name = "NAME")]
    actor: Option<String>,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let slug: SurveySlug = args.survey.parse()?;
    let db = super::open_db(settings)?;
    let survey = store::find(&mut *db.conn()?, &slug)?;
    if let Some(area) = &args.area {
        let waves: Vec<WaveLabel> = args
            .wave
            .iter()
            .map(|w| w.parse().map_err(Error::from))
            .collect::<Result<_>>()?;
        let texts: BTreeMap<String, String> = [("sv", &args.text_sv), ("en", &args.text_en)]
            .into_iter()
            .filter_map(|(l, t)| t.clone().map(|t| (l.to_string(), t)))
            .collect();
        let actor = args
            .actor
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "unknown".into());
        let done = announce::announce(
            &db,
            &survey,
            &NewAnnouncement {
                area,
                waves: &waves,
                texts: &texts,
                actor: &format!("cli:{actor}"),
            },
        )
        .map_err(with_flags)?;
        println!(
            "Announced area {} ({}) for wave {}: {} contacts will hear of it ({} mentioned it without agreeing to be contacted, {} have unsubscribed).",
            done.area_id,
            for_terminal(&done.area),
            done.waves.join(", "),
            done.contacts,
            done.without_consent,
            done.unsubscribed
        );
    }
    if args.send_now {
        let sent = announce::send_pending(&db, settings, chrono::Duration::zero())?;
        println!(
            "Queued {} announcement emails ({} skipped: already told about that wave, {} unsubscribed).",
            sent.emails, sent.already_told, sent.unsubscribed
        );
        let transport = mail::Transport::from_settings(settings)?;
        let delivered = mail::deliver_due(&db, settings, &transport)?;
        println!("Delivered {} emails.", delivered.sent);
    } else if args.area.is_some() {
        println!(
            "The worker (pds serve or pds worker) sends it within the hour, together with any other area announced meanwhile; --send-now sends at once."
        );
    }
    Ok(())
}

/// The capability's words with the flags that fix them.
fn with_flags(e: Error) -> Error {
    match e {
        Error::Invalid(m) if m.starts_with("the sv text") || m.starts_with("the en text") => {
            let flag = if m.starts_with("the sv") {
                "--text-sv"
            } else {
                "--text-en"
            };
            Error::Invalid(format!("{flag}: {m}"))
        }
        Error::Invalid(m) if m.starts_with("no text in") => {
            Error::Invalid(format!("{m} (give --text-sv and --text-en)"))
        }
        other => other,
    }
}
