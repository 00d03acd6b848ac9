//! The test harness: a fresh database per test (a SQLite file, or a PostgreSQL database created
//! and dropped here), the real app on port 0, and an HTTP client.

use std::collections::HashMap;
use std::net::SocketAddr;

use std::sync::{Arc, Mutex};

use defarm::app::{self, Config, Extras, RunningApp};
use defarm::domain::identity::ports::{MailMessage, Mailer};
use serde_json::{Value, json};

/// A database that lives as long as the test: a temp SQLite file, or a PostgreSQL database
/// dropped when this is dropped.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub async fn new() -> Self {
        match std::env::var("TEST_DATABASE_URL").ok().filter(|v| !v.is_empty()) {
            Some(admin_url) => {
                let name = format!("defarm_test_{}", uuid::Uuid::new_v4().simple());
                admin_execute(&admin_url, &format!("CREATE DATABASE {name}")).await;
                let url = replace_database(&admin_url, &name);
                Self {
                    url,
                    _dir: None,
                    postgres: Some((admin_url, name)),
                }
            }
            None => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("defarm.db").display());
                Self {
                    url,
                    _dir: Some(dir),
                    postgres: None,
                }
            }
        }
    }

    /// Another handle on the same database, which does not drop it.
    fn borrowed(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            _dir: None,
            postgres: None,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.postgres.take() {
            // Drop runs on the test's runtime, which must not block on itself: a thread with its
            // own runtime does the work, and the wait for it is bounded.
            let (done, finished) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    // Backends still authenticating (the app's runtime stopped mid-handshake) do
                    // not answer DROP ... WITH (FORCE); terminating them does.
                    admin_execute(
                        &admin_url,
                        &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"),
                    )
                    .await;
                    admin_execute(&admin_url, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                });
                let _ = done.send(());
            });
            let _ = finished.recv_timeout(std::time::Duration::from_secs(10));
        }
    }
}

async fn admin_execute(admin_url: &str, sql: &str) {
    use sea_orm::ConnectionTrait;
    let conn = sea_orm::Database::connect(admin_url)
        .await
        .expect("TEST_DATABASE_URL must be reachable");
    conn.execute_unprepared(sql).await.unwrap();
    conn.close().await.unwrap();
}

fn replace_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

pub struct TestApp {
    /// First, so it drops (stopping the app) before the database it uses.
    running: Option<AppThread>,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub db: TestDb,
    pub vars: HashMap<String, String>,
    pub mail: Arc<CapturedMail>,
}

/// The service as a child process; killed when dropped.
pub struct ProcessReplica {
    child: std::process::Child,
    base: String,
}

