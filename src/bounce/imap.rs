//! An IMAP mailbox as a bounce source: fetch the messages not yet processed (without marking
//! them read), then flag, move or delete the ones that were.

use std::sync::Arc;

use async_imap::Session;
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

use super::source::{ImapUrl, SourceError, SourceItem};

/// The keyword set on every message read through, so the next run skips it.
pub const PROCESSED_KEYWORD: &str = "$BulletinProcessed";

/// What happens to a processed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// `\Seen` and `$BulletinProcessed`: it stays where it is.
    Flag,
    /// Flagged, then moved to this mailbox.
    MoveTo(String),
    /// Flagged `\Deleted` and expunged.
    Delete,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Io for T {}

/// A logged-in session with the mailbox selected.
pub struct Mailbox {
    session: Session<Box<dyn Io>>,
    server: String,
}

impl std::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mailbox({})", self.server)
    }
}

fn err(server: &str, message: impl std::fmt::Display) -> SourceError {
    SourceError::Imap {
        server: server.to_string(),
        message: message.to_string(),
    }
}

impl Mailbox {
    /// Connect (TLS verified against the web PKI roots for `imaps://`), log in and select
    /// the mailbox.
    pub async fn open(url: &ImapUrl, password: &str) -> Result<Mailbox, SourceError> {
        let server = format!("{}:{}", url.host, url.port);
        let tcp = TcpStream::connect((url.host.as_str(), url.port))
            .await
            .map_err(|e| err(&server, format!("cannot connect: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Io> = if url.tls {
            let config = crate::tls_client::web_pki().map_err(|e| err(&server, e))?;
            let name = ServerName::try_from(url.host.clone()).map_err(|e| err(&server, e))?;
            let tls = TlsConnector::from(Arc::new(config))
                .connect(name, tcp)
                .await
                .map_err(|e| err(&server, format!("TLS: {e}")))?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        let mut client = async_imap::Client::new(stream);
        client
            .read_response()
            .await
            .map_err(|e| err(&server, format!("no greeting: {e}")))?
            .ok_or_else(|| err(&server, "closed the connection before its greeting"))?;
        let mut session = client
            .login(&url.user, password)
            .await
            .map_err(|(e, _)| err(&server, format!("login as {} failed: {e}", url.user)))?;
        session
            .select(&url.mailbox)
            .await
            .map_err(|e| err(&server, format!("cannot select {}: {e}", url.mailbox)))?;
        Ok(Mailbox { session, server })
    }

    /// Every message not yet processed, read without setting `\Seen`.
    pub async fn fetch_unprocessed(
        &mut self,
        url: &ImapUrl,
    ) -> Result<Vec<SourceItem>, SourceError> {
        let uids = self
            .session
            .uid_search(format!("NOT KEYWORD {PROCESSED_KEYWORD} NOT DELETED"))
            .await
            .map_err(|e| err(&self.server, format!("search failed: {e}")))?;
        let mut uids: Vec<u32> = uids.into_iter().collect();
        uids.sort_unstable();
        let mut items = Vec::with_capacity(uids.len());
        for chunk in uids.chunks(100) {
            let set = uid_set(chunk);
            let fetches: Vec<_> = self
                .session
                .uid_fetch(&set, "(UID BODY.PEEK[])")
                .await
                .map_err(|e| err(&self.server, format!("fetch failed: {e}")))?
                .try_collect()
                .await
                .map_err(|e| err(&self.server, format!("fetch failed: {e}")))?;
            for f in fetches {
                let (Some(uid), Some(body)) = (f.uid, f.body()) else {
                    continue;
                };
                items.push(SourceItem {
                    name: format!("imap:{}/{uid}", url.mailbox),
                    uid: Some(uid),
                    raw: body.to_vec(),
                });
            }
        }
        items.sort_by_key(|i| i.uid);
        Ok(items)
    }

    /// Mark `flag` as processed; move or delete `reports` (the messages that were bounce
    /// reports) as `disposition` says.
    pub async fn finish(
        &mut self,
        flag: &[u32],
        reports: &[u32],
        disposition: &Disposition,
    ) -> Result<(), SourceError> {
        if !flag.is_empty() {
            self.store(flag, &format!("+FLAGS.SILENT (\\Seen {PROCESSED_KEYWORD})"))
                .await?;
        }
        if reports.is_empty() {
            return Ok(());
        }
        match disposition {
            Disposition::Flag => {}
            Disposition::MoveTo(target) => {
                let caps = self
                    .session
                    .capabilities()
                    .await
                    .map_err(|e| err(&self.server, e))?;
                let set = uid_set(reports);
                if caps.has_str("MOVE") {
                    self.session
                        .uid_mv(&set, target)
                        .await
                        .map_err(|e| err(&self.server, format!("cannot move to {target}: {e}")))?;
                } else {
                    self.session
                        .uid_copy(&set, target)
                        .await
                        .map_err(|e| err(&self.server, format!("cannot copy to {target}: {e}")))?;
                    self.store(reports, "+FLAGS.SILENT (\\Deleted)").await?;
                    self.expunge(reports, caps.has_str("UIDPLUS")).await?;
                }
            }
            Disposition::Delete => {
                let caps = self
                    .session
                    .capabilities()
                    .await
                    .map_err(|e| err(&self.server, e))?;
                self.store(reports, "+FLAGS.SILENT (\\Deleted)").await?;
                self.expunge(reports, caps.has_str("UIDPLUS")).await?;
            }
        }
        Ok(())
    }

    async fn store(&mut self, uids: &[u32], what: &str) -> Result<(), SourceError> {
        for chunk in uids.chunks(200) {
            let _: Vec<_> = self
                .session
                .uid_store(uid_set(chunk), what)
                .await
                .map_err(|e| err(&self.server, format!("cannot flag messages: {e}")))?
                .try_collect()
                .await
                .map_err(|e| err(&self.server, format!("cannot flag messages: {e}")))?;
        }
        Ok(())
    }

    async fn expunge(&mut self, uids: &[u32], uidplus: bool) -> Result<(), SourceError> {
        let server = self.server.clone();
        if uidplus {
            let _: Vec<_> = self
                .session
                .uid_expunge(uid_set(uids))
                .await
                .map_err(|e| err(&server, e))?
                .try_collect()
                .await
                .map_err(|e| err(&server, e))?;
        } else {
            let _: Vec<_> = self
                .session
                .expunge()
                .await
                .map_err(|e| err(&server, e))?
                .try_collect()
                .await
                .map_err(|e| err(&server, e))?;
        }
        Ok(())
    }

    pub async fn logout(mut self) {
        let _ = self.session.logout().await;
    }
}

/// `1,2,5` for a list of UIDs.
fn uid_set(uids: &[u32]) -> String {
    uids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets() {
        assert_eq!(uid_set(&[3, 4, 9]), "3,4,9");
    }
}
