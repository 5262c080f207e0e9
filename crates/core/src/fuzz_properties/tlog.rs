//! Transparency log entries as `transparency_log` reads them: canonicalized bodies, inclusion
//! proofs, signed-note checkpoints (Rekor v1's ECDSA notes, Rekor v2's Ed25519 notes), through
//! `verify_entries` and `verify_entries_observed` on real bundles.

use std::sync::LazyLock;
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::Index;

use super::mutate::{apply_byte_ops, bounded, byte_ops, config, fixtures, mutated_json, ByteOp};
use crate::bundle::Bundle;
use crate::digest::Digest;
use crate::keys::PublicKey;
use crate::trust::certificate::Certificate;
use crate::trust::transparency_log::{
    verify_entries, verify_entries_observed, Signer, TlogError, PROOF_HASH_LIMIT,
};
use crate::trust::trusted_root::{TrustedRoot, PUBLIC_GOOD};
use crate::verify::bundle::leaf_certificate;

/// After every fixture's integrated time.
const NOW: i64 = 1_795_000_000;

struct Samples {
    public_good: TrustedRoot,
    managed: Bundle,
    managed_key: PublicKey,
    artifact: Digest,
    rekor2: Bundle,
    rekor2_root: TrustedRoot,
    rekor2_leaf: Certificate,
    /// The rekor2 fixture's RFC 3161 time: what its entry's log must have been valid at.
    rekor2_time: i64,
}

static SAMPLES: LazyLock<Samples> = LazyLock::new(|| {
    let rekor2 = Bundle::parse(fixtures::REKOR2_BUNDLE).expect("bundle");
    let rekor2_root = TrustedRoot::parse(fixtures::REKOR2_TRUSTED_ROOT).expect("root");
    let stamp = &rekor2
        .verification_material
        .timestamp_verification_data
        .as_ref()
        .expect("timestamps")
        .rfc3161_timestamps[0]
        .signed_timestamp;
    let signature = &rekor2
        .message_signature
        .as_ref()
        .expect("message")
        .signature;
    let rekor2_time =
        crate::trust::timestamp::verify(stamp, signature, &rekor2_root).expect("stamp");
    Samples {
        public_good: TrustedRoot::parse(PUBLIC_GOOD).expect("root"),
        managed: Bundle::parse(fixtures::MANAGED_KEY_BUNDLE).expect("bundle"),
        managed_key: PublicKey::from_pem(fixtures::MANAGED_KEY_PUB).expect("key"),
        artifact: Digest::sha256(fixtures::ARTIFACT),
        rekor2_leaf: leaf_certificate(&rekor2).expect("leaf").expect("parses"),
        rekor2,
        rekor2_root,
        rekor2_time,
    }
});

fn verify_managed(bundle: &Bundle) -> Result<Vec<i64>, TlogError> {
    let samples = &*SAMPLES;
    bounded("verify_entries", Duration::from_secs(5), || {
        verify_entries(
            bundle,
            &samples.public_good,
            &samples.artifact,
            &samples.managed_key,
            NOW,
            1,
        )
    })
}

fn verify_rekor2(bundle: &Bundle) -> Result<Vec<i64>, TlogError> {
    let samples = &*SAMPLES;
    bounded("verify_entries_observed", Duration::from_secs(5), || {
        verify_entries_observed(
            bundle,
            &samples.rekor2_root,
            &samples.artifact,
            Signer::Certificate(&samples.rekor2_leaf),
            NOW,
            1,
            &[samples.rekor2_time],
        )
    })
}

/// A line to put in a signed note.
fn note_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("18446744073709551616".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("-1".to_owned()),
        Just("+649584076".to_owned()),
        Just("AAAA".to_owned()),
        Just("\u{2014} ".to_owned()),
        Just("\u{2014} rekor.sigstore.dev wNI9ag==".to_owned()),
        Just("\u{2014} rekor.sigstore.dev ".to_owned()),
        Just("\u{2014}  ".to_owned()),
        Just("\u{2014} x =".to_owned()),
        Just(" - ".to_owned()),
        "[ -~]{0,40}",
        "\u{2014} [a-z. -]{0,30} [A-Za-z0-9+/=]{0,120}",
    ]
}

/// One edit of a signed note.
#[derive(Debug, Clone)]
enum NoteOp {
    ReplaceLine(Index, String),
    InsertLine(Index, String),
    RemoveLine(Index),
    /// Repeat a line (a signature line past the 16 read).
    RepeatLine(Index, usize),
    Bytes(Vec<ByteOp>),
}

