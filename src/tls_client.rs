//! The TLS client configuration of every connection bulletin opens to a service on the web
//! (an IMAP mailbox, `bulletin serve`): certificates verified against the web's roots.

use std::sync::Arc;

use tokio_rustls::rustls;

/// A rustls client configuration trusting the web PKI roots (`webpki-roots`).
pub fn web_pki() -> Result<rustls::ClientConfig, rustls::Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth())
}
