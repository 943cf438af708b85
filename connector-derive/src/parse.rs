//! Stage 1, syntax: darling reads the container attributes and fields, and
//! `#[param(...)]` items are parsed in the order written (validations keep
//! that order, across several `#[param]` attributes too).

use darling::ast::NestedMeta;
use darling::util::SpannedValue;
use darling::{Error, FromDeriveInput, FromField, FromVariant, ast};

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Ident, Lit, LitStr, Meta, Type, UnOp};

/// The container's `#[config(...)]` items.
#[derive(Debug, FromDeriveInput)]
#[darling(attributes(config))]
pub struct ContainerAttrs {
    /// `rename_all = "..."` (serde's casing names).
    #[darling(default)]
    pub rename_all: Option<SpannedValue<String>>,
    /// `validate = path`: a `fn(&Self) -> Result<(), ConfigErrors>` run after decoding.
    #[darling(default)]
    pub validate: Option<syn::Path>,
}

/// The derive input: container items and the fields or variants. Parsed
/// piece by piece so a mistake in one place does not hide the others.
#[derive(Debug)]
pub struct ContainerRaw {
    pub ident: Ident,
    pub generics: syn::Generics,
    pub attrs: ContainerAttrs,
    pub data: DataRaw,
}

/// The body of the derive input.
#[derive(Debug)]
pub enum DataRaw {
    /// A struct: its fields and whether they are named.
    Struct { named: bool, fields: Vec<FieldRaw> },
    /// An enum's variants.
    Enum(Vec<VariantRaw>),
    /// A union (never supported).
    Union,
}

/// Reads the derive input, collecting every syntax error.
pub fn container(input: &syn::DeriveInput, errors: &mut darling::error::Accumulator) -> ContainerRaw {
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("param")) {
        errors.push(
            Error::custom("`#[param(...)]` goes on fields and variants; the container takes `#[config(...)]`")
                .with_span(attr.path()),
        );
    }
    let attrs = errors
        .handle(ContainerAttrs::from_derive_input(input))
        .unwrap_or(ContainerAttrs { rename_all: None, validate: None });
    let data = match &input.data {
        syn::Data::Struct(s) => DataRaw::Struct {
            named: matches!(s.fields, syn::Fields::Named(_)),
            fields: s.fields.iter().filter_map(|f| errors.handle(FieldRaw::from_field(f))).collect(),
        },
        syn::Data::Enum(e) => {
            DataRaw::Enum(e.variants.iter().filter_map(|v| errors.handle(VariantRaw::from_variant(v))).collect())
        }
        syn::Data::Union(_) => DataRaw::Union,
    };
    ContainerRaw { ident: input.ident.clone(), generics: input.generics.clone(), attrs, data }
}

/// A struct field with its doc comment and `#[param]` attributes.
#[derive(Debug, FromField)]
#[darling(forward_attrs(doc, param, config))]
pub struct FieldRaw {
    pub ident: Option<Ident>,
    pub ty: Type,
    pub attrs: Vec<Attribute>,
}

/// An enum variant with its `#[param]` and `#[default]` attributes.
#[derive(Debug, FromVariant)]
#[darling(forward_attrs(doc, param, config, default))]
pub struct VariantRaw {
    pub ident: Ident,
    pub fields: ast::Fields<syn::Field>,
    pub attrs: Vec<Attribute>,
}

/// A number literal, possibly negative.
#[derive(Debug, Clone)]
pub struct NumberLit {
    pub value: f64,
    pub span: Span,
}

/// A `default = ...` literal, rendered as Conduit's string form.
#[derive(Debug, Clone)]
pub struct DefaultLit {
    /// The rendered default (`100`, `1.5`, `true`, or the string verbatim).
    pub text: String,
    /// What kind of literal it was.
    pub kind: DefaultKind,
    /// The number literal's type suffix (`u64` in `100u64`), or `""`.
    pub suffix: String,
    pub span: Span,
}

/// The literal kind of a default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultKind {
    Str,
    Int,
    Float,
    Bool,
}

/// One `#[param(...)]` item's value.
#[derive(Debug, Clone)]
pub enum ItemValue {
    Name(LitStr),
    Description(LitStr),
    Default(DefaultLit),
    Required(bool),
    Gt(NumberLit),
    Lt(NumberLit),
    Inclusion(Vec<LitStr>),
    Exclusion(Vec<LitStr>),
    Regex(LitStr),
    Flatten,
    Skip,
    File,
}

/// One `#[param(...)]` item: its key (for spans and messages) and value.
#[derive(Debug, Clone)]
pub struct Item {
    pub key: Ident,
    pub value: ItemValue,
}

