//! Scalar quoting in connector.yaml: every example of reference §3.2, each
//! checked for the exact text and for reading back as the same string.

use conduit_connector::spec::Specification;
use conduit_connector::{Parameter, ParameterType, Parameters};
use yaml_rust2::{Yaml, YamlLoader};

/// The `default:` line of a parameter whose default is `value`.
fn default_line(value: &str) -> String {
    let params: Parameters =
        [("p", Parameter { default: value.into(), ty: ParameterType::String, ..Parameter::default() })]
            .into_iter()
            .collect();
    let yaml = Specification { source_params: params, ..Specification::default() }.to_yaml();
    let start = yaml.find("        default:").expect("default line") + "        default:".len();
    let end = start + yaml[start..].find("\n        validations:").expect("validations line");
    let rendered = yaml[start..end].strip_prefix(' ').unwrap_or(&yaml[start..end]).to_owned();

    // The YAML reads back (YAML 1.2 core schema) as the same string, and so
    // does from_yaml.
    let doc = &YamlLoader::load_from_str(&yaml).unwrap()[0];
    let read = &doc["specification"]["source"]["parameters"][0]["default"];
    assert_eq!(read, &Yaml::String(value.to_owned()), "{value:?} rendered as {rendered:?}");
    let parsed = Specification::from_yaml(&yaml).unwrap();
    assert_eq!(parsed.source_params.get("p").unwrap().default, value);
    rendered
}

