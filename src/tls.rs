//! TLS client settings shared by the connections bulletin opens: which certificate
//! authorities are trusted (the system's store, the bundled web roots, and a configured CA
//! file), the explicit per-host skip of verification, and a plain sentence for a handshake
//! that failed.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{CryptoProvider, ring};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

/// Whom to trust for one connection.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// A PEM file of extra certificate authorities (a private CA).
    pub ca_file: Option<PathBuf>,
    /// Hosts whose certificate is not verified at all (a self-signed test server).
    pub skip_verify_hosts: Vec<String>,
}

/// A trust setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: cannot read the CA file: {reason}")]
    CaFile { path: PathBuf, reason: String },
    #[error("{path}: the CA file holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)")]
    NoCertificate { path: PathBuf },
    #[error("{path}: a certificate in the CA file is not usable: {reason}")]
    BadCertificate { path: PathBuf, reason: String },
    #[error("cannot set up TLS: {0}")]
    Setup(String),
}

impl Trust {
    /// Is verification skipped for `host`?
    pub fn skips(&self, host: &str) -> bool {
        self.skip_verify_hosts
            .iter()
            .any(|h| h.trim().eq_ignore_ascii_case(host.trim_end_matches('.')))
    }

    /// The trusted authorities: the system's certificate store (which also honours
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR`), the bundled web roots, and the CA file.
    pub fn root_store(&self) -> Result<RootCertStore, TlsError> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        // A system store that cannot be read, or holds a certificate rustls cannot use, leaves
        // the bundled roots and the CA file to decide.
        let _ = roots.add_parsable_certificates(system_roots().iter().cloned());
        if let Some(path) = &self.ca_file {
            for cert in ca_certificates(path)? {
                roots.add(cert).map_err(|e| TlsError::BadCertificate {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
            }
        }
        Ok(roots)
    }

    /// A client configuration for a connection to `host`.
    pub fn client_config(&self, host: &str) -> Result<ClientConfig, TlsError> {
        let provider = Arc::new(ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Setup(e.to_string()))?;
        let config = if self.skips(host) {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
                .with_no_client_auth()
        } else {
            builder
                .with_root_certificates(self.root_store()?)
                .with_no_client_auth()
        };
        Ok(config)
    }

    /// The certificates trusted beyond the bundled web roots: the system's store and the CA
    /// file, for a client (lettre's SMTP) that brings the bundled roots itself.
    pub fn extra_roots(&self) -> Result<Vec<CertificateDer<'static>>, TlsError> {
        let mut certs = system_roots().to_vec();
        if let Some(path) = &self.ca_file {
            certs.extend(ca_certificates(path)?);
        }
        Ok(certs)
    }

    /// The name the certificate must hold.
    pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
        ServerName::try_from(host.to_string())
            .map_err(|_| TlsError::Setup(format!("{host:?} is not a valid host name for TLS")))
    }
}

/// The system's certificate store (and `SSL_CERT_FILE`), read once per process. A store that
/// cannot be read is empty: the bundled roots and the CA file still decide.
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: std::sync::OnceLock<Vec<CertificateDer<'static>>> = std::sync::OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// The certificates of a PEM file.
fn ca_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = std::fs::read(path).map_err(|e| TlsError::CaFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::BadCertificate {
            path: path.to_path_buf(),
            reason: format!("{e:?}"),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// The first record a TLS client sends (a ClientHello naming `host`), to learn whether a port
/// that says nothing is waiting for one.
pub fn client_hello(host: &str) -> Result<Vec<u8>, TlsError> {
    let provider = Arc::new(ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_root_certificates(RootCertStore::empty())
        .with_no_client_auth();
    let mut conn = rustls::ClientConnection::new(Arc::new(config), Trust::server_name(host)?)
        .map_err(|e| TlsError::Setup(e.to_string()))?;
    let mut hello = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut hello)
            .map_err(|e| TlsError::Setup(e.to_string()))?;
    }
    Ok(hello)
}

/// Do these first bytes from a server start a TLS record (a handshake message such as a
/// ServerHello, or an alert) rather than text? An SMTP or IMAP greeting starts with a
/// printable character; a TLS record with its content type (22 handshake, 21 alert) and
/// then the major version 3.
pub fn starts_tls_record(first: &[u8]) -> bool {
    match first {
        [0x15 | 0x16, rest @ ..] => rest.first().is_none_or(|v| *v == 0x03),
        _ => false,
    }
}

/// A failed handshake as a sentence: what was wrong with the certificate, or the protocol.
pub fn handshake_error(e: &io::Error) -> String {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidCertificate(c)) => certificate_problem(c),
        Some(rustls::Error::AlertReceived(a)) => {
            format!("the server ended the TLS handshake ({a:?})")
        }
        // Plain text where a TLS record was due: a server that greets first, on a port that
        // speaks TLS only after STARTTLS (or not at all).
        Some(rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)) => {
            "the server answered in plain text, not TLS: this port expects STARTTLS (use smtp:// for SMTP, imap:// for IMAP) or no TLS".to_string()
        }
        Some(other) => format!("the TLS handshake failed: {other}"),
        None => match e.kind() {
            io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => {
                "the server closed the connection during the TLS handshake (does it speak TLS on this port?)"
                    .to_string()
            }
            _ => format!("the TLS handshake failed: {e}"),
        },
    }
}

fn certificate_problem(c: &CertificateError) -> String {
    match c {
        CertificateError::UnknownIssuer => {
            "its certificate is not signed by an authority this machine trusts".to_string()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "its certificate is made out to another host name".to_string()
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "its certificate has expired".to_string()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "its certificate is not valid yet".to_string()
        }
        CertificateError::Revoked => "its certificate has been revoked".to_string(),
        CertificateError::BadSignature => "its certificate's signature is wrong".to_string(),
        other => format!("its certificate was refused ({other:?})"),
    }
}

/// Accepts any certificate: only for the hosts the user listed by name.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_hello_is_a_tls_handshake_record() {
        let hello = client_hello("smtp.example.org").unwrap();
        assert!(starts_tls_record(&hello), "{:02x?}", &hello[..5]);
        assert!(hello.windows(16).any(|w| w == b"smtp.example.org"));
        assert!(client_hello("127.0.0.1").is_ok());
    }

    #[test]
    fn greetings_are_not_tls_records() {
        assert!(starts_tls_record(&[0x16, 0x03, 0x01]));
        assert!(starts_tls_record(&[0x15, 0x03]));
        assert!(starts_tls_record(&[0x16]));
        assert!(!starts_tls_record(b"220 mail.example.org ESMTP"));
        assert!(!starts_tls_record(b"* OK IMAP4rev1"));
        assert!(!starts_tls_record(&[0x16, 0x32]));
        assert!(!starts_tls_record(&[]));
    }

    #[test]
    fn skip_verify_is_by_name_only() {
        let t = Trust {
            skip_verify_hosts: vec!["imap.test".into()],
            ..Default::default()
        };
        assert!(t.skips("IMAP.test"));
        assert!(!t.skips("mail.test"));
    }

    #[test]
    fn a_ca_file_that_is_not_pem_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ca.pem");
        std::fs::write(&p, "not a certificate\n").unwrap();
        let t = Trust {
            ca_file: Some(p.clone()),
            ..Default::default()
        };
        let e = t.root_store().unwrap_err();
        assert_eq!(e, TlsError::NoCertificate { path: p });
        let missing = Trust {
            ca_file: Some(dir.path().join("missing.pem")),
            ..Default::default()
        };
        assert!(
            missing
                .root_store()
                .unwrap_err()
                .to_string()
                .contains("missing.pem: cannot read the CA file")
        );
    }

    #[test]
    fn a_private_ca_is_trusted_through_the_file() {
        let ca = rcgen::generate_simple_self_signed(vec!["ca.test".into()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ca.pem");
        std::fs::write(&p, ca.cert.pem()).unwrap();
        let base = Trust::default().root_store().unwrap().len();
        let with = Trust {
            ca_file: Some(p),
            ..Default::default()
        };
        assert_eq!(with.root_store().unwrap().len(), base + 1);
    }
}
