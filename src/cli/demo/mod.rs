//! `pds demo`: a whole discovery study in a fresh folder, through the real parts:
//! SQLite file, invitations written as `.eml` files by the file transport, the HTTP
//! server on a free port, simulated customers who follow the link in their email
//! and answer with real POSTs, then the ranked areas and `results.csv`.
//! The links in the `.eml` files point to a stable address (`--base-url`), not to
//! the demo's own port, and the demo ends by printing the `pds serve` command
//! that serves this database there, so the links open afterwards. Then the study's
//! second phase (`checklist.rs`): a checklist drafted from the top areas, answered
//! by simulated customers in three segments and by staff, with its ranking and the
//! staff gap.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use crate::config::Settings;
use crate::db::Database;
use crate::error::{Error, Result};
use crate::invite::contacts;
use crate::report::{self, Format};
use crate::survey::{StoredSurvey, SurveySlug, WaveLabel};
use crate::{invite, mail, web};

mod checklist;

const CONTACTS_CSV: &str = include_str!("../../../examples/demo/contacts.csv");
const PROBLEMS_TOML: &str = include_str!("../../../examples/demo/problems.toml");
const MARKER: &str = ".pds-demo";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder for everything the demo writes (replaced if it holds an earlier demo).
    #[arg(long, default_value = "pds-demo")]
    dir: PathBuf,
    /// How many of the 200 demo contacts answer.
    #[arg(long, default_value_t = 150)]
    respondents: usize,
    /// Seed for the simulated customers' answers.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Where the links in the demo's emails point: the address `pds serve` serves
    /// the demo at afterwards (the demo prints the command).
    #[arg(long, default_value = DEFAULT_BASE_URL)]
    base_url: url::Url,
}

/// The address `pds serve` listens on by default.
const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";

#[derive(Debug, Deserialize)]
struct ProblemBank {
    problem: Vec<BankProblem>,
}

#[derive(Debug, Deserialize)]
struct BankProblem {
    area: String,
    incidence: f64,
    severity: f64,
    en: Vec<String>,
    sv: Vec<String>,
}

pub fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    prepare_folder(&args.dir)?;
    let dir = &args.dir;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("127.0.0.1:0", e))?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::io("127.0.0.1:0", e))?;
    let settings = demo_settings(&args, address)?;
    let db = Database::open(&settings.database_url)?;
    println!(
        "pds demo: a Problem Detection Study end to end, in {}/",
        dir.display()
    );
    let transport = mail::Transport::from_settings(&settings)?;
    let survey = create_and_invite(&db, &settings, &transport, dir)?;
    let mail_dir = dir.join("mail-out");
    let bank: ProblemBank = toml::from_str(PROBLEMS_TOML)
        .map_err(|e| Error::Invalid(format!("examples/demo/problems.toml: {e}")))?;
    answer_and_act(&db, &settings, &transport, listener, &args, &bank)?;
    let (results, csv_path) = code_and_rank(&db, &survey, dir)?;

    // 8-11. Phase 2: the checklist study, customers and staff.
    let phase2 = checklist::Phase2 {
        db: &db,
        settings: &settings,
        discovery: &survey,
        dir,
        bank: &bank,
        seed: args.seed,
    };
    let phase2_started = Instant::now();
    if results.areas.is_empty() {
        println!("\n  8. no problem areas to draft a checklist from, so no second phase");
    } else {
        phase2.run(&transport)?;
    }
    let serve = serve_command(dir, &args.base_url);
    println!(
        "\nWrote:\n  {}  the SQLite database\n  {}/  one .eml file per email (invitations, routed complaints, follow-ups)\n  {}  every area, full precision\n  {}/  the checklist survey folder drafted from the areas\nDone in {:.1} s (the checklist phase {:.1} s of it).\n\nThe links in the .eml files point to {}. To open them, serve the demo there:\n  {serve}\n{}Explore further with (export PDS_DATABASE_URL=sqlite://{db} first):\n  pds areas list --survey demo        the problem areas and how they were coded\n  pds results --survey demo-checklist --by customer_type   the checklist results in full\n  pds export --survey demo --what mentions --excel -o mentions.csv\n  pds keys create --name me           prints a key for the dashboard, at {}admin",
        settings_db_path(dir).display(),
        mail_dir.display(),
        csv_path.display(),
        dir.join(checklist::FOLDER).display(),
        started.elapsed().as_secs_f64(),
        phase2_started.elapsed().as_secs_f64(),
        args.base_url,
        serve.note(),
        args.base_url,
        db = settings_db_path(dir).display(),
    );
    Ok(())
}

