//! Which facts reach partners' webhooks: the triggers a new event raises, and which triggers a
//! circuit's post-action settings let through.

use serde_json::json;

use crate::domain::changes::Change;
use crate::domain::epcis::native::NativeExport;
use crate::domain::epcis::subscription::EpcisSubscription;
use crate::domain::items::event::{Event, EventTimes, Visibility};
use crate::domain::items::event_service::event_triggers;
use crate::domain::items::item::{Item, ItemStatus};
use crate::domain::partners::trigger::{Trigger, TriggerKind};
use crate::domain::partners::webhook::PostActionSettings;
use crate::domain::testing::{SequentialIds, canonical, dfid, start_of_test};

const EPC: &str = "https://id.gs1.org/01/07891234123459/21/BOV0001";

fn weighing(visibility: Visibility) -> Event {
    let at = start_of_test();
    Event::new(
        "event-1".into(),
        &dfid(1),
        "weighing",
        visibility,
        "owner",
        json!({ "kg": 412 }),
        EventTimes::now(at),
    )
    .unwrap()
}

fn circuits() -> Vec<String> {
    vec!["c1".into(), "c2".into()]
}

fn triggers_of(event: &Event) -> Vec<Trigger> {
    let export = NativeExport::new("https://trace.example");
    let item = Item {
        dfid: event.dfid.clone(),
        identifiers: vec![canonical("epc", EPC)],
        enriched_data: Default::default(),
        status: ItemStatus::Active,
        created_by: "owner".into(),
        created_at: start_of_test(),
        updated_at: start_of_test(),
        latest_cid: None,
    };
    event_triggers(&SequentialIds::default(), &export, event, &item, &circuits())
        .unwrap()
        .into_iter()
        .filter_map(|change| match change {
            Change::Trigger(t) => Some(t),
            _ => None,
        })
        .collect()
}

#[test]
fn a_private_event_is_announced_to_no_circuit() {
    assert!(triggers_of(&weighing(Visibility::Private)).is_empty());
}

#[test]
fn a_shared_event_is_announced_once_to_each_circuit_holding_the_item() {
    for visibility in [Visibility::CircuitOnly, Visibility::Public] {
        let event = weighing(visibility);
        let triggers = triggers_of(&event);
        let announced: Vec<(&str, TriggerKind)> = triggers.iter().map(|t| (t.circuit_id.as_str(), t.kind)).collect();
        assert_eq!(
            announced,
            vec![
                ("c1", TriggerKind::EventCreated),
                ("c1", TriggerKind::EpcisEvent),
                ("c2", TriggerKind::EventCreated),
                ("c2", TriggerKind::EpcisEvent)
            ]
        );
        let first = &triggers[0];
        let payload = first.event.as_ref().expect("the event's summary");
        assert_eq!(payload["event_id"], event.event_id.as_str());
        assert_eq!(payload["visibility"], visibility.as_str());
        assert!(
            payload.get("metadata").is_none(),
            "the payload names the event, never its data"
        );
    }
}

#[test]
fn the_epcis_trigger_carries_the_event_as_the_export_writes_it() {
    let triggers = triggers_of(&weighing(Visibility::CircuitOnly));
    let epcis = triggers
        .iter()
        .find(|t| t.kind == TriggerKind::EpcisEvent)
        .expect("epcis_event");
    let event = epcis.event.as_ref().expect("the EPCIS event");
    assert_eq!(event["type"], "ObjectEvent");
    assert_eq!(event["epcList"], json!([EPC]));
    assert_eq!(event["bizStep"], "https://trace.example/ns/event-type/weighing");
    assert_eq!(event["defarm:metadata"], r#"{"kg":412}"#);
}

fn settings(enabled: bool, trigger_events: Vec<TriggerKind>, epcis_query: Option<&str>) -> PostActionSettings {
    PostActionSettings {
        enabled,
        trigger_events,
        include_storage_details: false,
        epcis_query: epcis_query.map(|text| EpcisSubscription::parse(text).unwrap()),
    }
}

#[test]
fn disabled_post_actions_announce_nothing() {
    let settings = settings(false, TriggerKind::ALL.to_vec(), None);
    assert!(
        triggers_of(&weighing(Visibility::Public))
            .iter()
            .all(|t| !settings.announces(t))
    );
}

#[test]
fn only_subscribed_kinds_are_announced() {
    let triggers = triggers_of(&weighing(Visibility::Public));
    let settings = settings(true, vec![TriggerKind::EventCreated], None);
    let kinds: Vec<TriggerKind> = triggers
        .iter()
        .filter(|t| settings.announces(t))
        .map(|t| t.kind)
        .collect();
    assert_eq!(kinds, vec![TriggerKind::EventCreated, TriggerKind::EventCreated]);
}

#[test]
fn the_epcis_query_chooses_which_epcis_events_are_announced() {
    let triggers = triggers_of(&weighing(Visibility::Public));
    let epcis = triggers.iter().find(|t| t.kind == TriggerKind::EpcisEvent).unwrap();
    let kinds = vec![TriggerKind::EpcisEvent];
    assert!(settings(true, kinds.clone(), None).announces(epcis));
    assert!(settings(true, kinds.clone(), Some(&format!("MATCH_epc={EPC}&EQ_action=OBSERVE"))).announces(epcis));
    assert!(!settings(true, kinds.clone(), Some("EQ_bizStep=shipping")).announces(epcis));
    assert!(!settings(true, kinds, Some("eventType=AggregationEvent")).announces(epcis));
}
