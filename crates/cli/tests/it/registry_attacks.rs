//! `cosign registry serve` against hostile clients: path traversal through tags, names, digests
//! and upload ids; guessing another client's upload; unfinished uploads, lying `Content-Length`s
//! and a flood of silent connections; a 256 MiB blob. Nothing is written or deleted outside the
//! storage, the server's memory stays bounded, and it keeps serving the honest client.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use cosign_testkit::{EmbeddedOptions, EmbeddedRegistry, Peer, Scratch};

use crate::ours;

/// Sends `head` (and `body`) on a new connection and returns the status line and the rest.
fn request(address: &str, head: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = format!(
        "{head}\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    answer.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// Every file under `dir`.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn traversal_through_tags_names_digests_and_upload_ids_is_refused() {
    let scratch = Scratch::new();
    let storage = scratch.join("storage");
    let registry = EmbeddedRegistry::start(&ours(), Some(&storage));
    let address = registry.address().to_owned();
    let (image, digest) = registry.push_random_image(&scratch, "lab/app:v1");
    let manifest = scratch
        .command(Peer::Crane.path())
        .args(["manifest", &image, "--insecure"])
        .run()
        .success()
        .stdout;
    let victim = scratch.write("victim", "keep me");
    // From <storage>/repositories/lab/app/_repository/tags/, six `..` reach the scratch folder:
    // where the tag file of the old registry landed.
    let up = "../../../../../..";
    let attacks: Vec<(String, &[u8])> = vec![
        (
            format!("PUT /v2/lab/app/manifests/{up}/PWNED HTTP/1.1"),
            manifest.as_bytes(),
        ),
        (
            "PUT /v2/lab/app/manifests/..%2F..%2F..%2F..%2F..%2F..%2FPWNED HTTP/1.1".to_owned(),
            manifest.as_bytes(),
        ),
        (
            "PUT /v2/lab/app/manifests/.. HTTP/1.1".to_owned(),
            manifest.as_bytes(),
        ),
        (
            format!("DELETE /v2/lab/app/manifests/{up}/victim HTTP/1.1"),
            b"",
        ),
        (
            "PUT /v2/../../../PWNED/manifests/v1 HTTP/1.1".to_owned(),
            manifest.as_bytes(),
        ),
        (
            "PUT /v2/lab/../../../../PWNED/manifests/v1 HTTP/1.1".to_owned(),
            manifest.as_bytes(),
        ),
        (
            "PUT /v2/lab/%2e%2e/PWNED/manifests/v1 HTTP/1.1".to_owned(),
            manifest.as_bytes(),
        ),
        (
            format!("GET /v2/lab/app/blobs/uploads/{up}/victim HTTP/1.1"),
            b"",
        ),
        (
            "PATCH /v2/lab/app/blobs/uploads/..%2f..%2fvictim HTTP/1.1".to_owned(),
            b"x",
        ),
        (
            format!("DELETE /v2/lab/app/blobs/uploads/{up}/victim HTTP/1.1"),
            b"",
        ),
        (
            format!("DELETE /v2/lab/app/blobs/sha256:{up}/victim HTTP/1.1"),
            b"",
        ),
        (format!("GET /v2/{up}/tags/list HTTP/1.1"), b""),
        (
            format!("GET /v2/lab/app/referrers/{up}/victim HTTP/1.1"),
            b"",
        ),
    ];
    for (head, body) in &attacks {
        let (status, answer) = request(&address, head, body);
        assert!(
            (400..500).contains(&status),
            "{head} was not refused: {answer}"
        );
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    let outside: Vec<_> = files_under(scratch.path())
        .into_iter()
        .filter(|path| path.to_string_lossy().contains("PWNED"))
        .collect();
    assert!(outside.is_empty(), "written: {outside:?}");
    // The honest content is untouched.
    let again = scratch
        .command(Peer::Crane.path())
        .args(["digest", &image, "--insecure"])
        .run()
        .success();
    assert_eq!(again.stdout.trim(), digest);
}

#[test]
fn upload_sessions_cannot_be_guessed_or_taken_over() {
    let registry = EmbeddedRegistry::start(&ours(), None);
    let address = registry.address().to_owned();
    let start = |repository: &str| {
        let (status, answer) = request(
            &address,
            &format!("POST /v2/{repository}/blobs/uploads/ HTTP/1.1"),
            b"",
        );
        assert_eq!(status, 202, "{answer}");
        header(&answer, "location").unwrap().to_owned()
    };
    let first = start("lab/alice");
    let second = start("lab/alice");
    let id = |location: &str| location.rsplit('/').next().unwrap().to_owned();
    let (first_id, second_id) = (id(&first), id(&second));
    assert_ne!(first_id, second_id);
    for id in [&first_id, &second_id] {
        assert_eq!(id.len(), 32, "{id}: 128 random bits in hex");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    }
    // Another repository cannot append to or cancel alice's upload, even knowing its id.
    let (status, _) = request(
        &address,
        &format!("PATCH /v2/lab/mallory/blobs/uploads/{first_id} HTTP/1.1"),
        b"evil",
    );
    assert_eq!(status, 404);
    let (status, _) = request(
        &address,
        &format!("DELETE /v2/lab/mallory/blobs/uploads/{first_id} HTTP/1.1"),
        b"",
    );
    assert_eq!(status, 404);
    // A neighbouring id (what a counter would give) names nothing.
    let mut neighbour = first_id.clone().into_bytes();
    let last = neighbour.last_mut().unwrap();
    *last = if *last == b'0' { b'1' } else { b'0' };
    let neighbour = String::from_utf8(neighbour).unwrap();
    let (status, _) = request(
        &address,
        &format!("GET /v2/lab/alice/blobs/uploads/{neighbour} HTTP/1.1"),
        b"",
    );
    assert_eq!(status, 404);
    // Alice's upload is intact and finishes.
    let blob = b"alice's blob";
    let digest = cosign_core::digest::Digest::sha256(blob);
    let (status, answer) = request(
        &address,
        &format!("PUT {first}?digest={digest} HTTP/1.1"),
        blob,
    );
    assert_eq!(status, 201, "{answer}");
}

/// The server's peak resident memory so far, in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib / 1024
}

#[test]
fn memory_stays_bounded_and_others_are_served_under_hostile_clients() {
    let registry = EmbeddedRegistry::start_with(
        &ours(),
        EmbeddedOptions {
            client_timeout: Some(2),
            ..EmbeddedOptions::default()
        },
    );
    let address = registry.address().to_owned();
    let scratch = Scratch::new();

    // 1. Lying Content-Length: 100 connections announce a 1 GiB blob, send 256 KiB, go silent.
    let chunk = vec![0x5au8; 256 * 1024];
    let mut liars: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut stream = TcpStream::connect(&address).unwrap();
            let digest = format!("sha256:{}", "0".repeat(64));
            let head = format!(
                "POST /v2/lab/liar/blobs/uploads/?digest={digest} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\n\r\n",
                1u64 << 30
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&chunk).unwrap();
            stream
        })
        .collect();
    // 2. Meanwhile an honest client pushes and pulls.
    let (image, digest) = registry.push_random_image(&scratch, "lab/honest:v1");
    let pulled = scratch
        .command(Peer::Crane.path())
        .args(["digest", &image, "--insecure"])
        .run()
        .success();
    assert_eq!(pulled.stdout.trim(), digest);
    // 3. The liars are cut off once silent for the client timeout (2 s), not held forever.
    let deadline = Instant::now() + Duration::from_secs(15);
    for liar in &mut liars {
        liar.set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        let mut answer = Vec::new();
        let _ = liar.read_to_end(&mut answer);
        assert!(
            Instant::now() < deadline,
            "a silent client held its connection"
        );
    }
    drop(liars);

    // 4. A 256 MiB blob, streamed in and out.
    let size: usize = 256 * 1024 * 1024;
    let piece: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    let mut hasher = cosign_core::digest::Sha256Hasher::default();
    for _ in 0..size / piece.len() {
        hasher.update(&piece);
    }
    let blob_digest = hasher.finish();
    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .write_all(
            format!(
                "POST /v2/lab/big/blobs/uploads/?digest={blob_digest} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
    for _ in 0..size / piece.len() {
        stream.write_all(&piece).unwrap();
    }
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .write_all(
            format!("GET /v2/lab/big/blobs/{blob_digest} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
    let mut received = 0usize;
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        let read = stream.read(&mut buffer).unwrap();
        if read == 0 {
            break;
        }
        received += read;
    }
    assert!(received > size, "headers and the whole blob: {received}");

    // 5. 1,100 uploads started and never finished: capped (1,024 open), then refused with 429
    //    (for a minute: then the least recently used makes room).
    let mut refused = 0;
    for _ in 0..1100 {
        let (status, _) = request(
            &address,
            "POST /v2/lab/unfinished/blobs/uploads/ HTTP/1.1",
            b"",
        );
        match status {
            202 => {}
            429 => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(refused, 1100 - 1024);

    let peak = peak_rss_mib(registry.pid());
    eprintln!("registry peak RSS: {peak} MiB");
    assert!(peak < 100, "the registry peaked at {peak} MiB");
}

#[test]
fn a_connection_flood_is_capped_and_the_server_recovers() {
    let registry = EmbeddedRegistry::start_with(
        &ours(),
        EmbeddedOptions {
            client_timeout: Some(2),
            ..EmbeddedOptions::default()
        },
    );
    let address = registry.address().to_owned();
    // 400 connections that send nothing: the first 256 are held until the timeout, the rest
    // closed at once.
    let silent: Vec<TcpStream> = (0..400)
        .filter_map(|_| TcpStream::connect(&address).ok())
        .collect();
    std::thread::sleep(Duration::from_secs(4));
    drop(silent);
    let (status, _) = request(&address, "GET /v2/ HTTP/1.1", b"");
    assert_eq!(status, 200);
}

#[test]
fn exposing_it_beyond_loopback_needs_auth_or_an_explicit_insecure_flag() {
    let scratch = Scratch::new();
    let refused = crate::cosign(&scratch)
        .args(["registry", "serve", "--address", "0.0.0.0:0"])
        .run()
        .failure(1);
    assert!(
        refused.stderr.contains("without authentication")
            && refused
                .stderr
                .contains("anyone who can reach it could push")
            && refused.stderr.contains("--insecure-no-auth"),
        "{}",
        refused.stderr
    );
    let hash = "$2y$04$abcdefghijklmnopqrstuuJ7y7pC9B8D1gX7xQ0bQZ3gWZ1d9n1Iu";
    scratch.write("htpasswd", format!("lab:{hash}\n"));
    let refused = crate::cosign(&scratch)
        .args([
            "registry",
            "serve",
            "--address",
            "0.0.0.0:0",
            "--htpasswd",
            "htpasswd",
        ])
        .run()
        .failure(1);
    assert!(
        refused.stderr.contains("plain HTTP") && refused.stderr.contains("--tls-cert"),
        "{}",
        refused.stderr
    );
}
