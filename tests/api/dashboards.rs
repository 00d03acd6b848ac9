//! Dashboards: the caller's, a circuit's (members only), the whole service's (administrators).

use serde_json::{Value, json};

use crate::admin::app_with_admin_and;
use crate::helpers::{TestApp, assert_error, eventually, json_with_status, spawn_app};

async fn stats(app: &TestApp, path: &str, token: &str) -> Value {
    json_with_status(app.get_as(path, token).await, 200).await
}

async fn event(app: &TestApp, token: &str, dfid: &str, event_type: &str, visibility: &str, occurred_at: &str) {
    let body = json!({ "dfid": dfid, "event_type": event_type, "visibility": visibility, "occurred_at": occurred_at });
    json_with_status(app.post_as("/api/events", token, &body).await, 201).await;
}

fn today(days: &Value) -> u64 {
    let days = days.as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days[29]["day"], chrono::Utc::now().date_naive().to_string());
    days[29]["count"].as_u64().unwrap()
}

#[tokio::test]
async fn each_dashboard_counts_what_its_reader_may_see() {
    let (app, admin) = app_with_admin_and(&[("DASHBOARD_CACHE_SECONDS", "0")]).await;
    let (farm, _) = app.register("farm").await;
    let (coop, coop_id) = app.register("coop").await;
    let (stranger, _) = app.register("stranger").await;
    let gate = json!({ "adapter_type": "local", "permissions": { "require_approval_for_push": true, "require_approval_for_pull": false } });
    let circuit = app.circuit(&farm, gate).await;
    app.add_member(&farm, &circuit, &coop_id, "Member").await;
    let dfid = app.item_in(&farm, &circuit, 1).await;
    app.local_item(&farm, json!([{ "key": "lote", "value": "L-1" }])).await;
    let coop_item = app.local_item(&coop, json!([{ "key": "lote", "value": "C-1" }])).await;
    app.push_local(&coop, &circuit, &coop_item, 201).await;

    let now = chrono::Utc::now().to_rfc3339();
    let long_ago = (chrono::Utc::now() - chrono::Duration::days(40)).to_rfc3339();
    let path = format!("/api/circuits/{circuit}/stats");
    let before = today(&stats(&app, &path, &coop).await["events_per_day"]);
    event(&app, &farm, &dfid, "weighing", "CircuitOnly", &now).await;
    event(&app, &farm, &dfid, "vaccination", "Private", &now).await;
    event(&app, &farm, &dfid, "old_check", "CircuitOnly", &long_ago).await;

    let mine = stats(&app, "/api/users/me/stats", &farm).await;
    assert_eq!(mine["items_owned"], 1);
    assert_eq!(mine["local_items_unpushed"], 1);
    assert_eq!(mine["circuits_by_role"], json!({ "Owner": 1 }));
    assert_eq!(mine["events_last_30_days"]["weighing"], 1);
    assert_eq!(
        mine["events_last_30_days"]["vaccination"], 1,
        "the owner sees private events"
    );
    assert!(mine["events_last_30_days"].get("old_check").is_none(), "{mine}");
    assert_eq!(mine["pending_operations"], 1, "the member's push waits on the owner");
    let theirs = stats(&app, "/api/users/me/stats", &coop).await;
    assert_eq!(theirs["circuits_by_role"], json!({ "Member": 1 }));
    assert_eq!(theirs["pending_operations"], 0, "a member decides nothing");

    let circuit_stats = stats(&app, &path, &coop).await;
    assert_eq!(circuit_stats["members_by_role"], json!({ "Owner": 1, "Member": 1 }));
    assert_eq!(circuit_stats["items"], 1);
    assert_eq!(circuit_stats["pending_operations"], json!({ "Push": 1 }));
    assert_eq!(
        today(&circuit_stats["events_per_day"]),
        before + 1,
        "the private event and the old one are not counted"
    );
    let stored = eventually(10, || async {
        let stats = stats(&app, &path, &farm).await;
        (stats["storage_by_status"]["Stored"] == 1 && stats["stored_bytes"].as_u64() > Some(0)).then_some(stats)
    })
    .await;
    assert!(stored.is_some(), "the item's document is stored and counted");
    assert_error(app.get_as(&path, &stranger).await, 404, "not_found").await;
    assert_error(
        app.get_as("/api/circuits/not-a-circuit/stats", &farm).await,
        404,
        "not_found",
    )
    .await;

    let platform = stats(&app, "/api/admin/stats", &admin).await;
    let users: u64 = platform["users_by_tier"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(users, 4);
    assert_eq!(platform["users_by_status"], json!({ "Active": 4 }));
    assert_eq!(platform["items"], 2);
    assert_eq!(platform["circuits_by_status"], json!({ "Active": 1 }));
    assert!(today(&platform["events_per_day"]) >= 3, "{platform}");
    let logged = eventually(10, || async {
        let platform = stats(&app, "/api/admin/stats", &admin).await;
        (platform["log_tree_size"].as_u64() > Some(0)).then_some(())
    })
    .await;
    assert!(logged.is_some());
    assert_error(app.get_as("/api/admin/stats", &farm).await, 403, "admin_required").await;
}

#[tokio::test]
async fn a_dashboard_is_reused_while_fresh_and_says_when_it_was_counted() {
    let app = spawn_app().await;
    let (farm, _) = app.register("farm").await;
    let first = stats(&app, "/api/users/me/stats", &farm).await;
    app.local_item(&farm, json!([{ "key": "lote", "value": "L-1" }])).await;
    let again = stats(&app, "/api/users/me/stats", &farm).await;
    assert_eq!(again["counted_at"], first["counted_at"]);
    assert_eq!(
        again["local_items_unpushed"], 0,
        "counted before the item, within DASHBOARD_CACHE_SECONDS"
    );
}
