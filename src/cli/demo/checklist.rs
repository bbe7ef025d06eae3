//! The demo's second phase, the checklist study (docs/METHOD.md §1 and §4): a
//! checklist drafted from the discovery survey's top areas, 300 simulated customers
//! in three segments and 30 staff invited to it, every one answering over HTTP
//! through their emailed link, then the checklist ranking by segment and the staff
//! gap, as `pds results` prints them.
//!
//! The simulated customers recognise a problem on the checklist more often than
//! they recalled it unprompted (its discovery incidence, lifted); lost customers
//! meet service problems more, potential customers unclear prices. Staff answer as
//! they think customers would, and underrate the two problems that customers rank
//! highest: the blind spots the staff gap shows.

use std::net::TcpListener;
use std::ops::ControlFlow;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{agent, answer_over_http, links_in, serving, BankProblem, ProblemBank};
use crate::audience::{CUSTOMER, STAFF};
use crate::checklist::draft::Choice;
use crate::checklist::Checklist;
use crate::config::Settings;
use crate::db::Database;
use crate::error::{Error, Result};
use crate::invite::{contacts, SegmentFilter};
use crate::report::{self, Format, Options};
use crate::survey::{StoredSurvey, SurveySlug, WaveLabel};
use crate::{invite, mail};

/// Where the drafted checklist survey folder is written, inside the demo folder.
pub(super) const FOLDER: &str = "checklist";
const SLUG: &str = "demo-checklist";
const WAVE: &str = "2027-H1";
/// Items drafted: the top areas of the discovery ranking.
const ITEMS: usize = 8;
const SEGMENTS: [&str; 3] = ["current", "potential", "lost"];
const PER_SEGMENT: usize = 100;
const STAFF_MEMBERS: usize = 30;
/// The phase's contacts' addresses end so, which tells them from the first phase's.
const DOMAIN: &str = "@checklist.example";
/// The `panel` column of the phase's customers, which invites them alone.
const PANEL: &str = "checklist";
/// Respondents answering at the same time.
const AT_ONCE: usize = 4;
/// How many of the customers' top items staff underrate.
const BLIND_SPOTS: usize = 2;

/// What the second phase works with, from the first.
pub(super) struct Phase2<'a> {
    pub db: &'a Database,
    pub settings: &'a Settings,
    pub discovery: &'a StoredSurvey,
    pub dir: &'a Path,
    pub bank: &'a ProblemBank,
    pub seed: u64,
}