/// The demo folder's settings, served at `address`, with links to `--base-url`.
fn demo_settings(args: &Args, address: std::net::SocketAddr) -> Result<Settings> {
    let mut settings = Settings::in_folder(&args.dir)?.with_bind(address);
    if !matches!(args.base_url.scheme(), "http" | "https") {
        return Err(Error::Config(format!(
            "--base-url {} must start with http:// or https://, e.g. {DEFAULT_BASE_URL}",
            args.base_url
        )));
    }
    settings.public_url = args.base_url.clone();
    // All the simulated customers answer from 127.0.0.1, which the per-address limit
    // on personal links would otherwise slow to a trickle.
    settings.rate_limit = crate::config::RateLimit {
        burst: std::num::NonZeroU32::new(100_000).unwrap_or(std::num::NonZeroU32::MIN),
        replenish: std::time::Duration::from_millis(1),
    };
    Ok(settings)
}

/// Steps 1 to 3: the survey from the shipped discovery folder, the contacts, and
/// their invitations delivered as `.eml` files.
fn create_and_invite(
    db: &Database,
    settings: &Settings,
    transport: &mail::Transport,
    dir: &Path,
) -> Result<StoredSurvey> {
    // 1. The survey, from the shipped discovery folder.
    let slug: SurveySlug = "demo".parse()?;
    let survey = crate::setup::create(db, &slug, &crate::setup::shipped("discovery")?)?;
    println!(
        "  1. created survey '{}' ({}), M = {}",
        survey.slug,
        survey.survey.title(),
        survey.survey.max_problems
    );

    // 2. Contacts.
    let contacts_path = dir.join("contacts.csv");
    std::fs::write(&contacts_path, CONTACTS_CSV).map_err(|e| Error::io(&contacts_path, e))?;
    let hidden = indicatif::ProgressBar::hidden();
    let imported = contacts::import(db, CONTACTS_CSV.as_bytes(), "contacts.csv", false, &hidden)?;
    println!(
        "  2. imported {} contacts (Swedish and English) from {}",
        imported.inserted,
        contacts_path.display()
    );

    // 3. Invitations through the outbox and the file transport.
    let wave: WaveLabel = "2026-H2".parse()?;
    let invited = invite::invite(db, settings, &survey, &wave, None, &hidden)?;
    let delivered = mail::deliver_due(db, settings, transport)?;
    println!(
        "  3. queued {} invitations for wave {wave}, delivered {} as .eml files in {}",
        invited.queued,
        delivered.sent,
        dir.join("mail-out").display()
    );
    Ok(survey)
}

