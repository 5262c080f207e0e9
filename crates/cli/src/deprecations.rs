//! What cosign 3.1 has deprecated, and the notices cobra prints when it is used: `Command "X"
//! is deprecated, ...` before anything runs, then `Flag --X has been deprecated, ...` once per
//! use, in command-line order. Taken from cosign 3.1.1 (`MarkDeprecated` and `Deprecated:`).

use std::ffi::OsString;

/// A deprecated flag: where, and what cosign says.
struct DeprecatedFlag {
    flag: &'static str,
    commands: &'static [&'static str],
    message: &'static str,
}

/// Commands cosign 3.1 deprecates (and hides from its help).
const DEPRECATED_COMMANDS: &[(&str, &str)] = &[
    ("attach", "attach will be removed in v4.0.0 (see https://github.com/sigstore/cosign/issues/4696). Instead, please use oras for attaching artifacts to other artifacts in a registry"),
    ("copy", "there are several options you can use instead:\n  - \"oras copy -r\" will copy images and referring artifacts\n  - \"cosign save\" to write to disk, followed by \"cosign load\" for a new registry\n  - \"cosign download\" followed by \"cosign attach\" to just copy the bundle"),
    ("dockerfile", "dockerfile will be removed in v4.0.0 (see https://github.com/sigstore/cosign/issues/4696). Instead, please use `cosign verify` for each image in your Dockerfile"),
    ("generate", "generate will be removed in v4.0.0 (see https://github.com/sigstore/cosign/issues/4696). Instead, please use in-toto tooling"),
    ("manifest", "manifest will be removed in v4.0.0 (see https://github.com/sigstore/cosign/issues/4696). Instead, please use `cosign verify` for each image in your Kubernetes manifest"),
    ("triangulate", "triangulate will be removed in v4.0.0 (see https://github.com/sigstore/cosign/issues/4696). Instead, please use `oras discover` or `cosign tree` to show referring artifacts"),
    ("upload", "upload will be removed in v4.0.0 (see https://github.com/sigstore/cosign/issues/4696). Instead, please use `oras blob push` for uploading artifacts to a registry"),
];

