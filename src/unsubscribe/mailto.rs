//! Unsubscribe requests that came by mail (see [`crate::bounce::unsubscribe`]): the token a
//! request carries names the member, through the project's [`Directory`]; applying one adds
//! the member to the suppression list.

use std::io;

use super::Directory;
use crate::list::Suppression;
use crate::list::suppression::UNSUBSCRIBE;
use crate::message::Tokens;
use crate::project::Project;

/// The project's side of mailed requests.
pub struct MailRequests {
    mailto: String,
    /// `None` when the project has no token secret yet (so it never sent a token).
    directory: Option<Directory>,
    /// Open when the requests are applied.
    suppression: Option<Suppression>,
}

/// What a request came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The member's address; `recorded` is false when they had already unsubscribed (or
    /// nothing is applied).
    Member { email: String, recorded: bool },
    /// The token names nobody the project knows: nothing is done.
    UnknownToken,
}

impl MailRequests {
    /// The project's members and unsubscribe address; with `apply`, its suppression list.
    pub fn open(project: &Project, apply: bool) -> anyhow::Result<MailRequests> {
        // A look without --apply must not make the secret file as a side effect.
        let has_secret = project.config.sender.token_secret.is_some()
            || std::env::var_os(crate::message::tokens::SECRET_ENV).is_some()
            || project
                .state_dir()
                .join(crate::message::tokens::SECRET_FILE)
                .exists();
        let directory = if apply || has_secret {
            let tokens = Tokens::load(&project.config, &project.root)?;
            let (addresses, warnings) = super::directory::Sources::of(project).addresses();
            for w in warnings {
                eprintln!("warning: {w}");
            }
            Some(Directory::of(&tokens, addresses))
        } else {
            None
        };
        let suppression = if apply {
            Some(Suppression::load_state(&project.state_dir())?)
        } else {
            None
        };
        Ok(MailRequests {
            mailto: project.config.unsubscribe_mailto().to_string(),
            directory,
            suppression,
        })
    }

    /// The address requests are sent to.
    pub fn mailto(&self) -> &str {
        &self.mailto
    }

    /// Look the token up and, when applying, record the unsubscribe (synced to disk).
    pub fn handle(&mut self, token: &str) -> io::Result<Outcome> {
        let Some(member) = self.directory.as_ref().and_then(|d| d.find(token)) else {
            return Ok(Outcome::UnknownToken);
        };
        let email = member.email.clone();
        let recorded = match &mut self.suppression {
            Some(s) => s.add(&email, "unsubscribed (mailto)", UNSUBSCRIBE)?,
            None => false,
        };
        Ok(Outcome::Member { email, recorded })
    }
}
