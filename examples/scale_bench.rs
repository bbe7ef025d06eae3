//! A million respondents through the real commands: `pds responses import`,
//! `pds results`, `pds export` and `pds code` on a generated file in the import
//! format of README, each a child process whose time and peak memory (its own
//! `ru_maxrss`, from `wait4`) are printed, next to baselines measured in the same
//! run on the same data: the statistics core alone (the file parsed into memory,
//! then `joint-v1` and the rank bootstrap) and a bare INSERT (SQLite) or COPY
//! (PostgreSQL) of the file's rows into one plain table.
//!
//!     cargo run --release --example scale_bench -- [--respondents N] [--runs R]
//!         [--postgres-url postgres://user@127.0.0.1:5432/postgres] [--pds PATH]
//!
//! The file: `--respondents` (default 1,000,000) respondents in one wave, each with
//! 1 to 5 ranked problems over 50 areas of Zipf popularity (as `stats_bench`), 5%
//! with none, a segment each; 90% of the mentions name their area, the rest are
//! left to `pds code`. Every run starts from a fresh database (a new SQLite file, or
//! a new database on the PostgreSQL server, dropped afterwards); figures are medians
//! over `--runs` (default 3), but for `pds code`, which runs in the first round only
//! (minutes at this size). `--pds` measures another build of `pds` (an older
//! one, for a before/after table); by default `target/<profile>/pds` is built first.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use clap::Parser;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use pds::stats::{joint_v1, rank_stability, BootstrapOptions, DiscoveryInput, Mention};
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const AREAS: usize = 50;
const MAX_PROBLEMS: u32 = 5;
/// Share of respondents listing 1, 2, 3, 4 and 5 problems (as `stats_bench`).
const MENTION_COUNTS: [f64; 5] = [0.40, 0.25, 0.17, 0.11, 0.07];
const SEGMENTS: [&str; 4] = ["current", "lost", "new", "partner"];
const SURVEY: &str = "scale";
const SURVEY_FOLDER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");
const SEED: u64 = 2024;

#[derive(Debug, Parser)]
#[command(about = "pds import, results, export and code at a million respondents")]
struct Args {
    /// Respondents in the generated file.
    #[arg(long, default_value_t = 1_000_000)]
    respondents: usize,
    /// Rounds per backend; figures are medians.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Also measure on this PostgreSQL server (a database per run is created there).
    #[arg(long)]
    postgres_url: Option<String>,
    /// The `pds` binary to measure (default: built from this source).
    #[arg(long)]
    pds: Option<PathBuf>,
    /// Keep the generated file and the last run's folder here.
    #[arg(long)]
    keep: Option<PathBuf>,
    /// Only the `pds` commands, no baselines (for measuring an older `--pds`).
    #[arg(long)]
    no_baselines: bool,
    /// Only `pds responses import` and the bare INSERT or COPY baseline.
    #[arg(long)]
    import_only: bool,
    /// Internal: the statistics core on FILE, in a child process of its own.
    #[arg(long, hide = true)]
    stats_core: Option<PathBuf>,
}

