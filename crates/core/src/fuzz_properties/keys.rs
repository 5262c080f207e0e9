//! PEM armour and key files: the PEM reader, PKIX/PKCS #1 public keys, PKCS #8/SEC1/PKCS #1
//! private keys, `import-key-pair`'s PEM reader and the encrypted cosign key file.

use std::sync::LazyLock;
use std::time::Duration;

use base64::Engine as _;
use crypto_secretbox::aead::{Aead as _, KeyInit as _};
use proptest::prelude::*;

use super::mutate::{bounded, config, json_ish_bytes, mutated_bytes, mutated_der, mutated_json};
use crate::keys::{
    decrypt_private_key, import_private_key, KeyError, Password, PrivateKey, PublicKey,
    ScryptParameters, COSIGN_PRIVATE_KEY_LABEL, ENVELOPE_SIZE_LIMIT, KEY_FILE_SIZE_LIMIT,
    SIGSTORE_PRIVATE_KEY_LABEL,
};
use crate::pem;

macro_rules! key_fixture {
    ($name:literal) => {
        include_bytes!(concat!("../keys/fixtures/", $name)).as_slice()
    };
}

/// Every key file of the key tests: the ones cosign imports and the ones it refuses.
const PRIVATE_KEY_FILES: [&[u8]; 15] = [
    key_fixture!("ec-p256.pkcs8.pem"),
    key_fixture!("ec-p256.sec1.pem"),
    key_fixture!("ec-p384.pkcs8.pem"),
    key_fixture!("ec-p384.sec1.pem"),
    key_fixture!("ec-p521.pkcs8.pem"),
    key_fixture!("ec-p521.sec1.pem"),
    key_fixture!("ec-secp256k1.pkcs8.pem"),
    key_fixture!("ec-secp256k1.sec1.pem"),
    key_fixture!("ed25519.pkcs8.pem"),
    key_fixture!("rsa-1024.pkcs1.pem"),
    key_fixture!("rsa-1024.pkcs8.pem"),
    key_fixture!("rsa-2048.pkcs1.pem"),
    key_fixture!("rsa-2048.pkcs8.pem"),
    key_fixture!("rsa-3072.pkcs8.pem"),
    key_fixture!("x25519.pkcs8.pem"),
];

const LABELS: [&str; 8] = [
    "PRIVATE KEY",
    "EC PRIVATE KEY",
    "RSA PRIVATE KEY",
    "PUBLIC KEY",
    "RSA PUBLIC KEY",
    SIGSTORE_PRIVATE_KEY_LABEL,
    COSIGN_PRIVATE_KEY_LABEL,
    "CERTIFICATE",
];

fn password() -> Password {
    Password::new(b"fuzz".to_vec())
}

struct Samples {
    /// (label, DER) of every private key file.
    private_der: Vec<(String, Vec<u8>)>,
    /// PKIX `SubjectPublicKeyInfo` DER of every importable key.
    public_der: Vec<Vec<u8>>,
    /// PEM public keys: `PUBLIC KEY` and a PKCS #1 `RSA PUBLIC KEY`.
    public_pem: Vec<Vec<u8>>,
    /// A P-256 key as cosign's PKCS #8 plaintext.
    pkcs8_plaintext: Vec<u8>,
}

static SAMPLES: LazyLock<Samples> = LazyLock::new(|| {
    let private_der: Vec<(String, Vec<u8>)> = PRIVATE_KEY_FILES
        .iter()
        .map(|file| {
            let block = pem::decode_first(file).expect("fixture PEM");
            (block.label, block.contents)
        })
        .collect();
    let keys: Vec<PrivateKey> = PRIVATE_KEY_FILES
        .iter()
        .filter_map(|file| import_private_key(file).ok())
        .collect();
    assert!(keys.len() >= 9, "the importable fixtures import");
    let public_der: Vec<Vec<u8>> = keys
        .iter()
        .map(|key| key.public_key().to_der().expect("encodes"))
        .collect();
    let mut public_pem: Vec<Vec<u8>> = keys
        .iter()
        .map(|key| key.public_key().to_pem().expect("encodes").into_bytes())
        .collect();
    for der in &public_der {
        let info = spki::SubjectPublicKeyInfoRef::try_from(der.as_slice()).expect("SPKI");
        if info.algorithm.oid == spki::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1") {
            let pkcs1 = info.subject_public_key.raw_bytes();
            public_pem.push(pem::encode("RSA PUBLIC KEY", pkcs1).into_bytes());
        }
    }
    let pkcs8_plaintext = keys[0].to_pkcs8_der().expect("encodes").to_vec();
    Samples {
        private_der,
        public_der,
        public_pem,
        pkcs8_plaintext,
    }
});