impl Item {
    /// The item's name as written (`gt`, `default`, ...).
    pub fn name(&self) -> String {
        self.key.to_string()
    }
}

/// Every item `#[param(...)]` accepts.
pub const ITEMS: &[&str] = &[
    "name",
    "description",
    "default",
    "required",
    "gt",
    "lt",
    "inclusion",
    "exclusion",
    "regex",
    "flatten",
    "skip",
    "file",
];

/// Items accepted on an enum variant (`#[derive(ConfigValue)]`).
pub const VARIANT_ITEMS: &[&str] = &["name"];

/// Parses every `#[param(...)]` attribute in `attrs`, in order. Errors go to
/// `errors`; valid items are returned even when others fail.
pub fn param_items(attrs: &[Attribute], allowed: &[&str], errors: &mut darling::error::Accumulator) -> Vec<Item> {
    for attr in attrs.iter().filter(|a| a.path().is_ident("config")) {
        errors.push(
            Error::custom("`#[config(...)]` goes on the struct or enum; fields and variants take `#[param(...)]`")
                .with_span(attr.path()),
        );
    }
    let mut items = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("param")) {
        let list = match &attr.meta {
            Meta::List(list) => list,
            other => {
                errors.push(Error::custom("expected `#[param(...)]` with items in parentheses").with_span(other));
                continue;
            }
        };
        let metas = match NestedMeta::parse_meta_list(list.tokens.clone()) {
            Ok(m) => m,
            Err(e) => {
                errors.push(Error::from(e));
                continue;
            }
        };
        for nested in metas {
            match nested {
                NestedMeta::Lit(lit) => errors
                    .push(Error::custom("expected an item such as `name = \"...\"` or `required`").with_span(&lit)),
                NestedMeta::NameValueInvalidExpr(invalid) => errors.push(invalid.error.with_span(&invalid.value)),
                NestedMeta::Meta(meta) => {
                    if let Some(item) = errors.handle(item(&meta, allowed)) {
                        items.push(item);
                    }
                }
            }
        }
    }
    items
}

fn item(meta: &Meta, allowed: &[&str]) -> darling::Result<Item> {
    let path = meta.path();
    let Some(key) = path.get_ident().cloned() else {
        return Err(Error::custom("expected an item name such as `default` or `gt`").with_span(path));
    };
    let name = key.to_string();
    if !allowed.contains(&name.as_str()) {
        return Err(Error::unknown_field_with_alts(&name, allowed).with_span(&key));
    }
    let value = match name.as_str() {
        "name" => ItemValue::Name(lit_str(meta)?),
        "description" => ItemValue::Description(lit_str(meta)?),
        "default" => ItemValue::Default(default_lit(expr(meta)?)?),
        "required" => match meta {
            Meta::Path(_) => ItemValue::Required(true),
            _ => match expr(meta)? {
                Expr::Lit(syn::ExprLit { lit: Lit::Bool(b), .. }) => ItemValue::Required(b.value),
                other => return Err(Error::custom("expected `required` or `required = true|false`").with_span(other)),
            },
        },
        "gt" => ItemValue::Gt(number(expr(meta)?)?),
        "lt" => ItemValue::Lt(number(expr(meta)?)?),
        "inclusion" => ItemValue::Inclusion(str_list(expr(meta)?)?),
        "exclusion" => ItemValue::Exclusion(str_list(expr(meta)?)?),
        "regex" => ItemValue::Regex(lit_str(meta)?),
        "flatten" => flag(meta, ItemValue::Flatten)?,
        "skip" => flag(meta, ItemValue::Skip)?,
        "file" => flag(meta, ItemValue::File)?,
        _ => return Err(Error::unknown_field_with_alts(&name, allowed).with_span(&key)),
    };
    Ok(Item { key, value })
}

fn flag(meta: &Meta, value: ItemValue) -> darling::Result<ItemValue> {
    match meta {
        Meta::Path(_) => Ok(value),
        other => {
            let name = other.path().get_ident().map(Ident::to_string).unwrap_or_default();
            Err(Error::custom(format!("`{name}` takes no value: write `#[param({name})]`")).with_span(other))
        }
    }
}

fn expr(meta: &Meta) -> darling::Result<&Expr> {
    match meta {
        Meta::NameValue(nv) => Ok(strip_groups(&nv.value)),
        other => {
            let name = other.path().get_ident().map(Ident::to_string).unwrap_or_default();
            Err(Error::custom(format!("expected `{name} = ...`")).with_span(other))
        }
    }
}

fn strip_groups(mut e: &Expr) -> &Expr {
    loop {
        match e {
            Expr::Group(g) => e = &g.expr,
            Expr::Paren(p) => e = &p.expr,
            _ => return e,
        }
    }
}

