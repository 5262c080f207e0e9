//! Records what `cosign version` reports: the commit, whether the tree was clean, the build
//! date and the compiler. Every value falls back to "unknown" outside a git checkout.

use std::process::Command;

fn run(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn main() {
    let commit = run("git", &["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    let tree_state = match run("git", &["status", "--porcelain", "--untracked-files=no"]) {
        Some(status) if status.is_empty() => "clean",
        Some(_) => "dirty",
        None => "unknown",
    };
    let build_date =
        run("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]).unwrap_or_else(|| "unknown".to_owned());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let rustc_version = run(&rustc, &["--version"]).unwrap_or_else(|| "rustc".to_owned());
    println!("cargo:rustc-env=COSIGN_RS_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=COSIGN_RS_GIT_TREE_STATE={tree_state}");
    println!("cargo:rustc-env=COSIGN_RS_BUILD_DATE={build_date}");
    println!("cargo:rustc-env=COSIGN_RS_RUSTC_VERSION={rustc_version}");
    for path in ["../../.git/HEAD", "../../.git/index"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
