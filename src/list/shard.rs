//! Splitting a list into N deterministic shards, e.g. to send from several machines.
//!
//! Member `email` belongs to shard `k` of `n` (1-based) when the [`AddressKey`] of its
//! normalised address, the first 8 bytes of its SHA-256 read as a big-endian integer, leaves
//! `k - 1` when divided by `n`. The split depends on the address alone (not on its row or the
//! list's order), is the same on every platform and in every version, and every member lands
//! in exactly one shard.

use std::fmt;

use super::address::AddressKey;

/// Whether `email` is in shard `k` of `n` (1-based). False when `k` is not in `1..=n`.
pub fn in_shard(email: &str, k: u32, n: u32) -> bool {
    if n == 0 || k == 0 || k > n {
        return false;
    }
    AddressKey::of(email).0 % u64::from(n) == u64::from(k - 1)
}

/// A shard `K/N` as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: u32,
    pub n: u32,
}

impl Shard {
    /// Parse `K/N` with `1 <= K <= N`.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let err = || format!("invalid shard {s:?}: expected K/N with 1 <= K <= N, e.g. 2/4");
        let (k, n) = s.trim().split_once('/').ok_or_else(err)?;
        let k: u32 = k.trim().parse().map_err(|_| err())?;
        let n: u32 = n.trim().parse().map_err(|_| err())?;
        if k == 0 || n == 0 || k > n {
            return Err(err());
        }
        Ok(Shard { k, n })
    }

    pub fn contains(&self, email: &str) -> bool {
        in_shard(email, self.k, self.n)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_member_is_in_exactly_one_shard() {
        let mut sizes = [0u32; 4];
        for i in 0..4000 {
            let email = format!("member{i}@example.org");
            let hits: Vec<u32> = (1..=4).filter(|&k| in_shard(&email, k, 4)).collect();
            assert_eq!(hits.len(), 1, "{email}");
            sizes[(hits[0] - 1) as usize] += 1;
        }
        // roughly even: each shard within 20% of 1000
        for s in sizes {
            assert!((800..1200).contains(&s), "{sizes:?}");
        }
    }

    #[test]
    fn the_split_ignores_case_and_is_pinned() {
        assert_eq!(
            in_shard("Ann@Example.org", 1, 3),
            in_shard("ann@example.org", 1, 3)
        );
        // 0x438c4c7afe600cdf % 3 == 0, so ann@example.org is in shard 1 of 3
        assert_eq!(0x438c4c7afe600cdf_u64 % 3, 0);
        assert!(in_shard("ann@example.org", 1, 3));
        assert!(!in_shard("ann@example.org", 3, 3));
        assert!(in_shard("ann@example.org", 1, 1));
        assert!(!in_shard("ann@example.org", 0, 3));
        assert!(!in_shard("ann@example.org", 4, 3));
    }

    #[test]
    fn parses_k_of_n() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { k: 2, n: 4 }));
        assert_eq!(
            Shard::parse(" 1 / 1 ").map(|s| s.to_string()),
            Ok("1/1".into())
        );
        for bad in ["0/4", "5/4", "2", "a/b", "2/0", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
