//! Key tests: every key type through import, encryption and signing, and every bad input a
//! user can hand us, each a typed error with cosign's message, never a panic.

use super::*;
use crate::pem;
use der::Encode as _;
use rand_core::OsRng;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("fixtures/", $name)).as_slice()
    };
}

fn password() -> Password {
    Password::new(b"test123\n".to_vec())
}

/// Encrypts arbitrary plaintext as a cosign key file, with the cheapest parameters cosign accepts.
fn key_file_around(label: &str, plaintext: &[u8]) -> String {
    let envelope = encrypted::seal(
        plaintext,
        &password(),
        ScryptParameters::LEGACY,
        [3; 32],
        [4; 24],
    )
    .expect("seals");
    pem::encode(label, &envelope)
}

#[test]
fn generated_key_round_trips_through_the_key_file() {
    let key = PrivateKey::generate_ecdsa_p256(&mut OsRng);
    let pair = KeyPairPem::new(&key, &password(), &mut OsRng).expect("encrypts");
    assert!(pair
        .private_key
        .starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    assert!(pair.public_key.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let opened = decrypt_private_key(pair.private_key.as_bytes(), &password()).expect("decrypts");
    assert_eq!(opened.public_key(), key.public_key());
    assert_eq!(
        PublicKey::from_pem(pair.public_key.as_bytes()).expect("parses"),
        key.public_key()
    );
    let envelope = pem::decode_first(pair.private_key.as_bytes()).expect("pem");
    let json: serde_json::Value = serde_json::from_slice(&envelope.contents).expect("json");
    assert_eq!(
        json["kdf"]["params"],
        serde_json::json!({"N": 65536, "r": 8, "p": 1})
    );
    assert_eq!(base64_len(&json["kdf"]["salt"]), 32);
    assert_eq!(base64_len(&json["cipher"]["nonce"]), 24);
}

fn base64_len(value: &serde_json::Value) -> usize {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(value.as_str().expect("string"))
        .expect("base64")
        .len()
}

#[test]
fn reads_the_older_cosign_label() {
    let key = PrivateKey::generate_ecdsa_p256(&mut OsRng);
    let file = key_file_around(
        COSIGN_PRIVATE_KEY_LABEL,
        &key.to_pkcs8_der().expect("pkcs8"),
    );
    let opened = decrypt_private_key(file.as_bytes(), &password()).expect("decrypts");
    assert_eq!(opened.public_key(), key.public_key());
}

#[test]
fn wrong_password_is_cosigns_decryption_failed() {
    let key = PrivateKey::generate_ecdsa_p256(&mut OsRng);
    let file = key_file_around(
        SIGSTORE_PRIVATE_KEY_LABEL,
        &key.to_pkcs8_der().expect("pkcs8"),
    );
    let error = decrypt_private_key(file.as_bytes(), &Password::new(b"test123".to_vec()))
        .expect_err("the trailing newline matters");
    assert!(matches!(error, KeyError::DecryptionFailed));
    assert_eq!(error.to_string(), "decrypt: encrypted: decryption failed");
    assert!(error
        .hint()
        .is_some_and(|hint| hint.contains("COSIGN_PASSWORD")));
}

#[test]
fn empty_truncated_and_garbled_pem_are_invalid_pem_blocks() {
    let key = PrivateKey::generate_ecdsa_p256(&mut OsRng);
    let file = key_file_around(
        SIGSTORE_PRIVATE_KEY_LABEL,
        &key.to_pkcs8_der().expect("pkcs8"),
    );
    let truncated = &file.as_bytes()[..file.len() / 2];
    let garbled = file.replacen('e', "\u{1}", 3);
    for input in [
        b"".as_slice(),
        b"not a key".as_slice(),
        truncated,
        garbled.as_bytes(),
    ] {
        let error = decrypt_private_key(input, &password()).expect_err("refused");
        assert!(matches!(error, KeyError::InvalidPem), "{error:?}");
        assert_eq!(error.to_string(), "invalid pem block");
    }
}

#[test]
fn well_formed_pem_with_broken_json_inside_is_malformed() {
    let file = pem::encode(SIGSTORE_PRIVATE_KEY_LABEL, b"{\"kdf\": 1");
    assert!(matches!(
        decrypt_private_key(file.as_bytes(), &password()),
        Err(KeyError::MalformedEnvelope { .. })
    ));
}

#[test]
fn other_pem_types_are_unsupported() {
    for label in ["PUBLIC KEY", "PRIVATE KEY", "EC PRIVATE KEY", "CERTIFICATE"] {
        let file = pem::encode(label, b"\x30\x00");
        let error = decrypt_private_key(file.as_bytes(), &password()).expect_err("refused");
        assert_eq!(error.to_string(), format!("unsupported pem type: {label}"));
    }
}

#[test]
fn sec1_inside_an_encrypted_key_is_refused_with_a_way_out() {
    let sec1 = pem::decode_first(fixture!("ec-p256.sec1.pem")).expect("pem");
    let file = key_file_around(SIGSTORE_PRIVATE_KEY_LABEL, &sec1.contents);
    let error = decrypt_private_key(file.as_bytes(), &password()).expect_err("refused");
    assert!(matches!(error, KeyError::Sec1InsideEncryptedKey));
    assert!(error
        .hint()
        .is_some_and(|hint| hint.contains("import-key-pair")));
}

#[test]
fn garbage_plaintext_is_a_parse_error() {
    let file = key_file_around(SIGSTORE_PRIVATE_KEY_LABEL, b"\x01\x02\x03");
    assert!(matches!(
        decrypt_private_key(file.as_bytes(), &password()),
        Err(KeyError::ParsePrivateKey { .. })
    ));
}

#[test]
fn oversized_key_files_are_refused_before_parsing() {
    let huge = vec![b'A'; KEY_FILE_SIZE_LIMIT + 1];
    assert!(matches!(
        decrypt_private_key(&huge, &password()),
        Err(KeyError::TooLarge { .. })
    ));
    assert!(matches!(
        import_private_key(&huge),
        Err(KeyError::TooLarge { .. })
    ));
}

#[test]
fn imports_every_supported_type_and_encoding() {
    let cases: [(&[u8], &str, SigningAlgorithm); 11] = [
        (
            fixture!("rsa-2048.pkcs1.pem"),
            "RSA",
            SigningAlgorithm::RsaPkcs1v15_2048Sha256,
        ),
        (
            fixture!("rsa-2048.pkcs8.pem"),
            "RSA",
            SigningAlgorithm::RsaPkcs1v15_2048Sha256,
        ),
        (
            fixture!("rsa-3072.pkcs8.pem"),
            "RSA",
            SigningAlgorithm::RsaPkcs1v15_3072Sha256,
        ),
        (
            fixture!("rsa-4096.pkcs8.pem"),
            "RSA",
            SigningAlgorithm::RsaPkcs1v15_4096Sha256,
        ),
        (
            fixture!("ec-p256.sec1.pem"),
            "ECDSA P-256",
            SigningAlgorithm::EcdsaP256Sha256,
        ),
        (
            fixture!("ec-p256.pkcs8.pem"),
            "ECDSA P-256",
            SigningAlgorithm::EcdsaP256Sha256,
        ),
        (
            fixture!("ec-p384.sec1.pem"),
            "ECDSA P-384",
            SigningAlgorithm::EcdsaP384Sha384,
        ),
        (
            fixture!("ec-p384.pkcs8.pem"),
            "ECDSA P-384",
            SigningAlgorithm::EcdsaP384Sha384,
        ),
        (
            fixture!("ec-p521.sec1.pem"),
            "ECDSA P-521",
            SigningAlgorithm::EcdsaP521Sha512,
        ),
        (
            fixture!("ec-p521.pkcs8.pem"),
            "ECDSA P-521",
            SigningAlgorithm::EcdsaP521Sha512,
        ),
        (
            fixture!("ed25519.pkcs8.pem"),
            "Ed25519",
            SigningAlgorithm::Ed25519Prehashed,
        ),
    ];
    for (input, key_type, algorithm) in cases {
        let key = import_private_key(input).expect("imports");
        assert_eq!(key.key_type(), key_type);
        assert_eq!(key.default_algorithm(), algorithm);
        // Through cosign's key file and back, then a signature each way.
        let file = key_file_around(
            SIGSTORE_PRIVATE_KEY_LABEL,
            &key.to_pkcs8_der().expect("pkcs8"),
        );
        let reopened = decrypt_private_key(file.as_bytes(), &password()).expect("decrypts");
        assert_eq!(reopened.public_key(), key.public_key());
        let public = PublicKey::from_pem(key.public_key().to_pem().expect("pem").as_bytes())
            .expect("parses");
        let signature = reopened.sign(b"payload").expect("signs");
        public.verify(b"payload", &signature).expect("verifies");
        assert!(public.verify(b"other payload", &signature).is_err());
    }
}

#[test]
fn the_public_key_matches_openssls_derivation() {
    // The PKIX DER we write for an imported key is the one OpenSSL computes from the same key
    // (checked here through the PKCS #8 structure: the SEC1 public point it carries).
    let key = import_private_key(fixture!("ec-p256.pkcs8.pem")).expect("imports");
    let der = key.public_key().to_der().expect("der");
    assert_eq!(der.len(), 91);
    assert_eq!(PublicKey::from_der(&der).expect("parses"), key.public_key());
}

#[test]
fn ed25519_signs_prehashed_by_default_and_pure_on_request() {
    let key = import_private_key(fixture!("ed25519.pkcs8.pem")).expect("imports");
    let public = key.public_key();
    let prehashed = key.sign(b"m").expect("signs");
    let pure = key
        .sign_with(SigningAlgorithm::Ed25519, b"m")
        .expect("signs");
    assert_ne!(prehashed, pure);
    public
        .verify_with(SigningAlgorithm::Ed25519, b"m", &pure)
        .expect("pure verifies");
    assert!(public
        .verify_with(SigningAlgorithm::Ed25519, b"m", &prehashed)
        .is_err());
    public.verify(b"m", &prehashed).expect("prehashed verifies");
}

#[test]
fn refuses_keys_cosign_refuses() {
    let too_small = import_private_key(fixture!("rsa-1024.pkcs1.pem")).expect_err("refused");
    assert!(matches!(
        too_small,
        KeyError::UnsupportedRsaSize { bits: 1024 }
    ));
    assert!(matches!(
        import_private_key(fixture!("rsa-1024.pkcs8.pem")),
        Err(KeyError::UnsupportedRsaSize { bits: 1024 })
    ));
    for input in [
        fixture!("ec-secp256k1.sec1.pem"),
        fixture!("ec-secp256k1.pkcs8.pem"),
    ] {
        let error = import_private_key(input).expect_err("refused");
        assert!(
            matches!(&error, KeyError::UnsupportedCurve { oid } if oid == "1.3.132.0.10"),
            "{error:?}"
        );
    }
    assert!(matches!(
        import_private_key(fixture!("x25519.pkcs8.pem")),
        Err(KeyError::UnsupportedKeyAlgorithm { .. })
    ));
}

#[test]
fn unsupported_curve_inside_an_encrypted_key_is_refused() {
    let pkcs8 = pem::decode_first(fixture!("ec-secp256k1.pkcs8.pem")).expect("pem");
    let file = key_file_around(SIGSTORE_PRIVATE_KEY_LABEL, &pkcs8.contents);
    assert!(matches!(
        decrypt_private_key(file.as_bytes(), &password()),
        Err(KeyError::UnsupportedCurve { .. })
    ));
}

#[test]
fn import_refuses_other_pem_types_and_garbage() {
    assert!(matches!(
        import_private_key(pem::encode("ENCRYPTED PRIVATE KEY", b"\x30\x00").as_bytes()),
        Err(KeyError::UnsupportedImportPemType { .. })
    ));
    assert!(matches!(
        import_private_key(b"junk"),
        Err(KeyError::InvalidPem)
    ));
    assert!(matches!(
        import_private_key(pem::encode("RSA PRIVATE KEY", b"\x30\x03\x02\x01\x00").as_bytes()),
        Err(KeyError::ParseRsaPrivateKey { .. })
    ));
    assert!(matches!(
        import_private_key(pem::encode("EC PRIVATE KEY", b"\x04\x00").as_bytes()),
        Err(KeyError::ParseEcPrivateKey { .. })
    ));
    assert!(matches!(
        import_private_key(pem::encode("PRIVATE KEY", b"\x30\x00").as_bytes()),
        Err(KeyError::ParsePkcs8PrivateKey { .. })
    ));
}

#[test]
fn sec1_without_a_named_curve_is_refused() {
    let key = PrivateKey::generate_ecdsa_p256(&mut OsRng);
    let PrivateKey::EcdsaP256(signing) = &key else {
        unreachable!()
    };
    let scalar = signing.to_bytes();
    let bare = sec1::EcPrivateKey {
        private_key: &scalar,
        parameters: None,
        public_key: None,
    }
    .to_der()
    .expect("der");
    assert!(matches!(
        PrivateKey::from_sec1_der(&bare),
        Err(KeyError::MissingCurve)
    ));
}

#[test]
fn public_keys_reject_garbage_and_other_pem() {
    assert!(matches!(
        PublicKey::from_pem(b""),
        Err(KeyError::ParsePublicKey { .. })
    ));
    assert!(PublicKey::from_pem(pem::encode("CERTIFICATE", b"\x30\x00").as_bytes()).is_err());
    assert!(PublicKey::from_pem(pem::encode("PUBLIC KEY", b"\x30\x00").as_bytes()).is_err());
    assert!(PublicKey::from_der(&[0xff; 10]).is_err());
}

#[test]
fn signatures_fail_across_keys_and_on_garbage() {
    let a = PrivateKey::generate_ecdsa_p256(&mut OsRng);
    let b = PrivateKey::generate_ecdsa_p256(&mut OsRng);
    let signature = a.sign(b"payload").expect("signs");
    let error = b
        .public_key()
        .verify(b"payload", &signature)
        .expect_err("wrong key");
    assert_eq!(
        error.to_string(),
        "invalid signature when validating ASN.1 encoded signature"
    );
    assert!(a.public_key().verify(b"payload", b"not der").is_err());
    assert!(a.public_key().verify(b"payload", &[]).is_err());
}

#[test]
fn an_algorithm_for_another_key_type_is_refused() {
    let key = PrivateKey::generate_ecdsa_p256(&mut OsRng);
    assert!(matches!(
        key.sign_with(SigningAlgorithm::EcdsaP384Sha384, b"m"),
        Err(KeyError::AlgorithmMismatch { .. })
    ));
}
