//! One verdict on an issue for `bulletin check` and `bulletin send`: compile it and run the
//! checks, turning an unknown placeholder or MJML that breaks MJML's rules (which stop the
//! compile) into findings like the others. `send` refuses what `check` refuses.

use std::fmt::Write as _;
use std::path::Path;

use crate::project::Project;

use super::check::{Finding, Severity, check};
use super::compiled::{CompiledIssue, compile};
use super::error::ComposeError;

/// A compiled issue (when it compiles) and what the checks found.
pub struct Lint {
    /// `None` when the compile stopped at an unknown placeholder or invalid MJML.
    pub compiled: Option<CompiledIssue>,
    pub findings: Vec<Finding>,
    /// Longer explanations (the offending line shown) printed after the findings.
    pub detail: Vec<String>,
}

/// Compile the issue and check it. Errors other than an unknown placeholder or invalid MJML (a
/// broken TOML, a missing template) are returned as they are: there is nothing to check.
pub fn lint(
    project: &Project,
    issue: &Path,
    template: Option<&Path>,
) -> Result<Lint, ComposeError> {
    match compile(project, issue, template) {
        Ok(c) => Ok(Lint {
            findings: check(&c),
            compiled: Some(c),
            detail: Vec::new(),
        }),
        Err(ComposeError::UnknownPlaceholder(e)) => Ok(Lint {
            compiled: None,
            findings: vec![Finding {
                severity: Severity::Error,
                code: "unknown-placeholder",
                message: e.message.clone(),
                location: Some(e.location()),
            }],
            detail: vec![e.to_string()],
        }),
        Err(ComposeError::Invalid(errors)) => Ok(Lint {
            compiled: None,
            findings: errors
                .iter()
                .map(|e| Finding {
                    severity: Severity::Error,
                    code: "invalid-mjml",
                    message: e.message.clone(),
                    location: Some(e.location()),
                })
                .collect(),
            detail: errors.iter().map(ToString::to_string).collect(),
        }),
        Err(e) => Err(e),
    }
}

impl Lint {
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }

    /// One line per finding (`error[code]: where: what`), then the details.
    pub fn report(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            let _ = writeln!(out, "{f}");
        }
        for d in &self.detail {
            let _ = writeln!(out, "{d}");
        }
        out
    }

    /// `ISSUE: 2 errors, 1 warning`.
    pub fn summary(&self, issue: &Path) -> String {
        let (errors, warnings) = (self.errors(), self.warnings());
        format!(
            "{}: {errors} error{}, {warnings} warning{}",
            issue.display(),
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" }
        )
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match &self.location {
            Some(at) => write!(f, "{kind}[{}]: {at}: {}", self.code, self.message),
            None => write!(f, "{kind}[{}]: {}", self.code, self.message),
        }
    }
}

/// An issue `send` may mail, with the warnings to show in the preflight.
pub struct Sendable {
    pub compiled: CompiledIssue,
    /// The warning lines, empty when there are none.
    pub warnings: String,
}

impl Lint {
    /// What `send` does with the verdict: an issue with errors is refused (the text lists
    /// them), one with warnings only goes ahead and shows them.
    pub fn sendable(self, issue: &Path) -> Result<Sendable, String> {
        match self.compiled {
            Some(compiled) if self.errors() == 0 => Ok(Sendable {
                warnings: self.findings.iter().map(|f| format!("{f}\n")).collect(),
                compiled,
            }),
            _ => {
                let mut text = String::new();
                if self.compiled.is_none() {
                    // the compile stopped: its errors, with the lines shown, say it all
                    for (f, d) in self.findings.iter().zip(&self.detail) {
                        let _ = writeln!(text, "error[{}]: {d}", f.code);
                    }
                } else {
                    for f in self
                        .findings
                        .iter()
                        .filter(|f| f.severity == Severity::Error)
                    {
                        let _ = writeln!(text, "{f}");
                    }
                }
                let errors = self.errors();
                let _ = writeln!(
                    text,
                    "refusing to send {}: `bulletin check` finds {errors} error{}; nothing was sent",
                    issue.display(),
                    if errors == 1 { "" } else { "s" }
                );
                Err(text)
            }
        }
    }
}
