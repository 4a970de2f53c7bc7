//! Where SQLite and PostgreSQL have no common spelling. Everything else is written
//! once, in the spelling both accept (`IS NOT DISTINCT FROM`, `TRUE`, a boolean
//! column as a condition, `CAST(… AS BIGINT)`, `excluded.` in an upsert).

/// A quoted SQL identifier (the same spelling in both).
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The SQL engine an adapter runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `haystack` contains the text parameter `needle`.
    pub fn contains(self, haystack: &str, needle: &str) -> String {
        match self {
            Dialect::Sqlite => format!("instr({haystack}, {needle}) > 0"),
            Dialect::Postgres => format!("strpos({haystack}, {needle}) > 0"),
        }
    }

    /// `column` is one of the values of the list parameter `param`
    /// ([`Arg::Ints`](super::Arg::Ints) or [`Arg::Texts`](super::Arg::Texts): a JSON
    /// array for SQLite, an array for PostgreSQL). One parameter however long the
    /// list.
    pub fn key_in(self, column: &str, param: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{column} IN (SELECT value FROM json_each({param}))"),
            Dialect::Postgres => format!("{column} = ANY({param})"),
        }
    }

    /// The entries of the JSON object in text `column`, as a table with columns `key`
    /// and `value` (text), for a `FROM` list.
    pub fn json_entries(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_each({column})"),
            Dialect::Postgres => format!("jsonb_each_text({column}::jsonb)"),
        }
    }

    /// The boolean `column` is true, spelled as the partial indexes are (SQLite's
    /// `WHERE active = 1` serves only a query that says `active = 1`).
    pub fn is_true(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{column} = 1"),
            Dialect::Postgres => column.to_string(),
        }
    }

    /// What a `SELECT` in a write's transaction appends to lock the rows it reads
    /// until the commit (SQLite's write transaction locks the whole database).
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// [`Dialect::for_update`], leaving the row free for inserts that refer to it.
    pub fn for_no_key_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR NO KEY UPDATE",
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_quoted() {
        assert_eq!(super::ident("employees"), "\"employees\"");
        assert_eq!(super::ident("we\"ird"), "\"we\"\"ird\"");
    }

    use super::*;

    #[test]
    fn each_engine_gets_its_spelling() {
        assert_eq!(
            Dialect::Sqlite.key_in("e.key", "$2"),
            "e.key IN (SELECT value FROM json_each($2))"
        );
        assert_eq!(Dialect::Postgres.key_in("e.key", "$2"), "e.key = ANY($2)");
        assert_eq!(Dialect::Sqlite.is_true("active"), "active = 1");
        assert_eq!(Dialect::Postgres.is_true("active"), "active");
        assert!(Dialect::Sqlite.for_update().is_empty());
    }
}
