//! Stage 1, syntax: the container's `#[config(...)]` items, the fields or
//! variants, and their `#[param(...)]` items, parsed with syn in the order
//! written (validations keep that order, across several `#[param]`
//! attributes too). A mistake in one item does not hide the others.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Lit, LitStr, Meta, Token, Type};

use crate::errors::{Errors, unknown_item};

/// The container's `#[config(...)]` items.
pub struct ContainerAttrs {
    /// `rename_all = "..."` (serde's casing names).
    pub rename_all: Option<LitStr>,
    /// `validate = path`: a `fn(&Self) -> Result<(), ConfigErrors>` run after decoding.
    pub validate: Option<syn::Path>,
}

/// The derive input: container items and the fields or variants. Parsed
/// piece by piece so a mistake in one place does not hide the others.
pub struct ContainerRaw {
    pub ident: Ident,
    pub generics: syn::Generics,
    pub attrs: ContainerAttrs,
    pub data: DataRaw,
}

/// The body of the derive input.
pub enum DataRaw {
    /// A struct: its fields and whether they are named.
    Struct { named: bool, fields: Vec<FieldRaw> },
    /// An enum's variants.
    Enum(Vec<VariantRaw>),
    /// A union (never supported).
    Union,
}

/// Items `#[config(...)]` accepts.
const CONTAINER_ITEMS: &[&str] = &["rename_all", "validate"];

/// Reads the derive input, collecting every syntax error.
pub fn container(input: &syn::DeriveInput, errors: &mut Errors) -> ContainerRaw {
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("param")) {
        errors.at(
            attr.path().span(),
            "`#[param(...)]` goes on fields and variants; the container takes `#[config(...)]`",
        );
    }
    let attrs = container_attrs(&input.attrs, errors);
    let data = match &input.data {
        syn::Data::Struct(s) => DataRaw::Struct {
            named: matches!(s.fields, syn::Fields::Named(_)),
            fields: s
                .fields
                .iter()
                .map(|f| FieldRaw { ident: f.ident.clone(), ty: f.ty.clone(), attrs: f.attrs.clone() })
                .collect(),
        },
        syn::Data::Enum(e) => DataRaw::Enum(
            e.variants
                .iter()
                .map(|v| VariantRaw { ident: v.ident.clone(), fields: v.fields.clone(), attrs: v.attrs.clone() })
                .collect(),
        ),
        syn::Data::Union(_) => DataRaw::Union,
    };
    ContainerRaw { ident: input.ident.clone(), generics: input.generics.clone(), attrs, data }
}

fn container_attrs(attrs: &[Attribute], errors: &mut Errors) -> ContainerAttrs {
    let mut out = ContainerAttrs { rename_all: None, validate: None };
    attr_items(attrs, "config", CONTAINER_ITEMS, errors, &mut |raw, errors| {
        let name = raw.key.to_string();
        let given_twice = match name.as_str() {
            "rename_all" => out.rename_all.is_some(),
            _ => out.validate.is_some(),
        };
        if given_twice {
            errors.at(raw.key.span(), format!("`{name}` is given twice in `#[config(...)]`"));
            return;
        }
        match name.as_str() {
            "rename_all" => out.rename_all = errors.handle(raw.value().and_then(lit_str)),
            _ => out.validate = errors.handle(raw.value().and_then(path)),
        }
    });
    out
}

/// A struct field with its attributes (doc comments, `#[param]`, ...).
pub struct FieldRaw {
    pub ident: Option<Ident>,
    pub ty: Type,
    pub attrs: Vec<Attribute>,
}

/// An enum variant with its attributes (`#[param]`, `#[default]`, ...).
pub struct VariantRaw {
    pub ident: Ident,
    pub fields: syn::Fields,
    pub attrs: Vec<Attribute>,
}

/// A number literal, possibly negative.
#[derive(Clone)]
pub struct NumberLit {
    pub value: f64,
    pub span: Span,
}

