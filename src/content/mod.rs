//! An issue's content: `issue.toml` as typed data, with Markdown inside text fields.
