//! The transparency log (Rekor v2-compatible): entries appended to one file, a record each
//! (length, the first 8 bytes of the entry's SHA-256, the entry), made durable (`fsync`) before
//! any is acknowledged, the RFC 6962 tree rebuilt from that file at start. A record cut short by
//! a crash was never acknowledged: it is cut off at start, so every checkpoint ever answered
//! still verifies and no acknowledged entry is lost. After each batch the number of entries
//! acknowledged is written beside the log (`size`): a log that recovers fewer whole entries than
//! that was damaged, not cut short, and is refused rather than truncated (a new tree signed by
//! the same key would fork from the checkpoints already given out).
//!
//! Appends go through one writer thread that takes every request waiting, writes them with one
//! `fsync` and signs one checkpoint for them all (group commit), so throughput grows with load
//! instead of paying a disk flush per entry.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read as _, Seek as _, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use cosign_core::keys::PrivateKey;
use cosign_core::trust::merkle::{self, MerkleTree};
use sha2::Digest as _;
use tokio::sync::{mpsc, oneshot};

use crate::rekor_entry::Entry;
use crate::Failure;

/// The largest entry the log keeps (entry bundles prefix each with 16 bits of length; a
/// `hashedrekord` with a certificate is about 2 KiB, a DSSE entry keeps hashes and signatures
/// only), which bounds an entry bundle, 256 entries, to 4 MiB.
pub(crate) const ENTRY_LIMIT: usize = 16 * 1024;
/// The most appends one `fsync` covers.
const BATCH_LIMIT: usize = 1024;
/// Requests waiting for the writer; more wait for room.
const QUEUE_LIMIT: usize = 4096;
const RECORD_HEADER: usize = 12;

/// What an append answers: the entry's index, the tree it was proven in, and the proof.
#[derive(Debug, Clone)]
pub(crate) struct Appended {
    pub(crate) index: u64,
    pub(crate) tree_size: u64,
    pub(crate) root: [u8; 32],
    pub(crate) proof: Vec<[u8; 32]>,
    pub(crate) checkpoint: String,
}

/// Why an append did not happen.
#[derive(Debug)]
pub(crate) enum AppendError {
    /// An equal entry is in the log already, at this index.
    Duplicate(u64),
    Failed(Failure),
}

#[derive(Debug)]
struct State {
    tree: MerkleTree,
    /// Where each entry's body starts in the file, and its length.
    records: Vec<(u64, u16)>,
    index_of: HashMap<[u8; 32], u64>,
    end: u64,
}

/// The log's signer: its origin (the name in its checkpoints), key and ids.
#[derive(Debug)]
pub(crate) struct Signer {
    pub(crate) origin: String,
    pub(crate) key: PrivateKey,
    /// The signed-note key id: SHA-256 of the origin, a newline, 0x01 and the Ed25519 key.
    pub(crate) log_id: [u8; 32],
}

impl Signer {
    pub(crate) fn new(origin: &str, key: PrivateKey) -> Result<Self, Failure> {
        let public = key
            .public_key()
            .to_der()
            .map_err(|error| Failure::Internal(error.to_string()))?;
        let raw = public
            .get(public.len().saturating_sub(32)..)
            .unwrap_or_default();
        let log_id: [u8; 32] = sha2::Sha256::new()
            .chain_update(origin.as_bytes())
            .chain_update(b"\n\x01")
            .chain_update(raw)
            .finalize()
            .into();
        Ok(Self {
            origin: origin.to_owned(),
            key,
            log_id,
        })
    }

    fn checkpoint(&self, size: u64, root: &[u8; 32]) -> Result<String, Failure> {
        let mut hint = [0u8; 4];
        hint.copy_from_slice(self.log_id.get(..4).unwrap_or(&[0; 4]));
        merkle::signed_checkpoint(&self.origin, size, root, &self.key, hint)
            .map_err(|error| Failure::Internal(error.to_string()))
    }
}

type Request = (Entry, oneshot::Sender<Result<Appended, AppendError>>);

/// The log: its state for readers, and the queue to its writer.
#[derive(Debug)]
pub(crate) struct Log {
    state: Arc<RwLock<State>>,
    reader: Arc<File>,
    signer: Arc<Signer>,
    queue: mpsc::Sender<Request>,
}

fn checksum(body: &[u8]) -> [u8; 8] {
    let digest = sha2::Sha256::digest(body);
    let mut sum = [0u8; 8];
    sum.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
    sum
}

