//! Real email: the app talks SMTP to a local server (aiosmtpd from PyPI, started here) and a
//! server that is down only delays the message.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use serde_json::json;

use crate::auth::token_from;
use crate::helpers::{TestApp, eventually, free_port, json_with_status, spawn_with};

/// aiosmtpd, installed from PyPI on first use when this machine lacks it.
fn ensure_aiosmtpd() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let present = |_: &()| {
            Command::new("python3")
                .args(["-m", "aiosmtpd", "--version"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        };
        if !present(&()) {
            let installed = Command::new("python3")
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "aiosmtpd",
                ])
                .status()
                .expect("python3 runs");
            assert!(
                installed.success() && present(&()),
                "could not install aiosmtpd (pip install aiosmtpd)"
            );
        }
    });
}

/// aiosmtpd on `port`, keeping every message it receives in a maildir.
struct SmtpServer {
    child: Child,
    maildir: PathBuf,
}

impl SmtpServer {
    async fn start(port: u16) -> Self {
        ensure_aiosmtpd();
        let maildir = std::env::temp_dir().join(format!("defarm-mail-{}", uuid::Uuid::new_v4().simple()));
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let listening = eventually(10, || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .ok()
                .map(|_| ())
        })
        .await;
        assert!(listening.is_some(), "aiosmtpd listens on {port}");
        Self { child, maildir }
    }

    /// The raw messages received so far.
    fn messages(&self) -> Vec<String> {
        read_dir(&self.maildir.join("new"))
    }

    async fn wait_for_message(&self, seconds: u64) -> String {
        eventually(seconds, || async { self.messages().into_iter().next() })
            .await
            .expect("a message arrives")
    }
}

fn read_dir(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

/// The message's body (after its headers), line breaks as sent.
fn body_of(message: &str) -> &str {
    let normalised_break = message.find("\n\n").map(|at| at + 2);
    let crlf_break = message.find("\r\n\r\n").map(|at| at + 4);
    let start = crlf_break.or(normalised_break).expect("a header block");
    &message[start..]
}

async fn ask_for_reset(app: &TestApp, email: &str) {
    json_with_status(
        app.post_json("/api/auth/forgot-password", &json!({ "email": email }))
            .await,
        202,
    )
    .await;
}

/// A message in the mail outbox, as the tests look at it.
#[derive(Debug)]
struct Queued {
    recipient: String,
    status: String,
    attempts: i32,
}

/// The mail outbox, oldest message first.
async fn outbox(app: &TestApp) -> Vec<Queued> {
    let db = app.database().await;
    let rows = sea_orm::ConnectionTrait::query_all_raw(
        &db,
        sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT recipient, status, attempts FROM mail_outbox ORDER BY created_at",
        ),
    )
    .await
    .unwrap();
    rows.iter()
        .map(|row| Queued {
            recipient: row.try_get("", "recipient").unwrap(),
            status: row.try_get("", "status").unwrap(),
            attempts: row.try_get("", "attempts").unwrap(),
        })
        .collect()
}

#[tokio::test]
async fn a_reset_token_arrives_by_smtp_and_resets_the_password() {
    let port = free_port();
    let server = SmtpServer::start(port).await;
    let url = format!("smtp://127.0.0.1:{port}");
    let app = spawn_with(&[
        ("SMTP_URL", url.as_str()),
        ("SMTP_FROM", "DeFarm <no-reply@defarm.example>"),
    ])
    .await;
    app.register("duda").await;
    ask_for_reset(&app, "duda@example.com").await;
    let message = server.wait_for_message(15).await;
    assert!(message.contains("To: duda@example.com"), "{message}");
    assert!(message.contains("From: DeFarm <no-reply@defarm.example>"), "{message}");
    assert!(message.contains("Subject: Reset your DeFarm password"), "{message}");
    let token = token_from(body_of(&message));
    let reset = app
        .post_json(
            "/api/auth/reset-password",
            &json!({ "token": token, "new_password": "Res3t-by-mail!" }),
        )
        .await;
    assert_eq!(reset.status(), 204);
    json_with_status(app.login("duda", "Res3t-by-mail!").await, 200).await;
}

