//! Mutation strategies shared by the property tests: byte-level edits, structure-aware edits of
//! JSON documents (with raw tokens serde_json's `Value` cannot hold: numbers past 64 bits,
//! duplicate keys), of DER (re-encoded with consistent lengths, or with a length forged), and
//! helpers to check that a parse stays within time and memory.

use std::time::{Duration, Instant};

use base64::Engine as _;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;
use serde_json::Value;

/// A proptest configuration with `cases` cases that writes no regression files into the source
/// tree (a failing case is printed; keep it as a test of its own).
/// `PROPTEST_CASES`, when set, overrides `cases` (to fuzz longer than the test suite does).
pub fn config(cases: u32) -> Config {
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() {
        Config::default().cases
    } else {
        cases
    };
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Time and memory.

/// The process's peak virtual memory (`VmPeak`), in KiB, where `/proc` tells it.
fn vm_peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmPeak:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// How much more virtual memory one parse may reserve. Far above what any parse of a capped
/// input needs, far below what honouring a forged 2^32 (or larger) length or count would take;
/// loose enough that the allocator arenas other test threads create meanwhile do not count.
const MEMORY_GROWTH_LIMIT_KIB: u64 = 2 * 1024 * 1024;

/// Runs `parse` and checks it neither took longer than `limit` (a debug build on a loaded
/// machine: keep it generous) nor made the process's peak virtual memory grow by gigabytes.
pub fn bounded<T>(what: &str, limit: Duration, parse: impl FnOnce() -> T) -> T {
    let peak_before = vm_peak_kib();
    let started = Instant::now();
    let result = parse();
    let elapsed = started.elapsed();
    assert!(elapsed <= limit, "{what}: took {elapsed:?}, over {limit:?}");
    if let (Some(before), Some(after)) = (peak_before, vm_peak_kib()) {
        assert!(
            after.saturating_sub(before) <= MEMORY_GROWTH_LIMIT_KIB,
            "{what}: peak virtual memory grew from {before} KiB to {after} KiB"
        );
    }
    result
}

// ---------------------------------------------------------------------------------------------
// Bytes.

/// Tokens that parsers tend to mishandle: numbers at and past integer limits, JSON and PEM
/// punctuation, DER long-form lengths, invalid UTF-8.
pub const INTERESTING: &[&[u8]] = &[
    b"18446744073709551615",
    b"18446744073709551616",
    b"9223372036854775807",
    b"9223372036854775808",
    b"-9223372036854775808",
    b"-9223372036854775809",
    b"2147483648",
    b"4294967296",
    b"-1",
    b"0",
    b"1e999",
    b"-0",
    b"0.5",
    b"NaN",
    b"null",
    b"true",
    b"\"",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\n",
    b"\r\n",
    b"\n\n",
    b"=",
    b"==",
    b"-----",
    b"-----BEGIN ",
    b"-----END ",
    b"\xe2\x80\x94 ",
    b"\x00",
    b"\xff",
    b"\xc3\x28",
    b"\xf0\x9f\x92",
    b"\x80",
    b"\x81\xff",
    b"\x84\xff\xff\xff\xff",
    b"\x88\xff\xff\xff\xff\xff\xff\xff\xff",
    b"\x89\x01\x00\x00\x00\x00\x00\x00\x00\x00",
    b"\xff\xff",
];

/// One edit of a byte string. Positions are [`Index`]es, resolved against the length the
/// string has when the edit applies.
#[derive(Debug, Clone)]
pub enum ByteOp {
    FlipBit(Index, u8),
    Set(Index, u8),
    Truncate(Index),
    Delete(Index, usize),
    Insert(Index, Vec<u8>),
    InsertToken(Index, Index),
    OverwriteToken(Index, Index),
    Duplicate(Index, usize, Index),
}

pub fn byte_op() -> impl Strategy<Value = ByteOp> {
    prop_oneof![
        3 => (any::<Index>(), 0u8..8).prop_map(|(at, bit)| ByteOp::FlipBit(at, bit)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| ByteOp::Set(at, byte)),
        1 => any::<Index>().prop_map(ByteOp::Truncate),
        2 => (any::<Index>(), 1usize..64).prop_map(|(at, count)| ByteOp::Delete(at, count)),
        1 => (any::<Index>(), proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| ByteOp::Insert(at, bytes)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(at, token)| ByteOp::InsertToken(at, token)),
        2 => (any::<Index>(), any::<Index>())
            .prop_map(|(at, token)| ByteOp::OverwriteToken(at, token)),
        1 => (any::<Index>(), 1usize..256, any::<Index>())
            .prop_map(|(from, count, to)| ByteOp::Duplicate(from, count, to)),
    ]
}

pub fn byte_ops(max: usize) -> impl Strategy<Value = Vec<ByteOp>> {
    proptest::collection::vec(byte_op(), 1..=max)
}

/// `Index::index` for a possibly empty length: `len` itself (an insertion point) when empty.
fn at(index: &Index, len: usize) -> usize {
    if len == 0 {
        0
    } else {
        index.index(len)
    }
}

pub fn apply_byte_op(data: &mut Vec<u8>, op: &ByteOp) {
    let len = data.len();
    match op {
        ByteOp::FlipBit(index, bit) => {
            if len > 0 {
                data[index.index(len)] ^= 1 << bit;
            }
        }
        ByteOp::Set(index, byte) => {
            if len > 0 {
                data[index.index(len)] = *byte;
            }
        }
        ByteOp::Truncate(index) => data.truncate(at(index, len)),
        ByteOp::Delete(index, count) => {
            let start = at(index, len);
            let end = (start + count).min(len);
            data.drain(start..end);
        }
        ByteOp::Insert(index, bytes) => {
            let position = at(index, len + 1);
            data.splice(position..position, bytes.iter().copied());
        }
        ByteOp::InsertToken(index, token) => {
            let position = at(index, len + 1);
            let token = INTERESTING[token.index(INTERESTING.len())];
            data.splice(position..position, token.iter().copied());
        }
        ByteOp::OverwriteToken(index, token) => {
            let position = at(index, len + 1);
            let token = INTERESTING[token.index(INTERESTING.len())];
            let end = (position + token.len()).min(len);
            data.splice(position..end, token.iter().copied());
        }
        ByteOp::Duplicate(from, count, to) => {
            if len > 0 {
                let start = from.index(len);
                let end = (start + count).min(len);
                let copy = data[start..end].to_vec();
                let position = at(to, len + 1);
                data.splice(position..position, copy);
            }
        }
    }
}

pub fn apply_byte_ops(mut data: Vec<u8>, ops: &[ByteOp]) -> Vec<u8> {
    for op in ops {
        apply_byte_op(&mut data, op);
    }
    data
}

/// A valid sample with 1 to `max` byte edits.
pub fn mutated_bytes(sample: Vec<u8>, max: usize) -> impl Strategy<Value = Vec<u8>> {
    byte_ops(max).prop_map(move |ops| apply_byte_ops(sample.clone(), &ops))
}

// ---------------------------------------------------------------------------------------------
// DER.

/// A DER element, parsed far enough to edit it and encode it again.
#[derive(Debug, Clone)]
enum Der {
    Primitive {
        tag: u8,
        content: Vec<u8>,
    },
    Constructed {
        tag: u8,
        children: Vec<Der>,
    },
    /// An OCTET STRING or BIT STRING whose content is itself DER (extensions, SPKI keys,
    /// CMS content): edited as a tree too. `prefix` is the BIT STRING's unused-bits byte.
    Encapsulated {
        tag: u8,
        prefix: Vec<u8>,
        children: Vec<Der>,
    },
    /// Bytes written as they are (a forged header, or what did not parse).
    Raw(Vec<u8>),
}

fn parse_der_sequence(mut input: &[u8], depth: usize) -> Option<Vec<Der>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (element, rest) = parse_der_element(input, depth)?;
        out.push(element);
        input = rest;
    }
    Some(out)
}

