//! `pds remind --survey SLUG --wave W --after 5d [--max 2]`.

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::survey::{store, SurveySlug, WaveLabel};
use crate::{invite, mail};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    survey: String,
    #[arg(long)]
    wave: String,
    /// Remind those whose last email is at least this old: e.g. 5d, 36h, 90m.
    #[arg(long, default_value = "5d")]
    after: String,
    /// The most reminders one contact gets for a wave.
    #[arg(long, default_value_t = 2)]
    max: u32,
    /// Only queue the emails; a running `pds serve` or `pds worker` delivers them.
    #[arg(long)]
    queue_only: bool,
}

/// Parses `--after`: a duration such as `5d`, `36h`, `90m` or `0s`.
pub fn parse_age(text: &str) -> Result<chrono::Duration> {
    invite::parse_age(text).ok_or_else(|| {
        Error::Invalid(format!(
            "--after {text:?}: write a number and a unit (d, h, m for minutes, s), e.g. 5d, 36h or 90m"
        ))
    })
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let slug: SurveySlug = args.survey.parse()?;
    let wave: WaveLabel = args.wave.parse()?;
    let after = parse_age(&args.after)?;
    let db = super::open_db(settings)?;
    let survey = store::find(&mut *db.conn()?, &slug)?;
    let bar = super::progress("reminders");
    let r = invite::remind(&db, settings, &survey, &wave, after, args.max, &bar)?;
    bar.finish_and_clear();
    println!(
        "Queued {} reminders for {} wave {wave} ({} answered, {} unsubscribed, {} emailed less than {} ago, {} reminded {} times already, {} invited to another survey within contact_at_most_every).",
        r.queued, survey.slug, r.answered, r.unsubscribed, r.too_recent, args.after, r.reminded_enough, args.max, r.contacted_recently
    );
    if !args.queue_only {
        let transport = mail::Transport::from_settings(settings)?;
        let delivered = mail::deliver_due(&db, settings, &transport)?;
        println!("Delivered {} emails.", delivered.sent);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_need_a_unit() {
        assert_eq!(parse_age("5d").unwrap(), chrono::Duration::days(5));
        assert_eq!(parse_age("0s").unwrap(), chrono::Duration::zero());
        assert!(parse_age("5").unwrap_err().to_string().contains("unit"));
        assert!(parse_age("d").is_err());
    }
}
