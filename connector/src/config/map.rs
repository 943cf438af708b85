use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

/// Conduit's raw config: a flat map of dotted keys to string values.
///
/// The methods mirror conduit-commons: [`sanitized`](ConfigMap::sanitized),
/// [`apply_defaults`](ConfigMap::apply_defaults) and
/// [`validate`](ConfigMap::validate). [`Config::from_config`](super::Config::from_config)
/// runs all three before decoding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigMap {
    pub(crate) map: BTreeMap<String, String>,
}

impl ConfigMap {
    /// An empty map.
    pub fn new() -> Self {
        ConfigMap::default()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// Sets `key` to `value` (no trimming), returning the old value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.map.insert(key.into(), value.into())
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.map.remove(key)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// `(key, value)` pairs ordered by key.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + DoubleEndedIterator + '_ {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The underlying sorted map.
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.map
    }

    /// The underlying sorted map.
    pub fn into_map(self) -> BTreeMap<String, String> {
        self.map
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for ConfigMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        ConfigMap { map: iter.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }
}

impl IntoIterator for ConfigMap {
    type Item = (String, String);
    type IntoIter = std::collections::btree_map::IntoIter<String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.map.into_iter()
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
        (&self.map).for_each_entry(f);
    }
    fn entry_count_hint(&self) -> usize {
        self.map.len()
    }
}

impl IntoConfigMap for ConfigMap {
    fn for_each_entry(self, f: &mut dyn FnMut(&str, &str)) {
        (&self.map).for_each_entry(f);
    }
    fn entry_count_hint(&self) -> usize {
        self.map.len()
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