fn parse_der_element(input: &[u8], depth: usize) -> Option<(Der, &[u8])> {
    if depth > 32 {
        return None;
    }
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None; // multi-byte tags: not in the structures we mutate
    }
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, after) = rest.split_at(count);
        rest = after;
        bytes
            .iter()
            .fold(0usize, |value, byte| (value << 8) | usize::from(*byte))
    };
    if rest.len() < length {
        return None;
    }
    let (content, rest) = rest.split_at(length);
    let element = if tag & 0x20 != 0 {
        Der::Constructed {
            tag,
            children: parse_der_sequence(content, depth + 1)?,
        }
    } else if tag == 0x04 && !content.is_empty() {
        match parse_der_sequence(content, depth + 1) {
            Some(children) => Der::Encapsulated {
                tag,
                prefix: Vec::new(),
                children,
            },
            None => Der::Primitive {
                tag,
                content: content.to_vec(),
            },
        }
    } else if tag == 0x03 && content.len() > 1 && content[0] == 0 {
        match parse_der_sequence(&content[1..], depth + 1) {
            Some(children) => Der::Encapsulated {
                tag,
                prefix: vec![0],
                children,
            },
            None => Der::Primitive {
                tag,
                content: content.to_vec(),
            },
        }
    } else {
        Der::Primitive {
            tag,
            content: content.to_vec(),
        }
    };
    Some((element, rest))
}