// ---------------------------------------------------------------------------------------------
// The cosign.key envelope, sealed here with the cheapest parameters cosign accepts (N=32768)
// and a fixed salt and nonce, so that the key is derived once and each case only encrypts.

const SALT: [u8; 32] = [3; 32];
const NONCE: [u8; 24] = [4; 24];

static LEGACY_KEY: LazyLock<[u8; 32]> = LazyLock::new(|| {
    let params = scrypt::Params::new(15, 8, 1, 32).expect("params");
    let mut key = [0u8; 32];
    scrypt::scrypt(password().as_bytes(), &SALT, &params, &mut key).expect("derives");
    key
});

fn legacy_envelope(plaintext: &[u8]) -> Vec<u8> {
    let engine = base64::engine::general_purpose::STANDARD;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(LEGACY_KEY.as_slice().into());
    let ciphertext = cipher.encrypt(&NONCE.into(), plaintext).expect("encrypts");
    serde_json::json!({
        "kdf": {
            "name": "scrypt",
            "params": {"N": 32768, "r": 8, "p": 1},
            "salt": engine.encode(SALT),
        },
        "cipher": {"name": "nacl/secretbox", "nonce": engine.encode(NONCE)},
        "ciphertext": engine.encode(ciphertext),
    })
    .to_string()
    .into_bytes()
}

fn key_file(envelope: &[u8]) -> Vec<u8> {
    pem::encode(SIGSTORE_PRIVATE_KEY_LABEL, envelope).into_bytes()
}

static LEGACY_ENVELOPE: LazyLock<Vec<u8>> =
    LazyLock::new(|| legacy_envelope(&SAMPLES.pkcs8_plaintext));

// ---------------------------------------------------------------------------------------------
// Strategies.

/// Text that looks like PEM: BEGIN and END lines with known and odd labels, headers, base64
/// and garbage, in any order.
fn pem_like_text() -> impl Strategy<Value = Vec<u8>> {
    let label = prop_oneof![
        (0..LABELS.len()).prop_map(|index| LABELS[index].to_owned()),
        "[ -~]{0,12}",
    ];
    let line = prop_oneof![
        label
            .clone()
            .prop_map(|label| format!("-----BEGIN {label}-----\n")),
        label.prop_map(|label| format!("-----END {label}-----\n")),
        "[A-Za-z0-9+/=]{0,80}".prop_map(|line| format!("{line}\n")),
        "[A-Za-z-]{1,12}: [ -~]{0,20}".prop_map(|header| format!("{header}\n")),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("-----BEGIN ".to_owned()),
        Just("-----".to_owned()),
        "[^\n]{0,20}".prop_map(|junk| format!("{junk}\n")),
    ];
    proptest::collection::vec(line, 0..24).prop_map(|lines| lines.concat().into_bytes())
}

/// A fixture key file with byte edits, or with its DER edited and re-armoured under its own
/// or another label.
fn mutated_private_key_file() -> impl Strategy<Value = Vec<u8>> {
    let text = (0..PRIVATE_KEY_FILES.len())
        .prop_flat_map(|index| mutated_bytes(PRIVATE_KEY_FILES[index].to_vec(), 4));
    let der = (0..SAMPLES.private_der.len(), 0..LABELS.len() + 1).prop_flat_map(
        |(index, label_index)| {
            let (own_label, der) = SAMPLES.private_der[index].clone();
            let label = LABELS
                .get(label_index)
                .map_or(own_label, |label| (*label).to_owned());
            mutated_der(der).prop_map(move |der| pem::encode(&label, &der).into_bytes())
        },
    );
    prop_oneof![text, der]
}

fn mutated_private_der() -> impl Strategy<Value = Vec<u8>> {
    (0..SAMPLES.private_der.len())
        .prop_flat_map(|index| mutated_der(SAMPLES.private_der[index].1.clone()))
}

fn mutated_public_der() -> impl Strategy<Value = Vec<u8>> {
    (0..SAMPLES.public_der.len())
        .prop_flat_map(|index| mutated_der(SAMPLES.public_der[index].clone()))
}

fn mutated_public_pem() -> impl Strategy<Value = Vec<u8>> {
    let text = (0..SAMPLES.public_pem.len())
        .prop_flat_map(|index| mutated_bytes(SAMPLES.public_pem[index].clone(), 4));
    let der = (0..SAMPLES.public_der.len(), 0..LABELS.len()).prop_flat_map(|(index, label)| {
        mutated_der(SAMPLES.public_der[index].clone())
            .prop_map(move |der| pem::encode(LABELS[label], &der).into_bytes())
    });
    prop_oneof![text, der]
}