impl Phase2<'_> {
    pub fn run(&self, transport: &mail::Transport) -> Result<()> {
        let survey = self.draft()?;
        let (customers, staff) = self.invite(&survey)?;
        let delivered = mail::deliver_due(self.db, self.settings, transport)?;
        println!(
            "  9. imported {} customers ({} each {}) and {} staff; queued {customers} customer and {staff} staff invitations (staff in their own wording), delivered {} as .eml files",
            PER_SEGMENT * SEGMENTS.len(),
            PER_SEGMENT,
            SEGMENTS.join(", "),
            STAFF_MEMBERS,
            delivered.sent
        );
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("127.0.0.1:0", e))?;
        let (customers, staff) = serving(self.db, self.settings, listener, |port| {
            self.answer(&survey, port)
        })?;
        println!(
            " 10. {customers} customers and {staff} staff followed their link and answered every item over HTTP (staff as they think customers would)"
        );
        // The problems written in beside the items are coded like discovery answers.
        let hidden = indicatif::ProgressBar::hidden();
        let coded = crate::cli::code::code(self.db, &survey, &Default::default(), &hidden)?;
        println!(
            "     coded the {} problems written in beside the items into {} areas ({} grouped automatically, {} not placed)",
            coded.mentions, coded.areas, coded.automatic, coded.uncoded
        );
        self.print_results(&survey)
    }

    /// Step 8: the checklist folder drafted from the top areas, and the survey.
    fn draft(&self) -> Result<StoredSurvey> {
        let folder = self.dir.join(FOLDER);
        let (checked, chosen) = super::super::checklist::draft_folder(
            self.db,
            self.discovery,
            &folder,
            &Choice::Top(ITEMS),
        )?;
        let slug: SurveySlug = SLUG.parse()?;
        let survey = crate::setup::create(self.db, &slug, &checked)?;
        println!(
            "\n  8. phase 2: drafted a checklist of the top {} areas ({}) into {}/ and created survey '{}'",
            chosen.len(),
            chosen.join(", "),
            folder.display(),
            survey.slug
        );
        Ok(survey)
    }

    /// Step 9: customers in three segments and staff, imported and invited.
    /// Returns how many of each were invited.
    fn invite(&self, survey: &StoredSurvey) -> Result<(usize, usize)> {
        let mut customers = String::from("email,name,locale,customer_type,panel\n");
        for (s, segment) in SEGMENTS.iter().enumerate() {
            for i in 0..PER_SEGMENT {
                let locale = if i % 3 == 0 { "sv" } else { "en" };
                customers.push_str(&format!(
                    "{segment}.{i:03}{DOMAIN},Customer {} {i},{locale},{segment},{PANEL}\n",
                    s + 1
                ));
            }
        }
        let mut staff = String::from("email,name,locale\n");
        for i in 0..STAFF_MEMBERS {
            staff.push_str(&format!("staff.{i:02}{DOMAIN},Staff member {i},en\n"));
        }
        let hidden = indicatif::ProgressBar::hidden();
        for (name, text) in [
            ("checklist-customers.csv", &customers),
            ("staff.csv", &staff),
        ] {
            let path = self.dir.join(name);
            std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        }
        contacts::import(
            self.db,
            customers.as_bytes(),
            "checklist-customers.csv",
            false,
            &hidden,
        )?;
        contacts::import_audience(
            self.db,
            staff.as_bytes(),
            "staff.csv",
            false,
            STAFF,
            &hidden,
        )?;
        let wave: WaveLabel = WAVE.parse()?;
        // The checklist's customer panel, not the discovery study's customers.
        let panel = SegmentFilter {
            key: "panel".into(),
            value: PANEL.into(),
        };
        let mut invited = [0; 2];
        for (count, (audience, segment)) in invited
            .iter_mut()
            .zip([(CUSTOMER, Some(&panel)), (STAFF, None)])
        {
            let whom = invite::Whom {
                survey,
                wave: &wave,
                segment,
                audience,
            };
            let report = invite::invite_audience(self.db, self.settings, &whom, &hidden)?;
            *count = report.queued;
        }
        Ok((invited[0], invited[1]))
    }

    /// Step 10: every invited customer and staff member answers through their
    /// link, a few at a time as people do. Returns (customers, staff) who answered.
    fn answer(&self, survey: &StoredSurvey, port: u16) -> Result<(usize, usize)> {
        let checklist = Checklist::of_survey(survey)?;
        let respondents: Vec<(Respondent, String)> =
            links_in(&self.dir.join("mail-out"), self.settings, port)?
                .into_iter()
                .filter_map(|(email, link)| Respondent::of(&email).map(|r| (r, link)))
                .collect();
        let chunk = respondents.len().div_ceil(AT_ONCE).max(1);
        std::thread::scope(|scope| {
            let workers: Vec<_> = respondents
                .chunks(chunk)
                .enumerate()
                .map(|(w, part)| {
                    let checklist = &checklist;
                    scope.spawn(move || -> Result<()> {
                        let agent = agent();
                        for (i, (respondent, link)) in part.iter().enumerate() {
                            // Seeded per respondent: the same answers however
                            // the respondents are shared among the workers.
                            let mut rng = ChaCha8Rng::seed_from_u64(
                                self.seed ^ ((w * chunk + i) as u64) << 20,
                            );
                            let form = self.form(checklist, *respondent, &mut rng);
                            answer_over_http(&agent, link, &form)?;
                        }
                        Ok(())
                    })
                })
                .collect();
            workers.into_iter().try_for_each(|w| {
                w.join()
                    .map_err(|_| Error::Internal("a demo respondent thread panicked".into()))?
            })
        })?;
        let staff = respondents
            .iter()
            .filter(|(r, _)| matches!(r, Respondent::Staff))
            .count();
        Ok((respondents.len() - staff, staff))
    }

    /// One respondent's filled-in form.
    fn form(
        &self,
        checklist: &Checklist,
        respondent: Respondent,
        rng: &mut ChaCha8Rng,
    ) -> Vec<(String, String)> {
        let mut form = Vec::new();
        for (rank, item) in checklist.items.iter().enumerate() {
            let problem = item
                .area
                .as_deref()
                .and_then(|area| self.bank.problem.iter().find(|p| p.area == area));
            let (had, often, bother) = respondent.chances(problem, rank);
            let id = item.id.as_str();
            let experienced = if !rng.random_bool(had) {
                "never"
            } else if rng.random_bool(often) {
                "often"
            } else {
                "sometimes"
            };
            form.push((format!("experienced_{id}"), experienced.into()));
            if experienced != "never" {
                let value = (bother + rng.random_range(-1.2..1.2))
                    .round()
                    .clamp(1.0, 5.0);
                form.push((format!("bother_{id}"), (value as u8).to_string()));
            }
        }
        // A few customers write in a problem the checklist does not ask about.
        if matches!(respondent, Respondent::Customer(_)) && rng.random_bool(0.03) {
            let unasked: Vec<&BankProblem> = self
                .bank
                .problem
                .iter()
                .filter(|p| {
                    checklist
                        .items
                        .iter()
                        .all(|i| i.area.as_deref() != Some(p.area.as_str()))
                })
                .collect();
            if let Some(problem) = unasked.get(rng.random_range(0..unasked.len().max(1))) {
                form.push(("problem_1".into(), problem.en[0].clone()));
                form.push(("rank_1".into(), "1".into()));
            }
        }
        form
    }

    /// Step 11: the checklist ranking by segment, and the staff gap.
    fn print_results(&self, survey: &StoredSurvey) -> Result<()> {
        let options = Options {
            wave: Some(WAVE.parse()?),
            by: Some("customer_type".into()),
            ..Options::default()
        };
        let results =
            crate::checklist::results::compute(&mut *self.db.conn()?, survey, &options, &|_| {
                ControlFlow::Continue(())
            })?;
        println!(
            " 11. the checklist ranking, what drives lost customers, and the staff gap (pds results --survey {SLUG} --wave {WAVE} --by customer_type):\n"
        );
        report::checklist::write(&results, Format::Table, &mut std::io::stdout().lock())
    }
}

