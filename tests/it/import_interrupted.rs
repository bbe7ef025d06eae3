//! An import run while nothing else has the SQLite file open writes its rows
//! straight into the file (a rollback journal instead of the write-ahead log):
//! stopped half-way, even by `kill -9`, it leaves the database as it was, and the
//! next command finds it whole and back in write-ahead-log mode.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

/// `pds` on the SQLite file `db` in `dir`, with no server or other process on it.
fn pds(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pds"));
    command
        .args(args)
        .current_dir(dir)
        .env(
            "PDS_DATABASE_URL",
            format!("sqlite://{}", dir.join("i.db").display()),
        )
        .env("PDS_MAIL_DIR", dir.join("mail"));
    command
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "pds failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn respondents_file(dir: &Path, name: &str, prefix: &str, respondents: usize) -> String {
    let mut csv = String::from("respondent,wave,segment,rank,problem,area\n");
    for r in 0..respondents {
        csv.push_str(&format!(
            "{prefix}{r},2026-H1,current,1,Parcel {r} late,Delivery\n"
        ));
        csv.push_str(&format!(
            "{prefix}{r},2026-H1,current,2,Invoice {r} wrong,Billing\n"
        ));
    }
    let path = dir.join(name);
    std::fs::write(&path, csv).unwrap();
    path.display().to_string()
}

fn respondents(dir: &Path) -> u64 {
    let json = ok(
        pds(dir, &["results", "--survey", "imp", "--format", "json"])
            .output()
            .unwrap(),
    );
    let results: serde_json::Value = serde_json::from_str(&json).unwrap();
    results["n"].as_u64().unwrap()
}

fn sqlite_says(dir: &Path, pragma: &str) -> String {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Said {
        #[diesel(sql_type = diesel::sql_types::Text)]
        said: String,
    }
    let mut conn = SqliteConnection::establish(&dir.join("i.db").display().to_string()).unwrap();
    diesel::sql_query(format!("SELECT {pragma} AS said FROM pragma_{pragma}"))
        .get_result::<Said>(&mut conn)
        .map(|s| s.said)
        .unwrap_or_else(|e| panic!("PRAGMA {pragma}: {e}"))
}

#[test]
fn an_import_killed_half_way_leaves_the_database_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    ok(pds(
        dir,
        &["survey", "create", "--template", TEMPLATE, "--slug", "imp"],
    )
    .output()
    .unwrap());
    let small = respondents_file(dir, "small.csv", "s", 30);
    let out = ok(
        pds(dir, &["responses", "import", "--survey", "imp", &small])
            .output()
            .unwrap(),
    );
    assert!(out.contains("Imported 30 new"), "{out}");
    assert_eq!(respondents(dir), 30);

    // A large import, killed as soon as its journal shows it writing into the file.
    let large = respondents_file(dir, "large.csv", "l", 60_000);
    let mut import = pds(dir, &["responses", "import", "--survey", "imp", &large])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let journal = dir.join("i.db-journal");
    let started = Instant::now();
    while !journal.exists() {
        assert!(
            import.try_wait().unwrap().is_none(),
            "the import ended before it wrote into the file without the log"
        );
        assert!(started.elapsed() < Duration::from_secs(120), "no journal");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    import.kill().unwrap();
    import.wait().unwrap();

    assert_eq!(respondents(dir), 30, "the killed import left nothing");
    assert_eq!(sqlite_says(dir, "quick_check"), "ok");
    assert_eq!(sqlite_says(dir, "journal_mode"), "wal");
    assert!(!journal.exists(), "the journal was played back and removed");

    let out = ok(
        pds(dir, &["responses", "import", "--survey", "imp", &large])
            .output()
            .unwrap(),
    );
    assert!(out.contains("Imported 60000 new"), "{out}");
    assert_eq!(respondents(dir), 60_030);
    assert_eq!(sqlite_says(dir, "journal_mode"), "wal");
}
