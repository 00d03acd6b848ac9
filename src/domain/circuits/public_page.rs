//! Public pages: what a circuit shows to people without an account, and when.

use serde::{Deserialize, Serialize};

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::domain::circuits::circuit::{Circuit, CircuitSettings, CircuitStatus};
use crate::domain::circuits::page_pass::{PASS_LIFETIME, PassKey};
use crate::domain::circuits::ports::CircuitRepo;
use crate::domain::identity::access::client_group;
use crate::domain::identity::lockout::Lockout;
use crate::domain::identity::ports::{PasswordCheck, PasswordHasher};
use crate::domain::{Error, Result, Timestamp};
use crate::ports::{Clock, RateLimiter};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessMode {
    Public,
    Protected,
    Scheduled,
}

/// A circuit's public page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicSettings {
    pub enabled: bool,
    pub access_mode: AccessMode,
    /// argon2id hash; never returned.
    pub access_password_hash: Option<String>,
    pub scheduled_date: Option<Timestamp>,
    pub public_name: String,
    pub public_description: Option<String>,
    pub primary_color: Option<String>,
    pub secondary_color: Option<String>,
    pub logo_url: Option<String>,
    pub tagline: Option<String>,
    pub footer_text: Option<String>,
    pub auto_publish_pushed_items: bool,
    pub auto_approve_members: bool,
    /// When the page was last enabled.
    pub public_since: Option<Timestamp>,
}

impl PublicSettings {
    /// Whether anyone may open the page now (a password may still be needed).
    pub fn is_open(&self, settings: &CircuitSettings, status: CircuitStatus, now: Timestamp) -> bool {
        self.enabled
            && settings.allow_public_visibility
            && status == CircuitStatus::Active
            && (self.access_mode != AccessMode::Scheduled || self.scheduled_date.is_some_and(|at| at <= now))
    }
}

/// Wrong access passwords one client may send one circuit within the window before that pair is
/// locked for the window.
const ACCESS_PASSWORD_FAILURES: u64 = 10;
const ACCESS_PASSWORD_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Whether a circuit's public page is open, and the check of a `Protected` page's password.
pub struct PageGate {
    pub(crate) circuits: Arc<dyn CircuitRepo>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Hashes and checks access passwords, apart from the login hasher so page views can never
    /// starve logins.
    pub(crate) hasher: Arc<dyn PasswordHasher>,
    pub(crate) limiter: Arc<dyn RateLimiter>,
    /// Signs the passes browsers keep after typing a `Protected` page's password.
    pub(crate) passes: PassKey,
}

/// What a reader shows a `Protected` page's gate.
#[derive(Debug, Clone, Copy)]
pub enum PageKey<'a> {
    /// The access password (`X-Access-Password`, a join body), or nothing.
    Password(Option<&'a str>),
    /// A page pass issued by [`PageGate::issue_pass`] (the web pages' cookie).
    Pass(&'a str),
}

/// A page pass and how long it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePass {
    pub token: String,
    pub lifetime: Duration,
}

impl PageGate {
    /// The circuit, for a caller going through its public page: 404 unless the page is open.
    pub async fn open(&self, circuit_id: &str) -> Result<(Circuit, PublicSettings)> {
        let circuit = self
            .circuits
            .circuit(circuit_id)
            .await?
            .ok_or_else(|| Error::not_found("circuit"))?;
        let now = self.clock.now();
        match circuit.public.clone() {
            Some(public) if public.is_open(&circuit.settings, circuit.status, now) => Ok((circuit, public)),
            _ => Err(Error::not_found("circuit")),
        }
    }

    /// `open`, then the password or pass a `Protected` page needs: what every route through a
    /// public page passes first.
    pub async fn enter(&self, circuit_id: &str, key: PageKey<'_>, client: IpAddr) -> Result<(Circuit, PublicSettings)> {
        let (circuit, public) = self.open(circuit_id).await?;
        match key {
            PageKey::Password(password) => self.check_password(circuit_id, &public, password, client).await?,
            PageKey::Pass(pass) => self.check_pass(circuit_id, &public, pass)?,
        }
        Ok((circuit, public))
    }

    /// A pass for a `Protected` page, for the reader who sent its password: checked (and its
    /// failures counted) exactly as the password itself is. Other pages need no pass (404
    /// `circuit` for a page that is not open, as everywhere).
    pub async fn issue_pass(&self, circuit_id: &str, password: &str, client: IpAddr) -> Result<PagePass> {
        let (_, public) = self
            .enter(circuit_id, PageKey::Password(Some(password)), client)
            .await?;
        let hash = public.access_password_hash.unwrap_or_default();
        let expires = self.clock.now() + chrono::Duration::from_std(PASS_LIFETIME).unwrap_or_default();
        Ok(PagePass {
            token: self.passes.issue(circuit_id, &hash, expires),
            lifetime: PASS_LIFETIME,
        })
    }

    fn check_pass(&self, circuit_id: &str, public: &PublicSettings, pass: &str) -> Result<()> {
        if public.access_mode != AccessMode::Protected {
            return Ok(());
        }
        let hash = public.access_password_hash.as_deref().unwrap_or_default();
        if hash.is_empty() || !self.passes.admits(pass, circuit_id, hash, self.clock.now()) {
            return Err(password_required());
        }
        Ok(())
    }

    /// Checks a `Protected` page's password (401 `access_password_required` when missing or
    /// wrong). Failures count per (circuit, client): 10 in 15 minutes lock that pair alone for
    /// 15 minutes (429), so a guesser never locks out anyone else, the owner included.
    async fn check_password(
        &self,
        circuit_id: &str,
        public: &PublicSettings,
        password: Option<&str>,
        client: IpAddr,
    ) -> Result<()> {
        if public.access_mode != AccessMode::Protected {
            return Ok(());
        }
        let (Some(password), Some(hash)) = (password, public.access_password_hash.as_ref()) else {
            return Err(password_required());
        };
        if password.is_empty() || password.len() > 256 {
            return Err(password_required());
        }
        let lockout = Lockout::new(
            self.limiter.as_ref(),
            "access",
            &format!("{circuit_id}:{}", client_group(client)),
            ACCESS_PASSWORD_FAILURES,
            ACCESS_PASSWORD_WINDOW,
        );
        if let Some(lock) = lockout.lock().await {
            return Err(Error::rate_limited(lock.resets_in.as_secs().max(1)));
        }
        match self.hasher.verify(password.to_owned(), hash.clone()).await? {
            PasswordCheck::Match { .. } => Ok(()),
            PasswordCheck::Mismatch => {
                lockout.record_failure().await;
                Err(password_required())
            }
        }
    }
}

fn password_required() -> Error {
    Error::unauthenticated(
        "access_password_required",
        "this page needs its access password (X-Access-Password)",
    )
}
