//! A load generator for `policy-controller serve` (used by `scripts/bench.sh admission`):
//! AdmissionReviews POSTed over TLS at a fixed rate (open loop: requests go out on schedule
//! whatever the answers, so a slow server cannot hide its queue), on a pool of kept-alive
//! connections, as the API server keeps them. Prints one JSON line: latency percentiles in
//! milliseconds, errors, and the rate achieved.
//!
//! `admission_load --url URL --ca PEM --rate N --count N (--images REF,REF,... | --random-images REPO)`
//!
//! - `--images`: every request is one pod with these images;
//! - `--random-images REPO`: every request is a pod of three images `REPO@sha256:<random>`, all
//!   distinct (to fill the webhook's cache).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

struct Options {
    url: String,
    ca: std::path::PathBuf,
    rate: f64,
    count: usize,
    images: Vec<String>,
    random_repository: Option<String>,
}

fn options() -> Options {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        url: String::new(),
        ca: std::path::PathBuf::new(),
        rate: 100.0,
        count: 100,
        images: Vec::new(),
        random_repository: None,
    };
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => options.url = value,
            "--ca" => options.ca = value.into(),
            "--rate" => options.rate = value.parse().expect("--rate"),
            "--count" => options.count = value.parse().expect("--count"),
            "--images" => options.images = value.split(',').map(str::to_owned).collect(),
            "--random-images" => options.random_repository = Some(value),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(!options.url.is_empty(), "--url is required");
    options
}

fn review(images: &[String]) -> Vec<u8> {
    let containers: Vec<serde_json::Value> = images
        .iter()
        .enumerate()
        .map(|(index, image)| serde_json::json!({"name": format!("c{index}"), "image": image}))
        .collect();
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "bench",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": "lab",
            "operation": "CREATE",
            "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app", "namespace": "lab"}, "spec": {"containers": containers}},
        }
    })
    .to_string()
    .into_bytes()
}

fn random_digest() -> String {
    let mut bytes = [0u8; 32];
    getrandom(&mut bytes);
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256:{hex}")
}

fn getrandom(bytes: &mut [u8]) {
    use std::io::Read as _;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut file| file.read_exact(bytes))
        .expect("/dev/urandom");
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64) * fraction).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn main() {
    let options = options();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = std::fs::read(&options.ca).expect("--ca");
    let client = reqwest::Client::builder()
        .tls_certs_merge(reqwest::Certificate::from_pem_bundle(&ca).expect("CA"))
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let bodies: Vec<Vec<u8>> = (0..options.count)
        .map(|_| match &options.random_repository {
            Some(repository) => review(
                &(0..3)
                    .map(|_| format!("{repository}@{}", random_digest()))
                    .collect::<Vec<_>>(),
            ),
            None => review(&options.images),
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let url = Arc::new(options.url.clone());
    let period = Duration::from_secs_f64(1.0 / options.rate);
    let (latencies, errors, elapsed) = runtime.block_on(async move {
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(bodies.len());
        for (index, body) in bodies.into_iter().enumerate() {
            let due = started + period.mul_f64(index as f64);
            tokio::time::sleep_until(due.into()).await;
            let (client, url) = (client.clone(), url.clone());
            tasks.push(tokio::spawn(async move {
                // From when it is sent: the timer wakes the loop up to a millisecond late,
                // which is the generator's, not the server's. (The loop never waits for an
                // answer, so a slow server cannot hold requests back.)
                let sent = Instant::now().max(due);
                let answer = client
                    .post(url.as_str())
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await;
                let ok = match answer {
                    Ok(answer) if answer.status().is_success() => {
                        let text = answer.bytes().await.unwrap_or_default();
                        let allowed = serde_json::from_slice::<serde_json::Value>(&text)
                            .is_ok_and(|review| review["response"]["allowed"] == true);
                        if !allowed && index == 0 {
                            eprintln!("not allowed: {}", String::from_utf8_lossy(&text));
                        }
                        allowed
                    }
                    Ok(answer) => {
                        if index == 0 {
                            eprintln!("answered {}", answer.status());
                        }
                        false
                    }
                    Err(error) => {
                        if index == 0 {
                            eprintln!("failed: {error:?}");
                        }
                        false
                    }
                };
                (sent.elapsed(), ok)
            }));
        }
        let mut latencies = Vec::with_capacity(tasks.len());
        let mut errors = 0usize;
        for task in tasks {
            let (latency, ok) = task.await.expect("task");
            latencies.push(latency.as_secs_f64() * 1000.0);
            errors += usize::from(!ok);
        }
        (latencies, errors, started.elapsed())
    });
    let mut sorted = latencies;
    sorted.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({
            "requests": sorted.len(),
            "not_allowed": errors,
            "p50_ms": percentile(&sorted, 0.50),
            "p99_ms": percentile(&sorted, 0.99),
            "max_ms": sorted.last().copied().unwrap_or(f64::NAN),
            "achieved_rps": sorted.len() as f64 / elapsed.as_secs_f64(),
        })
    );
}
