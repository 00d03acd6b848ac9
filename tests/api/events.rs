//! Events: deduplication, reserved types, visibility on every read path, local events.

use serde_json::json;

use crate::helpers::{assert_error, json_with_status, spawn_app};

#[tokio::test]
async fn events_are_deduplicated_by_content() {
    let app = spawn_app().await;
    let (owner, owner_id) = app.register("owner").await;
    let circuit = app.circuit(&owner, json!({})).await;
    let dfid = app.item_in(&owner, &circuit, 1).await;
    let body = json!({ "dfid": dfid, "event_type": "weighing", "metadata": { "kg": 412.5, "b": [1, "x"], "a": null }, "occurred_at": "2026-11-26T09:00:00-03:00" });
    let created = json_with_status(app.post_as("/api/events", &owner, &body).await, 201).await;
    assert_eq!(created["was_deduplicated"], false);
    assert_eq!(created["occurred_at"], "2026-11-26T12:00:00Z");
    // Every timestamp is written one way: RFC 3339 in UTC with `Z`.
    assert!(created["recorded_at"].as_str().unwrap().ends_with('Z'), "{created}");
    assert_eq!(created["visibility"], "CircuitOnly");
    assert_eq!(created["source"], owner_id.as_str());
    assert_eq!(created["content_hash"].as_str().unwrap().len(), 64);

    let same = json!({ "dfid": dfid, "event_type": "weighing", "metadata": { "a": null, "b": [1, "x"], "kg": 412.5 }, "occurred_at": "2026-11-26T12:00:00.000Z" });
    let again = json_with_status(app.post_as("/api/events", &owner, &same).await, 200).await;
    assert_eq!(again["was_deduplicated"], true);
    assert_eq!(again["event_id"], created["event_id"]);

    let fetched = json_with_status(
        app.get_as(
            &format!("/api/events/{}", created["event_id"].as_str().unwrap()),
            &owner,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(fetched["content_hash"], created["content_hash"]);
}

#[tokio::test]
async fn event_input_rules() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let circuit = app.circuit(&owner, json!({})).await;
    let dfid = app.item_in(&owner, &circuit, 1).await;
    for (body, code) in [
        (
            json!({ "dfid": dfid, "event_type": "Tokenized" }),
            "reserved_event_type",
        ),
        (
            json!({ "dfid": dfid, "event_type": "pushedtocircuit" }),
            "reserved_event_type",
        ),
        (json!({ "dfid": dfid, "event_type": "has space" }), "validation_error"),
        (
            json!({ "dfid": dfid, "event_type": "x", "occurred_at": "yesterday" }),
            "validation_error",
        ),
        (
            json!({ "dfid": dfid, "event_type": "x", "metadata": [1] }),
            "validation_error",
        ),
        (json!({ "dfid": "DFID-1", "event_type": "x" }), "invalid_dfid"),
    ] {
        assert_error(app.post_as("/api/events", &owner, &body).await, 400, code).await;
    }
}

#[tokio::test]
async fn visibility_is_enforced_on_every_read_path() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let (member, member_id) = app.register("member").await;
    let (puller, puller_id) = app.register("puller").await;
    let (stranger, _) = app.register("stranger").await;
    let circuit = app.circuit(&owner, json!({})).await;
    app.add_member(&owner, &circuit, &member_id, "Member").await;
    app.add_member(&owner, &circuit, &puller_id, "Viewer").await;
    let dfid = app.item_in(&owner, &circuit, 1).await;
    json_with_status(
        app.post_as(&format!("/api/circuits/{circuit}/pull/{dfid}"), &puller, &json!({}))
            .await,
        201,
    )
    .await;
    // The puller leaves the circuit: only what pulling granted remains.
    assert_eq!(
        app.delete_as(&format!("/api/circuits/{circuit}/members/{puller_id}"), &puller)
            .await
            .status(),
        204
    );

    let mut ids = std::collections::HashMap::new();
    for visibility in ["Public", "CircuitOnly", "Private"] {
        let body = json!({ "dfid": dfid, "event_type": format!("note-{visibility}"), "visibility": visibility });
        let created = json_with_status(app.post_as("/api/events", &owner, &body).await, 201).await;
        ids.insert(visibility, created["event_id"].as_str().unwrap().to_owned());
    }
    let members_private = json_with_status(
        app.post_as(
            "/api/events",
            &member,
            &json!({ "dfid": dfid, "event_type": "own-note", "visibility": "Private" }),
        )
        .await,
        201,
    )
    .await;

    let seen = |body: &serde_json::Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_type"].as_str().unwrap().to_owned())
            .collect()
    };
    let owner_sees = seen(&json_with_status(app.get_as(&format!("/api/items/{dfid}/events"), &owner).await, 200).await);
    assert!(owner_sees.contains(&"note-Private".to_owned()) && owner_sees.contains(&"own-note".to_owned()));
    let member_sees =
        seen(&json_with_status(app.get_as(&format!("/api/items/{dfid}/events"), &member).await, 200).await);
    assert!(member_sees.contains(&"note-CircuitOnly".to_owned()) && member_sees.contains(&"own-note".to_owned()));
    assert!(!member_sees.contains(&"note-Private".to_owned()));
    let notes = |types: Vec<String>| types.into_iter().filter(|t| t.starts_with("note-")).collect::<Vec<_>>();
    let puller_sees =
        seen(&json_with_status(app.get_as(&format!("/api/items/{dfid}/events"), &puller).await, 200).await);
    assert_eq!(notes(puller_sees.clone()), vec!["note-Public".to_owned()]);
    assert!(
        puller_sees.contains(&"PulledFromCircuit".to_owned()),
        "a source sees its own events"
    );
    assert_error(
        app.get_as(&format!("/api/items/{dfid}/events"), &stranger).await,
        404,
        "not_found",
    )
    .await;

    let member_list = seen(
        &json_with_status(
            app.get_as(&format!("/api/events?dfid={dfid}&limit=500"), &member).await,
            200,
        )
        .await,
    );
    assert_eq!(member_list.iter().filter(|t| t.starts_with("note-")).count(), 2);
    let puller_list = seen(&json_with_status(app.get_as("/api/events", &puller).await, 200).await);
    assert_eq!(notes(puller_list), vec!["note-Public".to_owned()]);
    let stranger_list = json_with_status(app.get_as("/api/events", &stranger).await, 200).await;
    assert!(stranger_list["data"].as_array().unwrap().is_empty());

    assert_error(
        app.get_as(&format!("/api/events/{}", ids["Private"]), &member).await,
        404,
        "not_found",
    )
    .await;
    json_with_status(
        app.get_as(&format!("/api/events/{}", ids["CircuitOnly"]), &member)
            .await,
        200,
    )
    .await;
    assert_error(
        app.get_as(&format!("/api/events/{}", ids["CircuitOnly"]), &puller)
            .await,
        404,
        "not_found",
    )
    .await;
    json_with_status(
        app.get_as(&format!("/api/events/{}", ids["Public"]), &puller).await,
        200,
    )
    .await;
    assert_error(
        app.get_as(&format!("/api/events/{}", ids["Public"]), &stranger).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.get_as(
            &format!("/api/events/{}", members_private["event_id"].as_str().unwrap()),
            &puller,
        )
        .await,
        404,
        "not_found",
    )
    .await;

    let filtered = seen(
        &json_with_status(
            app.get_as("/api/events?visibility=Public&event_type=note-Public", &owner)
                .await,
            200,
        )
        .await,
    );
    assert_eq!(filtered, vec!["note-Public".to_owned()]);
    let none = json_with_status(app.get_as("/api/events?from=2999-01-01T00:00:00Z", &owner).await, 200).await;
    assert!(none["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn only_those_who_may_change_the_item_add_events() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let (viewer, viewer_id) = app.register("viewer").await;
    let (stranger, _) = app.register("stranger").await;
    let circuit = app.circuit(&owner, json!({})).await;
    app.add_member(&owner, &circuit, &viewer_id, "Viewer").await;
    let dfid = app.item_in(&owner, &circuit, 1).await;
    let body = json!({ "dfid": dfid, "event_type": "vaccination" });
    assert_error(
        app.post_as("/api/events", &viewer, &body).await,
        403,
        "insufficient_permissions",
    )
    .await;
    assert_error(app.post_as("/api/events", &stranger, &body).await, 404, "not_found").await;
}

#[tokio::test]
async fn local_events_are_pushed_to_an_item() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let (other, _) = app.register("other").await;
    let circuit = app.circuit(&owner, json!({})).await;
    let dfid = app.item_in(&owner, &circuit, 1).await;
    let mut local_ids = Vec::new();
    for kg in [400, 405, 400] {
        let body = json!({ "event_type": "weighing", "metadata": { "kg": kg }, "occurred_at": "2026-11-20T10:00:00Z" });
        let created = json_with_status(app.post_as("/api/events/local", &owner, &body).await, 201).await;
        local_ids.push(created["local_event_id"].as_str().unwrap().to_owned());
    }
    let listed = json_with_status(app.get_as("/api/events/local", &owner).await, 200).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 3);
    let others = json_with_status(app.get_as("/api/events/local", &other).await, 200).await;
    assert!(others["data"].as_array().unwrap().is_empty());

    let body = json!({ "dfid": dfid, "local_event_ids": local_ids });
    assert_error(
        app.post_as(&format!("/api/circuits/{circuit}/push-events"), &other, &body)
            .await,
        404,
        "not_found",
    )
    .await;
    let pushed = json_with_status(
        app.post_as(&format!("/api/circuits/{circuit}/push-events"), &owner, &body)
            .await,
        200,
    )
    .await;
    assert_eq!(pushed["events_pushed"], 2);
    assert_eq!(
        pushed["events_deduplicated"], 1,
        "two identical weighings are one event"
    );
    assert_eq!(pushed["events"][0]["event_id"], pushed["events"][2]["event_id"]);
    let after = json_with_status(app.get_as("/api/events/local", &owner).await, 200).await;
    assert!(after["data"].as_array().unwrap().is_empty());
    assert_error(
        app.post_as(&format!("/api/circuits/{circuit}/push-events"), &owner, &body)
            .await,
        409,
        "local_event_already_pushed",
    )
    .await;
}
