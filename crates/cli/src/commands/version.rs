//! `cosign version`: what this build is, in cosign's text and JSON shapes.

use serde::Serialize;

use crate::args::VersionArgs;
use crate::console::Console;
use crate::error::CliError;

/// The fields of cosign's `version --json`, with the same names so scripts keep working.
/// `goVersion` says there is none; `compiler` names the Rust compiler that built us.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionInfo {
    git_version: &'static str,
    git_commit: &'static str,
    git_tree_state: &'static str,
    build_date: &'static str,
    go_version: &'static str,
    compiler: &'static str,
    platform: String,
}

const BANNER: &str = r"  ______   ______        _______. __    _______ .__   __.
 /      | /  __  \      /       ||  |  /  _____||  \ |  |
|  ,----'|  |  |  |    |   (----`|  | |  |  __  |   \|  |
|  |     |  |  |  |     \   \    |  | |  | |_ | |  . `  |
|  `----.|  `--'  | .----)   |   |  | |  |__| | |  |\   |
 \______| \______/  |_______/    |__|  \______| |__| \__|
cosign-rs: A drop-in replacement for Sigstore's cosign, in Rust.
";

fn info() -> VersionInfo {
    VersionInfo {
        git_version: concat!("v", env!("CARGO_PKG_VERSION")),
        git_commit: env!("COSIGN_RS_GIT_COMMIT"),
        git_tree_state: env!("COSIGN_RS_GIT_TREE_STATE"),
        build_date: env!("COSIGN_RS_BUILD_DATE"),
        go_version: "none",
        compiler: env!("COSIGN_RS_RUSTC_VERSION"),
        platform: format!("{}/{}", go_os(), go_arch()),
    }
}

/// Go's names for the platform, as cosign prints them (`linux/amd64`).
fn go_os() -> &'static str {
    std::env::consts::OS
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

pub fn run(args: &VersionArgs, console: &mut Console) -> Result<(), CliError> {
    let info = info();
    if args.short {
        return console.out(format!("{}\n", info.git_version).as_bytes());
    }
    if args.json {
        let json = serde_json::to_string_pretty(&info)
            .map_err(|error| CliError::new(format!("encoding version: {error}")))?;
        return console.out(format!("{json}\n").as_bytes());
    }
    let rows = [
        ("GitVersion:", info.git_version.to_owned()),
        ("GitCommit:", info.git_commit.to_owned()),
        ("GitTreeState:", info.git_tree_state.to_owned()),
        ("BuildDate:", info.build_date.to_owned()),
        ("GoVersion:", info.go_version.to_owned()),
        ("Compiler:", info.compiler.to_owned()),
        ("Platform:", info.platform.clone()),
    ];
    let mut text = format!("{BANNER}\n");
    for (name, value) in rows {
        text.push_str(&format!("{name:<15}{value}\n"));
    }
    text.push('\n');
    console.out(text.as_bytes())
}
