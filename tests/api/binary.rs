//! The binary as an operator meets it: its version, a spec piped into `head`, a bad log filter, a
//! port that is already taken, a mistyped tier, a failing health check.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::json;

use crate::helpers::{PASSWORD, assert_error, json_with_status, spawn_app};

fn defarm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_defarm"))
}

/// `DATA_DIR` and a SQLite `DATABASE_URL`, both in `data`.
fn fresh_sqlite(data: &std::path::Path) -> [(&'static str, String); 2] {
    [
        ("DATA_DIR", data.display().to_string()),
        (
            "DATABASE_URL",
            format!("sqlite://{}/db.sqlite?mode=rwc", data.display()),
        ),
    ]
}

#[test]
fn the_version_names_the_commit() {
    let output = defarm().arg("--version").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("defarm ") && text.contains("(commit "), "{text}");
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    let mut child = defarm()
        .args(["openapi", "--yaml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is gone: the rest of the spec (far more than a pipe holds) meets a closed pipe.
    let output = child.wait_with_output().unwrap();
    assert!(!first.is_empty());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn a_log_filter_that_does_not_parse_stops_the_start() {
    let data = tempfile::tempdir().unwrap();
    let output = defarm()
        .arg("serve")
        .env("RUST_LOG", "defarm=loud")
        .envs(fresh_sqlite(data.path()))
        .env("PORT", "0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("RUST_LOG"));
}

#[test]
fn a_second_instance_on_a_busy_port_changes_nothing() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let data = tempfile::tempdir().unwrap();
    let output = defarm()
        .arg("serve")
        .env_remove("RUST_LOG")
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .envs(fresh_sqlite(data.path()))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot listen"));
    let left: Vec<_> = std::fs::read_dir(data.path()).unwrap().collect();
    assert!(left.is_empty(), "it wrote {left:?} before finding the port taken");
}

#[test]
fn a_tier_is_named_in_any_case_and_a_wrong_one_lists_the_right_ones() {
    let output = defarm()
        .args([
            "admin",
            "create-user",
            "--username",
            "x",
            "--email",
            "x@example.com",
            "--tier",
            "Gold",
        ])
        .env("DEFARM_NEW_USER_PASSWORD", "Correct-horse-9")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("basic, professional, enterprise, admin"), "{said}");
}

#[test]
fn a_failed_healthcheck_says_why() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let output = defarm()
        .arg("healthcheck")
        .env("HOST", "0.0.0.0")
        .env("PORT", port.to_string())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains(&format!("http://127.0.0.1:{port}/health")), "{said}");
}

#[test]
fn creating_a_user_prints_its_id_and_nothing_else() {
    let data = tempfile::tempdir().unwrap();
    let output = defarm()
        .args([
            "admin",
            "create-user",
            "--username",
            "nelore",
            "--email",
            "nelore@example.com",
            "--tier",
            "enterprise",
        ])
        .env("DEFARM_NEW_USER_PASSWORD", "Correct-horse-9")
        .envs(fresh_sqlite(data.path()))
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with("user-") && stdout.trim().lines().count() == 1,
        "{stdout:?}"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("account created"));
}

/// The operator's account commands, run against the database a live app uses: what they change
/// is what the API then does (login refused while suspended, the printed reset token works).
#[tokio::test]
async fn the_operator_manages_accounts_from_the_command_line() {
    let app = spawn_app().await;
    app.register("nelore").await;
    let cli = |args: &[&str]| {
        let output = defarm()
            .arg("admin")
            .args(args)
            .envs(&app.vars)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        (output.status.code(), stdout, stderr)
    };
    let succeeded = |(code, stdout, stderr): (Option<i32>, String, String)| {
        assert_eq!(code, Some(0), "{stderr}");
        stdout
    };
    let fields = |line: &str| line.trim_end().split('\t').map(str::to_owned).collect::<Vec<_>>();

    let listed = succeeded(cli(&["list-users"]));
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(
        fields(lines[0]),
        ["id", "username", "email", "tier", "status", "admin", "created"]
    );
    assert_eq!(lines.len(), 2, "{listed}");
    assert_eq!(
        fields(lines[1])[1..6],
        ["nelore", "nelore@example.com", "Basic", "Active", "no"]
    );

    let changed = succeeded(cli(&["set-tier", "nelore", "PROFESSIONAL"]));
    assert_eq!(fields(&changed)[3], "Professional");
    let changed = succeeded(cli(&["set-admin", "nelore@example.com"]));
    assert_eq!(fields(&changed)[5], "yes");
    let login = json_with_status(app.login("nelore", PASSWORD).await, 200).await;
    let token = login["token"].as_str().unwrap();
    json_with_status(app.get_as("/api/admin/users", token).await, 200).await;

    let changed = succeeded(cli(&["set-status", "nelore", "suspended", "--reason", "unpaid"]));
    assert_eq!(fields(&changed)[4], "Suspended");
    assert_error(app.login("nelore", PASSWORD).await, 403, "account_suspended").await;
    assert_eq!(
        succeeded(cli(&["list-users", "--status", "SUSPENDED"])).lines().count(),
        2
    );
    assert_eq!(succeeded(cli(&["list-users", "--status", "active"])).lines().count(), 1);
    succeeded(cli(&["set-status", "nelore", "active"]));

    let (code, reset, stderr) = cli(&["reset-password", "nelore"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("POST /api/auth/reset-password"), "{stderr}");
    let body = json!({ "token": reset.trim(), "new_password": "An0ther-horse!" });
    let reset = app.post_json("/api/auth/reset-password", &body).await;
    assert_eq!(reset.status(), 204);
    json_with_status(app.login("nelore", "An0ther-horse!").await, 200).await;

    let (code, stdout, stderr) = cli(&["set-tier", "ghost", "basic"]);
    assert_eq!(code, Some(1));
    assert!(stdout.is_empty() && stderr.contains("not found"), "{stderr}");
}

/// A database that cannot be opened is named once, with the reason, never with the URL's
/// password.
#[test]
fn a_database_that_cannot_be_opened_says_why_once() {
    let data = tempfile::tempdir().unwrap();
    let missing = data.path().join("no-such-dir/db.sqlite");
    for (url, reason) in [
        ("mysql://root:hunter2@db/defarm".to_owned(), "use postgres://"),
        (
            format!("sqlite://{}?mode=rwc", missing.display()),
            "cannot open the SQLite file",
        ),
        (
            "postgres://defarm:hunter2@127.0.0.1:1/defarm".to_owned(),
            "127.0.0.1:1: Connection refused",
        ),
    ] {
        let output = defarm()
            .arg("migrate")
            .env("DATA_DIR", data.path())
            .env("DATABASE_URL", &url)
            .env("JWT_SECRET", "test-secret-test-secret-test-secret-0123")
            .env("SECRETS_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
            .env(
                "LOG_SIGNING_KEY",
                "PRIVATE+KEY+defarm.local/log+80ac2818+AbJ23t+4fEAGtzEccB9iZe0uluCzi/5+9oer27YOJIFc",
            )
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{url}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let line = stderr.lines().find(|line| line.starts_with("error: ")).unwrap();
        assert!(line.contains(reason), "{url}: {line}");
        assert_eq!(line.matches(reason).count(), 1, "said twice: {line}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
    }
}
