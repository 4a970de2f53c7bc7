//! The recursive-descent filter parser (grammar in the module docs of [`super`]).
//! Syntax only: names are checked against the schema by [`super::resolve()`].

use super::{AttrPath, CompareOp, Filter, Value};
use crate::error::ScimError;

/// Longest filter accepted, in bytes (a batch lookup of a hundred emails is ~5 kB).
pub const MAX_FILTER_LEN: usize = 16 * 1024;
/// Deepest nesting of parentheses, `not` and brackets.
pub const MAX_DEPTH: usize = 32;
/// Most attribute expressions in one filter.
pub const MAX_TERMS: usize = 500;

/// Parse a filter. Errors are `invalidFilter` with the (1-based, in characters)
/// position and what was expected there.
pub fn parse_filter(text: &str) -> Result<Filter, ScimError> {
    let mut p = Parser::new(text)?;
    p.skip_ws();
    if p.at_end() {
        return Err(ScimError::InvalidFilter("the filter is empty".into()));
    }
    let f = p.or_expr(false)?;
    p.skip_ws();
    if !p.at_end() {
        return Err(p.error("\"and\", \"or\" or the end of the filter"));
    }
    Ok(f)
}

/// A PATCH operation's `path` (RFC 7644 §3.5.2): `attrPath` or
/// `valuePath ["." subAttr]`.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    pub sub_attr: Option<String>,
}

/// Parse a PATCH `path`; errors are `invalidPath`.
pub fn parse_path(text: &str) -> Result<PatchPath, ScimError> {
    let inner = || -> Result<PatchPath, ScimError> {
        let mut p = Parser::new(text)?;
        p.skip_ws();
        let attr = p.attr_path()?;
        let mut out = PatchPath {
            attr,
            filter: None,
            sub_attr: None,
        };
        if p.eat(b'[') {
            out.filter = Some(p.bracketed()?);
            if p.eat(b'.') {
                out.sub_attr = Some(p.attr_name()?);
            }
        }
        p.skip_ws();
        if !p.at_end() {
            return Err(p.error("the end of the path"));
        }
        Ok(out)
    };
    inner().map_err(|e| match e {
        ScimError::InvalidFilter(m) => ScimError::InvalidPath(m.replace("filter", "path")),
        other => other,
    })
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    terms: usize,
}

fn is_path_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'_' | b'-' | b'$')
}