fn note_op() -> impl Strategy<Value = NoteOp> {
    prop_oneof![
        3 => (any::<Index>(), note_line()).prop_map(|(at, line)| NoteOp::ReplaceLine(at, line)),
        2 => (any::<Index>(), note_line()).prop_map(|(at, line)| NoteOp::InsertLine(at, line)),
        2 => any::<Index>().prop_map(NoteOp::RemoveLine),
        1 => (any::<Index>(), prop_oneof![1usize..4, 15usize..40, 1000usize..1100])
            .prop_map(|(at, count)| NoteOp::RepeatLine(at, count)),
        3 => byte_ops(3).prop_map(NoteOp::Bytes),
    ]
}

fn apply_note_ops(note: &str, ops: &[NoteOp]) -> String {
    let mut note = note.to_owned();
    for op in ops {
        let mut lines: Vec<String> = note.split('\n').map(str::to_owned).collect();
        match op {
            NoteOp::ReplaceLine(at, line) => {
                let at = at.index(lines.len());
                lines[at].clone_from(line);
            }
            NoteOp::InsertLine(at, line) => lines.insert(at.index(lines.len() + 1), line.clone()),
            NoteOp::RemoveLine(at) => {
                lines.remove(at.index(lines.len()));
            }
            NoteOp::RepeatLine(at, count) => {
                let at = at.index(lines.len());
                let line = lines[at].clone();
                for _ in 0..*count {
                    lines.insert(at, line.clone());
                }
            }
            NoteOp::Bytes(ops) => {
                let edited = apply_byte_ops(note.into_bytes(), ops);
                note = String::from_utf8_lossy(&edited).into_owned();
                continue;
            }
        }
        note = lines.join("\n");
    }
    note
}

fn note_ops() -> impl Strategy<Value = Vec<NoteOp>> {
    proptest::collection::vec(note_op(), 1..5)
}

fn with_checkpoint(bundle: &Bundle, ops: &[NoteOp]) -> Bundle {
    let mut bundle = bundle.clone();
    let checkpoint = bundle.verification_material.tlog_entries[0]
        .inclusion_proof
        .as_mut()
        .expect("proof")
        .checkpoint
        .as_mut()
        .expect("checkpoint");
    checkpoint.envelope = apply_note_ops(&checkpoint.envelope, ops);
    bundle
}

/// Values for a proof's index and tree size: extremes, and neighbours of the real ones.
fn proof_number(real: i64) -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(real),
        Just(real.saturating_add(1)),
        Just(real.saturating_sub(1)),
        Just(0),
        Just(1),
        Just(-1),
        Just(i64::MAX),
        Just(i64::MAX - 1),
        Just(i64::MIN),
        Just(1 << 32),
        any::<i64>(),
    ]
}

/// Edits of a proof's hash list: count (up to past the cap of 64), lengths, bytes.
#[derive(Debug, Clone)]
enum HashesOp {
    Keep,
    Truncate(Index),
    Repeat(Index, usize),
    Resize(Index, usize),
    Flip(Index, Index),
}

fn hashes_op() -> impl Strategy<Value = HashesOp> {
    prop_oneof![
        Just(HashesOp::Keep),
        any::<Index>().prop_map(HashesOp::Truncate),
        (
            any::<Index>(),
            prop_oneof![1usize..4, 60usize..70, 1000usize..1100]
        )
            .prop_map(|(at, count)| HashesOp::Repeat(at, count)),
        (
            any::<Index>(),
            prop_oneof![Just(0usize), Just(31), Just(33), 0usize..100]
        )
            .prop_map(|(at, length)| HashesOp::Resize(at, length)),
        (any::<Index>(), any::<Index>()).prop_map(|(at, byte)| HashesOp::Flip(at, byte)),
    ]
}

