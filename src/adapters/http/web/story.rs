//! What an item page tells, read from the public proof bundle it verifies: the timeline of
//! `Public` events (with EPCIS what, where and why for captured events), the versions and what
//! each changed, and the lineage the page may link.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::domain::Timestamp;
use crate::domain::epcis::event::{EpcRole, EventType};
use crate::domain::items::event::Event;
use crate::domain::items::version::ItemVersion;

/// Metadata entries a native event shows.
const MAX_DETAILS: usize = 12;
/// Characters of one shown value.
const MAX_VALUE_CHARS: usize = 160;

pub struct TimelineEntry {
    pub event_id: String,
    pub when: String,
    pub title: String,
    /// EPCIS what / where / why, for captured events.
    pub what: Vec<String>,
    pub where_: Vec<String>,
    pub why: Vec<String>,
    /// A native event's metadata, as `(key, value)`.
    pub details: Vec<(String, String)>,
}

/// The events newest first.
pub fn timeline(events: &[Event]) -> Vec<TimelineEntry> {
    let mut newest_first: Vec<&Event> = events.iter().collect();
    newest_first.sort_by_key(|event| Reverse(event.occurred_at));
    newest_first.into_iter().map(entry).collect()
}

/// The newest event's entry, without reading the others.
pub fn latest(events: &[Event]) -> Option<TimelineEntry> {
    events
        .iter()
        .max_by(|a, b| a.occurred_at.cmp(&b.occurred_at))
        .map(entry)
}

/// Whether a capture recorded the event (its type is an EPCIS event type and its metadata the
/// EPCIS event).
fn captured(event: &Event) -> bool {
    EventType::from_text(&event.event_type).is_some()
}

fn entry(event: &Event) -> TimelineEntry {
    let meta = &event.metadata;
    let mut entry = TimelineEntry {
        event_id: event.event_id.clone(),
        when: when(&event.occurred_at),
        title: event.event_type.clone(),
        what: Vec::new(),
        where_: Vec::new(),
        why: Vec::new(),
        details: Vec::new(),
    };
    if !captured(event) {
        entry.details = details(meta);
        return entry;
    }
    if let Some(action) = meta["action"].as_str() {
        entry.what.push(action.to_owned());
    }
    let objects = epcs(meta).len();
    if objects > 0 {
        entry.what.push(format!("EPC × {objects}"));
    }
    for quantity in [
        "quantityList",
        "inputQuantityList",
        "outputQuantityList",
        "childQuantityList",
    ] {
        for q in meta[quantity]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .take(5)
        {
            if let Some(class) = q["epcClass"].as_str() {
                let amount = q["quantity"].as_f64().map(|n| format!("{n} ")).unwrap_or_default();
                let unit = q["uom"].as_str().map(|u| format!(" {u}")).unwrap_or_default();
                entry.what.push(clip(&format!("{amount}{class}{unit}")));
            }
        }
    }
    for place in ["readPoint", "bizLocation"] {
        if let Some(id) = meta[place]["id"].as_str() {
            entry.where_.push(clip(id));
        }
    }
    for reason in ["bizStep", "disposition"] {
        if let Some(term) = meta[reason].as_str() {
            entry.why.push(short_cbv(term).to_owned());
        }
    }
    entry
}

/// `urn:epcglobal:cbv:bizstep:shipping` and `https://ref.gs1.org/cbv/BizStep-shipping` read
/// as `shipping`; other URIs are shown whole.
fn short_cbv(term: &str) -> &str {
    if let Some(rest) = term.strip_prefix("urn:epcglobal:cbv:") {
        return rest.split_once(':').map_or(rest, |(_, word)| word);
    }
    if let Some(rest) = term.strip_prefix("https://ref.gs1.org/cbv/") {
        return rest.split_once('-').map_or(rest, |(_, word)| word);
    }
    term
}

fn details(metadata: &Value) -> Vec<(String, String)> {
    let Some(object) = metadata.as_object() else {
        return Vec::new();
    };
    object
        .iter()
        .take(MAX_DETAILS)
        .map(|(key, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (clip(key), clip(&text))
        })
        .collect()
}

fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_VALUE_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

