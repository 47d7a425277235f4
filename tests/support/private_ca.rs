//! Certificates from a private certificate authority made for one test, as a company CA
//! issues them: the CA's certificate to trust, and a server certificate it signed.
#![allow(dead_code)]

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// A server certificate for `names`, signed by a new private CA.
pub struct Issued {
    /// The CA's certificate (PEM): what a client must be told to trust.
    pub ca_pem: String,
    /// The server's certificate (PEM and DER) and its private key (PEM and PKCS#8 DER).
    pub cert_pem: String,
    pub cert_der: Vec<u8>,
    pub key_pem: String,
    pub key_der: Vec<u8>,
}

pub fn issue(names: &[String]) -> Issued {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "bulletin test authority");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().expect("server key");
    let leaf = CertificateParams::new(names.to_vec())
        .expect("server parameters")
        .signed_by(&leaf_key, &issuer)
        .expect("server certificate");
    Issued {
        ca_pem: ca_cert.pem(),
        cert_pem: leaf.pem(),
        cert_der: leaf.der().to_vec(),
        key_pem: leaf_key.serialize_pem(),
        key_der: leaf_key.serialize_der(),
    }
}
