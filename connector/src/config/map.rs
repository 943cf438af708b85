use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::BuildHasher;

use super::error::{ConfigError, ConfigErrors, Problem};

/// Conduit's raw config: a flat map of dotted keys to string values.
///
/// The methods mirror conduit-commons: [`sanitized`](ConfigMap::sanitized),
/// [`apply_defaults`](ConfigMap::apply_defaults) and
/// [`validate`](ConfigMap::validate). [`Config::from_config`](super::Config::from_config)
/// runs all three before decoding.
//
// Layout: every key and value lives in one text buffer; `slots` holds their byte ranges,
// sorted by key, keys unique. Building a map costs two allocations instead of two per
// entry, and lookups are binary searches. Replaced or removed text stays in the buffer as
// garbage until it outweighs the live text.
#[derive(Clone, Default)]
pub struct ConfigMap {
    pub(crate) text: String,
    pub(crate) slots: Vec<Slot>,
    garbage: usize,
    /// A hash table of `slot index + 1` (0 = empty), a power of two long, built by
    /// [`build_index`](ConfigMap::build_index) for a map that no longer changes; empty
    /// otherwise (every change clears it).
    index: Vec<u32>,
}

/// The byte ranges of one entry's key and value in [`ConfigMap::text`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    pub(crate) key_start: usize,
    pub(crate) key_end: usize,
    pub(crate) value_start: usize,
    pub(crate) value_end: usize,
    /// The key's first 8 bytes, big-endian, zero-padded: most comparisons stop here.
    pub(crate) prefix: u64,
}

impl Slot {
    /// Orders two slots by key.
    #[inline]
    pub(crate) fn cmp(&self, other: &Slot, text: &str) -> Ordering {
        match self.prefix.cmp(&other.prefix) {
            Ordering::Equal => cmp_tails(key_bytes(text, self), key_bytes(text, other)),
            order => order,
        }
    }

    /// Orders this slot's key against `key`, whose [`prefix`] is `key_prefix`.
    #[inline]
    fn cmp_key(&self, text: &str, key: &[u8], key_prefix: u64) -> Ordering {
        match self.prefix.cmp(&key_prefix) {
            Ordering::Equal => cmp_tails(key_bytes(text, self), key),
            order => order,
        }
    }
}

/// Orders two keys whose [`prefix`]es are equal: when both are at most 8 bytes long, the
/// shorter one is then a prefix of the other, so their lengths decide (no byte comparison).
#[inline]
fn cmp_tails(a: &[u8], b: &[u8]) -> Ordering {
    if a.len() <= 8 && b.len() <= 8 { a.len().cmp(&b.len()) } else { a.cmp(b) }
}

/// The bytes of a slot's key.
#[inline]
fn key_bytes<'t>(text: &'t str, slot: &Slot) -> &'t [u8] {
    text.as_bytes().get(slot.key_start..slot.key_end).unwrap_or_default()
}

/// A key's first 8 bytes, big-endian, zero-padded (orders as the keys do, ties aside).
#[inline]
pub(crate) fn prefix(key: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    let n = key.len().min(8);
    bytes[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(bytes)
}

/// An FxHash-style hash of a key whose [`prefix`] is `key_prefix` (fast on short keys; not
/// DoS-resistant, which a config written by the operator does not need).
#[inline]
fn hash(key: &[u8], key_prefix: u64) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |h: u64, word: u64| (h.rotate_left(5) ^ word).wrapping_mul(K);
    // The first 8 bytes little-endian (the low bits of a product depend only on the low
    // bits of its factors, so they must hold the first bytes, which differ most).
    let mut h = mix(key.len() as u64, key_prefix.swap_bytes());
    let mut chunks = key.get(8..).unwrap_or_default().chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = mix(h, u64::from_le_bytes(word));
    }
    if !chunks.remainder().is_empty() {
        // The last 8 bytes (overlapping the ones already mixed in): one load instead of a
        // loop over the remaining bytes. The key is longer than 8 bytes here.
        let mut word = [0u8; 8];
        word.copy_from_slice(key.get(key.len() - 8..).unwrap_or(&[0; 8]));
        h = mix(h, u64::from_le_bytes(word));
    }
    // The table uses the low bits: fold the well-mixed high bits in.
    h ^ (h >> 29)
}

