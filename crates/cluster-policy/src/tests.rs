#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;

const KEY: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE7fSURFKCnDwrD8VC3AoUIa0ct1sS\n2y7P61HXuWjHKhgN8QCLE6mJ8RcYD6SBJXwS4hopL/i3Xppyl82r54G5SA==\n-----END PUBLIC KEY-----\n";

fn policy(version: &str, spec: &str) -> String {
    format!(
        "apiVersion: policy.sigstore.dev/{version}\nkind: ClusterImagePolicy\nmetadata:\n  name: lab\nspec:\n{spec}"
    )
}

fn key_block(indent: &str) -> String {
    KEY.lines()
        .map(|line| format!("{indent}{line}\n"))
        .collect()
}

fn refusal(spec: &str) -> String {
    match load(&policy("v1beta1", spec)) {
        Err(LoadError::Invalid { errors, .. }) => errors.to_string(),
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn every_field_of_both_versions_is_read_and_defaulted() {
    let spec = format!(
        r#"  images:
  - glob: "registry.local:5000/lab/**"
  authorities:
  - key:
      hashAlgorithm: sha256
      data: |
{key}    source:
    - oci: registry.local:5000/signatures
      signaturePullSecrets:
      - name: pull
    ctlog:
      url: https://rekor.sigstore.dev
    signatureFormat: bundle
  - name: ci
    keyless:
      identities:
      - issuer: https://token.actions.githubusercontent.com
        subjectRegExp: "https://github.com/lab/.*"
      insecureIgnoreSCT: true
    attestations:
    - name: sbom
      predicateType: https://cyclonedx.org/bom
      policy:
        type: rego
        data: |
          package sigstore
          default isCompliant = true
    rfc3161timestamp:
      trustRootRef: local
  - static:
      action: pass
  policy:
    type: cue
    data: 'authorityMatches: _'
    includeSpec: true
  match:
  - version: v1
    resource: pods
"#,
        key = key_block("        ")
    );
    let beta = load(&policy("v1beta1", &spec)).unwrap();
    let alpha = load(&policy("v1alpha1", &spec)).unwrap();
    assert_eq!(beta.policies[0].spec, alpha.policies[0].spec);
    let spec = &beta.policies[0].spec;
    assert_eq!(spec.mode, "enforce");
    let names: Vec<&str> = spec.authorities.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["authority-0", "ci", "authority-2"]);
    assert_eq!(
        spec.authorities[1].keyless.as_ref().unwrap().url.as_deref(),
        Some(load::PUBLIC_FULCIO)
    );
    assert_eq!(
        spec.authorities[0].source[0].signature_pull_secrets[0].name,
        "pull"
    );
    assert_eq!(
        spec.authorities[1].attestations[0].predicate_type,
        "https://cyclonedx.org/bom"
    );
    assert_eq!(spec.policy.as_ref().unwrap().include_spec, Some(true));
    assert_eq!(spec.match_[0].resource, "pods");
    assert!(beta.warnings.is_empty());
}

#[test]
fn invalid_policies_are_refused_with_the_fields_that_are_wrong() {
    assert_eq!(
        refusal("  images: []\n  mode: strict\n  authorities:\n  - static:\n      action: pass\n"),
        "invalid value: strict: spec.mode\nunsupported mode\nmissing field(s): spec.images"
    );
    assert_eq!(
        refusal(&format!(
            "  images:\n  - glob: '**'\n  authorities:\n  - key:\n      data: |\n{}    keyless:\n      url: https://fulcio.sigstore.dev\n",
            key_block("        ")
        )),
        "expected exactly one, got both: spec.authorities[0].key, spec.authorities[0].keyless, spec.authorities[0].static"
    );
    assert_eq!(
        refusal("  images:\n  - glob: '**'\n  authorities:\n  - name: nothing\n"),
        "expected exactly one, got neither: spec.authorities[0].key, spec.authorities[0].keyless, spec.authorities[0].static"
    );
    assert_eq!(
        refusal("  images:\n  - glob: '$FOO*'\n  - glob: ''\n  authorities: []\n"),
        "invalid value: $FOO*: spec.images[0].glob\nglob is invalid: invalid glob \"$FOO*\"\nmissing field(s): spec.authorities, spec.images[1].glob"
    );
    assert_eq!(
        refusal("  images:\n  - glob: '**'\n  authorities:\n  - keyless:\n      identities:\n      - subject: a\n        subjectRegExp: b\n      - issuerRegExp: '('\n"),
        "expected exactly one, got both: spec.authorities[0].keyless.identities[0].subject, spec.authorities[0].keyless.identities[0].subjectRegExp\n\
         invalid value: (: spec.authorities[0].keyless.identities[1].issuerRegExp\n\
         regex is invalid: regex parse error:\n    (\n    ^\nerror: unclosed group\n\
         missing field(s): spec.authorities[0].keyless.identities[0].issuer, spec.authorities[0].keyless.identities[0].issuerRegExp, spec.authorities[0].keyless.identities[1].subject, spec.authorities[0].keyless.identities[1].subjectRegExp"
    );
    assert_eq!(
        refusal("  images:\n  - glob: '**'\n  authorities:\n  - static:\n      action: allow\n    attestations:\n    - predicateType: https://slsa.dev/provenance/v1\n"),
        "expected exactly one, got both: spec.authorities[0].attestations, spec.authorities[0].static\n\
         invalid value: allow: spec.authorities[0].static.action\nunsupported action\n\
         missing field(s): spec.authorities[0].attestations.name"
    );
    // The attestation's policy may not fetch the config; the policy-level policy's paths
    // carry no `policy.` (as policy-controller reports them).
    assert_eq!(
        refusal("  images:\n  - glob: '**'\n  authorities:\n  - keyless:\n      identities:\n      - issuer: i\n        subject: s\n    attestations:\n    - name: a\n      predicateType: https://x.example/p\n      policy:\n        type: rego\n        data: x\n        fetchConfigFile: true\n  policy:\n    type: js\n"),
        "invalid value: js: spec.type\nonly [cue,rego] are supported at the moment\n\
         missing field(s): spec.configMapRef, spec.data, spec.remote\n\
         must not set the field(s): spec.authorities[0].attestations.policy.fetchConfigFile"
    );
    assert_eq!(
        refusal("  images:\n  - glob: '**'\n  authorities:\n  - key:\n      data: not a key\n      hashAlgorithm: md5\n"),
        "invalid value: md5: spec.authorities[0].key.hashAlgorithm\ninvalid value: not a key: spec.authorities[0].key.data"
    );
}

#[test]
fn short_predicate_types_are_warned_about_and_unknown_fields_and_kinds_refused() {
    let loaded = load(&policy(
        "v1beta1",
        "  images:\n  - glob: '**'\n  authorities:\n  - keyless:\n      identities:\n      - issuer: i\n        subject: s\n    attestations:\n    - name: sbom\n      predicateType: cyclonedx\n",
    ))
    .unwrap();
    assert_eq!(
        loaded.warnings,
        ["policy 0: invalid value: cyclonedx: spec.authorities[0].attestations.predicateType\ndeprecated value, please use RFC 3986 conformant values"]
    );
    let unknown = load(&policy(
        "v1beta1",
        "  images:\n  - glob: '**'\n  authoritys: []\n",
    ));
    assert!(
        matches!(unknown, Err(LoadError::Yaml { .. })),
        "{unknown:?}"
    );
    assert_eq!(
        load("apiVersion: v1\nkind: ConfigMap\n").unwrap_err(),
        LoadError::UnknownType("/v1, Kind=ConfigMap".to_owned())
    );
}

#[test]
fn documents_are_split_and_policies_apply_by_glob() {
    let text = format!(
        "# policies\n{}\n---\n{}\n---\napiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata:\n  name: local\nspec:\n  sigstoreKeys: {{}}\n",
        policy("v1beta1", "  images:\n  - glob: 'registry.local/lab/*'\n  authorities:\n  - static:\n      action: pass\n"),
        policy("v1alpha1", "  images:\n  - glob: '*'\n  authorities:\n  - static:\n      action: fail\n"),
    );
    let loaded = load(&text).unwrap();
    assert_eq!(loaded.policies.len(), 2);
    assert_eq!(loaded.trust_roots[0].metadata.name, "local");
    let applying = |image: &str| -> Vec<usize> {
        loaded
            .policies
            .iter()
            .enumerate()
            .filter(|(_, policy)| policy.applies_to(image).unwrap())
            .map(|(index, _)| index)
            .collect()
    };
    assert_eq!(applying("registry.local/lab/app:1"), [0]);
    assert_eq!(applying("nginx"), [1]);
    assert!(applying("registry.local/other/app").is_empty());
    let no_keys = "apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata:\n  name: x\nspec: {}\n";
    assert_eq!(
        load(no_keys).unwrap_err().to_string(),
        "policy \"x\" is invalid: expected exactly one, got neither: spec.remote, spec.repository, spec.sigstoreKeys"
    );
}

#[test]
fn policy_files_are_read_with_a_size_cap() {
    let path = std::env::temp_dir().join(format!("cosign-rs-cip-{}.yaml", std::process::id()));
    std::fs::write(
        &path,
        policy(
            "v1beta1",
            "  images:\n  - glob: '**'\n  authorities:\n  - static:\n      action: pass\n",
        ),
    )
    .unwrap();
    assert_eq!(load_file(&path).unwrap().policies.len(), 1);
    std::fs::write(&path, "#".repeat(load::FILE_SIZE_LIMIT as usize + 1)).unwrap();
    let refused = load_file(&path).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(refused, FileError::TooLarge { .. }), "{refused}");
}
