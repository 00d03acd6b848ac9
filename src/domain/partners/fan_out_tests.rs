//! Which facts reach partners' webhooks: the triggers a new event raises, and which triggers a
//! circuit's post-action settings let through.

use serde_json::json;

use crate::domain::changes::Change;
use crate::domain::items::event::{Event, EventTimes, Visibility};
use crate::domain::items::event_service::event_triggers;
use crate::domain::partners::trigger::TriggerKind;
use crate::domain::partners::webhook::PostActionSettings;
use crate::domain::testing::{SequentialIds, dfid, start_of_test};

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

#[test]
fn a_private_event_is_announced_to_no_circuit() {
    assert!(event_triggers(&SequentialIds::default(), &weighing(Visibility::Private), &circuits()).is_empty());
}

#[test]
fn a_shared_event_is_announced_once_to_each_circuit_holding_the_item() {
    for visibility in [Visibility::CircuitOnly, Visibility::Public] {
        let event = weighing(visibility);
        let triggers = event_triggers(&SequentialIds::default(), &event, &circuits());
        let announced: Vec<(&str, TriggerKind)> = triggers
            .iter()
            .filter_map(|c| match c {
                Change::Trigger(t) => Some((t.circuit_id.as_str(), t.kind)),
                _ => None,
            })
            .collect();
        assert_eq!(
            announced,
            vec![("c1", TriggerKind::EventCreated), ("c2", TriggerKind::EventCreated)]
        );
        let Some(Change::Trigger(first)) = triggers.first() else {
            panic!("a trigger");
        };
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
fn disabled_post_actions_announce_nothing() {
    let settings = PostActionSettings {
        enabled: false,
        trigger_events: TriggerKind::ALL.to_vec(),
        include_storage_details: false,
    };
    assert!(TriggerKind::ALL.iter().all(|kind| !settings.announces(*kind)));
}

#[test]
fn only_subscribed_kinds_are_announced() {
    let settings = PostActionSettings {
        enabled: true,
        trigger_events: vec![TriggerKind::ItemPushed],
        include_storage_details: false,
    };
    assert!(settings.announces(TriggerKind::ItemPushed));
    assert!(!settings.announces(TriggerKind::EventCreated));
}