fn check(cases: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (value, expected) in cases {
        let got = default_line(value);
        if got != *expected {
            failures.push(format!("{value:?}: expected {expected}, got {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn strings_resolving_to_other_types_are_double_quoted() {
    check(&[
        ("", r#""""#),
        ("0", r#""0""#),
        ("-1", r#""-1""#),
        ("1234", r#""1234""#),
        ("1.5", r#""1.5""#),
        ("1e3", r#""1e3""#),
        ("0x10", r#""0x10""#),
        ("0o7", r#""0o7""#),
        ("0b101", r#""0b101""#),
        ("1_000", r#""1_000""#),
        ("+1", r#""+1""#),
        ("01", r#""01""#),
        ("08", r#""08""#),
        (".5", r#"".5""#),
        ("1:30", r#""1:30""#),
        ("-1:30:59.5", r#""-1:30:59.5""#),
        ("true", r#""true""#),
        ("True", r#""True""#),
        ("TRUE", r#""TRUE""#),
        ("false", r#""false""#),
        ("null", r#""null""#),
        ("Null", r#""Null""#),
        ("~", r#""~""#),
        (".inf", r#"".inf""#),
        ("-.Inf", r#""-.Inf""#),
        (".nan", r#"".nan""#),
        ("2006-01-02", r#""2006-01-02""#),
        ("2006-1-2", r#""2006-1-2""#),
        ("2001-12-14t21:59:43.10Z", r#""2001-12-14t21:59:43.10Z""#),
        ("2001-12-14 21:59:43.10", r#""2001-12-14 21:59:43.10""#),
    ]);
}

#[test]
fn yaml_1_1_booleans_are_double_quoted_in_every_documented_case() {
    let mut cases = Vec::new();
    for word in ["y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"] {
        cases.push((word, format!("\"{word}\"")));
    }
    let cases: Vec<(&str, &str)> = cases.iter().map(|(w, e)| (*w, e.as_str())).collect();
    check(&cases);
}

#[test]
fn tabs_and_control_characters_are_double_quoted_with_escapes() {
    check(&[
        ("x\ty", r#""x\ty""#),
        ("a\rb", r#""a\rb""#),
        ("bell\u{7}", r#""bell\a""#),
        ("nul\u{0}", r#""nul\0""#),
        ("esc\u{1b}", r#""esc\e""#),
        ("del\u{7f}", r#""del\x7F""#),
        ("nel\u{85}", r#""nel\N""#),
        ("bom\u{feff}", r#""bom\uFEFF""#),
        ("ls\u{2028}", r#""ls\L""#),
        ("smile 😀", r#""smile \U0001F600""#),
        ("quote\"tab\t", r#""quote\"tab\t""#),
        ("back\\slash\t", r#""back\\slash\t""#),
    ]);
}

#[test]
fn indicators_colon_space_and_hash_are_single_quoted() {
    check(&[
        ("#x", "'#x'"),
        ("@x", "'@x'"),
        ("*", "'*'"),
        ("&a", "'&a'"),
        ("!t", "'!t'"),
        ("%p", "'%p'"),
        ("`b", "'`b'"),
        ("|", "'|'"),
        (">", "'>'"),
        ("-", "'-'"),
        ("- a", "'- a'"),
        ("? x", "'? x'"),
        (": x", "': x'"),
        ("[a]", "'[a]'"),
        ("]a", "']a'"),
        ("{a}", "'{a}'"),
        (",a", "',a'"),
        ("a: b", "'a: b'"),
        ("a:", "'a:'"),
        ("a #b", "'a #b'"),
        ("---", "'---'"),
        ("...x", "'...x'"),
        (" lead", "' lead'"),
        ("trail ", "'trail '"),
        ("'q'", "'''q'''"),
        ("\"dq\"", "'\"dq\"'"),
        ("1 ", "'1 '"),
    ]);
}

#[test]
fn safe_strings_stay_plain() {
    check(&[
        ("t", "t"),
        ("1s", "1s"),
        ("1m0s", "1m0s"),
        (".*", ".*"),
        ("true,t", "true,t"),
        ("1,2", "1,2"),
        ("a|b", "a|b"),
        ("opencdc/json", "opencdc/json"),
        ("key", "key"),
        ("é", "é"),
        ("this is not a float", "this is not a float"),
        ("a#b", "a#b"),
        ("a:b", "a:b"),
        ("-a", "-a"),
        ("?a", "?a"),
        ("yEs", "yEs"),
        ("NaN", "NaN"),
        ("<<", "<<"),
        ("0x", "0x"),
        ("2006-13-01", "2006-13-01"),
        ("日本語", "日本語"),
        ("${VAR}", "${VAR}"),
    ]);
}

#[test]
fn long_lines_are_never_folded() {
    let long = "word ".repeat(60).trim_end().to_owned();
    assert_eq!(default_line(&long), long);
    let long_quoted = format!("{long}\t");
    assert_eq!(default_line(&long_quoted), format!("\"{}\\t\"", long));
}

#[test]
fn multi_line_strings_use_literal_blocks_with_chomping() {
    check(&[
        ("a\nb", "|-\n          a\n          b"),
        // (the line break before `validations:` ends these blocks)
        ("a\nb\n", "|\n          a\n          b"),
        ("a\n\n", "|+\n          a\n"),
        ("\n", "|2+\n"),
        (" a\nb", "|2-\n           a\n          b"),
        ("\na", "|2-\n\n          a"),
        ("a\n\nb", "|-\n          a\n\n          b"),
        ("a: b\n# c", "|-\n          a: b\n          # c"),
        ("a \nb", "\"a \\nb\""),
        ("a\n b", "|-\n          a\n           b"),
        ("a\nb ", "\"a\\nb \""),
        ("a\r\nb", "\"a\\r\\nb\""),
    ]);
}

#[test]
fn trailing_keep_block_ends_the_stream_with_document_end_marker() {
    let spec = Specification { author: "x\n\n".into(), ..Specification::default() };
    let yaml = spec.to_yaml();
    assert!(yaml.ends_with("  author: |+\n    x\n\n...\n"), "{yaml}");
    assert_eq!(Specification::from_yaml(&yaml).unwrap(), spec);
}

#[test]
fn connector_description_loses_trailing_spaces_only() {
    let spec = Specification { description: "a  \n  b \nc".into(), ..Specification::default() };
    let yaml = spec.to_yaml();
    assert!(yaml.contains("  description: |-\n    a\n      b\n    c\n"), "{yaml}");
    assert_eq!(Specification::from_yaml(&yaml).unwrap().description, "a\n  b\nc");
}

/// yaml.v3 leaves a float literal out of float64 range plain (Go's ParseFloat
/// fails, so it resolves to a string); YAML 1.2 parsers read it as a float,
/// but `from_yaml` (like Go) reads the text.
#[test]
fn out_of_range_float_literal_stays_plain_like_yaml_v3() {
    let params: Parameters =
        [("p", Parameter { default: "1e999".into(), ..Parameter::default() })].into_iter().collect();
    let spec = Specification { source_params: params, ..Specification::default() };
    let yaml = spec.to_yaml();
    assert!(yaml.contains("        default: 1e999\n"), "{yaml}");
    assert_eq!(Specification::from_yaml(&yaml).unwrap(), spec);
}
