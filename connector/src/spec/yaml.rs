//! connector.yaml v1: writing (as specgen + yaml.v3 print it) and reading
//! (as the Go SDK's `ParseYAMLSpecification` reads it).

use std::collections::HashMap;

use yaml_rust2::parser::{Event, EventReceiver, Parser};
use yaml_rust2::scanner::TScalarStyle;

use super::scalar::write_value;
use super::{SpecError, Specification, ordered_parameters};
use crate::config::{Parameter, ParameterType, Parameters, Pattern, Validation, go};

// ---------------------------------------------------------------------------
// Writing

struct Writer {
    out: String,
    open_ended: bool,
}

impl Writer {
    /// `key: value` with the key at column `indent` (after `prefix`, which is
    /// `"- "` for the first key of a sequence item).
    fn entry(&mut self, indent: usize, prefix: &str, key: &str, value: &str) {
        self.line_start(indent, prefix, key);
        // A block scalar's content is indented one level below the key.
        let key_column = indent + prefix.len();
        self.open_ended = write_value(&mut self.out, value, key_column + 2);
    }

    /// `key:` followed by a nested block on the next lines.
    fn open(&mut self, indent: usize, key: &str) {
        self.line_start(indent, "", key);
        self.out.push('\n');
    }

    fn line_start(&mut self, indent: usize, prefix: &str, key: &str) {
        self.open_ended = false;
        self.out.extend(std::iter::repeat_n(' ', indent));
        self.out.push_str(prefix);
        self.out.push_str(key);
        self.out.push(':');
    }

    fn parameters(&mut self, params: &Parameters) {
        for (name, param) in ordered_parameters(params) {
            self.entry(6, "- ", "name", name);
            self.entry(8, "", "description", &param.description);
            self.entry(8, "", "type", param.ty.as_str());
            self.entry(8, "", "default", &param.default);
            if param.validations.is_empty() {
                self.line_start(8, "", "validations");
                self.out.push_str(" []\n");
                continue;
            }
            self.open(8, "validations");
            for v in &param.validations {
                self.entry(10, "- ", "type", v.type_name());
                self.entry(12, "", "value", &yaml_validation_value(v));
            }
        }
    }
}

/// A validation's value as connector.yaml prints it: numbers with Go's `%g`
/// (unlike the wire form), lists joined with `,`, the regex pattern, `""`
/// for required.
pub(crate) fn yaml_validation_value(v: &Validation) -> String {
    match v {
        Validation::GreaterThan(n) | Validation::LessThan(n) => go::format_float_g(*n),
        other => other.value(),
    }
}

/// Removes trailing spaces from every line, as specgen does for the
/// connector description (yaml.v3 would otherwise double-quote it).
pub(crate) fn strip_trailing_spaces(s: &str) -> String {
    s.split('\n').map(|line| line.trim_end_matches(' ')).collect::<Vec<_>>().join("\n")
}

pub(crate) fn to_yaml(spec: &Specification) -> String {
    let mut w = Writer { out: String::with_capacity(4096), open_ended: false };
    w.entry(0, "", "version", "1.0");
    w.open(0, "specification");
    w.entry(2, "", "name", &spec.name);
    w.entry(2, "", "summary", &spec.summary);
    w.entry(2, "", "description", &strip_trailing_spaces(&spec.description));
    w.entry(2, "", "version", &spec.version);
    w.entry(2, "", "author", &spec.author);
    for (key, params) in [("source", &spec.source_params), ("destination", &spec.destination_params)] {
        if params.is_empty() {
            continue;
        }
        w.open(2, key);
        w.open(4, "parameters");
        w.parameters(params);
    }
    if w.open_ended {
        // yaml.v3 ends the stream with `...` after a `|+` block.
        w.out.push_str("...\n");
    }
    w.out
}

// ---------------------------------------------------------------------------
// Reading

/// A YAML node with scalars kept as written (yaml.v3 decodes any scalar into
/// a Go string field by its text, so `default: 0` reads as `"0"`).
#[derive(Debug, Clone)]
enum Node {
    /// Text, and whether it is a plain null (`~`, `null`, empty).
    Scalar(String, bool),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    fn kind(&self) -> &'static str {
        match self {
            Node::Scalar(..) => "a scalar",
            Node::Seq(_) => "a sequence",
            Node::Map(_) => "a mapping",
        }
    }
}

enum Frame {
    Seq(Vec<Node>),
    /// Entries, and the key waiting for its value.
    Map(Vec<(Node, Node)>, Option<Node>),
}

#[derive(Default)]
struct TreeBuilder {
    stack: Vec<(Frame, usize)>,
    anchors: HashMap<usize, Node>,
    document: Option<Node>,
}

impl TreeBuilder {
    fn push(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            Some((Frame::Seq(items), _)) => items.push(node),
            Some((Frame::Map(entries, pending), _)) => match pending.take() {
                Some(key) => entries.push((key, node)),
                None => *pending = Some(node),
            },
            None => {
                if self.document.is_none() {
                    self.document = Some(node);
                }
            }
        }
    }
}

impl EventReceiver for TreeBuilder {
    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Scalar(value, style, anchor, tag) => {
                let null = style == TScalarStyle::Plain
                    && tag.is_none()
                    && matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL");
                self.push(Node::Scalar(value, null), anchor);
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().unwrap_or(Node::Scalar(String::new(), true));
                self.push(node, 0);
            }
            Event::SequenceStart(anchor, _) => self.stack.push((Frame::Seq(Vec::new()), anchor)),
            Event::MappingStart(anchor, _) => self.stack.push((Frame::Map(Vec::new(), None), anchor)),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((frame, anchor)) = self.stack.pop() {
                    let node = match frame {
                        Frame::Seq(items) => Node::Seq(items),
                        Frame::Map(entries, _) => Node::Map(entries),
                    };
                    self.push(node, anchor);
                }
            }
            _ => {}
        }
    }
}

