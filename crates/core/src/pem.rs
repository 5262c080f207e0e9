//! PEM armour (RFC 7468), read as leniently as Go's `encoding/pem` and written as it writes.
//!
//! Reading finds the first well-formed block anywhere in the input (text before it is ignored,
//! as Go does), skips RFC 1421 headers, and decodes the base64 body ignoring white space.
//! Writing produces 64-column lines, which is what cosign's files contain.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// One decoded PEM block: its label (`PUBLIC KEY`, `ENCRYPTED SIGSTORE PRIVATE KEY`, ...) and
/// the bytes of its body.
#[derive(Clone, PartialEq, Eq)]
pub struct PemBlock {
    pub label: String,
    pub contents: Vec<u8>,
}

impl std::fmt::Debug for PemBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body may be a private key: never print it.
        f.debug_struct("PemBlock")
            .field("label", &self.label)
            .field("contents", &format_args!("<{} bytes>", self.contents.len()))
            .finish()
    }
}

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// Decodes the first well-formed PEM block in `input`, or `None` if there is none (the
/// equivalent of Go's `pem.Decode` returning nil).
///
/// One pass over the lines, so time stays linear in the input whatever it holds: a block's
/// body is base64 (and RFC 1421 headers), so a line starting with `-----` inside it other than
/// its own END line means the block is malformed, and the next candidate starts there.
pub fn decode_first(input: &[u8]) -> Option<PemBlock> {
    let text = String::from_utf8_lossy(input);
    // The open candidate: its label and where its body starts.
    let mut open: Option<(&str, usize)> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.trim_end_matches('\n').trim_end_matches('\r');
        if let Some((label, body_start)) = open {
            if content
                .strip_prefix(END)
                .and_then(|rest| rest.strip_suffix(DASHES))
                == Some(label)
            {
                if let Some(block) = decode_body(label, text.get(body_start..start)?) {
                    return Some(block);
                }
                open = None;
                continue;
            }
            if !content.starts_with(DASHES) {
                continue;
            }
            open = None;
        }
        if let Some(label) = content
            .strip_prefix(BEGIN)
            .and_then(|rest| rest.strip_suffix(DASHES))
            .filter(|label| !label.contains(DASHES))
        {
            // A BEGIN line must end with its newline: the body follows.
            if line.ends_with('\n') {
                open = Some((label, offset));
            }
        }
    }
    None
}

fn decode_body(label: &str, body: &str) -> Option<PemBlock> {
    let body = skip_headers(body);
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let contents = STANDARD.decode(compact.as_bytes()).ok()?;
    Some(PemBlock {
        label: label.to_owned(),
        contents,
    })
}

/// Skips RFC 1421 `Key: Value` header lines (and the blank line after them), as Go does.
fn skip_headers(body: &str) -> &str {
    let mut rest = body;
    let mut saw_header = false;
    loop {
        let Some(newline) = rest.find('\n') else {
            return rest;
        };
        let line = rest
            .get(..newline)
            .unwrap_or_default()
            .trim_end_matches('\r');
        if line.contains(':') {
            saw_header = true;
            rest = rest.get(newline + 1..).unwrap_or_default();
            continue;
        }
        if saw_header && line.trim().is_empty() {
            return rest.get(newline + 1..).unwrap_or_default();
        }
        return rest;
    }
}

/// Encodes `contents` as a PEM block with 64-column base64 lines and a final newline, byte for
/// byte as Go's `pem.EncodeToMemory`.
pub fn encode(label: &str, contents: &[u8]) -> String {
    let encoded = STANDARD.encode(contents);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 64 + 2 * label.len() + 40);
    out.push_str(BEGIN);
    out.push_str(label);
    out.push_str(DASHES);
    out.push('\n');
    let mut remaining = encoded.as_str();
    while !remaining.is_empty() {
        let split = remaining.len().min(64);
        let (line, tail) = remaining.split_at(split);
        out.push_str(line);
        out.push('\n');
        remaining = tail;
    }
    out.push_str(END);
    out.push_str(label);
    out.push_str(DASHES);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_64_column_lines() {
        let data: Vec<u8> = (0..=255u8).collect();
        let text = encode("PUBLIC KEY", &data);
        assert!(text.lines().skip(1).all(|line| line.len() <= 64));
        assert_eq!(text.lines().nth(1).map(str::len), Some(64));
        let block = decode_first(text.as_bytes()).expect("decodes");
        assert_eq!(block.label, "PUBLIC KEY");
        assert_eq!(block.contents, data);
    }

    #[test]
    fn ignores_leading_text_and_headers() {
        let text = "garbage\n-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n\nAAEC\n-----END X-----\n";
        let block = decode_first(text.as_bytes()).expect("decodes");
        assert_eq!(block.label, "X");
        assert_eq!(block.contents, vec![0, 1, 2]);
    }

    #[test]
    fn accepts_crlf_line_endings() {
        let text = "-----BEGIN X-----\r\nAAEC\r\n-----END X-----\r\n";
        assert_eq!(
            decode_first(text.as_bytes()).map(|b| b.contents),
            Some(vec![0, 1, 2])
        );
    }

    #[test]
    fn rejects_truncated_and_garbled_blocks() {
        assert!(decode_first(b"").is_none());
        assert!(decode_first(b"-----BEGIN X-----\nAAEC\n").is_none());
        assert!(decode_first(b"-----BEGIN X-----\nAAEC\n-----END Y-----\n").is_none());
        assert!(decode_first(b"-----BEGIN X-----\n!!!!\n-----END X-----\n").is_none());
        assert!(decode_first(b"-----BEGIN X-----\nAAE\n-----END X-----\n").is_none());
    }

    #[test]
    fn skips_a_bad_block_and_finds_the_next() {
        let text =
            "-----BEGIN A-----\n!!\n-----END A-----\n-----BEGIN B-----\nAAEC\n-----END B-----\n";
        assert_eq!(
            decode_first(text.as_bytes()).map(|b| b.label),
            Some("B".to_owned())
        );
    }
}
