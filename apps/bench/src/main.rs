//! `bench`: Tote's benchmarks. `bench all` runs every scenario and writes docs/BENCHMARKS.md;
//! `bench smoke` runs each for about a second with tiny sizes; `bench seed-scale` builds the
//! large tenant the scale scenario reads.

mod app;
mod conn;
mod contention;
mod cpu;
mod error;
mod load;
mod machine;
mod orders;
mod pg;
mod pgbench;
mod picking;
mod report;
mod scale;
mod scale_seed;
mod startup;
mod stats;
mod suite;
mod tail;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc rather than glibc's malloc: the request path allocates a great deal on many
/// threads, and glibc's allocator alone took 7 % of the machine's CPU under load
/// (`make bench`, docs/adr/017). The app runs inside this binary, so it gets the same.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tote's benchmarks. Needs PostgreSQL on 127.0.0.1:5432 (user postgres, no password; or set
/// TEST_DATABASE_URL) and pgbench on PATH. `make services` starts PostgreSQL.
#[derive(Parser)]
#[command(about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every scenario at full size; writes the report (default docs/BENCHMARKS.md).
    All(suite::Options),
    /// Every scenario for about a second with tiny sizes: checks they run and produce numbers.
    Smoke,
    /// Builds (or keeps) the scale database only.
    SeedScale(SeedArgs),
}

#[derive(Args)]
struct SeedArgs {
    #[arg(long, default_value_t = 1_000_000)]
    orders: u64,
    #[arg(long, default_value_t = 100_000)]
    skus: u64,
    /// Rebuild even if a finished seed of this size exists.
    #[arg(long)]
    reseed: bool,
    #[arg(long, default_value = "tote_bench_scale")]
    database: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::All(options) => suite::all(options).await,
            Command::Smoke => suite::smoke().await,
            Command::SeedScale(a) => {
                suite::seed_scale(scale_seed::ScaleSpec {
                    db_name: a.database,
                    orders: a.orders,
                    skus: a.skus,
                    reseed: a.reseed,
                })
                .await
            }
        }
    });
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Default report path: docs/BENCHMARKS.md at the workspace root.
fn default_report_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/BENCHMARKS.md")
}
