//! Slow clients (#11.3): a connection that sends half a request header, or stays
//! idle after a response, is closed after the header-read timeout; at most
//! `max_connections` are served at once. Raw TCP on loopback.
#![allow(clippy::unwrap_used)] // a test (or example) panics on what must not fail

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Read until the server closes the connection (or `limit` passes: `None`); what
/// was read, and when it closed.
async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> Option<(Vec<u8>, Instant)> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return (got, Instant::now()),
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .ok()
}

fn addr(server: &TestServer) -> String {
    server.base.trim_start_matches("http://").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn half_a_header_is_cut_after_the_timeout() {
    let server = TestServer::start_with(|c| c.header_read_timeout_secs = 1).await;
    let mut s = TcpStream::connect(addr(&server)).await.expect("connect");
    let t0 = Instant::now();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: roster\r\nX-Slow: ")
        .await
        .expect("write");
    let (got, closed) = read_until_closed(&mut s, Duration::from_secs(10))
        .await
        .expect("the connection is still open after 10 s");
    let after = closed - t0;
    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}, before the timeout"
    );
    assert!(
        !String::from_utf8_lossy(&got).contains("200 OK"),
        "a half request was answered"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = TestServer::start_with(|c| c.header_read_timeout_secs = 1).await;
    let mut s = TcpStream::connect(addr(&server)).await.expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: roster\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).await.expect("answer");
    let answer = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        !answer.to_ascii_lowercase().contains("connection: close"),
        "not kept alive: {answer}"
    );
    let t0 = Instant::now();
    let (_, closed) = read_until_closed(&mut s, Duration::from_secs(10))
        .await
        .expect("an idle connection is still open after 10 s");
    assert!(closed - t0 >= Duration::from_millis(900), "closed at once");
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_beyond_the_cap_wait_for_a_free_one() {
    let server = TestServer::start_with(|c| {
        c.header_read_timeout_secs = 2;
        c.max_connections = 2;
    })
    .await;
    // Two connections take both slots and send nothing.
    let idle_a = TcpStream::connect(addr(&server)).await.expect("connect");
    let idle_b = TcpStream::connect(addr(&server)).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t0 = Instant::now();
    let mut third = TcpStream::connect(addr(&server)).await.expect("connect");
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: roster\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 1024];
    let early = tokio::time::timeout(Duration::from_millis(1000), third.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "a third connection was served while two held both slots"
    );
    // The idle two are cut at their header timeout; the third is served then.
    let (got, served) = read_until_closed(&mut third, Duration::from_secs(10))
        .await
        .expect("the third connection was never served");
    assert!(
        String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    assert!(
        served - t0 >= Duration::from_millis(1500),
        "served after {:?}",
        served - t0
    );
    drop((idle_a, idle_b));
}
