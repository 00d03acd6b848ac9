//! Circuits: settings, members and escalation rules, custom roles, approvals, pull, activities.

use serde_json::{Value, json};

use crate::helpers::{assert_error, json_with_status, spawn_app, spawn_with};

#[tokio::test]
async fn create_get_update_deactivate() {
    let app = spawn_app().await;
    let (owner, owner_id) = app.register("owner").await;
    let (member, member_id) = app.register("member").await;
    let (stranger, _) = app.register("stranger").await;
    let body =
        json!({ "name": "Coffee", "description": "Minas", "permissions": { "require_approval_for_push": true } });
    let created = json_with_status(app.post_as("/api/circuits", &owner, &body).await, 201).await;
    assert_eq!(created["my_role"], "Owner");
    assert_eq!(created["owner_id"], owner_id.as_str());
    assert_eq!(created["my_permissions"].as_array().unwrap().len(), 9);
    assert_eq!(created["permissions"]["require_approval_for_push"], true);
    assert_eq!(created["adapter_config"]["adapter_type"], "none");
    assert_eq!(created["member_count"], 1);
    let id = created["circuit_id"].as_str().unwrap();
    app.add_member(&owner, id, &member_id, "Member").await;

    let seen = json_with_status(app.get_as(&format!("/api/circuits/{id}"), &member).await, 200).await;
    assert_eq!(seen["my_role"], "Member");
    assert_eq!(seen["my_permissions"], json!(["Push", "Pull"]));
    assert_eq!(seen["member_count"], 2);
    assert_error(
        app.get_as(&format!("/api/circuits/{id}"), &stranger).await,
        404,
        "not_found",
    )
    .await;
    let listed = json_with_status(app.get_as("/api/circuits", &member).await, 200).await;
    assert_eq!(listed["data"][0]["circuit_id"], id);
    let strangers = json_with_status(app.get_as("/api/circuits", &stranger).await, 200).await;
    assert!(strangers["data"].as_array().unwrap().is_empty());

    let rename = json!({ "name": "Coffee 2026" });
    assert_error(
        app.put_as(&format!("/api/circuits/{id}"), &member, &rename).await,
        403,
        "insufficient_permissions",
    )
    .await;
    assert_eq!(
        json_with_status(app.put_as(&format!("/api/circuits/{id}"), &owner, &rename).await, 200).await["name"],
        "Coffee 2026"
    );

    assert_error(
        app.post_as(&format!("/api/circuits/{id}/deactivate"), &member, &json!({}))
            .await,
        403,
        "owner_required",
    )
    .await;
    let deactivated = json_with_status(
        app.post_as(&format!("/api/circuits/{id}/deactivate"), &owner, &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(deactivated["status"], "Inactive");
    let local = app.local_item(&owner, json!([])).await;
    let push = app
        .post_as(
            &format!("/api/circuits/{id}/push-local"),
            &owner,
            &json!({ "local_id": local }),
        )
        .await;
    assert_error(push, 409, "circuit_inactive").await;
}

#[tokio::test]
async fn circuit_count_is_limited_by_tier() {
    let app = spawn_with(&[("TIER_MAX_CIRCUITS_BASIC", "1")]).await;
    let (owner, _) = app.register("owner").await;
    app.circuit(&owner, json!({})).await;
    assert_error(
        app.post_as("/api/circuits", &owner, &json!({ "name": "second" })).await,
        403,
        "tier_limit_exceeded",
    )
    .await;
}

#[tokio::test]
async fn adapters_this_server_cannot_reach_are_refused() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let body = json!({ "name": "x", "adapter_type": "stellar_mainnet-ipfs" });
    assert_error(
        app.post_as("/api/circuits", &owner, &body).await,
        409,
        "adapter_unavailable",
    )
    .await;
    assert_error(
        app.post_as("/api/circuits", &owner, &json!({ "name": "x", "adapter_type": "ftp" }))
            .await,
        400,
        "validation_error",
    )
    .await;
}

#[tokio::test]
async fn member_management_never_escalates() {
    let app = spawn_app().await;
    let (owner, owner_id) = app.register("owner").await;
    let (admin, admin_id) = app.register("admin").await;
    let (member, member_id) = app.register("member").await;
    let (_, newcomer_id) = app.register("newcomer").await;
    let id = app.circuit(&owner, json!({})).await;
    let added = json_with_status(
        app.post_as(
            &format!("/api/circuits/{id}/members"),
            &owner,
            &json!({ "username": "admin", "role": "Admin" }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(added["role"], "Admin");
    assert_eq!(added["user_id"], admin_id.as_str());
    app.add_member(&admin, &id, &member_id, "Member").await;
    let members_path = format!("/api/circuits/{id}/members");

    assert_error(
        app.post_as(
            &members_path,
            &admin,
            &json!({ "user_id": newcomer_id, "role": "Admin" }),
        )
        .await,
        403,
        "privilege_escalation",
    )
    .await;
    assert_error(
        app.post_as(
            &members_path,
            &member,
            &json!({ "user_id": newcomer_id, "role": "Viewer" }),
        )
        .await,
        403,
        "insufficient_permissions",
    )
    .await;
    assert_error(
        app.post_as(
            &members_path,
            &owner,
            &json!({ "user_id": member_id, "role": "Viewer" }),
        )
        .await,
        409,
        "already_member",
    )
    .await;
    assert_error(
        app.post_as(&members_path, &owner, &json!({ "username": "ghost", "role": "Viewer" }))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.post_as(
            &members_path,
            &owner,
            &json!({ "user_id": newcomer_id, "role": "Owner" }),
        )
        .await,
        400,
        "validation_error",
    )
    .await;

    let update = |user: &str| format!("/api/circuits/{id}/members/{user}");
    assert_error(
        app.put_as(&update(&owner_id), &admin, &json!({ "role": "Member" }))
            .await,
        403,
        "privilege_escalation",
    )
    .await;
    assert_error(
        app.put_as(&update(&admin_id), &admin, &json!({ "role": "Member" }))
            .await,
        403,
        "privilege_escalation",
    )
    .await;
    assert_error(
        app.put_as(&update(&member_id), &admin, &json!({ "role": "Admin" }))
            .await,
        403,
        "privilege_escalation",
    )
    .await;
    let demoted = json_with_status(
        app.put_as(&update(&member_id), &admin, &json!({ "role": "Viewer" }))
            .await,
        200,
    )
    .await;
    assert_eq!(demoted["role"], "Viewer");
    assert_eq!(demoted["permissions"], json!(["Pull"]));

    assert_error(
        app.delete_as(&update(&owner_id), &owner).await,
        403,
        "privilege_escalation",
    )
    .await;
    assert_error(
        app.delete_as(&update(&owner_id), &admin).await,
        403,
        "privilege_escalation",
    )
    .await;
    assert_error(
        app.delete_as(&update(&admin_id), &member).await,
        403,
        "insufficient_permissions",
    )
    .await;
    assert_eq!(
        app.delete_as(&update(&member_id), &member).await.status(),
        204,
        "members may leave"
    );
    assert_error(
        app.get_as(&format!("/api/circuits/{id}"), &member).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(app.delete_as(&update(&admin_id), &owner).await.status(), 204);
}

#[tokio::test]
async fn custom_roles_add_permissions_within_limits() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let (admin, admin_id) = app.register("admin").await;
    let (viewer, viewer_id) = app.register("viewer").await;
    let id = app.circuit(&owner, json!({})).await;
    app.add_member(&owner, &id, &admin_id, "Admin").await;
    app.add_member(&owner, &id, &viewer_id, "Viewer").await;
    let roles = format!("/api/circuits/{id}/roles");

    let too_much = json!({ "role_name": "auditor", "permissions": ["Audit"] });
    assert_error(
        app.post_as(&roles, &admin, &too_much).await,
        403,
        "privilege_escalation",
    )
    .await;
    assert_error(
        app.post_as(&roles, &viewer, &json!({ "role_name": "x", "permissions": [] }))
            .await,
        403,
        "insufficient_permissions",
    )
    .await;
    let role = json_with_status(
        app.post_as(
            &roles,
            &admin,
            &json!({ "role_name": "pusher", "permissions": ["Push"], "color": "#00ff00" }),
        )
        .await,
        201,
    )
    .await;
    assert_error(
        app.post_as(&roles, &admin, &json!({ "role_name": "pusher", "permissions": [] }))
            .await,
        409,
        "role_name_taken",
    )
    .await;
    let role_id = role["role_id"].as_str().unwrap();
    let assigned = json_with_status(
        app.put_as(
            &format!("/api/circuits/{id}/members/{viewer_id}"),
            &admin,
            &json!({ "custom_role": role_id }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(assigned["permissions"], json!(["Push", "Pull"]));
    assert_eq!(assigned["custom_role"], role_id);
    // The viewer can now push.
    app.item_in(&viewer, &id, 1).await;

    assert_error(
        app.delete_as(&format!("{roles}/{role_id}"), &admin).await,
        409,
        "role_in_use",
    )
    .await;
    let cleared = json_with_status(
        app.put_as(
            &format!("/api/circuits/{id}/members/{viewer_id}"),
            &admin,
            &json!({ "custom_role": null }),
        )
        .await,
        200,
    )
    .await;
    assert!(cleared["custom_role"].is_null());
    assert_eq!(app.delete_as(&format!("{roles}/{role_id}"), &admin).await.status(), 204);
    let listed = json_with_status(app.get_as(&roles, &admin).await, 200).await;
    assert!(listed["data"].as_array().unwrap().is_empty());
}

async fn approval_circuit(app: &crate::helpers::TestApp) -> (String, String, String, String, String) {
    let (owner, _) = app.register("owner").await;
    let (admin, admin_id) = app.register("admin").await;
    let (member, member_id) = app.register("member").await;
    let id = app
        .circuit(
            &owner,
            json!({ "permissions": { "require_approval_for_push": true, "require_approval_for_pull": true } }),
        )
        .await;
    app.add_member(&owner, &id, &admin_id, "Admin").await;
    app.add_member(&owner, &id, &member_id, "Member").await;
    (id, owner, admin, member, member_id)
}

#[tokio::test]
async fn approved_push_completes_like_an_unapproved_one() {
    let app = spawn_app().await;
    let (id, owner, admin, member, member_id) = approval_circuit(&app).await;
    let local = app
        .local_item(&member, json!([{ "key": "cpf", "value": crate::helpers::cpf(5) }]))
        .await;
    let pushed = app.push_local(&member, &id, &local, 201).await;
    assert_eq!(pushed["operation_status"], "Pending");
    let dfid = pushed["dfid"].as_str().unwrap().to_owned();
    let operation_id = pushed["operation_id"].as_str().unwrap().to_owned();
    let items = json_with_status(app.get_as(&format!("/api/circuits/{id}/items"), &owner).await, 200).await;
    assert!(
        items["data"].as_array().unwrap().is_empty(),
        "pending pushes are not in the circuit"
    );
    let pending = json_with_status(
        app.get_as(&format!("/api/circuits/{id}/operations?status=Pending"), &admin)
            .await,
        200,
    )
    .await;
    assert_eq!(pending["data"][0]["operation_id"], operation_id.as_str());
    assert_eq!(pending["data"][0]["requester_id"], member_id.as_str());

    let approve = format!("/api/circuits/{id}/operations/{operation_id}/approve");
    assert_error(
        app.post_as(&approve, &member, &json!({})).await,
        403,
        "insufficient_permissions",
    )
    .await;
    let approved = json_with_status(
        app.post_as(&approve, &admin, &json!({ "reason": "looks right" })).await,
        200,
    )
    .await;
    assert_eq!(approved["status"], "Completed");
    assert!(approved["decided_by"].is_string());
    assert_error(
        app.post_as(&approve, &owner, &json!({})).await,
        409,
        "operation_not_pending",
    )
    .await;
    let items = json_with_status(app.get_as(&format!("/api/circuits/{id}/items"), &owner).await, 200).await;
    assert_eq!(items["data"][0]["dfid"], dfid.as_str());
    let events = json_with_status(app.get_as(&format!("/api/items/{dfid}/events"), &member).await, 200).await;
    assert!(
        events["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event_type"] == "PushedToCircuit")
    );

    // The Owner's own pushes complete at once.
    let owners = app.local_item(&owner, json!([])).await;
    assert_eq!(
        app.push_local(&owner, &id, &owners, 201).await["operation_status"],
        "Completed"
    );
}

#[tokio::test]
async fn rejected_push_leaves_no_trace_in_the_circuit() {
    let app = spawn_app().await;
    let (id, owner, admin, member, member_id) = approval_circuit(&app).await;
    let local = app.local_item(&member, json!([])).await;
    let pushed = app.push_local(&member, &id, &local, 201).await;
    let dfid = pushed["dfid"].as_str().unwrap().to_owned();
    let operation_id = pushed["operation_id"].as_str().unwrap();
    let own = format!("/api/circuits/{id}/operations/{operation_id}/approve");
    // Even a manager cannot approve their own operation.
    let admins_local = app.local_item(&admin, json!([])).await;
    let admins_push = app.push_local(&admin, &id, &admins_local, 201).await;
    let admins_op = admins_push["operation_id"].as_str().unwrap();
    assert_error(
        app.post_as(
            &format!("/api/circuits/{id}/operations/{admins_op}/approve"),
            &admin,
            &json!({}),
        )
        .await,
        403,
        "self_approval",
    )
    .await;

    let rejected = json_with_status(
        app.post_as(
            &format!("/api/circuits/{id}/operations/{operation_id}/reject"),
            &owner,
            &json!({ "reason": "no papers" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(rejected["status"], "Rejected");
    assert_eq!(rejected["reason"], "no papers");
    assert_error(
        app.post_as(&own, &owner, &json!({})).await,
        409,
        "operation_not_pending",
    )
    .await;
    let items = json_with_status(app.get_as(&format!("/api/circuits/{id}/items"), &owner).await, 200).await;
    assert!(items["data"].as_array().unwrap().is_empty());
    // Still tokenized and owned by the pusher, outside the circuit.
    let item = json_with_status(app.get_as(&format!("/api/items/{dfid}"), &member).await, 200).await;
    assert_eq!(item["created_by"], member_id.as_str());
    assert_eq!(item["circuits"], json!([]));
    assert_error(
        app.get_as(&format!("/api/items/{dfid}"), &owner).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn pull_grants_read_access_and_removes_nothing() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let (viewer, viewer_id) = app.register("viewer").await;
    let id = app.circuit(&owner, json!({})).await;
    app.add_member(&owner, &id, &viewer_id, "Viewer").await;
    let dfid = app.item_in(&owner, &id, 1).await;
    let pulled = json_with_status(
        app.post_as(&format!("/api/circuits/{id}/pull/{dfid}"), &viewer, &json!({}))
            .await,
        201,
    )
    .await;
    assert_eq!(pulled["operation"]["operation_type"], "Pull");
    assert_eq!(pulled["operation"]["status"], "Completed");
    assert_eq!(pulled["item"]["dfid"], dfid.as_str());
    assert!(
        pulled["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event_type"] == "PulledFromCircuit")
    );
    let again = json_with_status(
        app.post_as(&format!("/api/circuits/{id}/pull/{dfid}"), &viewer, &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(again["operation"]["operation_id"], pulled["operation"]["operation_id"]);
    let items = json_with_status(app.get_as(&format!("/api/circuits/{id}/items"), &owner).await, 200).await;
    assert_eq!(items["data"].as_array().unwrap().len(), 1, "nothing leaves the circuit");
    assert_eq!(
        app.delete_as(&format!("/api/circuits/{id}/members/{viewer_id}"), &viewer)
            .await
            .status(),
        204
    );
    json_with_status(app.get_as(&format!("/api/items/{dfid}"), &viewer).await, 200).await;
    let missing = app
        .post_as(
            &format!("/api/circuits/{id}/pull/{}", crate::helpers::unknown_dfid()),
            &owner,
            &json!({}),
        )
        .await;
    assert_error(missing, 404, "not_found").await;
}

#[tokio::test]
async fn push_of_an_existing_dfid() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let (viewer, viewer_id) = app.register("viewer").await;
    let first = app.circuit(&owner, json!({ "name": "first" })).await;
    let second = app.circuit(&owner, json!({ "name": "second" })).await;
    app.add_member(&owner, &second, &viewer_id, "Viewer").await;
    let dfid = app.item_in(&owner, &first, 1).await;
    let pushed = json_with_status(
        app.post_as(&format!("/api/circuits/{second}/push/{dfid}"), &owner, &json!({}))
            .await,
        201,
    )
    .await;
    assert_eq!(pushed["status"], "Completed");
    let again = json_with_status(
        app.post_as(&format!("/api/circuits/{second}/push/{dfid}"), &owner, &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(again["operation_id"], pushed["operation_id"]);
    let item = json_with_status(app.get_as(&format!("/api/items/{dfid}"), &owner).await, 200).await;
    assert_eq!(item["circuits"].as_array().unwrap().len(), 2);
    assert_error(
        app.post_as(&format!("/api/circuits/{second}/push/{dfid}"), &viewer, &json!({}))
            .await,
        403,
        "insufficient_permissions",
    )
    .await;
}

#[tokio::test]
async fn activities_show_the_caller_and_their_circuits() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let (member, member_id) = app.register("member").await;
    let (stranger, _) = app.register("stranger").await;
    let id = app.circuit(&owner, json!({})).await;
    app.add_member(&owner, &id, &member_id, "Member").await;
    app.item_in(&owner, &id, 1).await;
    let kinds = app
        .activity_types(&format!("/api/activities?circuit_id={id}"), &member)
        .await;
    assert!(
        kinds.iter().any(|k| k == "item_pushed") && kinds.iter().any(|k| k == "member_added"),
        "{kinds:?}"
    );
    assert_error(
        app.get_as(&format!("/api/activities?circuit_id={id}"), &stranger).await,
        404,
        "not_found",
    )
    .await;
    let strangers: Value = json_with_status(app.get_as("/api/activities", &stranger).await, 200).await;
    assert!(strangers["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn adding_a_member_by_username_never_looks_up_an_email() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    app.register("someone").await;
    let id = app.circuit(&owner, json!({})).await;
    let members_path = format!("/api/circuits/{id}/members");
    assert_error(
        app.post_as(
            &members_path,
            &owner,
            &json!({ "username": "someone@example.com", "role": "Viewer" }),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let added = json_with_status(
        app.post_as(
            &members_path,
            &owner,
            &json!({ "username": "someone", "role": "Viewer" }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(added["username"], "someone");
}

#[tokio::test]
async fn the_circuit_limit_holds_under_parallel_creations() {
    let app = spawn_with(&[("TIER_MAX_CIRCUITS_BASIC", "5")]).await;
    let (owner, _) = app.register("owner").await;
    let attempts = (0..40).map(|i| {
        let app = &app;
        let owner = &owner;
        async move {
            app.post_as("/api/circuits", owner, &json!({ "name": format!("racing {i}") }))
                .await
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let created = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!(created, 5, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 403), "{statuses:?}");
}

/// A minimal RFC 4180 reader for the tests: rows of fields, quotes undone.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

#[tokio::test]
async fn members_export_the_circuits_items_as_a_spreadsheet() {
    let app = spawn_app().await;
    let (owner, owner_id) = app.register("fazenda").await;
    let (outsider, _) = app.register("outsider").await;
    let circuit = app.circuit(&owner, json!({})).await;
    let body = json!({
        "identifiers": [{ "key": "sisbov", "value": "BR123456789012" }, { "key": "lote", "value": "=1+1" }],
        "enriched_data": { "breed": "Nelore", "note": "line one\nline \"two\", three" }
    });
    let created = json_with_status(app.post_as("/api/items/local", &owner, &body).await, 201).await;
    let local = created["local_id"].as_str().unwrap();
    let dfid = app.push_local(&owner, &circuit, local, 201).await["dfid"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = app.item_in(&owner, &circuit, 2).await;

    let response = app.get_as(&format!("/api/circuits/{circuit}/items.csv"), &owner).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let text = response.text().await.unwrap();
    assert!(text.starts_with("dfid,status,owner_id,created_at,updated_at,identifiers,enriched_data\r\n"));
    let rows = csv_rows(&text);
    assert_eq!(rows.len(), 3, "{text}");
    let steer = rows.iter().find(|row| row[0] == dfid).unwrap();
    assert_eq!(steer[1], "Active");
    assert_eq!(steer[2], owner_id);
    assert!(steer[3].ends_with('Z'), "{steer:?}");
    assert_eq!(steer[5], "sisbov:BR123456789012; lote:=1+1");
    let data: serde_json::Value = serde_json::from_str(&steer[6]).unwrap();
    assert_eq!(data["note"], "line one\nline \"two\", three");
    assert!(rows.iter().any(|row| row[0] == second));

    let response = app
        .get_as(&format!("/api/circuits/{circuit}/items.csv"), &outsider)
        .await;
    assert_error(response, 404, "not_found").await;
}

#[tokio::test]
async fn members_export_the_events_they_may_see_as_a_spreadsheet() {
    let app = spawn_app().await;
    let (owner, _) = app.register("fazenda").await;
    let (member, member_id) = app.register("frigorifico").await;
    let (outsider, _) = app.register("outsider").await;
    let circuit = app.circuit(&owner, json!({})).await;
    app.add_member(&owner, &circuit, &member_id, "Member").await;
    let dfid = app.item_in(&owner, &circuit, 1).await;
    let elsewhere = app.circuit(&owner, json!({ "name": "Other" })).await;
    let other = app.item_in(&owner, &elsewhere, 2).await;
    for (item, visibility, kind) in [
        (&dfid, "CircuitOnly", "weighing"),
        (&dfid, "Private", "treatment"),
        (&other, "CircuitOnly", "elsewhere"),
    ] {
        let body = json!({ "dfid": item, "event_type": kind, "visibility": visibility, "metadata": { "note": "=cmd, \"quoted\"" } });
        json_with_status(app.post_as("/api/events", &owner, &body).await, 201).await;
    }

    let text = app
        .get_as(&format!("/api/circuits/{circuit}/events.csv"), &member)
        .await
        .text()
        .await
        .unwrap();
    let rows = csv_rows(&text);
    assert_eq!(
        rows[0],
        [
            "event_id",
            "dfid",
            "event_type",
            "visibility",
            "source",
            "occurred_at",
            "recorded_at",
            "content_hash",
            "metadata"
        ]
    );
    let kinds: Vec<&str> = rows[1..].iter().map(|row| row[2].as_str()).collect();
    assert!(kinds.contains(&"weighing"), "{kinds:?}");
    assert!(
        !kinds.contains(&"treatment"),
        "a Private event of another user: {kinds:?}"
    );
    assert!(!kinds.contains(&"elsewhere"), "an item of another circuit: {kinds:?}");
    assert!(rows[1..].iter().all(|row| row[1] == dfid));
    let weighing = rows.iter().find(|row| row[2] == "weighing").unwrap();
    let metadata: Value = serde_json::from_str(&weighing[8]).unwrap();
    assert_eq!(metadata["note"], "=cmd, \"quoted\"");

    let owners = app.get_as(&format!("/api/circuits/{circuit}/events.csv"), &owner).await;
    let owners = csv_rows(&owners.text().await.unwrap());
    assert!(
        owners.iter().any(|row| row[2] == "treatment"),
        "the owner sees their Private event"
    );

    let refused = app
        .get_as(&format!("/api/circuits/{circuit}/events.csv"), &outsider)
        .await;
    assert_error(refused, 404, "not_found").await;
}
