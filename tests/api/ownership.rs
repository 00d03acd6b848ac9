//! Who places an item in a circuit, who takes it out, and how ownership moves (API.md, "Trust
//! rules").

use serde_json::{Value, json};

use crate::helpers::{assert_error, cpf, json_with_status, spawn_app};

fn ids(list: &Value, field: &str) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry[field].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_partner_cannot_take_an_owners_item_into_a_circuit_of_their_own() {
    let app = spawn_app().await;
    let (alice, _) = app.register("alice").await;
    let (mallory, mallory_id) = app.register("mallory").await;
    let (stranger, _) = app.register("stranger").await;
    let farm = app.circuit(&alice, json!({})).await;
    app.add_member(&alice, &farm, &mallory_id, "Member").await;
    let dfid = app.item_in(&alice, &farm, 1).await;
    let own = app
        .circuit(&mallory, json!({ "permissions": { "allow_public_visibility": true } }))
        .await;

    let push = format!("/api/circuits/{own}/push/{dfid}");
    assert_error(app.post_as(&push, &mallory, &json!({})).await, 403, "owner_required").await;
    assert_error(app.post_as(&push, &stranger, &json!({})).await, 404, "not_found").await;
    // The same item reached through its CPF from a local item of Mallory's.
    let local = app
        .local_item(&mallory, json!([{ "key": "cpf", "value": cpf(1) }]))
        .await;
    let body = json!({ "local_id": local });
    assert_error(
        app.post_as(&format!("/api/circuits/{own}/push-local"), &mallory, &body)
            .await,
        403,
        "owner_required",
    )
    .await;
    let held = json_with_status(app.get_as(&format!("/api/circuits/{own}/items"), &mallory).await, 200).await;
    assert!(ids(&held, "dfid").is_empty(), "nothing reached Mallory's circuit");
    // Within Alice's circuit, Mallory's Push still lets her record what she did.
    let patch = json!({ "enriched_data": { "weighed_by": "mallory" } });
    json_with_status(app.patch_as(&format!("/api/items/{dfid}"), &mallory, &patch).await, 200).await;
}

#[tokio::test]
async fn removing_an_item_from_a_circuit_ends_the_rights_that_came_through_it() {
    let app = spawn_app().await;
    let (alice, _) = app.register("alice").await;
    let (mallory, mallory_id) = app.register("mallory").await;
    let (viewer, viewer_id) = app.register("viewer").await;
    let (stranger, _) = app.register("stranger").await;
    let farm = app
        .circuit(&alice, json!({ "permissions": { "allow_public_visibility": true } }))
        .await;
    app.add_member(&alice, &farm, &mallory_id, "Member").await;
    app.add_member(&alice, &farm, &viewer_id, "Viewer").await;
    let dfid = app.item_in(&alice, &farm, 1).await;
    let page = json!({ "enabled": true, "access_mode": "Public", "public_name": "Farm", "published_items": [dfid] });
    json_with_status(
        app.put_as(&format!("/api/circuits/{farm}/public-settings"), &alice, &page)
            .await,
        200,
    )
    .await;
    let item = format!("/api/items/{dfid}");
    let removal = format!("/api/circuits/{farm}/items/{dfid}");

    assert_error(app.delete_as(&removal, &viewer).await, 403, "insufficient_permissions").await;
    assert_error(app.delete_as(&removal, &mallory).await, 403, "insufficient_permissions").await;
    assert_error(app.delete_as(&removal, &stranger).await, 404, "not_found").await;
    assert_eq!(app.delete_as(&removal, &alice).await.status(), 204);
    assert_error(app.delete_as(&removal, &alice).await, 404, "not_found").await;

    let patch = json!({ "enriched_data": { "recall": true } });
    assert_error(app.patch_as(&item, &mallory, &patch).await, 404, "not_found").await;
    assert_error(app.get_as(&item, &viewer).await, 404, "not_found").await;
    let event = json!({ "dfid": dfid, "event_type": "recall" });
    assert_error(app.post_as("/api/events", &mallory, &event).await, 404, "not_found").await;
    let held = json_with_status(app.get_as(&format!("/api/circuits/{farm}/items"), &alice).await, 200).await;
    assert!(ids(&held, "dfid").is_empty());
    let public = json_with_status(app.get(&format!("/api/circuits/{farm}/public")).await, 200).await;
    assert!(!public.to_string().contains(&dfid), "off the public page too: {public}");
    let events = json_with_status(app.get_as(&format!("{item}/events"), &alice).await, 200).await;
    let types: Vec<String> = ids(&events, "event_type");
    assert!(
        types.contains(&"Tokenized".to_owned()) && types.contains(&"RemovedFromCircuit".to_owned()),
        "{types:?}"
    );

    // Placing it again is a new push, not the one the removal ended.
    let again = app
        .post_as(&format!("/api/circuits/{farm}/push/{dfid}"), &alice, &json!({}))
        .await;
    json_with_status(again, 201).await;
    json_with_status(app.get_as(&item, &viewer).await, 200).await;
}

#[tokio::test]
async fn an_owner_outside_the_circuit_still_takes_their_item_out() {
    let app = spawn_app().await;
    let (bob, _) = app.register("bob").await;
    let (alice, alice_id) = app.register("alice").await;
    let coop = app.circuit(&bob, json!({})).await;
    app.add_member(&bob, &coop, &alice_id, "Member").await;
    let dfid = app.item_in(&alice, &coop, 1).await;
    let removed = app
        .delete_as(&format!("/api/circuits/{coop}/members/{alice_id}"), &bob)
        .await;
    assert_eq!(removed.status(), 204);
    assert_eq!(
        app.delete_as(&format!("/api/circuits/{coop}/items/{dfid}"), &alice)
            .await
            .status(),
        204
    );
    let held = json_with_status(app.get_as(&format!("/api/circuits/{coop}/items"), &bob).await, 200).await;
    assert!(ids(&held, "dfid").is_empty());
    assert_error(app.get_as(&format!("/api/items/{dfid}"), &bob).await, 404, "not_found").await;
}
