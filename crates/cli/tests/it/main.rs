//! Integration tests of the `cosign` binary: its behaviour on its own, and against the real
//! cosign 2.5 / 3.1 and OpenSSL (interop), each case run on both sides where cosign has one.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod attestations;
mod conformance;
mod cosign31_commands;
mod faults;
mod images_in_files;
mod interop_attachments;
mod interop_blobs;
mod interop_bundle_images;
mod interop_images;
mod interop_keys;
mod keyless_images;
mod keyless_signing;
mod keys;
mod layouts;
mod local_sigstore;
mod parity;
mod registry_attacks;
mod registry_auth;
mod registry_serve;
mod registry_tls;
mod signing_certificate;
mod terminal;
mod tuf;
mod version;

use cosign_testkit::{Invocation, Scratch};

/// Our binary, in `scratch`.
pub fn cosign(scratch: &Scratch) -> Invocation {
    scratch.command(env!("CARGO_BIN_EXE_cosign"))
}

/// The path of our binary.
pub fn ours() -> std::path::PathBuf {
    env!("CARGO_BIN_EXE_cosign").into()
}

/// Makes `<prefix>.key` and `<prefix>.pub` in `scratch`, password `pw`.
pub fn key_pair(scratch: &Scratch, prefix: &str) {
    cosign(scratch)
        .args(["generate-key-pair", "--output-key-prefix", prefix])
        .env("COSIGN_PASSWORD", "pw")
        .run()
        .success();
}

/// The key types cosign signs with, as OpenSSL makes them: a name (the files become
/// `NAME.key`/`NAME.pub`) and the `openssl` arguments, to which `-out NAME.pem` is added.
pub const OPENSSL_KEY_TYPES: [(&str, &[&str]); 6] = [
    (
        "p256",
        &["ecparam", "-name", "prime256v1", "-genkey", "-noout"],
    ),
    (
        "p384",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
        ],
    ),
    (
        "p521",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-521",
        ],
    ),
    (
        "rsa2048",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ],
    ),
    (
        "rsa3072",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:3072",
        ],
    ),
    ("ed25519", &["genpkey", "-algorithm", "ED25519"]),
];

/// Makes each named key type of [`OPENSSL_KEY_TYPES`] with OpenSSL and imports it as
/// `NAME.key` (password `pw`) and `NAME.pub`.
pub fn import_openssl_keys(scratch: &Scratch, names: &[&str]) {
    for (name, generate) in OPENSSL_KEY_TYPES {
        if !names.contains(&name) {
            continue;
        }
        let pem = format!("{name}.pem");
        scratch
            .command("openssl")
            .args(generate)
            .args(["-out", &pem])
            .run()
            .success();
        cosign(scratch)
            .args([
                "import-key-pair",
                "--key",
                &pem,
                "--output-key-prefix",
                name,
            ])
            .env("COSIGN_PASSWORD", "pw")
            .run()
            .success();
    }
}

/// The two lines cosign prints for an error.
pub fn cosign_error_lines(message: &str) -> String {
    format!("Error: {message}\nerror during command execution: {message}\n")
}