fn io(what: &str) -> impl Fn(std::io::Error) -> Failure + '_ {
    move |error| Failure::Internal(format!("{what}: {error}"))
}

/// Reads every whole record of `file`, cutting off a torn last one; refused when that would
/// leave fewer than the `acknowledged` entries.
fn recover(file: &mut File, acknowledged: u64) -> Result<State, Failure> {
    file.seek(std::io::SeekFrom::Start(0))
        .map_err(io("reading the log"))?;
    let file_length = file.metadata().map_err(io("reading the log"))?.len();
    // One record at a time: memory stays one entry, whatever the log's size.
    let mut reader = std::io::BufReader::new(&*file);
    let mut state = State {
        tree: MerkleTree::default(),
        records: Vec::new(),
        index_of: HashMap::new(),
        end: 0,
    };
    let mut at = 0usize;
    let mut header = [0u8; RECORD_HEADER];
    let mut body = Vec::with_capacity(ENTRY_LIMIT);
    while reader.read_exact(&mut header).is_ok() {
        let mut length_bytes = [0u8; 4];
        length_bytes.copy_from_slice(header.get(..4).unwrap_or(&[0; 4]));
        let length = u32::from_be_bytes(length_bytes) as usize;
        if length > ENTRY_LIMIT {
            break;
        }
        body.resize(length, 0);
        if reader.read_exact(&mut body).is_err() || header.get(4..) != Some(&checksum(&body)[..]) {
            break;
        }
        let hash = merkle::leaf_hash(&body);
        let index = state.tree.push_leaf_hash(hash);
        state.index_of.entry(hash).or_insert(index);
        state
            .records
            .push(((at + RECORD_HEADER) as u64, length as u16));
        at += RECORD_HEADER + length;
    }
    state.end = at as u64;
    if state.tree.size() < acknowledged {
        return Err(Failure::Internal(format!(
            "the log holds {} whole entries but {acknowledged} were acknowledged: it is damaged at byte {at}, not just cut short by a crash; refusing to start rather than sign a tree that forks from the checkpoints already given out (restore the log from a backup, or start a new one in other storage)",
            state.tree.size()
        )));
    }
    if (at as u64) < file_length {
        file.set_len(at as u64)
            .map_err(io("cutting a torn record"))?;
        file.sync_all().map_err(io("cutting a torn record"))?;
    }
    Ok(state)
}

