//! The items EPCIS events name: each EPC is an `epc` canonical identifier, so it names at most
//! one item. A capture resolves every EPC of a document at once: to an item the capturer may
//! change, or to a new item minted for the capturer and tokenized in the circuit, under the
//! same ownership rules as push-local.

use std::collections::HashMap;

use serde_json::{Map, json};

use crate::domain::changes::Change;
use crate::domain::circuits::circuit::Circuit;
use crate::domain::circuits::membership::circuit_member;
use crate::domain::circuits::operation_changes::server_event;
use crate::domain::circuits::push_service::{PushService, open_push};
use crate::domain::circuits::roles::{Member, Permission};
use crate::domain::epcis::Epc;
use crate::domain::identity::access::Principal;
use crate::domain::items::dfid::Dfid;
use crate::domain::items::identifier::{IdType, IdentifierInput, Namespace, parse_identifiers};
use crate::domain::items::item::{Item, ItemStatus, LocalItem};
use crate::domain::items::relation::item_and_relation;
use crate::domain::{Error, Result, Timestamp};

/// What a capture's EPCs resolve to, and what resolving them writes.
pub struct EpcItems {
    /// Each EPC's item, or why the capturer may not record on it.
    pub items: HashMap<Epc, Result<String>>,
    pub changes: Vec<Change>,
    /// New items minted for the capturer (they count toward the monthly item limit).
    pub minted: u64,
}

impl PushService {
    /// The circuit and the caller's membership, when the caller may capture into it.
    pub(crate) async fn capturing_member(&self, principal: &Principal, circuit_id: &str) -> Result<(Circuit, Member)> {
        let (circuit, member) = circuit_member(self.store.as_ref(), circuit_id, &principal.user_id).await?;
        circuit.require_active()?;
        member.require(Permission::Push)?;
        Ok((circuit, member))
    }

    /// Resolves `epcs` for a capture by `principal` into `circuit`. An EPC naming an item the
    /// caller may not change is refused with the same conflict push-local gives, revealing
    /// nothing about that item; one naming the caller's own item outside the circuit pushes it
    /// there; a new EPC mints an item owned by the caller, in the circuit.
    pub(crate) async fn plan_epc_items(
        &self,
        principal: &Principal,
        circuit: &Circuit,
        member: &Member,
        epcs: &[Epc],
        now: Timestamp,
    ) -> Result<EpcItems> {
        let store = self.store.as_ref();
        let circuit_id = circuit.circuit_id.as_str();
        let names: Vec<(String, String)> = epcs
            .iter()
            .map(|epc| ("epc".to_owned(), epc.as_str().to_owned()))
            .collect();
        let owners = if names.is_empty() {
            Vec::new()
        } else {
            store.canonical_owners(&names).await?
        };
        let owner_of: HashMap<&str, &str> = owners
            .iter()
            .filter(|(key, _, _)| key == "epc")
            .map(|(_, value, dfid)| (value.as_str(), dfid.as_str()))
            .collect();
        let mut items = HashMap::new();
        let mut changes = Vec::new();
        let mut decided: HashMap<&str, Result<String>> = HashMap::new();
        let mut new_epcs = Vec::new();
        for epc in epcs {
            let Some(dfid) = owner_of.get(epc.as_str()) else {
                new_epcs.push(epc.clone());
                continue;
            };
            if !decided.contains_key(dfid) {
                let outcome = self
                    .existing_item(principal, circuit, member, dfid, now, &mut changes)
                    .await?;
                decided.insert(dfid, outcome);
            }
            let outcome = match &decided[dfid] {
                Ok(dfid) => Ok(dfid.clone()),
                Err(error) if error.is("identifier_conflict") => Err(epc_conflict(epc)),
                Err(error) => Err(error.clone()),
            };
            items.insert(epc.clone(), outcome);
        }
        let minted = new_epcs.len() as u64;
        if minted > 0 {
            let mut sequence = store.next_dfid_sequences(now.date_naive(), minted).await?;
            let mut locals = Vec::with_capacity(new_epcs.len());
            for epc in new_epcs {
                let identifiers = parse_identifiers(
                    vec![IdentifierInput {
                        namespace: circuit.alias_config.default_namespace,
                        key: "epc".to_owned(),
                        value: epc.as_str().to_owned(),
                        id_type: Some(IdType::Canonical),
                        scope: None,
                        verified: None,
                    }],
                    Namespace::Generic,
                )?
                .into_iter()
                .map(|identifier| identifier.added_by(&principal.user_id))
                .collect::<Vec<_>>();
                if let Err(error) = circuit.alias_config.check(&identifiers) {
                    items.insert(epc, Err(error));
                    continue;
                }
                let dfid = Dfid::new(now.date_naive(), sequence).into_string();
                sequence += 1;
                let local_id = self.ids.new_id();
                let item = Item {
                    dfid: dfid.clone(),
                    identifiers: identifiers.clone(),
                    enriched_data: Map::new(),
                    status: ItemStatus::Active,
                    created_by: principal.user_id.clone(),
                    created_at: now,
                    updated_at: now,
                    latest_cid: None,
                };
                locals.push(LocalItem {
                    local_id: local_id.clone(),
                    owner_id: principal.user_id.clone(),
                    identifiers: identifiers.clone(),
                    enriched_data: Map::new(),
                    dfid: Some(dfid.clone()),
                    created_at: now,
                });
                changes.push(Change::InsertItem(item.clone()));
                changes.push(Change::AddIdentifiers {
                    dfid: dfid.clone(),
                    identifiers,
                    added_by: principal.user_id.clone(),
                    at: now,
                });
                changes.push(server_event(
                    self.ids.as_ref(),
                    &dfid,
                    "Tokenized",
                    &principal.user_id,
                    json!({ "local_id": local_id, "circuit_id": circuit_id, "epc": epc.as_str() }),
                    now,
                )?);
                let (_, push) = self
                    .push_changes(circuit, member, &item, true, Some(&local_id), now)
                    .await?;
                changes.extend(push);
                items.insert(epc, Ok(dfid));
            }
            changes.push(Change::InsertLocalItems(locals));
        }
        Ok(EpcItems { items, changes, minted })
    }

    /// An existing item named by an EPC: recorded on when the caller may change it, pushed to
    /// the circuit when the caller owns it and it is not there yet.
    async fn existing_item(
        &self,
        principal: &Principal,
        circuit: &Circuit,
        member: &Member,
        dfid: &str,
        now: Timestamp,
        changes: &mut Vec<Change>,
    ) -> Result<Result<String>> {
        let store = self.store.as_ref();
        let conflict = || Error::conflict("identifier_conflict", "identifier conflict");
        let Some((item, relation)) = item_and_relation(store, dfid, &principal.user_id).await? else {
            return Ok(Err(conflict()));
        };
        if !relation.can_change() {
            return Ok(Err(conflict()));
        }
        if item.status != ItemStatus::Active {
            return Ok(Err(Error::conflict(
                "item_not_active",
                format!("this item is {}", item.status.as_str()),
            )));
        }
        if relation.is_owner && open_push(store, &circuit.circuit_id, dfid).await?.is_none() {
            let (_, push) = self.push_changes(circuit, member, &item, false, None, now).await?;
            changes.extend(push);
        }
        Ok(Ok(item.dfid))
    }
}

/// The conflict for one EPC: it names the EPC asked for, never the item holding it.
fn epc_conflict(epc: &Epc) -> Error {
    Error::conflict(
        "identifier_conflict",
        "a canonical identifier already names another item",
    )
    .with_details(json!({ "identifier": { "key": "epc", "value": epc.as_str() } }))
}