#[derive(Debug, Clone, Copy)]
enum Respondent {
    Customer(&'static str),
    Staff,
}

impl Respondent {
    /// Who the phase's contact with this address is; `None` for anyone else.
    fn of(email: &str) -> Option<Respondent> {
        let local = email.strip_suffix(DOMAIN)?;
        if local.starts_with("staff.") {
            return Some(Respondent::Staff);
        }
        SEGMENTS
            .iter()
            .find(|s| local.starts_with(&format!("{s}.")))
            .map(|s| Respondent::Customer(s))
    }

    /// (chance of having had the problem, chance it was often when had, mean
    /// bother 1-5) for the item drafted from `problem`, ranked `rank` (0 = first)
    /// in discovery.
    fn chances(self, problem: Option<&BankProblem>, rank: usize) -> (f64, f64, f64) {
        let (incidence, severity) = problem.map_or((0.1, 0.5), |p| (p.incidence, p.severity));
        // Recognised on a list more often than recalled unprompted.
        let recognised = (0.1 + 2.0 * incidence).min(0.9);
        let area = problem.map_or("", |p| p.area.as_str());
        let had = match self {
            Respondent::Customer("lost")
                if area.contains("support") || area.contains("complaint") =>
            {
                (recognised * 1.8).min(0.95)
            }
            Respondent::Customer("potential") if area.contains("pricing") => {
                (recognised * 1.8).min(0.95)
            }
            Respondent::Customer(_) => recognised,
            // Staff do not see what customers rank first.
            Respondent::Staff if rank < BLIND_SPOTS => recognised * 0.3,
            Respondent::Staff => (recognised * 1.3).min(0.9),
        };
        (had, 0.25 + 0.4 * severity, 1.0 + 4.0 * severity)
    }
}