/// A `default = ...` literal, rendered as Conduit's string form.
#[derive(Clone)]
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
#[derive(Clone)]
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
#[derive(Clone)]
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

/// How an item was written after its key.
enum Form {
    /// `key`
    Bare,
    /// `key = value`: the value's tokens.
    Value(TokenStream),
    /// `key(...)`, `key[...]` or `key {...}`.
    List,
}

/// One item of an attribute, as written: `key`, `key = value` or `key(...)`.
struct RawItem {
    key: Ident,
    form: Form,
    /// Every token of the item, for spans.
    tokens: TokenStream,
}

impl RawItem {
    fn name(&self) -> String {
        self.key.to_string()
    }

    /// The value of `key = value`.
    fn value(&self) -> syn::Result<TokenStream> {
        match &self.form {
            Form::Value(v) => Ok(v.clone()),
            _ => Err(syn::Error::new(self.tokens.span(), format!("expected `{} = ...`", self.name()))),
        }
    }
}

/// Calls `on_item` with each item of every `#[name(...)]` attribute in
/// `attrs`, in the order written, whose key is in `allowed`. Errors go to
/// `errors`, in source order as `on_item` reports its own there too.
fn attr_items(
    attrs: &[Attribute],
    name: &str,
    allowed: &[&str],
    errors: &mut Errors,
    on_item: &mut dyn FnMut(RawItem, &mut Errors),
) {
    for attr in attrs.iter().filter(|a| a.path().is_ident(name)) {
        let list = match &attr.meta {
            Meta::List(list) => list,
            other => {
                errors.at(other.span(), format!("expected `#[{name}(...)]` with items in parentheses"));
                continue;
            }
        };
        let parser = |input: ParseStream<'_>| {
            split_items(input, name, allowed, errors, on_item);
            Ok(())
        };
        // `split_items` recovers from every mistake, so parsing cannot fail.
        if let Err(e) = parser.parse2(list.tokens.clone()) {
            errors.push(e);
        }
    }
}

/// Splits an attribute's tokens on top-level commas into items. Every
/// mistake is reported and parsing continues after the next comma.
fn split_items(
    input: ParseStream<'_>,
    attribute: &str,
    allowed: &[&str],
    errors: &mut Errors,
    on_item: &mut dyn FnMut(RawItem, &mut Errors),
) {
    while !input.is_empty() {
        let mut tokens = TokenStream::new();
        while !input.is_empty() && !input.peek(Token![,]) {
            // Cannot fail: the input is not empty.
            if let Ok(tt) = input.parse::<TokenTree>() {
                tokens.extend([tt]);
            }
        }
        let comma = input.parse::<Option<Token![,]>>().ok().flatten();
        if tokens.is_empty() {
            errors.at(comma.map_or_else(|| input.span(), |c| c.span), "expected an item before `,`");
            continue;
        }
        if let Some(item) = errors.handle(raw_item(tokens, attribute, allowed)) {
            on_item(item, errors);
        }
    }
}

fn raw_item(tokens: TokenStream, attribute: &str, allowed: &[&str]) -> syn::Result<RawItem> {
    let whole = tokens.clone();
    let parser = |input: ParseStream<'_>| {
        if input.peek(Lit) && !(input.peek(syn::LitBool) && input.peek2(Token![=])) {
            return Err(syn::Error::new(whole.span(), "expected an item such as `name = \"...\"` or `required`"));
        }
        let key = input
            .call(Ident::parse_any)
            .map_err(|_| syn::Error::new(whole.span(), "expected an item name such as `default` or `gt`"))?;
        if input.peek(Token![::]) {
            return Err(syn::Error::new(whole.span(), "expected an item name such as `default` or `gt`"));
        }
        let name = key.to_string();
        if !allowed.contains(&name.as_str()) {
            return Err(syn::Error::new(key.span(), unknown_item(&name, attribute, allowed)));
        }
        let form = if input.peek(Token![=]) {
            let eq: Token![=] = input.parse()?;
            let value: TokenStream = input.parse()?;
            if value.is_empty() {
                return Err(syn::Error::new(eq.span, format!("expected a value after `{name} =`")));
            }
            Form::Value(value)
        } else if input.is_empty() {
            Form::Bare
        } else {
            if input.parse::<proc_macro2::Group>().is_err() {
                return Err(input.error(format!("expected `,`, `=` or the end of `#[{attribute}(...)]`")));
            }
            if !input.is_empty() {
                return Err(input.error(format!("expected `,` or the end of `#[{attribute}(...)]`")));
            }
            Form::List
        };
        Ok(RawItem { key, form, tokens: whole.clone() })
    };
    parser.parse2(tokens)
}