fn encode_length(length: usize, out: &mut Vec<u8>) {
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes = (length as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|byte| **byte == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn encode_der(element: &Der, out: &mut Vec<u8>) {
    let (tag, content) = match element {
        Der::Raw(bytes) => {
            out.extend_from_slice(bytes);
            return;
        }
        Der::Primitive { tag, content } => (*tag, content.clone()),
        Der::Constructed { tag, children } => {
            let mut content = Vec::new();
            for child in children {
                encode_der(child, &mut content);
            }
            (*tag, content)
        }
        Der::Encapsulated {
            tag,
            prefix,
            children,
        } => {
            let mut content = prefix.clone();
            for child in children {
                encode_der(child, &mut content);
            }
            (*tag, content)
        }
    };
    out.push(tag);
    encode_length(content.len(), out);
    out.extend_from_slice(&content);
}

/// Every element in pre-order, as paths of child positions.
fn der_paths(elements: &[Der], prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    for (position, element) in elements.iter().enumerate() {
        prefix.push(position);
        out.push(prefix.clone());
        if let Der::Constructed { children, .. } | Der::Encapsulated { children, .. } = element {
            der_paths(children, prefix, out);
        }
        prefix.pop();
    }
}

fn der_siblings_mut<'a>(elements: &'a mut Vec<Der>, path: &[usize]) -> Option<&'a mut Vec<Der>> {
    let (_, parents) = path.split_last()?;
    let mut siblings = elements;
    for position in parents {
        siblings = match siblings.get_mut(*position)? {
            Der::Constructed { children, .. } | Der::Encapsulated { children, .. } => children,
            _ => return None,
        };
    }
    Some(siblings)
}

/// A length to forge in an element's header.
#[derive(Debug, Clone, Copy)]
pub enum ForgedLength {
    /// 0x84 FF FF FF FF: 4 GiB.
    Huge32,
    /// 0x88 FF x 8: 16 EiB.
    Huge64,
    /// 0x89 and nine bytes: wider than any integer type.
    Wider,
    /// 0x80: BER's indefinite length, not DER.
    Indefinite,
    /// One more than the content.
    OneMore,
    /// One less than the content.
    OneLess,
    /// The right length in a non-minimal long form (0x84 00 00 00 len).
    NonMinimal,
}

fn forged_length() -> impl Strategy<Value = ForgedLength> {
    prop_oneof![
        Just(ForgedLength::Huge32),
        Just(ForgedLength::Huge64),
        Just(ForgedLength::Wider),
        Just(ForgedLength::Indefinite),
        Just(ForgedLength::OneMore),
        Just(ForgedLength::OneLess),
        Just(ForgedLength::NonMinimal),
    ]
}

/// One structure-aware edit of a DER document.
#[derive(Debug, Clone)]
pub enum DerOp {
    /// Forge the length in an element's header (its content stays).
    Length(Index, ForgedLength),
    /// Replace an element's tag.
    Tag(Index, u8),
    /// Drop an element (its parents' lengths follow).
    Remove(Index),
    /// Repeat an element among its siblings (up to hundreds of times: SET OF, SEQUENCE OF).
    Repeat(Index, usize),
    /// Edit a primitive element's content bytes (lengths follow).
    Content(Index, Vec<ByteOp>),
    /// Replace a primitive's content with a long run of one byte (huge INTEGERs, OIDs).
    Inflate(Index, u8, usize),
    /// Empty an element's content.
    Empty(Index),
}

