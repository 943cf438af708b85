//! Error accumulation: every mistake found in one pass is reported, each at
//! its own span, as one `compile_error!` per error.

use proc_macro2::{Span, TokenStream};

/// Collects errors in the order found.
#[derive(Default)]
pub struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    /// Adds an error (it keeps its own span and may hold several messages).
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(all) => all.combine(error),
            None => self.combined = Some(error),
        }
    }

    /// Adds `message` at `span`.
    pub fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    /// `Ok(value)`, or pushes the error and returns `None`.
    pub fn handle<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.push(e);
                None
            }
        }
    }

    /// All errors as one (combined) error, or `None` when there were none.
    pub fn into_error(self) -> Option<syn::Error> {
        self.combined
    }

    /// The errors as `compile_error!` invocations, or `None` when there were none.
    pub fn into_compile_errors(self) -> Option<TokenStream> {
        self.combined.map(|e| e.to_compile_error())
    }
}

/// The closest of `candidates` to the unknown `name` (Jaro-Winkler similarity
/// above 0.8), for a "did you mean" hint.
pub fn did_you_mean<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        let score = strsim::jaro_winkler(name, candidate);
        if score > 0.8 && best.is_none_or(|(b, _)| b < score) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// "unknown item `x` in `#[param(...)]`", with the suggestion or the list of items.
pub fn unknown_item(name: &str, attribute: &str, allowed: &[&str]) -> String {
    let mut message = format!("unknown item `{name}` in `#[{attribute}(...)]`");
    match did_you_mean(name, allowed) {
        Some(alt) => message.push_str(&format!("; did you mean `{alt}`?")),
        None => {
            let list: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
            message.push_str(&format!("; expected one of: {}", list.join(", ")));
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_item() {
        assert_eq!(did_you_mean("requird", &["regex", "required"]), Some("required"));
        assert_eq!(did_you_mean("rename", &["rename_all", "validate"]), Some("rename_all"));
        assert_eq!(did_you_mean("zzz", &["rename_all", "validate"]), None);
    }

    #[test]
    fn unknown_item_lists_the_items_without_a_close_match() {
        assert_eq!(
            unknown_item("zzz", "config", &["rename_all", "validate"]),
            "unknown item `zzz` in `#[config(...)]`; expected one of: `rename_all`, `validate`"
        );
        assert_eq!(
            unknown_item("requird", "param", &["required"]),
            "unknown item `requird` in `#[param(...)]`; did you mean `required`?"
        );
    }
}
