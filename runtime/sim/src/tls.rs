//! The rehearsal's certificate authority and the HTTPS certificate of its listener.
//!
//! The rehearsal answers for production host names (`login.microsoftonline.com`,
//! `management.azure.com`, `<acr>.azurecr.io`, …) and Azure's client libraries insist on
//! HTTPS for tokens and bearer requests. So each world has its own CA, generated once and
//! kept in the state dir (`ca.pem`, `ca-key.pem`), and the listener presents a certificate
//! for all those names signed by it. lfrun trusts that CA the way a corporate network's
//! clients trust its TLS-inspecting proxy: as an extra root (`network.ca_file`).
//!
//! The CA key never leaves the state dir and signs nothing but the listener's certificate;
//! nothing outside the rehearsal trusts it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// A CA for one rehearsal world.
pub struct RehearsalCa {
    /// The CA certificate (PEM): what clients add to their trusted roots.
    pub cert_pem: String,
    key: KeyPair,
    /// Where `ca.pem` lives (for `network.ca_file`), when the CA is persisted.
    pub path: Option<PathBuf>,
}

#[derive(Debug)]
pub struct TlsError(pub String);

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

fn err(what: &str) -> impl Fn(rcgen::Error) -> TlsError + '_ {
    move |e| TlsError(format!("{what}: {e}"))
}

impl RehearsalCa {
    /// Loads `ca.pem`/`ca-key.pem` from `dir`, or creates and saves them.
    pub fn load_or_create(dir: &Path) -> Result<RehearsalCa, TlsError> {
        let cert_path = dir.join("ca.pem");
        let key_path = dir.join("ca-key.pem");
        if let (Ok(cert_pem), Ok(key_pem)) = (
            std::fs::read_to_string(&cert_path),
            std::fs::read_to_string(&key_path),
        ) {
            let key = KeyPair::from_pem(&key_pem).map_err(err("reading the rehearsal CA key"))?;
            return Ok(RehearsalCa {
                cert_pem,
                key,
                path: Some(cert_path),
            });
        }
        let mut ca = RehearsalCa::generate()?;
        std::fs::create_dir_all(dir)
            .map_err(|e| TlsError(format!("creating {}: {e}", dir.display())))?;
        write_private(&key_path, &ca.key.serialize_pem())?;
        std::fs::write(&cert_path, &ca.cert_pem)
            .map_err(|e| TlsError(format!("writing {}: {e}", cert_path.display())))?;
        ca.path = Some(cert_path);
        Ok(ca)
    }

    /// A fresh CA kept in memory only (tests).
    pub fn generate() -> Result<RehearsalCa, TlsError> {
        let key = KeyPair::generate().map_err(err("generating the rehearsal CA key"))?;
        let cert = ca_params()?
            .self_signed(&key)
            .map_err(err("signing the rehearsal CA"))?;
        Ok(RehearsalCa {
            cert_pem: cert.pem(),
            key,
            path: None,
        })
    }

    /// A certificate and key (PEM) for `names`, signed by this CA — for another server
    /// the rehearsal's clients should trust (tests run Azurite behind one).
    pub fn issue_pem(&self, names: &[String]) -> Result<(String, String), TlsError> {
        let key = KeyPair::generate().map_err(err("generating a server key"))?;
        let params =
            CertificateParams::new(names.to_vec()).map_err(err("server certificate names"))?;
        let cert = params
            .signed_by(&key, &Issuer::new(ca_params()?, &self.key))
            .map_err(err("signing a server certificate"))?;
        Ok((cert.pem(), key.serialize_pem()))
    }

    /// A server certificate for `names` (DNS names, `*.suffix` wildcards allowed) and
    /// the rustls configuration serving it.
    pub fn server_config(&self, names: &[String]) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let leaf_key = KeyPair::generate().map_err(err("generating the listener key"))?;
        let mut params =
            CertificateParams::new(names.to_vec()).map_err(err("listener certificate names"))?;
        params
            .distinguished_name
            .push(DnType::CommonName, "lfrun rehearsal listener");
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress(std::net::IpAddr::from([
                127, 0, 0, 1,
            ])));
        // the CA's parameters are fixed, so the issuer is rebuilt from them and its key
        let issuer = Issuer::new(ca_params()?, &self.key);
        let leaf = params
            .signed_by(&leaf_key, &issuer)
            .map_err(err("signing the listener certificate"))?;
        let chain = vec![leaf.der().clone()];
        let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der())
            .map_err(|e| TlsError(format!("listener key: {e}")))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(format!("TLS versions: {e}")))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| TlsError(format!("listener certificate: {e}")))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// The CA certificate's parameters (the same for every world; only the key differs).
fn ca_params() -> Result<CertificateParams, TlsError> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err("CA parameters"))?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "lfrun rehearsal CA");
    params.distinguished_name.push(
        DnType::OrganizationName,
        "lfrun rehearsal (not trusted outside it)",
    );
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

fn write_private(path: &Path, text: &str) -> Result<(), TlsError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| TlsError(format!("writing {}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .map_err(|e| TlsError(format!("writing {}: {e}", path.display())))
}
