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
    let (puller, puller_id) = app.register("puller").await;
    app.add_member(&alice, &farm, &puller_id, "Viewer").await;
    let pulled = app
        .post_as(&format!("/api/circuits/{farm}/pull/{dfid}"), &puller, &json!({}))
        .await;
    json_with_status(pulled, 201).await;
    // A pull's access outlives the membership it came through...
    let left = app
        .delete_as(&format!("/api/circuits/{farm}/members/{puller_id}"), &alice)
        .await;
    assert_eq!(left.status(), 204);
    json_with_status(app.get_as(&format!("/api/items/{dfid}"), &puller).await, 200).await;
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
    // ...but not the item leaving the circuit.
    assert_error(app.get_as(&item, &puller).await, 404, "not_found").await;
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

async fn notification_types(app: &crate::helpers::TestApp, token: &str) -> Vec<String> {
    let list = json_with_status(app.get_as("/api/notifications", token).await, 200).await;
    ids(&list, "notification_type")
}

#[tokio::test]
async fn ownership_moves_only_when_the_recipient_accepts() {
    let app = spawn_app().await;
    let (alice, alice_id) = app.register("alice").await;
    let (bob, bob_id) = app.register("bob").await;
    let (carol, carol_id) = app.register("carol").await;
    let farm = app.circuit(&alice, json!({})).await;
    app.add_member(&alice, &farm, &carol_id, "Member").await;
    let dfid = app.item_in(&alice, &farm, 1).await;
    let other = app.item_in(&alice, &farm, 2).await;
    let offer = |dfid: &str| format!("/api/items/{dfid}/transfers");

    assert_error(
        app.post_as(&offer(&dfid), &carol, &json!({ "to": "carol" })).await,
        403,
        "owner_required",
    )
    .await;
    assert_error(
        app.post_as(&offer(&dfid), &bob, &json!({ "to": "bob" })).await,
        404,
        "not_found",
    )
    .await;
    let to_bob = json_with_status(
        app.post_as(
            &offer(&dfid),
            &alice,
            &json!({ "to": "bob", "message": "sold at auction" }),
        )
        .await,
        202,
    )
    .await;
    assert_eq!(to_bob["status"], "Pending");
    assert_error(
        app.post_as(&offer(&dfid), &alice, &json!({ "to": "carol" })).await,
        409,
        "transfer_pending",
    )
    .await;
    // Nobody by that name: the same answer, and nobody is told anything.
    let to_nobody = json_with_status(
        app.post_as(&offer(&other), &alice, &json!({ "to": "nobody@example.com" }))
            .await,
        202,
    )
    .await;
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&to_bob), keys(&to_nobody));
    assert_eq!(to_nobody["status"], "Pending");

    let transfer = to_bob["transfer_id"].as_str().unwrap();
    let incoming = json_with_status(app.get_as("/api/transfers?direction=incoming", &bob).await, 200).await;
    assert_eq!(ids(&incoming, "transfer_id"), vec![transfer.to_owned()]);
    let outgoing = json_with_status(app.get_as("/api/transfers?direction=outgoing", &alice).await, 200).await;
    assert_eq!(ids(&outgoing, "transfer_id").len(), 2);
    assert_eq!(
        notification_types(&app, &bob).await,
        vec!["TransferReceived".to_owned()]
    );
    assert_error(
        app.get_as(&format!("/api/transfers/{transfer}"), &carol).await,
        404,
        "not_found",
    )
    .await;
    let accept = format!("/api/transfers/{transfer}/accept");
    assert_error(app.post_as(&accept, &carol, &json!({})).await, 404, "not_found").await;
    assert_error(
        app.post_as(&accept, &alice, &json!({})).await,
        403,
        "recipient_required",
    )
    .await;

    let accepted = json_with_status(app.post_as(&accept, &bob, &json!({})).await, 200).await;
    assert_eq!(accepted["status"], "Accepted");
    assert_error(
        app.post_as(&accept, &bob, &json!({})).await,
        409,
        "transfer_not_pending",
    )
    .await;
    let item = json_with_status(app.get_as(&format!("/api/items/{dfid}"), &bob).await, 200).await;
    assert_eq!(item["created_by"], bob_id.as_str());
    // Alice keeps what her membership gives: she sees it, but it is no longer hers to give away.
    let item = json_with_status(app.get_as(&format!("/api/items/{dfid}"), &alice).await, 200).await;
    assert_ne!(item["created_by"], alice_id.as_str());
    assert_error(
        app.put_as(&format!("/api/items/{dfid}/deprecate"), &alice, &json!({}))
            .await,
        403,
        "owner_required",
    )
    .await;
    assert_error(
        app.post_as(&offer(&dfid), &alice, &json!({ "to": "carol" })).await,
        403,
        "owner_required",
    )
    .await;
    let events = json_with_status(app.get_as(&format!("/api/items/{dfid}/events"), &bob).await, 200).await;
    assert!(ids(&events, "event_type").contains(&"OwnershipTransferred".to_owned()));
    assert!(
        notification_types(&app, &alice)
            .await
            .contains(&"TransferAccepted".to_owned())
    );
    assert!(
        notification_types(&app, &bob)
            .await
            .contains(&"TransferAccepted".to_owned())
    );
}

#[tokio::test]
async fn a_transfer_declined_or_cancelled_changes_nothing() {
    let app = spawn_app().await;
    let (alice, alice_id) = app.register("alice").await;
    let (bob, bob_id) = app.register("bob").await;
    let farm = app.circuit(&alice, json!({})).await;
    let dfid = app.item_in(&alice, &farm, 1).await;
    let offer = format!("/api/items/{dfid}/transfers");

    let first = json_with_status(app.post_as(&offer, &alice, &json!({ "to": bob_id })).await, 202).await;
    let first = first["transfer_id"].as_str().unwrap().to_owned();
    let declined = json_with_status(
        app.post_as(&format!("/api/transfers/{first}/decline"), &bob, &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(declined["status"], "Declined");
    assert!(
        notification_types(&app, &alice)
            .await
            .contains(&"TransferDeclined".to_owned())
    );

    let second = json_with_status(
        app.post_as(&offer, &alice, &json!({ "to": "bob@example.com" })).await,
        202,
    )
    .await;
    let second = second["transfer_id"].as_str().unwrap().to_owned();
    let path = format!("/api/transfers/{second}");
    assert_error(app.delete_as(&path, &bob).await, 403, "sender_required").await;
    assert_eq!(app.delete_as(&path, &alice).await.status(), 204);
    let cancelled = json_with_status(app.get_as(&path, &bob).await, 200).await;
    assert_eq!(cancelled["status"], "Cancelled");
    assert_error(
        app.post_as(&format!("{path}/accept"), &bob, &json!({})).await,
        409,
        "transfer_not_pending",
    )
    .await;
    let item = json_with_status(app.get_as(&format!("/api/items/{dfid}"), &alice).await, 200).await;
    assert_eq!(item["created_by"], alice_id.as_str());
}

#[tokio::test]
async fn parallel_offers_of_one_item_leave_one_pending() {
    let app = spawn_app().await;
    let (alice, _) = app.register("alice").await;
    app.register("bob").await;
    let farm = app.circuit(&alice, json!({})).await;
    let dfid = app.item_in(&alice, &farm, 1).await;
    let offer = format!("/api/items/{dfid}/transfers");
    let to_bob = json!({ "to": "bob" });
    let answers = futures_util::future::join_all((0..10).map(|_| app.post_as(&offer, &alice, &to_bob))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [&[202][..], &[409; 9][..]].concat());
}
