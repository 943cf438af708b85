//! `strconv.Atoi`, `ParseBool` and `ParseFloat` tables.

use crate::config::go::{WideInt, is_float, parse_bool, parse_float, parse_wide_int};

#[test]
fn parse_wide_int_accepts_the_syntax_atoi_accepts() {
    let cases: &[(&str, Option<i64>)] = &[
        ("0", Some(0)),
        ("1", Some(1)),
        ("+1", Some(1)),
        ("-1", Some(-1)),
        ("-0", Some(0)),
        ("00012", Some(12)),
        ("9223372036854775807", Some(i64::MAX)),
        ("-9223372036854775808", Some(i64::MIN)),
        ("", None),
        ("+", None),
        ("-", None),
        ("+-1", None),
        ("1_000", None),
        ("0x10", None),
        ("0b1", None),
        (" 1", None),
        ("1 ", None),
        ("1.0", None),
        ("1e3", None),
        ("١", None),
    ];
    for &(input, want) in cases {
        let want = want.map_or(WideInt::NotAnInteger, |v| WideInt::Value(v.into()));
        assert_eq!(parse_wide_int(input), want, "parse_wide_int({input:?})");
    }
}

#[test]
fn parse_wide_int_has_atois_syntax_without_its_range() {
    let cases: &[(&str, WideInt)] = &[
        ("0", WideInt::Value(0)),
        ("+1", WideInt::Value(1)),
        ("-0", WideInt::Value(0)),
        ("18446744073709551615", WideInt::Value(u64::MAX as i128)),
        ("18446744073709551616", WideInt::Value(u64::MAX as i128 + 1)),
        ("-9223372036854775809", WideInt::Value(i64::MIN as i128 - 1)),
        ("170141183460469231731687303715884105727", WideInt::Value(i128::MAX)),
        ("-170141183460469231731687303715884105728", WideInt::Value(i128::MIN)),
        ("170141183460469231731687303715884105728", WideInt::TooLarge),
        ("-170141183460469231731687303715884105729", WideInt::TooLarge),
        ("99999999999999999999999999999999999999999999", WideInt::TooLarge),
        ("", WideInt::NotAnInteger),
        ("+", WideInt::NotAnInteger),
        ("-", WideInt::NotAnInteger),
        ("1_000", WideInt::NotAnInteger),
        ("0x10", WideInt::NotAnInteger),
        (" 1", WideInt::NotAnInteger),
        ("1.0", WideInt::NotAnInteger),
        ("١", WideInt::NotAnInteger),
        ("99999999999999999999999999999999999999999999x", WideInt::NotAnInteger),
    ];
    for &(input, want) in cases {
        assert_eq!(parse_wide_int(input), want, "parse_wide_int({input:?})");
    }
}

#[test]
fn parse_bool_accepts_exactly_gos_spellings() {
    for s in ["1", "t", "T", "TRUE", "true", "True"] {
        assert_eq!(parse_bool(s), Some(true), "{s}");
    }
    for s in ["0", "f", "F", "FALSE", "false", "False"] {
        assert_eq!(parse_bool(s), Some(false), "{s}");
    }
    for s in ["yes", "no", "y", "on", "off", "tRUE", "FaLsE", "", " true", "2", "truee"] {
        assert_eq!(parse_bool(s), None, "{s}");
    }
}

#[test]
fn parse_float_accepts_gos_decimal_syntax() {
    let cases: &[(&str, f64)] = &[
        ("0", 0.0),
        ("1", 1.0),
        ("+1.5", 1.5),
        ("-1.5", -1.5),
        ("1e3", 1000.0),
        ("1E3", 1000.0),
        ("1e+3", 1000.0),
        ("1e-3", 0.001),
        (".5", 0.5),
        ("5.", 5.0),
        ("-.5e1", -5.0),
        ("00001.25", 1.25),
        ("1e-400", 0.0),
        ("1.7976931348623157e308", f64::MAX),
        ("5e-324", 5e-324),
        ("0e99999999999", 0.0),
        // Go accepts underscores between digits (Go literal syntax).
        ("1_000", 1000.0),
        ("1_23.50_0_0e+1_2", 1.235e14),
    ];
    for &(input, want) in cases {
        assert_eq!(parse_float(input), Some(want), "parse_float({input:?})");
        assert!(is_float(input), "is_float({input:?})");
    }
    assert!(parse_float("-0").is_some_and(|v| v == 0.0 && v.is_sign_negative()));
}