/// Step 4: the server, customers answering through it, their complaints routed to
/// teams, and teams acting on some of the cases.
fn answer_and_act(
    db: &Database,
    settings: &Settings,
    transport: &mail::Transport,
    listener: TcpListener,
    args: &Args,
    bank: &ProblemBank,
) -> Result<()> {
    let address = settings.bind;
    let mail_dir = args.dir.join("mail-out");
    let answered = serving(db, settings, listener, |port| {
        simulate_customers(&mail_dir, args, bank, settings, port)
    })?;
    println!(
        "  4. served the form on http://{address}; {} customers followed their link and answered ({} with problems, {} with none)",
        answered.0 + answered.1,
        answered.0,
        answered.1
    );
    let routed = mail::deliver_due(db, settings, transport)?;
    println!(
        "     complaints were routed to operations teams as they arrived (survey-templates/discovery/routing.toml): {} emails in {}",
        routed.sent,
        mail_dir.display()
    );
    let (acknowledged, resolved, followed_up) = close_some_loops(db, settings)?;
    let answered_back = mail::deliver_due(db, settings, transport)?;
    println!(
        "     each routed complaint is a case; a team acknowledged {acknowledged} and resolved {resolved} with a note, and {followed_up} customers who agreed to be contacted were told what was done ({} follow-up emails in {}); see them with pds cases list",
        answered_back.sent,
        mail_dir.display()
    );
    Ok(())
}

/// Steps 5 to 7: the answers coded into problem areas, the ranked areas (printed,
/// and in full in `results.csv`, whose path is returned) and the teams' case figures.
fn code_and_rank(
    db: &Database,
    survey: &StoredSurvey,
    dir: &Path,
) -> Result<(report::Results, PathBuf)> {
    let hidden = indicatif::ProgressBar::hidden();
    let coded = super::code::code(db, survey, &Default::default(), &hidden)?;
    println!(
        "  5. coded {} mentions into {} problem areas with survey-templates/discovery/codebook.toml ({} by its rules, {} grouped automatically, {} not placed); see them with pds areas list --survey demo",
        coded.mentions, coded.areas, coded.by_rule, coded.automatic, coded.uncoded
    );
    let results = report::results(&mut *db.conn()?, survey, None)?;
    let csv_path = dir.join("results.csv");
    let mut file = std::fs::File::create(&csv_path).map_err(|e| Error::io(&csv_path, e))?;
    report::write(&results, Format::Csv, &mut file)?;
    println!(
        "  6. ranked improvement areas (top 15 of {}):\n",
        results.areas.len()
    );
    let mut top = results.clone();
    top.areas.truncate(15);
    report::write(&top, Format::Table, &mut std::io::stdout().lock())?;
    println!("\n  7. how fast the teams acted on their cases (pds cases stats --survey demo):\n");
    super::case_figures::stats(db, Some("demo"))?;
    Ok((results, csv_path))
}

/// Acts on a few cases as a team would from its email: acknowledges three (of
/// customers who agreed to be contacted, where there are such) and resolves two of
/// those with a note. Returns (acknowledged,
/// resolved, follow-ups queued).
fn close_some_loops(db: &Database, settings: &Settings) -> Result<(usize, usize, usize)> {
    use crate::cases::{self, Action, Actor, FollowUp, Note};
    let mut open = cases::list(&mut *db.conn()?, &cases::Filter::default())?;
    // Customers who agreed to be contacted first, so that the follow-up shows.
    open.sort_by_key(|c| !c.may_contact);
    // A team writes its note in its own language.
    let note_in = |locale: crate::survey::Locale| {
        Note::parse(match locale {
            crate::survey::Locale::Sv => {
                "Vi har bytt transportör i er region; leveranserna kommer nu på den dag vi lovat."
            }
            crate::survey::Locale::En => {
                "We have changed carrier for your region; deliveries now arrive on the promised day."
            }
        })
        .map_err(|e| Error::Internal(e.to_string()))
    };
    let (mut acknowledged, mut resolved, mut followed_up) = (0, 0, 0);
    for (i, case) in open.iter().take(3).enumerate() {
        let team = Actor::Team(&case.team);
        let mut what = cases::CaseAction {
            id: case.id,
            action: Action::Acknowledge,
            note: None,
            actor: team,
        };
        cases::act(db, settings, what)?;
        acknowledged += 1;
        if i < 2 {
            let note = note_in(case.team_locale)?;
            what.action = Action::Resolve;
            what.note = note.as_ref();
            let acted = cases::act(db, settings, what)?;
            resolved += 1;
            if matches!(acted.follow_up, Some(FollowUp::Queued)) {
                followed_up += 1;
            }
        }
    }
    Ok((acknowledged, resolved, followed_up))
}