fn lit_str(meta: &Meta) -> darling::Result<LitStr> {
    match expr(meta)? {
        Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) => Ok(s.clone()),
        other => Err(Error::custom("expected a string literal").with_span(other)),
    }
}

fn str_list(e: &Expr) -> darling::Result<Vec<LitStr>> {
    let Expr::Array(array) = e else {
        return Err(Error::custom("expected a list of strings, such as `[\"a\", \"b\"]`").with_span(e));
    };
    let mut errors = Error::accumulator();
    let mut out = Vec::new();
    for elem in &array.elems {
        match strip_groups(elem) {
            Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) => out.push(s.clone()),
            other => errors.push(Error::custom("expected a string literal").with_span(other)),
        }
    }
    if out.is_empty() && array.elems.is_empty() {
        errors.push(Error::custom("the list is empty: give at least one value").with_span(e));
    }
    errors.finish_with(out)
}

/// A possibly negated literal: (negative, literal).
fn signed_lit(e: &Expr) -> Option<(bool, &Lit)> {
    match e {
        Expr::Lit(l) => Some((false, &l.lit)),
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match strip_groups(&u.expr) {
            Expr::Lit(l) if matches!(l.lit, Lit::Int(_) | Lit::Float(_)) => Some((true, &l.lit)),
            _ => None,
        },
        _ => None,
    }
}

fn number(e: &Expr) -> darling::Result<NumberLit> {
    let bad = || Error::custom("expected a number literal, such as `0`, `-1` or `2.5`").with_span(e);
    let (negative, lit) = signed_lit(e).ok_or_else(bad)?;
    let value = match lit {
        Lit::Int(i) => i.base10_digits().parse::<f64>().map_err(|_| bad())?,
        Lit::Float(f) => f.base10_digits().parse::<f64>().map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    if !value.is_finite() {
        return Err(bad());
    }
    Ok(NumberLit { value: if negative { -value } else { value }, span: e.span() })
}

fn default_lit(e: &Expr) -> darling::Result<DefaultLit> {
    let bad = || {
        Error::custom("expected a string, integer, float or bool literal, such as `\"1s\"`, `100`, `1.5` or `true`")
            .with_span(e)
    };
    let (negative, lit) = signed_lit(e).ok_or_else(bad)?;
    let sign = if negative { "-" } else { "" };
    let suffix = match lit {
        Lit::Int(i) => i.suffix().to_owned(),
        Lit::Float(f) => f.suffix().to_owned(),
        _ => String::new(),
    };
    let (text, kind) = match lit {
        Lit::Str(s) => (s.value(), DefaultKind::Str),
        Lit::Bool(b) => (b.value.to_string(), DefaultKind::Bool),
        Lit::Int(i) => (format!("{sign}{}", i.base10_digits()), DefaultKind::Int),
        Lit::Float(f) => {
            let v: f64 = f.base10_digits().parse().map_err(|_| bad())?;
            if !v.is_finite() {
                return Err(bad());
            }
            (format!("{sign}{v}"), DefaultKind::Float)
        }
        _ => return Err(bad()),
    };
    Ok(DefaultLit { text, kind, suffix, span: e.span() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_text(tokens: proc_macro2::TokenStream) -> String {
        let e: Expr = syn::parse2(tokens).unwrap();
        default_lit(&e).unwrap().text
    }

    #[test]
    fn defaults_render_as_conduit_strings() {
        assert_eq!(default_text(quote::quote!(10_000)), "10000");
        assert_eq!(default_text(quote::quote!(100u32)), "100");
        assert_eq!(default_text(quote::quote!(0x10)), "16");
        assert_eq!(default_text(quote::quote!(-1)), "-1");
        assert_eq!(default_text(quote::quote!(1.5)), "1.5");
        assert_eq!(default_text(quote::quote!(-2.50)), "-2.5");
        assert_eq!(default_text(quote::quote!(true)), "true");
        assert_eq!(default_text(quote::quote!("1s")), "1s");
    }

    #[test]
    fn non_literal_defaults_are_rejected() {
        let e: Expr = syn::parse2(quote::quote!(some_const)).unwrap();
        assert!(default_lit(&e).is_err());
    }

    #[test]
    fn numbers_accept_negative_and_float_literals() {
        let n = |t| number(&syn::parse2::<Expr>(t).unwrap()).unwrap().value;
        assert_eq!(n(quote::quote!(-3)), -3.0);
        assert_eq!(n(quote::quote!(2.5)), 2.5);
        assert_eq!(n(quote::quote!(1_000)), 1000.0);
    }
}
