//! Configuration from environment variables (the table in the README). A bad value stops the
//! start with a message naming the variable.

use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use ipnet::IpNet;

use crate::domain::log::note::{NoteSigner, is_key_name};

#[derive(Debug, thiserror::Error)]
#[error("{name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct AdminBootstrap {
    pub username: String,
    pub email: String,
    pub password: String,
}

/// Requests per hour for each tier; 0 disables that limit. `Admin` is never limited.
#[derive(Debug, Clone, Copy)]
pub struct TierRates {
    pub basic: u64,
    pub professional: u64,
    pub enterprise: u64,
}

/// Count limits per tier; `None` is unlimited.
#[derive(Debug, Clone, Copy)]
pub struct TierCounts {
    pub basic: Option<u64>,
    pub professional: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub host: IpAddr,
    pub port: u16,
    pub database_url: String,
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so environments (or test runs) can share one Redis.
    pub redis_key_prefix: String,
    pub jwt_secret: Option<String>,
    pub jwt_ttl: Duration,
    pub session_max: Duration,
    pub data_dir: PathBuf,
    pub db_pool_max: u32,
    pub db_acquire_timeout: Duration,
    pub db_statement_timeout: Duration,
    /// Bounds one large background write (a capture of more than 500 EPCIS events).
    pub db_bulk_timeout: Duration,
    pub request_timeout: Duration,
    pub header_read_timeout: Duration,
    pub max_connections_per_ip: usize,
    pub max_body_bytes: usize,
    /// Bodies of `POST /api/items/local/import`, read as they arrive.
    pub max_import_bytes: usize,
    /// Bodies of `POST /api/circuits/{id}/epcis/capture`.
    pub epcis_max_document_bytes: usize,
    /// Events one captured EPCIS document may hold.
    pub epcis_max_events: usize,
    /// Where this service is reached from outside: items are named `{PUBLIC_BASE_URL}/id/{dfid}`.
    pub public_base_url: String,
    /// How long a dashboard's counts are reused.
    pub dashboard_cache: Duration,
    pub password_hash_concurrency: usize,
    pub password_hash_queue_timeout: Duration,
    pub rate_per_hour: TierRates,
    pub rate_public_per_minute: u64,
    /// Request counts a replica may hold before telling Redis (also sent every 100 ms).
    pub rate_limit_batch: usize,
    pub login_max_failures: u64,
    pub tier_max_circuits: TierCounts,
    pub tier_max_items_per_month: TierCounts,
    pub trusted_proxies: Vec<IpNet>,
    pub cors_allowed_origins: Vec<String>,
    pub webhook_allow_private: bool,
    /// Timeout of one webhook delivery attempt.
    pub webhook_timeout: Duration,
    pub ipfs_api_url: Option<url::Url>,
    pub smtp_url: Option<String>,
    pub smtp_from: String,
    pub secrets_key: Option<[u8; 32]>,
    /// The transparency log's name: its checkpoints' origin line and signing key name.
    pub log_origin: String,
    pub log_signing_key: Option<NoteSigner>,
    /// How soon a recorded fact is integrated into the log under normal load.
    pub log_integrate: Duration,
    pub admin_bootstrap: Option<AdminBootstrap>,
    pub log_format: LogFormat,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests can supply their own variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&lookup);
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let mut config = Self {
            host: env.parse("HOST", IpAddr::from([0, 0, 0, 0]))?,
            port: env.parse("PORT", 3000)?,
            database_url: env.string("DATABASE_URL", "sqlite://defarm.db?mode=rwc"),
            redis_url: env.optional("REDIS_URL"),
            redis_key_prefix: env.string("REDIS_KEY_PREFIX", "defarm:"),
            jwt_secret: env.optional("JWT_SECRET"),
            jwt_ttl: env.seconds("JWT_TTL_SECONDS", 86_400)?,
            session_max: env.seconds("SESSION_MAX_SECONDS", 2_592_000)?,
            data_dir: PathBuf::from(env.string("DATA_DIR", "./data")),
            db_pool_max: env.positive("DB_POOL_MAX", 16)?,
            db_acquire_timeout: env.millis("DB_ACQUIRE_TIMEOUT_MS", 2_000)?,
            db_statement_timeout: env.millis("DB_STATEMENT_TIMEOUT_MS", 5_000)?,
            db_bulk_timeout: env.millis("DB_BULK_TIMEOUT_MS", 120_000)?,
            request_timeout: env.millis("REQUEST_TIMEOUT_MS", 15_000)?,
            header_read_timeout: env.millis("HEADER_READ_TIMEOUT_MS", 10_000)?,
            max_connections_per_ip: env.positive("MAX_CONNECTIONS_PER_IP", 256)?,
            max_body_bytes: env.positive("MAX_BODY_BYTES", 1_048_576)?,
            max_import_bytes: env.positive("MAX_IMPORT_BYTES", 16_777_216)?,
            epcis_max_document_bytes: env.positive("EPCIS_MAX_DOCUMENT_BYTES", 16_777_216)?,
            epcis_max_events: env.positive("EPCIS_MAX_EVENTS", 10_000)?,
            public_base_url: String::new(),
            dashboard_cache: Duration::from_secs(env.parse("DASHBOARD_CACHE_SECONDS", 30)?),
            password_hash_concurrency: env.positive("PASSWORD_HASH_CONCURRENCY", cores)?,
            password_hash_queue_timeout: env.millis("PASSWORD_HASH_QUEUE_TIMEOUT_MS", 2_000)?,
            rate_per_hour: TierRates {
                basic: env.parse("RATE_LIMIT_PER_HOUR_BASIC", 1_000)?,
                professional: env.parse("RATE_LIMIT_PER_HOUR_PROFESSIONAL", 10_000)?,
                enterprise: env.parse("RATE_LIMIT_PER_HOUR_ENTERPRISE", 100_000)?,
            },
            rate_public_per_minute: env.parse("RATE_LIMIT_PUBLIC_PER_MINUTE", 60)?,
            rate_limit_batch: env.positive("RATE_LIMIT_BATCH", 10)?,
            login_max_failures: env.parse("LOGIN_MAX_FAILURES", 5)?,
            tier_max_circuits: TierCounts {
                basic: env.count_limit("TIER_MAX_CIRCUITS_BASIC", 5)?,
                professional: env.count_limit("TIER_MAX_CIRCUITS_PROFESSIONAL", 25)?,
            },
            tier_max_items_per_month: TierCounts {
                basic: env.count_limit("TIER_MAX_ITEMS_PER_MONTH_BASIC", 1_000)?,
                professional: env.count_limit("TIER_MAX_ITEMS_PER_MONTH_PROFESSIONAL", 10_000)?,
            },
            trusted_proxies: env.list("TRUSTED_PROXIES", parse_proxy)?,
            cors_allowed_origins: env.list("CORS_ALLOWED_ORIGINS", parse_origin)?,
            webhook_allow_private: env.parse("WEBHOOK_ALLOW_PRIVATE", false)?,
            webhook_timeout: env.millis("WEBHOOK_TIMEOUT_MS", 10_000)?,
            ipfs_api_url: env.optional_parse("IPFS_API_URL")?,
            smtp_url: env.optional("SMTP_URL"),
            smtp_from: env.string("SMTP_FROM", "DeFarm <no-reply@defarm.invalid>"),
            secrets_key: env.optional_with("SECRETS_KEY", parse_secrets_key)?,
            log_origin: env.string("LOG_ORIGIN", "defarm.local/log"),
            log_signing_key: env.optional_with("LOG_SIGNING_KEY", |text| {
                NoteSigner::parse(text).map_err(|e| e.to_string())
            })?,
            log_integrate: env.millis("LOG_INTEGRATE_MS", 500)?,
            admin_bootstrap: admin_bootstrap(&env)?,
            log_format: match env.string("LOG_FORMAT", "text").as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => {
                    return Err(env.bad("LOG_FORMAT", format!("expected text or json, got {other:?}")));
                }
            },
        };
        let default_base = format!("http://localhost:{}", config.port);
        config.public_base_url = env
            .string("PUBLIC_BASE_URL", &default_base)
            .trim_end_matches('/')
            .to_owned();
        if !(config.public_base_url.starts_with("http://") || config.public_base_url.starts_with("https://")) {
            return Err(env.bad("PUBLIC_BASE_URL", "expected an http:// or https:// URL".to_owned()));
        }
        config.check_production_secrets()?;
        Ok(config)
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres://") || self.database_url.starts_with("postgresql://")
    }

    /// Replicas must share their secrets, so PostgreSQL mode takes them from the environment
    /// instead of generating them into `DATA_DIR`.
    fn check_production_secrets(&self) -> Result<(), ConfigError> {
        if !is_key_name(&self.log_origin) {
            return Err(ConfigError {
                name: "LOG_ORIGIN",
                problem: "must be non-empty, without spaces or '+'".into(),
            });
        }
        if let Some(key) = &self.log_signing_key
            && key.name() != self.log_origin
        {
            return Err(ConfigError {
                name: "LOG_SIGNING_KEY",
                problem: format!(
                    "the key is named {:?}; a checkpoint's key is named after LOG_ORIGIN {:?}",
                    key.name(),
                    self.log_origin
                ),
            });
        }
        if let Some(secret) = &self.jwt_secret
            && secret.len() < 32
        {
            return Err(ConfigError {
                name: "JWT_SECRET",
                problem: "must be at least 32 bytes".into(),
            });
        }
        if self.is_postgres() {
            if self.jwt_secret.is_none() {
                return Err(ConfigError {
                    name: "JWT_SECRET",
                    problem: "required with PostgreSQL (replicas must share it)".into(),
                });
            }
            if self.secrets_key.is_none() {
                return Err(ConfigError {
                    name: "SECRETS_KEY",
                    problem: "required with PostgreSQL (replicas must share it)".into(),
                });
            }
            if self.log_signing_key.is_none() {
                return Err(ConfigError {
                    name: "LOG_SIGNING_KEY",
                    problem: "required with PostgreSQL (replicas must share it); `defarm log keygen` makes one".into(),
                });
            }
        }
        Ok(())
    }
}

