//! SCIM filters (RFC 7644 §3.4.2.2): our own AST, a recursive-descent parser
//! ([`parse_filter`]), resolution against the published schema
//! ([`crate::ScimProvider::filter`]) and evaluation over a resource's JSON
//! representation ([`evaluate`]).
//!
//! # Why our own parser
//!
//! The `scim_v2` crate (1.0) is carefully made and its LALRPOP grammar gets precedence,
//! n-ary `and`/`or`, JSON string escapes, URN-prefixed paths and case-insensitive
//! operators right. It rejects two inputs we must accept, though:
//!
//! - `not(title pr)`: the RFC's ABNF is `*1"not" "(" FILTER ")"` with no space required
//!   after `not`; the crate's lexer demands one.
//! - `emails[type eq "work"].value eq "x"`: the form Microsoft Entra sends to look a user
//!   up by work email. It is not in the RFC's filter ABNF (a `valuePath` ends at `]`
//!   there), but the issue requires it; the crate only accepts a trailing sub-attribute
//!   in PATCH paths.
//!
//! Its AST would also have to be translated into ours (the resolved attribute types,
//! case-exactness and the query plan hang off it), so a small parser (≈300 lines, every
//! rule tested below) costs less than the workaround and one more dependency with a
//! generated 500 kB parser and a regex engine. `scim-filter` (0.2) was the other
//! candidate: no string escapes, no negative numbers, `and` and `or` without
//! precedence, unmaintained.
//!
//! # Grammar accepted
//!
//! ```text
//! FILTER    = OR
//! OR        = AND *(SP "or" SP AND)
//! AND       = UNARY *(SP "and" SP UNARY)
//! UNARY     = "not" *SP "(" OR ")" / "(" OR ")" / ATTREXP
//! ATTREXP   = attrPath SP "pr"
//!           / attrPath SP compareOp SP compValue
//!           / attrPath "[" valFilter "]" ["." ATTRNAME SP ("pr" / compareOp SP compValue)]
//! valFilter = the same without value paths inside
//! attrPath  = [URI ":"] ATTRNAME ["." ATTRNAME]
//! compValue = false / null / true / number / string      ; JSON, RFC 8259
//! ```
//!
//! Operators and keywords are case-insensitive (`EQ`, `And`, `NOT`); `SP` is one or more
//! whitespace characters. `attr[f].sub op v` means `attr[f and sub op v]`: one element
//! must satisfy both, which is what Entra means by it.

mod eval;
mod parse;
mod resolve;

use std::fmt;

pub use eval::evaluate;
pub(crate) use eval::{leaf, member};
pub use parse::{PatchPath, parse_filter, parse_path};
pub(crate) use resolve::{parse_datetime, resolve, resolve_attr, resolve_within};

use crate::schema::AttrType;

/// A filter expression. `And` and `Or` are n-ary (`a and b and c` is one `And` of
/// three) and never hold fewer than two operands.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// `attr pr`
    Present(AttrPath),
    /// `attr op value`
    Compare(AttrPath, CompareOp, Value),
    /// `attr[filter]`: some value of the multi-valued (or complex) `attr` satisfies
    /// the filter, whose attribute paths are sub-attributes of `attr`.
    ValuePath(AttrPath, Box<Filter>),
    Not(Box<Filter>),
    And(Vec<Filter>),
    Or(Vec<Filter>),
}

/// An attribute path: `[schema URN ":"] name ["." sub-attribute]`. After resolution
/// the names are canonical (as the schema spells them), `schema` is set for every
/// top-level path (and `None` for paths inside a value filter, which are relative to
/// the element), and the leaf's type is known.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrPath {
    pub schema: Option<String>,
    pub name: String,
    pub sub_attr: Option<String>,
    pub(crate) resolved: Option<Leaf>,
}

/// What resolution learnt about the attribute a path compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Leaf {
    pub ty: AttrType,
    pub case_exact: bool,
    /// The attribute lives under its extension's URN in the representation.
    pub in_extension: bool,
    /// A complex attribute compared through its `value` sub-attribute
    /// (`emails eq "a@b.c"`).
    pub implicit_value: bool,
}

impl AttrPath {
    /// A path as written, not yet resolved.
    pub fn new(schema: Option<&str>, name: &str, sub_attr: Option<&str>) -> Self {
        Self {
            schema: schema.map(str::to_string),
            name: name.to_string(),
            sub_attr: sub_attr.map(str::to_string),
            resolved: None,
        }
    }

    /// The attribute's type, once resolved.
    pub fn attr_type(&self) -> Option<AttrType> {
        self.resolved.map(|l| l.ty)
    }

    /// True when `self` names `name[.sub]` of `schema`, ASCII-case-insensitively.
    pub fn is(&self, schema: &str, name: &str, sub: Option<&str>) -> bool {
        self.schema
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case(schema))
            && self.name.eq_ignore_ascii_case(name)
            && match (&self.sub_attr, sub) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
    }

    /// True when `self` is the relative path `name` (inside a value filter).
    pub fn is_relative(&self, name: &str) -> bool {
        self.schema.is_none() && self.sub_attr.is_none() && self.name.eq_ignore_ascii_case(name)
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Co => "co",
            Self::Sw => "sw",
            Self::Ew => "ew",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }

    /// An operator by name, case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "co" => Self::Co,
            "sw" => Self::Sw,
            "ew" => Self::Ew,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            _ => return None,
        })
    }

    /// `gt ge lt le`.
    pub fn is_ordering(self) -> bool {
        matches!(self, Self::Gt | Self::Ge | Self::Lt | Self::Le)
    }

    /// `co sw ew`.
    pub fn is_substring(self) -> bool {
        matches!(self, Self::Co | Self::Sw | Self::Ew)
    }
}

/// A comparison value: a JSON literal.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Num(serde_json::Number),
    Bool(bool),
    Null,
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
            Value::Num(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Null => f.write_str("null"),
        }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            // A resolved core attribute is written without its (implied) URN.
            if self.resolved.is_none_or(|l| l.in_extension) {
                write!(f, "{schema}:")?;
            }
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// The canonical text of a filter: lower-case operators, JSON literals, parentheses
/// only where precedence needs them. Parsing it gives the same filter back.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Present(p) => write!(f, "{p} pr"),
            Filter::Compare(p, op, v) => write!(f, "{p} {} {v}", op.as_str()),
            Filter::ValuePath(p, inner) => write!(f, "{p}[{inner}]"),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::And(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" and ")?;
                    }
                    if matches!(item, Filter::Or(_)) {
                        write!(f, "({item})")?;
                    } else {
                        write!(f, "{item}")?;
                    }
                }
                Ok(())
            }
            Filter::Or(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" or ")?;
                    }
                    write!(f, "{item}")?;
                }
                Ok(())
            }
        }
    }
}

impl Filter {
    /// `a and b`, flattened.
    pub fn and(a: Filter, b: Filter) -> Filter {
        let mut items = match a {
            Filter::And(items) => items,
            other => vec![other],
        };
        match b {
            Filter::And(more) => items.extend(more),
            other => items.push(other),
        }
        Filter::And(items)
    }

    /// `a or b`, flattened.
    pub fn or(a: Filter, b: Filter) -> Filter {
        let mut items = match a {
            Filter::Or(items) => items,
            other => vec![other],
        };
        match b {
            Filter::Or(more) => items.extend(more),
            other => items.push(other),
        }
        Filter::Or(items)
    }

    /// The conjunction of `items`: `None` for none, the item itself for one.
    pub fn all(items: impl IntoIterator<Item = Filter>) -> Option<Filter> {
        items.into_iter().reduce(Filter::and)
    }
}
