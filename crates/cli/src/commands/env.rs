//! `cosign env`: the environment variables cosign reads, with what they are for and their
//! values (sensitive ones masked), as cosign prints them; then any other `COSIGN_*`,
//! `SIGSTORE_*` and `TUF_*` variable set, masked, in name order.

use crate::args::EnvArgs;
use crate::console::Console;
use crate::error::CliError;

/// A variable cosign registers: its name, what it is for, what it expects, whether its value
/// is a secret.
struct Variable {
    name: &'static str,
    description: &'static str,
    expects: &'static str,
    sensitive: bool,
}

const fn variable(
    name: &'static str,
    description: &'static str,
    expects: &'static str,
    sensitive: bool,
) -> Variable {
    Variable {
        name,
        description,
        expects,
        sensitive,
    }
}

/// cosign 3.1's registered variables, in name order.
const VARIABLES: &[Variable] = &[
    variable("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "is bearer token for the request to the OIDC provider", "string with a bearer token", true),
    variable("ACTIONS_ID_TOKEN_REQUEST_URL", "is the URL for GitHub's OIDC provider", "string with the URL for the OIDC provider", false),
    variable("BUILDKITE_AGENT_ACCESS_TOKEN", "is an access token used to identify the Buildkite agent", "string with an access token", true),
    variable("BUILDKITE_AGENT_ENDPOINT", "the Buildkite agent endpoint", "string with an endpoint", false),
    variable("BUILDKITE_AGENT_LOG_LEVEL", "the log level for the Buildkite agent", "string with log level, either debug, notice, info, error, warn, fatal (default: notice)", false),
    variable("BUILDKITE_JOB_ID", "the Buildkite job ID to claim in the OIDC token", "string with a job ID", false),
    variable("COSIGN_DOCKER_MEDIA_TYPES", "to be used with registries that do not support OCI media types", "1 to fallback to legacy OCI media types equivalents (0 by default)", false),
    variable("COSIGN_EXPERIMENTAL", "enables experimental cosign features", "1 if experimental features should be enabled (0 by default)", false),
    variable("COSIGN_MAX_ATTACHMENT_SIZE", "maximum attachment size to download (default 128MiB)", "human-readable unit of memory, e.g. 5120, 20K, 3M, 45MiB, 1GB", false),
    variable("COSIGN_PASSWORD", "overrides password inputs with this value", "string with a password (asks on stdin by default)", true),
    variable("COSIGN_PKCS11_IGNORE_CERTIFICATE", "disables loading certificates with PKCS11", "1 if loading certificates should be disabled (0 by default)", false),
    variable("COSIGN_PKCS11_MODULE_PATH", "is PKCS11 module-path", "string with a module-path", false),
    variable("COSIGN_PKCS11_PIN", "to be used if PKCS11 PIN is not provided", "string with a PIN", true),
    variable("COSIGN_REPOSITORY", "can be used to store signatures in an alternate location", "string with a repository", false),
    variable("GITHUB_HOST", "is URL of the GitHub Enterprise instance", "string with the URL of GitHub Enterprise instance", false),
    variable("GITHUB_TOKEN", "is a token used to authenticate with GitHub", "token generated on GitHub", true),
    variable("GITLAB_HOST", "is URL of the GitLab instance", "string with the URL of GitLab instance", false),
    variable("GITLAB_TOKEN", "is a token used to authenticate with GitLab", "string with a token", true),
    variable("GOOGLE_SERVICE_ACCOUNT_NAME", "is a service account name to be used with the Google provider", "string with the service account's name", false),
    variable("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", "overrides what is used to validate the SCT coming back from Fulcio", "path to the public key file", false),
    variable("SIGSTORE_ID_TOKEN", "is a OIDC token used to authenticate to Fulcio", "string with a OIDC token", true),
    variable("SIGSTORE_REKOR_PUBLIC_KEY", "if specified, you can specify an oob Public Key that Rekor uses", "path to the public key", false),
    variable("SIGSTORE_ROOT_FILE", "overrides the public good instance root CA", "path to the root CA", false),
    variable("SIGSTORE_TSA_CERTIFICATE_FILE", "path to the concatenated PEM-encoded TSA certificate file (leaf, intermediate(s), root) used by Sigstore", "path to the TSA certificate file", false),
    variable("SOURCE_DATE_EPOCH", "overrides current time for reproducible builds, see https://reproducible-builds.org/docs/source-date-epoch/", "number of seconds since unix epoch", false),
    variable("SPIFFE_ENDPOINT_SOCKET", "allows you to specify non-default SPIFFE socket to use.", "string with SPIFFE socket path", false),
    variable("TUF_MIRROR", "URL of the TUF mirror. Use with TUF_ROOT_JSON to refresh TUF metadata during signing and verification commands. Setting this will cause cosign to attempt to use trusted_root.json if available and will ignore custom TUF metadata.", "URL of the TUF mirror", false),
    variable("TUF_ROOT", "path to the TUF cache directory", "path to the TUF cache directory", false),
    variable("TUF_ROOT_JSON", "path to the TUF root.json file used to initialize and update a local TUF repository. Use with TUF_MIRROR to refresh TUF metadata during signing and verification commands. Setting this will cause cosign to attempt to use trusted_root.json if available and will ignore custom TUF metadata.", "path to root.json", false),
];

/// The prefixes of variables that may change cosign's behaviour without being registered.
const INFLUENTIAL_PREFIXES: [&str; 3] = ["COSIGN_", "SIGSTORE_", "TUF_"];

pub fn run(args: &EnvArgs, console: &mut Console) -> Result<(), CliError> {
    let environment: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(name, value)| {
            Some((
                name.into_string().ok()?,
                value.to_string_lossy().into_owned(),
            ))
        })
        .collect();
    let out = render(
        &environment,
        args.show_descriptions,
        args.show_sensitive_values,
    );
    console.out(out.as_bytes())
}