/// The largest buffers (in bytes of text) kept for reuse by [`ConfigMap::recycle`].
const SPARE_LIMIT: usize = 64 * 1024;

/// Buffers of a map that [`from_config`](super::validate::from_config) finished with,
/// reused by the next map built on the same thread (saves the allocations on every call).
type Spare = (String, Vec<Slot>, Vec<u32>);

thread_local! {
    static SPARE: std::cell::Cell<Option<Spare>> = const { std::cell::Cell::new(None) };
}

impl ConfigMap {
    /// An empty map.
    pub fn new() -> Self {
        ConfigMap::default()
    }

    /// An empty map with room for `entries` entries of `bytes` bytes of text in all.
    ///
    /// Reuses the buffers of the last map [`recycle`](ConfigMap::recycle)d on this thread.
    pub(crate) fn with_capacity(entries: usize, bytes: usize) -> Self {
        let (mut text, mut slots, mut index) = SPARE.try_with(std::cell::Cell::take).ok().flatten().unwrap_or_default();
        text.clear();
        text.reserve(bytes);
        slots.clear();
        slots.reserve(entries);
        index.clear();
        ConfigMap { text, slots, garbage: 0, index }
    }

    /// Hands this map's buffers to the next [`with_capacity`](ConfigMap::with_capacity) on
    /// this thread (unless they are large).
    pub(crate) fn recycle(self) {
        if self.text.capacity() <= SPARE_LIMIT && self.slots.capacity() * size_of::<Slot>() <= SPARE_LIMIT {
            let spare = (self.text, self.slots, self.index);
            let _ = SPARE.try_with(|cell| cell.set(Some(spare)));
        }
    }

    /// The key of a slot.
    #[inline]
    pub(crate) fn key_of(&self, slot: &Slot) -> &str {
        self.text.get(slot.key_start..slot.key_end).unwrap_or_default()
    }

    /// The value of a slot.
    #[inline]
    pub(crate) fn value_of(&self, slot: &Slot) -> &str {
        self.text.get(slot.value_start..slot.value_end).unwrap_or_default()
    }

    /// The key and value of the `index`-th entry (in key order).
    #[inline]
    pub(crate) fn entry(&self, index: usize) -> (&str, &str) {
        match self.slots.get(index) {
            Some(slot) => (self.key_of(slot), self.value_of(slot)),
            None => ("", ""),
        }
    }

    /// `Ok(index)` of `key`, or `Err(index)` where it would be inserted.
    #[inline]
    pub(crate) fn find(&self, key: &str) -> Result<usize, usize> {
        let (text, key) = (self.text.as_str(), key.as_bytes());
        let key_prefix = prefix(key);
        self.slots.binary_search_by(|slot| slot.cmp_key(text, key, key_prefix))
    }

    /// The index of the first key not less than `key`.
    #[inline]
    pub(crate) fn lower_bound(&self, key: &str) -> usize {
        self.lower_bound_bytes(key.as_bytes())
    }

    /// [`lower_bound`](ConfigMap::lower_bound) of a key given as bytes.
    #[inline]
    pub(crate) fn lower_bound_bytes(&self, key: &[u8]) -> usize {
        let text = self.text.as_str();
        let key_prefix = prefix(key);
        self.slots.partition_point(|slot| slot.cmp_key(text, key, key_prefix) == Ordering::Less)
    }

    /// Builds the hash index [`get`](ConfigMap::get) uses until the map changes.
    pub(crate) fn build_index(&mut self) {
        let size = (self.slots.len() * 2).next_power_of_two().max(8);
        let Ok(entries) = u32::try_from(self.slots.len()) else {
            return;
        };
        let mut index = std::mem::take(&mut self.index);
        index.clear();
        index.resize(size, 0);
        let mask = size - 1;
        let text = self.text.as_str();
        for (i, slot) in (1..=entries).zip(&self.slots) {
            let mut at = hash(key_bytes(text, slot), slot.prefix) as usize & mask;
            while index[at] != 0 {
                at = (at + 1) & mask;
            }
            index[at] = i;
        }
        self.index = index;
    }

    /// Drops the hash index (before changing the slots).
    pub(crate) fn clear_index(&mut self) {
        self.index.clear();
    }

