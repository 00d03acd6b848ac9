//! Tokenization (push-local): a user's local item becomes a DFID, new or found by canonical
//! identifier, and is pushed to a circuit. One item at a time, or up to `MAX_BATCH_ITEMS` in one
//! all-or-nothing request whose reads and writes do not grow in round trips with the common case
//! (local items never tokenized, naming no existing item).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::domain::changes::Change;
use crate::domain::circuits::circuit::{Circuit, CircuitId};
use crate::domain::circuits::membership::circuit_member;
use crate::domain::circuits::operation::Operation;
use crate::domain::circuits::operation_changes::server_event;
use crate::domain::circuits::push_service::{PLACES, PushService, PushStore, open_push};
use crate::domain::circuits::roles::{Member, Permission};
use crate::domain::error::retry_on_race;
use crate::domain::identity::access::{Principal, RequestMeta};
use crate::domain::items::dfid::Dfid;
use crate::domain::items::identifier::{
    Identifier, IdentifierInput, Namespace, identifier_conflict, merge_identifier, parse_identifiers,
};
use crate::domain::items::item::{Item, ItemStatus, LocalItem, data_object, merge_data};
use crate::domain::items::item_service::enrichment_changes;
use crate::domain::items::local_batch::{MAX_BATCH_ITEMS, RowErrors, error_field};
use crate::domain::items::relation::item_and_relation;
use crate::domain::{Error, Result, Timestamp};

