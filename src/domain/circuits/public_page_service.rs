//! Public pages: the settings managers write, and the page anyone may read.

use crate::domain::circuits::circuit::CircuitId;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::json;

use crate::domain::audit::AuditEntry;
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::circuits::circuit_service::{CircuitView, circuit_view};
use crate::domain::circuits::fields::{color, https_url, optional_text, text};
use crate::domain::circuits::membership::circuit_member;
use crate::domain::circuits::ports::{CircuitItemRepo, CircuitRepo, MemberRepo};
use crate::domain::circuits::public_page::{AccessMode, PageGate, PageKey, PagePass, PublicSettings};
use crate::domain::circuits::roles::Permission;
use crate::domain::epcis::Epc;
use crate::domain::identity::access::{Principal, RequestMeta};
use crate::domain::items::dfid::Dfid;
use crate::domain::items::event::Event;
use crate::domain::items::identifier::Identifier;
use crate::domain::items::item::Item;
use crate::domain::items::ports::{EventRepo, ItemRepo};
use crate::domain::partners::trigger::{Trigger, TriggerKind};
use crate::domain::{Error, Result, Timestamp};
use crate::ports::{Clock, IdGenerator};

combined_port!(
    /// What public pages need from storage.
    pub trait PublicPageStore: UnitOfWork, CircuitRepo, MemberRepo, CircuitItemRepo, ItemRepo, EventRepo
);

/// Circuits the resolver looks at for one item: an item is rarely published by more than a few.
const PUBLISHERS_TRIED: u32 = 20;

/// EPCs one item page looks up for its lineage links.
const MAX_LINKED_EPCS: usize = 50;

pub struct PublicPageService {
    pub(crate) store: Arc<dyn PublicPageStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    pub(crate) gate: Arc<PageGate>,
}

/// Public settings as a manager writes them (PUT replaces everything; an absent
/// `access_password` keeps the old one).
#[derive(Debug, Clone)]
pub struct PublicSettingsInput {
    pub enabled: bool,
    pub access_mode: AccessMode,
    pub access_password: Option<String>,
    pub scheduled_date: Option<Timestamp>,
    pub public_name: String,
    pub public_description: Option<String>,
    pub primary_color: Option<String>,
    pub secondary_color: Option<String>,
    pub logo_url: Option<String>,
    pub tagline: Option<String>,
    pub footer_text: Option<String>,
    pub published_items: Vec<String>,
    pub auto_publish_pushed_items: bool,
    pub auto_approve_members: bool,
}

/// The public page of a circuit.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicPage {
    pub circuit_id: String,
    pub settings: PublicSettings,
    pub member_count: u64,
    pub published_items: Vec<PublishedItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PublishedItem {
    pub dfid: String,
    /// Canonical identifiers only.
    pub identifiers: Vec<Identifier>,
    /// Public events only.
    pub events: Vec<Event>,
}

impl PublicPageService {
    /// Replaces the public settings (ManagePermissions).
    pub async fn set_public_settings(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        input: PublicSettingsInput,
        meta: &RequestMeta,
    ) -> Result<CircuitView> {
        let (mut circuit, member) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        member.require(Permission::ManagePermissions)?;
        if input.enabled && !circuit.settings.allow_public_visibility {
            return Err(Error::conflict(
                "public_visibility_disabled",
                "enable allow_public_visibility in the circuit's permissions first",
            ));
        }
        if input.access_mode == AccessMode::Scheduled && input.scheduled_date.is_none() {
            return Err(Error::field("scheduled_date", "required when access_mode is Scheduled"));
        }
        if input.published_items.len() > 1000 {
            return Err(Error::field("published_items", "at most 1000 items"));
        }
        let mut published = Vec::new();
        for dfid in &input.published_items {
            let dfid = Dfid::parse(dfid)?;
            if !self.store.holds_item(circuit_id, dfid.as_str()).await? {
                return Err(Error::field(
                    "published_items",
                    format!("{dfid} is not in this circuit"),
                ));
            }
            if !published.contains(&dfid.as_str().to_owned()) {
                published.push(dfid.into_string());
            }
        }
        let previous = circuit.public.clone();
        let access_password_hash = match input.access_password {
            Some(password) => {
                if password.chars().count() < 4 || password.len() > 256 {
                    return Err(Error::field("access_password", "4 to 256 characters"));
                }
                Some(self.gate.hasher.hash(password).await?)
            }
            None => previous.as_ref().and_then(|p| p.access_password_hash.clone()),
        };
        if input.access_mode == AccessMode::Protected && access_password_hash.is_none() {
            return Err(Error::field(
                "access_password",
                "required when access_mode is Protected",
            ));
        }
        let now = self.clock.now();
        let public_since = match previous.as_ref() {
            Some(p) if p.enabled && input.enabled => p.public_since,
            _ if input.enabled => Some(now),
            _ => None,
        };
        circuit.public = Some(PublicSettings {
            enabled: input.enabled,
            access_mode: input.access_mode,
            access_password_hash,
            scheduled_date: input.scheduled_date,
            public_name: text("public_name", &input.public_name, 1, 200)?,
            public_description: optional_text("public_description", input.public_description, 2000)?,
            primary_color: color("primary_color", input.primary_color)?,
            secondary_color: color("secondary_color", input.secondary_color)?,
            logo_url: https_url("logo_url", input.logo_url)?,
            tagline: optional_text("tagline", input.tagline, 200)?,
            footer_text: optional_text("footer_text", input.footer_text, 500)?,
            auto_publish_pushed_items: input.auto_publish_pushed_items,
            auto_approve_members: input.auto_approve_members,
            public_since,
        });
        circuit.updated_at = now;
        let mut changes = vec![
            Change::UpdateCircuit(circuit.clone()),
            Change::SetPublishedItems {
                circuit_id: circuit_id.to_string(),
                dfids: published.clone(),
                at: now,
            },
            Change::Audit(AuditEntry::new(
                self.ids.new_id(),
                "public_settings_changed",
                Some(&principal.user_id),
                ("circuit", Some(circuit_id)),
                meta,
                now,
                json!({ "enabled": input.enabled, "access_mode": format!("{:?}", input.access_mode), "published_items": published.len() }),
            )),
        ];
        let before: Vec<String> = self.store.published_items(circuit_id, 1000).await?;
        for dfid in published.iter().filter(|d| !before.contains(d)) {
            changes.push(Change::Trigger(Trigger::new(
                self.ids.new_id(),
                TriggerKind::ItemPublished,
                circuit_id,
                dfid,
                &principal.user_id,
                now,
            )));
        }
        self.store.commit(changes).await?;
        circuit_view(self.store.as_ref(), circuit, &member).await
    }