fn settings_db_path(dir: &Path) -> PathBuf {
    dir.join("pds.db")
}

/// The `pds serve` command that serves the demo's database at `base_url`.
struct ServeCommand {
    line: String,
    /// Whether `base_url` names a host this machine cannot simply listen as.
    behind_proxy: bool,
}

impl ServeCommand {
    fn note(&self) -> &'static str {
        if self.behind_proxy {
            "  (the base URL is not a local address: put a proxy that serves it in front of that port)\n"
        } else {
            ""
        }
    }
}

impl std::fmt::Display for ServeCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.line)
    }
}

fn serve_command(dir: &Path, base_url: &url::Url) -> ServeCommand {
    let port = base_url.port_or_known_default().unwrap_or(8080);
    let (ip, behind_proxy) = match base_url.host() {
        Some(url::Host::Ipv4(ip)) => (std::net::IpAddr::V4(ip), false),
        Some(url::Host::Ipv6(ip)) => (std::net::IpAddr::V6(ip), false),
        Some(url::Host::Domain("localhost")) => (std::net::Ipv4Addr::LOCALHOST.into(), false),
        _ => (std::net::Ipv4Addr::LOCALHOST.into(), true),
    };
    let bind = std::net::SocketAddr::new(ip, port);
    let quote = |text: String| {
        shlex::try_quote(&text)
            .map(|q| q.into_owned())
            .unwrap_or(text)
    };
    let program = std::env::args().next().unwrap_or_else(|| "pds".into());
    let line = format!(
        "PDS_DATABASE_URL={} PDS_MAIL_DIR={} PDS_PUBLIC_URL={} {} serve --bind {}",
        quote(format!("sqlite://{}", settings_db_path(dir).display())),
        quote(dir.join("mail-out").display().to_string()),
        quote(base_url.as_str().trim_end_matches('/').to_string()),
        quote(program),
        quote(bind.to_string()),
    );
    ServeCommand { line, behind_proxy }
}

/// Makes `dir` an empty folder, refusing to wipe anything an earlier demo did not write.
fn prepare_folder(dir: &Path) -> Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .next()
            .is_none();
        if !empty && !dir.join(MARKER).exists() {
            return Err(Error::Invalid(format!(
                "{} exists and was not made by pds demo; choose another folder with --dir",
                dir.display()
            )));
        }
        std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    std::fs::write(
        dir.join(MARKER),
        "made by pds demo; deleted by the next run\n",
    )
    .map_err(|e| Error::io(dir, e))
}

/// Runs the answer form on `listener` while `f` gets the port to reach it at.
fn serving<T>(
    db: &Database,
    settings: &Settings,
    listener: TcpListener,
    f: impl FnOnce(u16) -> Result<T>,
) -> Result<T> {
    let port = listener
        .local_addr()
        .map_err(|e| Error::io("127.0.0.1:0", e))?
        .port();
    let state = web::AppState::new(db.clone(), settings.clone())?;
    let (tx, rx) = std::sync::mpsc::channel();
    let server_thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = web::start(listener, state)?;
            let _ = tx.send(server.handle());
            server.await.map_err(|e| Error::Invalid(e.to_string()))
        })
    });
    let handle = rx
        .recv()
        .map_err(|_| Error::Invalid("the demo server did not start".into()))?;
    let result = f(port);
    actix_web::rt::System::new().block_on(handle.stop(true));
    let _ = server_thread.join();
    result
}

