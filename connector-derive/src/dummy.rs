//! Minimal impls emitted next to compile errors, so users see only the real
//! mistakes and not a cascade of "trait not implemented" errors.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::emit::private;

/// `Config` and `ConfigField` impls with empty parameters and a
/// `from_config` that reports the failed derive.
pub fn config(input: &DeriveInput) -> TokenStream {
    let p = private();
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #p::ConfigField for #ident #ty_generics #where_clause {
                const KIND: #p::FieldKind = #p::FieldKind::Nested;
                fn describe(_: &#p::str, _: &#p::Parameter, _: &mut #p::Parameters) {}
                fn decode(_: &#p::FieldKey<'_>, _: &#p::Parameter, _: &mut #p::DecodeCx<'_>) -> #p::Option<Self> {
                    #p::None
                }
            }

            #[automatically_derived]
            impl #impl_generics #p::Config for #ident #ty_generics #where_clause {
                fn parameters() -> #p::Parameters {
                    #p::Parameters::new()
                }
                fn from_config<C: #p::IntoConfigMap>(_: C) -> #p::Result<Self, #p::ConfigErrors> {
                    let mut errors = #p::ConfigErrors::new();
                    errors.push(#p::ConfigError::custom("", "the #[derive(Config)] of this type has compile errors"));
                    #p::Err(errors)
                }
            }
        };
    }
}

/// `ConfigValue` and `ListElement` impls that accept nothing.
pub fn config_value(input: &DeriveInput) -> TokenStream {
    let p = private();
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #p::ConfigValue for #ident #ty_generics #where_clause {
                const TYPE: #p::ParameterType = #p::ParameterType::String;
                fn parse(_: &#p::str) -> #p::Result<Self, #p::String> {
                    #p::Err(<#p::str as #p::ToOwned>::to_owned("the #[derive(ConfigValue)] of this type has compile errors"))
                }
            }

            #[automatically_derived]
            impl #impl_generics #p::ListElement for #ident #ty_generics #where_clause {}
        };
    }
}
