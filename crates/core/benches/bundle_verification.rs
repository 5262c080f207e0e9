//! Verifying a keyless Sigstore bundle end to end (parse, signature, Rekor entry with its
//! inclusion proof, checkpoint and signed entry timestamp, Fulcio chain, SCT, identity), one
//! bundle and a batch of 1,000, with the conformance vector `happy-path-v0.3` and the embedded
//! public-good trusted root. `scripts/bench.sh keyless` prints the figures.

#![allow(clippy::expect_used)]

use cosign_core::bundle::Bundle;
use cosign_core::digest::Digest;
use cosign_core::trust::certificate::IdentityPolicy;
use cosign_core::trust::trusted_root::{TrustedRoot, PUBLIC_GOOD};
use cosign_core::verify::bundle::Artifact;
use cosign_core::verify::keyless;
use criterion::{criterion_group, criterion_main, Criterion};

const NOW: i64 = 1_800_000_000;

fn bundle_verification(c: &mut Criterion) {
    let base = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/conformance/bundle-verify"
    );
    let bytes = std::fs::read(format!("{base}/happy-path-v0.3/bundle.sigstore.json"))
        .expect("the conformance vectors beside the checkout");
    let artifact = std::fs::read(format!("{base}/a.txt")).expect("artifact");
    let sha256 = Digest::sha256(&artifact);
    let root = TrustedRoot::parse(PUBLIC_GOOD).expect("root");
    let policy = IdentityPolicy::new(
        Some("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"),
        None,
        Some("https://token.actions.githubusercontent.com"),
        None,
    )
    .expect("policy");
    let verify_one = || {
        let bundle = Bundle::parse(&bytes).expect("parses");
        let artifact = Artifact {
            sha256: &sha256,
            bytes: Some(&artifact),
        };
        keyless::verify(&bundle, artifact, &root, &policy, NOW).expect("verifies")
    };
    let mut group = c.benchmark_group("bundle_verification");
    group.bench_function("keyless_bundle", |b| b.iter(verify_one));
    group.sample_size(10);
    group.bench_function("keyless_bundles_x1000", |b| {
        b.iter(|| {
            for _ in 0..1000 {
                verify_one();
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bundle_verification);
criterion_main!(benches);