impl ProcessReplica {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for ProcessReplica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The app on a thread and runtime of its own, as in production: the test's runtime blocking
/// (in a `Drop`, say) never freezes the app halfway through something.
struct AppThread {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AppThread {
    /// Awaits the start without blocking the test's runtime, which may be serving something the
    /// app needs meanwhile (the PostgreSQL proxy).
    async fn start(vars: &HashMap<String, String>, mail: &Arc<CapturedMail>) -> Self {
        let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config is valid");
        app::telemetry::init_tracing(config.log_format, app::telemetry::LogOutput::Stdout).expect("RUST_LOG parses");
        // With SMTP_URL the app mails through a real server; otherwise the test reads `mail`.
        let extras = Extras {
            mailer: (!vars.contains_key("SMTP_URL")).then(|| mail.clone() as Arc<dyn Mailer>),
        };
        let (started, addr) = tokio::sync::oneshot::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let running: RunningApp = app::start_with(config, std::future::pending(), extras)
                    .await
                    .expect("app starts");
                started.send(running.addr).unwrap();
                let _ = stopped.await;
                running.stop().await.unwrap();
            });
        });
        let addr = addr.await.expect("the app thread reports its address");
        Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops the app (draining requests) and waits for its thread.
    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for AppThread {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A mail server stand-in: keeps every message the app sends.
#[derive(Default)]
pub struct CapturedMail {
    messages: Mutex<Vec<MailMessage>>,
    /// Held by a test to stand for a mail server that does not answer.
    pub stalled: tokio::sync::Mutex<()>,
}

impl CapturedMail {
    pub fn messages(&self) -> Vec<MailMessage> {
        self.messages.lock().unwrap().clone()
    }

    /// The messages once at least `count` have arrived (they are sent in the background).
    pub async fn wait_for(&self, count: usize) -> Vec<MailMessage> {
        eventually(10, || async {
            let messages = self.messages();
            (messages.len() >= count).then_some(messages)
        })
        .await
        .unwrap_or_else(|| panic!("{count} message(s) never arrived"))
    }
}

#[async_trait::async_trait]
impl Mailer for CapturedMail {
    async fn send(&self, message: MailMessage) -> defarm::domain::Result<()> {
        drop(self.stalled.lock().await);
        self.messages.lock().unwrap().push(message);
        Ok(())
    }
}

/// Settings every test app gets; tests add or override through `spawn_with`.
fn base_vars(db: &TestDb, data_dir: &str) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = [
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        ("JWT_SECRET", "test-secret-test-secret-test-secret-0123"),
        ("SECRETS_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
        // A key for tests only (`defarm log keygen`).
        (
            "LOG_SIGNING_KEY",
            "PRIVATE+KEY+defarm.local/log+80ac2818+AbJ23t+4fEAGtzEccB9iZe0uluCzi/5+9oer27YOJIFc",
        ),
        ("DB_POOL_MAX", "8"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    vars.insert("DATABASE_URL".into(), db.url.clone());
    vars.insert("DATA_DIR".into(), data_dir.to_owned());
    vars.insert(
        "REDIS_KEY_PREFIX".into(),
        format!("test:{}:", uuid::Uuid::new_v4().simple()),
    );
    if let Ok(redis) = std::env::var("TEST_REDIS_URL")
        && !redis.is_empty()
    {
        vars.insert("REDIS_URL".into(), redis);
    }
    vars
}

/// The password every test user gets.
pub const PASSWORD: &str = "Corr3ct-horse!";

pub async fn spawn_app() -> TestApp {
    spawn_with(&[]).await
}

pub async fn spawn_with(overrides: &[(&str, &str)]) -> TestApp {
    let db = TestDb::new().await;
    spawn_on(db, overrides).await
}

/// Starts the app on `db` with `overrides` on top of the base settings.
pub async fn spawn_on(db: TestDb, overrides: &[(&str, &str)]) -> TestApp {
    let data_dir = std::env::temp_dir().join(format!("defarm-test-{}", uuid::Uuid::new_v4().simple()));
    let mut vars = base_vars(&db, &data_dir.display().to_string());
    for (name, value) in overrides {
        vars.insert((*name).to_owned(), (*value).to_owned());
    }
    let mail = Arc::new(CapturedMail::default());
    let running = AppThread::start(&vars, &mail).await;
    TestApp {
        addr: running.addr,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        db,
        vars,
        mail,
        running: Some(running),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client.post(self.url(path)).json(body).send().await.unwrap()
    }

    /// A request with a bearer token (a session token or an API key).
    pub fn with_token(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(token)
    }

    pub async fn get_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.with_token(reqwest::Method::GET, path, token).send().await.unwrap()
    }

    pub async fn post_as(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.with_token(reqwest::Method::POST, path, token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put_as(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.with_token(reqwest::Method::PUT, path, token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch_as(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.with_token(reqwest::Method::PATCH, path, token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.with_token(reqwest::Method::DELETE, path, token)
            .send()
            .await
            .unwrap()
    }

    /// Registers `username` (email `<username>@example.com`, password `PASSWORD`) and returns
    /// `(token, user_id)`.
    pub async fn register(&self, username: &str) -> (String, String) {
        let body = json!({ "username": username, "email": format!("{username}@example.com"), "password": PASSWORD });
        let created = json_with_status(self.post_json("/api/auth/register", &body).await, 201).await;
        (
            created["token"].as_str().unwrap().to_owned(),
            created["user_id"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/api/auth/login",
            &json!({ "username": username, "password": password }),
        )
        .await
    }

    /// A database connection for test setup that the API cannot do (importing legacy hashes).
    pub async fn database(&self) -> sea_orm::DatabaseConnection {
        sea_orm::Database::connect(self.db.url.as_str()).await.unwrap()
    }

    /// A second instance of the service on the same database, Redis and secrets (a replica).
    pub async fn replica(&self) -> TestApp {
        let running = AppThread::start(&self.vars, &self.mail).await;
        TestApp {
            addr: running.addr,
            client: self.client.clone(),
            db: TestDb::borrowed(&self.db.url),
            vars: self.vars.clone(),
            mail: self.mail.clone(),
            running: Some(running),
        }
    }

    /// A replica in a process of its own (the built binary), for what is process-wide and so
    /// shared by every test app in this one: the metrics recorder.
    pub async fn process_replica(&self) -> ProcessReplica {
        let port = free_port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_defarm"))
            .arg("serve")
            .envs(&self.vars)
            .env("PORT", port.to_string())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let replica = ProcessReplica {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let up = eventually(30, || async {
            let health = self.client.get(replica.url("/health")).send().await.ok()?;
            health.status().is_success().then_some(())
        })
        .await;
        assert!(up.is_some(), "the replica process answers /health");
        replica
    }

    /// Stops the app (draining requests) and starts it again on the same database and settings.
    pub async fn restart(&mut self) {
        if let Some(mut running) = self.running.take() {
            tokio::task::spawn_blocking(move || running.stop()).await.unwrap();
        }
        let running = AppThread::start(&self.vars, &self.mail).await;
        self.addr = running.addr;
        self.running = Some(running);
    }
}

/// The response's JSON body, after checking its status.
pub async fn json_with_status(response: reqwest::Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Checks the error shape and returns the body.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    let request_id = response
        .headers()
        .get("x-request-id")
        .expect("every response has X-Request-Id")
        .to_str()
        .unwrap()
        .to_owned();
    let body = json_with_status(response, status).await;
    assert_eq!(body["code"], code, "{body}");
    assert!(body["error"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert_eq!(body["request_id"], request_id.as_str(), "{body}");
    body
}

/// A TCP forwarder in front of the test PostgreSQL server, so a test can cut the database off
/// (every connection dropped, new ones closed at once) and bring it back, as a server stop and
/// start would look to the app.
pub struct PgProxy {
    addr: SocketAddr,
    state: std::sync::Arc<ProxyState>,
}

struct ProxyState {
    cut: std::sync::atomic::AtomicBool,
    generation: tokio::sync::watch::Sender<u64>,
}

impl PgProxy {
    /// `None` without `TEST_DATABASE_URL`.
    pub async fn start() -> Option<Self> {
        use std::sync::atomic::Ordering;
        let admin = std::env::var("TEST_DATABASE_URL").ok().filter(|v| !v.is_empty())?;
        let parsed = url::Url::parse(&admin).unwrap();
        let upstream = format!(
            "{}:{}",
            parsed.host_str().unwrap_or("127.0.0.1"),
            parsed.port().unwrap_or(5432)
        );
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let state = std::sync::Arc::new(ProxyState {
            cut: std::sync::atomic::AtomicBool::new(false),
            generation: tokio::sync::watch::channel(0).0,
        });
        let shared = state.clone();
        // Its own thread and runtime, like the app's: the test's runtime blocking must not
        // freeze the database link.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
                while let Ok((mut client, _)) = listener.accept().await {
                    if shared.cut.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let upstream = upstream.clone();
                    let mut generation = shared.generation.subscribe();
                    tokio::spawn(async move {
                        let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                            return;
                        };
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                            _ = generation.changed() => {}
                        }
                    });
                }
            });
        });
        Some(Self { addr, state })
    }

    /// `url` with its host and port replaced by this proxy's.
    pub fn route(&self, url: &str) -> String {
        let mut parsed = url::Url::parse(url).unwrap();
        parsed.set_host(Some("127.0.0.1")).unwrap();
        parsed.set_port(Some(self.addr.port())).unwrap();
        parsed.to_string()
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.state.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        self.state.generation.send_modify(|g| *g += 1);
    }

    pub fn restore(&self) {
        self.state.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A valid CPF (check digits computed), different for each `n`.
pub fn cpf(n: usize) -> String {
    let mut digits: Vec<u32> = format!("{:09}", 100_000_000 + n * 7919)
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect();
    for len in [9, 10] {
        let sum: u32 = (0..len).map(|i| digits[i] * (len as u32 + 1 - i as u32)).sum();
        let rest = (sum * 10) % 11;
        digits.push(if rest == 10 { 0 } else { rest });
    }
    digits.iter().map(ToString::to_string).collect()
}

impl TestApp {
    /// Creates a circuit with `body` merged over a default name; returns its id.
    pub async fn circuit(&self, token: &str, body: Value) -> String {
        let mut full = json!({ "name": "Circuit" });
        if let (Some(full), Some(extra)) = (full.as_object_mut(), body.as_object()) {
            for (k, v) in extra {
                full.insert(k.clone(), v.clone());
            }
        }
        let created = json_with_status(self.post_as("/api/circuits", token, &full).await, 201).await;
        created["circuit_id"].as_str().unwrap().to_owned()
    }

    /// Creates a local item with `identifiers`; returns its local id.
    pub async fn local_item(&self, token: &str, identifiers: Value) -> String {
        let body = json!({ "identifiers": identifiers, "enriched_data": { "origin": "test" } });
        let created = json_with_status(self.post_as("/api/items/local", token, &body).await, 201).await;
        created["local_id"].as_str().unwrap().to_owned()
    }

    /// Pushes a local item to a circuit; returns the response body after checking `status`.
    pub async fn push_local(&self, token: &str, circuit_id: &str, local_id: &str, status: u16) -> Value {
        let body = json!({ "local_id": local_id });
        json_with_status(
            self.post_as(&format!("/api/circuits/{circuit_id}/push-local"), token, &body)
                .await,
            status,
        )
        .await
    }

    /// A new item with a CPF, pushed by `token` to `circuit_id`; returns its DFID.
    pub async fn item_in(&self, token: &str, circuit_id: &str, n: usize) -> String {
        let local = self.local_item(token, json!([{ "key": "cpf", "value": cpf(n) }])).await;
        let pushed = self.push_local(token, circuit_id, &local, 201).await;
        pushed["dfid"].as_str().unwrap().to_owned()
    }

    /// The `activity_type` of each activity `path` (an activity feed) lists for `token`, in order.
    pub async fn activity_types(&self, path: &str, token: &str) -> Vec<String> {
        let feed = json_with_status(self.get_as(path, token).await, 200).await;
        feed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["activity_type"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Adds `user_id` to the circuit with `role`, as `owner`.
    pub async fn add_member(&self, owner: &str, circuit_id: &str, user_id: &str, role: &str) {
        let body = json!({ "user_id": user_id, "role": role });
        json_with_status(
            self.post_as(&format!("/api/circuits/{circuit_id}/members"), owner, &body)
                .await,
            201,
        )
        .await;
    }
}

/// A free loopback port (nothing listens on it once this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A well-formed DFID no test mints (its date is long past).
pub fn unknown_dfid() -> String {
    defarm::domain::items::dfid::Dfid::new(chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(), 1).into_string()
}

/// Serves `endpoint` on a free loopback port (a stand-in for a partner's server); returns the
/// address and the task, which stops the server when aborted or dropped with the runtime.
pub async fn serve_on_loopback(
    endpoint: impl poem::Endpoint + 'static,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let acceptor = poem::listener::Listener::into_acceptor(poem::listener::TcpListener::bind("127.0.0.1:0"))
        .await
        .unwrap();
    let addr = *poem::listener::Acceptor::local_addr(&acceptor)[0]
        .as_socket_addr()
        .unwrap();
    let server = tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(endpoint).await;
    });
    (addr, server)
}

/// What a test webhook receiver answers, in order (then 200).
#[derive(Clone, Copy, Debug)]
pub enum Reply {
    Status(u16),
    /// Wait this long before answering 200 (longer than the sender's timeout, to test it).
    Hang(std::time::Duration),
}

/// A request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: String,
}

/// A webhook receiver on loopback, started by the test.
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    _server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start(script: Vec<Reply>) -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let script = Arc::new(Mutex::new(std::collections::VecDeque::from(script)));
        let log = received.clone();
        let endpoint = poem::endpoint::make(move |mut req: poem::Request| {
            let log = log.clone();
            let script = script.clone();
            async move {
                let headers = req
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
                    .collect();
                let body = req.take_body().into_string().await.unwrap_or_default();
                log.lock().unwrap().push(Received { headers, body });
                let reply = script.lock().unwrap().pop_front().unwrap_or(Reply::Status(200));
                let status = match reply {
                    Reply::Status(status) => status,
                    Reply::Hang(duration) => {
                        tokio::time::sleep(duration).await;
                        200
                    }
                };
                poem::Response::builder()
                    .status(poem::http::StatusCode::from_u16(status).unwrap())
                    .body("ok")
            }
        });
        let (addr, server) = serve_on_loopback(endpoint).await;
        Self {
            url: format!("http://{addr}/hook"),
            received,
            _server: server,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to `seconds`) until at least `count` requests arrived.
    pub async fn wait_for(&self, count: usize, seconds: u64) -> Vec<Received> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            let received = self.received();
            if received.len() >= count || std::time::Instant::now() > deadline {
                return received;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }
}

/// Polls `check` every 50 ms until it returns `Some`, for up to `seconds`.
pub async fn eventually<T, F, Fut>(seconds: u64, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
