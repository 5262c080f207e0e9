//! The transparency log's side of RFC 6962 / RFC 9162 Merkle trees, for a log that appends
//! entries (the local Sigstore of `cosign sigstore serve`): leaf and node hashes, a tree that
//! keeps every complete subtree's hash so that roots and inclusion proofs of any earlier size
//! take O(log n) hashes, and signed checkpoints (signed notes) committing to a size and root.
//! What it makes, [`crate::trust::transparency_log`] verifies.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::keys::{KeyError, PrivateKey, SigningAlgorithm};

/// RFC 6962 2.1: the hash of a leaf, `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update([0u8])
        .chain_update(entry)
        .finalize()
        .into()
}

/// RFC 6962 2.1: the hash of an interior node, `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update([1u8])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// The hashes of a log's tree: level 0 holds the leaf hashes, level `k` the hash of each
/// complete, aligned subtree of `2^k` leaves.
#[derive(Debug, Clone, Default)]
pub struct MerkleTree {
    levels: Vec<Vec<[u8; 32]>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    #[error("tree size {size} is beyond the {leaves} leaves of the log")]
    SizeBeyondLog { size: u64, leaves: u64 },
    #[error("leaf {index} is not in a tree of size {size}")]
    IndexBeyondTree { index: u64, size: u64 },
}

impl MerkleTree {
    /// A tree of these leaf hashes, in order.
    pub fn from_leaf_hashes(hashes: impl IntoIterator<Item = [u8; 32]>) -> Self {
        let mut tree = Self::default();
        for hash in hashes {
            tree.push_leaf_hash(hash);
        }
        tree
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// The hash of the complete subtree of `2^level` leaves starting at leaf
    /// `index * 2^level`, if the tree has all of them (the nodes tlog tiles hold).
    pub fn node(&self, level: usize, index: u64) -> Option<[u8; 32]> {
        let index = usize::try_from(index).ok()?;
        self.levels.get(level)?.get(index).copied()
    }

    /// How many complete subtrees of `2^level` leaves the tree has.
    pub fn nodes_at(&self, level: usize) -> u64 {
        self.levels.get(level).map_or(0, |nodes| nodes.len() as u64)
    }

    /// Appends a leaf (its hash) and returns its index.
    pub fn push_leaf_hash(&mut self, hash: [u8; 32]) -> u64 {
        let index = self.size();
        let mut node = hash;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let Some(hashes) = self.levels.get_mut(level) else {
                break;
            };
            hashes.push(node);
            if hashes.len() % 2 == 1 {
                break;
            }
            // The level's last two nodes make a complete subtree one level up.
            let right = hashes.len() - 1;
            match (hashes.get(right - 1), hashes.get(right)) {
                (Some(left), Some(right)) => node = node_hash(left, right),
                _ => break,
            }
            level += 1;
        }
        index
    }

    /// The root hash of the tree's first `size` leaves (RFC 6962 MTH; SHA-256 of nothing for
    /// the empty tree).
    pub fn root(&self, size: u64) -> Result<[u8; 32], MerkleError> {
        self.check_size(size)?;
        if size == 0 {
            return Ok(Sha256::digest([]).into());
        }
        Ok(self.subtree(0, size))
    }

    /// The audit path of leaf `index` in the tree's first `size` leaves, from the leaf up
    /// (RFC 9162 2.1.3.1 `PATH`).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<[u8; 32]>, MerkleError> {
        self.check_size(size)?;
        if index >= size {
            return Err(MerkleError::IndexBeyondTree { index, size });
        }
        let mut path = Vec::new();
        self.path(index, 0, size, &mut path);
        Ok(path)
    }

    /// The proof that the tree's first `old` leaves are a prefix of its first `new` (RFC 9162
    /// 2.1.4.1 `PROOF`).
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<[u8; 32]>, MerkleError> {
        self.check_size(new)?;
        if old > new {
            return Err(MerkleError::SizeBeyondLog {
                size: old,
                leaves: new,
            });
        }
        let mut proof = Vec::new();
        if old > 0 && old < new {
            self.subproof(old, 0, new, true, &mut proof);
        }
        Ok(proof)
    }

    fn check_size(&self, size: u64) -> Result<(), MerkleError> {
        if size > self.size() {
            return Err(MerkleError::SizeBeyondLog {
                size,
                leaves: self.size(),
            });
        }
        Ok(())
    }

    /// MTH of leaves `start..end` (`start < end <= size`): a stored hash when the range is a
    /// complete aligned subtree, else split at the largest power of two below its length.
    fn subtree(&self, start: u64, end: u64) -> [u8; 32] {
        let length = end - start;
        if length.is_power_of_two() && start.is_multiple_of(length) {
            let level = length.trailing_zeros() as usize;
            if let Some(hash) = self
                .levels
                .get(level)
                .and_then(|hashes| hashes.get((start >> level) as usize))
            {
                return *hash;
            }
        }
        let split = largest_power_of_two_below(length);
        node_hash(
            &self.subtree(start, start + split),
            &self.subtree(start + split, end),
        )
    }

    fn path(&self, index: u64, start: u64, end: u64, path: &mut Vec<[u8; 32]>) {
        let length = end - start;
        if length <= 1 {
            return;
        }
        let split = largest_power_of_two_below(length);
        if index < start + split {
            self.path(index, start, start + split, path);
            path.push(self.subtree(start + split, end));
        } else {
            self.path(index, start + split, end, path);
            path.push(self.subtree(start, start + split));
        }
    }

    fn subproof(&self, old: u64, start: u64, end: u64, whole: bool, proof: &mut Vec<[u8; 32]>) {
        let length = end - start;
        if old == length {
            if !whole {
                proof.push(self.subtree(start, end));
            }
            return;
        }
        let split = largest_power_of_two_below(length);
        if old <= split {
            self.subproof(old, start, start + split, whole, proof);
            proof.push(self.subtree(start + split, end));
        } else {
            self.subproof(old - split, start + split, end, false, proof);
            proof.push(self.subtree(start, start + split));
        }
    }
}

