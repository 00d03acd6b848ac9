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
use crate::domain::circuits::push_service::PushService;
use crate::domain::circuits::roles::{Member, Permission};
use crate::domain::epcis::Epc;
use crate::domain::identity::access::Principal;
use crate::domain::items::dfid::Dfid;
use crate::domain::items::identifier::{IdType, IdentifierInput, Namespace, parse_identifiers};
use crate::domain::items::item::{Item, ItemStatus, LocalItem};
use crate::domain::items::relation::ItemRelation;
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
        let mut new_epcs = Vec::new();
        let mut named: Vec<String> = Vec::new();
        for epc in epcs {
            match owner_of.get(epc.as_str()) {
                Some(dfid) => named.push((*dfid).to_owned()),
                None => new_epcs.push(epc.clone()),
            }
        }
        named.sort();
        named.dedup();
        let decided = self
            .existing_items(principal, circuit, member, &named, now, &mut changes)
            .await?;
        for epc in epcs {
            let Some(dfid) = owner_of.get(epc.as_str()) else {
                continue;
            };
            let outcome = match decided.get(*dfid) {
                Some(Ok(dfid)) => Ok(dfid.clone()),
                Some(Err(error)) if !error.is("identifier_conflict") => Err(error.clone()),
                _ => Err(epc_conflict(epc)),
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

    /// The existing items EPCs name, each recorded on when the caller may change it (and
    /// pushed to the circuit when the caller owns it and it is not there yet), or refused.
    /// Two reads per thousand items, not three per item: a capture names thousands.
    async fn existing_items(
        &self,
        principal: &Principal,
        circuit: &Circuit,
        member: &Member,
        dfids: &[String],
        now: Timestamp,
        changes: &mut Vec<Change>,
    ) -> Result<HashMap<String, Result<String>>> {
        let store = self.store.as_ref();
        let mut found: Vec<(Item, ItemRelation)> = store
            .items_for(dfids, &principal.user_id)
            .await?
            .into_iter()
            .map(|(item, facts)| {
                let relation = ItemRelation::of(&item, facts, &principal.user_id);
                (item, relation)
            })
            .filter(|(_, relation)| relation.can_change())
            .collect();
        found.sort_by(|(a, _), (b, _)| a.dfid.cmp(&b.dfid));
        let owned: Vec<String> = found
            .iter()
            .filter(|(item, relation)| relation.is_owner && item.status == ItemStatus::Active)
            .map(|(item, _)| item.dfid.clone())
            .collect();
        let pushed = store.open_pushes(&circuit.circuit_id, &owned).await?;
        // An item not found, or one the caller may not change, stays out: a conflict.
        let mut decided = HashMap::with_capacity(found.len());
        for (item, relation) in found {
            let outcome = if item.status != ItemStatus::Active {
                Err(Error::conflict(
                    "item_not_active",
                    format!("this item is {}", item.status.as_str()),
                ))
            } else {
                if relation.is_owner && !pushed.contains(&item.dfid) {
                    let (_, push) = self.push_changes(circuit, member, &item, false, None, now).await?;
                    changes.extend(push);
                }
                Ok(item.dfid.clone())
            };
            decided.insert(item.dfid, outcome);
        }
        Ok(decided)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::circuits::push_service_tests::open_circuit;
    use crate::domain::testing::{canonical, cid, dfid, principal, start_of_test};

    fn epc(serial: u64) -> Epc {
        Epc::parse(&format!("urn:epc:id:sgtin:0614141.107346.{serial}")).unwrap()
    }

    fn pushed(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .filter_map(|change| match change {
                Change::InsertOperation(operation) => Some(operation.dfid.clone()),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn a_capture_resolves_its_epcs_and_pushes_only_the_callers_items_the_circuit_lacks() {
        let w = open_circuit();
        // Serials far from the first minted DFID's sequence, so a minted item is told apart.
        for (serial, owner) in [(101, "member"), (102, "member"), (103, "stranger")] {
            w.store
                .add_item(&dfid(serial), owner, vec![canonical("epc", epc(serial).as_str())]);
        }
        // The member's second item is in the circuit already.
        w.push.push(&principal("member"), &cid("c"), &dfid(102)).await.unwrap();
        let (circuit, member) = w.push.capturing_member(&principal("member"), "c").await.unwrap();

        let epcs = [epc(101), epc(102), epc(103), epc(104), epc(101)];
        let plan = w
            .push
            .plan_epc_items(&principal("member"), &circuit, &member, &epcs, start_of_test())
            .await
            .unwrap();

        assert_eq!(plan.items[&epc(101)].as_ref().unwrap(), &dfid(101));
        assert_eq!(plan.items[&epc(102)].as_ref().unwrap(), &dfid(102));
        let refused = plan.items[&epc(103)].as_ref().unwrap_err();
        assert!(refused.is("identifier_conflict"), "{refused:?}");
        assert!(!refused.to_string().contains(&dfid(103)), "the conflict names no item");
        let minted = plan.items[&epc(104)].as_ref().unwrap().clone();
        assert_eq!(plan.minted, 1);
        assert_eq!(pushed(&plan.changes), vec![dfid(101), minted]);
    }
}