#[test]
fn parse_float_accepts_inf_and_nan_spellings() {
    for s in ["inf", "Inf", "INF", "+Inf", "infinity", "Infinity", "+INFINITY", "iNfInItY"] {
        assert_eq!(parse_float(s), Some(f64::INFINITY), "{s}");
    }
    for s in ["-inf", "-Inf", "-Infinity"] {
        assert_eq!(parse_float(s), Some(f64::NEG_INFINITY), "{s}");
    }
    for s in ["nan", "NaN", "NAN", "nAn"] {
        assert!(parse_float(s).is_some_and(f64::is_nan), "{s}");
    }
    for s in ["+NaN", "-nan", "infin", "infinit", "infinityy", "in", "na", "nann", "Inf ", "++inf"] {
        assert_eq!(parse_float(s), None, "{s}");
        assert!(!is_float(s), "is_float({s:?})");
    }
}

#[test]
fn parse_float_accepts_hex_floats_with_p_exponent() {
    let cases: &[(&str, f64)] = &[
        ("0x1p-2", 0.25),
        ("0x1P-2", 0.25),
        ("0X1p+2", 4.0),
        ("0x1.8p1", 3.0),
        ("-0x1p0", -1.0),
        ("0x.8p1", 1.0),
        ("0x1.p0", 1.0),
        ("0xAbCp0", 2748.0),
        ("0x_1p0", 1.0),
        ("0x1_0p0", 16.0),
        ("0x1.fffffffffffffp1023", f64::MAX),
        ("0x1p-1022", f64::MIN_POSITIVE),
        ("0x1p-1074", 5e-324),
        ("0x1p-1075", 0.0),
        ("0x1.8p-1075", 5e-324),
        ("0x1.00000000000008p0", 1.0),
        ("0x1.000000000000081p0", 1.0000000000000002),
        ("0x1.00000000000018p0", 1.0000000000000004),
        ("0x0p0", 0.0),
        ("0x1p-99999", 0.0),
    ];
    for &(input, want) in cases {
        assert_eq!(parse_float(input), Some(want), "parse_float({input:?})");
    }
}

#[test]
fn parse_float_rejects_bad_syntax_and_overflow() {
    let syntax: &[&str] = &[
        "",
        ".",
        "-",
        "+",
        "e5",
        ".e5",
        "1e",
        "1e+",
        "1e-",
        "1.2.3",
        " 1",
        "1 ",
        "1f",
        "1x",
        "0x",
        "0x1",
        "0x10",
        "0x1.8",
        "0x.p1",
        "0xp1",
        "0b101",
        "0o7",
        "_1",
        "1_",
        "1__0",
        "1_.5",
        "1._5",
        "123.5e+1__2",
        "123.5e_+12",
        "0x1_p0",
        "0x__1p0",
        "1e3.5",
        "--1",
        "+-1",
        "١",
    ];
    for s in syntax {
        assert_eq!(parse_float(s), None, "parse_float({s:?})");
        assert!(!is_float(s), "is_float({s:?})");
    }
    // Syntactically fine, out of range: Go reports ErrRange.
    for s in ["1e400", "-1e400", "1.7976931348623159e308", "0x1p1024", "-0x1p1024", "0x1.fffffffffffff8p1023"] {
        assert_eq!(parse_float(s), None, "parse_float({s:?})");
        assert!(is_float(s), "is_float({s:?})");
    }
}

#[test]
fn go_parsers_work_in_const_context() {
    const INT: WideInt = parse_wide_int("-12");
    const BOOL: Option<bool> = parse_bool("T");
    const FLOAT: bool = is_float("0x1p-2");
    assert_eq!(INT, WideInt::Value(-12));
    assert_eq!(BOOL, Some(true));
    const { assert!(FLOAT) };
}

#[test]
fn parse_float_of_plain_decimals_is_the_correctly_rounded_value() {
    // Plain decimals take a shortcut; it must give exactly what `str::parse` gives.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20_000 {
        let digits = (next() % 17) as usize + 1;
        let text: String = (0..digits).map(|_| char::from(b'0' + (next() % 10) as u8)).collect();
        let point = (next() % (digits as u64 + 1)) as usize;
        let mut with_point = text.clone();
        with_point.insert(point, '.');
        for input in [text.as_str(), with_point.as_str()] {
            let want = input.parse::<f64>().ok();
            let got = parse_float(input);
            assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "parse_float({input:?})");
        }
    }
    for input in ["0.75", "007", "1.000000000000001", "999999999999999", "0.1", "123456789.012345"] {
        assert_eq!(parse_float(input).map(f64::to_bits), input.parse::<f64>().ok().map(f64::to_bits), "{input}");
    }
}
