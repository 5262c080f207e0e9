//! cosign 3.1's whole command line against ours: real cosign 3.1 describes its command tree
//! (`cosign generate-fig-spec --include-hidden`: every command and flag, hidden ones included),
//! and each command and flag must be accepted by ours, or be listed in
//! `crates/cli/src/unsupported.txt` and refused with that reason.

use cosign_testkit::{Peer, Scratch};
use serde_json::Value;

use crate::cosign;

/// A flag value each flag that takes one accepts (others take any text).
fn sample_value(command: &str, flag: &str) -> &'static str {
    match (command, flag) {
        ("clean", "--type") => "all",
        ("triangulate", "--type") => "signature",
        (_, "--output" | "-o") if command == "verify" || command.ends_with(" verify") => "json",
        (_, "--timeout" | "-t") => "30s",
        (_, "--registry-referrers-mode") => "legacy",
        (_, "--signing-algorithm") => "ecdsa-sha2-256-nistp256",
        (_, "--max-workers") => "2",
        (_, "--only") => "sig",
        (_, "--signature-digest-algorithm") => "sha256",
        (_, "--client-timeout") => "5",
        _ => "x",
    }
}

/// One command of cosign's tree: its name path and its flags (each: names, takes a value).
struct FigCommand {
    path: Vec<String>,
    flags: Vec<(Vec<String>, bool)>,
    has_subcommands: bool,
}

fn walk(node: &Value, path: &[String], out: &mut Vec<FigCommand>) {
    let names: Vec<String> = match &node["name"] {
        Value::Array(names) => names
            .iter()
            .filter_map(|n| n.as_str().map(str::to_owned))
            .collect(),
        Value::String(name) => vec![name.clone()],
        _ => Vec::new(),
    };
    let mut here = path.to_vec();
    if let Some(first) = names.first() {
        here.push(first.clone());
    }
    let flags = node["options"]
        .as_array()
        .map(|options| {
            options
                .iter()
                .map(|option| {
                    let names = match &option["name"] {
                        Value::Array(names) => names
                            .iter()
                            .filter_map(|n| n.as_str().map(str::to_owned))
                            .collect(),
                        Value::String(name) => vec![name.clone()],
                        _ => Vec::new(),
                    };
                    (names, option.get("args").is_some())
                })
                .collect()
        })
        .unwrap_or_default();
    let subcommands = node["subcommands"].as_array().cloned().unwrap_or_default();
    out.push(FigCommand {
        path: here.clone(),
        flags,
        has_subcommands: !subcommands.is_empty(),
    });
    for sub in &subcommands {
        walk(sub, &here, out);
    }
}

/// `unsupported.txt`: (command or `*`, flag without dashes, reason).
fn unsupported() -> Vec<(String, Option<String>, String)> {
    let text = std::fs::read_to_string(
        cosign_testkit::repository_root().join("crates/cli/src/unsupported.txt"),
    )
    .unwrap();
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (target, reason) = line.split_once(": ").expect("`target: reason`");
            let (command, flag) = match target.split_once(" --") {
                Some((command, flag)) => (command.to_owned(), Some(flag.to_owned())),
                None => (target.to_owned(), None),
            };
            (command, flag, reason.to_owned())
        })
        .collect()
}

