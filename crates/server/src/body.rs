//! Request and response bodies without holding them whole: a request body is read frame by frame
//! under a size cap and an idle deadline (a client whose `Content-Length` lies cannot hold a
//! request open), and blobs are answered straight from their files.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Body as _, Frame, Incoming};

/// The body every answer has: bytes in memory, or a file read in pieces.
pub type AnswerBody = BoxBody<Bytes, std::io::Error>;

/// How much of a file one read takes when answering a blob (two are in memory per answer: the
/// one being sent and the next, read ahead).
const FILE_CHUNK: usize = 256 * 1024;

pub fn empty() -> AnswerBody {
    Empty::new().map_err(|never| match never {}).boxed()
}

pub fn full(bytes: impl Into<Bytes>) -> AnswerBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An answer sent piece by piece as `pieces` yields them, so only the piece being sent is held.
pub fn stream<S>(pieces: S) -> AnswerBody
where
    S: futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + Sync + 'static,
{
    use futures::TryStreamExt as _;
    BodyExt::boxed(StreamBody::new(pieces.map_ok(Frame::data)))
}

/// `file`'s content from its current position, each piece read (in the blocking pool) while the
/// one before is being sent, so disk and socket work side by side.
pub fn file(file: std::fs::File) -> AnswerBody {
    let stream = futures::stream::unfold(Some(read_ahead(file)), |pending| async move {
        let read = pending?.await;
        match read {
            Ok(Ok((_, chunk))) if chunk.is_empty() => None,
            Ok(Ok((file, chunk))) => Some((Ok(Frame::data(chunk)), Some(read_ahead(file)))),
            Ok(Err(failure)) => Some((Err(failure), None)),
            Err(failure) => Some((Err(std::io::Error::other(failure)), None)),
        }
    });
    BodyExt::boxed(StreamBody::new(stream))
}

type ReadAhead = tokio::task::JoinHandle<std::io::Result<(std::fs::File, Bytes)>>;

/// Starts reading the next `FILE_CHUNK` of `file` (an empty piece at the end).
fn read_ahead(mut file: std::fs::File) -> ReadAhead {
    tokio::task::spawn_blocking(move || {
        use std::io::Read as _;
        let mut chunk = vec![0u8; FILE_CHUNK];
        let mut filled = 0;
        while filled < FILE_CHUNK {
            let read = file.read(chunk.get_mut(filled..).unwrap_or_default())?;
            if read == 0 {
                break;
            }
            filled += read;
        }
        chunk.truncate(filled);
        Ok((file, Bytes::from(chunk)))
    })
}

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("request body larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("no request body data for {0:?}")]
    Idle(Duration),
    #[error("reading the request body: {0}")]
    Transport(#[from] hyper::Error),
    #[error("writing the request body: {0}")]
    Write(#[from] std::io::Error),
}

/// A request body read piece by piece, each piece awaited at most `idle`.
#[derive(Debug)]
pub struct RequestBody {
    body: Incoming,
    idle: Duration,
}

impl RequestBody {
    pub fn new(body: Incoming, idle: Duration) -> Self {
        Self { body, idle }
    }

    /// The length the client announced, if it did.
    pub fn declared_length(&self) -> Option<u64> {
        self.body.size_hint().exact()
    }

    /// The next piece of data, `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Bytes>, BodyError> {
        loop {
            let frame = tokio::time::timeout(self.idle, self.body.frame())
                .await
                .map_err(|_| BodyError::Idle(self.idle))?;
            match frame {
                None => return Ok(None),
                Some(frame) => {
                    if let Ok(data) = frame?.into_data() {
                        if !data.is_empty() {
                            return Ok(Some(data));
                        }
                    }
                }
            }
        }
    }

    /// The whole body, refused as soon as it passes `limit` (or announces more).
    pub async fn collect(mut self, limit: u64) -> Result<Vec<u8>, BodyError> {
        if self.declared_length().is_some_and(|length| length > limit) {
            return Err(BodyError::TooLarge { limit });
        }
        let mut collected = Vec::new();
        while let Some(data) = self.next().await? {
            if collected.len() as u64 + data.len() as u64 > limit {
                return Err(BodyError::TooLarge { limit });
            }
            collected.extend_from_slice(&data);
        }
        Ok(collected)
    }
}