/// Every private key parser on the same bytes.
fn parse_private_der_every_way(der: &[u8]) {
    let _ = PrivateKey::from_pkcs8_der(der);
    let _ = PrivateKey::from_sec1_der(der);
    let _ = PrivateKey::from_pkcs1_der(der);
}

// ---------------------------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(config(256))]

    /// PEM reader, arbitrary bytes: `None` or a block, never a panic.
    #[test]
    fn pem_reader_survives_arbitrary_bytes(input in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = pem::decode_first(&input);
    }

    /// PEM reader, PEM-shaped text (BEGIN/END lines, headers, base64, garbage in any order):
    /// whatever it returns came from a BEGIN line of the input.
    #[test]
    fn pem_reader_survives_pem_like_text(input in pem_like_text()) {
        if let Some(block) = pem::decode_first(&input) {
            let begin = format!("-----BEGIN {}-----", block.label);
            prop_assert!(String::from_utf8_lossy(&input).contains(&begin));
        }
    }

    /// PEM writer then reader: the label and the bytes come back.
    #[test]
    fn pem_round_trips(label in "[A-Z0-9 ]{0,30}", contents in proptest::collection::vec(any::<u8>(), 0..600)) {
        let block = pem::decode_first(pem::encode(&label, &contents).as_bytes());
        prop_assert_eq!(block.map(|block| (block.label, block.contents)), Some((label, contents)));
    }

    /// Public keys (PKIX DER, PEM), arbitrary bytes: an error, never a panic.
    #[test]
    fn public_key_parsers_survive_arbitrary_bytes(input in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = PublicKey::from_der(&input);
        let _ = PublicKey::from_pem(&input);
    }

    /// PKIX `SubjectPublicKeyInfo` of every key type, DER-mutated (forged lengths, repeated
    /// and dropped elements, huge integers): no panic, and what parses encodes again.
    #[test]
    fn public_key_der_survives_mutation(der in mutated_public_der()) {
        if let Ok(key) = bounded("PublicKey::from_der", Duration::from_secs(5), || PublicKey::from_der(&der)) {
            let _ = key.to_der();
            let _ = key.key_details();
        }
    }

    /// PEM public keys (`PUBLIC KEY`, `RSA PUBLIC KEY`), text or DER mutated, relabelled.
    #[test]
    fn public_key_pem_survives_mutation(input in mutated_public_pem()) {
        let _ = PublicKey::from_pem(&input);
    }

    /// PKCS #8, SEC1 and PKCS #1 private key parsers, arbitrary bytes.
    #[test]
    fn private_key_parsers_survive_arbitrary_bytes(input in proptest::collection::vec(any::<u8>(), 0..1024)) {
        parse_private_der_every_way(&input);
    }

    /// Each private key parser on every fixture's DER (PKCS #8, SEC1, PKCS #1; RSA, EC,
    /// Ed25519, X25519, secp256k1), structure-aware mutated.
    #[test]
    fn private_key_parsers_survive_mutated_der(der in mutated_private_der()) {
        bounded("private key parsers", Duration::from_secs(10), || parse_private_der_every_way(&der));
    }

    /// `import-key-pair`'s reader on mutated key files (text edits, or DER edits re-armoured
    /// under any label).
    #[test]
    fn import_private_key_survives_mutated_key_files(file in mutated_private_key_file()) {
        let _ = bounded("import_private_key", Duration::from_secs(10), || import_private_key(&file));
    }

    /// The encrypted key reader, arbitrary bytes and PEM-armoured JSON-ish bytes: always an
    /// error (nothing but a sealed envelope decrypts).
    #[test]
    fn decrypt_private_key_survives_arbitrary_input(
        raw in proptest::collection::vec(any::<u8>(), 0..1024),
        json in json_ish_bytes(),
        label in 0..LABELS.len(),
    ) {
        prop_assert!(decrypt_private_key(&raw, &password()).is_err());
        let armoured = pem::encode(LABELS[label], &json);
        prop_assert!(decrypt_private_key(armoured.as_bytes(), &password()).is_err());
    }

    /// Scrypt parameters other than cosign's three are refused before any key derivation,
    /// however large (N = 2^63, r = p = 2^32 - 1).
    #[test]
    fn unaccepted_scrypt_parameters_are_refused_at_once(
        n in prop_oneof![any::<u64>(), (0u32..64).prop_map(|bits| 1u64 << bits)],
        r in prop_oneof![any::<u32>(), Just(8u32)],
        p in prop_oneof![any::<u32>(), Just(1u32)],
    ) {
        let params = ScryptParameters { n, r, p };
        prop_assume!(!params.is_accepted());
        let mut envelope: serde_json::Value = serde_json::from_slice(&LEGACY_ENVELOPE).expect("JSON");
        envelope["kdf"]["params"] = serde_json::json!({"N": n, "r": r, "p": p});
        let file = key_file(envelope.to_string().as_bytes());
        let result = bounded("decrypt_private_key", Duration::from_secs(2), || decrypt_private_key(&file, &password()));
        prop_assert!(
            matches!(result, Err(KeyError::UnsupportedScryptParameters { found }) if found == params),
            "{:?}", result
        );
    }
}

