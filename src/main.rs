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
    /// Exit 0 when the service on `PORT` answers `GET /health` with 200 (for container health
    /// checks, where no curl is installed).
    Healthcheck,
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
    if let Some(Command::Healthcheck) = cli.command {
        return healthcheck();
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
            Command::Serve | Command::Openapi { .. } | Command::Healthcheck => {
                app::serve(config).await
            }
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

fn healthcheck() -> ExitCode {
    use std::io::{Read, Write};
    use std::time::Duration;
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(3000);
    let timeout = Duration::from_secs(2);
    let answered_ok = (|| -> std::io::Result<bool> {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.write_all(b"GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
        let mut head = [0_u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head.ends_with(b" 200"))
    })();
    if matches!(answered_ok, Ok(true)) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