fn main() {
    let args = Args::parse();
    if let Some(file) = &args.stats_core {
        return stats_core(file);
    }
    let pds = args.pds.clone().unwrap_or_else(pds_binary);
    let temp = tempfile::tempdir().expect("a temporary folder");
    let dir = args
        .keep
        .clone()
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("the folder for the data");
    let file = dir.join("responses.csv");
    let started = Instant::now();
    let mentions = generate(&file, args.respondents);
    println!(
        "scale_bench: {} respondents, {mentions} mentions over {AREAS} areas ({:.0} MiB file, written in {:.1} s), {} run(s), {}",
        args.respondents,
        std::fs::metadata(&file).map_or(0.0, |m| m.len() as f64 / 1048576.0),
        started.elapsed().as_secs_f64(),
        args.runs,
        pds.display()
    );

    let mut backends = vec![Backend::Sqlite];
    if let Some(url) = &args.postgres_url {
        backends.push(Backend::Postgres(url.clone()));
    }
    if !args.no_baselines && !args.import_only {
        let core: Vec<Measured> = (0..args.runs).map(|_| run_stats_core(&file)).collect();
        println!(
            "baseline, statistics core (parse the file, joint-v1 + bootstrap B = 2000): {}",
            Measured::median(&core)
        );
    }
    for backend in &backends {
        let mut steps: Vec<Vec<(String, Measured)>> = Vec::new();
        let mut bare = Vec::new();
        for run in 0..args.runs {
            let folder = dir.join(format!("{}-{run}", backend.name()));
            let _ = std::fs::remove_dir_all(&folder);
            std::fs::create_dir_all(&folder).expect("a run folder");
            steps.push(if args.import_only {
                import_command(&pds, backend, &file, &folder, mentions)
            } else {
                commands(&pds, backend, &file, &folder, mentions, run == 0)
            });
            if args.keep.is_none() || run + 1 < args.runs {
                let _ = std::fs::remove_dir_all(&folder);
            }
        }
        // After the commands: a child's peak memory counts the pages it shares with
        // this process until it starts `pds`, and the bare COPY holds every row.
        for run in 0..args.runs {
            if !args.no_baselines {
                let folder = dir.join(format!("{}-bare-{run}", backend.name()));
                std::fs::create_dir_all(&folder).expect("a run folder");
                bare.push(bare_load(backend, &file, &folder));
                let _ = std::fs::remove_dir_all(&folder);
            }
        }
        report(backend, &steps, &bare, mentions);
    }
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// Time and peak resident memory of one step.
#[derive(Debug, Clone, Copy)]
struct Measured {
    seconds: f64,
    /// User and system CPU time: on a shared machine, wall time also counts waiting.
    cpu_seconds: f64,
    peak_mib: f64,
}

impl Measured {
    fn median(all: &[Measured]) -> Measured {
        let mid = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        Measured {
            seconds: mid(all.iter().map(|m| m.seconds).collect()),
            cpu_seconds: mid(all.iter().map(|m| m.cpu_seconds).collect()),
            peak_mib: mid(all.iter().map(|m| m.peak_mib).collect()),
        }
    }
}

impl std::fmt::Display for Measured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>7.2} s  cpu {:>7.2} s  peak {:>6.0} MiB",
            self.seconds, self.cpu_seconds, self.peak_mib
        )
    }
}

/// Writes the import file; returns the number of mentions.
fn generate(path: &Path, respondents: usize) -> u64 {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let popularity: Vec<f64> = (1..=AREAS).map(|a| 1.0 / (a as f64).powf(1.2)).collect();
    let areas = WeightedIndex::new(&popularity).expect("weights");
    let lengths = WeightedIndex::new(MENTION_COUNTS).expect("weights");
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("the import file"));
    writeln!(out, "respondent,wave,segment,rank,problem,area").expect("write");
    let mut mentions = 0;
    for i in 0..respondents {
        let segment = SEGMENTS[rng.random_range(0..SEGMENTS.len())];
        let who = format!("r{i:07},2026-H1,{segment}");
        if rng.random_bool(0.05) {
            writeln!(out, "{who},,,").expect("write");
            continue;
        }
        let length = lengths.sample(&mut rng) + 1;
        let mut chosen: Vec<usize> = Vec::with_capacity(length + 1);
        while chosen.len() < length {
            let area = areas.sample(&mut rng);
            if !chosen.contains(&area) {
                chosen.push(area);
            }
        }
        // A few respondents write the same problem twice; joint-v1 keeps the best rank.
        if length < MAX_PROBLEMS as usize && rng.random_bool(0.02) {
            chosen.push(chosen[0]);
        }
        for (r, &area) in chosen.iter().enumerate() {
            let wording = rng.random_range(0..8);
            let label = if rng.random_bool(0.9) {
                format!("Area {:02}", area + 1)
            } else {
                String::new()
            };
            writeln!(
                out,
                "{who},{},\"Problem {} as customer {i} put it, wording {wording}\",{label}",
                r + 1,
                area + 1
            )
            .expect("write");
            mentions += 1;
        }
    }
    out.flush().expect("write");
    mentions
}

