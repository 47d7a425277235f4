//! Segments: `--where EXPR`, a small filter language over a list's columns.
//!
//! ```text
//! expr       := or
//! or         := and ("or" and)*
//! and        := not ("and" not)*
//! not        := "not" not | "(" expr ")" | comparison
//! comparison := column "=" value | column "!=" value
//!             | column "contains" value | column "starts" "with" value
//!             | column "in" "(" value ("," value)* ")"
//!             | column "is" "empty" | column "is" "not" "empty"
//! column     := word | "quoted" | 'quoted'
//! value      := word | "quoted" | 'quoted'
//! ```
//!
//! Keywords and comparisons ignore case (Unicode lower case) and the spaces around a cell's
//! value; a quote inside a quoted string is written twice (`'O''Brien'`). A column missing from
//! a row (a short row, or a column of another list) reads as empty. [`Filter::parse`] turns
//! the text into a tree; [`Filter::check_columns`] refuses a column no list has, naming the
//! position and the columns that exist; [`Filter::matches`] decides a row.

use std::collections::BTreeMap;
use std::fmt;

/// A parsed `--where` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    text: String,
    root: Node,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Or(Vec<Node>),
    And(Vec<Node>),
    Not(Box<Node>),
    Test { column: Column, test: Test },
}

/// A column as written in the expression, with where it starts (0-based char index).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    name: String,
    at: usize,
}

/// What is asked of a cell; values are kept lower-cased and trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Test {
    Equals(String),
    NotEquals(String),
    Contains(String),
    StartsWith(String),
    In(Vec<String>),
    Empty,
    NotEmpty,
}

/// A refused expression: what is wrong, and where (0-based char index into the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub text: String,
    pub at: usize,
    pub len: usize,
    pub message: String,
}