    /// The position of `key`, through the hash index when there is one.
    #[inline]
    pub(crate) fn position(&self, key: &[u8]) -> Option<usize> {
        let key_prefix = prefix(key);
        if self.index.is_empty() {
            let text = self.text.as_str();
            return self.slots.binary_search_by(|slot| slot.cmp_key(text, key, key_prefix)).ok();
        }
        let mask = self.index.len() - 1;
        let mut at = hash(key, key_prefix) as usize & mask;
        loop {
            let i = usize::try_from(*self.index.get(at)?).ok()?.checked_sub(1)?;
            let slot = self.slots.get(i)?;
            // The prefix and the length settle most probes without comparing bytes.
            if slot.prefix == key_prefix
                && slot.key_end - slot.key_start == key.len()
                && (key.len() <= 8 || key_bytes(&self.text, slot) == key)
            {
                return Some(i);
            }
            at = (at + 1) & mask;
        }
    }

    /// Appends a key and a value to the text, giving their slot (not yet in `slots`).
    #[inline]
    pub(crate) fn push_text(&mut self, key: &str, value: &str) -> Slot {
        let key_start = self.text.len();
        self.text.push_str(key);
        let key_end = self.text.len();
        self.text.push_str(value);
        Slot { key_start, key_end, value_start: key_end, value_end: self.text.len(), prefix: prefix(key.as_bytes()) }
    }

    /// Sets the value of the `index`-th entry.
    pub(crate) fn set_value(&mut self, index: usize, value: &str) {
        self.index.clear();
        let start = self.text.len();
        self.text.push_str(value);
        let end = self.text.len();
        if let Some(slot) = self.slots.get_mut(index) {
            self.garbage += slot.value_end - slot.value_start;
            slot.value_start = start;
            slot.value_end = end;
        }
        self.compact_if_wasteful();
    }

    /// Forgets the text of entries dropped from `slots` (`bytes` bytes).
    pub(crate) fn add_garbage(&mut self, bytes: usize) {
        self.garbage += bytes;
        self.compact_if_wasteful();
    }

    /// Rewrites the text without garbage once garbage is more than half of it.
    fn compact_if_wasteful(&mut self) {
        if self.garbage <= self.text.len() / 2 {
            return;
        }
        let mut text = String::with_capacity(self.text.len() - self.garbage);
        for slot in &mut self.slots {
            let key = self.text.get(slot.key_start..slot.key_end).unwrap_or_default();
            let value = self.text.get(slot.value_start..slot.value_end).unwrap_or_default();
            slot.key_start = text.len();
            text.push_str(key);
            slot.key_end = text.len();
            slot.value_start = text.len();
            text.push_str(value);
            slot.value_end = text.len();
        }
        self.text = text;
        self.garbage = 0;
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.get_bytes(key.as_bytes())
    }

    /// The value of the key whose bytes are `key`.
    #[inline]
    pub(crate) fn get_bytes(&self, key: &[u8]) -> Option<&str> {
        let index = self.position(key)?;
        Some(self.entry(index).1)
    }

    /// Sets `key` to `value` (no trimming), returning the old value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let key = key.into();
        let value = value.into();
        self.index.clear();
        match self.find(&key) {
            Ok(index) => {
                let old = self.entry(index).1.to_owned();
                self.set_value(index, &value);
                Some(old)
            }
            Err(index) => {
                let slot = self.push_text(&key, &value);
                self.slots.insert(index, slot);
                None
            }
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let index = self.find(key).ok()?;
        self.index.clear();
        let old = self.entry(index).1.to_owned();
        let slot = self.slots.remove(index);
        self.add_garbage(slot.key_end - slot.key_start + slot.value_end - slot.value_start);
        Some(old)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key.as_bytes()).is_some()
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
        self.slots.iter().map(|slot| (self.key_of(slot), self.value_of(slot)))
    }

    /// A sorted map borrowing the keys and values.
    pub fn as_map(&self) -> BTreeMap<&str, &str> {
        self.iter().collect()
    }

    /// The entries as a sorted map.
    pub fn into_map(self) -> BTreeMap<String, String> {
        self.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
    }
}

impl fmt::Debug for ConfigMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Entries<'a>(&'a ConfigMap);
        impl fmt::Debug for Entries<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map().entries(self.0.iter()).finish()
            }
        }
        f.debug_struct("ConfigMap").field("map", &Entries(self)).finish()
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