/// The largest power of two strictly below `length` (`length >= 2`).
fn largest_power_of_two_below(length: u64) -> u64 {
    1 << (63 - (length - 1).leading_zeros())
}

/// RFC 9162 2.1.4.2: whether `proof` shows that the tree of `old` leaves with root `old_root`
/// is a prefix of the tree of `new` leaves with root `new_root`.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &[u8; 32],
    new_root: &[u8; 32],
    proof: &[[u8; 32]],
) -> bool {
    if old > new || proof.len() > 64 {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if old == 0 {
        return proof.is_empty();
    }
    if proof.is_empty() {
        return false;
    }
    let mut hashes: Vec<[u8; 32]> = proof.to_vec();
    if old.is_power_of_two() {
        hashes.insert(0, *old_root);
    }
    let Some((first, rest)) = hashes.split_first() else {
        return false;
    };
    let (mut node, mut last) = (old - 1, new - 1);
    while node % 2 == 1 {
        node >>= 1;
        last >>= 1;
    }
    let (mut old_hash, mut new_hash) = (*first, *first);
    for sibling in rest {
        if last == 0 {
            return false;
        }
        if node % 2 == 1 || node == last {
            old_hash = node_hash(sibling, &old_hash);
            new_hash = node_hash(sibling, &new_hash);
            if node % 2 == 0 {
                while node % 2 == 0 && node != 0 {
                    node >>= 1;
                    last >>= 1;
                }
            }
        } else {
            new_hash = node_hash(&new_hash, sibling);
        }
        node >>= 1;
        last >>= 1;
    }
    last == 0 && &old_hash == old_root && &new_hash == new_root
}

/// A checkpoint as a signed note (C2SP `signed-note`, as Rekor v2 and the tlog tiles logs
/// write them): `origin`, the size and the base64 root, then a blank line and one signature
/// line `— <name> base64(key hint ‖ signature)`, signed by `key` (Ed25519: pure; others: over
/// the note's SHA-256, as ECDSA notes are). `name` is the origin's first word, as verifiers
/// match it.
pub fn signed_checkpoint(
    origin: &str,
    size: u64,
    root: &[u8; 32],
    key: &PrivateKey,
    key_hint: [u8; 4],
) -> Result<String, KeyError> {
    let engine = base64::engine::general_purpose::STANDARD;
    let text = format!("{origin}\n{size}\n{}\n", engine.encode(root));
    let signature = match key {
        PrivateKey::Ed25519(_) => key.sign_with(SigningAlgorithm::Ed25519, text.as_bytes())?,
        _ => key.sign(text.as_bytes())?,
    };
    let mut signed = key_hint.to_vec();
    signed.extend_from_slice(&signature);
    let name = origin.split(" - ").next().unwrap_or(origin);
    Ok(format!(
        "{text}\n\u{2014} {name} {}\n",
        engine.encode(signed)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6962 MTH, straight from its definition.
    fn reference_root(leaves: &[[u8; 32]]) -> [u8; 32] {
        match leaves.len() {
            0 => Sha256::digest([]).into(),
            1 => leaves[0],
            length => {
                let split = largest_power_of_two_below(length as u64) as usize;
                node_hash(
                    &reference_root(&leaves[..split]),
                    &reference_root(&leaves[split..]),
                )
            }
        }
    }

    fn leaves(count: u64) -> Vec<[u8; 32]> {
        (0..count)
            .map(|index| leaf_hash(format!("entry {index}").as_bytes()))
            .collect()
    }

    #[test]
    fn roots_of_every_size_match_the_definition() {
        let all = leaves(70);
        let tree = MerkleTree::from_leaf_hashes(all.clone());
        for size in 0..=70u64 {
            assert_eq!(
                tree.root(size).expect("root"),
                reference_root(&all[..size as usize]),
                "size {size}"
            );
        }
        assert!(tree.root(71).is_err());
    }

    #[test]
    fn inclusion_proofs_of_every_leaf_verify_with_the_log_verifier() {
        let tree = MerkleTree::from_leaf_hashes(
            (0..40u64).map(|index| leaf_hash(format!("entry {index}").as_bytes())),
        );
        for size in 1..=40u64 {
            let root = tree.root(size).expect("root");
            for index in 0..size {
                let proof = crate::bundle::InclusionProof {
                    log_index: index as i64,
                    root_hash: root.to_vec(),
                    tree_size: size as i64,
                    hashes: tree
                        .inclusion_proof(index, size)
                        .expect("proof")
                        .iter()
                        .map(|hash| hash.to_vec())
                        .collect(),
                    checkpoint: None,
                };
                let body = format!("entry {index}");
                crate::trust::transparency_log::verify_inclusion_proof(body.as_bytes(), &proof)
                    .unwrap_or_else(|error| panic!("leaf {index} of {size}: {error}"));
                let other = format!("entry {}", index + 1);
                assert!(crate::trust::transparency_log::verify_inclusion_proof(
                    other.as_bytes(),
                    &proof
                )
                .is_err());
            }
        }
        assert!(tree.inclusion_proof(3, 3).is_err());
    }

    #[test]
    fn consistency_proofs_between_every_pair_of_sizes_verify() {
        let tree = MerkleTree::from_leaf_hashes(leaves(33));
        for new in 0..=33u64 {
            for old in 0..=new {
                let proof = tree.consistency_proof(old, new).expect("proof");
                let (old_root, new_root) = (
                    tree.root(old).expect("old root"),
                    tree.root(new).expect("new root"),
                );
                assert!(
                    verify_consistency(old, new, &old_root, &new_root, &proof),
                    "{old} -> {new}"
                );
                if old > 0 && old < new {
                    let wrong = leaf_hash(b"another history");
                    assert!(!verify_consistency(old, new, &wrong, &new_root, &proof));
                }
            }
        }
    }

    /// A proof carrying the checkpoint of a tree of `size` leaves, signed by `key` under
    /// `origin` with the key hint of `log_id`.
    fn checkpointed(
        origin: &str,
        size: u64,
        key: &PrivateKey,
        log_id: &[u8],
    ) -> crate::bundle::InclusionProof {
        let root = MerkleTree::from_leaf_hashes(leaves(size))
            .root(size)
            .expect("root");
        let mut hint = [0u8; 4];
        hint.copy_from_slice(&log_id[..4]);
        let note = signed_checkpoint(origin, size, &root, key, hint).expect("signs");
        crate::bundle::InclusionProof {
            log_index: 0,
            root_hash: root.to_vec(),
            tree_size: size as i64,
            hashes: Vec::new(),
            checkpoint: Some(crate::bundle::Checkpoint { envelope: note }),
        }
    }

    #[test]
    fn a_signed_checkpoint_verifies_with_the_log_verifier() {
        let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
        let log = crate::trust::trusted_root::TransparencyLogInstance::from_key(
            "http://127.0.0.1",
            key.public_key(),
        )
        .expect("log");
        let proof = checkpointed("cosign-rs.test/log", 5, &key, &log.log_id);
        crate::trust::transparency_log::verify_checkpoint(&proof, &log)
            .expect("the checkpoint verifies");
        let mut other = proof.clone();
        other.tree_size = 6;
        assert!(crate::trust::transparency_log::verify_checkpoint(&other, &log).is_err());
    }

    #[test]
    fn an_ed25519_checkpoint_verifies_as_rekor_v2_logs_are_verified() {
        let key = PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]));
        let origin = "log.cosign-rs.test";
        let log_id = crate::trust::trusted_root::TransparencyLogInstance::checkpoint_key_id(
            origin,
            &key.public_key(),
        )
        .expect("an Ed25519 key has a checkpoint key id");
        let log = crate::trust::trusted_root::TransparencyLogInstance {
            base_url: "http://127.0.0.1".to_owned(),
            public_key: key.public_key(),
            log_id: log_id.clone(),
            valid_from: i64::MIN,
            valid_until: None,
        };
        let proof = checkpointed(origin, 9, &key, &log_id);
        crate::trust::transparency_log::verify_checkpoint(&proof, &log)
            .expect("the checkpoint verifies");
    }
}
