//! The one placeholder style of the shared statements is PostgreSQL's `$N`. SQLite
//! reads `$1` as a *named* parameter and numbers named parameters by first
//! appearance, so `SET last_used_at = $3 WHERE account_id = $1` would bind the
//! first argument to `last_used_at`. [`sqlite`] rewrites `$N` to `?N`, which SQLite
//! numbers as written. Quoted text is left alone: SQLite's JSON paths (`'$.a'`)
//! contain `$`.

/// `sql` with every `$N` outside quotes written `?N`.
pub fn sqlite(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    // The quote we are inside of, if any: `'` for text, `"` for an identifier.
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                // A doubled quote inside is an escaped quote: leaving and re-entering
                // the quoted text does the same.
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    out.push(c);
                }
                '$' if chars.peek().is_some_and(char::is_ascii_digit) => out.push('?'),
                _ => out.push(c),
            },
        }
    }
    out
}

/// The highest `$N` outside quotes (0 if none): a statement binds this many
/// arguments.
pub fn count(sql: &str) -> usize {
    let rewritten = sqlite(sql);
    let mut max = 0;
    let mut rest = rewritten.as_str();
    let mut quote: Option<char> = None;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '?') => {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(n) = digits.parse::<usize>() {
                    max = max.max(n);
                }
            }
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_placeholders_become_sqlites() {
        assert_eq!(
            sqlite("UPDATE t SET a = $3 WHERE b = $1 AND c = $12"),
            "UPDATE t SET a = ?3 WHERE b = ?1 AND c = ?12"
        );
    }

    #[test]
    fn quoted_text_is_left_alone() {
        assert_eq!(
            sqlite("SELECT json_extract(x, '$.a'), '$1', \"$2\", $1 FROM t WHERE y = 'it''s $3'"),
            "SELECT json_extract(x, '$.a'), '$1', \"$2\", ?1 FROM t WHERE y = 'it''s $3'"
        );
    }

    #[test]
    fn a_dollar_without_digits_stays() {
        assert_eq!(sqlite("SELECT $a, $, $1"), "SELECT $a, $, ?1");
        assert_eq!(sqlite(""), "");
    }

    #[test]
    fn statements_count_their_arguments() {
        assert_eq!(count("SELECT 1"), 0);
        assert_eq!(count("SELECT $2, $1, '$9'"), 2);
        assert_eq!(count("UPDATE t SET a = $12 WHERE b = $3"), 12);
    }
}