pub fn when(at: &Timestamp) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Every EPC an EPCIS event's metadata names, with the role it plays.
fn epcs(meta: &Value) -> Vec<(EpcRole, &str)> {
    let mut named = Vec::new();
    let lists = [
        ("epcList", EpcRole::Listed),
        ("inputEPCList", EpcRole::Input),
        ("outputEPCList", EpcRole::Output),
        ("childEPCs", EpcRole::Child),
    ];
    for (field, role) in lists {
        for epc in meta[field].as_array().map(Vec::as_slice).unwrap_or_default() {
            if let Some(epc) = epc.as_str() {
                named.push((role, epc));
            }
        }
    }
    if let Some(parent) = meta["parentID"].as_str() {
        named.push((EpcRole::Parent, parent));
    }
    named
}

/// How a linked item relates to the page's item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Relation {
    MadeFrom,
    WentInto,
    ContainedIn,
    Contains,
    Related,
}

/// Every EPC the EPCIS events among `events` name, for the page to resolve.
pub fn mentioned_epcs(events: &[Event]) -> Vec<String> {
    let set: BTreeSet<&str> = events
        .iter()
        .filter(|e| captured(e))
        .flat_map(|e| epcs(&e.metadata).into_iter().map(|(_, epc)| epc))
        .collect();
    set.into_iter().map(str::to_owned).collect()
}

/// The items the events link to `dfid`, given which EPCs name which published items
/// (`resolved`, `(epc, dfid)`): inputs of a transformation that made it, outputs of one it went
/// into, the parent it was aggregated into, the children aggregated into it, and others named
/// with it.
pub fn lineage(events: &[Event], dfid: &str, resolved: &[(String, String)]) -> Vec<(Relation, String)> {
    let item_of: BTreeMap<&str, &str> = resolved.iter().map(|(epc, d)| (epc.as_str(), d.as_str())).collect();
    let mut links = BTreeSet::new();
    for event in events.iter().filter(|e| captured(e)) {
        let named = epcs(&event.metadata);
        let own_roles: Vec<EpcRole> = named
            .iter()
            .filter(|(_, epc)| item_of.get(epc) == Some(&dfid))
            .map(|(role, _)| *role)
            .collect();
        for (role, epc) in &named {
            let Some(other) = item_of.get(epc).filter(|other| **other != dfid) else {
                continue;
            };
            let relation = match (role, own_roles.first()) {
                (EpcRole::Input, Some(EpcRole::Output)) => Relation::MadeFrom,
                (EpcRole::Output, Some(EpcRole::Input)) => Relation::WentInto,
                (EpcRole::Parent, Some(EpcRole::Child)) => Relation::ContainedIn,
                (EpcRole::Child, Some(EpcRole::Parent)) => Relation::Contains,
                _ => Relation::Related,
            };
            links.insert((relation, (*other).to_owned()));
        }
    }
    links.into_iter().collect()
}

pub struct VersionEntry {
    pub number: u64,
    pub kind: String,
    pub when: String,
    pub withheld: bool,
    /// What this version changed from the one before, when both documents are shown.
    pub changes: Vec<String>,
}

/// The versions (each with whether its document is withheld) newest first, each with what it
/// changed.
pub fn versions(seen: &[(ItemVersion, bool)]) -> Vec<VersionEntry> {
    let mut oldest_first: Vec<&(ItemVersion, bool)> = seen.iter().collect();
    oldest_first.sort_by_key(|(v, _)| v.version);
    let mut previous: Option<Value> = None;
    let mut entries = Vec::new();
    for (version, withheld) in oldest_first {
        let document = (!withheld)
            .then(|| serde_json::from_str::<Value>(&version.document).ok())
            .flatten();
        let changes = match (&previous, &document) {
            (Some(before), Some(after)) => changed(before, after),
            (None, Some(after)) => identifier_names(after).into_iter().map(|i| format!("+ {i}")).collect(),
            _ => Vec::new(),
        };
        entries.push(VersionEntry {
            number: version.version,
            kind: version.change.kind.clone(),
            when: when(&version.change.changed_at),
            withheld: *withheld,
            changes,
        });
        previous = document;
    }
    entries.reverse();
    entries
}

