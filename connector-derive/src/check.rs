//! Stage 3, checks: what the macro can prove without knowing the field
//! types. Regexes compile, a default passes its own validations, `gt < lt`,
//! inclusion and exclusion are disjoint, keys are unique and well formed.
//! Checks that depend on a field's type are emitted as `const` items instead
//! (see `emit.rs`), so rustc evaluates them with the type's trait constants.

use std::collections::HashMap;

use crate::errors::Errors;
use proc_macro2::Span;

use crate::model::{EnumModel, Mode, Param, StructModel, ValidationKind, err_at};
use crate::parse::DefaultKind;

/// Checks a config struct.
pub fn check_struct(model: &StructModel, errors: &mut Errors) {
    let mut names: HashMap<&str, String> = HashMap::new();
    for field in &model.fields {
        let Mode::Param(param) = &field.mode else { continue };
        check_name(&param.name, param.name_span, errors);
        if let Some(first) = names.get(param.name.as_str()) {
            errors.push(err_at(
                param.name_span,
                format!("parameter {:?} is defined twice: field `{first}` has the same name", param.name),
            ));
        } else {
            names.insert(&param.name, field.member.to_string());
        }
        check_param(param, errors);
    }
}

fn check_name(name: &str, span: Span, errors: &mut Errors) {
    let problem = if name.is_empty() {
        Some("a parameter name cannot be empty")
    } else if name.starts_with('.') || name.ends_with('.') || name.contains("..") {
        Some("a parameter name cannot start or end with `.` or contain an empty segment (`..`)")
    } else if name.contains('*') {
        Some("a parameter name cannot contain `*` (it is the wildcard of map keys)")
    } else if name.chars().any(char::is_whitespace) {
        Some("a parameter name cannot contain whitespace")
    } else {
        None
    };
    if let Some(p) = problem {
        errors.push(err_at(span, p));
    }
}

fn fmt_num(v: f64) -> String {
    format!("{v}")
}

fn check_param(param: &Param, errors: &mut Errors) {
    let mut gt = None;
    let mut lt = None;
    let mut inclusion = None;
    let mut regexes = Vec::new();
    for v in &param.validations {
        match &v.kind {
            ValidationKind::Gt(n, span) => gt = Some((*n, *span)),
            ValidationKind::Lt(n, span) => lt = Some((*n, *span)),
            ValidationKind::Inclusion(list) => inclusion = Some(list),
            ValidationKind::Regex(lit) => match regex_lite::Regex::new(&lit.value()) {
                Ok(re) => regexes.push((re, lit.value())),
                Err(e) => errors.push(err_at(lit.span(), regex_error(&e.to_string()))),
            },
            ValidationKind::Exclusion(_) | ValidationKind::Required => {}
        }
    }
    if let (Some((g, _)), Some((l, lspan))) = (gt, lt)
        && g >= l
    {
        errors.push(err_at(
            lspan,
            format!(
                "no value can be greater than {} and less than {}: `gt` must be less than `lt`",
                fmt_num(g),
                fmt_num(l)
            ),
        ));
    }
    if let (Some(default), Some(required)) =
        (&param.default, param.validations.iter().find(|v| matches!(v.kind, ValidationKind::Required)))
        && !default.text.is_empty()
    {
        errors.push(err_at(
            required.key.span(),
            "`required` and `default` contradict each other: a parameter with a default is never missing; \
             keep one of them",
        ));
    }
    for v in &param.validations {
        if let (ValidationKind::Exclusion(ex), Some(inc)) = (&v.kind, inclusion) {
            for lit in ex {
                if inc.iter().any(|i| i.value() == lit.value()) {
                    errors.push(err_at(
                        lit.span(),
                        format!("{:?} is in both `inclusion` and `exclusion`, so no value can pass", lit.value()),
                    ));
                }
            }
        }
    }

    let Some(default) = &param.default else { return };
    if default.text.is_empty() {
        return;
    }
    let text = &default.text;
    let number: Option<f64> = match default.kind {
        DefaultKind::Int | DefaultKind::Float | DefaultKind::Str => text.parse().ok().filter(|n: &f64| n.is_finite()),
        DefaultKind::Bool => None,
    };
    for v in &param.validations {
        let problem = match &v.kind {
            ValidationKind::Gt(g, _) => {
                number.filter(|n| *n <= *g).map(|_| format!("it must be greater than {}", fmt_num(*g)))
            }
            ValidationKind::Lt(l, _) => {
                number.filter(|n| *n >= *l).map(|_| format!("it must be less than {}", fmt_num(*l)))
            }
            ValidationKind::Inclusion(list) => (!list.iter().any(|s| s.value() == *text)).then(|| {
                let list: Vec<String> = list.iter().map(|s| s.value()).collect();
                format!("it must be one of [{}] (`inclusion`)", list.join(","))
            }),
            ValidationKind::Exclusion(list) => {
                list.iter().any(|s| s.value() == *text).then(|| format!("{text:?} is excluded by `exclusion`"))
            }
            ValidationKind::Regex(lit) => regexes
                .iter()
                .find(|(_, src)| *src == lit.value())
                .filter(|(re, _)| !re.is_match(text))
                .map(|(_, src)| format!("it does not match the regex {src:?}")),
            ValidationKind::Required => None,
        };
        if let Some(problem) = problem {
            errors.push(err_at(default.span, format!("the default {text:?} fails its own validation: {problem}")));
        }
    }
}

/// The compile error for a pattern regex-lite rejects, with a way out for a
/// Unicode class (which Go accepts).
fn regex_error(message: &str) -> String {
    if message.contains("Unicode character classes") {
        format!(
            "invalid regex: {message} (`\\p{{..}}`, `\\pL`); list the characters or ranges instead, e.g. `[a-zA-Zà-ÿ]`"
        )
    } else {
        format!("invalid regex: {message}")
    }
}

/// Checks a config value enum.
pub fn check_enum(model: &EnumModel, errors: &mut Errors) {
    let mut names: HashMap<&str, String> = HashMap::new();
    let mut defaults = 0;
    for v in &model.variants {
        if v.name.is_empty() {
            errors.push(err_at(v.name_span, "a variant's value cannot be empty"));
        }
        if v.name.contains(',') {
            errors.push(err_at(v.name_span, "a variant's value cannot contain `,` (lists are comma-separated)"));
        }
        if let Some(first) = names.get(v.name.as_str()) {
            errors.push(err_at(
                v.name_span,
                format!("value {:?} is used twice: variant `{first}` has the same name", v.name),
            ));
        } else {
            names.insert(&v.name, v.ident.to_string());
        }
        if v.is_default {
            defaults += 1;
            if defaults > 1 {
                errors.push(err_at(v.ident.span(), "only one variant can be `#[default]`"));
            }
        }
    }
}
