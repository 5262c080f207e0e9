//! Reading a blob (a file, or `-` for standard input) for signing and verifying: hashed as it
//! streams by, in constant memory, unless the key type needs the bytes themselves.

use std::io::Read;
use std::path::Path;

use cosign_core::digest::{Digest, Sha256Hasher};

use crate::error::{io_error, CliError};

/// Chunk size for hashing: large enough for the SHA-256 instructions to run at full speed.
const CHUNK: usize = 1024 * 1024;

/// A blob's SHA-256, and its bytes if they were asked for.
#[derive(Debug)]
pub struct HashedBlob {
    pub sha256: Digest,
    pub bytes: Option<Vec<u8>>,
}

/// Hashes the blob at `path` (`-`: standard input), keeping the bytes if `keep` is true. As in
/// cosign 3, a `sha256:<hex>` that names no file stands for a blob known by its digest alone.
pub fn hash(path: &str, keep: bool) -> Result<HashedBlob, CliError> {
    if path == "-" {
        return hash_reader(std::io::stdin(), keep)
            .map_err(|error| CliError::new(format!("reading standard input: {error}")));
    }
    if !Path::new(path).exists() {
        if let Ok(digest) = path.parse::<Digest>() {
            if digest.algorithm() == cosign_core::digest::DigestAlgorithm::Sha256 {
                return Ok(HashedBlob {
                    sha256: digest,
                    bytes: None,
                });
            }
        }
    }
    let file =
        std::fs::File::open(path).map_err(|error| io_error("open", Path::new(path), &error))?;
    hash_reader(file, keep).map_err(|error| io_error("read", Path::new(path), &error))
}

fn hash_reader(reader: impl Read + Send + 'static, keep: bool) -> std::io::Result<HashedBlob> {
    if !keep {
        return hash_reader_pipelined(reader);
    }
    hash_reader_sequential(reader, keep)
}

/// Reading and hashing overlap: a thread reads the next chunks while this one hashes, so the
/// time is that of the slower of the two, not their sum. Memory stays bounded by the few
/// chunks in flight.
fn hash_reader_pipelined(mut reader: impl Read + Send + 'static) -> std::io::Result<HashedBlob> {
    const IN_FLIGHT: usize = 2;
    let (sender, receiver) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<u8>>>(IN_FLIGHT);
    let (recycle_sender, recycle) = std::sync::mpsc::channel::<Vec<u8>>();
    let reader_thread = std::thread::spawn(move || loop {
        let mut buffer = recycle.try_recv().unwrap_or_else(|_| vec![0u8; CHUNK * 4]);
        buffer.resize(CHUNK * 4, 0);
        let mut filled = 0;
        while filled < buffer.len() {
            match reader.read(buffer.get_mut(filled..).unwrap_or_default()) {
                Ok(0) => break,
                Ok(read) => filled += read,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    let _ = sender.send(Err(error));
                    return;
                }
            }
        }
        buffer.truncate(filled);
        let done = filled == 0;
        if sender.send(Ok(buffer)).is_err() || done {
            return;
        }
    });
    let mut hasher = Sha256Hasher::default();
    for chunk in receiver {
        let chunk = chunk?;
        if chunk.is_empty() {
            break;
        }
        hasher.update(&chunk);
        let _ = recycle_sender.send(chunk);
    }
    let _ = reader_thread.join();
    Ok(HashedBlob {
        sha256: hasher.finish(),
        bytes: None,
    })
}

fn hash_reader_sequential(mut reader: impl Read, keep: bool) -> std::io::Result<HashedBlob> {
    let mut hasher = Sha256Hasher::default();
    let mut buffer = vec![0u8; CHUNK];
    let mut bytes = keep.then(Vec::new);
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        let chunk = buffer.get(..read).unwrap_or_default();
        hasher.update(chunk);
        if let Some(bytes) = bytes.as_mut() {
            bytes.extend_from_slice(chunk);
        }
    }
    Ok(HashedBlob {
        sha256: hasher.finish(),
        bytes,
    })
}
