//! `bulletin check`: what would hurt an issue in the inbox.

use serde::Serialize;

use crate::compose::compiled::CompiledIssue;
use crate::compose::{markup, readability};

/// How bad a finding is: errors make `bulletin check` fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One thing `bulletin check` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// A stable, short name of the rule, e.g. `missing-alt`.
    pub code: &'static str,
    pub message: String,
    /// Where: a file (and line), or what in the issue.
    pub location: Option<String>,
}

/// Gmail clips HTML bodies over about 102 KB.
pub const CLIP_BYTES: usize = 102 * 1024;

/// Lint a compiled issue.
pub fn check(c: &CompiledIssue) -> Vec<Finding> {
    let mut out = Vec::new();
    let html = c.html_template();
    let template = c.template().display().to_string();
    let mut has_unsubscribe = false;
    for tag in markup::tags(html) {
        if tag.name.eq_ignore_ascii_case("img") {
            let src = tag.attr("src").unwrap_or("");
            if tag.attr("alt").is_none_or(|a| a.trim().is_empty()) {
                out.push(Finding {
                    severity: Severity::Warning,
                    code: "missing-alt",
                    message: format!(
                        "image {} has no alt text (screen readers and blocked images show nothing useful)",
                        markup::decode_entities(src)
                    ),
                    location: Some(alt_location(c, src)),
                });
            }
        }
        if tag.name.eq_ignore_ascii_case("a") || tag.name.eq_ignore_ascii_case("area") {
            let Some(href) = tag.attr("href") else {
                continue;
            };
            let href = markup::decode_entities(href);
            if href.contains("unsubscribe_url") {
                has_unsubscribe = true;
                continue;
            }
            // An unset `archive_url` printed as a link: one warning below, not an error here.
            if href.starts_with("{{") || (href.is_empty() && c.archive_url_unset()) {
                continue;
            }
            if !link_ok(&href) {
                out.push(Finding {
                    severity: Severity::Error,
                    code: "bad-link",
                    message: format!("link `{href}` is not an https://, http:// or mailto: link"),
                    location: Some(link_location(c, &href)),
                });
            }
        }
    }
    if !has_unsubscribe {
        out.push(Finding {
            severity: Severity::Error,
            code: "no-unsubscribe",
            message: "the template has no unsubscribe link (an <a href=\"{{unsubscribe_url}}\">)"
                .into(),
            location: Some(template.clone()),
        });
    }
    let text_has_link = c.text_template().contains("unsubscribe_url");
    if c.content().text.is_some() && !text_has_link {
        out.push(Finding {
            severity: Severity::Error,
            code: "no-unsubscribe",
            message: "the hand-written text part has no unsubscribe link (`{{unsubscribe_url}}`)"
                .into(),
            location: Some(
                find_in_file(c.issue_file(), "text =")
                    .unwrap_or_else(|| crate::compose::shown(c.issue_file()).display().to_string()),
            ),
        });
    } else if has_unsubscribe && !text_has_link {
        // The text part is made from the HTML: a link hidden from it (or dropped) leaves
        // readers of the plain text without a way out.
        out.push(Finding {
            severity: Severity::Error,
            code: "no-unsubscribe-text",
            message: "the plain-text part has no unsubscribe link: the template's link does not \
                      survive into the text (is it hidden?)"
                .into(),
            location: Some(template.clone()),
        });
    }
    if let (Some(url), Some(gap)) = (c.archive_url(), c.archive_gap())
        && html.contains(url)
    {
        out.push(Finding {
            severity: Severity::Warning,
            code: "archive-missing",
            message: format!(
                "the email links to its page in the web archive, {url}, but the archive leaves this issue out: {gap}"
            ),
            location: Some(crate::compose::shown(c.issue_file()).display().to_string()),
        });
    }
    if c.archive_url_unset() {
        out.push(Finding {
            severity: Severity::Warning,
            code: "archive-url-unset",
            message:
                "the template uses `archive_url` but the archive's address is not configured: \
                      the link is empty (set [archive] base_url, or [serve] url)"
                    .into(),
            location: Some(
                c.locate_unguarded("archive_url")
                    .or_else(|| c.locate_in_templates("archive_url"))
                    .unwrap_or_else(|| template.clone()),
            ),
        });
    }
    let size = html.len();
    if size > CLIP_BYTES {
        out.push(Finding {
            severity: Severity::Error,
            code: "html-size",
            message: format!(
                "the HTML is {} KB: Gmail clips messages over 102 KB",
                size.div_ceil(1024)
            ),
            location: None,
        });
    } else if size > CLIP_BYTES * 9 / 10 {
        out.push(Finding {
            severity: Severity::Warning,
            code: "html-size",
            message: format!(
                "the HTML is {} KB, close to the 102 KB at which Gmail clips messages",
                size.div_ceil(1024)
            ),
            location: None,
        });
    }
    out.extend(column_findings(c));
    out.extend(readability_findings(c));
    for w in c.warnings() {
        out.push(Finding {
            severity: Severity::Warning,
            code: "mjml",
            message: w.clone(),
            location: None,
        });
    }
    out
}