impl Log {
    /// Opens (or creates) the log in `directory` and starts its writer.
    pub(crate) fn open(directory: &Path, signer: Signer) -> Result<Self, Failure> {
        let created = !directory.exists();
        std::fs::create_dir_all(directory).map_err(io("creating the log directory"))?;
        let path = directory.join("entries");
        let new_file = !path.exists();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io("opening the log"))?;
        // One server per log: a second one appending to the same file would fork its tree.
        rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).map_err(
            |_| {
                Failure::Internal(format!(
                    "{} is in use by another `cosign sigstore serve`",
                    path.display()
                ))
            },
        )?;
        let size_file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(directory.join("size"))
            .map_err(io("opening the log's size"))?;
        let mut recorded = [0u8; 8];
        let acknowledged = match size_file.read_exact_at(&mut recorded, 0) {
            Ok(()) => u64::from_be_bytes(recorded),
            Err(_) => 0,
        };
        let state = recover(&mut file, acknowledged)?;
        file.seek(std::io::SeekFrom::End(0))
            .map_err(io("opening the log"))?;
        // A new file or directory is durable only once its directory is.
        if new_file {
            sync_directory(directory)?;
        }
        if created {
            if let Some(parent) = directory.parent() {
                sync_directory(parent)?;
            }
        }
        let reader = Arc::new(file.try_clone().map_err(io("opening the log"))?);
        let state = Arc::new(RwLock::new(state));
        let signer = Arc::new(signer);
        let (queue, requests) = mpsc::channel(QUEUE_LIMIT);
        let writer_state = state.clone();
        let writer_signer = signer.clone();
        std::thread::Builder::new()
            .name("log-writer".to_owned())
            .spawn(move || {
                let writer = Writer {
                    file,
                    size_file,
                    state: writer_state,
                    signer: writer_signer,
                };
                writer.run(requests);
            })
            .map_err(io("starting the log writer"))?;
        Ok(Self {
            state,
            reader,
            signer,
            queue,
        })
    }

    pub(crate) fn signer(&self) -> &Signer {
        &self.signer
    }

    /// Appends `entry` once it is durable, with its inclusion proof and a checkpoint.
    pub(crate) async fn append(&self, entry: Entry) -> Result<Appended, AppendError> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send((entry, answer))
            .await
            .map_err(|_| AppendError::Failed(Failure::Internal("the log writer stopped".into())))?;
        answered
            .await
            .map_err(|_| AppendError::Failed(Failure::Internal("the log writer stopped".into())))?
    }

    fn read_state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn size(&self) -> u64 {
        self.read_state().tree.size()
    }

    /// The signed checkpoint of the whole log as it is now.
    pub(crate) fn checkpoint(&self) -> Result<String, Failure> {
        let (size, root) = {
            let state = self.read_state();
            let size = state.tree.size();
            let root = state
                .tree
                .root(size)
                .map_err(|error| Failure::Internal(error.to_string()))?;
            (size, root)
        };
        self.signer.checkpoint(size, &root)
    }

    /// A hash tile (C2SP tlog-tiles): `width` hashes of tree level `8 * level` from index
    /// `256 * index`, if the tree has them all.
    pub(crate) fn hash_tile(&self, level: u64, index: u64, width: u64) -> Option<Vec<u8>> {
        let state = self.read_state();
        let height = usize::try_from(level.checked_mul(8)?).ok()?;
        let first = index.checked_mul(256)?;
        if first.checked_add(width)? > state.tree.nodes_at(height) {
            return None;
        }
        let mut tile = Vec::with_capacity(width as usize * 32);
        for node in first..first + width {
            tile.extend(state.tree.node(height, node)?);
        }
        Some(tile)
    }

    /// An entry bundle: `width` entries from `256 * index`, each after its 16-bit length,
    /// read from the file one entry at a time as the client takes them.
    pub(crate) fn entry_bundle(
        &self,
        index: u64,
        width: u64,
    ) -> Option<impl futures::Stream<Item = std::io::Result<bytes::Bytes>> + Send + Sync + 'static>
    {
        use futures::StreamExt as _;
        let records: Vec<(u64, u16)> = {
            let state = self.read_state();
            let first = usize::try_from(index.checked_mul(256)?).ok()?;
            let last = first.checked_add(usize::try_from(width).ok()?)?;
            state.records.get(first..last)?.to_vec()
        };
        let reader = self.reader.clone();
        Some(
            futures::stream::iter(records).then(move |(offset, length)| {
                let reader = reader.clone();
                async move {
                    let read = tokio::task::spawn_blocking(move || {
                        let mut piece = vec![0u8; 2 + usize::from(length)];
                        let (prefix, body) = piece.split_at_mut(2);
                        prefix.copy_from_slice(&length.to_be_bytes());
                        reader.read_exact_at(body, offset)?;
                        Ok(bytes::Bytes::from(piece))
                    })
                    .await;
                    read.map_err(std::io::Error::other)?
                }
            }),
        )
    }
}

fn lock(state: &RwLock<State>) -> std::sync::RwLockWriteGuard<'_, State> {
    state
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn sync_directory(directory: &Path) -> Result<(), Failure> {
    File::open(directory)
        .and_then(|opened| opened.sync_all())
        .map_err(io("syncing the log's directory"))
}

/// The log's one writer.
struct Writer {
    file: File,
    size_file: File,
    state: Arc<RwLock<State>>,
    signer: Arc<Signer>,
}

type Answer = oneshot::Sender<Result<Appended, AppendError>>;

impl Writer {
    /// Takes every request waiting, makes the new ones durable with one `fsync`, then answers
    /// each with its proof in the tree that holds them all (and a repeat with the index of the
    /// entry it repeats, once that entry is durable). A failed write or `fsync` stops the
    /// writer: what the disk holds is then unknown, and only a restart (which reads it back)
    /// can tell.
    fn run(mut self, mut requests: mpsc::Receiver<Request>) {
        while let Some(first) = requests.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < BATCH_LIMIT {
                match requests.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            if let Err(failure) = self.append_batch(batch) {
                eprintln!("the log stopped: {failure}; restart it to read back what is on disk");
                return;
            }
        }
    }