/// RFC 7643 §2.1: `ATTRNAME = ALPHA *(nameChar)`, and the `$ref` sub-attribute.
fn valid_attr_name(s: &str) -> bool {
    s == "$ref"
        || s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Result<Self, ScimError> {
        if src.len() > MAX_FILTER_LEN {
            return Err(ScimError::InvalidFilter(format!(
                "the filter is longer than {MAX_FILTER_LEN} bytes"
            )));
        }
        Ok(Self {
            src,
            pos: 0,
            depth: 0,
            terms: 0,
        })
    }

    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skip whitespace; how many bytes were skipped.
    fn skip_ws(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// `invalidFilter: at position N: expected X, found Y`.
    fn error(&self, expected: &str) -> ScimError {
        let at = self.src[..self.pos].chars().count() + 1;
        let rest = &self.src[self.pos..];
        let found = if rest.is_empty() {
            "the end of the filter".to_string()
        } else {
            let snippet: String = rest.chars().take(16).collect();
            let more = if rest.chars().count() > 16 { "…" } else { "" };
            format!("{:?}", format!("{snippet}{more}"))
        };
        ScimError::InvalidFilter(format!(
            "invalid filter at position {at}: expected {expected}, found {found}"
        ))
    }

    fn enter(&mut self) -> Result<(), ScimError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ScimError::InvalidFilter(format!(
                "the filter nests deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(())
    }

    /// The word at the cursor (ASCII letters) when it equals `kw` case-insensitively
    /// and is followed by what `next_ok` accepts; consumes it.
    fn keyword(&mut self, kw: &str, next_ok: impl Fn(Option<u8>) -> bool) -> bool {
        let end = self.pos + kw.len();
        let matches = self.src.len() >= end
            && self.src.is_char_boundary(end)
            && self.src[self.pos..end].eq_ignore_ascii_case(kw)
            && next_ok(self.bytes().get(end).copied());
        if matches {
            self.pos = end;
        }
        matches
    }

    /// `SP kw SP`, where the second `SP` may also be the `(` of a group.
    fn infix(&mut self, kw: &str) -> bool {
        let save = self.pos;
        if self.skip_ws() > 0
            && self.keyword(kw, |b| {
                b.is_some_and(|b| b.is_ascii_whitespace() || b == b'(')
            })
        {
            return true;
        }
        self.pos = save;
        false
    }

    fn or_expr(&mut self, in_value: bool) -> Result<Filter, ScimError> {
        let mut f = self.and_expr(in_value)?;
        while self.infix("or") {
            self.skip_ws();
            let rhs = self.and_expr(in_value)?;
            f = Filter::or(f, rhs);
        }
        Ok(f)
    }

    fn and_expr(&mut self, in_value: bool) -> Result<Filter, ScimError> {
        let mut f = self.unary(in_value)?;
        while self.infix("and") {
            self.skip_ws();
            let rhs = self.unary(in_value)?;
            f = Filter::and(f, rhs);
        }
        Ok(f)
    }

    fn unary(&mut self, in_value: bool) -> Result<Filter, ScimError> {
        let save = self.pos;
        if self.keyword("not", |b| {
            b.is_some_and(|b| b.is_ascii_whitespace() || b == b'(')
        }) {
            self.skip_ws();
            if self.eat(b'(') {
                let inner = self.group(in_value)?;
                return Ok(Filter::Not(Box::new(inner)));
            }
            // `not` was an attribute's name after all (`not pr`).
            self.pos = save;
        }
        if self.eat(b'(') {
            return self.group(in_value);
        }
        self.attr_expr(in_value)
    }

    /// After `(`: the expression and its `)`.
    fn group(&mut self, in_value: bool) -> Result<Filter, ScimError> {
        self.enter()?;
        self.skip_ws();
        let f = self.or_expr(in_value)?;
        self.skip_ws();
        if !self.eat(b')') {
            return Err(self.error("\"and\", \"or\" or \")\""));
        }
        self.depth -= 1;
        Ok(f)
    }

    /// After `[`: the value filter and its `]`.
    fn bracketed(&mut self) -> Result<Filter, ScimError> {
        self.enter()?;
        self.skip_ws();
        let f = self.or_expr(true)?;
        self.skip_ws();
        if !self.eat(b']') {
            return Err(self.error("\"and\", \"or\" or \"]\""));
        }
        self.depth -= 1;
        Ok(f)
    }

    fn attr_expr(&mut self, in_value: bool) -> Result<Filter, ScimError> {
        let start = self.pos;
        let path = self.attr_path()?;
        if self.peek() == Some(b'[') {
            if in_value {
                return Err(self.error("an operator (a value filter holds no value path)"));
            }
            if path.sub_attr.is_some() {
                self.pos = start;
                return Err(
                    self.error("a multi-valued attribute before \"[\", not a sub-attribute")
                );
            }
            self.pos += 1;
            let inner = self.bracketed()?;
            if self.eat(b'.') {
                // Entra's `emails[type eq "work"].value eq "x"`.
                let sub = self.attr_name()?;
                let rest = self.operation(AttrPath::new(None, &sub, None))?;
                return Ok(Filter::ValuePath(path, Box::new(Filter::and(inner, rest))));
            }
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        self.operation(path)
    }

    /// `SP "pr"` or `SP compareOp SP compValue` after a path.
    fn operation(&mut self, path: AttrPath) -> Result<Filter, ScimError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(ScimError::InvalidFilter(format!(
                "the filter has more than {MAX_TERMS} comparisons"
            )));
        }
        if self.skip_ws() == 0 {
            return Err(self.error("a space and an operator"));
        }
        let word_start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
            self.pos += 1;
        }
        let word = &self.src[word_start..self.pos];
        if word.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::parse(word) else {
            self.pos = word_start;
            return Err(self.error("an operator: eq, ne, co, sw, ew, gt, ge, lt, le or pr"));
        };
        if self.skip_ws() == 0 {
            return Err(self.error("a space and a value"));
        }
        let value = self.value()?;
        Ok(Filter::Compare(path, op, value))
    }

    fn attr_name(&mut self) -> Result<String, ScimError> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'$'))
        {
            self.pos += 1;
        }
        let name = &self.src[start..self.pos];
        if !valid_attr_name(name) {
            self.pos = start;
            return Err(self.error("an attribute name"));
        }
        Ok(name.to_string())
    }

    /// `[URI ":"] ATTRNAME ["." ATTRNAME]`.
    fn attr_path(&mut self) -> Result<AttrPath, ScimError> {
        let start = self.pos;
        while self.peek().is_some_and(is_path_char) {
            self.pos += 1;
        }
        let text = &self.src[start..self.pos];
        let bad = |p: &mut Self| {
            p.pos = start;
            Err(p.error("an attribute path like userName, name.givenName or urn:…:employeeNumber"))
        };
        let (uri, rest) = match text.rsplit_once(':') {
            Some((uri, rest)) => (Some(uri), rest),
            None => (None, text),
        };
        let (name, sub) = match rest.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (rest, None),
        };
        if uri.is_some_and(|u| u.is_empty() || !u.starts_with(|c: char| c.is_ascii_alphabetic()))
            || !valid_attr_name(name)
            || sub.is_some_and(|s| !valid_attr_name(s))
        {
            return bad(self);
        }
        Ok(AttrPath::new(uri, name, sub))
    }

    fn value(&mut self) -> Result<Value, ScimError> {
        match self.peek() {
            Some(b'"') => self.string(),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => {
                for (word, v) in [
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                    ("null", Value::Null),
                ] {
                    if self.keyword(word, |b| !b.is_some_and(|b| b.is_ascii_alphanumeric())) {
                        return Ok(v);
                    }
                }
                Err(self.error("a value: a string in double quotes, a number, true, false or null"))
            }
        }
    }

    /// A JSON string (RFC 8259 escapes, decoded by serde_json).
    fn string(&mut self) -> Result<Value, ScimError> {
        let start = self.pos;
        let bytes = self.bytes();
        let mut i = start + 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'"' => {
                    let text = &self.src[start..=i];
                    return match serde_json::from_str::<String>(text) {
                        Ok(s) => {
                            self.pos = i + 1;
                            Ok(Value::Str(s))
                        }
                        Err(e) => Err(ScimError::InvalidFilter(format!(
                            "invalid filter at position {}: the string {text} is not a valid \
                             JSON string ({e})",
                            self.src[..start].chars().count() + 1
                        ))),
                    };
                }
                _ => i += 1,
            }
        }
        Err(self.error("a string that ends with a double quote"))
    }

    /// A JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Result<Value, ScimError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.peek().is_some_and(|b| b.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos - s
        };
        self.eat(b'-');
        let int_start = self.pos;
        let n = digits(self);
        let ok_int = n == 1 || (n > 1 && self.bytes()[int_start] != b'0');
        let mut ok = ok_int;
        if ok && self.eat(b'.') {
            ok = digits(self) > 0;
        }
        if ok && matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            ok = digits(self) > 0;
        }
        if ok
            && self
                .peek()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.')
        {
            ok = false;
        }
        let text = &self.src[start..self.pos];
        match text.parse::<serde_json::Number>() {
            Ok(n) if ok => Ok(Value::Num(n)),
            _ => {
                self.pos = start;
                Err(self.error("a JSON number"))
            }
        }
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
