//! The `defarm` binary: `serve` (default), `migrate`, `openapi`, `admin`, `log keygen`, `verify`,
//! `epcis-hash`, `healthcheck`.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use defarm::adapters::http;
use defarm::app::{self, Config, telemetry};

#[derive(Parser)]
#[command(
    name = "defarm",
    version,
    about = "DeFarm Engines: supply-chain traceability API",
    after_help = "Configuration comes from environment variables: `defarm serve --help` lists them.",
    // Debug builds (the tests) refuse an argument without help text.
    help_expected = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default), configured by the environment variables below.
    #[command(after_help = app::config::variables_help())]
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI spec (JSON, or YAML with --yaml).
    Openapi {
        /// YAML instead of JSON.
        #[arg(long)]
        yaml: bool,
    },
    /// Administration from the command line.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The transparency log's keys.
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
    /// Check a proof bundle (`GET /api/items/{dfid}/proof`) offline: exits non-zero, naming the
    /// record, on any failure.
    Verify {
        /// The bundle's JSON file (`-` for standard input).
        bundle: String,
        /// The log's verifier key (`GET /log/key`, obtained out of band).
        #[arg(long)]
        key: String,
    },
    /// Print the CBV 2.0 event hash of each event of an EPCIS 2.0 JSON document, one per line.
    EpcisHash {
        /// The document's file (`-` for standard input).
        document: String,
        /// Print each event's pre-hash string after its hash.
        #[arg(long)]
        prehash: bool,
    },
    /// Exit 0 when the service on `HOST`/`PORT` answers `GET /health` with 200 (for container
    /// health checks, where no curl is installed); otherwise say why on stderr and exit 1.
    Healthcheck,
}

