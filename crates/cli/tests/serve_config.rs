//! `roster serve` layers its configuration: defaults < file < environment < flags. A
//! global flag left at its default (`--log`, `--db`) does not hide the file's value;
//! given, it wins.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// Run `roster serve` with `args`, send one request, stop it; its stderr.
fn serve_once(dir: &Path, global: &[&str], serve: &[&str]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_roster"))
        .current_dir(dir)
        .args(global)
        .args(["serve", "--listen", "127.0.0.1:0", "--no-worker"])
        .args(serve)
        .env_remove("ROSTER_LOG")
        .env_remove("ROSTER_DB")
        .env_remove("ROSTER_SECRET_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start roster serve");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    let url = loop {
        let line = lines
            .next()
            .expect("roster serve printed where it listens")
            .expect("utf-8");
        seen.push(line.clone());
        if let Some(rest) = line.strip_prefix("roster serve: ") {
            break rest.split_whitespace().next().expect("url").to_string();
        }
    };
    // One request (unauthenticated: 401, but served and so logged at info).
    let addr = url.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        conn,
        "GET /api/v1/integrations HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(term.success());
    seen.extend(lines.map_while(Result::ok));
    assert!(child.wait().expect("wait").success(), "{seen:?}");
    seen.join("\n")
}

#[test]
fn a_global_flag_wins_over_the_file_only_when_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    let quiet = dir.path().join("quiet.toml");
    std::fs::write(&quiet, "log = \"warn\"\ndb = \"from-file.db\"\n").expect("write");
    let chatty = dir.path().join("chatty.toml");
    std::fs::write(&chatty, "log = \"info\"\n").expect("write");
    let quiet = ["--config", quiet.to_str().expect("utf-8")];
    let chatty = ["--config", chatty.to_str().expect("utf-8")];

    // No file, no flag: the server's default `info` logs the request, in ./roster.db.
    let out = serve_once(dir.path(), &[], &[]);
    assert!(out.contains("INFO"), "{out}");
    assert!(dir.path().join("roster.db").exists());

    // The file's `warn` and database apply: the CLI's defaults do not hide them.
    let out = serve_once(dir.path(), &[], &quiet);
    assert!(!out.contains("INFO"), "{out}");
    assert!(dir.path().join("from-file.db").exists());

    // Flags given win over the file.
    let out = serve_once(dir.path(), &["--log", "info", "--db", "flag.db"], &quiet);
    assert!(out.contains("INFO"), "{out}");
    assert!(dir.path().join("flag.db").exists());
    // … even when they equal the CLI's defaults (`--log warn`).
    let out = serve_once(dir.path(), &["--log", "warn"], &chatty);
    assert!(!out.contains("INFO"), "{out}");
}