/// Parses every `#[param(...)]` attribute in `attrs`, in order. Errors go to
/// `errors`; valid items are returned even when others fail.
pub fn param_items(attrs: &[Attribute], allowed: &[&str], errors: &mut Errors) -> Vec<Item> {
    for attr in attrs.iter().filter(|a| a.path().is_ident("config")) {
        errors.at(
            attr.path().span(),
            "`#[config(...)]` goes on the struct or enum; fields and variants take `#[param(...)]`",
        );
    }
    let mut items = Vec::new();
    attr_items(attrs, "param", allowed, errors, &mut |raw, errors| items.extend(errors.handle(item(raw))));
    items
}

fn item(raw: RawItem) -> syn::Result<Item> {
    let value = match raw.name().as_str() {
        "name" => ItemValue::Name(lit_str(raw.value()?)?),
        "description" => ItemValue::Description(lit_str(raw.value()?)?),
        "default" => ItemValue::Default(default_lit(raw.value()?)?),
        "required" => match &raw.form {
            Form::Bare => ItemValue::Required(true),
            _ => {
                let value = raw.value()?;
                match syn::parse2::<Lit>(strip_groups(value.clone())) {
                    Ok(Lit::Bool(b)) => ItemValue::Required(b.value),
                    _ => {
                        return Err(syn::Error::new(value.span(), "expected `required` or `required = true|false`"));
                    }
                }
            }
        },
        "gt" => ItemValue::Gt(number(raw.value()?)?),
        "lt" => ItemValue::Lt(number(raw.value()?)?),
        "inclusion" => ItemValue::Inclusion(str_list(raw.value()?)?),
        "exclusion" => ItemValue::Exclusion(str_list(raw.value()?)?),
        "regex" => ItemValue::Regex(lit_str(raw.value()?)?),
        "flatten" => flag(&raw, ItemValue::Flatten)?,
        "skip" => flag(&raw, ItemValue::Skip)?,
        "file" => flag(&raw, ItemValue::File)?,
        other => return Err(syn::Error::new(raw.key.span(), format!("unknown item `{other}`"))),
    };
    Ok(Item { key: raw.key, value })
}

fn flag(raw: &RawItem, value: ItemValue) -> syn::Result<ItemValue> {
    match raw.form {
        Form::Bare => Ok(value),
        _ => {
            let name = raw.name();
            Err(syn::Error::new(raw.tokens.span(), format!("`{name}` takes no value: write `#[param({name})]`")))
        }
    }
}

/// The tokens inside parentheses and invisible groups (from macro
/// substitutions), which wrap one value.
fn strip_groups(mut tokens: TokenStream) -> TokenStream {
    loop {
        let mut iter = tokens.clone().into_iter();
        match (iter.next(), iter.next()) {
            (Some(TokenTree::Group(g)), None) if matches!(g.delimiter(), Delimiter::None | Delimiter::Parenthesis) => {
                tokens = g.stream();
            }
            _ => return tokens,
        }
    }
}

fn lit_str(tokens: TokenStream) -> syn::Result<LitStr> {
    syn::parse2::<LitStr>(strip_groups(tokens.clone()))
        .map_err(|_| syn::Error::new(tokens.span(), "expected a string literal"))
}

