//! The encrypted envelope inside a cosign private key file (go-securesystemslib `encrypted`):
//! scrypt derives a 32-byte key from the password, nacl/secretbox (XSalsa20-Poly1305) seals the
//! PKCS #8 key, and the whole is compact JSON in Go's field order:
//!
//! `{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"<b64>"},"cipher":{"name":"nacl/secretbox","nonce":"<b64>"},"ciphertext":"<b64>"}`

use std::fmt;

use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::XSalsa20Poly1305;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{KeyError, Password};

/// The largest envelope we parse. An RSA 4096 key gives about 3.3 KiB.
pub const ENVELOPE_SIZE_LIMIT: usize = 64 * 1024;

const KDF_NAME: &str = "scrypt";
const CIPHER_NAME: &str = "nacl/secretbox";
const SALT_LEN: usize = 32;
const SALT_LIMIT: usize = 1024;
const NONCE_LEN: usize = 24;
const DERIVED_KEY_LEN: usize = 32;

/// Scrypt's cost parameters as written in the envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScryptParameters {
    #[serde(rename = "N")]
    pub n: u64,
    pub r: u32,
    pub p: u32,
}

impl ScryptParameters {
    /// What cosign writes (go-securesystemslib "Standard").
    pub const STANDARD: Self = Self {
        n: 65536,
        r: 8,
        p: 1,
    };
    /// What older cosign wrote ("Legacy").
    pub const LEGACY: Self = Self {
        n: 32768,
        r: 8,
        p: 1,
    };
    /// OWASP's recommendation, also accepted by cosign.
    pub const OWASP: Self = Self {
        n: 131072,
        r: 8,
        p: 1,
    };

    /// Whether cosign would accept these parameters when decrypting. Anything else is refused
    /// before scrypt runs: a tampered N could otherwise make us spend minutes or gigabytes.
    pub fn is_accepted(self) -> bool {
        [Self::STANDARD, Self::LEGACY, Self::OWASP].contains(&self)
    }

    fn derive_key(
        self,
        password: &Password,
        salt: &[u8],
    ) -> Result<Zeroizing<[u8; DERIVED_KEY_LEN]>, KeyError> {
        let invalid = || KeyError::UnsupportedScryptParameters { found: self };
        if !self.n.is_power_of_two() || self.n < 2 {
            return Err(invalid());
        }
        let log_n = u8::try_from(self.n.trailing_zeros()).map_err(|_| invalid())?;
        let params =
            scrypt::Params::new(log_n, self.r, self.p, DERIVED_KEY_LEN).map_err(|_| invalid())?;
        let mut key = Zeroizing::new([0u8; DERIVED_KEY_LEN]);
        scrypt::scrypt(password.as_bytes(), salt, &params, key.as_mut_slice())
            .map_err(|_| invalid())?;
        Ok(key)
    }
}

impl fmt::Display for ScryptParameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "N={}, r={}, p={}", self.n, self.r, self.p)
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    #[serde(with = "base64_bytes")]
    ciphertext: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParameters,
    #[serde(with = "base64_bytes")]
    salt: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    #[serde(with = "base64_bytes")]
    nonce: Vec<u8>,
}

/// Go marshals `[]byte` as standard base64 with padding.
mod base64_bytes {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// Seals `plaintext` under `password` with the given salt and nonce, which the caller draws
/// from a cryptographic random source. Returns the envelope JSON.
pub(crate) fn seal(
    plaintext: &[u8],
    password: &Password,
    params: ScryptParameters,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
) -> Result<Vec<u8>, KeyError> {
    let key = params.derive_key(password, &salt)?;
    let cipher = XSalsa20Poly1305::new(key.as_ref().into());
    let ciphertext = cipher
        .encrypt(&nonce.into(), plaintext)
        .map_err(|_| KeyError::SealFailed)?;
    let envelope = Envelope {
        kdf: Kdf {
            name: KDF_NAME.to_owned(),
            params,
            salt: salt.to_vec(),
        },
        cipher: Cipher {
            name: CIPHER_NAME.to_owned(),
            nonce: nonce.to_vec(),
        },
        ciphertext,
    };
    serde_json::to_vec(&envelope).map_err(|source| KeyError::MalformedEnvelope { source })
}

/// Opens an envelope with `password`, accepting only cosign's scrypt parameter sets.
pub(crate) fn open(envelope: &[u8], password: &Password) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    open_with_policy(envelope, password, ScryptParameters::is_accepted)
}