impl<K: AsRef<str>, V: AsRef<str>, S: BuildHasher> IntoConfigMap for &HashMap<K, V, S> {
    fn for_each_entry(self, f: &mut dyn FnMut(&str, &str)) {
        for (k, v) in self {
            f(k.as_ref(), v.as_ref());
        }
    }
    fn entry_count_hint(&self) -> usize {
        self.len()
    }
}

impl<K: AsRef<str>, V: AsRef<str>, S: BuildHasher> IntoConfigMap for HashMap<K, V, S> {
    fn for_each_entry(self, f: &mut dyn FnMut(&str, &str)) {
        (&self).for_each_entry(f);
    }
    fn entry_count_hint(&self) -> usize {
        self.len()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> IntoConfigMap for &BTreeMap<K, V> {
    fn for_each_entry(self, f: &mut dyn FnMut(&str, &str)) {
        for (k, v) in self {
            f(k.as_ref(), v.as_ref());
        }
    }
    fn entry_count_hint(&self) -> usize {
        self.len()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> IntoConfigMap for BTreeMap<K, V> {
    fn for_each_entry(self, f: &mut dyn FnMut(&str, &str)) {
        (&self).for_each_entry(f);
    }
    fn entry_count_hint(&self) -> usize {
        self.len()
    }
}

impl IntoConfigMap for &ConfigMap {
    fn for_each_entry(self, f: &mut dyn FnMut(&str, &str)) {
        for (k, v) in self.iter() {
            f(k, v);
        }
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

impl<K: AsRef<str>, V: AsRef<str>> IntoConfigMap for &[(K, V)] {
    fn for_each_entry(self, f: &mut dyn FnMut(&str, &str)) {
        for (k, v) in self {
            f(k.as_ref(), v.as_ref());
        }
    }
    fn entry_count_hint(&self) -> usize {
        self.len()
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> IntoConfigMap for [(K, V); N] {
    fn for_each_entry(self, f: &mut dyn FnMut(&str, &str)) {
        self.as_slice().for_each_entry(f);
    }
    fn entry_count_hint(&self) -> usize {
        N
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> IntoConfigMap for &[(K, V); N] {
    fn for_each_entry(self, f: &mut dyn FnMut(&str, &str)) {
        self.as_slice().for_each_entry(f);
    }
    fn entry_count_hint(&self) -> usize {
        N
    }
}

impl<K: AsRef<str>, V: AsRef<str>> IntoConfigMap for Vec<(K, V)> {
    fn for_each_entry(self, f: &mut dyn FnMut(&str, &str)) {
        self.as_slice().for_each_entry(f);
    }
    fn entry_count_hint(&self) -> usize {
        self.len()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> IntoConfigMap for &Vec<(K, V)> {
    fn for_each_entry(self, f: &mut dyn FnMut(&str, &str)) {
        self.as_slice().for_each_entry(f);
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
        let mut map = ConfigMap::with_capacity(hint, hint * 24);
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
            // of keys sharing them by the whole key: the order of a stable sort by key, equal
            // keys in arrival order (the order of their text). Only such runs can hold
            // equal keys.
            map.slots.sort_unstable_by_key(|slot| slot.prefix);
            let text = map.text.as_str();
            let mut duplicates = false;
            for run in map.slots.chunk_by_mut(|a, b| a.prefix == b.prefix) {
                if run.len() > 1 {
                    run.sort_unstable_by(|a, b| a.cmp(b, text).then(a.key_start.cmp(&b.key_start)));
                    duplicates |= run.windows(2).any(|w| w[0].cmp(&w[1], text) == Ordering::Equal);
                }
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
        // An already-trimmed raw key wins; otherwise the smallest raw key (the first one
        // among equal raw keys).
        let winner = match run.iter().position(|(_, raw)| raw.is_none()) {
            Some(exact) => exact,
            None => {
                let mut best = 0;
                for (i, (_, raw)) in run.iter().enumerate().skip(1) {
                    if raw < &run[best].1 {
                        best = i;
                    }
                }
                best
            }
        };
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
pub(crate) fn trim(s: &str) -> &str {
    let solid = |b: &u8| *b > b' ' && *b < 0x80;
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(first), Some(last)) if solid(first) && solid(last) => s,
        (None, _) => s,
        _ => s.trim(),
    }
}
