//! When an issue came out: `published = 2023-09-28` in `issue.toml`, the date the archive
//! sorts by and the feed states. Old issues without it fall back on their `date` text when it
//! reads as a date ("September 2023", "28 September 2023").

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month};

/// A publication date (a day, no time of day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Published(Date);

impl Published {
    /// `YYYY-MM-DD`.
    pub fn parse_iso(s: &str) -> Option<Published> {
        let mut parts = s.trim().splitn(3, '-');
        let year: i32 = parts.next()?.parse().ok()?;
        let month: u8 = parts.next()?.parse().ok()?;
        let day: u8 = parts.next()?.parse().ok()?;
        let month = Month::try_from(month).ok()?;
        Date::from_calendar_date(year, month, day)
            .ok()
            .map(Published)
    }

    /// A date as people write it on an issue: `2023-09-28`, `28 September 2023`,
    /// `September 2023` (the first of the month), `Sept. 2023`.
    pub fn from_text(s: &str) -> Option<Published> {
        if let Some(p) = Self::parse_iso(s) {
            return Some(p);
        }
        let words: Vec<&str> = s
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .collect();
        let (day, month, year) = match words.as_slice() {
            [m, y] => (1, *m, *y),
            [d, m, y] if day_number(d).is_some() => (day_number(d)?, *m, *y),
            [m, d, y] => (day_number(d)?, *m, *y),
            _ => return None,
        };
        let year: i32 = year.parse().ok()?;
        Date::from_calendar_date(year, month_named(month)?, day)
            .ok()
            .map(Published)
    }

    pub fn date(&self) -> Date {
        self.0
    }

    /// RFC 3339 at midnight UTC, as Atom's `updated` wants it.
    pub fn rfc3339(&self) -> String {
        format!("{self}T00:00:00Z")
    }

    /// "28 September 2023".
    pub fn long(&self) -> String {
        format!("{} {} {}", self.0.day(), self.0.month(), self.0.year())
    }
}

fn day_number(word: &str) -> Option<u8> {
    word.trim_end_matches(|c: char| c.is_ascii_alphabetic())
        .parse()
        .ok()
}

fn month_named(word: &str) -> Option<Month> {
    let w = word.trim_end_matches('.').to_lowercase();
    if w.len() < 3 {
        return None;
    }
    let mut m = Month::January;
    for _ in 0..12 {
        if m.to_string().to_lowercase().starts_with(&w) {
            return Some(m);
        }
        m = m.next();
    }
    None
}

impl fmt::Display for Published {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

impl<'de> Deserialize<'de> for Published {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let expected = "a date such as 2023-09-28";
        let text = match toml::Value::deserialize(d)? {
            toml::Value::Datetime(dt) => match (dt.date, dt.time) {
                (Some(date), None) => date.to_string(),
                _ => {
                    return Err(serde::de::Error::custom(format!(
                        "`{dt}` is not a day: expected {expected}, without a time"
                    )));
                }
            },
            toml::Value::String(s) => s,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "expected {expected}, found {}",
                    other.type_str()
                )));
            }
        };
        Published::parse_iso(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("`{text}` is not a date: expected {expected}"))
        })
    }
}

impl Serialize for Published {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_written_on_issues() {
        let iso = |s| Published::parse_iso(s).map(|p| p.to_string());
        assert_eq!(iso("2023-09-28").as_deref(), Some("2023-09-28"));
        assert_eq!(iso("2023-02-30"), None);
        let text = |s| Published::from_text(s).map(|p| p.to_string());
        assert_eq!(text("September 2023").as_deref(), Some("2023-09-01"));
        assert_eq!(text("28 September 2023").as_deref(), Some("2023-09-28"));
        assert_eq!(text("Sept. 28th, 2023").as_deref(), Some("2023-09-28"));
        assert_eq!(text("Autumn 2023"), None);
        assert_eq!(text("Issue 12"), None);
        assert_eq!(
            Published::parse_iso("2023-09-28").unwrap().long(),
            "28 September 2023"
        );
    }
}
