//! A compact hash map from [`AddressKey`] to a small value, for sets of a million members.
//!
//! Keys are already uniformly distributed (SHA-256 prefixes), so the table indexes by the key's
//! low bits and probes linearly, storing keys and values in two flat arrays: 8 bytes per slot
//! plus the value's size, at most 75% full. A million `u32` values take about 25 MB, against
//! about 36 MB for a `HashMap<u64, u32>`.

use super::address::AddressKey;

/// Maps address keys to `V`.
#[derive(Debug, Clone)]
pub struct KeyMap<V: Copy> {
    /// `EMPTY` marks a free slot; the key whose value is `EMPTY` lives in `zero`.
    keys: Vec<u64>,
    values: Vec<V>,
    zero: Option<V>,
    len: usize,
}

const EMPTY: u64 = 0;
const MIN_SLOTS: usize = 16;

impl<V: Copy + Default> Default for KeyMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Copy + Default> KeyMap<V> {
    pub fn new() -> Self {
        KeyMap {
            keys: Vec::new(),
            values: Vec::new(),
            zero: None,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The slot holding `key`, or the free slot where it would go.
    fn slot(&self, key: u64) -> usize {
        let mask = self.keys.len() - 1;
        let mut i = (key as usize) & mask;
        loop {
            let k = self.keys[i];
            if k == key || k == EMPTY {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    pub fn get(&self, key: AddressKey) -> Option<V> {
        if key.0 == EMPTY {
            return self.zero;
        }
        if self.keys.is_empty() {
            return None;
        }
        let i = self.slot(key.0);
        (self.keys[i] == key.0).then(|| self.values[i])
    }

    pub fn contains(&self, key: AddressKey) -> bool {
        self.get(key).is_some()
    }

    /// Insert `value` unless `key` is present; returns the value already there, if any.
    pub fn insert_if_absent(&mut self, key: AddressKey, value: V) -> Option<V> {
        if let Some(old) = self.get(key) {
            return Some(old);
        }
        self.set(key, value);
        None
    }

    /// Insert or overwrite.
    pub fn set(&mut self, key: AddressKey, value: V) {
        if key.0 == EMPTY {
            if self.zero.is_none() {
                self.len += 1;
            }
            self.zero = Some(value);
            return;
        }
        if (self.len + 1) * 4 > self.keys.len() * 3 {
            self.grow();
        }
        let i = self.slot(key.0);
        if self.keys[i] == EMPTY {
            self.keys[i] = key.0;
            self.len += 1;
        }
        self.values[i] = value;
    }

    fn grow(&mut self) {
        let slots = (self.keys.len() * 2).max(MIN_SLOTS);
        let old_keys = std::mem::replace(&mut self.keys, vec![EMPTY; slots]);
        let old_values = std::mem::replace(&mut self.values, vec![V::default(); slots]);
        for (k, v) in old_keys.into_iter().zip(old_values) {
            if k != EMPTY {
                let i = self.slot(k);
                self.keys[i] = k;
                self.values[i] = v;
            }
        }
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (AddressKey, V)> + '_ {
        self.zero.map(|v| (AddressKey(EMPTY), v)).into_iter().chain(
            self.keys
                .iter()
                .zip(&self.values)
                .filter(|(k, _)| **k != EMPTY)
                .map(|(k, v)| (AddressKey(*k), *v)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn behaves_like_a_hash_map() {
        let mut ours = KeyMap::<u32>::new();
        let mut std = HashMap::new();
        // keys with colliding low bits, key zero, and real address keys
        let mut keys: Vec<u64> = (0..2000u64).map(|i| i << 32).collect();
        keys.extend((0..2000).map(|i| AddressKey::of(&format!("m{i}@example.org")).0));
        for (n, k) in keys.iter().enumerate() {
            let n = n as u32;
            assert_eq!(
                ours.insert_if_absent(AddressKey(*k), n),
                std.get(k).copied(),
                "{k}"
            );
            std.entry(*k).or_insert(n);
        }
        // inserting again returns the first value
        for k in &keys {
            assert_eq!(
                ours.insert_if_absent(AddressKey(*k), 99),
                std.get(k).copied()
            );
        }
        assert_eq!(ours.len(), std.len());
        for k in &keys {
            assert_eq!(ours.get(AddressKey(*k)), std.get(k).copied());
        }
        assert_eq!(ours.get(AddressKey(12345)), None);
        ours.set(AddressKey(0), 7);
        assert_eq!(ours.get(AddressKey(0)), Some(7));
        assert_eq!(ours.len(), std.len());
        let mut all: Vec<_> = ours.iter().map(|(k, _)| k.0).collect();
        all.sort_unstable();
        let mut expected: Vec<_> = std.keys().copied().collect();
        expected.sort_unstable();
        assert_eq!(all, expected);
    }
}