/// Runs the real commands on a fresh database in `folder`.
fn commands(
    pds: &Path,
    backend: &Backend,
    file: &Path,
    folder: &Path,
    mentions: u64,
    code: bool,
) -> Vec<(String, Measured)> {
    let (url, dropper) = fresh_database(backend, folder);
    let run = |step: &[&str]| run_pds(pds, &url, folder, step);
    let file = file.display().to_string();
    let mut steps = Vec::new();
    let import = create_and_import(&run, &file);
    steps.push((
        format!("pds responses import ({mentions} mentions)"),
        import,
    ));
    let results = folder.join("results.csv").display().to_string();
    let step = run(&[
        "results", "--survey", SURVEY, "--format", "csv", "-o", &results,
    ]);
    steps.push(("pds results --format csv".to_string(), step));
    let export = folder.join("mentions.csv").display().to_string();
    let step = run(&[
        "export", "--survey", SURVEY, "--what", "mentions", "-o", &export,
    ]);
    steps.push(("pds export --what mentions".to_string(), step));
    let export = folder.join("areas.csv").display().to_string();
    let step = run(&[
        "export", "--survey", SURVEY, "--what", "areas", "-o", &export,
    ]);
    steps.push(("pds export --what areas".to_string(), step));
    steps.extend(dashboard(pds, &url, folder));
    if code {
        steps.push((
            "pds code (first round only)".to_string(),
            run(&["code", "--survey", SURVEY]),
        ));
    }
    if let Some((server, name)) = dropper {
        drop_postgres_database(&server, &name);
    }
    steps
}

/// A new database for one run: an SQLite file in `folder`, or a database on the
/// PostgreSQL server (with the server and name to drop it by).
fn fresh_database(backend: &Backend, folder: &Path) -> (String, Option<(String, String)>) {
    match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", folder.join("pds.db").display()),
            None,
        ),
        Backend::Postgres(server) => {
            let (url, name) = create_postgres_database(server);
            (url, Some((server.clone(), name)))
        }
    }
}

/// Runs `pds step` on the database at `url`, measured.
fn run_pds(pds: &Path, url: &str, folder: &Path, step: &[&str]) -> Measured {
    let mut command = Command::new(pds);
    command
        .args(step)
        .current_dir(folder)
        .env("PDS_DATABASE_URL", url)
        .env("PDS_MAIL_DIR", folder.join("mail"));
    measure_child(&mut command, &step.join(" "), &folder.join("stderr.txt"))
}

