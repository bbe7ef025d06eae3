//! The `pds` command: parses the command line and hands over to the library.

use clap::Parser;

/// mimalloc instead of the system allocator: answering a form allocates and frees
/// many small buffers on several threads, where glibc's allocator spent a seventh
/// of the server's time (examples/load_bench.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = pds::cli::Cli::parse();
    std::process::exit(pds::cli::run(cli));
}