#[derive(Subcommand)]
enum LogCommand {
    /// Print a new signing key (for `LOG_SIGNING_KEY`) and, on the next line, its verifier key.
    Keygen {
        /// The log's name: `LOG_ORIGIN`, which names its key.
        #[arg(long, default_value = "defarm.local/log")]
        origin: String,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account (the first administrator comes from here or `DEFARM_ADMIN_*`); prints
    /// its id.
    CreateUser {
        /// 3 to 64 characters of A-Z a-z 0-9 . _ -
        #[arg(long)]
        username: String,
        /// Where password reset tokens go; unique.
        #[arg(long)]
        email: String,
        /// Prefer `DEFARM_NEW_USER_PASSWORD` in the environment: arguments show up in `ps`.
        #[arg(long, env = "DEFARM_NEW_USER_PASSWORD", hide_env_values = true)]
        password: String,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
        /// The account's tier (any letter case).
        #[arg(long, value_enum, ignore_case = true, default_value_t = TierArg::Basic)]
        tier: TierArg,
    },
    /// List accounts, newest first, one per line: id, username, email, tier, status, admin,
    /// created (tab-separated, after a header line).
    ListUsers {
        /// Only accounts whose username or email contains this (any letter case).
        #[arg(long)]
        query: Option<String>,
        /// Only accounts of this tier (any letter case).
        #[arg(long, value_enum, ignore_case = true)]
        tier: Option<TierArg>,
        /// Only accounts in this status (any letter case).
        #[arg(long, value_enum, ignore_case = true)]
        status: Option<StatusArg>,
    },
    /// Change an account's tier (its limits); prints the account's line.
    SetTier {
        /// The account's id, username or email.
        user: String,
        /// Any letter case.
        #[arg(value_enum, ignore_case = true)]
        tier: TierArg,
    },
    /// Change an account's status (suspend, ban, reactivate). Logins see it at once; running
    /// servers on their next request with REDIS_URL, else within a minute (their account
    /// cache). Prints the account's line.
    SetStatus {
        /// The account's id, username or email.
        user: String,
        /// Any letter case.
        #[arg(value_enum, ignore_case = true)]
        status: StatusArg,
        /// Told to the user in their notification; kept in the audit log.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Make an account an administrator (or, with --revoke, no longer one). Prints its line.
    SetAdmin {
        /// The account's id, username or email.
        user: String,
        /// Take administration away instead.
        #[arg(long)]
        revoke: bool,
    },
    /// Print a one-time password reset token for an account, for the operator to hand over
    /// (this build sends no mail); the user sends it with a new password to
    /// `POST /api/auth/reset-password`.
    ResetPassword {
        /// The account's id, username or email.
        user: String,
    },
}

/// Service tiers as the command line names them.
#[derive(Clone, Copy, clap::ValueEnum)]
enum TierArg {
    Basic,
    Professional,
    Enterprise,
    Admin,
}

/// Account statuses as the command line names them.
#[derive(Clone, Copy, clap::ValueEnum)]
enum StatusArg {
    Active,
    Suspended,
    Banned,
    PendingVerification,
    TrialExpired,
}

impl From<StatusArg> for defarm::domain::identity::account::AccountStatus {
    fn from(status: StatusArg) -> Self {
        match status {
            StatusArg::Active => Self::Active,
            StatusArg::Suspended => Self::Suspended,
            StatusArg::Banned => Self::Banned,
            StatusArg::PendingVerification => Self::PendingVerification,
            StatusArg::TrialExpired => Self::TrialExpired,
        }
    }
}

impl From<TierArg> for defarm::domain::identity::account::Tier {
    fn from(tier: TierArg) -> Self {
        match tier {
            TierArg::Basic => Self::Basic,
            TierArg::Professional => Self::Professional,
            TierArg::Enterprise => Self::Enterprise,
            TierArg::Admin => Self::Admin,
        }
    }
}

// mimalloc rather than glibc's malloc: a thread-local heap per worker instead of arena locks, and
// about 15 % more public pages per second (P12). Its two memory settings are in the README.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // `--version` names the commit, as `/version` does; computed at run time because a build
    // may be given its commit through DEFARM_OVERRIDE_GIT_HASH.
    let build = app::build_info();
    // clap keeps a `&'static str`; this string is made once per process.
    let version: &'static str = Box::leak(
        format!(
            "{} (commit {}, built {})",
            build.version, build.commit_short, build.build_time
        )
        .into_boxed_str(),
    );
    let matches = Cli::command().version(version).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    if let Some(Command::Openapi { yaml }) = cli.command {
        let spec = if yaml { http::spec_yaml() } else { http::spec_json() };
        return print_to_stdout(&spec);
    }
    if let Some(Command::Healthcheck) = cli.command {
        return healthcheck();
    }
    if let Some(Command::Verify { bundle, key }) = &cli.command {
        return verify(bundle, key);
    }
    if let Some(Command::EpcisHash { document, prehash }) = &cli.command {
        return epcis_hash(document, *prehash);
    }
    if let Some(Command::Log {
        command: LogCommand::Keygen { origin },
    }) = &cli.command
    {
        return log_keygen(origin);
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    let output = match cli.command {
        None | Some(Command::Serve) => telemetry::LogOutput::Stdout,
        Some(_) => telemetry::LogOutput::Stderr,
    };
    if let Err(err) = telemetry::init_tracing(config.log_format, output) {
        eprintln!("configuration error: {err}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
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
            Command::Admin { command } => run_admin(&config, command).await,
            Command::Serve
            | Command::Openapi { .. }
            | Command::Healthcheck
            | Command::Log { .. }
            | Command::Verify { .. }
            | Command::EpcisHash { .. } => app::serve(config).await,
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

fn read_input(path: &str) -> Result<String, String> {
    if path == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("standard input: {e}"))
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
    }
}

fn epcis_hash(path: &str, prehash: bool) -> ExitCode {
    use defarm::domain::epcis::{document_events, hash};
    let hashed = (|| -> Result<Vec<(String, String)>, String> {
        let document: serde_json::Value =
            serde_json::from_str(&read_input(path)?).map_err(|e| format!("{path}: not JSON: {e}"))?;
        let (namespaces, events) = document_events(&document).map_err(|e| format!("{path}: {e}"))?;
        Ok(events
            .iter()
            .map(|event| (hash::event_hash(event, &namespaces), hash::pre_hash(event, &namespaces)))
            .collect())
    })();
    match hashed {
        Ok(hashes) => {
            #[allow(clippy::print_stdout)]
            for (hash, pre_hash) in hashes {
                println!("{hash}");
                if prehash {
                    println!("{pre_hash}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("FAILED: {failure}");
            ExitCode::FAILURE
        }
    }
}

fn verify(path: &str, key: &str) -> ExitCode {
    use defarm::domain::log::bundle_check::verify_bundle;
    use defarm::domain::log::note::NoteVerifier;
    let checked = (|| -> Result<_, String> {
        let key = NoteVerifier::parse(key).map_err(|e| format!("--key: {e}"))?;
        let text = read_input(path)?;
        let bundle: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{path}: not JSON: {e}"))?;
        verify_bundle(&bundle, &key)
    })();
    match checked {
        Ok(verified) => {
            #[allow(clippy::print_stdout)]
            {
                println!(
                    "OK: {} versions, {} events and {} receipts are in the log of {} entries signed by the key",
                    verified.versions, verified.events, verified.receipts, verified.tree_size
                );
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("FAILED: {failure}");
            ExitCode::FAILURE
        }
    }
}

/// Prints `text` and a newline. A reader that stops early (`defarm openapi | head`) is not an
/// error: the output was wanted only in part.
fn print_to_stdout(text: &str) -> ExitCode {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: standard output: {err}");
            ExitCode::FAILURE
        }
    }
}

fn log_keygen(origin: &str) -> ExitCode {
    use defarm::domain::log::note::NoteSigner;
    match NoteSigner::from_seed(origin, rand::random()) {
        Ok(key) => print_to_stdout(&format!("{}\n{}", key.private_key_string(), key.verifier())),
        Err(err) => {
            eprintln!("error: --origin: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Asks `GET /health` of the service on `HOST`/`PORT` (loopback when HOST listens everywhere).
fn healthcheck() -> ExitCode {
    use std::io::{Read, Write};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
    use std::time::Duration;
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(3000);
    let host = match std::env::var("HOST").ok().and_then(|h| h.parse::<IpAddr>().ok()) {
        Some(IpAddr::V4(any)) if any.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        Some(IpAddr::V6(any)) if any.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        Some(host) => host,
        None => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    let addr = SocketAddr::new(host, port);
    let timeout = Duration::from_secs(2);
    let answer = (|| -> std::io::Result<String> {
        let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.write_all(b"GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
        let mut head = [0_u8; 12];
        stream.read_exact(&mut head)?;
        Ok(String::from_utf8_lossy(&head).into_owned())
    })();
    match answer {
        Ok(head) if head.ends_with(" 200") => ExitCode::SUCCESS,
        Ok(head) => {
            eprintln!("unhealthy: http://{addr}/health answered {:?}", head.trim());
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("unhealthy: http://{addr}/health: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run_admin(config: &Config, command: AdminCommand) -> anyhow::Result<()> {
    let database = app::open_database(config).await?;
    let services = app::Services::build(config, database.clone(), app::Extras::default()).await?;
    let outcome = admin(&services, command).await;
    database.close().await;
    outcome.map_err(|e| anyhow::anyhow!("{e}"))
}

/// One administrative command; what it prints goes to stdout alone, for scripts.
async fn admin(services: &app::Services, command: AdminCommand) -> defarm::domain::Result<()> {
    use defarm::domain::identity::admin::Actor;
    use defarm::domain::identity::ports::AccountFilter;
    use defarm::domain::page::PageRequest;
    let meta = app::system_meta("cli");
    let account = match command {
        AdminCommand::CreateUser {
            username,
            email,
            password,
            admin,
            tier,
        } => {
            let user = defarm::domain::identity::auth::NewUser {
                username,
                email,
                password: Some(password),
                is_admin: admin,
                tier: tier.into(),
                status: defarm::domain::identity::account::AccountStatus::Active,
            };
            let account = services.auth.create_user(user, None, &meta).await?;
            tracing::info!(user_id = %account.id, username = %account.username, is_admin = account.is_admin, "account created");
            // The id alone, for scripts (`id=$(defarm admin create-user ...)`).
            let _ = print_to_stdout(&account.id);
            return Ok(());
        }
        AdminCommand::ListUsers { query, tier, status } => {
            let filter = AccountFilter {
                tier: tier.map(Into::into),
                status: status.map(Into::into),
                query,
            };
            let mut lines = vec![["id", "username", "email", "tier", "status", "admin", "created"].join("\t")];
            let mut page = PageRequest::first(defarm::domain::page::MAX_LIMIT);
            loop {
                let found = services.admin.users(&filter, &page).await?;
                lines.extend(found.data.iter().map(account_line));
                match found.next_cursor {
                    Some(cursor) => page = PageRequest::new(Some(page.limit), Some(&cursor))?,
                    None => break,
                }
            }
            let _ = print_to_stdout(&lines.join("\n"));
            return Ok(());
        }
        AdminCommand::SetTier { user, tier } => {
            let account = services.admin.find(&user).await?;
            services
                .admin
                .set_tier(Actor::Operator, &account.id, tier.into(), &meta)
                .await?
        }
        AdminCommand::SetStatus { user, status, reason } => {
            let account = services.admin.find(&user).await?;
            let status = status.into();
            services
                .admin
                .set_status(Actor::Operator, &account.id, status, reason, &meta)
                .await?
        }
        AdminCommand::SetAdmin { user, revoke } => {
            let account = services.admin.find(&user).await?;
            services
                .admin
                .set_admin(Actor::Operator, &account.id, !revoke, &meta)
                .await?
        }
        AdminCommand::ResetPassword { user } => {
            let account = services.admin.find(&user).await?;
            let token = services.auth.issue_reset_token(&account, None, &meta).await?;
            eprintln!(
                "A one-time reset token for {} (valid {} minutes): they send it with a new password to \
                 POST /api/auth/reset-password {{\"token\": ..., \"new_password\": ...}}. It revokes their \
                 sessions and API keys.",
                account.username,
                services.auth.reset_ttl().num_minutes()
            );
            let _ = print_to_stdout(&token);
            return Ok(());
        }
    };
    let _ = print_to_stdout(&account_line(&account));
    Ok(())
}

fn account_line(account: &defarm::domain::identity::account::Account) -> String {
    [
        account.id.as_str(),
        &account.username,
        &account.email,
        account.tier.as_str(),
        account.status.as_str(),
        if account.is_admin { "yes" } else { "no" },
        &account.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    ]
    .join("\t")
}
