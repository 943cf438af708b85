//! Stage 2, model: the raw syntax lowered to what the derive means — one
//! entry per field (parameter, flatten or skip), names resolved, the
//! description taken, validations in the order written. Structural mistakes
//! (duplicate items, `skip` with other items, shapes) are reported here.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Type};

use crate::case::{RULES, RenameRule};
use crate::docs;
use crate::errors::Errors;
use crate::parse::{self, ContainerRaw, DataRaw, DefaultLit, Item, ItemValue};

/// A struct deriving `Config`.
pub struct StructModel {
    pub ident: Ident,
    pub validate: Option<syn::Path>,
    pub fields: Vec<Field>,
}

/// One field of a config struct.
pub struct Field {
    pub member: Ident,
    pub ty: Type,
    pub mode: Mode,
}

/// What a field is.
pub enum Mode {
    /// `#[param(skip)]`: not a parameter, `Default::default()`.
    Skip,
    /// `#[param(flatten)]`: a nested config without a prefix.
    Flatten(Span),
    /// A parameter (value, nested config or map) named `name`.
    Param(Param),
}

/// A parameter field's attributes.
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
pub struct Validation {
    pub kind: ValidationKind,
    /// The item's key (`gt`, `regex`, ...).
    pub key: Ident,
}

/// The validations of `#[param(...)]`.
pub enum ValidationKind {
    Required,
    Gt(f64, Span),
    Lt(f64, Span),
    Inclusion(Vec<LitStr>),
    Exclusion(Vec<LitStr>),
    Regex(LitStr),
}

/// A fieldless enum deriving `ConfigValue`.
pub struct EnumModel {
    pub ident: Ident,
    pub variants: Vec<Variant>,
}

/// One enum variant and its value.
pub struct Variant {
    pub ident: Ident,
    pub name: String,
    pub name_span: Span,
    /// Marked `#[default]`.
    pub is_default: bool,
}

/// An error at `span`.
pub fn err_at(span: Span, message: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(span, message)
}

fn rename_rule(raw: &Option<LitStr>, errors: &mut Errors) -> RenameRule {
    let Some(value) = raw else { return RenameRule::Camel };
    match RenameRule::from_name(&value.value()) {
        Some(rule) => rule,
        None => {
            let names: Vec<&str> = RULES.iter().map(|(n, _)| *n).collect();
            errors.push(err_at(
                value.span(),
                format!("unknown `rename_all` rule {:?}; expected one of: {}", value.value(), names.join(", ")),
            ));
            RenameRule::Camel
        }
    }
}

fn generics_error(raw: &ContainerRaw, what: &str, errors: &mut Errors) {
    let message = format!("{what} cannot be generic: each parameter needs one concrete type");
    if let Some(param) = raw.generics.params.first() {
        errors.push(err_at(param.span(), message));
    } else if let Some(clause) = &raw.generics.where_clause {
        errors.push(err_at(clause.where_token.span(), message));
    }
}

/// Lowers a `#[derive(Config)]` input.
pub fn struct_model(raw: &ContainerRaw, errors: &mut Errors) -> Option<StructModel> {
    generics_error(raw, "config structs", errors);
    let rule = rename_rule(&raw.attrs.rename_all, errors);
    let fields = match &raw.data {
        DataRaw::Enum(_) | DataRaw::Union => {
            errors.push(err_at(
                raw.ident.span(),
                "`#[derive(Config)]` needs a struct with named fields; \
                     for an enum of string values, derive `ConfigValue`",
            ));
            return None;
        }
        DataRaw::Struct { named, fields } => {
            if !named {
                errors.push(err_at(
                    raw.ident.span(),
                    "`#[derive(Config)]` needs a struct with named fields: each field name is a parameter",
                ));
                return None;
            }
            fields
        }
    };
    let fields = fields.iter().filter_map(|f| field(f, rule, errors)).collect();
    Some(StructModel { ident: raw.ident.clone(), validate: raw.attrs.validate.clone(), fields })
}

fn field(raw: &parse::FieldRaw, rule: RenameRule, errors: &mut Errors) -> Option<Field> {
    let member = raw.ident.clone()?;
    let items = parse::param_items(&raw.attrs, parse::ITEMS, errors);

    // Each item at most once.
    let mut seen: Vec<String> = Vec::new();
    for item in &items {
        let name = item.name();
        if seen.contains(&name) {
            errors.push(err_at(item.key.span(), format!("`{name}` is given twice for this field")));
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
                errors.push(err_at(
                    other.key.span(),
                    format!("`{exclusive}` cannot be combined with `{}`: {reason}", other.name()),
                ));
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
pub fn enum_model(raw: &ContainerRaw, errors: &mut Errors) -> Option<EnumModel> {
    generics_error(raw, "config value enums", errors);
    let rule = rename_rule(&raw.attrs.rename_all, errors);
    if let Some(path) = &raw.attrs.validate {
        errors.push(err_at(path.span(), "`validate` applies to structs deriving `Config`"));
    }
    let DataRaw::Enum(variants) = &raw.data else {
        errors.push(err_at(
            raw.ident.span(),
            "`#[derive(ConfigValue)]` needs an enum whose variants have no fields; \
                 for a struct of parameters use `#[derive(Config)]`",
        ));
        return None;
    };
    let mut out = Vec::new();
    for v in variants {
        if !matches!(v.fields, syn::Fields::Unit) {
            let span = v.fields.iter().next().map_or(v.ident.span(), |f| f.span());
            errors.push(err_at(span, "config value variants cannot have fields: each variant is one string value"));
            continue;
        }
        let items = parse::param_items(&v.attrs, parse::VARIANT_ITEMS, errors);
        let mut name = None;
        for item in items {
            if let ItemValue::Name(s) = item.value {
                if name.is_some() {
                    errors.push(err_at(item.key.span(), "`name` is given twice for this variant"));
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
        errors.push(err_at(raw.ident.span(), "a config value enum needs at least one variant"));
    }
    Some(EnumModel { ident: raw.ident.clone(), variants: out })
}