/// Vague link texts, skipped heading levels and text under 14 px.
fn readability_findings(c: &CompiledIssue) -> Vec<Finding> {
    let html = c.html_template();
    let located = |text: &str| {
        let needle = text
            .split_whitespace()
            .take(6)
            .collect::<Vec<_>>()
            .join(" ");
        find_in_file(c.issue_file(), &needle)
            .or_else(|| c.locate_in_templates(&needle))
            .unwrap_or_else(|| c.template().display().to_string())
    };
    let mut out = Vec::new();
    for (text, href) in readability::vague_links(html) {
        out.push(Finding {
            severity: Severity::Warning,
            code: "vague-link",
            message: format!(
                "link text “{text}” says nothing about where it leads ({href}): name the destination, e.g. “Register for the roundtable”"
            ),
            location: Some(link_location(c, &href)),
        });
    }
    for (from, to, text) in readability::heading_jumps(html) {
        out.push(Finding {
            severity: Severity::Warning,
            code: "heading-order",
            message: format!(
                "heading “{text}” is an h{to} after an h{from}: headings go down one level at a time (h{} here)",
                from + 1
            ),
            location: Some(located(&text)),
        });
    }
    let mut sizes: Vec<(f64, String)> = Vec::new();
    for run in readability::runs(html) {
        if run.font_px < readability::MIN_FONT_PX && !sizes.iter().any(|(px, _)| *px == run.font_px)
        {
            sizes.push((run.font_px, run.text));
        }
    }
    for (px, text) in sizes {
        out.push(Finding {
            severity: Severity::Warning,
            code: "small-text",
            message: format!(
                "text set at {px} px, under {} px, is hard to read on a phone: “{}”",
                readability::MIN_FONT_PX,
                text.chars().take(40).collect::<String>()
            ),
            location: Some(located(&text)),
        });
    }
    out
}

/// `https://`, `http://`, `mailto:`, or a `{{ }}` placeholder.
fn link_ok(href: &str) -> bool {
    let lower = href.trim().to_ascii_lowercase();
    (lower.starts_with("https://") && lower.len() > 8)
        || (lower.starts_with("http://") && lower.len() > 7)
        || (lower.starts_with("mailto:") && lower.len() > 7)
}

/// Where an image was named: the issue.toml line with its `src`, else the template.
fn alt_location(c: &CompiledIssue, src: &str) -> String {
    let src = markup::decode_entities(src);
    find_in_file(c.issue_file(), &src)
        .or_else(|| c.locate_in_templates(&src))
        .unwrap_or_else(|| c.template().display().to_string())
}

fn link_location(c: &CompiledIssue, href: &str) -> String {
    find_in_file(c.issue_file(), href)
        .or_else(|| c.locate_in_templates(href))
        .unwrap_or_else(|| c.template().display().to_string())
}

/// `file:line` of the first line holding `needle`.
fn find_in_file(path: &std::path::Path, needle: &str) -> Option<String> {
    if needle.is_empty() {
        return None;
    }
    let text = crate::diagnostic::read_text(path).ok()?;
    let line = text.lines().position(|l| l.contains(needle))? + 1;
    Some(format!("{}:{line}", crate::compose::shown(path).display()))
}

/// `subscriber.COLUMN` placeholders that no list of the project has a column for.
fn column_findings(c: &CompiledIssue) -> Vec<Finding> {
    // (placeholder as written, column name)
    let columns: Vec<(&str, String)> = c
        .recipient_placeholders()
        .iter()
        .filter_map(|p| {
            let column = p.strip_prefix("subscriber.")?;
            let column = column.trim_start_matches('[').trim_end_matches(']');
            (column != "email" && column != "name").then(|| (p.as_str(), column.to_string()))
        })
        .collect();
    if columns.is_empty() {
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir(c.lists_dir()) else {
        return Vec::new();
    };
    let mut lists: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")))
        .collect();
    lists.sort();
    let mut out = Vec::new();
    for list in lists {
        let Some(header) = header_of(&list) else {
            continue;
        };
        for (placeholder, column) in &columns {
            if !header.iter().any(|h| h == column) {
                out.push(Finding {
                    severity: Severity::Error,
                    code: "unknown-placeholder",
                    message: format!(
                        "unknown placeholder `subscriber.{column}`: {} has no column `{column}`",
                        crate::compose::shown(&list).display()
                    ),
                    location: Some(
                        c.locate_in_templates(placeholder)
                            .unwrap_or_else(|| c.template().display().to_string()),
                    ),
                });
            }
        }
    }
    out
}

/// The header row of a CSV list (comma, semicolon or tab separated).
fn header_of(path: &std::path::Path) -> Option<Vec<String>> {
    let text = crate::diagnostic::read_text(path).ok()?;
    let first = text.lines().find(|l| !l.trim().is_empty())?;
    let delimiter = [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| first.bytes().filter(|b| b == d).count())?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(first.as_bytes());
    let record = reader.records().next()?.ok()?;
    Some(record.iter().map(|h| h.trim().to_string()).collect())
}