text_enum! {
    /// What push-local did with the item.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum PushOutcome {
        /// A new DFID was minted (201).
        NewItemCreated = "NewItemCreated",
        /// A canonical identifier named an item the caller may change; it was enriched (200).
        ExistingItemEnriched = "ExistingItemEnriched",
        /// This local item was already pushed to this circuit; nothing changed (200).
        AlreadyPushed = "AlreadyPushed",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PushLocalResult {
    pub dfid: String,
    pub local_id: String,
    pub outcome: PushOutcome,
    pub operation: Operation,
}

/// One local item to push, as the caller sent it.
#[derive(Debug, Clone, Default)]
pub struct LocalPush {
    pub local_id: String,
    /// Added to the local item's identifiers.
    pub identifiers: Vec<IdentifierInput>,
    /// Merged over the local item's data.
    pub enriched_data: Option<Value>,
}

/// A local item with the caller's additions, meeting the circuit's requirements.
struct Tokenizing {
    local: LocalItem,
    identifiers: Vec<Identifier>,
    data: Map<String, Value>,
}

/// Where the item's DFID comes from.
enum Resolution {
    /// The local item was tokenized before.
    Tokenized(String),
    /// No item holds any of its canonical identifiers: a new DFID.
    Mint,
    /// One existing item holds some of them.
    Existing(String),
}

impl Tokenizing {
    fn new(circuit: &Circuit, principal: &Principal, local: LocalItem, push: LocalPush) -> Result<Self> {
        let patch = data_object(push.enriched_data)?;
        let default_namespace = circuit.alias_config.default_namespace.unwrap_or(Namespace::Generic);
        let mut identifiers = local.identifiers.clone();
        for identifier in parse_identifiers(push.identifiers, default_namespace)? {
            merge_identifier(&mut identifiers, identifier.added_by(&principal.user_id));
        }
        let mut data = local.enriched_data.clone();
        merge_data(&mut data, patch);
        circuit.alias_config.check(&identifiers)?;
        Ok(Self {
            local,
            identifiers,
            data,
        })
    }

    /// Its canonical names.
    fn names(&self) -> Vec<(String, String)> {
        self.identifiers
            .iter()
            .filter(|i| i.is_canonical())
            .map(|i| (i.key.clone(), i.value.clone()))
            .collect()
    }

    /// The canonical names that decide its DFID; none once it has one.
    fn canonical(&self) -> Vec<(String, String)> {
        if self.local.dfid.is_some() {
            Vec::new()
        } else {
            self.names()
        }
    }

    /// Resolves against `owners`, the `(key, value, dfid)` holders of canonical names; naming
    /// two items is a conflict.
    fn resolve(&self, owners: &[(String, String, String)]) -> Result<Resolution> {
        if let Some(dfid) = &self.local.dfid {
            return Ok(Resolution::Tokenized(dfid.clone()));
        }
        let mut named: Vec<&(String, String, String)> = owners
            .iter()
            .filter(|(key, value, _)| {
                self.identifiers
                    .iter()
                    .any(|i| i.is_canonical() && &i.key == key && &i.value == value)
            })
            .collect();
        named.sort_by(|a, b| a.2.cmp(&b.2));
        named.dedup_by(|a, b| a.2 == b.2);
        match named.as_slice() {
            [] => Ok(Resolution::Mint),
            [(_, _, dfid)] => Ok(Resolution::Existing(dfid.clone())),
            [first, ..] => Err(conflict_with(&self.identifiers, &first.2, owners)),
        }
    }
}

/// The conflict a caller who may not change `dfid` sees: it names the identifier asked for,
/// never the item holding it.
fn conflict_with(identifiers: &[Identifier], dfid: &str, owners: &[(String, String, String)]) -> Error {
    owners
        .iter()
        .find(|(_, _, owner)| owner == dfid)
        .and_then(|(key, value, _)| identifiers.iter().find(|i| &i.key == key && &i.value == value))
        .map_or_else(
            || Error::conflict("identifier_conflict", "identifier conflict"),
            identifier_conflict,
        )
}

/// The circuit and the caller's membership, when the caller may push into it.
async fn pushing_member(store: &dyn PushStore, circuit_id: &str, principal: &Principal) -> Result<(Circuit, Member)> {
    let (circuit, member) = circuit_member(store, circuit_id, &principal.user_id).await?;
    circuit.require_active()?;
    member.require(Permission::Push)?;
    Ok((circuit, member))
}

impl PushService {
    /// Tokenizes the caller's local item into a DFID (new or existing, by canonical identifier)
    /// and pushes it to the circuit. Concurrent pushes that claim the same new canonical value
    /// end with one DFID: the losers retry and enrich the winner's item.
    pub async fn push_local(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        push: LocalPush,
        meta: &RequestMeta,
    ) -> Result<PushLocalResult> {
        let result = retry_on_race(|| self.try_push_local(principal, circuit_id, push.clone())).await;
        self.conflicts.screen(result, principal, meta).await
    }

    async fn try_push_local(
        &self,
        principal: &Principal,
        circuit_id: &str,
        push: LocalPush,
    ) -> Result<PushLocalResult> {
        let store = self.store.as_ref();
        let (circuit, member) = pushing_member(store, circuit_id, principal).await?;
        let local = store
            .local_item(&push.local_id)
            .await?
            .filter(|item| item.owner_id == principal.user_id)
            .ok_or_else(|| Error::not_found("local item"))?;
        let tokenizing = Tokenizing::new(&circuit, principal, local, push)?;
        let canonical = tokenizing.canonical();
        let owners = if canonical.is_empty() {
            Vec::new()
        } else {
            store.canonical_owners(&canonical).await?
        };
        let resolution = tokenizing.resolve(&owners)?;
        let now = self.clock.now();
        let sequence = match resolution {
            Resolution::Mint => Some(store.next_dfid_sequences(now.date_naive(), 1).await?),
            _ => None,
        };
        let (result, changes) = self
            .plan_push_local(
                &circuit, &member, principal, tokenizing, resolution, &owners, sequence, now,
            )
            .await?;
        if !changes.is_empty() {
            store.commit(Change::grouped_by_kind(changes)).await?;
        }
        Ok(result)
    }

    /// Tokenizes and pushes up to `MAX_BATCH_ITEMS` local items, all or none: every item is
    /// checked first, and the writes are one transaction. Bad items refuse the request, each
    /// named by its index, in order (400 `invalid_rows` when all are malformed, else 409
    /// `rows_refused`). Two items of one batch may not claim the same canonical identifier or
    /// the same item.
    pub async fn push_local_batch(
        &self,
        principal: &Principal,
        circuit_id: &CircuitId,
        pushes: Vec<LocalPush>,
        meta: &RequestMeta,
    ) -> Result<Vec<PushLocalResult>> {
        if pushes.is_empty() || pushes.len() > MAX_BATCH_ITEMS {
            return Err(Error::field("items", format!("1 to {MAX_BATCH_ITEMS} items")));
        }
        match retry_on_race(|| self.try_push_local_batch(principal, circuit_id, &pushes)).await? {
            Ok(results) => Ok(results),
            Err(mut failures) => {
                failures.sort_by_key(|(index, _)| *index);
                let identifiers = failures
                    .iter()
                    .filter(|(_, error)| error.is("identifier_conflict"))
                    .map(|(_, error)| error.details.as_ref().map_or(Value::Null, |d| d["identifier"].clone()))
                    .collect();
                self.conflicts.screen_many(identifiers, principal, meta).await?;
                let mut errors = RowErrors::default();
                for (index, error) in failures {
                    let field = error_field(&error).unwrap_or_else(|| default_field(&error)).to_owned();
                    errors.push(index as u64, Some(format!("items[{index}].{field}")), error);
                }
                errors.into_result()?;
                Err(Error::internal("a refused batch without errors"))
            }
        }
    }

    /// The batch's results, or each failing item's index and error.
    async fn try_push_local_batch(
        &self,
        principal: &Principal,
        circuit_id: &str,
        pushes: &[LocalPush],
    ) -> Result<Result<Vec<PushLocalResult>, Vec<(usize, Error)>>> {
        let store = self.store.as_ref();
        let (circuit, member) = pushing_member(store, circuit_id, principal).await?;
        let local_ids: Vec<String> = pushes.iter().map(|p| p.local_id.clone()).collect();
        let mut locals: HashMap<String, LocalItem> = store
            .local_items_named(&principal.user_id, &local_ids)
            .await?
            .into_iter()
            .map(|local| (local.local_id.clone(), local))
            .collect();

        let mut failures = Vec::new();
        let mut rows = Vec::with_capacity(pushes.len());
        let mut first_with_local_id: HashMap<&str, usize> = HashMap::new();
        for (index, push) in pushes.iter().enumerate() {
            if let Some(first) = first_with_local_id.insert(&push.local_id, index) {
                failures.push((index, in_batch(first, "pushes the same local item")));
                continue;
            }
            let Some(local) = locals.remove(&push.local_id) else {
                failures.push((index, Error::not_found("local item")));
                continue;
            };
            match Tokenizing::new(&circuit, principal, local, push.clone()) {
                Ok(tokenizing) => rows.push((index, tokenizing)),
                Err(error) => failures.push((index, error)),
            }
        }
        let canonical: Vec<(String, String)> = rows.iter().flat_map(|(_, row)| row.canonical()).collect();
        let owners = if canonical.is_empty() {
            Vec::new()
        } else {
            store.canonical_owners(&canonical).await?
        };

        // Each item resolves against what is stored; two items of the batch claiming the same
        // name or item would need each other's writes, so the later one is refused.
        let mut claimed_names: HashMap<(String, String), usize> = HashMap::new();
        let mut claimed_items: HashMap<String, usize> = HashMap::new();
        let mut resolved = Vec::with_capacity(rows.len());
        for (index, row) in rows {
            let resolution = match row.resolve(&owners) {
                Ok(resolution) => resolution,
                Err(error) => {
                    failures.push((index, error));
                    continue;
                }
            };
            let same_item = match &resolution {
                Resolution::Mint => None,
                Resolution::Tokenized(dfid) | Resolution::Existing(dfid) => claimed_items.insert(dfid.clone(), index),
            };
            let claim = match same_item {
                Some(first) => Some(in_batch(first, "resolves to the same item")),
                None => row
                    .names()
                    .into_iter()
                    .find_map(|name| claimed_names.insert(name, index))
                    .map(|first| in_batch(first, "claims the same canonical identifier")),
            };
            match claim {
                Some(error) => failures.push((index, error)),
                None => resolved.push((index, row, resolution)),
            }
        }
        // Items naming existing ones are planned even when others failed, so the answer names
        // every item that cannot be pushed; new DFIDs are reserved only for a batch that goes on.
        let refused = !failures.is_empty();
        let now = self.clock.now();
        let mints = resolved
            .iter()
            .filter(|(_, _, r)| matches!(r, Resolution::Mint))
            .count() as u64;
        let mut next_sequence = if mints == 0 || refused {
            0
        } else {
            store.next_dfid_sequences(now.date_naive(), mints).await?
        };
        let mut results = Vec::with_capacity(resolved.len());
        let mut changes = Vec::new();
        for (index, row, resolution) in resolved {
            if refused && matches!(resolution, Resolution::Mint) {
                continue;
            }
            let sequence = matches!(resolution, Resolution::Mint).then(|| {
                next_sequence += 1;
                next_sequence - 1
            });
            match self
                .plan_push_local(&circuit, &member, principal, row, resolution, &owners, sequence, now)
                .await
            {
                Ok((result, planned)) => {
                    results.push(result);
                    changes.extend(planned);
                }
                Err(error) => failures.push((index, error)),
            }
        }
        if !failures.is_empty() {
            return Ok(Err(failures));
        }
        if !changes.is_empty() {
            store.commit(Change::grouped_by_kind(changes)).await?;
        }
        Ok(Ok(results))
    }

    /// What pushing one resolved local item writes, and what it will have done. `sequence` is
    /// the reserved number of a DFID to mint.
    #[allow(clippy::too_many_arguments)]
    async fn plan_push_local(
        &self,
        circuit: &Circuit,
        member: &Member,
        principal: &Principal,
        row: Tokenizing,
        resolution: Resolution,
        owners: &[(String, String, String)],
        sequence: Option<u64>,
        now: Timestamp,
    ) -> Result<(PushLocalResult, Vec<Change>)> {
        let store = self.store.as_ref();
        let circuit_id = circuit.circuit_id.as_str();
        let Tokenizing {
            local,
            identifiers,
            data,
        } = row;
        let result = |item: &Item, outcome, operation| PushLocalResult {
            dfid: item.dfid.clone(),
            local_id: local.local_id.clone(),
            outcome,
            operation,
        };
        let mut changes = Vec::new();
        match resolution {
            Resolution::Tokenized(dfid) => {
                if let Some(operation) = open_push(store, circuit_id, &dfid).await? {
                    let result = PushLocalResult {
                        dfid,
                        local_id: local.local_id,
                        outcome: PushOutcome::AlreadyPushed,
                        operation,
                    };
                    return Ok((result, changes));
                }
                // Tokenized before, pushed to another circuit: a push of that DFID, with the
                // body's additions.
                let (mut item, relation) = item_and_relation(store, &dfid, &principal.user_id)
                    .await?
                    .ok_or_else(|| Error::not_found("item"))?;
                relation.require_owner(PLACES)?;
                changes.extend(enrichment_changes(store, &mut item, identifiers, data, &principal.user_id, now).await?);
                let (operation, push) = self
                    .push_changes(circuit, member, &item, false, Some(&local.local_id), now)
                    .await?;
                changes.extend(push);
                Ok((result(&item, PushOutcome::ExistingItemEnriched, operation), changes))
            }
            Resolution::Mint => {
                let sequence = sequence.ok_or_else(|| Error::internal("no DFID sequence reserved"))?;
                let dfid = Dfid::new(now.date_naive(), sequence).into_string();
                let item = Item {
                    dfid: dfid.clone(),
                    identifiers: identifiers.clone(),
                    enriched_data: data,
                    status: ItemStatus::Active,
                    created_by: principal.user_id.clone(),
                    created_at: now,
                    updated_at: now,
                    latest_cid: None,
                };
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
                    json!({ "local_id": local.local_id, "circuit_id": circuit_id }),
                    now,
                )?);
                changes.push(Change::MapLocalItem {
                    local_id: local.local_id.clone(),
                    dfid,
                });
                // A new DFID is in no circuit yet.
                let (operation, push) = self
                    .push_changes(circuit, member, &item, true, Some(&local.local_id), now)
                    .await?;
                changes.extend(push);
                Ok((result(&item, PushOutcome::NewItemCreated, operation), changes))
            }
            Resolution::Existing(dfid) => {
                let conflict = || conflict_with(&identifiers, &dfid, owners);
                let (mut item, relation) = item_and_relation(store, &dfid, &principal.user_id)
                    .await?
                    .ok_or_else(conflict)?;
                if !relation.can_change() {
                    // Reveal nothing about an item the caller may not change.
                    return Err(conflict());
                }
                if item.status != ItemStatus::Active {
                    return Err(Error::conflict(
                        "item_not_active",
                        format!("this item is {}", item.status.as_str()),
                    ));
                }
                changes.extend(
                    enrichment_changes(store, &mut item, identifiers.clone(), data, &principal.user_id, now).await?,
                );
                changes.push(Change::MapLocalItem {
                    local_id: local.local_id.clone(),
                    dfid: item.dfid.clone(),
                });
                let operation = match open_push(store, circuit_id, &item.dfid).await? {
                    Some(existing) => existing,
                    None if item.created_by != principal.user_id => {
                        // The caller may enrich a partner's item, but only its owner places it
                        // in a circuit.
                        return Err(Error::forbidden(
                            "owner_required",
                            format!("only the item's owner {PLACES}"),
                        ));
                    }
                    None => {
                        let (operation, push) = self
                            .push_changes(circuit, member, &item, false, Some(&local.local_id), now)
                            .await?;
                        changes.extend(push);
                        operation
                    }
                };
                Ok((result(&item, PushOutcome::ExistingItemEnriched, operation), changes))
            }
        }
    }
}

/// Refuses a batch item that needs what item `first` of the batch writes.
fn in_batch(first: usize, what: &str) -> Error {
    Error::invalid(
        "claimed_in_batch",
        format!("item {first} of this batch {what}; push them in separate requests"),
    )
}

/// The field an error that names none is about: the local item when it is missing or repeated,
/// else its identifiers (a conflict, a circuit requirement, the item they resolve to).
fn default_field(error: &Error) -> &'static str {
    match error.code.as_ref() {
        "not_found" | "claimed_in_batch" => "local_id",
        _ => "identifiers",
    }
}