const DEPRECATED_FLAGS: &[DeprecatedFlag] = &[
    DeprecatedFlag {
        flag: "--attachment",
        commands: &["dockerfile verify", "manifest verify", "verify"],
        message: "please use OCI referrers for attachments and verify with `--experimental-oci11`",
    },
    DeprecatedFlag {
        flag: "--attachment",
        commands: &["sign"],
        message: "please use OCI referrers for attachments; see `cosign attach sbom --registry-referrers-mode=oci-1-1 --help`",
    },
    DeprecatedFlag {
        flag: "--attachment-tag-prefix",
        commands: &["attach attestation", "attach sbom", "attach signature", "attest", "clean", "dockerfile verify", "download attestation", "download sbom", "download signature", "generate", "load", "manifest verify", "save", "sign", "tree", "triangulate", "upload blob", "upload wasm", "verify", "verify-attestation"],
        message: "please use OCI referrers",
    },
    DeprecatedFlag {
        flag: "--b64",
        commands: &["sign-blob"],
        message: "please use --bundle, which already base64 encodes content as appropriate",
    },
    DeprecatedFlag {
        flag: "--ca-intermediates",
        commands: &["dockerfile verify", "manifest verify", "verify", "verify-attestation", "verify-blob", "verify-blob-attestation"],
        message: "please use --trusted-root to provide CA certificates",
    },
    DeprecatedFlag {
        flag: "--ca-roots",
        commands: &["dockerfile verify", "manifest verify", "verify", "verify-attestation", "verify-blob", "verify-blob-attestation"],
        message: "please use --trusted-root to provide CA certificates",
    },
    DeprecatedFlag {
        flag: "--certificate",
        commands: &["dockerfile verify", "manifest verify", "verify", "verify-attestation", "verify-blob", "verify-blob-attestation"],
        message: "please use --bundle with --trusted-root to provide the public certificate",
    },
    DeprecatedFlag {
        flag: "--certificate-chain",
        commands: &["dockerfile verify", "manifest verify", "verify", "verify-attestation", "verify-blob", "verify-blob-attestation"],
        message: "please use --trusted-root to provide the certificate chain",
    },
    DeprecatedFlag {
        flag: "--certificate-chain",
        commands: &["trusted-root create"],
        message: "use --fulcio instead",
    },
    DeprecatedFlag {
        flag: "--ctfe-end-time",
        commands: &["trusted-root create"],
        message: "use --ctfe instead",
    },
    DeprecatedFlag {
        flag: "--ctfe-key",
        commands: &["trusted-root create"],
        message: "use --ctfe instead",
    },
    DeprecatedFlag {
        flag: "--ctfe-start-time",
        commands: &["trusted-root create"],
        message: "use --ctfe instead",
    },
    DeprecatedFlag {
        flag: "--ctfe-url",
        commands: &["trusted-root create"],
        message: "use --ctfe instead",
    },
    DeprecatedFlag {
        flag: "--experimental-oci11",
        commands: &["dockerfile verify", "manifest verify", "tree", "verify", "verify-attestation", "verify-blob", "verify-blob-attestation"],
        message: "OCI referrers will be the default behavior in future versions",
    },
    DeprecatedFlag {
        flag: "--fulcio-uri",
        commands: &["trusted-root create"],
        message: "use --fulcio instead",
    },
    DeprecatedFlag {
        flag: "--fulcio-url",
        commands: &["attest", "attest-blob", "sign", "sign-blob"],
        message: "please use a signing config to specify a fulcio url; see `cosign signing-config --help`",
    },
    DeprecatedFlag {
        flag: "--insecure-skip-verify",
        commands: &["attest", "attest-blob", "sign", "sign-blob"],
        message: "SCT verification is no longer performed during signing/attestation.",
    },
    DeprecatedFlag {
        flag: "--issue-certificate",
        commands: &["attest", "attest-blob", "sign", "sign-blob"],
        message: "support for this flag will be removed in the future",
    },
    DeprecatedFlag {
        flag: "--new-bundle-format",
        commands: &["attest", "attest-blob", "dockerfile verify", "manifest verify", "sign", "sign-blob", "verify", "verify-attestation", "verify-blob", "verify-blob-attestation"],
        message: "this will be the only supported format in future versions",
    },
    DeprecatedFlag {
        flag: "--offline",
        commands: &["dockerfile verify", "manifest verify", "verify", "verify-attestation", "verify-blob", "verify-blob-attestation"],
        message: "To verify in an airgapped environment, provide a --bundle with the signature and verification material, and a --trusted-root file with the service keys and certificates",
    },
    DeprecatedFlag {
        flag: "--oidc-issuer",
        commands: &["attest", "attest-blob", "sign", "sign-blob"],
        message: "please use a signing config to specify an OIDC issuer; see `cosign signing-config create --help`",
    },
    DeprecatedFlag {
        flag: "--output",
        commands: &["sign-blob"],
        message: "please use --bundle to provide the output bundle location, which will include the signature",
    },
    DeprecatedFlag {
        flag: "--output-certificate",
        commands: &["attest-blob", "sign", "sign-blob"],
        message: "please use --bundle to provide the output bundle location, which will include the certificate",
    },
    DeprecatedFlag {
        flag: "--output-payload",
        commands: &["sign"],
        message: "please use --bundle to provide the output bundle location, which will include the payload",
    },
    DeprecatedFlag {
        flag: "--output-signature",
        commands: &["attest-blob", "sign", "sign-blob"],
        message: "please use --bundle to provide the output bundle location, which will include the signature",
    },
    DeprecatedFlag {
        flag: "--private-infrastructure",
        commands: &["dockerfile verify", "manifest verify", "verify", "verify-attestation", "verify-blob", "verify-blob-attestation"],
        message: "please use --insecure-ignore-tlog instead",
    },
    DeprecatedFlag {
        flag: "--record-creation-timestamp",
        commands: &["attest", "sign"],
        message: "not used with the new bundle format",
    },
    DeprecatedFlag {
        flag: "--rekor-end-time",
        commands: &["trusted-root create"],
        message: "use --rekor instead",
    },
    DeprecatedFlag {
        flag: "--rekor-entry-type",
        commands: &["attest", "attest-blob"],
        message: "support for this flag will be removed in the future. it is strongly discouraged to rely on Rekor for attestation storage, and in future releases of Rekor, this functionality will be removed.",
    },
    DeprecatedFlag {
        flag: "--rekor-key",
        commands: &["trusted-root create"],
        message: "use --rekor instead",
    },
    DeprecatedFlag {
        flag: "--rekor-start-time",
        commands: &["trusted-root create"],
        message: "use --rekor instead",
    },
    DeprecatedFlag {
        flag: "--rekor-url",
        commands: &["dockerfile verify", "manifest verify", "verify", "verify-attestation", "verify-blob", "verify-blob-attestation"],
        message: "please use --bundle, which includes the Rekor inclusion proof",
    },
    DeprecatedFlag {
        flag: "--rekor-url",
        commands: &["attest", "attest-blob", "bundle create", "sign", "sign-blob"],
        message: "please use a signing config to specify a rekor url; see `cosign signing-config --help`",
    },
    DeprecatedFlag {
        flag: "--rekor-url",
        commands: &["trusted-root create"],
        message: "use --rekor instead",
    },
    DeprecatedFlag {
        flag: "--replace",
        commands: &["attest"],
        message: "not needed when OCI referrers become the default behavior",
    },
    DeprecatedFlag {
        flag: "--rfc3161-timestamp",
        commands: &["sign-blob", "verify-blob", "verify-blob-attestation"],
        message: "please use --bundle to provide the output bundle location, which will include the signed timestamp",
    },
    DeprecatedFlag {
        flag: "--rfc3161-timestamp-bundle",
        commands: &["attest-blob"],
        message: "please use --bundle to provide the output bundle location, which will include the signed timestamp",
    },
    DeprecatedFlag {
        flag: "--sct",
        commands: &["dockerfile verify", "manifest verify", "verify", "verify-attestation", "verify-blob", "verify-blob-attestation"],
        message: "a Signed Certificate Timestamp is now provided via a Sigstore bundle",
    },
    DeprecatedFlag {
        flag: "--sign-container-identity",
        commands: &["sign"],
        message: "not possible when OCI referrers become the default behavior",
    },
    DeprecatedFlag {
        flag: "--signature",
        commands: &["verify-blob", "verify-blob-attestation"],
        message: "please use --bundle to provide a signature",
    },
    DeprecatedFlag {
        flag: "--signature",
        commands: &["dockerfile verify", "manifest verify", "verify"],
        message: "signatures are automatically fetched from the OCI registry during image verification",
    },
    DeprecatedFlag {
        flag: "--signature-digest-algorithm",
        commands: &["dockerfile verify", "manifest verify", "verify", "verify-attestation", "verify-blob", "verify-blob-attestation"],
        message: "please use --bundle, which already includes the digest algorithm",
    },
    DeprecatedFlag {
        flag: "--timestamp-certificate-chain",
        commands: &["dockerfile verify", "manifest verify", "verify", "verify-attestation", "verify-blob", "verify-blob-attestation"],
        message: "please use --trusted-root to provide the timestamp authority certificate chain",
    },
    DeprecatedFlag {
        flag: "--timestamp-certificate-chain",
        commands: &["trusted-root create"],
        message: "use --tsa instead",
    },
    DeprecatedFlag {
        flag: "--timestamp-server-url",
        commands: &["attest", "attest-blob", "sign", "sign-blob"],
        message: "please use a signing config to specify a timestamp server url; see `cosign signing-config --help`",
    },
    DeprecatedFlag {
        flag: "--timestamp-uri",
        commands: &["trusted-root create"],
        message: "use --tsa instead",
    },
    DeprecatedFlag {
        flag: "--tlog-upload",
        commands: &["attest", "attest-blob", "sign", "sign-blob"],
        message: "prefer using a --signing-config file with no transparency log services",
    },
];