/// The dashboard's survey page at this size: `pds serve` on the run's database, a
/// session from a new API key, then the page twice: the first view computes the
/// results, the second comes from the cache. Each is timed from request to last
/// byte, with the server's CPU time for it (from `/proc`) and its peak memory so far.
fn dashboard(pds: &Path, url: &str, folder: &Path) -> Vec<(String, Measured)> {
    let key = pds_output(
        pds,
        url,
        folder,
        &["keys", "create", "--name", "scale-bench"],
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let bind = format!("127.0.0.1:{port}");
    let log = std::fs::File::create(folder.join("serve.txt")).expect("a log file");
    let mut server = Command::new(pds)
        .args(["serve", "--no-worker", "--bind", &bind])
        .current_dir(folder)
        .env("PDS_DATABASE_URL", url)
        .env("PDS_MAIL_DIR", folder.join("mail"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("pds serve");
    let base = format!("http://{bind}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let cookie = log_in(&agent, &base, key.trim());
    let page = format!("{base}/admin/surveys/{SURVEY}");
    let views = [
        "dashboard: first survey page",
        "dashboard: survey page again (cached)",
    ]
    .map(|what| {
        (
            what.to_string(),
            timed_view(&agent, &page, &cookie, server.id()),
        )
    });
    let _ = server.kill();
    let _ = server.wait();
    views.into()
}

/// Runs `pds step` and returns what it printed.
fn pds_output(pds: &Path, url: &str, folder: &Path, step: &[&str]) -> String {
    let out = Command::new(pds)
        .args(step)
        .current_dir(folder)
        .env("PDS_DATABASE_URL", url)
        .env("PDS_MAIL_DIR", folder.join("mail"))
        .output()
        .expect("pds");
    assert!(
        out.status.success(),
        "{step:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Logs in with `key` once the server answers (it applies migrations first);
/// returns the session cookie.
fn log_in(agent: &ureq::Agent, base: &str, key: &str) -> String {
    let started = Instant::now();
    loop {
        if let Ok(response) = agent
            .post(format!("{base}/admin/login"))
            .send_form([("key", key)])
        {
            let cookie = response
                .headers()
                .get("set-cookie")
                .and_then(|c| c.to_str().ok())
                .and_then(|c| c.split(';').next())
                .unwrap_or_else(|| panic!("no session from the login: {}", response.status()));
            return cookie.to_string();
        }
        assert!(started.elapsed().as_secs() < 120, "pds serve did not start");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// One view of `page`, timed; the server's CPU time over it and its peak memory.
fn timed_view(agent: &ureq::Agent, page: &str, cookie: &str, server: u32) -> Measured {
    let cpu_before = process_cpu_seconds(server);
    let started = Instant::now();
    let response = agent
        .get(page)
        .header("Cookie", cookie)
        .call()
        .expect("the survey page");
    let status = response.status();
    let body = response.into_body().read_to_string().expect("the page");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        status == 200 && body.contains("rank-bootstrap-v1"),
        "{status}: {body}"
    );
    Measured {
        seconds,
        cpu_seconds: process_cpu_seconds(server) - cpu_before,
        peak_mib: process_peak_mib(server),
    }
}

/// User and system CPU time of process `pid` so far (`/proc/PID/stat`).
fn process_cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces) are space-separated;
    // utime and stime are the 14th and 15th of the line.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) / per_second
}

/// Peak resident memory of process `pid` so far (`VmHWM` of `/proc/PID/status`).
fn process_peak_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Creates the survey and imports the file into it; measures the import.
fn create_and_import(run: &dyn Fn(&[&str]) -> Measured, file: &str) -> Measured {
    run(&[
        "survey",
        "create",
        "--template",
        SURVEY_FOLDER,
        "--slug",
        SURVEY,
    ]);
    run(&["responses", "import", "--survey", SURVEY, file])
}

/// Runs only `pds responses import` on a fresh database in `folder`.
fn import_command(
    pds: &Path,
    backend: &Backend,
    file: &Path,
    folder: &Path,
    mentions: u64,
) -> Vec<(String, Measured)> {
    let (url, dropper) = fresh_database(backend, folder);
    let run = |step: &[&str]| run_pds(pds, &url, folder, step);
    let file = file.display().to_string();
    let import = create_and_import(&run, &file);
    if let Some((server, name)) = dropper {
        drop_postgres_database(&server, &name);
    }
    vec![(
        format!("pds responses import ({mentions} mentions)"),
        import,
    )]
}

/// Runs `command` to its end (its standard error into `log`); exits the benchmark
/// with its words if it fails.
// The child is reaped by `wait4`, which also gives its own peak memory.
#[allow(clippy::zombie_processes)]
fn measure_child(command: &mut Command, what: &str, log: &Path) -> Measured {
    let started = Instant::now();
    let stderr = std::fs::File::create(log).expect("a log file");
    let child = command
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own child, not yet waited for; both pointers are valid.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let seconds = started.elapsed().as_secs_f64();
    if waited != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        let said = std::fs::read_to_string(log).unwrap_or_default();
        eprintln!("`{what}` failed:\n{said}");
        std::process::exit(1);
    }
    let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Measured {
        seconds,
        cpu_seconds: cpu(usage.ru_utime) + cpu(usage.ru_stime),
        peak_mib: usage.ru_maxrss as f64 / 1024.0,
    }
}

fn run_stats_core(file: &Path) -> Measured {
    let exe = std::env::current_exe().expect("this program's path");
    let mut command = Command::new(exe);
    command.arg("--stats-core").arg(file);
    let log = file.with_extension("stats-core.txt");
    measure_child(&mut command, "statistics core", &log)
}

/// The baseline: what any program pays to get from the file to the ranking.
fn stats_core(file: &Path) {
    let mut reader = csv::Reader::from_path(file).expect("the import file");
    let mut respondents: Vec<Vec<Mention>> = Vec::new();
    let mut areas: Vec<String> = Vec::new();
    let mut last = String::new();
    for record in reader.records() {
        let record = record.expect("a row");
        if record[0] != *last {
            last = record[0].to_string();
            respondents.push(Vec::new());
        }
        let (Ok(rank), area) = (record[3].parse::<u32>(), &record[5]) else {
            continue;
        };
        if area.is_empty() {
            continue;
        }
        let index = match areas.iter().position(|a| a == area) {
            Some(i) => i,
            None => {
                areas.push(area.to_string());
                areas.len() - 1
            }
        };
        if let Some(r) = respondents.last_mut() {
            r.push(Mention { area: index, rank });
        }
    }
    let input = DiscoveryInput {
        max_problems: MAX_PROBLEMS,
        area_count: areas.len(),
        respondents: pds::stats::Respondents::Nested(&respondents),
    };
    let scores = joint_v1(&input).expect("scores");
    let stability = rank_stability(&input, &BootstrapOptions::default()).expect("bootstrap");
    assert_eq!(scores.len(), stability.areas.len());
}

/// The baseline of storing: the file's rows into one plain table, in one
/// transaction, by multi-row INSERT (SQLite) or COPY (PostgreSQL).
fn bare_load(backend: &Backend, file: &Path, folder: &Path) -> Measured {
    let started = Instant::now();
    match backend {
        Backend::Sqlite => {
            let url = folder.join("bare.db").display().to_string();
            let mut conn = SqliteConnection::establish(&url).expect("the bare database");
            conn.batch_execute(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 CREATE TABLE bare (respondent TEXT, wave TEXT, segment TEXT, \
                 rank INTEGER, problem TEXT, area TEXT);",
            )
            .expect("the bare table");
            conn.transaction(|conn| insert_rows(conn, file))
                .expect("bare INSERT");
        }
        Backend::Postgres(server) => {
            let (url, name) = create_postgres_database(server);
            let mut conn = PgConnection::establish(&url).expect("the bare database");
            conn.batch_execute(
                "CREATE TABLE bare (respondent TEXT, wave TEXT, segment TEXT, \
                 rank INTEGER, problem TEXT, area TEXT);",
            )
            .expect("the bare table");
            let started = Instant::now();
            copy_rows(&mut conn, file);
            let seconds = started.elapsed().as_secs_f64();
            drop(conn);
            drop_postgres_database(server, &name);
            return Measured {
                seconds,
                cpu_seconds: 0.0,
                peak_mib: 0.0,
            };
        }
    }
    Measured {
        seconds: started.elapsed().as_secs_f64(),
        cpu_seconds: 0.0,
        peak_mib: 0.0,
    }
}

diesel::table! {
    bare (rowid) {
        rowid -> BigInt,
        respondent -> Text,
        wave -> Text,
        segment -> Text,
        rank -> Nullable<Integer>,
        problem -> Text,
        area -> Text,
    }
}

type BareRow = (String, String, String, Option<i32>, String, String);

fn bare_rows(file: &Path) -> impl Iterator<Item = BareRow> {
    csv::Reader::from_path(file)
        .expect("the import file")
        .into_records()
        .map(|r| {
            let r = r.expect("a row");
            (
                r[0].to_string(),
                r[1].to_string(),
                r[2].to_string(),
                r[3].parse().ok(),
                r[4].to_string(),
                r[5].to_string(),
            )
        })
}

fn insert_rows(conn: &mut SqliteConnection, file: &Path) -> QueryResult<()> {
    let mut batch = Vec::with_capacity(500);
    let flush = |batch: &mut Vec<BareRow>, conn: &mut SqliteConnection| {
        let values: Vec<_> = batch
            .drain(..)
            .map(|(respondent, wave, segment, rank, problem, area)| {
                (
                    bare::respondent.eq(respondent),
                    bare::wave.eq(wave),
                    bare::segment.eq(segment),
                    bare::rank.eq(rank),
                    bare::problem.eq(problem),
                    bare::area.eq(area),
                )
            })
            .collect();
        diesel::insert_into(bare::table)
            .values(values)
            .execute(conn)
    };
    for row in bare_rows(file) {
        batch.push(row);
        if batch.len() == 500 {
            flush(&mut batch, conn)?;
        }
    }
    flush(&mut batch, conn)?;
    Ok(())
}

fn copy_rows(conn: &mut PgConnection, file: &Path) {
    let rows: Vec<_> = bare_rows(file)
        .map(|(respondent, wave, segment, rank, problem, area)| {
            (
                bare::respondent.eq(respondent),
                bare::wave.eq(wave),
                bare::segment.eq(segment),
                bare::rank.eq(rank),
                bare::problem.eq(problem),
                bare::area.eq(area),
            )
        })
        .collect();
    diesel::copy_from(bare::table)
        .from_insertable(rows)
        .execute(conn)
        .expect("bare COPY");
}

fn report(backend: &Backend, runs: &[Vec<(String, Measured)>], bare: &[Measured], mentions: u64) {
    let name = match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres(_) => "PostgreSQL",
    };
    let bare_verb = match backend {
        Backend::Sqlite => "INSERT",
        Backend::Postgres(_) => "COPY",
    };
    let bare = (!bare.is_empty()).then(|| Measured::median(bare));
    if let Some(bare) = bare {
        println!(
            "{name}: baseline, bare {bare_verb} of the file's rows: {:>7.2} s  ({:.0} rows/s)",
            bare.seconds,
            mentions as f64 / bare.seconds
        );
    }
    for (i, (step, _)) in runs[0].iter().enumerate() {
        let all: Vec<Measured> = runs.iter().filter_map(|r| r.get(i)).map(|s| s.1).collect();
        let m = Measured::median(&all);
        let rate = match (i, bare) {
            (0, Some(bare)) => format!(
                "  {:.0} mentions/s, {:.2}x the bare {bare_verb}",
                mentions as f64 / m.seconds,
                m.seconds / bare.seconds
            ),
            (0, None) => format!("  {:.0} mentions/s", mentions as f64 / m.seconds),
            _ => String::new(),
        };
        println!("{name}: {step:<44} {m}{rate}");
    }
}

/// A fresh database on the PostgreSQL server at `server`, and its name.
fn create_postgres_database(server: &str) -> (String, String) {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("pds_scale_bench_{}_{n}", std::process::id());
    let mut conn = PgConnection::establish(&without_gss(server)).unwrap_or_else(|e| {
        eprintln!("cannot connect to PostgreSQL at {server}: {e}");
        std::process::exit(2)
    });
    conn.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create the benchmark database");
    let mut url = url::Url::parse(server).expect("a PostgreSQL URL");
    url.set_path(&format!("/{name}"));
    (without_gss(url.as_str()), name)
}

fn drop_postgres_database(server: &str, name: &str) {
    if let Ok(mut conn) = PgConnection::establish(&without_gss(server)) {
        let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}

/// As `pds::db` does: libpq's default GSS attempt loads Kerberos, whose destructors
/// can abort a process that exits while a connection is open.
fn without_gss(url: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    if url.contains("gssencmode") {
        url.to_string()
    } else {
        format!("{url}{separator}gssencmode=disable")
    }
}

/// `target/<profile>/pds`, rebuilt first so that it matches the source.
fn pds_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("this program's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the example runs from target/<profile>/examples")
        .to_path_buf();
    let release = profile_dir.file_name().and_then(|n| n.to_str()) == Some("release");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = vec!["build", "--bin", "pds"];
    if release {
        build.push("--release");
    }
    let built = Command::new(cargo)
        .args(&build)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status();
    let binary = profile_dir.join("pds");
    if !matches!(built, Ok(s) if s.success()) && !binary.exists() {
        eprintln!("{} is missing: run cargo build first", binary.display());
        std::process::exit(2);
    }
    binary
}