fn decoding(path: &str, expected: &str, node: &Node) -> SpecError {
    SpecError::Decoding(format!("{path}: expected {expected}, found {}", node.kind()))
}

/// A mapping's value for `key` (`None` when absent or null).
fn field<'a>(map: &'a [(Node, Node)], key: &str) -> Option<&'a Node> {
    map.iter()
        .rev()
        .find(|(k, _)| matches!(k, Node::Scalar(s, _) if s == key))
        .map(|(_, v)| v)
        .filter(|v| !matches!(v, Node::Scalar(_, true)))
}

fn as_map<'a>(node: Option<&'a Node>, path: &str) -> Result<&'a [(Node, Node)], SpecError> {
    match node {
        None => Ok(&[]),
        Some(Node::Map(m)) => Ok(m),
        Some(other) => Err(decoding(path, "a mapping", other)),
    }
}

fn as_seq<'a>(node: Option<&'a Node>, path: &str) -> Result<&'a [Node], SpecError> {
    match node {
        None => Ok(&[]),
        Some(Node::Seq(s)) => Ok(s),
        Some(other) => Err(decoding(path, "a sequence", other)),
    }
}

fn as_string(node: Option<&Node>, path: &str) -> Result<String, SpecError> {
    match node {
        None => Ok(String::new()),
        Some(Node::Scalar(s, _)) => Ok(s.clone()),
        Some(other) => Err(decoding(path, "a string", other)),
    }
}

/// Masterminds/semver's lenient parse, checked against `^1` (1.x.y without a
/// pre-release).
fn check_version(version: &str) -> Result<(), SpecError> {
    let unsupported = || SpecError::UnsupportedVersion(version.to_owned());
    let v = version.strip_prefix('v').unwrap_or(version);
    let (core, pre) = match v.split_once(['-', '+']) {
        Some((core, rest)) => (core, v.as_bytes()[core.len()] == b'-' && !rest.is_empty()),
        None => (v, false),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(unsupported());
    }
    if parts[0].trim_start_matches('0') != "1" || pre {
        return Err(unsupported());
    }
    Ok(())
}

pub(crate) fn from_yaml(text: &str) -> Result<Specification, SpecError> {
    let mut builder = TreeBuilder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, false).map_err(|e| SpecError::Syntax(e.to_string()))?;
    let root = match builder.document {
        None | Some(Node::Scalar(_, true)) => return Err(SpecError::NoSpecification),
        Some(root) => root,
    };
    let root = match &root {
        Node::Map(m) => m,
        other => return Err(decoding("document", "a mapping", other)),
    };

    // A missing version is read as 1.0 (Go logs a warning).
    if let Some(version) = field(root, "version") {
        check_version(as_string(Some(version), "version")?.trim())?;
    }

    let spec = as_map(field(root, "specification"), "specification")?;
    let text = |key: &str| as_string(field(spec, key), &format!("specification.{key}"));
    let mut out = Specification {
        name: text("name")?,
        summary: text("summary")?,
        description: text("description")?,
        version: text("version")?,
        author: text("author")?,
        ..Specification::default()
    };
    for (section, target) in [("source", &mut out.source_params), ("destination", &mut out.destination_params)] {
        let path = format!("specification.{section}");
        let map = as_map(field(spec, section), &path)?;
        let path = format!("{path}.parameters");
        for (i, item) in as_seq(field(map, "parameters"), &path)?.iter().enumerate() {
            let path = format!("{path}[{i}]");
            let item = match item {
                Node::Map(m) => m,
                Node::Scalar(_, true) => &[][..],
                other => return Err(decoding(&path, "a mapping", other)),
            };
            let (name, param) = read_parameter(item, &path)?;
            target.insert(name, param);
        }
    }
    Ok(out)
}

fn read_parameter(item: &[(Node, Node)], path: &str) -> Result<(String, Parameter), SpecError> {
    let text = |key: &str| as_string(field(item, key), &format!("{path}.{key}"));
    let name = text("name")?;
    let ty = text("type")?;
    let ty = ParameterType::from_name(&ty).ok_or(SpecError::UnknownParameterType(ty))?;
    let mut validations = Vec::new();
    for (i, v) in as_seq(field(item, "validations"), &format!("{path}.validations"))?.iter().enumerate() {
        let vpath = format!("{path}.validations[{i}]");
        let v = match v {
            Node::Map(m) => m,
            Node::Scalar(_, true) => &[][..],
            other => return Err(decoding(&vpath, "a mapping", other)),
        };
        let kind = as_string(field(v, "type"), &format!("{vpath}.type"))?;
        let value = as_string(field(v, "value"), &format!("{vpath}.value"))?;
        let number = || {
            go::parse_float(&value).ok_or_else(|| SpecError::InvalidNumber {
                parameter: name.clone(),
                validation: kind.clone(),
                value: value.clone(),
            })
        };
        let list = || value.split(',').map(|s| s.trim().to_owned()).collect();
        validations.push(match kind.as_str() {
            "required" => Validation::Required,
            "greater-than" => Validation::GreaterThan(number()?),
            "less-than" => Validation::LessThan(number()?),
            "inclusion" => Validation::Inclusion(list()),
            "exclusion" => Validation::Exclusion(list()),
            "regex" => Validation::Regex(Pattern::new(value.clone())),
            _ => return Err(SpecError::UnknownValidationType(kind)),
        });
    }
    let param = Parameter { default: text("default")?, description: text("description")?, ty, validations };
    Ok((name, param))
}
