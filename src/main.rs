//! The `pds` command: parses the command line and hands over to the library.

use clap::Parser;

fn main() {
    let cli = pds::cli::Cli::parse();
    std::process::exit(pds::cli::run(cli));
}
