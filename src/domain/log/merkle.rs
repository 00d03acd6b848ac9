//! RFC 9162, section 2.1: the Merkle Tree Hash of a log, and the inclusion and consistency proofs
//! between its trees, planned over stored subtree hashes.
//!
//! Every range the RFC's recursions visit starts at a multiple of the largest power of two not
//! larger than its length, so it is a run of complete, aligned subtrees of falling sizes. The log
//! stores the hash of every complete subtree as a [`Node`], so a proof is a handful of ranges, each
//! a handful of stored nodes: about log2(n) reads, never a walk over the entries.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// `SHA-256(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(entry);
    hasher.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The hash of the empty tree: `SHA-256()`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// A complete subtree: the `2^level` leaves starting at `index * 2^level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    pub level: u8,
    pub index: u64,
}

impl Node {
    pub fn new(level: u8, index: u64) -> Self {
        Self { level, index }
    }
}

/// The leaves `lo..hi` of a tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub lo: u64,
    pub hi: u64,
}

impl Range {
    fn new(lo: u64, hi: u64) -> Self {
        Self { lo, hi }
    }

    /// The complete subtrees the range is made of, largest (leftmost) first. Its hash is
    /// `node(s0, node(s1, ... node(s_{k-1}, s_k)))`.
    pub fn nodes(self) -> Vec<Node> {
        let mut nodes = Vec::new();
        let mut lo = self.lo;
        while lo < self.hi {
            let level = floor_log2(self.hi - lo);
            nodes.push(Node::new(level, lo >> level));
            lo += 1u64 << level;
        }
        nodes
    }

    /// Folds the hashes of [`Range::nodes`] into the range's Merkle Tree Hash.
    pub fn hash(self, lookup: &impl Fn(Node) -> Option<Hash>) -> Option<Hash> {
        let mut hashes = self.nodes().into_iter().rev();
        let mut acc = lookup(hashes.next()?)?;
        for node in hashes {
            acc = node_hash(&lookup(node)?, &acc);
        }
        Some(acc)
    }
}

fn floor_log2(n: u64) -> u8 {
    // `n > 0` here; 63 - leading zeros is at most 63.
    (63 - n.leading_zeros()) as u8
}

/// The largest power of two smaller than `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    1u64 << floor_log2(n - 1)
}

/// The ranges whose hashes form the audit path of leaf `index` in the tree of `size` leaves,
/// leaf side first (RFC 9162, 2.1.3.1). `index < size`.
pub fn inclusion_ranges(index: u64, size: u64) -> Vec<Range> {
    let mut path = Vec::new();
    let (mut lo, mut hi, mut m) = (0, size, index);
    while hi - lo > 1 {
        let k = split(hi - lo);
        if m < k {
            path.push(Range::new(lo + k, hi));
            hi = lo + k;
        } else {
            path.push(Range::new(lo, lo + k));
            lo += k;
            m -= k;
        }
    }
    path.reverse();
    path
}

/// The ranges whose hashes form the consistency proof from the tree of `old` leaves to the tree
/// of `new` leaves (RFC 9162, 2.1.4.1). `0 < old <= new`; equal sizes need no hashes.
pub fn consistency_ranges(old: u64, new: u64) -> Vec<Range> {
    let mut proof = Vec::new();
    let (mut lo, mut hi, mut m, mut whole) = (0, new, old, true);
    while m != hi - lo {
        let k = split(hi - lo);
        if m <= k {
            proof.push(Range::new(lo + k, hi));
            hi = lo + k;
        } else {
            proof.push(Range::new(lo, lo + k));
            lo += k;
            m -= k;
            whole = false;
        }
    }
    if !whole {
        proof.push(Range::new(lo, hi));
    }
    proof.reverse();
    proof
}

/// The stored nodes of a tree of `size` leaves that an append needs: its right edge.
pub fn frontier(size: u64) -> Vec<Node> {
    Range::new(0, size).nodes()
}

/// The root of the tree of `size` leaves.
pub fn root(size: u64, lookup: &impl Fn(Node) -> Option<Hash>) -> Option<Hash> {
    if size == 0 {
        return Some(empty_root());
    }
    Range::new(0, size).hash(lookup)
}

/// Appends leaves to a tree of `size` leaves whose [`frontier`] is given, returning every node
/// that becomes complete (leaves included), in order.
pub fn append(size: u64, frontier: &[(Node, Hash)], leaves: &[Hash]) -> Vec<(Node, Hash)> {
    // The right edge as a stack, largest subtree at the bottom.
    let mut edge: Vec<(Node, Hash)> = frontier.to_vec();
    let mut added = Vec::new();
    for (offset, leaf) in leaves.iter().enumerate() {
        let mut current = (Node::new(0, size + offset as u64), *leaf);
        added.push(current);
        while let Some(&(left, left_hash)) = edge.last() {
            if left.level != current.0.level {
                break;
            }
            edge.pop();
            current = (
                Node::new(left.level + 1, left.index >> 1),
                node_hash(&left_hash, &current.1),
            );
            added.push(current);
        }
        edge.push(current);
    }
    added
}

