//! The ceiling of the P1 bench (`bench/run.sh p1`): a bare poem server answering `GET /health`
//! with the service's body (status, timestamp, uptime) and nothing else: no request id, no
//! metrics, no span, no error shaping. usage: `bare_health <port>`

use std::time::Instant;

use poem::listener::TcpListener;
use poem::web::{Data, Json};
use poem::{EndpointExt as _, Route, Server, get, handler};
use serde::Serialize;

#[derive(Serialize)]
struct Health {
    status: &'static str,
    timestamp: chrono::DateTime<chrono::Utc>,
    uptime_seconds: u64,
}

#[handler]
fn health(started: Data<&Instant>) -> Json<Health> {
    Json(Health {
        status: "healthy",
        timestamp: chrono::Utc::now(),
        uptime_seconds: started.elapsed().as_secs(),
    })
}

// The service's allocator, so the comparison measures the middleware and not the allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::io::Result<()> {
    let port = std::env::args().nth(1).unwrap_or_else(|| "3999".to_owned());
    let app = Route::new().at("/health", get(health)).data(Instant::now());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(Server::new(TcpListener::bind(format!("127.0.0.1:{port}"))).run(app))
}
