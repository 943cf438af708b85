//! Parameter and variant naming: the default camelCase and serde's
//! `rename_all` rules.

/// A `rename_all` rule, named as serde names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenameRule {
    /// `lowercase`
    Lower,
    /// `UPPERCASE`
    Upper,
    /// `PascalCase`
    Pascal,
    /// `camelCase` (the default)
    Camel,
    /// `snake_case`
    Snake,
    /// `SCREAMING_SNAKE_CASE`
    ScreamingSnake,
    /// `kebab-case`
    Kebab,
    /// `SCREAMING-KEBAB-CASE`
    ScreamingKebab,
}

/// Every rule with its serde name, in serde's order.
pub const RULES: &[(&str, RenameRule)] = &[
    ("lowercase", RenameRule::Lower),
    ("UPPERCASE", RenameRule::Upper),
    ("PascalCase", RenameRule::Pascal),
    ("camelCase", RenameRule::Camel),
    ("snake_case", RenameRule::Snake),
    ("SCREAMING_SNAKE_CASE", RenameRule::ScreamingSnake),
    ("kebab-case", RenameRule::Kebab),
    ("SCREAMING-KEBAB-CASE", RenameRule::ScreamingKebab),
];

impl RenameRule {
    /// The rule named `name` (serde's spelling).
    pub fn from_name(name: &str) -> Option<Self> {
        RULES.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
    }

    /// Applies the rule to a struct field name (snake_case in Rust).
    pub fn apply_to_field(self, field: &str) -> String {
        match self {
            RenameRule::Lower | RenameRule::Snake => field.to_owned(),
            RenameRule::Upper | RenameRule::ScreamingSnake => field.to_ascii_uppercase(),
            RenameRule::Pascal => {
                let mut out = String::with_capacity(field.len());
                let mut capitalize = true;
                for ch in field.chars() {
                    if ch == '_' {
                        capitalize = true;
                    } else if capitalize {
                        out.extend(ch.to_uppercase());
                        capitalize = false;
                    } else {
                        out.push(ch);
                    }
                }
                out
            }
            RenameRule::Camel => {
                let pascal = RenameRule::Pascal.apply_to_field(field);
                lower_first(&pascal)
            }
            RenameRule::Kebab => field.replace('_', "-"),
            RenameRule::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }

    /// Applies the rule to an enum variant name (PascalCase in Rust).
    ///
    /// `camelCase` lowers a leading acronym as Go's paramgen does
    /// (`HTTPRequest` → `httpRequest`), rather than only its first letter.
    pub fn apply_to_variant(self, variant: &str) -> String {
        match self {
            RenameRule::Pascal => variant.to_owned(),
            RenameRule::Lower => variant.to_lowercase(),
            RenameRule::Upper => variant.to_uppercase(),
            RenameRule::Camel => camel_from_pascal(variant),
            RenameRule::Snake => {
                let mut out = String::with_capacity(variant.len() + 4);
                for (i, ch) in variant.char_indices() {
                    if i > 0 && ch.is_uppercase() {
                        out.push('_');
                    }
                    out.extend(ch.to_lowercase());
                }
                out
            }
            RenameRule::ScreamingSnake => RenameRule::Snake.apply_to_variant(variant).to_uppercase(),
            RenameRule::Kebab => RenameRule::Snake.apply_to_variant(variant).replace('_', "-"),
            RenameRule::ScreamingKebab => RenameRule::ScreamingSnake.apply_to_variant(variant).replace('_', "-"),
        }
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Go's `formatFieldName` without its all-caps bug: lowers the leading run of
/// uppercase letters except the last one when a lowercase letter follows it
/// (`HTTPRequest` → `httpRequest`, `ID` → `id`, `S3Bucket` → `s3Bucket`).
pub fn camel_from_pascal(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        if ch.is_lowercase() {
            out.extend(&chars[i..]);
            break;
        }
        let next_lower = chars.get(i + 1).is_some_and(|c| c.is_lowercase());
        if i == 0 || !next_lower {
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_field_names_are_camel_case() {
        assert_eq!(RenameRule::Camel.apply_to_field("batch_size"), "batchSize");
        assert_eq!(RenameRule::Camel.apply_to_field("http_url"), "httpUrl");
        assert_eq!(RenameRule::Camel.apply_to_field("directory"), "directory");
        assert_eq!(RenameRule::Camel.apply_to_field("s3_bucket_name"), "s3BucketName");
    }

    #[test]
    fn field_rules_match_serde() {
        let f = "batch_size";
        assert_eq!(RenameRule::Lower.apply_to_field(f), "batch_size");
        assert_eq!(RenameRule::Upper.apply_to_field(f), "BATCH_SIZE");
        assert_eq!(RenameRule::Pascal.apply_to_field(f), "BatchSize");
        assert_eq!(RenameRule::Snake.apply_to_field(f), "batch_size");
        assert_eq!(RenameRule::ScreamingSnake.apply_to_field(f), "BATCH_SIZE");
        assert_eq!(RenameRule::Kebab.apply_to_field(f), "batch-size");
        assert_eq!(RenameRule::ScreamingKebab.apply_to_field(f), "BATCH-SIZE");
    }

    #[test]
    fn variant_rules() {
        assert_eq!(RenameRule::Camel.apply_to_variant("JsonLines"), "jsonLines");
        assert_eq!(RenameRule::Camel.apply_to_variant("HTTPRequest"), "httpRequest");
        assert_eq!(RenameRule::Camel.apply_to_variant("ID"), "id");
        assert_eq!(RenameRule::Camel.apply_to_variant("S3Bucket"), "s3Bucket");
        assert_eq!(RenameRule::Snake.apply_to_variant("JsonLines"), "json_lines");
        assert_eq!(RenameRule::ScreamingKebab.apply_to_variant("JsonLines"), "JSON-LINES");
        assert_eq!(RenameRule::Lower.apply_to_variant("JsonLines"), "jsonlines");
    }
}
