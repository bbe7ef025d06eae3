//! Outbox throughput: queue and deliver 100,000 invitations to an SMTP server on
//! loopback, and compare with a bare lettre loop sending the same number of messages
//! to the same server (the floor any engine pays for SMTP itself).
//!
//!     cargo run --release --example outbox_bench [-- MESSAGES]
//!
//! The SMTP server is this program started again as a child process (`--sink PORT`):
//! a minimal server that accepts every message and discards it, so that its CPU time
//! can be read from /proc and shown not to be the limit.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use lettre::message::{Mailbox, MultiPart};
use lettre::{Message, SmtpTransport, Transport};
use pds::config::{MailTransport, Settings};
use pds::db::Database;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--sink") {
        let port: u16 = args[2].parse().expect("port");
        return sink(port);
    }
    let messages: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = start_sink(port);
    let smtp = format!("smtp://127.0.0.1:{port}");

    // Baseline: lettre alone, one pooled connection, the same number of messages.
    let transport = SmtpTransport::builder_dangerous("127.0.0.1")
        .port(port)
        .build();
    let from: Mailbox = "Research <research@nordvik.example>".parse().unwrap();
    let started = Instant::now();
    for i in 0..messages {
        let email = Message::builder()
            .from(from.clone())
            .to(format!("Kund {i} <k{i}@bench.example>").parse().unwrap())
            .subject("Vilka problem har du haft med Nordvik Supply?")
            .multipart(MultiPart::alternative_plain_html(
                "text ".repeat(200),
                "<p>html</p>".repeat(100),
            ))
            .unwrap();
        transport.send(&email).expect("baseline send");
    }
    let baseline = started.elapsed().as_secs_f64();
    let sink_cpu_baseline = cpu_seconds(child.id());

    // pds: contacts, invitations queued in the outbox, delivered by the worker.
    let mut settings = Settings::in_folder(dir.path()).unwrap();
    settings.mail = MailTransport::Smtp(pds::config::SecretUrl::new(smtp));
    let db = Database::open(&settings.database_url).unwrap();
    let survey = pds::setup::create(
        &db,
        &"bench".parse().unwrap(),
        &pds::setup::shipped("discovery").unwrap(),
    )
    .unwrap();
    let mut csv = String::from("email,name,locale,region\n");
    for i in 0..messages {
        let locale = if i % 3 == 0 { "en" } else { "sv" };
        csv.push_str(&format!(
            "k{i}@bench.example,Kund Åberg {i},{locale},North\n"
        ));
    }
    let hidden = indicatif::ProgressBar::hidden();
    pds::invite::contacts::import(&db, csv.as_bytes(), "bench.csv", false, &hidden).unwrap();
    let started = Instant::now();
    let report = pds::invite::invite(
        &db,
        &settings,
        &survey,
        &"w1".parse().unwrap(),
        None,
        &hidden,
    )
    .unwrap();
    let queue = started.elapsed().as_secs_f64();
    assert_eq!(report.queued, messages);
    let started = Instant::now();
    let transport = pds::mail::Transport::from_settings(&settings).unwrap();
    let delivered = pds::mail::deliver_due(&db, &settings, &transport).unwrap();
    let deliver = started.elapsed().as_secs_f64();
    assert_eq!(delivered.sent, messages, "every invitation delivered");
    let sink_cpu = cpu_seconds(child.id()) - sink_cpu_baseline;
    let _ = child.kill();
    let _ = child.wait();

    let peak = peak_memory_mib();
    println!("outbox_bench: {messages} invitations to an SMTP server on 127.0.0.1 (2 cores)");
    println!(
        "  baseline (bare lettre, no database):  {:>8.0} messages/s  ({baseline:.1} s)",
        messages as f64 / baseline
    );
    println!(
        "  pds queue (render + token + outbox):  {:>8.0} messages/s  ({queue:.1} s)",
        messages as f64 / queue
    );
    println!(
        "  pds deliver (claim, send, record):     {:>8.0} messages/s  ({deliver:.1} s)",
        messages as f64 / deliver
    );
    println!(
        "  pds deliver / baseline:                {:>8.2}",
        baseline / deliver
    );
    println!(
        "  SMTP server CPU while pds delivered:   {:>8.1} s of {deliver:.1} s wall ({:.0}% of one core)",
        sink_cpu,
        100.0 * sink_cpu / deliver
    );
    println!("  peak memory of the pds process:        {peak:>8.0} MiB (VmHWM)");
}

fn start_sink(port: u16) -> Child {
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--sink", &port.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .expect("start the sink");
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child
}

/// A minimal SMTP server: accepts and discards every message.
fn sink(port: u16) {
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind sink");
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || {
            let _ = session(stream);
        });
    }
}

fn session(stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    out.write_all(b"220 sink ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => out.write_all(b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")?,
            "DATA" => {
                out.write_all(b"354 go ahead\r\n")?;
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                }
                out.write_all(b"250 queued\r\n")?;
            }
            "QUIT" => {
                out.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => out.write_all(b"250 ok\r\n")?,
        }
    }
}

/// User + system CPU seconds of a process, from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn peak_memory_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
