//! The authorization matrix: every operation in the generated spec, called by each kind of caller
//! against resources the circuit Owner holds, answers the status written in
//! `authorization_matrix.txt` beside this file. A new route without a row fails the test.
//!
//! Each caller meets the same world: a request that changed something (a non-GET answered 2xx)
//! makes the next request build a fresh circuit with its items, events, webhook, role, join
//! request and pending operation. `UPDATE_AUTHZ_MATRIX=1` rewrites the file from what the service
//! answers; read the diff before committing it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, cpf, eventually, json_with_status, spawn_with};

const MATRIX_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/authorization_matrix.txt");

/// The callers, in the order of the file's columns. The Owner goes last so that what the Owner
/// may do (revoke its key, deactivate its circuit) never changes what the others meet.
const ACTORS: [&str; 7] = ["anonymous", "outsider", "viewer", "member", "admin", "readkey", "owner"];

struct Caller {
    username: String,
    password: String,
    credential: Option<String>,
}

/// The Owner's resources every request points at.
struct World {
    circuit: String,
    dfid: String,
    local_id: String,
    local_event: String,
    event: String,
    webhook: String,
    role: String,
    joiner: String,
    member: String,
    operation: String,
    notification: String,
    cid: String,
    transfer: String,
    dispute: String,
}

struct Matrix {
    app: TestApp,
    callers: BTreeMap<&'static str, Caller>,
    ids: BTreeMap<&'static str, String>,
    serial: usize,
}

impl Matrix {
    async fn new() -> Self {
        let app = spawn_with(&[
            ("RATE_LIMIT_PER_HOUR_BASIC", "0"),
            ("RATE_LIMIT_PUBLIC_PER_MINUTE", "0"),
            ("TIER_MAX_CIRCUITS_BASIC", "0"),
            ("TIER_MAX_ITEMS_PER_MONTH_BASIC", "0"),
            ("WEBHOOK_ALLOW_PRIVATE", "true"),
            ("WEBHOOK_TIMEOUT_MS", "500"),
        ])
        .await;
        let mut callers = BTreeMap::new();
        let mut ids = BTreeMap::new();
        for name in ["outsider", "viewer", "member", "admin", "owner", "joiner"] {
            let (token, user_id) = app.register(name).await;
            ids.insert(name, user_id);
            callers.insert(
                name,
                Caller {
                    username: name.to_owned(),
                    password: PASSWORD.to_owned(),
                    credential: Some(format!("Bearer {token}")),
                },
            );
        }
        callers.insert(
            "readkey",
            Caller {
                username: "owner".to_owned(),
                password: PASSWORD.to_owned(),
                credential: None,
            },
        );
        callers.insert(
            "anonymous",
            Caller {
                username: String::new(),
                password: String::new(),
                credential: None,
            },
        );
        let mut matrix = Self {
            app,
            callers,
            ids,
            serial: 0,
        };
        matrix.read_key().await;
        matrix
    }

    fn token(&self, actor: &str) -> String {
        self.callers[actor].credential.clone().unwrap()
    }

