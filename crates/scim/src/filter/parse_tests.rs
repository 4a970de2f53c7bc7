use proptest::prelude::*;
use rstest::rstest;

use super::*;

/// Parse, then print canonically.
fn canon(text: &str) -> String {
    parse_filter(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .to_string()
}

#[rstest]
// every operator, case-insensitively
#[case(r#"userName eq "bjensen""#, r#"userName eq "bjensen""#)]
#[case(r#"userName EQ "bjensen""#, r#"userName eq "bjensen""#)]
#[case(r#"userName Ne "x""#, r#"userName ne "x""#)]
#[case(r#"title co "Eng""#, r#"title co "Eng""#)]
#[case(r#"title SW "J""#, r#"title sw "J""#)]
#[case(r#"title ew "er""#, r#"title ew "er""#)]
#[case(
    r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified gt "2011-05-13T04:42:34Z""#
)]
#[case(
    r#"meta.lastModified GE "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified ge "2011-05-13T04:42:34Z""#
)]
#[case(
    r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified lt "2011-05-13T04:42:34Z""#
)]
#[case(
    r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified le "2011-05-13T04:42:34Z""#
)]
#[case("title pr", "title pr")]
#[case("title PR", "title pr")]
// literals
#[case("active eq true", "active eq true")]
#[case("active eq false", "active eq false")]
#[case("title eq null", "title eq null")]
#[case("x eq TRUE", "x eq true")]
#[case("x gt -1.5e3", "x gt -1500.0")]
#[case("x gt 0", "x gt 0")]
#[case("x gt 12.25", "x gt 12.25")]
#[case(
    r#"displayName eq "say \"hi\" \u00e9\\""#,
    r#"displayName eq "say \"hi\" é\\""#
)]
#[case(r#"displayName eq "a/b\/c\t""#, r#"displayName eq "a/b/c\t""#)]
#[case(
    r#"displayName eq "O'Malley (x) [y] and z""#,
    r#"displayName eq "O'Malley (x) [y] and z""#
)]
#[case(r#"displayName eq """#, r#"displayName eq """#)]
// logic, precedence, grouping
#[case("a pr and b pr", "a pr and b pr")]
#[case("a pr And b pr AND c pr", "a pr and b pr and c pr")]
#[case("a pr or b pr and c pr", "a pr or b pr and c pr")]
#[case("(a pr or b pr) and c pr", "(a pr or b pr) and c pr")]
#[case("a pr and (b pr or c pr)", "a pr and (b pr or c pr)")]
#[case("((a pr))", "a pr")]
#[case("(a pr and b pr) and c pr", "a pr and b pr and c pr")]
#[case("a pr or (b pr or c pr)", "a pr or b pr or c pr")]
#[case("not (a pr)", "not (a pr)")]
#[case("not(a pr)", "not (a pr)")]
#[case("NOT (a pr or b pr)", "not (a pr or b pr)")]
#[case("not (not (a pr))", "not (not (a pr))")]
#[case("a pr and not (b pr)", "a pr and not (b pr)")]
#[case("a pr and(b pr)", "a pr and b pr")]
#[case("  a pr  and   b pr  ", "a pr and b pr")]
#[case("a pr\tand\nb pr", "a pr and b pr")]
#[case(
    r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
    r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#
)]
// value paths
#[case(r#"emails[type eq "work"]"#, r#"emails[type eq "work"]"#)]
#[case(
    r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
    r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#
)]
#[case(
    r#"emails[type eq "work"].value eq "a@b.c""#,
    r#"emails[type eq "work" and value eq "a@b.c"]"#
)]
#[case(
    r#"emails[type eq "work" or type eq "home"].value pr"#,
    r#"emails[(type eq "work" or type eq "home") and value pr]"#
)]
#[case(r#"emails[not (type eq "work")]"#, r#"emails[not (type eq "work")]"#)]
#[case(r#"emails[ ( type eq "work" ) ]"#, r#"emails[type eq "work"]"#)]
// URN-prefixed paths
#[case(
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#
)]
#[case(
    r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O'Malley""#,
    r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O'Malley""#
)]
#[case(
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26""#
)]
#[case(r#"members.$ref pr"#, r#"members.$ref pr"#)]
// keywords as attribute names
#[case(r#"and eq "x""#, r#"and eq "x""#)]
#[case(r#"not pr"#, r#"not pr"#)]
#[case(r#"or eq "x" or not pr"#, r#"or eq "x" or not pr"#)]
#[case(r#"notes eq "x""#, r#"notes eq "x""#)]
fn parses(#[case] text: &str, #[case] expected: &str) {
    assert_eq!(canon(text), expected);
    // The canonical form parses to the same filter.
    assert_eq!(
        parse_filter(expected).unwrap(),
        parse_filter(text).unwrap(),
        "{text}"
    );
}

