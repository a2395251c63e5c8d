use clap::{Parser, Subcommand};
use std::process::ExitCode;
use tote::config::Settings;
use tote::startup::{Application, open_store};

/// mimalloc rather than glibc's malloc: the request path allocates a great deal on many
/// threads, and glibc's allocator alone took 7 % of the machine's CPU under load
/// (`make bench`, docs/adr/017).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tote: order fulfilment for e-commerce sellers.
///
/// Configured by environment variables (see the README): TOTE_HTTP_ADDR, DATABASE_URL,
/// AMQP_URL, TOTE_LOG_FORMAT, ...
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (migrates the database first).
    Serve,
    /// Publish outbox events and run the event consumers (RabbitMQ when AMQP_URL is set).
    Worker,
    /// Bring the database schema up to date, then exit.
    Migrate,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tote: {e}");
            return ExitCode::from(2);
        }
    };
    // Held to the end of main: dropping it flushes buffered traces.
    let _telemetry = tote::telemetry::init(settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tote: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), Box<dyn std::error::Error>> = runtime.block_on(async move {
        match cli.command {
            Command::Serve => {
                let app = Application::build(settings).await?;
                app.run_until_stopped().await?;
            }
            Command::Worker => tote::worker::run(settings).await?,
            Command::Migrate => {
                tracing::info!("migrating {}", settings.database_label());
                open_store(&settings, true).await?;
                tracing::info!("database schema is up to date");
            }
        }
        Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("tote: {e}");
            ExitCode::FAILURE
        }
    }
}
