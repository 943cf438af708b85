//! `%q`, `FormatFloat(v, 'f', -1, 64)` and `%g` tables.

use crate::config::go::{format_float_f, format_float_g, quote};

#[test]
fn quote_escapes_like_go_strconv_quote() {
    let cases: &[(&str, &str)] = &[
        ("", r#""""#),
        ("abc", r#""abc""#),
        ("a b", r#""a b""#),
        ("a\"b", r#""a\"b""#),
        ("a\\b", r#""a\\b""#),
        ("\u{7}\u{8}\u{c}\n\r\t\u{b}", r#""\a\b\f\n\r\t\v""#),
        ("\0", r#""\x00""#),
        ("\u{1b}[0m", r#""\x1b[0m""#),
        ("\u{7f}", r#""\x7f""#),
        ("\u{80}", r#""\u0080""#),
        ("\u{9f}", r#""\u009f""#),
        ("\u{a0}", r#""\u00a0""#),
        ("\u{ad}", r#""\u00ad""#),
        ("é", r#""é""#),
        ("日本語", r#""日本語""#),
        ("µs", r#""µs""#),
        ("e\u{301}", "\"e\u{301}\""),
        ("😀", r#""😀""#),
        ("\u{200b}", r#""\u200b""#),
        ("\u{feff}", r#""\ufeff""#),
        ("\u{2028}", r#""\u2028""#),
        ("\u{3000}", r#""\u3000""#),
        ("\u{e000}", r#""\ue000""#),
        ("\u{10ffff}", r#""\U0010ffff""#),
        ("\u{e0001}", r#""\U000e0001""#),
        ("'", r#""'""#),
        ("`", r#""`""#),
    ];
    for &(input, want) in cases {
        assert_eq!(quote(input), want, "quote({input:?})");
    }
}

#[test]
fn format_float_f_gives_shortest_digits_without_exponent() {
    let cases: &[(f64, &str)] = &[
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (-1.0, "-1"),
        (1.2, "1.2"),
        (0.1, "0.1"),
        (100.0, "100"),
        (1.5, "1.5"),
        (1e20, "100000000000000000000"),
        (1e21, "1000000000000000000000"),
        (1e-7, "0.0000001"),
        (0.000001, "0.000001"),
        (123456789.125, "123456789.125"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
        (f64::NAN, "NaN"),
    ];
    for &(input, want) in cases {
        assert_eq!(format_float_f(input), want, "format_float_f({input:e})");
    }
}

#[test]
fn format_float_f_spells_out_extreme_magnitudes() {
    let max = format_float_f(f64::MAX);
    assert!(max.starts_with("17976931348623157"));
    assert_eq!(max.len(), 309);
    assert!(max[17..].bytes().all(|b| b == b'0'));

    let tiny = format_float_f(5e-324);
    assert_eq!(tiny.len(), 2 + 323 + 1);
    assert!(tiny.starts_with("0.000"));
    assert!(tiny.ends_with("05"));
}

#[test]
fn format_float_g_uses_exponent_below_minus_4_or_from_6() {
    let cases: &[(f64, &str)] = &[
        (0.0, "0"),
        (-0.0, "-0"),
        (-1.0, "-1"),
        (100.0, "100"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (100000.0, "100000"),
        (123456.0, "123456"),
        (999999.0, "999999"),
        (1e6, "1e+06"),
        (1234567.0, "1.234567e+06"),
        (12345678.9, "1.23456789e+07"),
        (1e21, "1e+21"),
        (1e100, "1e+100"),
        (0.0001, "0.0001"),
        (0.00012345, "0.00012345"),
        (1e-5, "1e-05"),
        (2.5e-5, "2.5e-05"),
        (5e-324, "5e-324"),
        (f64::MAX, "1.7976931348623157e+308"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
        (f64::NAN, "NaN"),
    ];
    for &(input, want) in cases {
        assert_eq!(format_float_g(input), want, "format_float_g({input:e})");
    }
}
