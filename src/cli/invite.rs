//! `pds invite --survey SLUG --wave LABEL [--segment key=value]`.

use crate::audience::Audience;
use crate::config::Settings;
use crate::error::Result;
use crate::invite::{self, SegmentFilter};
use crate::mail;
use crate::survey::{store, SurveySlug, WaveLabel};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    survey: String,
    /// The wave label, e.g. 2026-H2 (created on first use).
    #[arg(long)]
    wave: String,
    /// Invite only contacts whose segment column has this value, e.g. customer_type=current.
    #[arg(long, value_name = "KEY=VALUE")]
    segment: Option<String>,
    /// Only queue the emails; a running `pds serve` or `pds worker` delivers them.
    #[arg(long)]
    queue_only: bool,
    /// Invite customers, or staff (imported with `pds contacts import --audience
    /// staff`), who get the staff wording and never count as customers.
    #[arg(long, value_enum, default_value_t = Audience::Customer)]
    audience: Audience,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let slug: SurveySlug = args.survey.parse()?;
    let wave: WaveLabel = args.wave.parse()?;
    let segment: Option<SegmentFilter> = args.segment.as_deref().map(str::parse).transpose()?;
    let db = super::open_db(settings)?;
    let survey = store::find(&mut *db.conn()?, &slug)?;
    let bar = super::progress("invitations");
    let report = invite::invite_audience(
        &db,
        settings,
        &survey,
        &wave,
        segment.as_ref(),
        args.audience.as_str(),
        &bar,
    )?;
    bar.finish_and_clear();
    println!(
        "Queued {} invitations for {} wave {} ({} invited before, {} unsubscribed, {} outside the segment).",
        report.queued, survey.slug, wave, report.already_invited, report.unsubscribed, report.outside_segment
    );
    if !args.queue_only {
        let transport = mail::Transport::from_settings(settings)?;
        let delivered = mail::deliver_due(&db, settings, &transport)?;
        println!(
            "Delivered {} emails{}{}.",
            delivered.sent,
            if delivered.retrying > 0 {
                format!(", {} will be retried", delivered.retrying)
            } else {
                String::new()
            },
            if delivered.failed > 0 {
                format!(", {} failed (see pds worker)", delivered.failed)
            } else {
                String::new()
            },
        );
    }
    Ok(())
}
