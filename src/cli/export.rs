//! `pds export --survey SLUG --what areas|mentions|responses [--wave W] [--excel]
//! [--output FILE]`: CSV for spreadsheets, R and pandas, streamed page by page.

use std::io::Write;
use std::path::PathBuf;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::report::{self, Dialect, Export, ExportOptions};
use crate::survey::{store, SurveySlug};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    survey: String,
    /// areas: the ranked areas with every figure; mentions: one row per mention;
    /// responses: one row per response.
    #[arg(long, value_enum)]
    what: Export,
    /// Only this wave (default: all waves).
    #[arg(long)]
    wave: Option<String>,
    /// Spell the CSV for a Swedish Excel: UTF-8 BOM, `;`, decimal comma, CRLF.
    #[arg(long)]
    excel: bool,
    /// Write to this file instead of the terminal.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let slug: SurveySlug = args.survey.parse()?;
    let options = ExportOptions {
        what: args.what,
        wave: args.wave.as_deref().map(str::parse).transpose()?,
        dialect: if args.excel {
            Dialect::Excel
        } else {
            Dialect::Standard
        },
    };
    let db = super::open_db(settings)?;
    let mut conn = db.conn()?;
    let survey = store::find(&mut conn, &slug)?;
    let bar = super::progress(match args.what {
        Export::Areas => "bootstrap",
        Export::Mentions => "mentions",
        Export::Responses => "responses",
    });
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    // Without a terminal to draw on, the rows are not counted first.
    let progress: report::OnProgress = match bar.is_hidden() {
        true => None,
        false => Some(&progress),
    };
    match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
            let exported = report::export(&mut conn, &survey, &options, file, progress);
            bar.finish_and_clear();
            let exported = exported?;
            println!(
                "Wrote {} {} of survey {} to {}.",
                exported.rows,
                match args.what {
                    Export::Areas => "areas",
                    Export::Mentions => "mentions",
                    Export::Responses => "responses",
                },
                survey.slug,
                path.display()
            );
        }
        None => {
            let stdout = std::io::stdout().lock();
            let exported = report::export(&mut conn, &survey, &options, stdout, progress);
            bar.finish_and_clear();
            exported?;
            std::io::stdout()
                .flush()
                .map_err(|e| Error::io("<stdout>", e))?;
        }
    }
    Ok(())
}