fn render(environment: &[(String, String)], descriptions: bool, sensitive: bool) -> String {
    use std::fmt::Write as _;
    let value_of = |name: &str| {
        environment
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .unwrap_or_default()
    };
    let shown = |value: &str, secret: bool| {
        if secret && !sensitive && !value.is_empty() {
            "******".to_owned()
        } else {
            value.to_owned()
        }
    };
    let mut out = String::new();
    for variable in VARIABLES {
        if descriptions {
            let _ = writeln!(out, "# {} {}", variable.name, variable.description);
            let _ = writeln!(out, "# Expects: {}", variable.expects);
        }
        let value = value_of(variable.name);
        let _ = writeln!(
            out,
            "{}={}",
            variable.name,
            shown(value, variable.sensitive)
        );
    }
    let mut others: Vec<&(String, String)> = environment
        .iter()
        .filter(|(name, _)| INFLUENTIAL_PREFIXES.iter().any(|p| name.starts_with(p)))
        .filter(|(name, _)| VARIABLES.iter().all(|variable| variable.name != name))
        .collect();
    others.sort();
    if !others.is_empty() && descriptions {
        out.push_str("# Environment variables below are not registered with cosign,\n# but might still influence cosign's behavior.\n");
    }
    for (name, value) in others {
        let _ = writeln!(out, "{name}={}", shown(value, true));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_in_name_order_and_secrets_masked() {
        let names: Vec<&str> = VARIABLES.iter().map(|v| v.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        let environment = vec![
            ("COSIGN_PASSWORD".to_owned(), "pw".to_owned()),
            ("COSIGN_REPOSITORY".to_owned(), "r".to_owned()),
            ("TUF_X".to_owned(), "a=b".to_owned()),
            ("PATH".to_owned(), "/bin".to_owned()),
        ];
        let out = render(&environment, false, false);
        assert!(out.contains("\nCOSIGN_PASSWORD=******\n"));
        assert!(out.contains("\nCOSIGN_REPOSITORY=r\n"));
        assert!(out.contains("\nSIGSTORE_ID_TOKEN=\n"));
        assert!(out.ends_with("TUF_ROOT_JSON=\nTUF_X=******\n"), "{out}");
        assert!(!out.contains("\nPATH="));
        let shown = render(&environment, true, true);
        assert!(shown.contains("# COSIGN_PASSWORD overrides password inputs with this value\n# Expects: string with a password (asks on stdin by default)\nCOSIGN_PASSWORD=pw\n"));
        assert!(shown.contains("# but might still influence cosign's behavior.\nTUF_X=a=b\n"));
    }
}