/// Whether cosign 3.1 hides `command` (a top-level name) from its help as deprecated.
pub fn is_deprecated_command(command: &str) -> bool {
    DEPRECATED_COMMANDS.iter().any(|(name, _)| *name == command)
}

/// cobra's notice for a deprecated command (printed even when its arguments are then refused).
pub fn command_notice(path: &[&str]) -> Option<String> {
    match path {
        [name] => DEPRECATED_COMMANDS
            .iter()
            .find(|(deprecated, _)| deprecated == name)
            .map(|(name, message)| format!("Command {name:?} is deprecated, {message}")),
        _ => None,
    }
}

/// The notices for a command line: `path` is the command's names (`["trusted-root",
/// "create"]`), `arguments` the whole command line.
pub fn notices(path: &[&str], arguments: &[OsString]) -> Vec<String> {
    // cobra names the command that is deprecated itself, not its parent.
    let mut notices: Vec<String> = command_notice(path).into_iter().collect();
    let command = path.join(" ");
    let flags = arguments
        .iter()
        .skip(1)
        .filter_map(|argument| argument.to_str())
        .take_while(|argument| *argument != "--")
        .filter_map(|argument| argument.split('=').next());
    for flag in flags {
        if let Some(deprecated) = DEPRECATED_FLAGS
            .iter()
            .find(|d| d.flag == flag && d.commands.contains(&command.as_str()))
        {
            notices.push(format!(
                "Flag {} has been deprecated, {}",
                deprecated.flag, deprecated.message
            ));
        }
    }
    notices
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<OsString> {
        values.iter().map(OsString::from).collect()
    }

    #[test]
    fn names_deprecated_commands_and_flags_in_order() {
        let notices = notices(
            &["sign"],
            &strings(&[
                "cosign",
                "sign",
                "--tlog-upload=false",
                "--new-bundle-format=false",
                "--tlog-upload",
                "x",
            ]),
        );
        assert_eq!(
            notices,
            [
                "Flag --tlog-upload has been deprecated, prefer using a --signing-config file with no transparency log services",
                "Flag --new-bundle-format has been deprecated, this will be the only supported format in future versions",
                "Flag --tlog-upload has been deprecated, prefer using a --signing-config file with no transparency log services",
            ]
        );
        assert!(notices_for_triangulate().starts_with("Command \"triangulate\" is deprecated, "));
        assert!(super::notices(
            &["verify"],
            &strings(&["cosign", "verify", "--tlog-upload", "x"])
        )
        .is_empty());
    }

    fn notices_for_triangulate() -> String {
        notices(&["triangulate"], &strings(&["cosign", "triangulate", "x"])).join("\n")
    }
}
