//! Markdown for READMEs: parameter tables and readmegen's tag replacement.

use super::{SpecError, Specification, ordered_parameters};
use crate::config::Parameters;

/// Escapes text for a table cell: pipes, and line breaks as `<br/>`.
fn cell(text: &str) -> String {
    text.replace("\r\n", "\n").replace('|', "\\|").replace('\n', "<br/>")
}

/// `text` as an inline code span (empty when `text` is empty), fenced with
/// more backticks than it contains in a row.
fn code(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') { " " } else { "" };
    cell(&format!("{fence}{pad}{text}{pad}{fence}"))
}

pub(crate) fn table(params: &Parameters) -> String {
    let mut out = String::from("| Name | Type | Required | Default | Description |\n|---|---|---|---|---|\n");
    for (name, p) in ordered_parameters(params) {
        let default = if p.default.is_empty() { params.zero_value(name, p.ty) } else { p.default.as_str() };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            code(name),
            p.ty,
            if p.is_required() { "✔" } else { "" },
            code(default),
            cell(&p.description),
        ));
    }
    out
}

/// readmegen's `formatCommentYAML(text, indent)`: single newlines joined,
/// paragraphs kept, lines wrapped at 80 columns including the indentation and
/// `# `; the first line without its indentation.
fn comment_yaml(text: &str, indent: usize) -> String {
    const TMP: &str = "\u{3020}";
    let text = text.replace("\n\n", TMP).replace('\n', " ").replace(TMP, "\n");
    let prefix = format!("{}# ", " ".repeat(indent));
    let width = 80usize.saturating_sub(prefix.len());
    let mut lines = Vec::new();
    for line in text.split('\n') {
        if line.len() <= width {
            lines.push(line.to_owned());
            continue;
        }
        let mut current = String::new();
        for word in line.split_whitespace() {
            if !current.is_empty() && current.len() + 1 + word.len() > width {
                lines.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
        if !current.is_empty() {
            lines.push(current);
        }
    }
    if lines.is_empty() {
        // Only whitespace, longer than a line: as an empty description (slicing `""` below
        // would panic).
        lines.push(String::new());
    }
    let joined: Vec<String> = lines.iter().map(|l| format!("{prefix}{l}")).collect();
    joined.join("\n").get(indent..).unwrap_or_default().to_owned()
}

/// readmegen's `parameters.yaml` template: an example pipeline configuration
/// with one connector of `connector_type` (`source` or `destination`; Conduit's
/// pipeline config needs it, and readmegen writes it since Go SDK v0.14).
fn parameters_yaml(spec: &Specification, params: &Parameters, connector_type: &str) -> String {
    let mut out = format!(
        "\n```yaml\nversion: 2.2\npipelines:\n  - id: example\n    status: running\n    connectors:\n      - id: example\n        plugin: \"{}\"\n        type: {connector_type}\n        settings:",
        spec.name
    );
    for (name, p) in ordered_parameters(params) {
        let value = if p.default.is_empty() { params.zero_value(name, p.ty) } else { p.default.as_str() };
        out.push_str(&format!(
            "\n          {}\n          # Type: {}\n          # Required: {}\n          {}: \"{}\"",
            comment_yaml(&p.description, 10),
            p.ty,
            if p.is_required() { "yes" } else { "no" },
            name,
            value,
        ));
    }
    out.push_str("\n```\n");
    out
}

/// Go's `strings.Title`: upper-cases the first letter of every word.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_separator = true;
    for c in s.chars() {
        if prev_separator {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_separator = if c.is_ascii() { !(c.is_ascii_alphanumeric() || c == '_') } else { c.is_whitespace() };
    }
    out
}

fn render(spec: &Specification, tag: &str) -> Option<String> {
    Some(match tag {
        "name" => title(&spec.name),
        "summary" => spec.summary.clone(),
        "description" => format!("\n{}", spec.description),
        "version" => spec.version.clone(),
        "author" => spec.author.clone(),
        "source.parameters.yaml" => parameters_yaml(spec, &spec.source_params, "source"),
        "destination.parameters.yaml" => parameters_yaml(spec, &spec.destination_params, "destination"),
        "source.parameters.table" => format!("\n{}\n", table(&spec.source_params)),
        "destination.parameters.table" => format!("\n{}\n", table(&spec.destination_params)),
        _ => return None,
    })
}

const OPEN: &str = "<!-- readmegen:";
const CLOSE: &str = "<!-- /readmegen:";
const END: &str = "-->";

pub(crate) fn update_readme(spec: &Specification, readme: &str) -> Result<String, SpecError> {
    let mut out = String::with_capacity(readme.len() + 4096);
    let mut rest = readme;
    while let Some(open_start) = rest.find(OPEN) {
        let open_end = rest[open_start..]
            .find(END)
            .map(|i| open_start + i + END.len())
            .ok_or(SpecError::MalformedReadmegenTag("readmegen open tag not closed"))?;
        let tag = rest[open_start + OPEN.len()..open_end - END.len()].trim_end_matches(' ');
        let close_start = rest[open_end..]
            .find(&format!("{CLOSE}{tag}"))
            .map(|i| open_end + i)
            .ok_or(SpecError::MalformedReadmegenTag("readmegen close tag not found"))?;
        let close_end = rest[close_start..]
            .find(END)
            .map(|i| close_start + i + END.len())
            .ok_or(SpecError::MalformedReadmegenTag("readmegen close tag not closed"))?;
        if rest[close_start + CLOSE.len()..close_end - END.len()].trim_end_matches(' ') != tag {
            return Err(SpecError::MalformedReadmegenTag("readmegen close tag not found"));
        }
        let content = render(spec, tag).ok_or_else(|| SpecError::UnknownReadmegenTag(tag.to_owned()))?;
        out.push_str(&rest[..open_end]);
        out.push_str(&content);
        out.push_str(&rest[close_start..close_end]);
        rest = &rest[close_end..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_cases_words_like_go() {
        assert_eq!(title("test-connector"), "Test-Connector");
        assert_eq!(title("my_conn file"), "My_conn File");
    }

    #[test]
    fn comments_wrap_at_80_columns() {
        let text = "word ".repeat(30);
        let comment = comment_yaml(text.trim_end(), 10);
        for line in comment.lines().skip(1) {
            assert!(line.len() <= 80 && line.starts_with("          # word"), "{line:?}");
        }
        assert!(comment.starts_with("# word"));
        assert_eq!(comment_yaml("a\nb\n\nc", 10), "# a b\n          # c");
    }

    #[test]
    fn a_description_of_only_spaces_longer_than_a_line_does_not_panic() {
        assert_eq!(comment_yaml(&" ".repeat(100), 10), "# ");
        assert_eq!(comment_yaml("", 10), "# ");
    }

    #[test]
    fn code_spans_escape_backticks_and_pipes() {
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code(""), "");
    }
}