fn admin_bootstrap(env: &Env<'_>) -> Result<Option<AdminBootstrap>, ConfigError> {
    let username = env.optional("DEFARM_ADMIN_USERNAME");
    let email = env.optional("DEFARM_ADMIN_EMAIL");
    let password = env.optional("DEFARM_ADMIN_PASSWORD");
    match (username, email, password) {
        (None, None, None) => Ok(None),
        (Some(username), Some(email), Some(password)) => Ok(Some(AdminBootstrap {
            username,
            email,
            password,
        })),
        _ => Err(env.bad(
            "DEFARM_ADMIN_USERNAME",
            "DEFARM_ADMIN_USERNAME, DEFARM_ADMIN_EMAIL and DEFARM_ADMIN_PASSWORD go together",
        )),
    }
}

fn parse_proxy(text: &str) -> Result<IpNet, String> {
    if let Ok(net) = IpNet::from_str(text) {
        return Ok(net);
    }
    IpAddr::from_str(text)
        .map(IpNet::from)
        .map_err(|_| format!("{text:?} is not an IP address or CIDR range"))
}

fn parse_origin(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|e| format!("{text:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{text:?} is not an http(s) origin"));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

fn parse_secrets_key(text: &str) -> Result<[u8; 32], String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("not base64: {e}"))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| format!("must decode to 32 bytes, got {}", bytes.len()))
}

