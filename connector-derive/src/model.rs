//! Stage 2, model: the raw syntax lowered to what the derive means — one
//! entry per field (parameter, flatten or skip), names resolved, the
//! description taken, validations in the order written. Structural mistakes
//! (duplicate items, `skip` with other items, shapes) are reported here.

use darling::util::SpannedValue;
use darling::{Error, ast};
use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Type};

use crate::case::{RULES, RenameRule};
use crate::docs;
use crate::parse::{self, ContainerRaw, DataRaw, DefaultLit, Item, ItemValue};

/// A struct deriving `Config`.
#[derive(Debug)]
pub struct StructModel {
    pub ident: Ident,
    pub validate: Option<syn::Path>,
    pub fields: Vec<Field>,
}

/// One field of a config struct.
#[derive(Debug)]
pub struct Field {
    pub member: Ident,
    pub ty: Type,
    pub mode: Mode,
}

/// What a field is.
#[derive(Debug)]
pub enum Mode {
    /// `#[param(skip)]`: not a parameter, `Default::default()`.
    Skip,
    /// `#[param(flatten)]`: a nested config without a prefix.
    Flatten(Span),
    /// A parameter (value, nested config or map) named `name`.
    Param(Param),
}

/// A parameter field's attributes.
#[derive(Debug)]
pub struct Param {
    pub name: String,
    /// The `name = "..."` literal, or the field ident.
    pub name_span: Span,
    pub description: String,
    pub default: Option<DefaultLit>,
    pub validations: Vec<Validation>,
    /// `#[param(file)]`.
    pub file: Option<Span>,
}

/// A validation and the item key it came from.
#[derive(Debug)]
pub struct Validation {
    pub kind: ValidationKind,
    /// The item's key (`gt`, `regex`, ...).
    pub key: Ident,
}

/// The validations of `#[param(...)]`.
#[derive(Debug)]
pub enum ValidationKind {
    Required,
    Gt(f64, Span),
    Lt(f64, Span),
    Inclusion(Vec<LitStr>),
    Exclusion(Vec<LitStr>),
    Regex(LitStr),
}

/// A fieldless enum deriving `ConfigValue`.
#[derive(Debug)]
pub struct EnumModel {
    pub ident: Ident,
    pub variants: Vec<Variant>,
}

/// One enum variant and its value.
#[derive(Debug)]
pub struct Variant {
    pub ident: Ident,
    pub name: String,
    pub name_span: Span,
    /// Marked `#[default]`.
    pub is_default: bool,
}

/// An error at `span`.
pub fn err_at(span: Span, message: impl std::fmt::Display) -> Error {
    syn::Error::new(span, message).into()
}

fn rename_rule(raw: &Option<SpannedValue<String>>, errors: &mut darling::error::Accumulator) -> RenameRule {
    let Some(value) = raw else { return RenameRule::Camel };
    match RenameRule::from_name(value) {
        Some(rule) => rule,
        None => {
            let names: Vec<&str> = RULES.iter().map(|(n, _)| *n).collect();
            errors.push(err_at(
                value.span(),
                format!("unknown `rename_all` rule {:?}; expected one of: {}", **value, names.join(", ")),
            ));
            RenameRule::Camel
        }
    }
}

fn generics_error(raw: &ContainerRaw, what: &str, errors: &mut darling::error::Accumulator) {
    let message = format!("{what} cannot be generic: each parameter needs one concrete type");
    if let Some(param) = raw.generics.params.first() {
        errors.push(Error::custom(message).with_span(param));
    } else if let Some(clause) = &raw.generics.where_clause {
        errors.push(Error::custom(message).with_span(&clause.where_token));
    }
}

/// Lowers a `#[derive(Config)]` input.
pub fn struct_model(raw: &ContainerRaw, errors: &mut darling::error::Accumulator) -> Option<StructModel> {
    generics_error(raw, "config structs", errors);
    let rule = rename_rule(&raw.attrs.rename_all, errors);
    let fields = match &raw.data {
        DataRaw::Enum(_) | DataRaw::Union => {
            errors.push(
                Error::custom(
                    "`#[derive(Config)]` needs a struct with named fields; \
                     for an enum of string values, derive `ConfigValue`",
                )
                .with_span(&raw.ident),
            );
            return None;
        }
        DataRaw::Struct { named, fields } => {
            if !named {
                errors.push(
                    Error::custom(
                        "`#[derive(Config)]` needs a struct with named fields: each field name is a parameter",
                    )
                    .with_span(&raw.ident),
                );
                return None;
            }
            fields
        }
    };
    let fields = fields.iter().filter_map(|f| field(f, rule, errors)).collect();
    Some(StructModel { ident: raw.ident.clone(), validate: raw.attrs.validate.clone(), fields })
}

