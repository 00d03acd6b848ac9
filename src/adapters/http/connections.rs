//! What a connection may hold before it is a request: each client IP opens at most
//! `MAX_CONNECTIONS_PER_IP` connections at once (trusted proxies excepted: they speak for many
//! clients), and a connection that has not delivered its first request head within
//! `HEADER_READ_TIMEOUT_MS` is closed, so clients dripping header bytes cannot hold sockets.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use ipnet::IpNet;
use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub max_per_ip: usize,
    pub trusted_proxies: Arc<Vec<IpNet>>,
}

/// Wraps an acceptor with the limits above.
pub struct GuardedAcceptor<A> {
    inner: A,
    limits: ConnectionLimits,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl<A> GuardedAcceptor<A> {
    pub fn new(inner: A, limits: ConnectionLimits) -> Self {
        Self {
            inner,
            limits,
            open: Arc::default(),
        }
    }

    /// A slot for one more connection from `ip`, or `None` when it has all it may.
    fn take_slot(&self, ip: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().ok()?;
        let count = open.entry(ip).or_default();
        if *count >= self.limits.max_per_ip {
            return None;
        }
        *count += 1;
        Some(Slot {
            ip,
            open: self.open.clone(),
        })
    }
}

impl<A: Acceptor> Acceptor for GuardedAcceptor<A> {
    type Io = GuardedIo<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        loop {
            let (io, local, remote, scheme) = self.inner.accept().await?;
            let ip = remote.as_socket_addr().map(|addr| addr.ip().to_canonical());
            let slot = match ip {
                Some(ip) if !self.limits.trusted_proxies.iter().any(|net| net.contains(&ip)) => {
                    match self.take_slot(ip) {
                        Some(slot) => Some(slot),
                        None => {
                            metrics::counter!("defarm_connections_refused_total", "reason" => "per_ip").increment(1);
                            drop(io);
                            continue;
                        }
                    }
                }
                _ => None,
            };
            let io = GuardedIo {
                inner: io,
                _slot: slot,
                head_deadline: Some(Box::pin(tokio::time::sleep(self.limits.header_read_timeout))),
                seen: 0,
            };
            return Ok((io, local, remote, scheme));
        }
    }
}

/// One open connection counted against its IP; dropped with the connection.
struct Slot {
    ip: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock()
            && let Some(count) = open.get_mut(&self.ip)
        {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

pub struct GuardedIo<T> {
    inner: T,
    _slot: Option<Slot>,
    /// Until the first request head (`\r\n\r\n`, which HTTP/2's preface also contains) is in.
    head_deadline: Option<Pin<Box<Sleep>>>,
    /// How many bytes of `\r\n\r\n` the data read so far ends with.
    seen: usize,
}

const HEAD_END: &[u8] = b"\r\n\r\n";

impl<T> GuardedIo<T> {
    fn scan(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.seen = if byte == HEAD_END[self.seen] {
                self.seen + 1
            } else if byte == HEAD_END[0] {
                1
            } else {
                0
            };
            if self.seen == HEAD_END.len() {
                self.head_deadline = None;
                return;
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for GuardedIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if self.head_deadline.is_some() {
                    let new = buf.filled()[before..].to_vec();
                    self.scan(&new);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => match self.head_deadline.as_mut().map(|d| d.as_mut().poll(cx)) {
                Some(Poll::Ready(())) => {
                    metrics::counter!("defarm_connections_refused_total", "reason" => "header_timeout").increment(1);
                    Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "request head too slow")))
                }
                _ => Poll::Pending,
            },
            other => other,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for GuardedIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
