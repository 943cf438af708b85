use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::BuildHasher;

use super::error::{ConfigError, ConfigErrors, Problem};

/// Conduit's raw config: a flat map of dotted keys to string values, ordered by key.
///
/// [`sanitized`](ConfigMap::sanitized) builds one as Conduit's `Sanitize` does;
/// [`Config::from_config`](super::Config::from_config) starts with it.
//
// Layout: every key and value lives in one text buffer; `slots` holds their byte ranges,
// sorted by key, keys unique. Building a map costs two allocations instead of two per
// entry, and lookups are binary searches that mostly compare one integer (the key's first
// 8 bytes). Replaced or removed text stays in the buffer until it outweighs the live text.
#[derive(Clone, Default)]
pub struct ConfigMap {
    text: String,
    slots: Vec<Slot>,
    garbage: usize,
}

/// The byte ranges of one entry's key and value in [`ConfigMap::text`].
#[derive(Debug, Clone, Copy)]
struct Slot {
    key_start: usize,
    key_end: usize,
    value_start: usize,
    value_end: usize,
    /// The key's first 8 bytes, big-endian, zero-padded: most comparisons stop here.
    prefix: u64,
}

impl Slot {
    /// Orders this slot's key against `key`, whose [`prefix`] is `key_prefix`.
    #[inline]
    fn cmp_key(&self, text: &str, key: &[u8], key_prefix: u64) -> Ordering {
        match self.prefix.cmp(&key_prefix) {
            // Equal prefixes of keys at most 8 bytes long: the shorter key is a prefix of
            // the other, so their lengths decide.
            Ordering::Equal if key.len() <= 8 && self.key_end - self.key_start <= 8 => {
                (self.key_end - self.key_start).cmp(&key.len())
            }
            Ordering::Equal => text.as_bytes().get(self.key_start..self.key_end).unwrap_or_default().cmp(key),
            order => order,
        }
    }

    /// Orders two slots by key.
    #[inline]
    fn cmp(&self, other: &Slot, text: &str) -> Ordering {
        let other_key = text.as_bytes().get(other.key_start..other.key_end).unwrap_or_default();
        self.cmp_key(text, other_key, other.prefix)
    }
}

/// A key's first 8 bytes, big-endian, zero-padded (orders as the keys do, ties aside).
#[inline]
fn prefix(key: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    let n = key.len().min(8);
    bytes[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(bytes)
}

impl ConfigMap {
    /// An empty map.
    pub fn new() -> Self {
        ConfigMap::default()
    }

    /// The key and value of the `index`-th entry (in key order).
    #[inline]
    pub(crate) fn entry(&self, index: usize) -> (&str, &str) {
        match self.slots.get(index) {
            Some(slot) => (
                self.text.get(slot.key_start..slot.key_end).unwrap_or_default(),
                self.text.get(slot.value_start..slot.value_end).unwrap_or_default(),
            ),
            None => ("", ""),
        }
    }

    /// `Ok(index)` of the key whose bytes are `key`, or `Err(index)` where it would be
    /// inserted.
    #[inline]
    pub(crate) fn find(&self, key: &[u8]) -> Result<usize, usize> {
        let key_prefix = prefix(key);
        self.slots.binary_search_by(|slot| slot.cmp_key(&self.text, key, key_prefix))
    }

    /// The index range of the keys that start with `start`.
    pub(crate) fn range_with_prefix(&self, start: &[u8]) -> std::ops::Range<usize> {
        let from = self.find(start).unwrap_or_else(|at| at);
        let len = (from..self.slots.len()).take_while(|&i| self.entry(i).0.as_bytes().starts_with(start)).count();
        from..from + len
    }

    /// Appends a key and a value to the text, giving their slot (not yet in `slots`).
    #[inline]
    fn push_text(&mut self, key: &str, value: &str) -> Slot {
        let key_start = self.text.len();
        self.text.push_str(key);
        let key_end = self.text.len();
        self.text.push_str(value);
        Slot { key_start, key_end, value_start: key_end, value_end: self.text.len(), prefix: prefix(key.as_bytes()) }
    }

    /// Forgets `bytes` bytes of text no slot uses any more, rewriting the text without
    /// them once they are more than half of it.
    fn add_garbage(&mut self, bytes: usize) {
        self.garbage += bytes;
        if self.garbage > self.text.len() / 2 {
            *self = self.iter().collect();
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.find(key.as_bytes()).ok().map(|index| self.entry(index).1)
    }

    /// Sets `key` to `value` (no trimming), returning the old value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let (key, value) = (key.into(), value.into());
        let slot = self.push_text(&key, &value);
        match self.find(key.as_bytes()) {
            Ok(index) => {
                let old = self.entry(index).1.to_owned();
                self.slots[index] = slot;
                self.add_garbage(key.len() + old.len());
                Some(old)
            }
            Err(index) => {
                self.slots.insert(index, slot);
                None
            }
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let index = self.find(key.as_bytes()).ok()?;
        let old = self.entry(index).1.to_owned();
        let slot = self.slots.remove(index);
        self.add_garbage(slot.value_end - slot.key_start);
        Some(old)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key.as_bytes()).is_ok()
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// `(key, value)` pairs ordered by key.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + DoubleEndedIterator + '_ {
        (0..self.slots.len()).map(|i| self.entry(i))
    }
}

impl fmt::Debug for ConfigMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl PartialEq for ConfigMap {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for ConfigMap {}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for ConfigMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = ConfigMap::new();
        for (k, v) in iter {
            let (k, v) = (k.into(), v.into());
            let slot = map.push_text(&k, &v);
            map.slots.push(slot);
        }
        // A later entry replaces an earlier one with the same key (as a map's `collect`):
        // reversed, stably sorted by key, the first of each key is the latest.
        map.slots.reverse();
        let text = map.text.as_str();
        map.slots.sort_by(|a, b| a.cmp(b, text));
        let before = map.slots.len();
        map.slots.dedup_by(|later, earlier| later.cmp(earlier, text) == Ordering::Equal);
        if map.slots.len() < before {
            let live: usize = map.slots.iter().map(|s| s.value_end - s.key_start).sum();
            map.add_garbage(map.text.len() - live);
        }
        map
    }
}