#[tokio::test]
async fn a_mail_server_that_is_down_delays_the_message_not_the_request() {
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let app = spawn_with(&[("SMTP_URL", url.as_str())]).await;
    app.register("duda").await;
    ask_for_reset(&app, "duda@example.com").await;
    // The first attempt finds nobody listening; the message waits in the outbox for its retry.
    let waiting = eventually(10, || async {
        let queued = outbox(&app).await;
        let first = queued.first()?;
        (first.attempts >= 1 && first.status == "Pending").then_some(())
    })
    .await;
    assert!(waiting.is_some(), "the refused message waits for a retry");
    // Every test app in this process sets the same process-wide gauge from its own outbox: a
    // replica in a process of its own is the only one that sets its gauge.
    let replica = app.process_replica().await;
    let counted = eventually(15, || async {
        let metrics = app.client.get(replica.url("/metrics")).send().await.ok()?;
        let metrics = metrics.text().await.ok()?;
        metrics.contains("defarm_outbox_depth{queue=\"mail\"} 1").then_some(())
    })
    .await;
    assert!(counted.is_some(), "the waiting message is counted in the outbox depth");
    let server = SmtpServer::start(port).await;
    let message = server.wait_for_message(30).await;
    assert!(message.contains("To: duda@example.com"), "{message}");
}

#[tokio::test]
async fn notifications_are_mailed_to_users_who_turned_it_on_and_only_while_it_is_on() {
    let port = free_port();
    let server = SmtpServer::start(port).await;
    let url = format!("smtp://127.0.0.1:{port}");
    let app = spawn_with(&[("SMTP_URL", url.as_str())]).await;
    let (farm, _) = app.register("farm").await;
    let (coop, coop_id) = app.register("coop").await;
    let (buyer, buyer_id) = app.register("buyer").await;
    let settings = "/api/notifications/settings";
    let off = json_with_status(app.get_as(settings, &coop).await, 200).await;
    assert_eq!(off, json!({ "email": false }), "off unless turned on");
    let on = json_with_status(app.put_as(settings, &coop, &json!({ "email": true })).await, 200).await;
    assert_eq!(on, json!({ "email": true }));
    assert_eq!(json_with_status(app.get_as(settings, &coop).await, 200).await, on);

    let circuit = app.circuit(&farm, json!({ "name": "Cooperativa Norte" })).await;
    app.add_member(&farm, &circuit, &coop_id, "Member").await;
    app.add_member(&farm, &circuit, &buyer_id, "Viewer").await;
    let message = server.wait_for_message(15).await;
    assert!(message.contains("To: coop@example.com"), "{message}");
    let listed = json_with_status(app.get_as("/api/notifications", &coop).await, 200).await;
    let notification = &listed["data"][0];
    assert!(
        message.contains(&format!("Subject: {}", notification["title"].as_str().unwrap())),
        "{message}"
    );
    assert!(
        body_of(&message).contains(notification["message"].as_str().unwrap()),
        "{message}"
    );
    // The buyer, who did not turn it on, got the notification and no mail.
    let buyer_listed = json_with_status(app.get_as("/api/notifications", &buyer).await, 200).await;
    assert_eq!(buyer_listed["data"].as_array().unwrap().len(), 1);

    json_with_status(app.put_as(settings, &coop, &json!({ "email": false })).await, 200).await;
    let removed = app
        .delete_as(&format!("/api/circuits/{circuit}/members/{coop_id}"), &farm)
        .await;
    assert_eq!(removed.status(), 204);
    let coop_listed = json_with_status(app.get_as("/api/notifications", &coop).await, 200).await;
    assert_eq!(
        coop_listed["data"].as_array().unwrap().len(),
        2,
        "notified of the removal"
    );
    // A mail is queued with its notification, in one transaction: none was, after opting out.
    let queued = outbox(&app).await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0].recipient, "coop@example.com");
    // Sent on its first attempt: the worker read the row whole (a SQLite connection opened before
    // the migrations once read it without `notification_id`, and only a retry sent it).
    let sent = eventually(10, || async {
        outbox(&app).await.into_iter().find(|mail| mail.status == "Sent")
    })
    .await
    .expect("the message is recorded as sent");
    assert_eq!(sent.attempts, 1);
}
