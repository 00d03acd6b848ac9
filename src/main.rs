//! The `defarm` binary: `serve` (default), `migrate`, `openapi`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use defarm::adapters::http;
use defarm::app::{self, Config, telemetry};

#[derive(Parser)]
#[command(
    name = "defarm",
    version,
    about = "DeFarm Engines: supply-chain traceability API"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI spec (JSON, or YAML with --yaml).
    Openapi {
        #[arg(long)]
        yaml: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi { yaml }) = cli.command {
        let spec = if yaml {
            http::spec_yaml()
        } else {
            http::spec_json()
        };
        #[allow(clippy::print_stdout)]
        {
            println!("{spec}");
        }
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init_tracing(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Migrate => app::open_database(&config)
                .await
                .map(|_| tracing::info!("migrations applied")),
            _ => app::serve(config).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "stopped with an error");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