impl IntoIterator for ConfigMap {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect::<Vec<_>>().into_iter()
    }
}

/// Anything [`Config::from_config`](super::Config::from_config) accepts: hash
/// and B-tree maps of strings (owned or borrowed), [`ConfigMap`], and arrays,
/// slices or vectors of `(key, value)` pairs.
///
/// Keys and values are handed over untrimmed; trimming is part of the config
/// pipeline.
pub trait IntoConfigMap {
    /// Calls `f` once per `(key, value)` entry.
    fn for_each_entry(self, f: &mut dyn FnMut(&str, &str));

    /// A size hint for the number of entries.
    fn entry_count_hint(&self) -> usize {
        0
    }
}

/// `IntoConfigMap` for collections of `(key, value)` pairs whose parts are `AsRef<str>`.
macro_rules! pairs {
    ($([$($generics:tt)*] $ty:ty;)*) => {$(
        impl<$($generics)*> IntoConfigMap for $ty {
            fn for_each_entry(self, f: &mut dyn FnMut(&str, &str)) {
                for (k, v) in self {
                    f(k.as_ref(), v.as_ref());
                }
            }
            fn entry_count_hint(&self) -> usize {
                self.len()
            }
        }
    )*};
}

pairs! {
    [K: AsRef<str>, V: AsRef<str>, S: BuildHasher] &HashMap<K, V, S>;
    [K: AsRef<str>, V: AsRef<str>, S: BuildHasher] HashMap<K, V, S>;
    [K: AsRef<str>, V: AsRef<str>] &BTreeMap<K, V>;
    [K: AsRef<str>, V: AsRef<str>] BTreeMap<K, V>;
    [K: AsRef<str>, V: AsRef<str>] &[(K, V)];
    [K: AsRef<str>, V: AsRef<str>, const N: usize] [(K, V); N];
    [K: AsRef<str>, V: AsRef<str>, const N: usize] &[(K, V); N];
    [K: AsRef<str>, V: AsRef<str>] Vec<(K, V)>;
    [K: AsRef<str>, V: AsRef<str>] &Vec<(K, V)>;
}

impl IntoConfigMap for &ConfigMap {
    fn for_each_entry(self, f: &mut dyn FnMut(&str, &str)) {
        self.iter().for_each(|(k, v)| f(k, v));
    }
    fn entry_count_hint(&self) -> usize {
        self.len()
    }
}

impl IntoConfigMap for ConfigMap {
    fn for_each_entry(self, f: &mut dyn FnMut(&str, &str)) {
        (&self).for_each_entry(f);
    }
    fn entry_count_hint(&self) -> usize {
        self.len()
    }
}