#[test]
fn every_cosign_command_and_flag_is_accepted_or_refused_with_a_reason() {
    let scratch = Scratch::new();
    let spec = scratch
        .command(Peer::Cosign3.path())
        .args(["generate-fig-spec", "--include-hidden"])
        .run()
        .success()
        .stdout;
    let tree = fig_spec::parse(&spec).expect("cosign's fig spec parses");
    let mut commands = Vec::new();
    walk(&tree, &[], &mut commands);
    let unsupported = unsupported();
    let mut used_exceptions = std::collections::HashSet::new();
    let mut problems = Vec::new();
    let mut checked_flags = 0;
    for command in &commands {
        // The root's own name, and cobra's `help` tree.
        let path: Vec<&str> = command.path.iter().skip(1).map(String::as_str).collect();
        if path.first() == Some(&"help") {
            continue;
        }
        let name = path.join(" ");
        if command.has_subcommands && !path.is_empty() {
            continue;
        }
        if let Some(index) = unsupported
            .iter()
            .position(|(c, flag, _)| flag.is_none() && *c == name)
        {
            used_exceptions.insert(index);
            let refused = cosign(&scratch).args(&path).run();
            let reason = &unsupported[index].2;
            if refused.code != Some(1)
                || !refused.stderr.contains("is not supported by cosign-rs")
                || !refused.stderr.contains(reason.as_str())
            {
                problems.push(format!(
                    "`cosign {name}` is not refused with its reason: {}",
                    refused.stderr
                ));
            }
            continue;
        }
        let help = cosign(&scratch).args(&path).arg_help().run();
        if help.code != Some(0) {
            problems.push(format!("`cosign {name}` is missing: {}", help.stderr));
            continue;
        }
        for (names, takes_value) in &command.flags {
            let long = names
                .iter()
                .find(|n| n.starts_with("--"))
                .or_else(|| names.first())
                .cloned()
                .unwrap_or_default();
            if long == "--help" {
                continue;
            }
            checked_flags += 1;
            let bare = long.trim_start_matches('-');
            let exception = unsupported
                .iter()
                .position(|(c, flag, _)| flag.as_deref() == Some(bare) && (c == "*" || *c == name));
            let flag = if *takes_value {
                format!("{long}={}", sample_value(&name, &long))
            } else {
                long.clone()
            };
            match exception {
                Some(index) => {
                    used_exceptions.insert(index);
                    let refused = cosign(&scratch).args(&path).args([&flag]).run();
                    let reason = &unsupported[index].2;
                    if refused.code != Some(1)
                        || !refused
                            .stderr
                            .contains(&format!("{long} is not supported by cosign-rs"))
                        || !refused.stderr.contains(reason.as_str())
                    {
                        problems.push(format!(
                            "`cosign {name} {flag}` is not refused with its reason: {}",
                            refused.stderr
                        ));
                    }
                }
                None => {
                    let accepted = cosign(&scratch).args(&path).args([&flag]).arg_help().run();
                    if accepted.code != Some(0) {
                        problems.push(format!(
                            "`cosign {name} {flag}` is not accepted: {}",
                            accepted.stderr.lines().next().unwrap_or_default()
                        ));
                    }
                }
            }
        }
    }
    // Every exception names something cosign 3.1 has (no stale lines).
    for (index, (command, flag, _)) in unsupported.iter().enumerate() {
        if !used_exceptions.contains(&index) {
            problems.push(format!(
                "unsupported.txt names `{command}{}`, which cosign 3.1 does not have",
                flag.as_ref().map(|f| format!(" --{f}")).unwrap_or_default()
            ));
        }
    }
    assert!(
        checked_flags > 300,
        "only {checked_flags} flags in cosign's tree"
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Extension: `--help` appended.
trait HelpArg {
    fn arg_help(self) -> Self;
}

impl HelpArg for cosign_testkit::Invocation {
    fn arg_help(self) -> Self {
        self.args(["--help"])
    }
}

/// cosign's fig spec is a TypeScript object literal (`const completionSpec: Fig.Spec = {name:
/// "cosign", subcommands: [...], ...}`): unquoted keys, double-quoted strings with `\'`,
/// trailing commas. Read into JSON values.
mod fig_spec {
    use serde_json::{Map, Value};

    pub fn parse(text: &str) -> Result<Value, String> {
        let start = text.find('{').ok_or("no object")?;
        let mut parser = Parser {
            bytes: text.as_bytes(),
            at: start,
        };
        parser.value()
    }

    struct Parser<'a> {
        bytes: &'a [u8],
        at: usize,
    }

    impl Parser<'_> {
        fn peek(&mut self) -> Option<u8> {
            while self.bytes.get(self.at).is_some_and(u8::is_ascii_whitespace) {
                self.at += 1;
            }
            self.bytes.get(self.at).copied()
        }

        fn expect(&mut self, wanted: u8) -> Result<(), String> {
            if self.peek() == Some(wanted) {
                self.at += 1;
                Ok(())
            } else {
                Err(format!("expected {:?} at {}", wanted as char, self.at))
            }
        }

        fn value(&mut self) -> Result<Value, String> {
            match self.peek() {
                Some(b'{') => self.object(),
                Some(b'[') => self.array(),
                Some(b'"') => self.string().map(Value::String),
                Some(_) => {
                    let word = self.word();
                    match word.as_str() {
                        "true" => Ok(Value::Bool(true)),
                        "false" => Ok(Value::Bool(false)),
                        other => Ok(Value::String(other.to_owned())),
                    }
                }
                None => Err("unexpected end".to_owned()),
            }
        }

        fn word(&mut self) -> String {
            let start = self.at;
            while self
                .bytes
                .get(self.at)
                .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            {
                self.at += 1;
            }
            String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned()
        }

        fn string(&mut self) -> Result<String, String> {
            self.expect(b'"')?;
            let mut out = Vec::new();
            loop {
                let byte = *self.bytes.get(self.at).ok_or("unterminated string")?;
                self.at += 1;
                match byte {
                    b'"' => break,
                    b'\\' => {
                        let escaped = *self.bytes.get(self.at).ok_or("bad escape")?;
                        self.at += 1;
                        out.push(match escaped {
                            b'n' => b'\n',
                            b't' => b'\t',
                            other => other,
                        });
                    }
                    other => out.push(other),
                }
            }
            Ok(String::from_utf8_lossy(&out).into_owned())
        }

        fn array(&mut self) -> Result<Value, String> {
            self.expect(b'[')?;
            let mut items = Vec::new();
            loop {
                if self.peek() == Some(b']') {
                    self.at += 1;
                    return Ok(Value::Array(items));
                }
                items.push(self.value()?);
                if self.peek() == Some(b',') {
                    self.at += 1;
                }
            }
        }

        fn object(&mut self) -> Result<Value, String> {
            self.expect(b'{')?;
            let mut map = Map::new();
            loop {
                if self.peek() == Some(b'}') {
                    self.at += 1;
                    return Ok(Value::Object(map));
                }
                let key = if self.peek() == Some(b'"') {
                    self.string()?
                } else {
                    self.word()
                };
                self.expect(b':')?;
                let value = self.value()?;
                map.insert(key, value);
                if self.peek() == Some(b',') {
                    self.at += 1;
                }
            }
        }
    }
}
