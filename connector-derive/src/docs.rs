//! Descriptions from doc comments, as rustdoc shows them.

use syn::{Attribute, Expr, ExprLit, Lit, Meta};

/// The doc comment of `attrs` as rustdoc shows it: one leading space
/// stripped from each `///` line; in a `/** */` block the text on the
/// opening line trimmed and the following lines unindented by their common
/// indentation (and a leading ` * ` column removed); lines joined with `\n`,
/// trailing whitespace trimmed, leading and trailing blank lines dropped.
/// Non-literal `#[doc = ...]` attributes (e.g. `include_str!`) are ignored.
pub fn description(attrs: &[Attribute]) -> String {
    let mut lines: Vec<String> = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        let Meta::NameValue(nv) = &attr.meta else { continue };
        let Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) = &nv.value else { continue };
        let text = s.value();
        if text.contains('\n') {
            block_lines(&text, &mut lines);
        } else {
            lines.push(text.strip_prefix(' ').unwrap_or(&text).to_owned());
        }
    }
    for line in &mut lines {
        line.truncate(line.trim_end().len());
    }
    let start = lines.iter().position(|l| !l.is_empty()).unwrap_or(lines.len());
    let end = lines.iter().rposition(|l| !l.is_empty()).map_or(start, |i| i + 1);
    lines[start..end].join("\n")
}

fn block_lines(text: &str, out: &mut Vec<String>) {
    let mut raw: Vec<&str> = text.split('\n').collect();
    // Text on the opening line (`/** A.`) is trimmed and stands apart: its
    // indentation is the space after `/**`, not the source's, so it takes no
    // part in the common indentation (or ` * ` column) of the lines below.
    // `/**` followed by a newline leaves that first line empty: not content.
    let first = raw.remove(0).trim();
    if !first.is_empty() {
        out.push(first.to_owned());
    }
    if raw.last().is_some_and(|l| l.trim().is_empty()) {
        raw.pop();
    }
    let content = |l: &&&str| !l.trim().is_empty();
    // A ` * ` column on every content line is decoration, as rustc treats it.
    let starred = raw.iter().filter(content).all(|l| l.trim_start().starts_with('*'));
    let stripped: Vec<String> = if starred && raw.iter().any(|l| content(&l)) {
        raw.iter()
            .map(|l| match l.trim_start().strip_prefix('*') {
                Some(rest) => rest.to_owned(),
                None => l.to_string(),
            })
            .collect()
    } else {
        raw.iter().map(|l| l.to_string()).collect()
    };
    let indent =
        stripped.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    for line in stripped {
        if line.trim().is_empty() {
            out.push(String::new());
        } else {
            out.push(line[indent..].to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(tokens: proc_macro2::TokenStream) -> Vec<Attribute> {
        let item: syn::DeriveInput = syn::parse2(tokens).unwrap();
        item.attrs
    }

    #[test]
    fn line_comments_lose_one_space() {
        let a = attrs(quote::quote! {
            /// First line.
            ///   indented
            ///
            /// Last.
            struct S;
        });
        assert_eq!(description(&a), "First line.\n  indented\n\nLast.");
    }

    #[test]
    fn block_comments_are_unindented() {
        let a = attrs(quote::quote! {
            /**
                Block line one.
                  more
            */
            struct S;
        });
        assert_eq!(description(&a), "Block line one.\n  more");
    }

    #[test]
    fn text_on_the_opening_line_does_not_set_the_indentation() {
        let a = attrs(syn::parse_str("/** A.\n    B. */\nstruct S;").unwrap());
        assert_eq!(description(&a), "A.\nB.");
        let a = attrs(syn::parse_str("/**   A.\n        B.\n          C.\n    */\nstruct S;").unwrap());
        assert_eq!(description(&a), "A.\nB.\n  C.");
        let a = attrs(syn::parse_str("/** A.\n     * B.\n     */\nstruct S;").unwrap());
        assert_eq!(description(&a), "A.\nB.");
        let a = attrs(syn::parse_str("/** Only. */\nstruct S;").unwrap());
        assert_eq!(description(&a), "Only.");
    }

    #[test]
    fn starred_block_comments_drop_the_star_column() {
        let a = attrs(syn::parse_str("/**\n * One\n * Two\n */\nstruct S;").unwrap());
        assert_eq!(description(&a), "One\nTwo");
    }

    #[test]
    fn leading_and_trailing_blank_lines_are_dropped() {
        let a = attrs(quote::quote! {
            ///
            /// Text
            ///
            struct S;
        });
        assert_eq!(description(&a), "Text");
    }
}
