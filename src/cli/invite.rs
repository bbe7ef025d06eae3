//! `pds invite --survey SLUG --wave LABEL [--segment key=value] [--audience staff]
//! [--dry-run]`, and
//! `pds invite --cadence-run [--survey SLUG] [--dry-run]`: the day's batch of the
//! continuous surveys, for cron users.

use crate::audience::Audience;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::invite::cadence::{self, CadenceReport};
use crate::invite::plan::{Person, Plan, Skip};
use crate::invite::{self, SegmentFilter};
use crate::mail;
use crate::survey::{store, SurveySlug, WaveLabel};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The survey (with --cadence-run: only this continuous survey).
    #[arg(long, required_unless_present = "cadence_run")]
    survey: Option<String>,
    /// The wave label, e.g. 2026-H2 (created on first use).
    #[arg(
        long,
        required_unless_present = "cadence_run",
        conflicts_with = "cadence_run"
    )]
    wave: Option<String>,
    /// Invite only contacts whose segment column has this value, e.g. customer_type=current.
    #[arg(long, value_name = "KEY=VALUE", conflicts_with = "cadence_run")]
    segment: Option<String>,
    /// Today's batch of every continuous survey (cadence in survey.toml) that has not run today.
    #[arg(long)]
    cadence_run: bool,
    /// Say who would be invited and who is skipped and why; store and send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Only queue the emails; a running `pds serve` or `pds worker` delivers them.
    #[arg(long)]
    queue_only: bool,
    /// Invite customers, or staff (imported with `pds contacts import --audience
    /// staff`), who get the staff wording and never count as customers.
    #[arg(long, value_enum, default_value_t = Audience::Customer)]
    audience: Audience,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let slug: Option<SurveySlug> = args.survey.as_deref().map(str::parse).transpose()?;
    let db = super::open_db(settings)?;
    if args.cadence_run {
        cadence_run(&db, settings, slug.as_ref(), args.dry_run)?;
    } else {
        let (Some(slug), Some(wave)) = (slug, args.wave.as_deref()) else {
            return Err(Error::Invalid(
                "give --survey and --wave, or --cadence-run".into(),
            ));
        };
        let wave: WaveLabel = wave.parse()?;
        let segment: Option<SegmentFilter> = args.segment.as_deref().map(str::parse).transpose()?;
        let survey = store::find(&mut *db.conn()?, &slug)?;
        let whom = invite::Whom {
            survey: &survey,
            wave: &wave,
            segment: segment.as_ref(),
            audience: args.audience.as_str(),
        };
        if args.dry_run {
            let plan = invite::dry_run(&db, settings, &whom)?;
            print_plan(&survey.slug, &wave, &plan, settings);
            return Ok(());
        }
        let bar = super::progress("invitations");
        let report = invite::invite_audience(&db, settings, &whom, &bar)?;
        bar.finish_and_clear();
        println!(
            "Queued {} invitations for {} wave {} ({} invited before, {} unsubscribed, {} outside the segment, {} invited to a survey within contact_at_most_every).",
            report.queued, survey.slug, wave, report.already_invited, report.unsubscribed,
            report.outside_segment, report.contacted_recently
        );
    }
    if !args.queue_only && !args.dry_run {
        deliver(&db, settings)?;
    }
    Ok(())
}

fn cadence_run(
    db: &crate::db::Database,
    settings: &Settings,
    slug: Option<&SurveySlug>,
    dry_run: bool,
) -> Result<()> {
    let reports = match slug {
        Some(slug) => {
            let survey = store::find(&mut *db.conn()?, slug)?;
            vec![cadence::run(db, settings, &survey, dry_run)?]
        }
        None if dry_run => Err(Error::Invalid(
            "--cadence-run --dry-run needs --survey: name the continuous survey to plan".into(),
        ))?,
        None => cadence::run_due(db, settings)?,
    };
    if reports.is_empty() {
        println!("No continuous survey is due today (none has a cadence, or all ran today).");
    }
    for r in &reports {
        print_cadence(r, dry_run, settings);
    }
    Ok(())
}

fn print_cadence(r: &CadenceReport, dry_run: bool, settings: &Settings) {
    if r.already_ran {
        println!(
            "{}: today's batch has run already (cadence {}); nothing was done.",
            r.survey, r.cadence
        );
        return;
    }
    println!(
        "{}{}: {} {} into wave {} (cadence {}: {} active contacts, {} due, a batch of at most {} today; {} held back by contact_at_most_every).",
        if dry_run { "Dry run, nothing stored or sent. " } else { "" },
        r.survey,
        if dry_run { "would invite" } else { "invited" },
        r.invited.len(),
        r.wave,
        r.cadence,
        r.active_contacts,
        r.due,
        r.batch,
        r.held_back.len()
    );
    if dry_run {
        print_people(&r.invited, &r.held_back, settings);
    }
}

fn print_plan(survey: &str, wave: &WaveLabel, plan: &Plan, settings: &Settings) {
    let invite = plan.to_invite();
    let count = |want: fn(&Skip) -> bool| plan.count(want);
    println!(
        "Dry run for {survey} wave {wave}: nothing was stored or sent.\nWould invite {} contacts; would skip {} ({} invited to this wave before, {} unsubscribed, {} outside the segment, {} invited to a survey within contact_at_most_every).",
        invite.len(),
        plan.skipped.len(),
        count(|s| *s == Skip::AlreadyInvited),
        count(|s| *s == Skip::Unsubscribed),
        count(|s| *s == Skip::OutsideSegment),
        count(|s| matches!(s, Skip::ContactedRecently { .. })),
    );
    print_people(&invite, &plan.skipped, settings);
}

/// One line per contact: invited, or skipped and why.
fn print_people(invite: &[Person], skipped: &[(Person, Skip)], settings: &Settings) {
    for p in invite {
        println!("  invite  {}  {}", p.email, p.name);
    }
    for (p, why) in skipped {
        println!(
            "  skip    {}  {}",
            p.email,
            why.describe(settings.contact_at_most_every)
        );
    }
}

fn deliver(db: &crate::db::Database, settings: &Settings) -> Result<()> {
    let transport = mail::Transport::from_settings(settings)?;
    let delivered = mail::deliver_due(db, settings, &transport)?;
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
    Ok(())
}
