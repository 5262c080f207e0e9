//! Load for a Rekor v2 log (ours or the real `rekor-server`): `log_load ADDRESS ENTRIES CLIENTS`
//! signs ENTRIES distinct `hashedrekord` entries first, then POSTs them from CLIENTS threads at
//! once and prints `entries <n> seconds <s> per_second <r>` (every answer must be 201 with an
//! inclusion proof). Used by `scripts/bench.sh sigstore`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cosign_core::keys::PrivateKey;
use cosign_testkit::local_sigstore::signed_entry_request;
use cosign_testkit::sigstore::http_post;

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
        .map(|n| signed_entry_request(&key, &format!("load {run} entry {n}")))
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
                let (status, _, answer) =
                    http_post(&address, "/api/v2/log/entries", "application/json", request)
                        .expect("POST");
                if status != 201 || !answer.windows(14).any(|w| w == b"inclusionProof") {
                    panic!("entry {n}: {status} {}", String::from_utf8_lossy(&answer));
                }
            });
        }
    });
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "entries {entries} seconds {seconds:.3} per_second {:.0}",
        entries as f64 / seconds
    );
}