proptest! {
    // Each case that keeps the envelope well formed runs scrypt (N=32768, about 0.2 s in a
    // debug build): few cases.
    #![proptest_config(config(24))]

    /// The encrypted key reader on an envelope with JSON-aware edits (huge N, r, p; salts
    /// and nonces of any length; duplicate fields; base64 edits of the ciphertext).
    #[test]
    fn decrypt_private_key_survives_mutated_envelopes(envelope in mutated_json(&LEGACY_ENVELOPE)) {
        let file = key_file(&envelope);
        let _ = bounded("decrypt_private_key", Duration::from_secs(20), || decrypt_private_key(&file, &password()));
    }

}

proptest! {
    // Every case runs scrypt: fewer still (the PKCS #8 reader is fuzzed on its own above).
    #![proptest_config(config(6))]

    /// The PKCS #8 reader behind decryption: a correctly sealed envelope around mutated PKCS #8
    /// plaintext (every key type's DER, structure-aware edits).
    #[test]
    fn decrypt_private_key_survives_mutated_plaintext(plaintext in mutated_private_der()) {
        let file = key_file(&legacy_envelope(&plaintext));
        let _ = bounded("decrypt_private_key", Duration::from_secs(20), || decrypt_private_key(&file, &password()));
    }
}

// ---------------------------------------------------------------------------------------------
// Caps.

/// Pads a PEM file with trailing text (the PEM reader ignores it) to exactly `size` bytes.
fn padded(file: &[u8], size: usize) -> Vec<u8> {
    let mut out = file.to_vec();
    assert!(out.len() <= size);
    out.resize(size, b'\n');
    out
}

#[test]
fn key_files_over_the_cap_are_refused_before_parsing() {
    let file = key_fixture!("ec-p256.pkcs8.pem");
    assert!(import_private_key(&padded(file, KEY_FILE_SIZE_LIMIT)).is_ok());
    assert!(matches!(
        import_private_key(&padded(file, KEY_FILE_SIZE_LIMIT + 1)),
        Err(KeyError::TooLarge { size, limit }) if size == KEY_FILE_SIZE_LIMIT + 1 && limit == KEY_FILE_SIZE_LIMIT
    ));
    let encrypted = key_file(&LEGACY_ENVELOPE);
    assert!(decrypt_private_key(&padded(&encrypted, KEY_FILE_SIZE_LIMIT), &password()).is_ok());
    assert!(matches!(
        decrypt_private_key(&padded(&encrypted, KEY_FILE_SIZE_LIMIT + 1), &password()),
        Err(KeyError::TooLarge { limit, .. }) if limit == KEY_FILE_SIZE_LIMIT
    ));
}

#[test]
fn envelopes_over_the_cap_are_refused_before_parsing() {
    // A valid envelope padded with JSON white space: at the cap it opens, one byte over it is
    // refused as too large (not as malformed: it was never parsed).
    let mut envelope = LEGACY_ENVELOPE.clone();
    envelope.resize(ENVELOPE_SIZE_LIMIT, b' ');
    let file = key_file(&envelope);
    assert!(file.len() < KEY_FILE_SIZE_LIMIT);
    assert!(decrypt_private_key(&file, &password()).is_ok());
    envelope.push(b' ');
    assert!(matches!(
        decrypt_private_key(&key_file(&envelope), &password()),
        Err(KeyError::TooLarge { limit, .. }) if limit == ENVELOPE_SIZE_LIMIT
    ));
}

#[test]
fn the_samples_are_valid() {
    assert!(
        decrypt_private_key(&key_file(&LEGACY_ENVELOPE), &password()).is_ok(),
        "the sealed sample opens: mutations start from a valid key file"
    );
    for der in &SAMPLES.public_der {
        assert!(PublicKey::from_der(der).is_ok());
    }
    for file in &SAMPLES.public_pem {
        assert!(PublicKey::from_pem(file).is_ok());
    }
}

/// `size` bytes of `-----BEGIN A-----` lines, none ever closed.
pub(super) fn unclosed_begin_lines(size: usize) -> String {
    let line = "-----BEGIN A-----\n";
    line.repeat(size / line.len())
}

#[test]
fn pem_reader_is_linear_in_its_input() {
    let input = unclosed_begin_lines(512 * 1024);
    let found = bounded("pem::decode_first", Duration::from_secs(1), || {
        pem::decode_first(input.as_bytes())
    });
    assert!(found.is_none());
}