pub fn der_op() -> impl Strategy<Value = DerOp> {
    prop_oneof![
        3 => (any::<Index>(), forged_length()).prop_map(|(at, length)| DerOp::Length(at, length)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(at, tag)| DerOp::Tag(at, tag)),
        2 => any::<Index>().prop_map(DerOp::Remove),
        1 => (any::<Index>(), prop_oneof![1usize..4, 30usize..40, 200usize..300])
            .prop_map(|(at, count)| DerOp::Repeat(at, count)),
        4 => (any::<Index>(), byte_ops(3)).prop_map(|(at, ops)| DerOp::Content(at, ops)),
        1 => (any::<Index>(), any::<u8>(), prop_oneof![1usize..40, 500usize..5000])
            .prop_map(|(at, byte, count)| DerOp::Inflate(at, byte, count)),
        1 => any::<Index>().prop_map(DerOp::Empty),
    ]
}

fn apply_der_op(elements: &mut Vec<Der>, op: &DerOp) {
    let mut paths = Vec::new();
    der_paths(elements, &mut Vec::new(), &mut paths);
    if paths.is_empty() {
        return;
    }
    let index = match op {
        DerOp::Length(index, _)
        | DerOp::Tag(index, _)
        | DerOp::Remove(index)
        | DerOp::Repeat(index, _)
        | DerOp::Content(index, _)
        | DerOp::Inflate(index, _, _)
        | DerOp::Empty(index) => index,
    };
    let path = &paths[index.index(paths.len())];
    let position = *path.last().expect("paths are never empty");
    let Some(siblings) = der_siblings_mut(elements, path) else {
        return;
    };
    match op {
        DerOp::Length(_, forged) => {
            let mut encoded = Vec::new();
            encode_der(&siblings[position], &mut encoded);
            let Some((tag, content)) = split_header(&encoded) else {
                return;
            };
            let mut forged_bytes = vec![tag];
            match forged {
                ForgedLength::Huge32 => forged_bytes.extend([0x84, 0xff, 0xff, 0xff, 0xff]),
                ForgedLength::Huge64 => {
                    forged_bytes.push(0x88);
                    forged_bytes.extend([0xff; 8]);
                }
                ForgedLength::Wider => {
                    forged_bytes.push(0x89);
                    forged_bytes.extend([0x01, 0, 0, 0, 0, 0, 0, 0, 0]);
                }
                ForgedLength::Indefinite => forged_bytes.push(0x80),
                ForgedLength::OneMore => encode_length(content.len() + 1, &mut forged_bytes),
                ForgedLength::OneLess => {
                    encode_length(content.len().saturating_sub(1), &mut forged_bytes);
                }
                ForgedLength::NonMinimal => {
                    forged_bytes.push(0x84);
                    forged_bytes.extend((content.len() as u32).to_be_bytes());
                }
            }
            forged_bytes.extend_from_slice(content);
            siblings[position] = Der::Raw(forged_bytes);
        }
        DerOp::Tag(_, new_tag) => match &mut siblings[position] {
            Der::Primitive { tag, .. }
            | Der::Constructed { tag, .. }
            | Der::Encapsulated { tag, .. } => *tag = *new_tag,
            Der::Raw(bytes) => {
                if let Some(first) = bytes.first_mut() {
                    *first = *new_tag;
                }
            }
        },
        DerOp::Remove(_) => {
            siblings.remove(position);
        }
        DerOp::Repeat(_, count) => {
            let copy = siblings[position].clone();
            for _ in 0..*count {
                siblings.insert(position, copy.clone());
            }
        }
        DerOp::Content(_, ops) => match &mut siblings[position] {
            Der::Primitive { content, .. } => {
                *content = apply_byte_ops(std::mem::take(content), ops);
            }
            other => {
                let mut encoded = Vec::new();
                encode_der(other, &mut encoded);
                *other = Der::Raw(apply_byte_ops(encoded, ops));
            }
        },
        DerOp::Inflate(_, byte, count) => {
            let tag = match &siblings[position] {
                Der::Primitive { tag, .. }
                | Der::Constructed { tag, .. }
                | Der::Encapsulated { tag, .. } => *tag & !0x20,
                Der::Raw(bytes) => bytes.first().copied().unwrap_or(0x02),
            };
            siblings[position] = Der::Primitive {
                tag,
                content: vec![*byte; *count],
            };
        }
        DerOp::Empty(_) => match &mut siblings[position] {
            Der::Primitive { content, .. } => content.clear(),
            Der::Constructed { children, .. } | Der::Encapsulated { children, .. } => {
                children.clear();
            }
            Der::Raw(bytes) => bytes.truncate(2),
        },
    }
}

