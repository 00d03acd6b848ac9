//! The binary as an operator meets it: its version, a spec piped into `head`, a bad log filter, a
//! port that is already taken, a mistyped tier, a failing health check.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

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
