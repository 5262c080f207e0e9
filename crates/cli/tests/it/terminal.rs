//! The password prompt on a real terminal (a pseudo-terminal): asked twice when making a key,
//! once when using it, never echoed.

use cosign_testkit::Scratch;
use rexpect::session::spawn_command;

const TIMEOUT_MS: u64 = 30_000;

fn command(scratch: &Scratch, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cosign"));
    command
        .args(args)
        .current_dir(scratch.path())
        .env_remove("COSIGN_PASSWORD");
    command
}

#[test]
fn generate_asks_twice_without_echo_then_the_key_opens() {
    let scratch = Scratch::new();
    let mut session =
        spawn_command(command(&scratch, &["generate-key-pair"]), Some(TIMEOUT_MS)).expect("spawn");
    session
        .exp_string("Enter password for private key: ")
        .expect("first prompt");
    session.send_line("typed secret").expect("type");
    session
        .exp_string("Enter password for private key again: ")
        .expect("second prompt");
    session.send_line("typed secret").expect("type");
    let rest = session.exp_eof().expect("finishes");
    assert!(rest.contains("Private key written to cosign.key"), "{rest}");
    assert!(
        !rest.contains("typed secret"),
        "the password was echoed: {rest}"
    );

    let mut session = spawn_command(
        command(&scratch, &["public-key", "--key", "cosign.key"]),
        Some(TIMEOUT_MS),
    )
    .expect("spawn");
    session
        .exp_string("Enter password for private key: ")
        .expect("prompt");
    session.send_line("typed secret").expect("type");
    let rest = session.exp_eof().expect("finishes");
    assert!(rest.contains("-----BEGIN PUBLIC KEY-----"), "{rest}");
    assert!(!rest.contains("typed secret"));
}

#[test]
fn mismatched_confirmation_is_refused() {
    let scratch = Scratch::new();
    let mut session =
        spawn_command(command(&scratch, &["generate-key-pair"]), Some(TIMEOUT_MS)).expect("spawn");
    session
        .exp_string("Enter password for private key: ")
        .expect("first prompt");
    session.send_line("one").expect("type");
    session
        .exp_string("Enter password for private key again: ")
        .expect("second prompt");
    session.send_line("two").expect("type");
    let rest = session.exp_eof().expect("finishes");
    assert!(rest.contains("Error: passwords do not match"), "{rest}");
    assert!(!scratch.join("cosign.key").exists());
}