/// The personal link in each email of `mail_dir`, by recipient (lower case),
/// pointed at this run's server on `port` instead of the base URL.
fn links_in(mail_dir: &Path, settings: &Settings, port: u16) -> Result<Vec<(String, String)>> {
    let prefix = settings.link("/s/");
    let here = format!("http://127.0.0.1:{port}/s/");
    let mut links = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(mail_dir)
        .map_err(|e| Error::io(mail_dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    for path in files {
        let raw = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let Some(message) = mail_parser::MessageParser::default().parse(&raw) else {
            continue;
        };
        let to = message
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(str::to_lowercase)
            .unwrap_or_default();
        let text = message
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default();
        if let Some(start) = text.find(&prefix) {
            let token: String = text[start + prefix.len()..].chars().take(32).collect();
            links.push((to, format!("{here}{token}")));
        }
    }
    Ok(links)
}

/// An HTTP client that hands every status back instead of failing on it.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// A simulated respondent opens their link and sends `form`; anything but the
/// form (200) and the thank-you page after it (200, the redirect followed) is a
/// failure of the demo.
fn answer_over_http(agent: &ureq::Agent, link: &str, form: &[(String, String)]) -> Result<()> {
    let page = agent
        .get(link)
        .call()
        .map_err(|e| Error::Invalid(format!("demo respondent could not open {link}: {e}")))?;
    if page.status() != 200 {
        return Err(Error::Invalid(format!(
            "the form answered {} for a demo respondent",
            page.status()
        )));
    }
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let response = agent
        .post(link)
        .send_form(pairs)
        .map_err(|e| Error::Invalid(format!("demo respondent could not answer: {e}")))?;
    if response.status() != 200 {
        return Err(Error::Invalid(format!(
            "the form refused a demo answer with status {}",
            response.status()
        )));
    }
    Ok(())
}

/// Reads each invitation email, picks respondents, and has them answer over HTTP.
/// Returns (respondents with problems, respondents with none).
fn simulate_customers(
    mail_dir: &Path,
    args: &Args,
    bank: &ProblemBank,
    settings: &Settings,
    port: u16,
) -> Result<(usize, usize)> {
    let locale_of: HashMap<String, String> = csv::Reader::from_reader(CONTACTS_CSV.as_bytes())
        .records()
        .filter_map(|r| r.ok())
        .map(|r| (r[0].to_lowercase(), r[2].to_string()))
        .collect();
    let mut links = links_in(mail_dir, settings, port)?;
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    links.shuffle(&mut rng);
    links.truncate(args.respondents);

    let agent = agent();
    let (mut with, mut without) = (0, 0);
    for (email, link) in links {
        let sv = locale_of.get(&email).is_some_and(|l| l == "sv");
        let mut drawn: Vec<(f64, &BankProblem)> = Vec::new();
        for problem in &bank.problem {
            if rng.random_bool(problem.incidence.clamp(0.0, 1.0)) {
                drawn.push((problem.severity + rng.random_range(-0.25..0.25), problem));
            }
        }
        drawn.sort_by(|a, b| b.0.total_cmp(&a.0));
        drawn.truncate(5);
        let mut form: Vec<(String, String)> = Vec::new();
        if drawn.is_empty() {
            form.push(("no_problems".into(), "yes".into()));
            without += 1;
        } else {
            with += 1;
        }
        for (i, (_, problem)) in drawn.iter().enumerate() {
            let phrasings = if sv { &problem.sv } else { &problem.en };
            let mut text = if rng.random_bool(0.7) || phrasings.len() < 2 {
                phrasings[0].clone()
            } else {
                phrasings[rng.random_range(1..phrasings.len())].clone()
            };
            if rng.random_bool(0.3) {
                text = text.to_lowercase();
            }
            if rng.random_bool(0.2) {
                text.push('.');
            }
            let n = i + 1;
            form.push((format!("problem_{n}"), text));
            form.push((format!("rank_{n}"), n.to_string()));
            let frequency = ["once", "sometimes", "often", ""][rng.random_range(0..4)];
            form.push((format!("frequency_{n}"), frequency.into()));
            if rng.random_bool(0.3) {
                form.push((format!("consent_{n}"), "yes".into()));
            }
        }
        answer_over_http(&agent, &link, &form)?;
    }
    Ok((with, without))
}