impl fmt::Display for FilterError {
    /// `--where: unknown column "Cty" at position 1`, then the expression with a caret under
    /// the place.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (first, rest) = self.message.split_once('\n').unwrap_or((&self.message, ""));
        writeln!(f, "--where: {first} at position {}", self.at + 1)?;
        writeln!(f, "  {}", self.text)?;
        write!(
            f,
            "  {}{}",
            " ".repeat(self.at),
            "^".repeat(self.len.max(1))
        )?;
        if !rest.is_empty() {
            write!(f, "\n{rest}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FilterError {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Quoted(String),
    Eq,
    Ne,
    Open,
    Close,
    Comma,
    End,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    at: usize,
    len: usize,
}

fn lex(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let err = |at: usize, len: usize, message: String| FilterError {
        text: text.to_string(),
        at,
        len,
        message,
    };
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let simple = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => Some(Tok::Open),
            ')' => Some(Tok::Close),
            ',' => Some(Tok::Comma),
            '=' => Some(Tok::Eq),
            '!' if chars.get(i + 1) == Some(&'=') => {
                i += 1;
                Some(Tok::Ne)
            }
            '<' if chars.get(i + 1) == Some(&'>') => {
                i += 1;
                Some(Tok::Ne)
            }
            _ => None,
        };
        if let Some(tok) = simple {
            i += 1;
            tokens.push(Token {
                tok,
                at: start,
                len: i - start,
            });
            continue;
        }
        if c == '"' || c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(err(
                            start,
                            chars.len() - start,
                            format!("unclosed quote {c}: close it with {c}"),
                        ));
                    }
                    Some(&q) if q == c && chars.get(i + 1) == Some(&c) => {
                        s.push(c);
                        i += 2;
                    }
                    Some(&q) if q == c => {
                        i += 1;
                        break;
                    }
                    Some(&other) => {
                        s.push(other);
                        i += 1;
                    }
                }
            }
            tokens.push(Token {
                tok: Tok::Quoted(s),
                at: start,
                len: i - start,
            });
            continue;
        }
        if c == '!' || c == '<' || c == '>' {
            return Err(err(
                start,
                1,
                format!(
                    "unexpected {c:?}: comparisons are =, !=, contains, starts with, in, is empty"
                ),
            ));
        }
        while i < chars.len()
            && !chars[i].is_whitespace()
            && !matches!(
                chars[i],
                '(' | ')' | ',' | '=' | '"' | '\'' | '!' | '<' | '>'
            )
        {
            i += 1;
        }
        tokens.push(Token {
            tok: Tok::Word(chars[start..i].iter().collect()),
            at: start,
            len: i - start,
        });
    }
    tokens.push(Token {
        tok: Tok::End,
        at: chars.len(),
        len: 1,
    });
    Ok(tokens)
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn error(&self, token: &Token, message: impl Into<String>) -> FilterError {
        FilterError {
            text: self.text.to_string(),
            at: token.at,
            len: token.len,
            message: message.into(),
        }
    }

    /// Is the next token the keyword `word` (any case, unquoted)?
    fn at_keyword(&self, word: &str) -> bool {
        matches!(&self.peek().tok, Tok::Word(w) if w.eq_ignore_ascii_case(word))
    }

    fn expect_keyword(&mut self, word: &str, expected: &str) -> Result<(), FilterError> {
        if self.at_keyword(word) {
            self.next();
            Ok(())
        } else {
            let t = self.peek().clone();
            Err(self.error(
                &t,
                format!("expected {expected}, found {}", describe(&t.tok)),
            ))
        }
    }

    fn or(&mut self) -> Result<Node, FilterError> {
        self.chain("or", Self::and, Node::Or)
    }

    fn and(&mut self) -> Result<Node, FilterError> {
        self.chain("and", Self::not, Node::And)
    }

    /// `part (word part)*`: one part alone, or `join` of them all.
    fn chain(
        &mut self,
        word: &str,
        part: fn(&mut Self) -> Result<Node, FilterError>,
        join: fn(Vec<Node>) -> Node,
    ) -> Result<Node, FilterError> {
        let mut parts = vec![part(self)?];
        while self.at_keyword(word) {
            self.next();
            parts.push(part(self)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            join(parts)
        })
    }

    fn not(&mut self) -> Result<Node, FilterError> {
        if self.at_keyword("not") {
            self.next();
            return Ok(Node::Not(Box::new(self.not()?)));
        }
        if self.peek().tok == Tok::Open {
            self.next();
            let inner = self.or()?;
            let t = self.next();
            if t.tok != Tok::Close {
                return Err(self.error(&t, format!("expected ), found {}", describe(&t.tok))));
            }
            return Ok(inner);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Node, FilterError> {
        let t = self.next();
        let name = match &t.tok {
            Tok::Word(w) if is_keyword(w) => {
                return Err(self.error(
                    &t,
                    format!(
                        "expected a column, found the keyword {w:?} (quote a column of that name: \"{w}\")"
                    ),
                ));
            }
            Tok::Word(w) | Tok::Quoted(w) => w.clone(),
            other => {
                return Err(self.error(&t, format!("expected a column, found {}", describe(other))));
            }
        };
        let column = Column { name, at: t.at };
        let op = self.next();
        let test = match &op.tok {
            Tok::Eq => Test::Equals(self.value()?),
            Tok::Ne => Test::NotEquals(self.value()?),
            Tok::Word(w) if w.eq_ignore_ascii_case("contains") => Test::Contains(self.value()?),
            Tok::Word(w) if w.eq_ignore_ascii_case("starts") => {
                self.expect_keyword("with", "`with` after `starts`")?;
                Test::StartsWith(self.value()?)
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("in") => {
                let open = self.next();
                if open.tok != Tok::Open {
                    return Err(self.error(
                        &open,
                        format!("expected ( after `in`, found {}", describe(&open.tok)),
                    ));
                }
                let mut values = vec![self.value()?];
                loop {
                    let t = self.next();
                    match &t.tok {
                        Tok::Comma => values.push(self.value()?),
                        Tok::Close => break,
                        other => {
                            return Err(self.error(
                                &t,
                                format!("expected , or ) in the set, found {}", describe(other)),
                            ));
                        }
                    }
                }
                Test::In(values)
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("is") => {
                if self.at_keyword("not") {
                    self.next();
                    self.expect_keyword("empty", "`empty` after `is not`")?;
                    Test::NotEmpty
                } else {
                    self.expect_keyword("empty", "`empty` or `not empty` after `is`")?;
                    Test::Empty
                }
            }
            other => {
                return Err(self.error(
                    &op,
                    format!(
                        "expected a comparison after the column (=, !=, contains, starts with, in, is empty, is not empty), found {}",
                        describe(other)
                    ),
                ));
            }
        };
        Ok(Node::Test { column, test })
    }

    fn value(&mut self) -> Result<String, FilterError> {
        let t = self.next();
        match &t.tok {
            Tok::Quoted(v) => Ok(fold(v)),
            Tok::Word(w) if !matches!(w.to_ascii_lowercase().as_str(), "and" | "or") => Ok(fold(w)),
            other => Err(self.error(
                &t,
                format!(
                    "expected a value, found {} (quote values with spaces or symbols: 'like this')",
                    describe(other)
                ),
            )),
        }
    }
}

const KEYWORDS: [&str; 8] = [
    "and", "or", "not", "contains", "starts", "in", "is", "empty",
];

fn is_keyword(w: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(w))
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Word(w) => format!("{w:?}"),
        Tok::Quoted(w) => format!("the string {w:?}"),
        Tok::Eq => "=".into(),
        Tok::Ne => "!=".into(),
        Tok::Open => "(".into(),
        Tok::Close => ")".into(),
        Tok::Comma => ",".into(),
        Tok::End => "the end of the expression".into(),
    }
}

/// How values compare: trimmed, Unicode lower case.
fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

impl Filter {
    /// Parse an expression; a syntax error names the position.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let tokens = lex(text)?;
        let mut p = Parser {
            text,
            tokens,
            pos: 0,
        };
        if p.peek().tok == Tok::End {
            let t = p.peek().clone();
            return Err(p.error(&t, "empty expression: write e.g. City = 'Birmingham'"));
        }
        let root = p.or()?;
        let t = p.peek().clone();
        if t.tok != Tok::End {
            return Err(p.error(
                &t,
                format!(
                    "expected `and`, `or` or the end, found {}",
                    describe(&t.tok)
                ),
            ));
        }
        Ok(Filter {
            text: text.to_string(),
            root,
        })
    }

    /// The expression as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Refuse a column that none of `headers` has, naming its position and the columns that
    /// exist (and the one meant, when only the case differs or a letter or two).
    pub fn check_columns<'h>(
        &self,
        headers: impl IntoIterator<Item = &'h str> + Clone,
    ) -> Result<(), FilterError> {
        let mut columns = Vec::new();
        self.root.columns(&mut columns);
        for c in columns {
            if headers.clone().into_iter().any(|h| h == c.name) {
                continue;
            }
            let mut known: Vec<&str> = Vec::new();
            for h in headers.clone() {
                if !known.contains(&h) {
                    known.push(h);
                }
            }
            let near = known
                .iter()
                .find(|h| h.to_lowercase() == c.name.to_lowercase());
            let hint = match near {
                Some(h) => format!(" (column names are written as the header spells them: {h:?})"),
                None => crate::diagnostic::closest(&c.name, known.iter().copied())
                    .map(|h| format!(" (did you mean {h:?}?)"))
                    .unwrap_or_default(),
            };
            let listed = known
                .iter()
                .map(|h| format!("{h:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(FilterError {
                text: self.text.clone(),
                at: c.at,
                len: c.name.chars().count().max(1),
                message: format!(
                    "unknown column {:?}{hint}\nthe lists' columns are: {listed}",
                    c.name
                ),
            });
        }
        Ok(())
    }

    /// Does a row with these cells match? A column absent from the row reads as empty.
    pub fn matches(&self, fields: &BTreeMap<String, String>) -> bool {
        self.root.eval(fields)
    }
}

