//! `cosign version`: the shapes cosign prints, with our build's values.

use cosign_testkit::{Peer, Scratch};

use crate::cosign;

#[test]
fn json_has_the_same_fields_as_real_cosign() {
    let scratch = Scratch::new();
    let ours: serde_json::Value = serde_json::from_str(
        &cosign(&scratch)
            .args(["version", "--json"])
            .run()
            .success()
            .stdout,
    )
    .expect("json");
    let theirs: serde_json::Value = serde_json::from_str(
        &scratch
            .command(Peer::Cosign3.path())
            .args(["version", "--json"])
            .run()
            .success()
            .stdout,
    )
    .expect("json");
    let keys = |value: &serde_json::Value| {
        value
            .as_object()
            .expect("object")
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&ours), keys(&theirs));
    assert_eq!(
        ours["gitVersion"],
        format!("v{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(ours["platform"], theirs["platform"]);
}

#[test]
fn text_and_short_forms() {
    let scratch = Scratch::new();
    let text = cosign(&scratch).args(["version"]).run().success().stdout;
    for field in [
        "GitVersion:",
        "GitCommit:",
        "GitTreeState:",
        "BuildDate:",
        "GoVersion:",
        "Compiler:",
        "Platform:",
    ] {
        assert!(text.contains(field), "{field} in {text}");
    }
    let short = cosign(&scratch)
        .args(["version", "--short"])
        .run()
        .success()
        .stdout;
    assert_eq!(short, format!("v{}\n", env!("CARGO_PKG_VERSION")));
}
