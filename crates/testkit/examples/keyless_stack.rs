//! Runs the keyless test stack for `scripts/bench.sh` (and by hand): `keyless_stack v1|v2`
//! starts it with a TSA, prints one JSON line (its URL, issuer, the paths of its trusted root and
//! signing config, a token for `https://bench.cosign-rs.test/signer` valid for an hour), and
//! stops it all when standard input closes.

use std::io::Read as _;

use cosign_testkit::keyless_stack::{KeylessStack, Rekor, StackOptions};

fn main() {
    let rekor = match std::env::args().nth(1).as_deref() {
        Some("v2") => Rekor::V2,
        _ => Rekor::V1,
    };
    let stack = KeylessStack::start(StackOptions {
        rekor,
        timestamps: true,
    });
    let identity = "https://bench.cosign-rs.test/signer";
    let line = serde_json::json!({
        "url": stack.url(),
        "issuer": stack.issuer(),
        "identity": identity,
        "trustedRoot": stack.trusted_root_path(),
        "signingConfig": stack.signing_config_path(),
        "token": stack.token_with(&[("sub", identity), ("expires_in", "3600")]),
    });
    println!("{line}");
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
    drop(stack);
}
