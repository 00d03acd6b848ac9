//! Local items, tokenization (push-local), items: read, enrich, deprecate.

use serde_json::json;

use crate::helpers::{assert_error, cpf, json_with_status, spawn_app, spawn_with};

#[tokio::test]
async fn local_items_belong_to_their_owner() {
    let app = spawn_app().await;
    let (alice, _) = app.register("alice").await;
    let (bob, _) = app.register("bob").await;
    let body = json!({ "identifiers": [{ "key": "cpf", "value": "529.982.247-25" }, { "key": "brinco", "value": "A-7", "namespace": "bovino" }], "enriched_data": { "breed": "Nelore" } });
    let created = json_with_status(app.post_as("/api/items/local", &alice, &body).await, 201).await;
    assert_eq!(created["status"], "LocalOnly");
    assert_eq!(created["identifiers"][0]["value"], "52998224725");
    assert_eq!(created["identifiers"][0]["id_type"], "Canonical");
    assert_eq!(created["identifiers"][1]["id_type"], "Contextual");
    assert_eq!(created["identifiers"][1]["namespace"], "bovino");
    let local_id = created["local_id"].as_str().unwrap();

    let fetched = json_with_status(app.get_as(&format!("/api/items/local/{local_id}"), &alice).await, 200).await;
    assert_eq!(fetched["enriched_data"]["breed"], "Nelore");
    let mapping = json_with_status(app.get_as(&format!("/api/items/mapping/{local_id}"), &alice).await, 200).await;
    assert_eq!(
        mapping,
        json!({ "local_id": local_id, "dfid": null, "status": "LocalOnly" })
    );
    let listed = json_with_status(app.get_as("/api/items/local", &alice).await, 200).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);

    assert_error(
        app.get_as(&format!("/api/items/local/{local_id}"), &bob).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.get_as(&format!("/api/items/mapping/{local_id}"), &bob).await,
        404,
        "not_found",
    )
    .await;
    let bobs = json_with_status(app.get_as("/api/items/local", &bob).await, 200).await;
    assert!(bobs["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn identifier_rules_are_enforced() {
    let app = spawn_app().await;
    let (token, _) = app.register("ident").await;
    let cases = [
        (json!([{ "key": "cpf", "value": "11111111111" }]), "invalid_identifier"),
        (
            json!([{ "key": "cnpj", "value": "00000000000000" }]),
            "invalid_identifier",
        ),
        (json!([{ "key": "sisbov", "value": "BR123" }]), "invalid_identifier"),
        (json!([{ "key": "car", "value": "XX-123456" }]), "invalid_identifier"),
        (
            json!([{ "key": "brinco", "value": "1", "id_type": "Canonical" }]),
            "unknown_registry",
        ),
        (json!([{ "key": "", "value": "1" }]), "validation_error"),
    ];
    for (identifiers, code) in cases {
        let body = json!({ "identifiers": identifiers });
        let error = assert_error(app.post_as("/api/items/local", &token, &body).await, 400, code).await;
        assert!(error["details"].is_object(), "{error}");
    }
    let bad_namespace = app
        .post_as(
            "/api/items/local",
            &token,
            &json!({ "identifiers": [{ "key": "x", "value": "1", "namespace": "peixe" }] }),
        )
        .await;
    assert_error(bad_namespace, 400, "validation_error").await;
    let not_object = app
        .post_as("/api/items/local", &token, &json!({ "enriched_data": [1, 2] }))
        .await;
    assert_error(not_object, 400, "validation_error").await;
}

#[tokio::test]
async fn monthly_item_limit_by_tier() {
    let app = spawn_with(&[("TIER_MAX_ITEMS_PER_MONTH_BASIC", "2")]).await;
    let (token, _) = app.register("limited").await;
    for _ in 0..2 {
        json_with_status(app.post_as("/api/items/local", &token, &json!({})).await, 201).await;
    }
    let error = assert_error(
        app.post_as("/api/items/local", &token, &json!({})).await,
        403,
        "tier_limit_exceeded",
    )
    .await;
    assert_eq!(error["details"]["limit"], 2);
}

#[tokio::test]
async fn push_local_mints_a_dfid_once_per_local_item() {
    let app = spawn_app().await;
    let (owner, owner_id) = app.register("owner").await;
    let circuit = app.circuit(&owner, json!({})).await;
    let local = app.local_item(&owner, json!([{ "key": "cpf", "value": cpf(1) }])).await;

    let first = app.push_local(&owner, &circuit, &local, 201).await;
    assert_eq!(first["status"], "NewItemCreated");
    assert_eq!(first["operation_status"], "Completed");
    let dfid = first["dfid"].as_str().unwrap();
    let today = chrono::Utc::now().format("%Y%m%d").to_string();
    assert!(dfid.starts_with(&format!("DFID-{today}-")), "{dfid}");

    let again = app.push_local(&owner, &circuit, &local, 200).await;
    assert_eq!(again["status"], "AlreadyPushed");
    assert_eq!(again["dfid"], dfid);
    assert_eq!(again["operation_id"], first["operation_id"]);

    let mapping = json_with_status(app.get_as(&format!("/api/items/mapping/{local}"), &owner).await, 200).await;
    assert_eq!(mapping["dfid"], dfid);
    assert_eq!(mapping["status"], "Tokenized");

    let item = json_with_status(app.get_as(&format!("/api/items/{dfid}"), &owner).await, 200).await;
    assert_eq!(item["created_by"], owner_id.as_str());
    assert_eq!(item["status"], "Active");
    assert_eq!(item["circuits"], json!([circuit]));
    assert_eq!(item["local_id"], local.as_str());
    assert!(item["latest_cid"].is_null());
    assert_eq!(item["enriched_data"]["origin"], "test");

    let events = json_with_status(app.get_as(&format!("/api/items/{dfid}/events"), &owner).await, 200).await;
    let types: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"Tokenized") && types.contains(&"PushedToCircuit"),
        "{types:?}"
    );

    let in_circuit = json_with_status(app.get_as(&format!("/api/circuits/{circuit}/items"), &owner).await, 200).await;
    assert_eq!(in_circuit["data"][0]["dfid"], dfid);
}