    /// A circuit the Owner runs, with a public page, a Viewer, a Member and an Admin, an item pushed
    /// into it with an event, a webhook, a custom role, a join request and a Member's push waiting
    /// for approval.
    async fn world(&mut self) -> World {
        let app = &self.app;
        let owner = self.token("owner");
        let member = self.token("member");
        let circuit = json!({ "name": "Matrix", "adapter_type": "local", "permissions": { "require_approval_for_push": false, "require_approval_for_pull": false, "allow_public_visibility": true } });
        let circuit = json_with_status(bearer(app, "POST", "/api/circuits", &owner, &circuit).await, 201).await;
        let circuit = circuit["circuit_id"].as_str().unwrap().to_owned();
        for (role, user) in [("Viewer", "viewer"), ("Member", "member"), ("Admin", "admin")] {
            let body = json!({ "user_id": self.ids[user], "role": role });
            json_with_status(
                bearer(app, "POST", &format!("/api/circuits/{circuit}/members"), &owner, &body).await,
                201,
            )
            .await;
        }
        self.serial += 2;
        let local = json!({ "identifiers": [{ "key": "cpf", "value": cpf(self.serial) }] });
        let local = json_with_status(bearer(app, "POST", "/api/items/local", &owner, &local).await, 201).await;
        let local = local["local_id"].as_str().unwrap();
        let pushed = json!({ "local_id": local });
        let pushed = bearer(
            app,
            "POST",
            &format!("/api/circuits/{circuit}/push-local"),
            &owner,
            &pushed,
        )
        .await;
        let dfid = json_with_status(pushed, 201).await["dfid"].as_str().unwrap().to_owned();
        let unpushed = json!({ "identifiers": [{ "key": "lote", "value": format!("L-{}", self.serial) }] });
        let unpushed = json_with_status(bearer(app, "POST", "/api/items/local", &owner, &unpushed).await, 201).await;
        let event = json!({ "dfid": dfid, "event_type": "Weighed", "metadata": { "kg": self.serial } });
        let event = json_with_status(bearer(app, "POST", "/api/events", &owner, &event).await, 201).await;
        let local_event = json!({ "event_type": "Vaccinated", "metadata": { "dose": self.serial } });
        let local_event = json_with_status(
            bearer(app, "POST", "/api/events/local", &owner, &local_event).await,
            201,
        )
        .await;
        let webhook = json!({ "name": "partner", "url": "http://127.0.0.1:9/hook" });
        let webhook = bearer(
            app,
            "POST",
            &format!("/api/circuits/{circuit}/post-actions/webhooks"),
            &owner,
            &webhook,
        )
        .await;
        let webhook = json_with_status(webhook, 201).await["webhook_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let role = json!({ "role_name": "Auditor", "permissions": ["Pull"] });
        let role = json_with_status(
            bearer(app, "POST", &format!("/api/circuits/{circuit}/roles"), &owner, &role).await,
            201,
        )
        .await;
        let public = json!({ "enabled": true, "access_mode": "Public", "public_name": "Matrix farm", "published_items": [dfid] });
        let public = bearer(
            app,
            "PUT",
            &format!("/api/circuits/{circuit}/public-settings"),
            &owner,
            &public,
        )
        .await;
        json_with_status(public, 200).await;
        let joiner = self.token("joiner");
        json_with_status(
            bearer(
                app,
                "POST",
                &format!("/api/circuits/{circuit}/requests"),
                &joiner,
                &json!({}),
            )
            .await,
            201,
        )
        .await;
        let gate = json!({ "permissions": { "require_approval_for_push": true, "require_approval_for_pull": false, "allow_public_visibility": true } });
        json_with_status(
            bearer(app, "PUT", &format!("/api/circuits/{circuit}"), &owner, &gate).await,
            200,
        )
        .await;
        let waiting = json!({ "identifiers": [{ "key": "cpf", "value": cpf(self.serial + 1) }] });
        let waiting = json_with_status(bearer(app, "POST", "/api/items/local", &member, &waiting).await, 201).await;
        let waiting = json!({ "local_id": waiting["local_id"] });
        let waiting = bearer(
            app,
            "POST",
            &format!("/api/circuits/{circuit}/push-local"),
            &member,
            &waiting,
        )
        .await;
        let operation = json_with_status(waiting, 201).await["operation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let transfer = json!({ "to": "member" });
        let transfer = bearer(app, "POST", &format!("/api/items/{dfid}/transfers"), &owner, &transfer).await;
        let transfer = json_with_status(transfer, 202).await["transfer_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let dispute = json!({ "key": "cpf", "value": cpf(self.serial + 5000), "dfid": dfid });
        let dispute = bearer(app, "POST", "/api/identifier-disputes", &owner, &dispute).await;
        let dispute = json_with_status(dispute, 201).await["dispute_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let notifications = json_with_status(
            bearer(app, "GET", "/api/notifications", &owner, &Value::Null).await,
            200,
        )
        .await;
        let notification = notifications["data"][0]["id"].as_str().unwrap().to_owned();
        let cid = eventually(10, || async {
            let item = bearer(app, "GET", &format!("/api/items/{dfid}"), &owner, &Value::Null).await;
            let item: Value = item.json().await.unwrap();
            item["latest_cid"].as_str().map(str::to_owned)
        })
        .await
        .expect("the pushed item is stored");
        World {
            circuit,
            dfid,
            local_id: unpushed["local_id"].as_str().unwrap().to_owned(),
            local_event: local_event["local_event_id"].as_str().unwrap().to_owned(),
            event: event["event_id"].as_str().unwrap().to_owned(),
            webhook,
            role: role["role_id"].as_str().unwrap().to_owned(),
            joiner: self.ids["joiner"].clone(),
            member: self.ids["member"].clone(),
            operation,
            notification,
            cid,
            transfer,
            dispute,
        }
    }

    /// A valid body for the operation, so the answer is about who calls, not about the input.
    fn body(&mut self, operation: &str, actor: &str, world: &World) -> Value {
        self.serial += 1;
        let serial = self.serial;
        let caller = &self.callers[actor];
        match operation {
            "register" => {
                json!({ "username": format!("new{serial}"), "email": format!("new{serial}@example.com"), "password": PASSWORD })
            }
            "login" => json!({ "username": "joiner", "password": PASSWORD }),
            "change_password" => {
                json!({ "current_password": caller.password, "new_password": format!("Changed-{serial}!pass") })
            }
            "forgot_password" => json!({ "username": "joiner" }),
            "reset_password" => json!({ "token": "not-a-token", "new_password": "Another-1!pass" }),
            "create_api_key" => {
                json!({ "name": format!("key {serial}"), "permissions": { "read": true, "write": false, "admin": false } })
            }
            "update_api_key" => json!({ "notes": "rotated" }),
            "admin_set_tier" => json!({ "tier": "Professional" }),
            "admin_set_status" => json!({ "status": "Suspended", "reason": "matrix" }),
            "admin_create_user" => {
                json!({ "username": format!("invited-{serial}"), "email": format!("invited-{serial}@example.com") })
            }
            "admin_update_user" => json!({ "email": format!("renamed-{serial}@example.com") }),
            "create_local_item" => json!({ "identifiers": [{ "key": "lote", "value": format!("N-{serial}") }] }),
            "create_local_items" => {
                json!({ "items": [{ "identifiers": [{ "key": "lote", "value": format!("B-{serial}") }] }] })
            }
            // A string is sent as a CSV file.
            "import_local_items" => Value::String(format!("lote\nI-{serial}\n")),
            "enrich_item" => json!({ "enriched_data": { "serial": serial } }),
            "create_event" => {
                json!({ "dfid": world.dfid, "event_type": "Inspected", "metadata": { "serial": serial } })
            }
            "create_local_event" => json!({ "event_type": "Inspected", "metadata": { "serial": serial } }),
            "push_events" => json!({ "dfid": world.dfid, "local_event_ids": [world.local_event] }),
            "create_circuit" => json!({ "name": format!("Circuit {serial}") }),
            "update_circuit" => json!({ "description": format!("edited {serial}") }),
            "add_member" => json!({ "user_id": self.ids["outsider"], "role": "Viewer" }),
            "update_member" => json!({ "role": "Viewer" }),
            "create_role" | "update_role" => json!({ "role_name": format!("Role {serial}"), "permissions": ["Pull"] }),
            "request_to_join" | "join_public_circuit" => json!({ "message": "let me in" }),
            "approve_join_request" => json!({ "role": "Viewer" }),
            "reject_join_request" | "approve_operation" | "reject_operation" => json!({ "reason": "matrix" }),
            "push_local" => json!({ "local_id": world.local_id }),
            "set_notification_settings" => json!({ "email": false }),
            "push_local_batch" => json!({ "items": [{ "local_id": world.local_id }] }),
            "set_public_settings" => json!({ "enabled": true, "access_mode": "Public", "public_name": "Matrix farm" }),
            "set_post_actions" => json!({ "enabled": true, "trigger_events": ["item_pushed"] }),
            "create_webhook" | "update_webhook" => {
                json!({ "name": format!("hook {serial}"), "url": "http://127.0.0.1:9/hook" })
            }
            "set_circuit_adapter" => json!({ "adapter_type": "none" }),
            "offer_transfer" => json!({ "to": "joiner" }),
            "open_identifier_dispute" => {
                json!({ "key": "cpf", "value": cpf(serial + 9000), "dfid": world.dfid })
            }
            "admin_resolve_identifier_dispute" => json!({ "decision": "reject" }),
            _ => Value::Null,
        }
    }

    /// The path with each parameter naming one of the Owner's resources.
    fn path(&self, template: &str, world: &World) -> String {
        let api_keys = template.starts_with("/api/api-keys/");
        let notifications = template.starts_with("/api/notifications/");
        let transfers = template.starts_with("/api/transfers/");
        let disputes = template.starts_with("/api/admin/identifier-disputes/");
        let members = template.contains("/members/");
        template
            .split('/')
            .map(|segment| match segment {
                "{id}" if api_keys => self.ids["key"].clone(),
                "{id}" if notifications => world.notification.clone(),
                "{id}" if transfers => world.transfer.clone(),
                "{id}" if disputes => world.dispute.clone(),
                "{id}" => world.circuit.clone(),
                "{user_id}" if members => world.member.clone(),
                "{user_id}" if template.starts_with("/api/admin/") => world.member.clone(),
                "{user_id}" => world.joiner.clone(),
                "{dfid}" => world.dfid.clone(),
                "{local_id}" => world.local_id.clone(),
                "{event_id}" => world.event.clone(),
                "{webhook_id}" => world.webhook.clone(),
                "{role_id}" => world.role.clone(),
                "{operation_id}" => world.operation.clone(),
                "{cid}" => world.cid.clone(),
                "{adapter_type}" => "local".to_owned(),
                other => other.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// After a request that ended a session or changed a password, the caller logs in again.
    async fn renew(&mut self, actor: &str, operation: &str, body: &Value) {
        if !matches!(operation, "logout" | "logout_all" | "change_password") || actor == "readkey" {
            return;
        }
        if let Some(password) = body["new_password"].as_str() {
            self.callers.get_mut(actor).unwrap().password = password.to_owned();
        }
        let caller = &self.callers[actor];
        let session = json_with_status(self.app.login(&caller.username, &caller.password).await, 200).await;
        let token = format!("Bearer {}", session["token"].as_str().unwrap());
        self.callers.get_mut(actor).unwrap().credential = Some(token);
    }

    /// The Owner's read-only key, made again after the Owner revoked it.
    async fn read_key(&mut self) {
        let owner = self.token("owner");
        let key = json!({ "name": "read only", "permissions": { "read": true, "write": false, "admin": false } });
        let key = json_with_status(bearer(&self.app, "POST", "/api/api-keys", &owner, &key).await, 201).await;
        self.ids.insert("key", key["id"].as_str().unwrap().to_owned());
        self.callers.get_mut("readkey").unwrap().credential = Some(format!("Bearer {}", key["key"].as_str().unwrap()));
    }
}

async fn bearer(app: &TestApp, method: &str, path: &str, credential: &str, body: &Value) -> reqwest::Response {
    let mut request = app
        .client
        .request(method.parse().unwrap(), app.url(path))
        .header("authorization", credential);
    if !body.is_null() {
        request = request.json(body);
    }
    request.send().await.unwrap()
}

fn read_expected() -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(MATRIX_FILE).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let mut columns = line.split_whitespace().map(str::to_owned);
            let operation = columns.next().unwrap();
            (operation, columns.collect())
        })
        .collect()
}

fn render(rows: &[(String, Vec<String>)]) -> String {
    let mut text = String::from(
        "# Expected status per operation and caller; see authorization.rs. Callers act on resources\n\
         # the circuit Owner holds. readkey: the Owner's API key with only `read`.\n",
    );
    let _ = writeln!(
        text,
        "# {:<30} {}",
        "operation",
        ACTORS.map(|a| format!("{a:<9}")).join(" ").trim_end()
    );
    for (operation, statuses) in rows {
        let columns = statuses.iter().map(|s| format!("{s:<9}")).collect::<Vec<_>>().join(" ");
        let _ = writeln!(text, "{operation:<32} {}", columns.trim_end());
    }
    text
}

#[tokio::test]
async fn every_operation_answers_each_caller_as_the_matrix_says() {
    let spec: Value = serde_json::from_str(&defarm::adapters::http::spec_json()).unwrap();
    let mut matrix = Matrix::new().await;
    let mut world = matrix.world().await;
    let mut rows = Vec::new();
    for (template, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap().to_owned();
            let mut statuses = Vec::new();
            for actor in ACTORS {
                let body = matrix.body(&id, actor, &world);
                let path = matrix.path(template, &world);
                let mut request = matrix
                    .app
                    .client
                    .request(method.to_uppercase().parse().unwrap(), matrix.app.url(&path));
                if let Some(credential) = &matrix.callers[actor].credential {
                    request = request.header("authorization", credential);
                }
                request = match &body {
                    Value::String(csv) => request.header("content-type", "text/csv").body(csv.clone()),
                    Value::Null if method != "get" => request.header("content-type", "application/json").body("{}"),
                    Value::Null => request,
                    _ => request.json(&body),
                };
                let status = request.send().await.unwrap().status();
                statuses.push(status.as_u16().to_string());
                if method != "get" && status.is_success() {
                    matrix.renew(actor, &id, &body).await;
                    if id == "revoke_api_key" {
                        matrix.read_key().await;
                    }
                    world = matrix.world().await;
                }
            }
            rows.push((id, statuses));
        }
    }

    if std::env::var("UPDATE_AUTHZ_MATRIX").is_ok() {
        std::fs::write(MATRIX_FILE, render(&rows)).unwrap();
        return;
    }
    let expected = read_expected();
    let mut problems = Vec::new();
    for (operation, statuses) in &rows {
        match expected.get(operation) {
            None => problems.push(format!(
                "{operation}: no row in authorization_matrix.txt (saw {statuses:?})"
            )),
            Some(want) if want != statuses => {
                let differences: Vec<String> = ACTORS
                    .iter()
                    .zip(want.iter().zip(statuses))
                    .filter(|(_, (w, s))| w != s)
                    .map(|(actor, (w, s))| format!("{actor} expected {w}, got {s}"))
                    .collect();
                problems.push(format!("{operation}: {}", differences.join("; ")));
            }
            Some(_) => {}
        }
    }
    for operation in expected.keys() {
        if !rows.iter().any(|(id, _)| id == operation) {
            problems.push(format!("{operation}: in the matrix but not in the spec"));
        }
    }
    assert!(
        problems.is_empty(),
        "authorization matrix mismatches:\n{}",
        problems.join("\n")
    );
}