impl ConfigMap {
    /// Builds a map from raw entries, trimming keys and values with Go's
    /// `strings.TrimSpace` (Unicode `White_Space`, the set [`str::trim`]
    /// uses), as Go's `Sanitize`.
    ///
    /// Unlike Go, which keeps a random one, keys that are equal after
    /// trimming give one [`ErrorKind::InvalidValue`](super::ErrorKind::InvalidValue) error for that key. The
    /// value kept is that of the raw key that was already trimmed, if any,
    /// else that of the smallest raw key, so the result is deterministic.
    ///
    /// ```
    /// use conduit_connector::config::ConfigMap;
    /// let (map, errors) = ConfigMap::sanitized([("   key   ", "   value   ")]);
    /// assert_eq!(map.get("key"), Some("value"));
    /// assert!(errors.is_empty());
    /// ```
    pub fn sanitized(config: impl IntoConfigMap) -> (ConfigMap, ConfigErrors) {
        let hint = config.entry_count_hint();
        let mut map = ConfigMap { text: String::with_capacity(hint * 24), slots: Vec::with_capacity(hint), garbage: 0 };
        // Raw spellings of the keys that were not already trimmed (rare), by the start of
        // their text, to resolve collisions deterministically.
        let mut untrimmed: Vec<(usize, String)> = Vec::new();
        config.for_each_entry(&mut |raw_key, raw_value| {
            let key = trim(raw_key);
            let slot = map.push_text(key, trim(raw_value));
            if key.len() != raw_key.len() {
                untrimmed.push((map.slots.len(), raw_key.to_owned()));
            }
            map.slots.push(slot);
        });
        if untrimmed.is_empty() {
            // Sorted by the keys' first 8 bytes (one integer comparison each), then each run
            // of keys sharing them by the whole key, equal keys in arrival order (the order
            // of their text): only such runs can hold equal keys.
            map.slots.sort_unstable_by_key(|slot| slot.prefix);
            let text = map.text.as_str();
            let mut duplicates = false;
            for run in map.slots.chunk_by_mut(|a, b| a.prefix == b.prefix).filter(|run| run.len() > 1) {
                run.sort_unstable_by(|a, b| a.cmp(b, text).then(a.key_start.cmp(&b.key_start)));
                duplicates |= run.windows(2).any(|w| w[0].cmp(&w[1], text) == Ordering::Equal);
            }
            if !duplicates {
                return (map, ConfigErrors::new());
            }
        }
        resolve_duplicates(map, &untrimmed)
    }
}

/// The rare part of [`ConfigMap::sanitized`], for keys that were not trimmed or that
/// occur more than once: sorts the slots (given in arrival order, or already stably sorted
/// when no key was untrimmed), keeps one entry of each run of equal keys and reports each
/// such key once.
///
/// The entry kept is the first whose raw key was already trimmed, else the first with the
/// smallest raw key. `untrimmed` holds the arrival index and raw spelling of every key
/// that was not already trimmed.
#[cold]
fn resolve_duplicates(mut map: ConfigMap, untrimmed: &[(usize, String)]) -> (ConfigMap, ConfigErrors) {
    let mut tagged: Vec<(Slot, Option<&str>)> = map.slots.iter().map(|slot| (*slot, None)).collect();
    for (arrival, raw) in untrimmed {
        if let Some(entry) = tagged.get_mut(*arrival) {
            entry.1 = Some(raw.as_str());
        }
    }
    let text = map.text.as_str();
    let key = |slot: &Slot| text.get(slot.key_start..slot.key_end).unwrap_or_default();
    tagged.sort_by(|a, b| a.0.cmp(&b.0, text));
    let mut errors = ConfigErrors::new();
    let mut kept: Vec<Slot> = Vec::with_capacity(tagged.len());
    let mut dropped = 0;
    for run in tagged.chunk_by(|a, b| key(&a.0) == key(&b.0)) {
        if run.len() > 1 {
            errors.push(ConfigError::new(key(&run[0].0), Problem::DuplicateKey));
        }
        // An already-trimmed raw key (`None`) wins; otherwise the smallest raw key (the
        // first one among equal raw keys).
        let winner = run.iter().enumerate().min_by_key(|(_, (_, raw))| *raw).map_or(0, |(i, _)| i);
        for (i, (slot, _)) in run.iter().enumerate() {
            if i == winner {
                kept.push(*slot);
            } else {
                dropped += slot.value_end - slot.key_start;
            }
        }
    }
    map.slots = kept;
    map.add_garbage(dropped);
    (map, errors)
}

/// [`str::trim`], without the Unicode scan when both ends are printable ASCII (the common
/// case: nothing to trim).
fn trim(s: &str) -> &str {
    let solid = |b: &u8| *b > b' ' && *b < 0x80;
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(first), Some(last)) if solid(first) && solid(last) => s,
        (None, _) => s,
        _ => s.trim(),
    }
}