    fn append_batch(&mut self, batch: Vec<Request>) -> Result<(), Failure> {
        let (size, end) = {
            let state = lock(&self.state);
            (state.tree.size(), state.end)
        };
        let mut accepted: Vec<([u8; 32], u64, u16, Answer)> = Vec::new();
        let mut repeats: Vec<(u64, Answer)> = Vec::new();
        let (mut bytes, mut seen) = (Vec::new(), HashMap::new());
        for (entry, answer) in batch {
            let hash = merkle::leaf_hash(&entry.body);
            if let Some(index) = lock(&self.state).index_of.get(&hash).copied() {
                let _ = answer.send(Err(AppendError::Duplicate(index)));
                continue;
            }
            if let Some(index) = seen.get(&hash).copied() {
                repeats.push((index, answer));
                continue;
            }
            let Ok(length) = u16::try_from(entry.body.len()) else {
                let _ = answer.send(Err(AppendError::Failed(Failure::refused(
                    "the entry is too large",
                ))));
                continue;
            };
            seen.insert(hash, size + accepted.len() as u64);
            let offset = end + bytes.len() as u64 + RECORD_HEADER as u64;
            bytes.extend(u32::from(length).to_be_bytes());
            bytes.extend(checksum(&entry.body));
            bytes.extend(&entry.body);
            accepted.push((hash, offset, length, answer));
        }
        if accepted.is_empty() {
            return Ok(());
        }
        let written = self
            .file
            .write_all(&bytes)
            .and_then(|()| self.file.sync_data())
            .map_err(io("appending to the log"));
        if let Err(failure) = written {
            // Nothing of this batch is acknowledged; what reached the disk is cut off if it can
            // be, and read back at the next start in any case.
            let _ = self.file.set_len(end);
            for (_, _, _, answer) in accepted {
                let _ = answer.send(Err(AppendError::Failed(failure.clone())));
            }
            for (_, answer) in repeats {
                let _ = answer.send(Err(AppendError::Failed(failure.clone())));
            }
            return Err(failure);
        }
        let mut state = lock(&self.state);
        for (hash, offset, length, _) in &accepted {
            let index = state.tree.push_leaf_hash(*hash);
            state.index_of.insert(*hash, index);
            state.records.push((*offset, *length));
        }
        state.end = end + bytes.len() as u64;
        let new_size = state.tree.size();
        // Not synced: a stale (smaller) size after a power loss only makes the check at start
        // laxer, never wrong.
        let _ = self.size_file.write_all_at(&new_size.to_be_bytes(), 0);
        let root = state
            .tree
            .root(new_size)
            .map_err(|error| Failure::Internal(error.to_string()))?;
        let checkpoint = self.signer.checkpoint(new_size, &root);
        for (position, (_, _, _, answer)) in accepted.into_iter().enumerate() {
            let index = size + position as u64;
            let answered = match (&checkpoint, state.tree.inclusion_proof(index, new_size)) {
                (Ok(checkpoint), Ok(proof)) => Ok(Appended {
                    index,
                    tree_size: new_size,
                    root,
                    proof,
                    checkpoint: checkpoint.clone(),
                }),
                (Err(failure), _) => Err(AppendError::Failed(failure.clone())),
                (_, Err(error)) => Err(AppendError::Failed(Failure::Internal(error.to_string()))),
            };
            let _ = answer.send(answered);
        }
        for (index, answer) in repeats {
            let _ = answer.send(Err(AppendError::Duplicate(index)));
        }
        Ok(())
    }
}

/// The JSON Rekor v2 answers an append with (a `TransparencyLogEntry`, as protojson writes it).
pub(crate) fn entry_json(signer: &Signer, entry: &Entry, appended: &Appended) -> Vec<u8> {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    serde_json::json!({
        "logIndex": appended.index.to_string(),
        "logId": {"keyId": b64(&signer.log_id)},
        "kindVersion": {"kind": entry.kind, "version": "0.0.2"},
        "integratedTime": "0",
        "inclusionPromise": null,
        "inclusionProof": {
            "logIndex": appended.index.to_string(),
            "rootHash": b64(&appended.root),
            "treeSize": appended.tree_size.to_string(),
            "hashes": appended.proof.iter().map(|hash| b64(hash)).collect::<Vec<_>>(),
            "checkpoint": {"envelope": appended.checkpoint},
        },
        "canonicalizedBody": b64(&entry.body),
    })
    .to_string()
    .into_bytes()
}