#[tokio::test]
async fn a_shared_canonical_identifier_enriches_the_existing_item() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let (member, member_id) = app.register("member").await;
    let circuit = app.circuit(&owner, json!({})).await;
    app.add_member(&owner, &circuit, &member_id, "Member").await;
    let dfid = app.item_in(&owner, &circuit, 7).await;

    let local = app
        .local_item(
            &member,
            json!([{ "key": "cpf", "value": cpf(7) }, { "key": "lote", "value": "L-1" }]),
        )
        .await;
    let body = json!({ "local_id": local, "enriched_data": { "weight": 410 } });
    let pushed = json_with_status(
        app.post_as(&format!("/api/circuits/{circuit}/push-local"), &member, &body)
            .await,
        200,
    )
    .await;
    assert_eq!(pushed["status"], "ExistingItemEnriched");
    assert_eq!(pushed["dfid"], dfid.as_str());
    let item = json_with_status(app.get_as(&format!("/api/items/{dfid}"), &owner).await, 200).await;
    assert_eq!(item["enriched_data"]["weight"], 410);
    // The member's own label (contextual, scope `user` by default) is shown to the member only.
    assert_eq!(item["identifiers"].as_array().unwrap().len(), 1);
    let item = json_with_status(app.get_as(&format!("/api/items/{dfid}"), &member).await, 200).await;
    assert_eq!(item["identifiers"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_canonical_identifier_held_elsewhere_is_a_conflict_that_reveals_nothing() {
    let app = spawn_app().await;
    let (alice, _) = app.register("alice").await;
    let (mallory, _) = app.register("mallory").await;
    let alices = app.circuit(&alice, json!({})).await;
    let dfid = app.item_in(&alice, &alices, 3).await;
    let malloryss = app.circuit(&mallory, json!({})).await;
    let local = app
        .local_item(&mallory, json!([{ "key": "cpf", "value": cpf(3) }]))
        .await;
    let response = app
        .post_as(
            &format!("/api/circuits/{malloryss}/push-local"),
            &mallory,
            &json!({ "local_id": local }),
        )
        .await;
    let error = assert_error(response, 409, "identifier_conflict").await;
    assert_eq!(error["details"]["identifier"]["key"], "cpf");
    assert!(!error.to_string().contains(&dfid), "{error}");
    assert!(!error.to_string().contains(&alices), "{error}");
    let mapping = json_with_status(app.get_as(&format!("/api/items/mapping/{local}"), &mallory).await, 200).await;
    assert!(mapping["dfid"].is_null(), "nothing is written");
    assert_error(
        app.get_as(&format!("/api/items/{dfid}"), &mallory).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn ten_concurrent_pushes_of_one_new_cpf_make_one_dfid() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let circuit = app.circuit(&owner, json!({})).await;
    let mut locals = Vec::new();
    for i in 0..10 {
        locals.push(
            app.local_item(
                &owner,
                json!([{ "key": "cpf", "value": cpf(42) }, { "key": "n", "value": i.to_string() }]),
            )
            .await,
        );
    }
    let pushes = locals.iter().map(|local| {
        let request = app
            .with_token(
                reqwest::Method::POST,
                &format!("/api/circuits/{circuit}/push-local"),
                &owner,
            )
            .json(&json!({ "local_id": local }));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    });
    let results = futures_util::future::join_all(pushes).await;
    for (status, body) in &results {
        assert!(*status == 200 || *status == 201, "{status}: {body}");
    }
    let dfids: std::collections::HashSet<&str> = results.iter().map(|(_, b)| b["dfid"].as_str().unwrap()).collect();
    assert_eq!(dfids.len(), 1, "{results:?}");
    assert_eq!(results.iter().filter(|(s, _)| *s == 201).count(), 1);
    let dfid = dfids.into_iter().next().unwrap();
    let item = json_with_status(app.get_as(&format!("/api/items/{dfid}"), &owner).await, 200).await;
    assert_eq!(item["identifiers"].as_array().unwrap().len(), 11, "{item}");
}

#[tokio::test]
async fn alias_requirements_are_checked_first() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let circuit = app
        .circuit(&owner, json!({ "alias_config": { "required_canonical": ["sisbov"], "required_contextual": ["brinco"], "default_namespace": "bovino" } }))
        .await;
    let local = app.local_item(&owner, json!([{ "key": "cpf", "value": cpf(1) }])).await;
    let error = assert_error(
        app.post_as(
            &format!("/api/circuits/{circuit}/push-local"),
            &owner,
            &json!({ "local_id": local }),
        )
        .await,
        400,
        "alias_requirements_not_met",
    )
    .await;
    assert_eq!(error["details"]["missing_canonical"], json!(["sisbov"]));
    assert_eq!(error["details"]["missing_contextual"], json!(["brinco"]));
    let body = json!({ "local_id": local, "identifiers": [{ "key": "sisbov", "value": "BR123456789012" }, { "key": "brinco", "value": "9" }] });
    let pushed = json_with_status(
        app.post_as(&format!("/api/circuits/{circuit}/push-local"), &owner, &body)
            .await,
        201,
    )
    .await;
    let item = json_with_status(
        app.get_as(&format!("/api/items/{}", pushed["dfid"].as_str().unwrap()), &owner)
            .await,
        200,
    )
    .await;
    let brinco = item["identifiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "brinco")
        .unwrap()
        .clone();
    assert_eq!(brinco["namespace"], "bovino", "default namespace applies");
}

#[tokio::test]
async fn enrich_and_deprecate() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let (member, member_id) = app.register("member").await;
    let (viewer, viewer_id) = app.register("viewer").await;
    let (stranger, _) = app.register("stranger").await;
    let circuit = app.circuit(&owner, json!({})).await;
    app.add_member(&owner, &circuit, &member_id, "Member").await;
    app.add_member(&owner, &circuit, &viewer_id, "Viewer").await;
    let dfid = app.item_in(&owner, &circuit, 1).await;
    let other = app.item_in(&owner, &circuit, 2).await;
    let path = format!("/api/items/{dfid}");

    let patch = json!({ "enriched_data": { "weight": 400, "origin": null }, "identifiers": [{ "key": "rfid", "value": "982000123456789" }] });
    let enriched = json_with_status(app.patch_as(&path, &member, &patch).await, 200).await;
    assert_eq!(enriched["enriched_data"]["weight"], 400);
    assert_eq!(enriched["enriched_data"]["origin"], "test", "null never deletes");
    assert_eq!(enriched["identifiers"].as_array().unwrap().len(), 2);
    let events = json_with_status(app.get_as(&format!("{path}/events"), &owner).await, 200).await;
    assert!(
        events["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event_type"] == "Enriched")
    );

    let conflict = json!({ "identifiers": [{ "key": "cpf", "value": cpf(2) }] });
    assert_error(app.patch_as(&path, &owner, &conflict).await, 409, "identifier_conflict").await;
    let _ = other;
    assert_error(
        app.patch_as(&path, &viewer, &patch).await,
        403,
        "insufficient_permissions",
    )
    .await;
    assert_error(app.patch_as(&path, &stranger, &patch).await, 404, "not_found").await;

    assert_error(
        app.put_as(&format!("{path}/deprecate"), &member, &json!({})).await,
        403,
        "owner_required",
    )
    .await;
    assert_error(
        app.put_as(&format!("{path}/deprecate"), &stranger, &json!({})).await,
        404,
        "not_found",
    )
    .await;
    let deprecated = json_with_status(app.put_as(&format!("{path}/deprecate"), &owner, &json!({})).await, 200).await;
    assert_eq!(deprecated["status"], "Deprecated");
    assert_error(app.patch_as(&path, &owner, &patch).await, 409, "item_not_active").await;
}

#[tokio::test]
async fn dfids_in_paths_are_validated() {
    let app = spawn_app().await;
    let (token, _) = app.register("checker").await;
    for bad in ["DFID-20261126-000080-0008", "DFID-20261126-000001-FF11", "not-a-dfid"] {
        assert_error(
            app.get_as(&format!("/api/items/{bad}"), &token).await,
            400,
            "invalid_dfid",
        )
        .await;
    }
    assert_error(
        app.get_as(&format!("/api/items/{}", crate::helpers::unknown_dfid()), &token)
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn items_list_and_search_by_identifier() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let (other, _) = app.register("other").await;
    let circuit = app.circuit(&owner, json!({})).await;
    let first = app.item_in(&owner, &circuit, 1).await;
    let second = app.item_in(&owner, &circuit, 2).await;
    let others = app.circuit(&other, json!({})).await;
    app.item_in(&other, &others, 3).await;

    let all = json_with_status(app.get_as("/api/items", &owner).await, 200).await;
    let dfids: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["dfid"].as_str().unwrap())
        .collect();
    assert_eq!(dfids, vec![second.as_str(), first.as_str()]);
    let found = json_with_status(
        app.get_as(&format!("/api/items?key=cpf&value={}", cpf(1)), &owner)
            .await,
        200,
    )
    .await;
    assert_eq!(found["data"].as_array().unwrap().len(), 1);
    assert_eq!(found["data"][0]["dfid"], first.as_str());
    let hidden = json_with_status(
        app.get_as(&format!("/api/items?key=cpf&value={}", cpf(3)), &owner)
            .await,
        200,
    )
    .await;
    assert!(hidden["data"].as_array().unwrap().is_empty());
    let by_circuit = json_with_status(
        app.get_as(&format!("/api/items?circuit_id={circuit}&limit=1"), &owner)
            .await,
        200,
    )
    .await;
    assert_eq!(by_circuit["data"].as_array().unwrap().len(), 1);
    assert!(by_circuit["next_cursor"].is_string());
    assert_error(
        app.get_as(&format!("/api/items?circuit_id={others}"), &owner).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn the_monthly_item_limit_holds_under_parallel_creations() {
    let app = crate::helpers::spawn_with(&[("TIER_MAX_ITEMS_PER_MONTH_BASIC", "5")]).await;
    let (owner, _) = app.register("owner").await;
    let attempts = (0..40).map(|i| {
        let app = &app;
        let owner = &owner;
        async move {
            let body = json!({ "identifiers": [{ "key": "lote", "value": format!("L-{i}") }] });
            app.post_as("/api/items/local", owner, &body).await.status().as_u16()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let created = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!(created, 5, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 403), "{statuses:?}");
}

#[tokio::test]
async fn user_scoped_identifiers_are_shown_only_to_who_added_them() {
    let app = spawn_app().await;
    let (alice, _) = app.register("alice").await;
    let (bob, bob_id) = app.register("bob").await;
    let (carol, carol_id) = app.register("carol").await;
    let circuit = app.circuit(&alice, json!({})).await;
    app.add_member(&alice, &circuit, &bob_id, "Member").await;
    app.add_member(&alice, &circuit, &carol_id, "Viewer").await;
    let dfid = app.item_in(&alice, &circuit, 1).await;
    let path = format!("/api/items/{dfid}");
    let patch = json!({ "identifiers": [
        { "key": "brinco", "value": "B-7", "id_type": "Contextual", "scope": "user" },
        { "key": "lote", "value": "L-9", "id_type": "Contextual", "scope": "organization" }
    ] });
    let seen_by_bob = json_with_status(app.patch_as(&path, &bob, &patch).await, 200).await;
    assert!(seen_by_bob["identifiers"].to_string().contains("B-7"));
    for (token, who) in [(&alice, "the owner"), (&carol, "a viewer")] {
        let item = json_with_status(app.get_as(&path, token).await, 200).await;
        let identifiers = item["identifiers"].to_string();
        assert!(
            !identifiers.contains("B-7"),
            "{who} sees bob's own identifier: {identifiers}"
        );
        assert!(identifiers.contains("L-9"), "{who} sees the organization's identifier");
        let listed = json_with_status(
            app.get_as(&format!("/api/items?circuit_id={circuit}"), token).await,
            200,
        )
        .await;
        assert!(!listed.to_string().contains("B-7"), "{who} sees it in a list");
    }
    let item = json_with_status(app.get_as(&path, &bob).await, 200).await;
    assert!(item["identifiers"].to_string().contains("B-7"));
}

#[tokio::test]
async fn an_unlimited_local_item_is_written_with_its_activity() {
    // No monthly limit to hold: the item and its activity are the whole unit of work, which
    // PostgreSQL writes as one statement.
    let app = spawn_with(&[("TIER_MAX_ITEMS_PER_MONTH_BASIC", "0")]).await;
    let (token, _) = app.register("rancher").await;
    let body = json!({ "identifiers": [{ "key": "lote", "value": "L-1" }], "enriched_data": { "kg": 410 } });
    let created = json_with_status(app.post_as("/api/items/local", &token, &body).await, 201).await;
    let local_id = created["local_id"].as_str().unwrap();
    let fetched = json_with_status(app.get_as(&format!("/api/items/local/{local_id}"), &token).await, 200).await;
    assert_eq!(fetched["enriched_data"]["kg"], 410);
    let kinds = app.activity_types("/api/activities", &token).await;
    assert_eq!(kinds, vec!["local_item_created"]);
}