impl Node {
    fn columns<'a>(&'a self, out: &mut Vec<&'a Column>) {
        match self {
            Node::Or(parts) | Node::And(parts) => parts.iter().for_each(|p| p.columns(out)),
            Node::Not(inner) => inner.columns(out),
            Node::Test { column, .. } => out.push(column),
        }
    }

    fn eval(&self, fields: &BTreeMap<String, String>) -> bool {
        match self {
            Node::Or(parts) => parts.iter().any(|p| p.eval(fields)),
            Node::And(parts) => parts.iter().all(|p| p.eval(fields)),
            Node::Not(inner) => !inner.eval(fields),
            Node::Test { column, test } => {
                let cell = fields
                    .get(&column.name)
                    .map(|v| fold(v))
                    .unwrap_or_default();
                match test {
                    Test::Equals(v) => cell == *v,
                    Test::NotEquals(v) => cell != *v,
                    Test::Contains(v) => cell.contains(v.as_str()),
                    Test::StartsWith(v) => cell.starts_with(v.as_str()),
                    Test::In(values) => values.contains(&cell),
                    Test::Empty => cell.is_empty(),
                    Test::NotEmpty => !cell.is_empty(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[(&str, &str)]) -> BTreeMap<String, String> {
        cells
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn check(expr: &str, cells: &[(&str, &str)]) -> bool {
        Filter::parse(expr).unwrap().matches(&row(cells))
    }

    #[test]
    fn each_comparison() {
        let r = [
            ("City", " Birmingham "),
            ("Org", "NHS Trust of Walsall"),
            ("Tier", ""),
        ];
        assert!(check("City = birmingham", &r));
        assert!(!check("City != 'BIRMINGHAM'", &r));
        assert!(check("Org contains 'trust'", &r));
        assert!(check("Org starts with nhs", &r));
        assert!(!check("Org starts with trust", &r));
        assert!(check("City in (Coventry, 'birmingham')", &r));
        assert!(!check("City in (Coventry)", &r));
        assert!(check("Tier is empty", &r));
        assert!(check("Missing is empty", &r));
        assert!(check("City is not empty", &r));
        assert!(!check("City IS NOT EMPTY and Tier is not empty", &r));
    }

    #[test]
    fn precedence_and_parentheses() {
        let r = [("a", "1"), ("b", "2"), ("c", "3")];
        // and binds tighter than or
        assert!(check("a = 9 and b = 9 or c = 3", &r));
        assert!(!check("a = 9 and (b = 9 or c = 3)", &r));
        assert!(check("not a = 9", &r));
        assert!(!check("not (a = 1 or b = 9)", &r));
        assert!(check("not not a = 1", &r));
    }

    #[test]
    fn quoted_columns_values_and_non_ascii() {
        let r = [("First Name", "Zoë"), ("Company", "O'Brien, Smith & Co")];
        assert!(check("\"First Name\" = 'ZOË'", &r));
        assert!(check("'First Name' = \"zoë\"", &r));
        assert!(check("Company = 'o''brien, smith & co'", &r));
        assert!(check("Company contains ', smith'", &r));
    }

    #[test]
    fn errors_name_the_position() {
        let e = Filter::parse("City = ").unwrap_err();
        assert_eq!(e.at, 7);
        assert!(e.message.contains("expected a value"), "{e}");
        let e = Filter::parse("City == x").unwrap_err();
        assert_eq!(e.at, 6);
        let e = Filter::parse("(City = x").unwrap_err();
        assert!(e.message.contains("expected )"), "{e}");
        let e = Filter::parse("City = 'x").unwrap_err();
        assert_eq!((e.at, e.message.contains("unclosed")), (7, true));
        let e = Filter::parse("City like x").unwrap_err();
        assert_eq!(e.at, 5);
        let e = Filter::parse("City = x Org = y").unwrap_err();
        assert_eq!(e.at, 9);
        assert!(Filter::parse("  ").is_err());
        assert_eq!(
            Filter::parse("City = x or").unwrap_err().to_string(),
            "--where: expected a column, found the end of the expression at position 12\n  City = x or\n             ^"
        );
    }

    #[test]
    fn unknown_columns_are_refused_with_the_known_ones() {
        let f = Filter::parse("City = x and (cty = y or Org = z)").unwrap();
        let e = f.check_columns(["email", "City", "Org"]).unwrap_err();
        assert_eq!(e.at, 14);
        let text = e.to_string();
        assert!(text.contains("unknown column \"cty\""), "{text}");
        assert!(text.contains("\"City\""), "{text}");
        assert!(text.contains("\"email\", \"City\", \"Org\""), "{text}");
        let e = Filter::parse("organisaton = x")
            .unwrap()
            .check_columns(["email", "organisation"])
            .unwrap_err();
        assert!(
            e.to_string().contains("(did you mean \"organisation\"?)"),
            "{e}"
        );
        assert!(
            Filter::parse("City = x")
                .unwrap()
                .check_columns(["City"])
                .is_ok()
        );
    }
}
