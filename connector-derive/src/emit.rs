//! Stage 4, emit: the `ConfigField` and `Config` impls of a struct, the
//! `ConfigValue` impl of an enum, and the type-dependent compile-time checks
//! as `const` items spanned on the user's tokens.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Type;
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use crate::model::{EnumModel, Mode, Param, StructModel, ValidationKind};
use crate::parse::DefaultKind;

/// The hidden runtime module generated code goes through.
pub fn private() -> TokenStream {
    quote!(::conduit_connector::__private)
}

/// `const <name>: () = match <check> { None => (), Some(m) => panic!("{}", m) };`
/// spanned on `span`: a failed check is reported by rustc as
/// `evaluation panicked: <message>` pointing at the user's token, with the
/// label `evaluation of `_::<name>` failed here` — so `name` says what was
/// checked (`batch_size_default_fits_the_field_type`).
///
/// `check` builds the call from the runtime path; every token but the user's
/// type carries the user's span, since rustc reports a const panic at the
/// span of the `panic!` call.
fn const_check(span: Span, name: &str, check: impl FnOnce(&TokenStream) -> TokenStream) -> TokenStream {
    let p = quote_spanned!(span=> ::conduit_connector::__private);
    let call = check(&p);
    let name = format_ident!("{}", name, span = span);
    quote_spanned! {span=>
        #[allow(non_upper_case_globals, dead_code)]
        const #name: () = match #call {
            #p::None => (),
            #p::Some(message) => #p::panic!("{}", message),
        };
    }
}

