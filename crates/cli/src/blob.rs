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

/// Hashes the blob at `path` (`-`: standard input), keeping the bytes if `keep` is true.
pub fn hash(path: &str, keep: bool) -> Result<HashedBlob, CliError> {
    if path == "-" {
        return hash_reader(std::io::stdin().lock(), keep)
            .map_err(|error| CliError::new(format!("reading standard input: {error}")));
    }
    let file =
        std::fs::File::open(path).map_err(|error| io_error("open", Path::new(path), &error))?;
    hash_reader(file, keep).map_err(|error| io_error("read", Path::new(path), &error))
}

fn hash_reader(mut reader: impl Read, keep: bool) -> std::io::Result<HashedBlob> {
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
