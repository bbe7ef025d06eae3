//! `pds serve`: the answer form over HTTP, with the outbox worker alongside.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::{jobs, mail, web};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (overrides the bind setting).
    #[arg(long)]
    bind: Option<SocketAddr>,
    /// Do not deliver email or run the cadence and announcement jobs from this
    /// process (run `pds worker` elsewhere).
    #[arg(long)]
    no_worker: bool,
}

pub fn run(args: Args, settings: Settings) -> Result<()> {
    let settings = match args.bind {
        Some(bind) => settings.with_bind(bind),
        None => settings,
    };
    let db = super::open_db(&settings)?;
    let listener = TcpListener::bind(settings.bind).map_err(|e| {
        Error::Config(format!(
            "bind {}: {e} (is another server using it?)",
            settings.bind
        ))
    })?;
    let stop = Arc::new(AtomicBool::new(false));
    let worker = (!args.no_worker).then(|| {
        let (db, settings, stop) = (db.clone(), settings.clone(), stop.clone());
        std::thread::spawn(move || mail::run_worker(db, settings, Duration::from_secs(2), stop))
    });
    let jobs = (!args.no_worker).then(|| {
        let (db, settings, stop) = (db.clone(), settings.clone(), stop.clone());
        std::thread::spawn(move || jobs::run(db, settings, Duration::from_secs(60), stop))
    });
    println!(
        "Serving on http://{} (links in emails point to {}). Stop with Ctrl-C.",
        settings.bind, settings.public_url
    );
    let state = web::AppState::new(db, settings)?;
    let result = actix_web::rt::System::new().block_on(async move {
        web::start(listener, state)?
            .await
            .map_err(|e| Error::Invalid(e.to_string()))
    });
    stop.store(true, Ordering::Relaxed);
    if let Some(handle) = worker {
        let _ = handle.join();
    }
    if let Some(handle) = jobs {
        let _ = handle.join();
    }
    result
}
