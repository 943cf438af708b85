//! Derive macros for `conduit-connector`; use them through that crate.
use proc_macro::TokenStream;

/// Derives `conduit_connector::Config`.
#[proc_macro_derive(Config, attributes(param, config))]
pub fn derive_config(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}

/// Derives `conduit_connector::ConfigValue` for a fieldless enum.
#[proc_macro_derive(ConfigValue, attributes(param, config))]
pub fn derive_config_value(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
