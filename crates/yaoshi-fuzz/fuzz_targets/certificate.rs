//! Certificates and DNs as clients send them (UploadCertificate's Certificate and
//! CertificateChain, CreateCertificate's Subject and SubjectAlternativeNames, ImportCertificate's
//! PKCS#12 file): the parsers and checks never panic, and a certificate they accept matches the
//! held key.
#![no_main]

use std::sync::OnceLock;

mod pem_envelope;

use libfuzzer_sys::fuzz_target;
use yaoshi_crypto::cert::{check_sans, check_upload, parse_certificate_der, parse_subject};
use yaoshi_crypto::{KeyMaterial, KeyType, generate_key};

fn key() -> &'static KeyMaterial {
    static KEY: OnceLock<KeyMaterial> = OnceLock::new();
    KEY.get_or_init(|| generate_key(KeyType::EcP256).expect("P-256 key"))
}

fuzz_target!(|data: &[u8]| {
    let _ = parse_certificate_der(data);
    let _ = yaoshi_crypto::pkcs12::import_pkcs12(data, "password", 0);
    let text = String::from_utf8_lossy(data);
    let _ = parse_subject(&text);
    if let Ok(sans) = serde_json::from_str::<Vec<String>>(&text) {
        let _ = check_sans(&sans);
    }
    // As a PEM certificate and as a chain after a first block of its own.
    let wrapped = pem_envelope::pem("CERTIFICATE", data);
    for pem in [text.as_ref(), wrapped.as_str()] {
        // A random certificate never carries the held key, so nothing is accepted.
        assert!(check_upload(KeyType::EcP256, key(), pem, None, 0).is_err());
        let _ = check_upload(KeyType::EcP256, key(), &wrapped, Some(pem), 0);
    }
});