#[rstest]
#[case("", "empty")]
#[case("   ", "empty")]
#[case(r#"userName eq"#, "position 12: expected a space and a value")]
#[case(r#"userName eq "a" and"#, "position 17")]
#[case(r#"userName eq bare"#, "position 13: expected a value")]
#[case(
    r#"userName eq "a")"#,
    "position 16: expected \"and\", \"or\" or the end"
)]
#[case(
    r#"(userName eq "a""#,
    "position 17: expected \"and\", \"or\" or \")\""
)]
#[case(r#"userName = "a""#, "position 10: expected an operator")]
#[case(r#"userName eqq "a""#, "position 10: expected an operator")]
#[case(r#"userName xx "a""#, "expected an operator")]
#[case(r#"userName eq "a"and title pr"#, "position 16")]
#[case(r#"userName eq "unterminated"#, "ends with a double quote")]
#[case(r#"userName eq "bad \x escape""#, "not a valid JSON string")]
#[case("userName eq \"tab\tinside\"", "not a valid JSON string")]
#[case(r#"x eq 01"#, "expected a JSON number")]
#[case(r#"x eq 1."#, "expected a JSON number")]
#[case(r#"x eq 1e"#, "expected a JSON number")]
#[case(r#"x eq -"#, "expected a JSON number")]
#[case(r#"x eq 12abc"#, "expected a JSON number")]
#[case(r#"x eq True1"#, "expected a value")]
#[case(r#"name.familyName.x eq "x""#, "expected an attribute path")]
#[case(r#"1name eq "x""#, "expected an attribute path")]
#[case(r#":name eq "x""#, "expected an attribute path")]
#[case(r#"name. eq "x""#, "expected an attribute path")]
#[case(r#"emails[type eq "work""#, "expected \"and\", \"or\" or \"]\"")]
#[case(r#"emails[type[value eq "x"] pr]"#, "holds no value path")]
#[case(r#"name.givenName[type eq "x"]"#, "not a sub-attribute")]
#[case(r#"emails[type eq "work"]."#, "expected an attribute name")]
#[case(r#"emails[type eq "work"].value"#, "expected a space and an operator")]
#[case(r#"not (a pr"#, "expected \"and\", \"or\" or \")\"")]
#[case(r#"a pr or"#, "position 6")]
#[case(r#"a pr (b pr)"#, "position 6")]
#[case(r#"userName eq "é" zz"#, "position 17")]
fn rejects(#[case] text: &str, #[case] message: &str) {
    let err = parse_filter(text).expect_err(text);
    assert_eq!(err.scim_type(), Some("invalidFilter"));
    assert!(
        err.to_string().contains(message),
        "{text}: {err} does not contain {message:?}"
    );
}