/// Checks an audit path (RFC 9162, 2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, path: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// Checks a consistency proof (RFC 9162, 2.1.4.2).
pub fn verify_consistency(old: u64, new: u64, old_root: &Hash, new_root: &Hash, proof: &[Hash]) -> bool {
    if old == 0 || old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if old.is_power_of_two() {
        path.insert(0, *old_root);
    }
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == *old_root && sr == *new_root && s == 0
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn h(text: &str) -> Hash {
        let bytes = hex::decode(text).unwrap();
        bytes.try_into().unwrap()
    }

    /// The leaves of the CT and Trillian test suites.
    fn ct_leaves() -> Vec<Vec<u8>> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|leaf| hex::decode(leaf).unwrap())
        .collect()
    }

    /// RFC 9162's MTH, written straight from its recursive definition.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    struct Tree {
        size: u64,
        nodes: HashMap<Node, Hash>,
    }

    impl Tree {
        fn of(leaves: &[Hash]) -> Self {
            let mut tree = Tree {
                size: 0,
                nodes: HashMap::new(),
            };
            // One leaf at a time and then in uneven batches must build the same nodes.
            for chunk in leaves.chunks(3) {
                tree.append(chunk);
            }
            tree
        }

        fn append(&mut self, leaves: &[Hash]) {
            let edge: Vec<(Node, Hash)> = frontier(self.size).into_iter().map(|n| (n, self.nodes[&n])).collect();
            for (node, hash) in append(self.size, &edge, leaves) {
                assert!(self.nodes.insert(node, hash).is_none(), "{node:?} written twice");
            }
            self.size += leaves.len() as u64;
        }

        fn hashes(&self, ranges: &[Range]) -> Vec<Hash> {
            ranges
                .iter()
                .map(|r| r.hash(&|n| self.nodes.get(&n).copied()).unwrap())
                .collect()
        }
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(format!("entry {i}").as_bytes())).collect()
    }

    #[test]
    fn the_ct_tree_of_eight_leaves_has_the_known_roots() {
        let known = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let hashes: Vec<Hash> = ct_leaves().iter().map(|l| leaf_hash(l)).collect();
        let tree = Tree::of(&hashes);
        for (size, want) in known.iter().enumerate() {
            let size = size as u64 + 1;
            assert_eq!(
                root(size, &|n| tree.nodes.get(&n).copied()),
                Some(h(want)),
                "size {size}"
            );
        }
        assert_eq!(
            root(0, &|_| None),
            Some(h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
        );
    }

    #[test]
    fn the_ct_proofs_have_the_known_hashes() {
        let hashes: Vec<Hash> = ct_leaves().iter().map(|l| leaf_hash(l)).collect();
        let tree = Tree::of(&hashes);
        let inclusion = [
            (
                0,
                8,
                vec![
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                8,
                vec![
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                3,
                vec!["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
            (
                1,
                5,
                vec![
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
            (0, 1, vec![]),
        ];
        for (index, size, want) in inclusion {
            let want: Vec<Hash> = want.into_iter().map(h).collect();
            assert_eq!(
                tree.hashes(&inclusion_ranges(index, size)),
                want,
                "inclusion {index} in {size}"
            );
        }
        let consistency = [
            (
                1,
                8,
                vec![
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                vec![
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                vec![
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
            (
                6,
                7,
                vec![
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (1, 1, vec![]),
        ];
        for (old, new, want) in consistency {
            let want: Vec<Hash> = want.into_iter().map(h).collect();
            assert_eq!(
                tree.hashes(&consistency_ranges(old, new)),
                want,
                "consistency {old} to {new}"
            );
        }
    }

    #[test]
    fn roots_and_proofs_agree_with_the_rfc_at_every_size_to_64() {
        let all = leaves(64);
        let tree = Tree::of(&all);
        let lookup = |n| tree.nodes.get(&n).copied();
        for size in 1..=64u64 {
            let want = mth(&all[..size as usize]);
            assert_eq!(root(size, &lookup), Some(want), "root {size}");
            for index in 0..size {
                let path = tree.hashes(&inclusion_ranges(index, size));
                assert!(
                    verify_inclusion(index, size, &all[index as usize], &path, &want),
                    "{index} in {size}"
                );
                assert!(!verify_inclusion(
                    index,
                    size,
                    &all[(index as usize + 1) % 64],
                    &path,
                    &want
                ));
                if size > 1 {
                    assert!(!verify_inclusion(
                        (index + 1) % size,
                        size,
                        &all[index as usize],
                        &path,
                        &want
                    ));
                }
            }
            for old in 1..=size {
                let proof = tree.hashes(&consistency_ranges(old, size));
                let old_root = mth(&all[..old as usize]);
                assert!(
                    verify_consistency(old, size, &old_root, &want, &proof),
                    "{old} to {size}"
                );
                if old < size {
                    let wrong = mth(&all[1..old as usize + 1]);
                    assert!(
                        !verify_consistency(old, size, &wrong, &want, &proof),
                        "forged {old} to {size}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_tree_grown_in_batches_stores_every_complete_subtree_once() {
        let all = leaves(300);
        let tree = Tree::of(&all);
        // 300 leaves: 300 + 150 + 75 + 37 + 18 + 9 + 4 + 2 + 1 complete subtrees.
        assert_eq!(tree.nodes.len(), 300 + 150 + 75 + 37 + 18 + 9 + 4 + 2 + 1);
        assert_eq!(tree.nodes[&Node::new(8, 0)], mth(&all[..256]));
    }

    #[test]
    fn a_proof_reads_about_log2_n_nodes() {
        let size = 1_000_000u64;
        let reads: usize = inclusion_ranges(123_456, size).iter().map(|r| r.nodes().len()).sum();
        assert!(reads <= 2 * 20, "{reads} reads");
        let reads: usize = consistency_ranges(654_321, size).iter().map(|r| r.nodes().len()).sum();
        assert!(reads <= 2 * 20, "{reads} reads");
    }
}
