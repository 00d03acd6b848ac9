//! Canonical identifiers: the first claim holds, conflicts are limited and audited, and an
//! administrator settles disputes (API.md, "Trust rules").

use serde_json::{Value, json};

use crate::admin::app_with_admin;
use crate::helpers::{assert_error, cpf, json_with_status};

fn listed(list: &Value, field: &str) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn conflicts_reveal_nothing_and_stop_at_thirty_an_hour() {
    let (app, _) = app_with_admin().await;
    let (mallory, _) = app.register("mallory").await;
    let (alice, _) = app.register("alice").await;
    let squatter = app.circuit(&mallory, json!({})).await;
    let held = app.item_in(&mallory, &squatter, 1).await;
    let farm = app.circuit(&alice, json!({})).await;
    let mine = app.item_in(&alice, &farm, 2).await;

    let claim = json!({ "identifiers": [{ "key": "cpf", "value": cpf(1) }] });
    let path = format!("/api/items/{mine}");
    for _ in 0..30 {
        let refused = assert_error(app.patch_as(&path, &alice, &claim).await, 409, "identifier_conflict").await;
        assert!(
            !refused.to_string().contains(&held),
            "a conflict never names the other item"
        );
    }
    let limited = app.patch_as(&path, &alice, &claim).await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, 429, "rate_limited").await;
    // Other work goes on.
    let other = json!({ "enriched_data": { "breed": "Nelore" } });
    json_with_status(app.patch_as(&path, &alice, &other).await, 200).await;
    let audit = json_with_status(app.get_as("/api/users/me/audit?limit=100", &alice).await, 200).await;
    let conflicts = listed(&audit, "action")
        .iter()
        .filter(|a| *a == "identifier_conflict")
        .count();
    assert_eq!(conflicts, 31);
    assert!(!audit.to_string().contains(&held));
}

#[tokio::test]
async fn an_administrator_reassigns_a_disputed_identifier_in_one_step() {
    let (app, admin) = app_with_admin().await;
    let (mallory, _) = app.register("mallory").await;
    let (alice, _) = app.register("alice").await;
    let (bob, _) = app.register("bob").await;
    let squatter = app.circuit(&mallory, json!({})).await;
    let held = app.item_in(&mallory, &squatter, 1).await;
    let farm = app.circuit(&alice, json!({})).await;
    let mine = app.item_in(&alice, &farm, 2).await;

    let body = json!({ "key": "cpf", "value": cpf(1), "dfid": mine, "evidence": "bought with its papers" });
    assert_error(
        app.post_as("/api/identifier-disputes", &bob, &body).await,
        404,
        "not_found",
    )
    .await;
    let unknown_registry = json!({ "key": "brand", "value": "x", "dfid": mine });
    assert_error(
        app.post_as("/api/identifier-disputes", &alice, &unknown_registry).await,
        400,
        "validation_error",
    )
    .await;
    let opened = json_with_status(app.post_as("/api/identifier-disputes", &alice, &body).await, 201).await;
    assert_eq!(opened["status"], "Open");
    assert!(!opened.to_string().contains(&held));
    let id = opened["dispute_id"].as_str().unwrap();

    assert_error(
        app.get_as("/api/admin/identifier-disputes", &alice).await,
        403,
        "admin_required",
    )
    .await;
    let open = json_with_status(
        app.get_as("/api/admin/identifier-disputes?status=Open", &admin).await,
        200,
    )
    .await;
    assert_eq!(listed(&open, "holder_dfid"), vec![held.clone()]);

    let resolve = format!("/api/admin/identifier-disputes/{id}/resolve");
    let decision = json!({ "decision": "reassign", "note": "papers checked" });
    let resolved = json_with_status(app.post_as(&resolve, &admin, &decision).await, 200).await;
    assert_eq!(resolved["status"], "Reassigned");
    assert_error(app.post_as(&resolve, &admin, &decision).await, 409, "dispute_not_open").await;

    let found = json_with_status(
        app.get_as(&format!("/api/items?key=cpf&value={}", cpf(1)), &alice)
            .await,
        200,
    )
    .await;
    assert_eq!(listed(&found, "dfid"), vec![mine.clone()]);
    let theirs = json_with_status(app.get_as(&format!("/api/items/{held}"), &mallory).await, 200).await;
    assert!(!theirs["identifiers"].to_string().contains(&cpf(1)));
    for (token, dfid) in [(&alice, &mine), (&mallory, &held)] {
        let events = json_with_status(app.get_as(&format!("/api/items/{dfid}/events"), token).await, 200).await;
        assert!(listed(&events, "event_type").contains(&"IdentifierReassigned".to_owned()));
        let notes = json_with_status(app.get_as("/api/notifications", token).await, 200).await;
        assert!(listed(&notes, "notification_type").contains(&"DisputeResolved".to_owned()));
    }
    // The identifier holds on its new item like any other.
    let claim = json!({ "identifiers": [{ "key": "cpf", "value": cpf(1) }] });
    assert_error(
        app.patch_as(&format!("/api/items/{held}"), &mallory, &claim).await,
        409,
        "identifier_conflict",
    )
    .await;
}
