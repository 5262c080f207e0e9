//! The stack's keys and certificates, made at the first start and kept in `--storage` so a
//! restart keeps the same trust (and the log stays verifiable): the issuer's RSA key, the CA's
//! key and self-signed root, the CT log's key, the transparency log's Ed25519 key, the TSA's
//! root and its timestamping certificate. They are made in a scratch directory and renamed into
//! place, so a crash while making them leaves nothing half made. Private keys are PKCS #8 DER,
//! readable by the owner only.

use std::path::{Path, PathBuf};

use cosign_core::keys::PrivateKey;

use crate::pki::Authority;
use crate::Failure;

const DIRECTORY: &str = "identity";
/// How long the roots are valid, in seconds (ten years).
const ROOT_LIFETIME: i64 = 10 * 365 * 24 * 3600;

/// Everything the stack signs with.
#[derive(Debug)]
pub(crate) struct Identity {
    pub(crate) issuer_key: Vec<u8>,
    pub(crate) ca: Authority,
    pub(crate) ct_key: PrivateKey,
    pub(crate) log_key: PrivateKey,
    pub(crate) tsa_key: PrivateKey,
    pub(crate) tsa_chain: Vec<Vec<u8>>,
    /// When it was made (seconds): the start of every key's validity in the trusted root.
    pub(crate) created: i64,
}

fn io(what: String) -> impl Fn(std::io::Error) -> Failure {
    move |error| Failure::Internal(format!("{what}: {error}"))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(io(format!("writing {}", path.display())))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io(format!("writing {}", path.display())))
}

fn read(directory: &Path, name: &str) -> Result<Vec<u8>, Failure> {
    let path = directory.join(name);
    std::fs::read(&path).map_err(io(format!("reading {}", path.display())))
}

fn key(directory: &Path, name: &str) -> Result<PrivateKey, Failure> {
    PrivateKey::from_pkcs8_der(&read(directory, name)?)
        .map_err(|error| Failure::Internal(format!("{name}: {error}")))
}

fn pkcs8(key: &PrivateKey) -> Result<Vec<u8>, Failure> {
    key.to_pkcs8_der()
        .map(|der| der.to_vec())
        .map_err(|error| Failure::Internal(error.to_string()))
}

impl Identity {
    /// The identity kept in `storage`, made there first if there is none.
    pub(crate) fn load_or_create(storage: &Path, now: i64) -> Result<Self, Failure> {
        let directory = storage.join(DIRECTORY);
        if !directory.exists() {
            Self::create(storage, &directory, now)?;
        }
        Self::load(&directory)
    }

    fn load(directory: &Path) -> Result<Self, Failure> {
        let created = String::from_utf8_lossy(&read(directory, "created")?)
            .trim()
            .parse()
            .map_err(|_| Failure::Internal("identity/created is not a time".to_owned()))?;
        Ok(Self {
            issuer_key: read(directory, "issuer.key")?,
            ca: Authority::from_parts(key(directory, "ca.key")?, read(directory, "ca.crt")?)?,
            ct_key: key(directory, "ctlog.key")?,
            log_key: key(directory, "rekor.key")?,
            tsa_key: key(directory, "tsa.key")?,
            tsa_chain: vec![
                read(directory, "tsa.crt")?,
                read(directory, "tsa-root.crt")?,
            ],
            created,
        })
    }

    fn create(storage: &Path, directory: &Path, now: i64) -> Result<(), Failure> {
        let scratch: PathBuf = storage.join(format!("{DIRECTORY}.partial"));
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch).map_err(io(format!("creating {}", scratch.display())))?;
        let rng = &mut rand_core::OsRng;
        // Valid from a minute back, so a clock a little behind still accepts them.
        let since = now - 60;
        let ca = Authority::root(
            PrivateKey::generate_ecdsa_p256(rng),
            "CN=local Fulcio root,O=cosign-rs local sigstore",
            since,
            ROOT_LIFETIME,
        )?;
        let tsa_root = Authority::root(
            PrivateKey::generate_ecdsa_p256(rng),
            "CN=local TSA root,O=cosign-rs local sigstore",
            since,
            ROOT_LIFETIME,
        )?;
        let tsa_key = PrivateKey::generate_ecdsa_p256(rng);
        let tsa_certificate = tsa_root.timestamping(
            &tsa_key.public_key(),
            "CN=local TSA timestamping,O=cosign-rs local sigstore",
            since,
            ROOT_LIFETIME,
        )?;
        let log_key = PrivateKey::Ed25519(ed25519_dalek::SigningKey::generate(rng));
        write_private(&scratch.join("issuer.key"), &crate::issuer::generate_key()?)?;
        write_private(&scratch.join("ca.key"), &pkcs8(&ca.key)?)?;
        write_private(&scratch.join("ca.crt"), &ca.der)?;
        write_private(
            &scratch.join("ctlog.key"),
            &pkcs8(&PrivateKey::generate_ecdsa_p256(rng))?,
        )?;
        write_private(&scratch.join("rekor.key"), &pkcs8(&log_key)?)?;
        write_private(&scratch.join("tsa.key"), &pkcs8(&tsa_key)?)?;
        write_private(&scratch.join("tsa.crt"), &tsa_certificate)?;
        write_private(&scratch.join("tsa-root.crt"), &tsa_root.der)?;
        write_private(&scratch.join("created"), since.to_string().as_bytes())?;
        std::fs::rename(&scratch, directory)
            .map_err(io(format!("creating {}", directory.display())))?;
        if let Ok(parent) = std::fs::File::open(storage) {
            let _ = parent.sync_all();
        }
        Ok(())
    }
}