fn path(tokens: TokenStream) -> syn::Result<syn::Path> {
    let bad = || syn::Error::new(tokens.span(), "expected a path to a function, such as `Self::validate`");
    let stripped = strip_groups(tokens.clone());
    if let Ok(s) = syn::parse2::<LitStr>(stripped.clone()) {
        return s.parse::<syn::Path>().map_err(|_| bad());
    }
    syn::parse2::<syn::Path>(stripped).map_err(|_| bad())
}

fn str_list(tokens: TokenStream) -> syn::Result<Vec<LitStr>> {
    let bad = || syn::Error::new(tokens.span(), "expected a list of strings, such as `[\"a\", \"b\"]`");
    let stripped = strip_groups(tokens.clone());
    let mut iter = stripped.into_iter();
    let group = match (iter.next(), iter.next()) {
        (Some(TokenTree::Group(g)), None) if g.delimiter() == Delimiter::Bracket => g,
        _ => return Err(bad()),
    };
    let mut errors = Errors::default();
    let mut out = Vec::new();
    let mut elems = 0;
    let parser = |input: ParseStream<'_>| {
        while !input.is_empty() {
            let mut elem = TokenStream::new();
            while !input.is_empty() && !input.peek(Token![,]) {
                elem.extend([input.parse::<TokenTree>()?]);
            }
            let comma: Option<Token![,]> = input.parse()?;
            elems += 1;
            if elem.is_empty() {
                let span = comma.map_or_else(|| input.span(), |c| c.span);
                errors.at(span, "expected a string literal before `,`");
                continue;
            }
            match syn::parse2::<LitStr>(strip_groups(elem.clone())) {
                Ok(s) => out.push(s),
                Err(_) => errors.at(elem.span(), "expected a string literal"),
            }
        }
        Ok(())
    };
    parser.parse2(group.stream())?;
    if elems == 0 {
        errors.at(group.span(), "the list is empty: give at least one value");
    }
    match errors.into_error() {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// A possibly negated literal: (negative, literal).
fn signed_lit(tokens: TokenStream) -> Option<(bool, Lit)> {
    let tokens = strip_groups(tokens);
    let mut iter = tokens.clone().into_iter();
    match iter.next() {
        Some(TokenTree::Punct(p)) if p.as_char() == '-' => {
            let rest = strip_groups(iter.collect());
            // syn reads `-1` as one literal: reject a second sign.
            if matches!(rest.clone().into_iter().next(), Some(TokenTree::Punct(_))) {
                return None;
            }
            let lit = syn::parse2::<Lit>(rest).ok()?;
            matches!(lit, Lit::Int(_) | Lit::Float(_)).then_some((true, lit))
        }
        _ => syn::parse2::<Lit>(tokens).ok().map(|lit| (false, lit)),
    }
}

fn number(tokens: TokenStream) -> syn::Result<NumberLit> {
    let span = tokens.span();
    let bad = || syn::Error::new(span, "expected a number literal, such as `0`, `-1` or `2.5`");
    let (negative, lit) = signed_lit(tokens).ok_or_else(bad)?;
    let value = match &lit {
        Lit::Int(i) => i.base10_digits().parse::<f64>().map_err(|_| bad())?,
        Lit::Float(f) => f.base10_digits().parse::<f64>().map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    if !value.is_finite() {
        return Err(bad());
    }
    Ok(NumberLit { value: if negative { -value } else { value }, span })
}

fn default_lit(tokens: TokenStream) -> syn::Result<DefaultLit> {
    let span = tokens.span();
    let bad = || {
        syn::Error::new(
            span,
            "expected a string, integer, float or bool literal, such as `\"1s\"`, `100`, `1.5` or `true`",
        )
    };
    let (negative, lit) = signed_lit(tokens).ok_or_else(bad)?;
    let sign = if negative { "-" } else { "" };
    let suffix = match &lit {
        Lit::Int(i) => i.suffix().to_owned(),
        Lit::Float(f) => f.suffix().to_owned(),
        _ => String::new(),
    };
    let (text, kind) = match &lit {
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
    Ok(DefaultLit { text, kind, suffix, span })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_text(tokens: TokenStream) -> String {
        default_lit(tokens).unwrap().text
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
        assert!(default_lit(quote::quote!(some_const)).is_err());
        assert!(default_lit(quote::quote!(--1)).is_err());
        assert!(default_lit(quote::quote!(-true)).is_err());
    }

    fn param_attrs(tokens: TokenStream) -> Vec<Attribute> {
        let input: syn::DeriveInput = syn::parse2(tokens).unwrap();
        input.attrs
    }

    fn messages(errors: Errors) -> Vec<String> {
        errors.into_error().map_or_else(Vec::new, |e| e.into_iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn items_keep_their_order_across_attributes() {
        let attrs = param_attrs(quote::quote! {
            #[param(required, gt = -1, name = "a.b")]
            #[param(inclusion = ["x", ("y")], default = -2.50, file)]
            struct S;
        });
        let mut errors = Errors::default();
        let items = param_items(&attrs, ITEMS, &mut errors);
        assert!(messages(errors).is_empty());
        let names: Vec<String> = items.iter().map(Item::name).collect();
        assert_eq!(names, ["required", "gt", "name", "inclusion", "default", "file"]);
        assert!(matches!(items[0].value, ItemValue::Required(true)));
        assert!(matches!(&items[1].value, ItemValue::Gt(n) if n.value == -1.0));
        assert!(matches!(&items[2].value, ItemValue::Name(s) if s.value() == "a.b"));
        assert!(matches!(&items[3].value, ItemValue::Inclusion(l) if l.len() == 2 && l[1].value() == "y"));
        assert!(matches!(&items[4].value, ItemValue::Default(d) if d.text == "-2.5"));
    }

    #[test]
    fn every_mistake_in_one_attribute_is_reported() {
        let attrs = param_attrs(quote::quote! {
            #[param(requird, gt = "x", skip = true, inclusion = [], , "lit", a::b, name = "ok", regex(1), exclusion = ["a", 1])]
            struct S;
        });
        let mut errors = Errors::default();
        let items = param_items(&attrs, ITEMS, &mut errors);
        assert_eq!(
            messages(errors),
            [
                "unknown item `requird` in `#[param(...)]`; did you mean `required`?",
                "expected a number literal, such as `0`, `-1` or `2.5`",
                "`skip` takes no value: write `#[param(skip)]`",
                "the list is empty: give at least one value",
                "expected an item before `,`",
                "expected an item such as `name = \"...\"` or `required`",
                "expected an item name such as `default` or `gt`",
                "expected `regex = ...`",
                "expected a string literal",
            ]
        );
        assert_eq!(items.len(), 1);
        assert!(matches!(&items[0].value, ItemValue::Name(s) if s.value() == "ok"));
    }

    #[test]
    fn container_items_are_checked() {
        let input: syn::DeriveInput = syn::parse2(quote::quote! {
            #[config(rename_all = "snake_case", validate = Self::check)]
            #[config(rename_all = "camelCase", validat = x, validate = 1)]
            #[config]
            struct S;
        })
        .unwrap();
        let mut errors = Errors::default();
        let attrs = container_attrs(&input.attrs, &mut errors);
        assert_eq!(attrs.rename_all.map(|s| s.value()).as_deref(), Some("snake_case"));
        assert!(attrs.validate.is_some_and(|p| p.segments.len() == 2));
        assert_eq!(
            messages(errors),
            [
                "`rename_all` is given twice in `#[config(...)]`",
                "unknown item `validat` in `#[config(...)]`; did you mean `validate`?",
                "`validate` is given twice in `#[config(...)]`",
                "expected `#[config(...)]` with items in parentheses",
            ]
        );
    }

    #[test]
    fn numbers_accept_negative_and_float_literals() {
        let n = |t| number(t).unwrap().value;
        assert_eq!(n(quote::quote!(-3)), -3.0);
        assert_eq!(n(quote::quote!(2.5)), 2.5);
        assert_eq!(n(quote::quote!(1_000)), 1000.0);
    }
}