/// Opens an envelope, accepting the scrypt parameters `accept` allows. Tests use a cheaper
/// policy to run many cases; everything else goes through [`open`].
fn open_with_policy(
    envelope: &[u8],
    password: &Password,
    accept: impl Fn(ScryptParameters) -> bool,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    if envelope.len() > ENVELOPE_SIZE_LIMIT {
        return Err(KeyError::TooLarge {
            size: envelope.len(),
            limit: ENVELOPE_SIZE_LIMIT,
        });
    }
    let envelope: Envelope = serde_json::from_slice(envelope)
        .map_err(|source| KeyError::MalformedEnvelope { source })?;
    if envelope.kdf.name != KDF_NAME {
        return Err(KeyError::UnknownKdf {
            name: envelope.kdf.name,
        });
    }
    if envelope.cipher.name != CIPHER_NAME {
        return Err(KeyError::UnknownCipher {
            name: envelope.cipher.name,
        });
    }
    if !accept(envelope.kdf.params) {
        return Err(KeyError::UnsupportedScryptParameters {
            found: envelope.kdf.params,
        });
    }
    if envelope.kdf.salt.len() > SALT_LIMIT {
        return Err(KeyError::IncorrectSaltSize {
            length: envelope.kdf.salt.len(),
        });
    }
    let nonce: [u8; NONCE_LEN] =
        envelope
            .cipher
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::IncorrectNonceSize {
                length: envelope.cipher.nonce.len(),
            })?;
    let key = envelope
        .kdf
        .params
        .derive_key(password, &envelope.kdf.salt)?;
    let cipher = XSalsa20Poly1305::new(key.as_ref().into());
    cipher
        .decrypt(&nonce.into(), envelope.ciphertext.as_slice())
        .map(Zeroizing::new)
        .map_err(|_| KeyError::DecryptionFailed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CHEAP: ScryptParameters = ScryptParameters { n: 16, r: 8, p: 1 };

    fn cheap_open(envelope: &[u8], password: &Password) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        open_with_policy(envelope, password, |params| params == CHEAP)
    }

    #[test]
    fn writes_go_field_order_and_standard_parameters() {
        let json = seal(
            b"x",
            &Password::new(b"pw".to_vec()),
            ScryptParameters::STANDARD,
            [1; 32],
            [2; 24],
        )
        .expect("seals");
        let text = String::from_utf8(json.clone()).expect("utf-8");
        assert!(text.starts_with(
            r#"{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="},"cipher":{"name":"nacl/secretbox","nonce":"AgICAgICAgICAgICAgICAgICAgICAgIC"},"ciphertext":""#
        ), "{text}");
        let opened = open(&json, &Password::new(b"pw".to_vec())).expect("opens");
        assert_eq!(opened.as_slice(), b"x");
    }

    #[test]
    fn refuses_parameters_cosign_does_not_accept_before_deriving() {
        // N = 2^40 would take hours and terabytes: it must be refused at once.
        for params in [
            ScryptParameters {
                n: 1 << 40,
                r: 8,
                p: 1,
            },
            ScryptParameters {
                n: 65536,
                r: 16,
                p: 1,
            },
            ScryptParameters {
                n: 65536,
                r: 8,
                p: 2,
            },
            ScryptParameters {
                n: 16384,
                r: 8,
                p: 1,
            },
        ] {
            let json = format!(
                r#"{{"kdf":{{"name":"scrypt","params":{{"N":{},"r":{},"p":{}}},"salt":"AAAA"}},"cipher":{{"name":"nacl/secretbox","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},"ciphertext":"AAAA"}}"#,
                params.n, params.r, params.p
            );
            let started = std::time::Instant::now();
            let error = open(json.as_bytes(), &Password::default()).expect_err("refused");
            assert!(
                matches!(error, KeyError::UnsupportedScryptParameters { found } if found == params)
            );
            assert!(started.elapsed() < std::time::Duration::from_secs(1));
        }
    }

    #[test]
    fn rejects_unknown_kdf_cipher_and_bad_nonce() {
        let base = String::from_utf8(
            seal(b"x", &Password::default(), CHEAP, [0; 32], [0; 24]).expect("seals"),
        )
        .expect("utf-8");
        let kdf = base.replace(r#""name":"scrypt""#, r#""name":"argon2""#);
        assert!(
            matches!(open(kdf.as_bytes(), &Password::default()), Err(KeyError::UnknownKdf { name }) if name == "argon2")
        );
        let cipher = base.replace(r#""name":"nacl/secretbox""#, r#""name":"aes""#);
        assert!(matches!(
            open(cipher.as_bytes(), &Password::default()),
            Err(KeyError::UnknownCipher { .. })
        ));
        let nonce = base.replace("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "AAAA");
        assert!(matches!(
            cheap_open(nonce.as_bytes(), &Password::default()),
            Err(KeyError::IncorrectNonceSize { length: 3 })
        ));
        assert!(matches!(
            open(b"{not json", &Password::default()),
            Err(KeyError::MalformedEnvelope { .. })
        ));
        assert!(matches!(
            open(br#"{"kdf":{}}"#, &Password::default()),
            Err(KeyError::MalformedEnvelope { .. })
        ));
        let huge = vec![b' '; ENVELOPE_SIZE_LIMIT + 1];
        assert!(matches!(
            open(&huge, &Password::default()),
            Err(KeyError::TooLarge { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn sealing_then_opening_gives_the_plaintext_back(
            plaintext in proptest::collection::vec(any::<u8>(), 0..512),
            password in proptest::collection::vec(any::<u8>(), 0..64),
            salt in any::<[u8; 32]>(),
            nonce in any::<[u8; 24]>(),
        ) {
            let password = Password::new(password);
            let envelope = seal(&plaintext, &password, CHEAP, salt, nonce).expect("seals");
            let opened = cheap_open(&envelope, &password).expect("opens");
            prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
        }

        #[test]
        fn any_other_password_fails(
            password in proptest::collection::vec(any::<u8>(), 0..32),
            other in proptest::collection::vec(any::<u8>(), 0..32),
        ) {
            prop_assume!(password != other);
            let envelope = seal(b"secret", &Password::new(password), CHEAP, [7; 32], [9; 24]).expect("seals");
            prop_assert!(matches!(cheap_open(&envelope, &Password::new(other)), Err(KeyError::DecryptionFailed)));
        }

        #[test]
        fn any_flipped_ciphertext_bit_fails(index in 0usize..48, bit in 0u8..8) {
            let password = Password::new(b"pw".to_vec());
            let envelope = seal(&[5u8; 32], &password, CHEAP, [1; 32], [2; 24]).expect("seals");
            let mut parsed: Envelope = serde_json::from_slice(&envelope).expect("parses");
            let at = index % parsed.ciphertext.len();
            parsed.ciphertext[at] ^= 1 << bit;
            let tampered = serde_json::to_vec(&parsed).expect("serializes");
            prop_assert!(matches!(cheap_open(&tampered, &password), Err(KeyError::DecryptionFailed)));
        }
    }
}