/// The tag and the content of an encoded element.
fn split_header(encoded: &[u8]) -> Option<(u8, &[u8])> {
    let (&tag, rest) = encoded.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let skip = if first < 0x80 {
        0
    } else {
        usize::from(first & 0x7f)
    };
    Some((tag, rest.get(skip..)?))
}

/// Applies DER edits to `sample` (which must be DER: if it does not parse, byte edits only).
pub fn apply_der_ops(sample: &[u8], ops: &[DerOp]) -> Vec<u8> {
    let Some(mut elements) = parse_der_sequence(sample, 0) else {
        return sample.to_vec();
    };
    for op in ops {
        apply_der_op(&mut elements, op);
    }
    let mut out = Vec::new();
    for element in &elements {
        encode_der(element, &mut out);
    }
    out
}

/// A valid DER sample with structure-aware edits, and now and then byte edits on top.
pub fn mutated_der(sample: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(der_op(), 1..4),
        proptest::collection::vec(byte_op(), 0..2),
    )
        .prop_map(move |(der_ops, byte_ops)| {
            apply_byte_ops(apply_der_ops(&sample, &der_ops), &byte_ops)
        })
}

/// Whether the DER mutator reads `sample` (so that its edits are structure-aware).
pub fn der_parses(sample: &[u8]) -> bool {
    parse_der_sequence(sample, 0).is_some_and(|elements| !elements.is_empty())
}

// ---------------------------------------------------------------------------------------------
// JSON.

/// A string value starting with this is written raw (a number serde_json cannot hold...).
const RAW: &str = "\u{1}raw:";
/// An object key starting with this is written without it (a duplicate of another key).
const DUPLICATE: &str = "\u{1}dup:";

fn raw(text: &str) -> Value {
    Value::String(format!("{RAW}{text}"))
}

/// Values to put where a field was.
pub fn json_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(raw("18446744073709551615")),
        Just(raw("18446744073709551616")),
        Just(raw("9223372036854775808")),
        Just(raw("-9223372036854775809")),
        Just(raw("1e999")),
        Just(raw("-1e999")),
        Just(raw("123456789012345678901234567890")),
        Just(Value::from(u64::MAX)),
        Just(Value::from(i64::MIN)),
        Just(Value::from(i64::MAX)),
        Just(Value::from(2_147_483_648u64)),
        Just(Value::from(-1)),
        Just(Value::from(0)),
        Just(Value::from(1.5)),
        Just(Value::from("18446744073709551615")),
        Just(Value::from("-9223372036854775808")),
        Just(Value::from("9223372036854775808")),
        Just(Value::from("-1")),
        Just(Value::from("")),
        Just(Value::from("=")),
        Just(Value::from("\u{0}\u{fffd}\u{10ffff}")),
        Just(Value::from("A".repeat(4096))),
        Just(Value::Null),
        Just(Value::Bool(true)),
        Just(Value::Array(Vec::new())),
        Just(Value::Object(serde_json::Map::new())),
        any::<i64>().prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
        proptest::collection::vec(any::<u8>(), 0..64)
            .prop_map(|bytes| Value::from(base64::engine::general_purpose::STANDARD.encode(bytes))),
    ]
}