fn field(raw: &parse::FieldRaw, rule: RenameRule, errors: &mut darling::error::Accumulator) -> Option<Field> {
    let member = raw.ident.clone()?;
    let items = parse::param_items(&raw.attrs, parse::ITEMS, errors);

    // Each item at most once.
    let mut seen: Vec<String> = Vec::new();
    for item in &items {
        let name = item.name();
        if seen.contains(&name) {
            errors.push(Error::custom(format!("`{name}` is given twice for this field")).with_span(&item.key));
        } else {
            seen.push(name);
        }
    }

    // `skip` and `flatten` stand alone.
    for exclusive in ["skip", "flatten"] {
        if let Some(marker) = items.iter().find(|i| i.key == exclusive) {
            for other in items.iter().filter(|i| i.key != exclusive) {
                let reason = if exclusive == "skip" {
                    "a skipped field is not a parameter"
                } else {
                    "a flattened field's parameters are those of its type"
                };
                errors.push(
                    Error::custom(format!("`{exclusive}` cannot be combined with `{}`: {reason}", other.name()))
                        .with_span(&other.key),
                );
            }
            let mode = if exclusive == "skip" { Mode::Skip } else { Mode::Flatten(marker.key.span()) };
            return Some(Field { member, ty: raw.ty.clone(), mode });
        }
    }

    let mut name = None;
    let mut description = None;
    let mut default = None;
    let mut file = None;
    let mut validations = Vec::new();
    for Item { key, value } in items {
        match value {
            ItemValue::Name(s) => name = name.or(Some(s)),
            ItemValue::Description(s) => description = description.or(Some(s.value())),
            ItemValue::Default(d) => default = default.or(Some(d)),
            ItemValue::File => file = file.or(Some(key.span())),
            ItemValue::Required(true) => validations.push(Validation { kind: ValidationKind::Required, key }),
            ItemValue::Required(false) => {}
            ItemValue::Gt(n) => validations.push(Validation { kind: ValidationKind::Gt(n.value, n.span), key }),
            ItemValue::Lt(n) => validations.push(Validation { kind: ValidationKind::Lt(n.value, n.span), key }),
            ItemValue::Inclusion(l) => validations.push(Validation { kind: ValidationKind::Inclusion(l), key }),
            ItemValue::Exclusion(l) => validations.push(Validation { kind: ValidationKind::Exclusion(l), key }),
            ItemValue::Regex(r) => validations.push(Validation { kind: ValidationKind::Regex(r), key }),
            ItemValue::Flatten | ItemValue::Skip => {}
        }
    }
    let (name, name_span) = match name {
        Some(lit) => (lit.value(), lit.span()),
        None => (rule.apply_to_field(&member.unraw().to_string()), member.span()),
    };
    let description = description.unwrap_or_else(|| docs::description(&raw.attrs));
    let param = Param { name, name_span, description, default, validations, file };
    Some(Field { member, ty: raw.ty.clone(), mode: Mode::Param(param) })
}

/// Lowers a `#[derive(ConfigValue)]` input.
pub fn enum_model(raw: &ContainerRaw, errors: &mut darling::error::Accumulator) -> Option<EnumModel> {
    generics_error(raw, "config value enums", errors);
    let rule = rename_rule(&raw.attrs.rename_all, errors);
    if let Some(path) = &raw.attrs.validate {
        errors.push(Error::custom("`validate` applies to structs deriving `Config`").with_span(path));
    }
    let DataRaw::Enum(variants) = &raw.data else {
        errors.push(
            Error::custom(
                "`#[derive(ConfigValue)]` needs an enum whose variants have no fields; \
                 for a struct of parameters use `#[derive(Config)]`",
            )
            .with_span(&raw.ident),
        );
        return None;
    };
    let mut out = Vec::new();
    for v in variants {
        if v.fields.style != ast::Style::Unit {
            let span = v.fields.fields.first().map_or(v.ident.span(), |f| f.span());
            errors.push(err_at(span, "config value variants cannot have fields: each variant is one string value"));
            continue;
        }
        let items = parse::param_items(&v.attrs, parse::VARIANT_ITEMS, errors);
        let mut name = None;
        for item in items {
            if let ItemValue::Name(s) = item.value {
                if name.is_some() {
                    errors.push(Error::custom("`name` is given twice for this variant").with_span(&item.key));
                } else {
                    name = Some(s);
                }
            }
        }
        let (name, name_span) = match name {
            Some(lit) => (lit.value(), lit.span()),
            None => (rule.apply_to_variant(&v.ident.unraw().to_string()), v.ident.span()),
        };
        let is_default = v.attrs.iter().any(|a| a.path().is_ident("default"));
        out.push(Variant { ident: v.ident.clone(), name, name_span, is_default });
    }
    if variants.is_empty() {
        errors.push(Error::custom("a config value enum needs at least one variant").with_span(&raw.ident));
    }
    Some(EnumModel { ident: raw.ident.clone(), variants: out })
}