fn apply_hashes_op(hashes: &mut Vec<Vec<u8>>, op: &HashesOp) {
    if hashes.is_empty() {
        return;
    }
    match op {
        HashesOp::Keep => {}
        HashesOp::Truncate(at) => hashes.truncate(at.index(hashes.len())),
        HashesOp::Repeat(at, count) => {
            let hash = hashes[at.index(hashes.len())].clone();
            hashes.extend(std::iter::repeat_n(hash, *count));
        }
        HashesOp::Resize(at, length) => {
            let at = at.index(hashes.len());
            hashes[at].resize(*length, 0xab);
        }
        HashesOp::Flip(at, byte) => {
            let at = at.index(hashes.len());
            let hash = &mut hashes[at];
            if !hash.is_empty() {
                let byte = byte.index(hash.len());
                hash[byte] ^= 1;
            }
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Rekor v1 checkpoints (ECDSA signed notes) with line- and byte-level edits: sizes past
    /// i64, empty origins, signature lines malformed or repeated past the 16 read, hints and
    /// signatures of any length. Never a panic.
    #[test]
    fn rekor_v1_checkpoints_survive_mutation(ops in note_ops()) {
        let _ = verify_managed(&with_checkpoint(&SAMPLES.managed, &ops));
    }

    /// Inclusion proofs with extreme indexes and sizes (negative, i64::MAX, index past size)
    /// and hash lists of any count and length: never a panic, and more than 64 hashes never
    /// verify.
    #[test]
    fn inclusion_proofs_survive_mutation(
        index in proof_number(649_584_075),
        size in proof_number(649_584_076),
        hashes_ops in proptest::collection::vec(hashes_op(), 1..3),
    ) {
        let mut bundle = SAMPLES.managed.clone();
        let proof = bundle.verification_material.tlog_entries[0].inclusion_proof.as_mut().expect("proof");
        proof.log_index = index;
        proof.tree_size = size;
        for op in &hashes_ops {
            apply_hashes_op(&mut proof.hashes, op);
        }
        let too_many = proof.hashes.len() > PROOF_HASH_LIMIT;
        let result = verify_managed(&bundle);
        prop_assert!(!(too_many && result.is_ok()), "{} hashes verified", PROOF_HASH_LIMIT);
    }

    /// Whole managed-key bundles, JSON-mutated (canonicalized bodies edited as JSON inside
    /// their base64, signed entry timestamps, log ids, integrated times at the limits),
    /// parsed then checked against the public-good root.
    #[test]
    fn rekor_v1_entries_survive_mutated_bundles(input in mutated_json(fixtures::MANAGED_KEY_BUNDLE)) {
        if let Ok(bundle) = Bundle::parse(&input) {
            let _ = verify_managed(&bundle);
        }
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// Rekor v2 checkpoints (Ed25519 signed notes, with the log's key id as hint).
    #[test]
    fn rekor_v2_checkpoints_survive_mutation(ops in note_ops()) {
        let _ = verify_rekor2(&with_checkpoint(&SAMPLES.rekor2, &ops));
    }

    /// Whole Rekor v2 bundles, JSON-mutated (`hashedrekord` v0.0.2 bodies, verifiers).
    #[test]
    fn rekor_v2_entries_survive_mutated_bundles(input in mutated_json(fixtures::REKOR2_BUNDLE)) {
        if let Ok(bundle) = Bundle::parse(&input) {
            let _ = verify_rekor2(&bundle);
        }
    }
}

#[test]
fn the_samples_verify() {
    // The mutations start from entries that verify: each edit is checked by the code that
    // would have accepted the original.
    assert_eq!(verify_managed(&SAMPLES.managed), Ok(vec![1_766_077_479]));
    assert_eq!(verify_rekor2(&SAMPLES.rekor2), Ok(Vec::new()));
    assert_eq!(
        verify_managed(&with_checkpoint(&SAMPLES.managed, &[])),
        Ok(vec![1_766_077_479])
    );
}

#[test]
fn only_the_first_16_signature_lines_of_a_checkpoint_are_read() {
    // Lines that look like signatures but carry another key hint, before the log's own.
    for (junk, verifies) in [(0, true), (15, true), (16, false), (100_000, false)] {
        let mut bundle = SAMPLES.managed.clone();
        let checkpoint = bundle.verification_material.tlog_entries[0]
            .inclusion_proof
            .as_mut()
            .expect("proof")
            .checkpoint
            .as_mut()
            .expect("checkpoint");
        let (text, signatures) = checkpoint.envelope.split_once("\n\n").expect("a note");
        let junk_lines = "\u{2014} rekor.sigstore.dev AAAAAAAA\n".repeat(junk);
        checkpoint.envelope = format!("{text}\n\n{junk_lines}{signatures}");
        let result = verify_managed(&bundle);
        assert_eq!(result.is_ok(), verifies, "{junk} lines first: {result:?}");
    }
}

#[test]
fn a_log_entry_naming_a_huge_pem_key_is_checked_in_bounded_time() {
    use base64::Engine as _;
    let mut bundle = SAMPLES.managed.clone();
    let entry = &mut bundle.verification_material.tlog_entries[0];
    let mut body: serde_json::Value =
        serde_json::from_slice(&entry.canonicalized_body).expect("JSON");
    let pem = super::keys::unclosed_begin_lines(512 * 1024);
    body["spec"]["signature"]["publicKey"]["content"] =
        base64::engine::general_purpose::STANDARD.encode(pem).into();
    entry.canonicalized_body = serde_json::to_vec(&body).expect("JSON");
    // `verify_managed` allows 5 s.
    assert_eq!(
        verify_managed(&bundle),
        Err(TlogError::BodyMismatch { what: "public key" })
    );
}