fn identifier_names(document: &Value) -> BTreeSet<String> {
    document["identifiers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|i| Some(format!("{}: {}", i["key"].as_str()?, i["value"].as_str()?)))
        .map(|name| clip(&name))
        .collect()
}

fn changed(before: &Value, after: &Value) -> Vec<String> {
    let (old, new) = (identifier_names(before), identifier_names(after));
    let mut changes: Vec<String> = new.difference(&old).map(|i| format!("+ {i}")).collect();
    changes.extend(old.difference(&new).map(|i| format!("− {i}")));
    if before["status"] != after["status"] {
        changes.push(format!(
            "status: {} → {}",
            before["status"].as_str().unwrap_or("?"),
            after["status"].as_str().unwrap_or("?")
        ));
    }
    let empty = serde_json::Map::new();
    let data = |doc: &Value| {
        doc["enriched_data"]
            .as_object()
            .cloned()
            .unwrap_or_else(|| empty.clone())
    };
    let (old_data, new_data) = (data(before), data(after));
    let keys: BTreeSet<&String> = old_data.keys().chain(new_data.keys()).collect();
    for key in keys {
        if old_data.get(key.as_str()) != new_data.get(key.as_str()) {
            changes.push(clip(&format!(
                "{key}: {}",
                new_data.get(key.as_str()).map_or_else(|| "−".to_owned(), value_text)
            )));
        }
    }
    changes
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::items::event::{EventTimes, Visibility};
    use crate::domain::testing::start_of_test;
    use serde_json::json;

    fn event(event_type: &str, metadata: Value, minutes: i64) -> Event {
        let at = start_of_test() + chrono::Duration::minutes(minutes);
        Event::new(
            format!("e{minutes}"),
            "DFID-20261204-000001-X",
            event_type,
            Visibility::Public,
            "u1",
            metadata,
            EventTimes {
                occurred_at: at,
                recorded_at: at,
            },
        )
        .unwrap()
    }

    #[test]
    fn captured_events_read_as_what_where_why_and_native_ones_as_details() {
        let shipped = event(
            "ObjectEvent",
            json!({
                "action": "OBSERVE",
                "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
                "bizStep": "https://ref.gs1.org/cbv/BizStep-shipping",
                "disposition": "urn:epcglobal:cbv:disp:in_transit",
                "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
            }),
            2,
        );
        let weighed = event("weighing", json!({"kg": 412.5, "scale": "b".repeat(400)}), 1);
        let events = [weighed, shipped];
        let entries = timeline(&events);
        assert_eq!(entries[0].title, "ObjectEvent", "newest first");
        assert_eq!(latest(&events).unwrap().event_id, entries[0].event_id);
        assert_eq!(entries[0].what, ["OBSERVE", "EPC × 1"]);
        assert_eq!(entries[0].where_, ["urn:epc:id:sgln:0614141.07346.1234"]);
        assert_eq!(entries[0].why, ["shipping", "in_transit"]);
        assert_eq!(entries[1].details[0], ("kg".to_owned(), "412.5".to_owned()));
        assert_eq!(entries[1].details[1].1.chars().count(), MAX_VALUE_CHARS + 1);
    }

    #[test]
    fn lineage_links_only_resolved_items_by_their_role() {
        let dfid = "DFID-20261204-000001-X";
        let made = event(
            "TransformationEvent",
            json!({"inputEPCList": ["urn:a", "urn:hidden"], "outputEPCList": ["urn:me"]}),
            1,
        );
        let packed = event(
            "AggregationEvent",
            json!({"parentID": "urn:pallet", "childEPCs": ["urn:me"]}),
            2,
        );
        let events = [made, packed];
        assert_eq!(mentioned_epcs(&events), ["urn:a", "urn:hidden", "urn:me", "urn:pallet"]);
        let resolved = [
            ("urn:a".to_owned(), "DFID-A".to_owned()),
            ("urn:me".to_owned(), dfid.to_owned()),
            ("urn:pallet".to_owned(), "DFID-P".to_owned()),
        ];
        assert_eq!(
            lineage(&events, dfid, &resolved),
            [
                (Relation::MadeFrom, "DFID-A".to_owned()),
                (Relation::ContainedIn, "DFID-P".to_owned())
            ]
        );
    }
}
