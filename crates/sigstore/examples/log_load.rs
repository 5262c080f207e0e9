//! Load for a Rekor v2 log (ours or the real `rekor-server`): `log_load ADDRESS ENTRIES CLIENTS`
//! signs ENTRIES distinct `hashedrekord` entries first, then POSTs them from CLIENTS threads at
//! once and prints `entries <n> seconds <s> per_second <r>` (every answer must be 201 with an
//! inclusion proof). Used by `scripts/bench.sh sigstore`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{Read as _, Write as _};

use cosign_core::digest::Digest;
use cosign_core::keys::PrivateKey;

fn post(address: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    let head = format!(
        "POST /api/v2/log/entries HTTP/1.0\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write");
    stream.write_all(body).expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read");
    let status = String::from_utf8_lossy(&answer[..12.min(answer.len())])
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let address = arguments.get(1).expect("ADDRESS").clone();
    let entries: usize = arguments
        .get(2)
        .map_or(2000, |n| n.parse().expect("ENTRIES"));
    let clients: usize = arguments.get(3).map_or(32, |n| n.parse().expect("CLIENTS"));
    let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
    let run = std::process::id();
    let requests: Vec<Vec<u8>> = (0..entries)
        .map(|n| {
            let digest = Digest::sha256(format!("load {run} entry {n}").as_bytes());
            let signature = key.sign_sha256_digest(&digest.bytes()).expect("sign");
            cosign_core::keyless::rekor_request::hashed_rekord_v002(
                &digest,
                &signature,
                cosign_core::keyless::rekor_request::Verifier::Key(&key.public_key()),
            )
            .expect("request")
        })
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let start = std::time::Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..clients {
            scope.spawn(|| loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(request) = requests.get(n) else {
                    break;
                };
                let (status, answer) = post(&address, request);
                assert!(
                    status == 201 && answer.windows(14).any(|w| w == b"inclusionProof"),
                    "entry {n}: {status} {}",
                    String::from_utf8_lossy(&answer)
                );
            });
        }
    });
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "entries {entries} seconds {seconds:.3} per_second {:.0}",
        entries as f64 / seconds
    );
}