/// One structure-aware edit of a JSON document.
#[derive(Debug, Clone)]
pub enum JsonEdit {
    Replace(Index, Value),
    Remove(Index),
    /// Repeat a node among its siblings (an array's items; past every cap).
    Repeat(Index, usize),
    /// Give an object a second member with the key of an existing one.
    DuplicateKey(Index, Value),
    /// Edit a string's bytes.
    String(Index, Vec<ByteOp>),
    /// Wrap a node in arrays, deeper than serde_json's recursion limit at times.
    Nest(Index, usize),
}

pub fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        4 => (any::<Index>(), json_value()).prop_map(|(at, value)| JsonEdit::Replace(at, value)),
        2 => any::<Index>().prop_map(JsonEdit::Remove),
        1 => (any::<Index>(), prop_oneof![1usize..4, 30usize..40, 1000usize..1100])
            .prop_map(|(at, count)| JsonEdit::Repeat(at, count)),
        1 => (any::<Index>(), json_value()).prop_map(|(at, value)| JsonEdit::DuplicateKey(at, value)),
        3 => (any::<Index>(), byte_ops(3)).prop_map(|(at, ops)| JsonEdit::String(at, ops)),
        1 => (any::<Index>(), prop_oneof![1usize..8, 120usize..140, 2000usize..3000])
            .prop_map(|(at, depth)| JsonEdit::Nest(at, depth)),
    ]
}

/// A JSON edit, or an edit inside a base64 string (bytes, DER, or JSON: certificates,
/// timestamps, log entry bodies).
#[derive(Debug, Clone)]
pub enum JsonOp {
    Edit(JsonEdit),
    Base64Bytes(Index, Vec<ByteOp>),
    Base64Der(Index, Vec<DerOp>),
    Base64Json(Index, Vec<JsonEdit>),
}

pub fn json_op() -> impl Strategy<Value = JsonOp> {
    prop_oneof![
        6 => json_edit().prop_map(JsonOp::Edit),
        1 => (any::<Index>(), byte_ops(3)).prop_map(|(at, ops)| JsonOp::Base64Bytes(at, ops)),
        2 => (any::<Index>(), proptest::collection::vec(der_op(), 1..3))
            .prop_map(|(at, ops)| JsonOp::Base64Der(at, ops)),
        1 => (any::<Index>(), proptest::collection::vec(json_edit(), 1..3))
            .prop_map(|(at, ops)| JsonOp::Base64Json(at, ops)),
    ]
}

fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn unescape_pointer_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Every node in pre-order, as JSON pointers (the root is "").
fn json_pointers(value: &Value, prefix: &str, out: &mut Vec<String>) {
    out.push(prefix.to_owned());
    match value {
        Value::Array(items) => {
            for (position, item) in items.iter().enumerate() {
                json_pointers(item, &format!("{prefix}/{position}"), out);
            }
        }
        Value::Object(members) => {
            for (key, item) in members {
                json_pointers(
                    item,
                    &format!("{prefix}/{}", escape_pointer_token(key)),
                    out,
                );
            }
        }
        _ => {}
    }
}

fn pick_pointer(value: &Value, index: &Index) -> String {
    let mut pointers = Vec::new();
    json_pointers(value, "", &mut pointers);
    pointers.swap_remove(index.index(pointers.len()))
}

fn split_pointer(pointer: &str) -> Option<(&str, String)> {
    let (parent, last) = pointer.rsplit_once('/')?;
    Some((parent, unescape_pointer_token(last)))
}