/// The README's configuration table: `defarm serve --help` prints it, so the two never differ.
const README: &str = include_str!("../../README.md");
const TABLE_HEAD: &str = "| Variable | Default | Meaning |";

/// Every environment variable the binary reads, with its default and meaning, for a terminal.
pub fn variables_help() -> String {
    let mut help = String::from("Environment variables [default]:\n");
    let rows = README
        .lines()
        .skip_while(|line| *line != TABLE_HEAD)
        .skip(2)
        .take_while(|line| line.starts_with('|'));
    for row in rows {
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(|cell| cell.trim()).collect();
        if let [names, default, meaning] = cells[..] {
            let plain = |text: &str| text.replace('`', "");
            help.push_str(&format!(
                "  {} [{}]\n      {}\n",
                expanded_names(&plain(names)),
                plain(default),
                plain(meaning)
            ));
        }
    }
    help
}

/// `A_B_BASIC / _PROFESSIONAL` (the README's shorthand) as `A_B_BASIC, A_B_PROFESSIONAL`.
fn expanded_names(names: &str) -> String {
    let mut parts = names.split(" / ");
    let first = parts.next().unwrap_or_default();
    let stem = first.rsplit_once('_').map_or(first, |(stem, _)| stem);
    std::iter::once(first.to_owned())
        .chain(parts.map(|suffix| format!("{stem}{suffix}")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Typed access to the variables, with errors that name the variable.
struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    fn optional(&self, name: &str) -> Option<String> {
        (self.0)(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn string(&self, name: &str, default: &str) -> String {
        self.optional(name).unwrap_or_else(|| default.to_owned())
    }

    fn bad(&self, name: &'static str, problem: impl Into<String>) -> ConfigError {
        ConfigError {
            name,
            problem: problem.into(),
        }
    }

    fn optional_with<T>(
        &self,
        name: &'static str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        self.optional(name)
            .map(|text| parse(&text).map_err(|problem| self.bad(name, problem)))
            .transpose()
    }

    fn optional_parse<T: FromStr>(&self, name: &'static str) -> Result<Option<T>, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        self.optional_with(name, |text| T::from_str(text).map_err(|e| format!("{text:?}: {e}")))
    }

    fn parse<T: FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        Ok(self.optional_parse(name)?.unwrap_or(default))
    }

    fn positive<T: FromStr + PartialOrd + Default>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        let value = self.parse(name, default)?;
        if value <= T::default() {
            return Err(self.bad(name, "must be greater than 0"));
        }
        Ok(value)
    }

    fn millis(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.positive(name, default).map(Duration::from_millis)
    }

    fn seconds(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.positive(name, default).map(Duration::from_secs)
    }

    /// A count limit where 0 means unlimited.
    fn count_limit(&self, name: &'static str, default: u64) -> Result<Option<u64>, ConfigError> {
        let value: u64 = self.parse(name, default)?;
        Ok((value > 0).then_some(value))
    }

    fn list<T>(&self, name: &'static str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, ConfigError> {
        let Some(text) = self.optional(name) else {
            return Ok(Vec::new());
        };
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| parse(item).map_err(|problem| self.bad(name, problem)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_help_lists_every_variable_read() {
        let asked = std::cell::RefCell::new(Vec::new());
        Config::from_lookup(|name| {
            asked.borrow_mut().push(name.to_owned());
            None
        })
        .unwrap();
        let help = variables_help();
        let asked = asked.into_inner();
        assert!(asked.len() > 30, "{asked:?}");
        let listed: Vec<&str> = help
            .lines()
            .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
            .filter_map(|line| line.trim().split_once(" ["))
            .flat_map(|(names, _)| names.split(", "))
            .collect();
        for name in asked.iter().map(String::as_str).chain(["RUST_LOG", "NO_COLOR"]) {
            assert!(listed.contains(&name), "{name} missing from {listed:?}");
        }
        assert!(help.contains(
            "  RATE_LIMIT_PER_HOUR_BASIC, RATE_LIMIT_PER_HOUR_PROFESSIONAL, RATE_LIMIT_PER_HOUR_ENTERPRISE ["
        ));
        assert!(
            help.contains("  PORT [3000]\n      Listen port (0 picks a free one)\n"),
            "{help}"
        );
    }

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_need_nothing() {
        let config = config(&[]).unwrap();
        assert_eq!(config.port, 3000);
        assert_eq!(config.database_url, "sqlite://defarm.db?mode=rwc");
        assert_eq!(config.db_pool_max, 16);
        assert_eq!(config.max_body_bytes, 1_048_576);
        assert_eq!(config.log_format, LogFormat::Text);
        assert!(config.redis_url.is_none());
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("PORT", "eighty"),
            ("DB_POOL_MAX", "0"),
            ("REQUEST_TIMEOUT_MS", "-5"),
            ("LOG_FORMAT", "xml"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, not-an-ip"),
            ("SECRETS_KEY", "c2hvcnQ="),
            ("WEBHOOK_ALLOW_PRIVATE", "yes"),
            ("JWT_SECRET", "too-short"),
        ] {
            let err = config(&[(name, value)]).unwrap_err();
            assert_eq!(err.name, name, "{err}");
        }
    }

    #[test]
    fn postgres_requires_shared_secrets() {
        let err = config(&[("DATABASE_URL", "postgres://localhost/defarm")]).unwrap_err();
        assert_eq!(err.name, "JWT_SECRET");
        let err = config(&[
            ("DATABASE_URL", "postgres://localhost/defarm"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ])
        .unwrap_err();
        assert_eq!(err.name, "SECRETS_KEY");
    }

    #[test]
    fn lists_and_proxies_parse() {
        let config = config(&[
            ("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"),
            ("CORS_ALLOWED_ORIGINS", "https://app.example.com/"),
        ])
        .unwrap();
        assert_eq!(config.trusted_proxies.len(), 2);
        assert_eq!(config.cors_allowed_origins, vec!["https://app.example.com".to_owned()]);
    }
}