    /// The public page, without authentication.
    pub async fn public_page(&self, circuit_id: &CircuitId, key: PageKey<'_>, client: IpAddr) -> Result<PublicPage> {
        let (circuit, public) = self.gate.enter(circuit_id, key, client).await?;
        let (member_count, _) = self.store.circuit_counts(circuit_id).await?;
        let mut published_items = Vec::new();
        for item in self.store.shown_items(circuit_id, 200).await? {
            published_items.push(PublishedItem {
                events: self.store.public_events(&item.dfid, 100).await?,
                identifiers: item.identifiers.into_iter().filter(Identifier::is_canonical).collect(),
                dfid: item.dfid,
            });
        }
        Ok(PublicPage {
            circuit_id: circuit.circuit_id,
            settings: public,
            member_count,
            published_items,
        })
    }

    /// Where the item's EPC (`{PUBLIC_BASE_URL}/id/{dfid}`) leads: the first circuit whose page
    /// is open and publishes the item while holding it. Anything else, a malformed DFID
    /// included, is the same 404, so the resolver tells nobody whether an unpublished item exists.
    pub async fn publishing_circuit(&self, dfid: &str) -> Result<CircuitId> {
        let not_found = || Error::not_found("item");
        let dfid = Dfid::parse(dfid).map_err(|_| not_found())?;
        for circuit_id in self.store.publishing_circuits(dfid.as_str(), PUBLISHERS_TRIED).await? {
            if self.gate.open(&circuit_id).await.is_ok() && self.store.holds_item(&circuit_id, dfid.as_str()).await? {
                return CircuitId::parse(&circuit_id);
            }
        }
        Err(not_found())
    }

    /// An item the circuit's public page publishes, behind the page's own gate (enabled,
    /// scheduled, password); 404 for an item it does not publish or no longer holds.
    pub async fn published_item(
        &self,
        circuit_id: &CircuitId,
        dfid: &str,
        key: PageKey<'_>,
        client: IpAddr,
    ) -> Result<(PublicSettings, Item)> {
        let (_, public) = self.gate.enter(circuit_id, key, client).await?;
        let dfid = Dfid::parse(dfid)?;
        let item = self
            .store
            .shown_item(circuit_id, dfid.as_str())
            .await?
            .ok_or_else(|| Error::not_found("item"))?;
        Ok((public, item))
    }

    /// Of the items `epcs` name (an `epc` canonical identifier, or this service's own item URL
    /// `.../id/{dfid}`), those the circuit's page publishes, as `(epc, dfid)`: the lineage a
    /// public item page may link. Anything else is left out without saying why. The caller has
    /// already passed the page's gate.
    pub async fn published_by_epc(&self, circuit_id: &CircuitId, epcs: &[String]) -> Result<Vec<(String, String)>> {
        let mut named: Vec<(String, String)> = Vec::new();
        // Identifiers hold EPCs in canonical form; events keep them as captured.
        let mut as_captured: HashMap<String, Vec<String>> = HashMap::new();
        for epc in epcs.iter().take(MAX_LINKED_EPCS) {
            match epc.rsplit_once("/id/").and_then(|(_, dfid)| Dfid::parse(dfid).ok()) {
                Some(dfid) => named.push((epc.clone(), dfid.as_str().to_owned())),
                None => {
                    if let Ok(canonical) = Epc::parse(epc) {
                        as_captured
                            .entry(canonical.as_str().to_owned())
                            .or_default()
                            .push(epc.clone());
                    }
                }
            }
        }
        if !as_captured.is_empty() {
            let lookups: Vec<(String, String)> =
                as_captured.keys().map(|epc| ("epc".to_owned(), epc.clone())).collect();
            for (_, canonical, dfid) in self.store.canonical_owners(&lookups).await? {
                for epc in as_captured.get(&canonical).map(Vec::as_slice).unwrap_or_default() {
                    named.push((epc.clone(), dfid.clone()));
                }
            }
        }
        let mut published = Vec::new();
        for (epc, dfid) in named {
            if self.store.shown_item(circuit_id, &dfid).await?.is_some() {
                published.push((epc, dfid));
            }
        }
        Ok(published)
    }

    /// A pass for a `Protected` page, given its password (see [`PageGate::issue_pass`]).
    pub async fn issue_pass(&self, circuit_id: &CircuitId, password: &str, client: IpAddr) -> Result<PagePass> {
        self.gate.issue_pass(circuit_id, password, client).await
    }
}
