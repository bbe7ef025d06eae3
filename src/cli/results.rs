//! `pds results --survey SLUG [--wave W] [--format table|csv|json] [--output FILE]`.

use std::io::Write;
use std::path::PathBuf;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::report::{self, Format};
use crate::survey::{store, SurveySlug, WaveLabel};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    survey: String,
    #[arg(long)]
    wave: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write to this file instead of the terminal.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let slug: SurveySlug = args.survey.parse()?;
    let wave: Option<WaveLabel> = args.wave.as_deref().map(str::parse).transpose()?;
    let db = super::open_db(settings)?;
    let mut conn = db.conn()?;
    let survey = store::find(&mut conn, &slug)?;
    let results = report::results(&mut conn, &survey, wave.as_ref())?;
    match &args.output {
        Some(path) => {
            let mut file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
            report::write(&results, args.format, &mut file)?;
            file.flush().map_err(|e| Error::io(path, e))?;
            println!("Wrote {} areas to {}.", results.areas.len(), path.display());
        }
        None => report::write(&results, args.format, &mut std::io::stdout().lock())?,
    }
    Ok(())
}
