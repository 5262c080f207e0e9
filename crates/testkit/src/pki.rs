//! A private PKI made by OpenSSL, for signing with a certificate the signer brings
//! (`--certificate`, `--certificate-chain`): a root CA, an intermediate CA, and a code-signing
//! leaf for a given public key (a cosign key pair's `cosign.pub`), with an email SAN and,
//! optionally, Fulcio's OIDC issuer extension.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The files of one PKI, in its directory.
#[derive(Debug)]
pub struct Pki {
    /// The root CA certificate (self-signed).
    pub root: PathBuf,
    /// The intermediate CA certificate, issued by the root.
    pub intermediate: PathBuf,
    /// The intermediate, then the root: what `--certificate-chain` takes.
    pub chain: PathBuf,
    /// The code-signing leaf for the public key, issued by the intermediate.
    pub leaf: PathBuf,
}

/// What the leaf says and is.
#[derive(Debug)]
pub struct Leaf<'a> {
    /// The public key (PEM file) the leaf certifies.
    pub public_key: &'a Path,
    /// Its email SAN.
    pub email: &'a str,
    /// Fulcio's OIDC issuer (v2 extension, `1.3.6.1.4.1.57264.1.8`), if any.
    pub issuer: Option<&'a str>,
    /// Whether it is for code signing (extended key usage codeSigning), or only for email
    /// protection.
    pub code_signing: bool,
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running openssl");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Pki {
    /// Makes the root and intermediate CAs in `dir` (files prefixed `name`), and the leaf.
    pub fn create(dir: &Path, name: &str, leaf: &Leaf<'_>) -> Self {
        let file = |suffix: &str| format!("{name}-{suffix}");
        let config = file("openssl.cnf");
        let mut leaf_extensions = format!(
            "keyUsage = critical, digitalSignature\nsubjectAltName = email:{}\n",
            leaf.email
        );
        leaf_extensions.push_str(if leaf.code_signing {
            "extendedKeyUsage = codeSigning\n"
        } else {
            "extendedKeyUsage = emailProtection\n"
        });
        if let Some(issuer) = leaf.issuer {
            // Fulcio's issuer, both ways: v2 (a DER UTF8String) and v1 (the raw string).
            let raw: String = issuer.bytes().map(|byte| format!("{byte:02x}")).collect();
            leaf_extensions.push_str(&format!(
                "1.3.6.1.4.1.57264.1.8 = ASN1:UTF8String:{issuer}\n1.3.6.1.4.1.57264.1.1 = DER:{raw}\n"
            ));
        }
        std::fs::write(
            dir.join(&config),
            format!(
                "[req]\ndistinguished_name = dn\n[dn]\n[ca]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\n[leaf]\n{leaf_extensions}"
            ),
        )
        .expect("writing the OpenSSL config");
        let new_key = |key: &str| {
            let curve = ["-pkeyopt", "ec_paramgen_curve:P-256"];
            openssl(
                dir,
                &[&["genpkey", "-algorithm", "EC", "-out", key][..], &curve].concat(),
            );
        };
        let (root_key, root) = (file("root.key"), file("root.pem"));
        new_key(&root_key);
        let subject = format!("/CN={name} root");
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                &root_key,
                "-subj",
                &subject,
                "-days",
                "3",
                "-config",
                &config,
                "-extensions",
                "ca",
                "-out",
                &root,
            ],
        );
        // `subject_key` signs the request; `public_key`, if given, replaces its key in the
        // certificate.
        let issue = |subject: &str,
                     subject_key: &str,
                     public_key: Option<&str>,
                     ca: (&str, &str),
                     section: &str,
                     out: &str| {
            let request = file("request.csr");
            openssl(
                dir,
                &[
                    "req",
                    "-new",
                    "-key",
                    subject_key,
                    "-subj",
                    subject,
                    "-config",
                    &config,
                    "-out",
                    &request,
                ],
            );
            let serial = rand_serial().to_string();
            let mut args = vec![
                "x509",
                "-req",
                "-in",
                &request,
                "-CA",
                ca.0,
                "-CAkey",
                ca.1,
                "-set_serial",
                &serial,
                "-days",
                "2",
                "-extfile",
                &config,
                "-extensions",
                section,
                "-out",
                out,
            ];
            if let Some(public_key) = public_key {
                args.extend(["-force_pubkey", public_key]);
            }
            openssl(dir, &args);
        };
        let (intermediate_key, intermediate) = (file("intermediate.key"), file("intermediate.pem"));
        new_key(&intermediate_key);
        let subject = format!("/CN={name} intermediate");
        issue(
            &subject,
            &intermediate_key,
            None,
            (&root, &root_key),
            "ca",
            &intermediate,
        );
        let leaf_request_key = file("leaf-request.key");
        new_key(&leaf_request_key);
        let public_key = leaf.public_key.canonicalize().expect("the public key file");
        let leaf_file = file("leaf.pem");
        issue(
            &format!("/CN={}", leaf.email),
            &leaf_request_key,
            Some(&public_key.to_string_lossy()),
            (&intermediate, &intermediate_key),
            "leaf",
            &leaf_file,
        );
        let chain = file("chain.pem");
        let mut chain_pem = std::fs::read(dir.join(&intermediate)).expect("intermediate");
        chain_pem.extend(std::fs::read(dir.join(&root)).expect("root"));
        std::fs::write(dir.join(&chain), chain_pem).expect("writing the chain");
        Self {
            root: dir.join(root),
            intermediate: dir.join(intermediate),
            chain: dir.join(chain),
            leaf: dir.join(leaf_file),
        }
    }
}

fn rand_serial() -> u64 {
    use rand_core::RngCore as _;
    rand_core::OsRng.next_u64() >> 1
}