fn apply_json_edit(document: &mut Value, edit: &JsonEdit) {
    match edit {
        JsonEdit::Replace(index, replacement) => {
            let pointer = pick_pointer(document, index);
            if let Some(node) = document.pointer_mut(&pointer) {
                *node = replacement.clone();
            }
        }
        JsonEdit::Remove(index) => {
            let pointer = pick_pointer(document, index);
            let Some((parent, last)) = split_pointer(&pointer) else {
                return;
            };
            match document.pointer_mut(parent) {
                Some(Value::Object(members)) => {
                    members.remove(&last);
                }
                Some(Value::Array(items)) => {
                    if let Ok(position) = last.parse::<usize>() {
                        if position < items.len() {
                            items.remove(position);
                        }
                    }
                }
                _ => {}
            }
        }
        JsonEdit::Repeat(index, count) => {
            let pointer = pick_pointer(document, index);
            let Some((parent, last)) = split_pointer(&pointer) else {
                return;
            };
            match document.pointer_mut(parent) {
                Some(Value::Array(items)) => {
                    if let Some(item) = last.parse::<usize>().ok().and_then(|p| items.get(p)) {
                        let item = item.clone();
                        items.extend(std::iter::repeat_n(item, *count));
                    }
                }
                Some(Value::Object(members)) => {
                    // An object member becomes a list of copies of itself.
                    if let Some(item) = members.get_mut(&last) {
                        *item = Value::Array(vec![item.clone(); *count]);
                    }
                }
                _ => {}
            }
        }
        JsonEdit::DuplicateKey(index, value) => {
            let pointer = pick_pointer(document, index);
            let Some((parent, last)) = split_pointer(&pointer) else {
                return;
            };
            if let Some(Value::Object(members)) = document.pointer_mut(parent) {
                members.insert(format!("{DUPLICATE}{last}"), value.clone());
            }
        }
        JsonEdit::String(index, ops) => {
            let pointer = pick_pointer(document, index);
            if let Some(Value::String(text)) = document.pointer_mut(&pointer) {
                let edited = apply_byte_ops(std::mem::take(text).into_bytes(), ops);
                *text = String::from_utf8_lossy(&edited).into_owned();
            }
        }
        JsonEdit::Nest(index, depth) => {
            let pointer = pick_pointer(document, index);
            if let Some(node) = document.pointer_mut(&pointer) {
                // Written as a raw token: a `Value` thousands of levels deep would overflow
                // the test's own stack (cloning and dropping it recurse).
                let inner = write_json(node);
                *node = raw(&format!(
                    "{}{inner}{}",
                    "[".repeat(*depth),
                    "]".repeat(*depth)
                ));
            }
        }
    }
}