#[test]
fn limits() {
    let deep = format!(
        "{}a pr{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert!(
        parse_filter(&deep)
            .unwrap_err()
            .to_string()
            .contains("deeper")
    );
    let ok = format!("{}a pr{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    parse_filter(&ok).unwrap();
    let nots = format!(
        "{}a pr{}",
        "not (".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert!(parse_filter(&nots).is_err());
    let many = vec!["a pr"; MAX_TERMS + 1].join(" or ");
    assert!(
        parse_filter(&many)
            .unwrap_err()
            .to_string()
            .contains("more than")
    );
    let batch = (0..100)
        .map(|i| format!(r#"userName eq "user{i}@example.com""#))
        .collect::<Vec<_>>()
        .join(" or ");
    assert!(matches!(parse_filter(&batch).unwrap(), Filter::Or(v) if v.len() == 100));
    let long = format!(r#"a eq "{}""#, "x".repeat(MAX_FILTER_LEN));
    assert!(
        parse_filter(&long)
            .unwrap_err()
            .to_string()
            .contains("longer")
    );
}

#[test]
fn ast_shape() {
    let f = parse_filter(r#"emails[type eq "work"].value eq "A@b.c" and not(x pr)"#).unwrap();
    let expected = Filter::And(vec![
        Filter::ValuePath(
            AttrPath::new(None, "emails", None),
            Box::new(Filter::And(vec![
                Filter::Compare(
                    AttrPath::new(None, "type", None),
                    CompareOp::Eq,
                    Value::Str("work".into()),
                ),
                Filter::Compare(
                    AttrPath::new(None, "value", None),
                    CompareOp::Eq,
                    Value::Str("A@b.c".into()),
                ),
            ])),
        ),
        Filter::Not(Box::new(Filter::Present(AttrPath::new(None, "x", None)))),
    ]);
    assert_eq!(f, expected);
    let f = parse_filter(
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "1""#,
    )
    .unwrap();
    let Filter::Compare(p, _, _) = f else {
        panic!()
    };
    assert_eq!(
        p.schema.as_deref(),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    );
    assert_eq!(
        (p.name.as_str(), p.sub_attr.as_deref()),
        ("manager", Some("value"))
    );
}

#[rstest]
#[case("emails", None)]
#[case(r#"emails[type eq "work"]"#, None)]
#[case(r#"emails[type eq "work"].value"#, Some("value"))]
#[case("name.givenName", None)]
#[case("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName", None)]
fn patch_paths(#[case] text: &str, #[case] sub: Option<&str>) {
    let p = parse_path(text).unwrap();
    assert_eq!(p.sub_attr.as_deref(), sub);
}

#[rstest]
#[case("")]
#[case("emails[")]
#[case("emails[type eq]")]
#[case("emails[type eq \"work\"] x")]
#[case("a b")]
fn bad_patch_paths(#[case] text: &str) {
    assert_eq!(
        parse_path(text).unwrap_err().scim_type(),
        Some("invalidPath")
    );
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<String>().prop_map(Value::Str),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        (-1_000_000i64..1_000_000).prop_map(|n| Value::Num(n.into())),
    ]
}

fn arb_path() -> impl Strategy<Value = AttrPath> {
    let name = "[a-zA-Z][a-zA-Z0-9_-]{0,6}";
    (
        prop::option::of(Just(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        )),
        name,
        prop::option::of(name),
    )
        .prop_map(|(u, n, s)| AttrPath::new(u, &n, s.as_deref()))
}

fn arb_op() -> impl Strategy<Value = CompareOp> {
    prop::sample::select(vec![
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ])
}

fn arb_filter() -> impl Strategy<Value = Filter> {
    let leaf = prop_oneof![
        arb_path().prop_map(Filter::Present),
        (arb_path(), arb_op(), arb_value()).prop_map(|(p, o, v)| Filter::Compare(p, o, v)),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|f| Filter::Not(Box::new(f))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::and(a, b)),
            (inner.clone(), inner).prop_map(|(a, b)| Filter::or(a, b)),
        ]
    })
}

proptest! {
    /// Printing a filter and parsing it back gives the same filter.
    #[test]
    fn display_round_trips(f in arb_filter()) {
        let text = f.to_string();
        prop_assert_eq!(parse_filter(&text).unwrap(), f);
    }

    /// No input makes the parser panic.
    #[test]
    fn never_panics(s in ".{0,60}") {
        let _ = parse_filter(&s);
        let _ = parse_path(&s);
    }
}