/// `FieldType { kind: <Ty as ConfigField>::KIND, entry: <Ty as ConfigField>::ENTRY }`:
/// the checks name the type exactly as the impls do, so rustc reports an
/// unsupported type once.
fn field_type(ty: &Type) -> TokenStream {
    let p = private();
    let as_field = as_field(ty);
    quote!(#p::FieldType { kind: #as_field::KIND, entry: #as_field::ENTRY })
}

/// `<Ty as ConfigField>` spanned on the type, so an unsupported type is
/// reported at the field's type.
fn as_field(ty: &Type) -> TokenStream {
    let p = private();
    quote_spanned!(ty.span()=> <#ty as #p::ConfigField>)
}

fn field_spec(param: &Param) -> TokenStream {
    let p = private();
    let description = &param.description;
    let default = param.default.as_ref().map_or("", |d| d.text.as_str());
    let file = param.file.is_some();
    let validations = param.validations.iter().map(|v| match &v.kind {
        ValidationKind::Required => quote!(#p::ValidationSpec::Required),
        ValidationKind::Gt(n, _) => {
            let n = Literal::f64_suffixed(*n);
            quote!(#p::ValidationSpec::GreaterThan(#n))
        }
        ValidationKind::Lt(n, _) => {
            let n = Literal::f64_suffixed(*n);
            quote!(#p::ValidationSpec::LessThan(#n))
        }
        ValidationKind::Inclusion(list) => {
            let items = list.iter().map(|s| s.value());
            quote!(#p::ValidationSpec::Inclusion(&[#(#items),*]))
        }
        ValidationKind::Exclusion(list) => {
            let items = list.iter().map(|s| s.value());
            quote!(#p::ValidationSpec::Exclusion(&[#(#items),*]))
        }
        ValidationKind::Regex(r) => {
            let r = r.value();
            quote!(#p::ValidationSpec::Regex(#r))
        }
    });
    quote! {
        #p::FieldSpec {
            description: #description,
            default: #default,
            validations: &[#(#validations),*],
            file: #file,
        }
    }
}

/// The type-dependent checks of one parameter field.
fn param_checks(field: &str, ty: &Type, param: &Param, out: &mut Vec<TokenStream>) {
    let t = field_type(ty);
    let name = |item: &str| format!("{field}_{item}_fits_the_field_type");
    if let Some(default) = &param.default {
        let span = default.span;
        let check = |p: &TokenStream| match default.kind {
            DefaultKind::Str => {
                let text = &default.text;
                quote_spanned!(span=> #p::default_error(#t, #text))
            }
            DefaultKind::Int => match default.text.parse::<i128>() {
                Ok(n) => {
                    let mut n = Literal::i128_suffixed(n);
                    n.set_span(span);
                    quote_spanned!(span=> #p::int_default_error(#t, #n))
                }
                Err(_) => {
                    let msg = "the default is out of range for any integer type";
                    quote_spanned!(span=> #p::Some::<&'static #p::str>(#msg))
                }
            },
            DefaultKind::Float => {
                let mut n = Literal::f64_suffixed(default.text.parse::<f64>().unwrap_or(0.0));
                n.set_span(span);
                quote_spanned!(span=> #p::float_default_error(#t, #n))
            }
            DefaultKind::Bool => quote_spanned!(span=> #p::bool_default_error(#t)),
        };
        out.push(const_check(span, &name("default"), check));
        if let Some(check) = suffix_check(&t, default) {
            out.push(const_check(span, &name("default_suffix"), check));
        }
    }
    for v in &param.validations {
        let span = v.key.span();
        out.push(const_check(span, &name(&v.key.to_string()), |p| match &v.kind {
            ValidationKind::Gt(n, _) | ValidationKind::Lt(n, _) => {
                let greater = matches!(v.kind, ValidationKind::Gt(..));
                let n = Literal::f64_suffixed(*n);
                quote_spanned!(span=> #p::bound_error(#t, #n, #greater))
            }
            _ => quote_spanned!(span=> #p::value_error(#t)),
        }));
    }
    if let Some(span) = param.file {
        out.push(const_check(span, &name("file"), |p| quote_spanned!(span=> #p::string_error(#t))));
    }
}

/// The range of an integer type named by a literal suffix, within what a field can hold
/// (`i64::MIN` to `u64::MAX`, as `ValueCheck` clips it; `isize`/`usize` as 64 bits).
fn suffix_range(suffix: &str) -> Option<(i128, i128)> {
    let (lo, hi): (i128, i128) = match suffix {
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" | "isize" => (i64::MIN.into(), i64::MAX.into()),
        "i128" => (i128::MIN, i128::MAX),
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" | "usize" => (0, u64::MAX.into()),
        "u128" => (0, u128::MAX.try_into().unwrap_or(i128::MAX)),
        _ => return None,
    };
    Some((lo.max(i64::MIN.into()), hi.min(u64::MAX.into())))
}

/// The check that a default literal's type suffix (`100u64`) names the field's type.
fn suffix_check(
    t: &TokenStream,
    default: &crate::parse::DefaultLit,
) -> Option<impl FnOnce(&TokenStream) -> TokenStream> {
    if default.suffix.is_empty() {
        return None;
    }
    let span = default.span;
    let suffix = default.suffix.clone();
    let message = format!(
        "the suffix `{suffix}` does not match the field's type: write the default without a suffix, \
         or with the field's own type"
    );
    let t = t.clone();
    Some(move |p: &TokenStream| {
        let matches = match (suffix.as_str(), suffix_range(&suffix)) {
            ("f32" | "f64", _) => {
                let float32 = suffix == "f32";
                quote_spanned!(span=> #p::float_suffix_matches(#t, #float32))
            }
            (_, Some((lo, hi))) => {
                let (lo, hi) = (Literal::i128_suffixed(lo), Literal::i128_suffixed(hi));
                quote_spanned!(span=> #p::int_suffix_matches(#t, #lo, #hi))
            }
            _ => quote_spanned!(span=> false),
        };
        quote_spanned!(span=> if #matches { #p::None } else { #p::Some::<&'static #p::str>(#message) })
    })
}

/// The impls for a config struct.
pub fn config(model: &StructModel) -> TokenStream {
    let p = private();
    let ident = &model.ident;
    let mut describe = Vec::new();
    let mut decode = Vec::new();
    let mut init = Vec::new();
    let mut checks = Vec::new();
    let mut statics = Vec::new();
    for (i, field) in model.fields.iter().enumerate() {
        let var = format_ident!("__field{}", i);
        let member = &field.member;
        let ty = &field.ty;
        match &field.mode {
            Mode::Skip => {
                let default = quote_spanned!(ty.span()=> <#ty as #p::Default>::default());
                decode.push(quote!(let #var: #ty = #default;));
                init.push(quote!(#member: #var));
            }
            Mode::Flatten(span) => {
                let as_field = as_field(ty);
                describe.push(quote!(#as_field::describe(prefix, &#p::NO_PARAMETER, out);));
                decode.push(quote!(let #var = #as_field::decode(prefix, &#p::NO_PARAMETER, cx);));
                init.push(quote!(#member: #var?));
                let span = *span;
                let t = field_type(ty);
                let name = format!("{}_flatten_fits_the_field_type", member.unraw());
                checks.push(const_check(span, &name, |p| quote_spanned!(span=> #p::nested_error(#t))));
            }
            Mode::Param(param) => {
                let as_field = as_field(ty);
                let name = &param.name;
                let spec = field_spec(param);
                let param_static = format_ident!("__PARAM{}", i);
                statics.push(quote! {
                    static #param_static: #p::LazyLock<#p::Parameter> = #p::LazyLock::new(|| {
                        const SPEC: #p::FieldSpec = #spec;
                        #as_field::parameter(&SPEC)
                    });
                });
                describe.push(quote!(#as_field::describe(&#p::join_key(prefix, #name), &#param_static, out);));
                decode.push(quote!(
                    let #var = #as_field::decode(&#p::FieldKey::join(prefix, #name), &#param_static, cx);
                ));
                init.push(quote!(#member: #var?));
                param_checks(&member.unraw().to_string(), ty, param, &mut checks);
            }
        }
    }
    let hook = model.validate.as_ref().map(|path| {
        let hook = quote_spanned!(path.span()=>
            let hook: fn(&Self) -> #p::Result<(), #p::ConfigErrors> = #path;
        );
        quote! {
            #hook
            if let #p::Err(errors) = hook(&value) {
                cx.hook_errors(prefix, errors);
                return #p::None;
            }
        }
    });
    quote! {
        const _: () = {
            #(#statics)*

            #[automatically_derived]
            impl #p::ConfigField for #ident {
                const KIND: #p::FieldKind = #p::FieldKind::Nested;

                fn describe(prefix: &#p::str, _param: &#p::Parameter, out: &mut #p::Parameters) {
                    #(#describe)*
                }

                fn decode(
                    prefix: &#p::FieldKey<'_>,
                    _param: &#p::Parameter,
                    cx: &mut #p::DecodeCx<'_>,
                ) -> #p::Option<Self> {
                    #(#decode)*
                    let value = Self { #(#init),* };
                    #hook
                    #p::Some(value)
                }
            }

            /// The parameters, built once (`parameters()` hands out cheap clones).
            fn cached_parameters() -> &'static #p::Parameters {
                static PARAMS: #p::OnceLock<#p::Parameters> = #p::OnceLock::new();
                PARAMS.get_or_init(|| {
                    let mut out = #p::Parameters::new();
                    <#ident as #p::ConfigField>::describe("", &#p::NO_PARAMETER, &mut out);
                    out
                })
            }

            #[automatically_derived]
            impl #p::Config for #ident {
                fn parameters() -> #p::Parameters {
                    #p::Clone::clone(cached_parameters())
                }

                fn from_config<C: #p::IntoConfigMap>(config: C) -> #p::Result<Self, #p::ConfigErrors> {
                    #p::from_config::<Self>(config, cached_parameters())
                }
            }

            #(#checks)*
        };
    }
}

/// The impls for a config value enum.
pub fn config_value(model: &EnumModel) -> TokenStream {
    let p = private();
    let ident = &model.ident;
    let names: Vec<&str> = model.variants.iter().map(|v| v.name.as_str()).collect();
    let idents = model.variants.iter().map(|v| &v.ident);
    let message = format!("value must be one of [{}]", names.join(","));
    let empty = match model.variants.iter().find(|v| v.is_default) {
        Some(v) => {
            let v = &v.ident;
            quote!(#p::Some(Self::#v))
        }
        None => quote!(#p::None),
    };
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #p::ConfigValue for #ident {
                const TYPE: #p::ParameterType = #p::ParameterType::String;
                const VARIANTS: &'static [&'static #p::str] = &[#(#names),*];

                fn parse(value: &#p::str) -> #p::Result<Self, #p::String> {
                    match value {
                        #(#names => #p::Ok(Self::#idents),)*
                        _ => #p::Err(<#p::str as #p::ToOwned>::to_owned(#message)),
                    }
                }

                fn empty() -> #p::Option<Self> {
                    #empty
                }
            }

            #[automatically_derived]
            impl #p::ListElement for #ident {}
        };
    }
}