/// The base64 strings of a document, decoded: (pointer, bytes).
fn base64_strings(document: &Value) -> Vec<(String, Vec<u8>)> {
    let mut pointers = Vec::new();
    json_pointers(document, "", &mut pointers);
    pointers
        .into_iter()
        .filter_map(|pointer| {
            let text = document.pointer(&pointer)?.as_str()?;
            if text.len() < 8 {
                return None;
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .ok()?;
            Some((pointer, bytes))
        })
        .collect()
}

fn apply_json_op(document: &mut Value, op: &JsonOp) {
    let edit_base64 = |document: &mut Value, index: &Index, edit: &dyn Fn(Vec<u8>) -> Vec<u8>| {
        let strings = base64_strings(document);
        if strings.is_empty() {
            return;
        }
        let (pointer, bytes) = &strings[index.index(strings.len())];
        if let Some(node) = document.pointer_mut(pointer) {
            *node = Value::String(
                base64::engine::general_purpose::STANDARD.encode(edit(bytes.clone())),
            );
        }
    };
    match op {
        JsonOp::Edit(edit) => apply_json_edit(document, edit),
        JsonOp::Base64Bytes(index, ops) => {
            edit_base64(document, index, &|bytes| apply_byte_ops(bytes, ops));
        }
        JsonOp::Base64Der(index, ops) => {
            edit_base64(document, index, &|bytes| apply_der_ops(&bytes, ops));
        }
        JsonOp::Base64Json(index, edits) => {
            edit_base64(
                document,
                index,
                &|bytes| match serde_json::from_slice::<Value>(&bytes) {
                    Ok(mut inner) => {
                        for edit in edits {
                            apply_json_edit(&mut inner, edit);
                        }
                        write_json(&inner).into_bytes()
                    }
                    Err(_) => bytes,
                },
            );
        }
    }
}

/// Writes a document, raw tokens and duplicate keys included.
pub fn write_json(value: &Value) -> String {
    let mut out = String::new();
    write_json_into(value, &mut out);
    out
}

fn write_json_into(value: &Value, out: &mut String) {
    match value {
        Value::String(text) => match text.strip_prefix(RAW) {
            Some(raw) => out.push_str(raw),
            None => out.push_str(&serde_json::to_string(text).expect("strings serialize")),
        },
        Value::Array(items) => {
            out.push('[');
            for (position, item) in items.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                write_json_into(item, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (position, (key, item)) in members.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                let key = key.strip_prefix(DUPLICATE).unwrap_or(key);
                out.push_str(&serde_json::to_string(key).expect("strings serialize"));
                out.push(':');
                write_json_into(item, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

pub fn apply_json_ops(sample: &Value, ops: &[JsonOp]) -> Vec<u8> {
    let mut document = sample.clone();
    for op in ops {
        apply_json_op(&mut document, op);
    }
    write_json(&document).into_bytes()
}

/// A valid JSON sample with 1 to 4 structure-aware edits, and now and then a byte edit of the
/// text on top.
pub fn mutated_json(sample: &[u8]) -> impl Strategy<Value = Vec<u8>> {
    let document: Value = serde_json::from_slice(sample).expect("the sample is JSON");
    (
        proptest::collection::vec(json_op(), 1..5),
        proptest::collection::vec(byte_op(), 0..2),
    )
        .prop_map(move |(ops, byte_ops)| apply_byte_ops(apply_json_ops(&document, &ops), &byte_ops))
}

/// Arbitrary bytes, sometimes close to JSON: arbitrary bytes alone rarely get past the first
/// character of a JSON parser.
pub fn json_ish_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        proptest::collection::vec(
            prop_oneof![
                Just(b"{".to_vec()),
                Just(b"}".to_vec()),
                Just(b"[".to_vec()),
                Just(b"]".to_vec()),
                Just(b",".to_vec()),
                Just(b":".to_vec()),
                Just(b"\"".to_vec()),
                "[a-zA-Z_]{1,12}".prop_map(|key| format!("\"{key}\"").into_bytes()),
                any::<usize>().prop_map(|index| INTERESTING[index % INTERESTING.len()].to_vec()),
            ],
            0..64
        )
        .prop_map(|pieces| pieces.concat()),
    ]
}

/// The fixtures, with the bytes parsers are handed.
pub mod fixtures {
    pub const MANAGED_KEY_BUNDLE: &[u8] = include_bytes!("fixtures/managed-key.bundle.json");
    pub const MANAGED_KEY_PUB: &[u8] = include_bytes!("fixtures/managed-key.pub");
    pub const ARTIFACT: &[u8] = include_bytes!("fixtures/artifact.txt");
    pub const KEYLESS_V0_3_BUNDLE: &[u8] = include_bytes!("fixtures/keyless-v0.3.bundle.json");
    pub const KEYLESS_V0_1_BUNDLE: &[u8] = include_bytes!("fixtures/keyless-v0.1.bundle.json");
    pub const DSSE_BUNDLE: &[u8] = include_bytes!("fixtures/dsse-v0.3.bundle.json");
    pub const REKOR2_BUNDLE: &[u8] = include_bytes!("fixtures/rekor2.bundle.json");
    pub const REKOR2_TRUSTED_ROOT: &[u8] = include_bytes!("fixtures/rekor2.trusted_root.json");
    pub const BUNDLES: [&[u8]; 5] = [
        MANAGED_KEY_BUNDLE,
        KEYLESS_V0_3_BUNDLE,
        KEYLESS_V0_1_BUNDLE,
        DSSE_BUNDLE,
        REKOR2_BUNDLE,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_der_mutator_reads_and_rewrites_a_certificate_unchanged() {
        let bundle: Value = serde_json::from_slice(fixtures::KEYLESS_V0_3_BUNDLE).unwrap();
        let der = base64::engine::general_purpose::STANDARD
            .decode(
                bundle["verificationMaterial"]["certificate"]["rawBytes"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
        assert!(der_parses(&der));
        assert_eq!(apply_der_ops(&der, &[]), der);
    }

    #[test]
    fn the_json_writer_writes_raw_tokens_and_duplicate_keys() {
        let mut members = serde_json::Map::new();
        members.insert("size".to_owned(), raw("18446744073709551616"));
        members.insert(format!("{DUPLICATE}size"), Value::from(1));
        let written = write_json(&Value::Object(members));
        assert_eq!(
            written.len(),
            r#"{"size":18446744073709551616,"size":1}"#.len()
        );
        assert!(
            written.contains(r#""size":18446744073709551616"#),
            "{written}"
        );
        assert!(written.contains(r#""size":1"#), "{written}");
    }
}
