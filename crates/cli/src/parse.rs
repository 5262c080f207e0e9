//! Reading the command line as cobra and pflag read cosign's: Go-style flags rewritten with
//! cosign's warning, every boolean flag taking `=true|false|1|0|t|f|...` (Go's
//! `strconv.ParseBool`), cobra's argument-count errors and flag deprecation notices, and cosign
//! commands cosign-rs does not offer refused by name. `args.rs` stays plain clap; this module
//! adjusts the built command once.

use std::ffi::OsString;

use clap::builder::{ArgAction, PossibleValuesParser, TypedValueParser as _};
use clap::{ArgMatches, CommandFactory as _, FromArgMatches as _};

use crate::args::Cli;
use crate::console;
use crate::error::CliError;

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

const GO_BOOLS: [&str; 12] = [
    "1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False",
];

/// The command line's clap command, with cobra's conventions applied.
pub fn command() -> clap::Command {
    // cosign hides its deprecated commands from the help, and keeps them working. A flag given
    // twice takes its last value, as pflag's do (lists still collect every occurrence).
    cobra_style(Cli::command().args_override_self(true)).mut_subcommands(|command| {
        let deprecated = crate::deprecations::is_deprecated_command(command.get_name());
        command.hide(deprecated)
    })
}

/// Every on/off flag (clap's `SetTrue`) becomes a pflag boolean: `--flag` alone is true,
/// `--flag=VALUE` takes any of Go's boolean spellings, `--flag VALUE` does not take the next
/// argument (as in pflag, it stays a positional argument).
fn cobra_style(command: clap::Command) -> clap::Command {
    command
        .mut_args(|arg| {
            let go_bool = PossibleValuesParser::new(GO_BOOLS)
                .map(|value| parse_go_bool(&value).unwrap_or(false));
            if matches!(arg.get_action(), ArgAction::SetTrue) {
                arg.action(ArgAction::Set)
                    .num_args(0..=1)
                    .require_equals(true)
                    .default_missing_value("true")
                    .default_value("false")
                    .hide_default_value(true)
                    .hide_possible_values(true)
                    .value_parser(go_bool)
            } else if arg
                .get_value_names()
                .is_some_and(|names| names.len() == 1 && names.iter().all(|name| name == "BOOL"))
            {
                // Declared as `--flag[=BOOL]` already (those defaulting to true, or unset).
                arg.hide_possible_values(true).value_parser(go_bool)
            } else {
                arg
            }
        })
        .mut_subcommands(cobra_style)
}

/// Parses `arguments` (the program name first, Go-style flags already normalized) into the
/// command line, or the error to print; prints cosign's deprecation notices for what the
/// command line uses.
pub fn parse(command: &mut clap::Command, arguments: Vec<OsString>) -> Result<Cli, clap::Error> {
    let matches = command.try_get_matches_from_mut(arguments.clone())?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    resolve_aliases(&mut cli);
    let path = command_path(&matches);
    for notice in crate::deprecations::notices(&path, &arguments) {
        console::info(notice);
    }
    Ok(cli)
}

/// Flags that mean another flag: `--private-infrastructure` is `--insecure-ignore-tlog`.
fn resolve_aliases(cli: &mut Cli) {
    use crate::args::Command;
    match &mut cli.command {
        Command::Verify(args)
        | Command::Dockerfile(crate::args::DockerfileCommand::Verify(
            crate::args::DockerfileVerifyArgs { verify: args, .. },
        ))
        | Command::Manifest(crate::args::ManifestCommand::Verify(
            crate::args::ManifestVerifyArgs { verify: args },
        )) => {
            args.insecure_ignore_tlog |= args.verification.private_infrastructure;
        }
        Command::VerifyBlob(args) => {
            args.insecure_ignore_tlog |= args.verification.private_infrastructure;
        }
        _ => {}
    }
}

/// The names of the (sub)commands matched: `["trusted-root", "create"]`.
fn command_path(matches: &ArgMatches) -> Vec<&str> {
    let mut path = Vec::new();
    let mut current = matches;
    while let Some((name, sub)) = current.subcommand() {
        path.push(name);
        current = sub;
    }
    path
}

/// cosign rewrites Go-style flags before parsing, with a warning: `--o` becomes `-o`, and a
/// single-dash long flag `-output` becomes `--output` (`-version` becomes `version`).
pub fn normalize_go_style_flags(arguments: Vec<OsString>) -> Vec<OsString> {
    arguments
        .into_iter()
        .enumerate()
        .map(|(index, argument)| {
            let Some(text) = argument.to_str().filter(|_| index > 0) else {
                return argument;
            };
            if (text.starts_with('-') && text.len() == 2)
                || (text.starts_with("--") && text.len() >= 4)
                || (text.starts_with('-') && text.as_bytes().get(2) == Some(&b'='))
            {
                return argument;
            }
            if let Some(letter) = text.strip_prefix("--").filter(|rest| rest.len() == 1) {
                let replacement = format!("-{letter}");
                console::warn(format_args!(
                    "the flag {text} is deprecated and will be removed in a future release. Please use the flag {replacement}."
                ));
                return OsString::from(replacement);
            }
            if text.starts_with('-') && text.len() > 1 {
                let (replacement, kind) = if text == "-version" {
                    ("version".to_owned(), "subcommand")
                } else {
                    (format!("-{text}"), "flag")
                };
                console::warn(format_args!(
                    "the {text} flag is deprecated and will be removed in a future release. Please use the {replacement} {kind} instead."
                ));
                return OsString::from(replacement);
            }
            argument
        })
        .collect()
}

/// cosign 3.1's commands and flags that cosign-rs refuses, with why (see the file's header).
const UNSUPPORTED: &str = include_str!("unsupported.txt");

/// One line of [`UNSUPPORTED`]: a command (`*` for any), maybe a flag, the reason.
#[derive(Debug, PartialEq, Eq)]
pub struct Unsupported<'a> {
    pub command: &'a str,
    pub flag: Option<&'a str>,
    pub reason: &'a str,
}

/// The entries of [`UNSUPPORTED`].
pub fn unsupported() -> impl Iterator<Item = Unsupported<'static>> {
    UNSUPPORTED
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let (target, reason) = line.split_once(": ")?;
            let (command, flag) = match target.split_once(" --") {
                Some((command, flag)) => (command, Some(flag)),
                None => (target, None),
            };
            Some(Unsupported {
                command,
                flag: flag.map(|flag| flag.trim_start_matches('-')),
                reason: reason.trim(),
            })
        })
}

/// Refuses, before anything runs, a cosign command or flag that cosign-rs does not offer,
/// naming why ([`UNSUPPORTED`]).
pub fn refuse_unsupported(command: &clap::Command, arguments: &[OsString]) -> Option<CliError> {
    let tokens: Vec<&str> = arguments
        .iter()
        .skip(1)
        .filter_map(|argument| argument.to_str())
        .take_while(|argument| *argument != "--")
        .collect();
    let path = command_path_of(command, &tokens);
    let entries: Vec<Unsupported<'static>> = unsupported().collect();
    // A command cosign has and cosign-rs has not: its name follows the longest known path.
    let rest: Vec<&str> = tokens
        .iter()
        .copied()
        .filter(|token| !token.starts_with('-'))
        .skip(path.len())
        .take(2)
        .collect();
    for extra in (1..=rest.len()).rev() {
        let mut candidate = path.clone();
        candidate.extend(rest.iter().take(extra));
        let name = candidate.join(" ");
        if let Some(entry) = entries
            .iter()
            .find(|entry| entry.flag.is_none() && entry.command == name)
        {
            return Some(CliError::not_supported(
                &format!("cosign {name}"),
                entry.reason,
            ));
        }
    }
    let command = path.join(" ");
    for token in &tokens {
        let Some(flag) = token.strip_prefix("--") else {
            continue;
        };
        let flag = flag.split('=').next().unwrap_or(flag);
        if let Some(entry) = entries.iter().find(|entry| {
            entry.flag == Some(flag) && (entry.command == "*" || entry.command == command)
        }) {
            return Some(CliError::not_supported(&format!("--{flag}"), entry.reason));
        }
    }
    None
}

/// The (sub)command names at the start of a command line, as far as they name commands of
/// ours (global flags skipped).
fn command_path_of<'a>(root: &clap::Command, tokens: &[&'a str]) -> Vec<&'a str> {
    let mut current = root;
    let mut path = Vec::new();
    let mut index = 0;
    while let Some(&token) = tokens.get(index) {
        index += 1;
        if token.starts_with('-') {
            // The global flags that take a separate value.
            if matches!(token, "-t" | "--timeout" | "--output-file") {
                index += 1;
            }
            continue;
        }
        match current.find_subcommand(token) {
            Some(sub) => {
                path.push(token);
                current = sub;
            }
            None => break,
        }
    }
    path
}

/// How many positional arguments a command takes, as cobra's validators in cosign 3.1 say it.
#[derive(Debug, Clone, Copy)]
enum Arity {
    Exactly(usize),
    AtLeast(usize),
    None,
}

fn arity(command: &str) -> Option<Arity> {
    Some(match command {
        "sign" | "verify" | "sign-blob" => Arity::AtLeast(1),
        "copy" => Arity::Exactly(2),
        "attach signature" | "bundle upgrade" | "clean" | "completion" | "download signature"
        | "generate" | "load" | "login" | "save" | "tree" | "triangulate" | "verify-blob" => {
            Arity::Exactly(1)
        }
        "env" => Arity::None,
        _ => return None,
    })
}

/// cobra's words for a wrong number of arguments.
fn arity_message(
    arity: Arity,
    received: usize,
    command: &str,
    first_extra: Option<&str>,
) -> Option<String> {
    match arity {
        Arity::Exactly(wanted) if received != wanted => {
            Some(format!("accepts {wanted} arg(s), received {received}"))
        }
        Arity::AtLeast(wanted) if received < wanted => Some(format!(
            "requires at least {wanted} arg(s), only received {received}"
        )),
        Arity::None if received > 0 => Some(format!(
            "unknown command {:?} for \"cosign {command}\"",
            first_extra.unwrap_or_default()
        )),
        _ => None,
    }
}

/// The positional arguments after the command path, flags and their values skipped (a flag
/// takes the next argument as its value when it takes a value and does not require `=`).
fn positionals<'a>(command: &clap::Command, tokens: &[&'a str]) -> Vec<&'a str> {
    let takes_separate_value = |token: &str| {
        if token.contains('=') {
            return false;
        }
        let matched = if let Some(long) = token.strip_prefix("--") {
            command.get_arguments().find(|arg| {
                arg.get_long() == Some(long)
                    || arg.get_all_aliases().is_some_and(|a| a.contains(&long))
            })
        } else {
            let short = token.chars().nth(1);
            command
                .get_arguments()
                .find(|arg| arg.get_short().is_some() && arg.get_short() == short)
        };
        matched.is_some_and(|arg| arg.get_action().takes_values() && !arg.is_require_equals_set())
    };
    let mut found = Vec::new();
    let mut index = 0;
    let mut only_positionals = false;
    while let Some(&token) = tokens.get(index) {
        index += 1;
        if only_positionals || !token.starts_with('-') || token == "-" {
            found.push(token);
        } else if token == "--" {
            only_positionals = true;
        } else if takes_separate_value(token) {
            index += 1;
        }
    }
    found
}

/// The error cosign prints for a command line clap refused (`None` for help, which succeeds).
pub fn error_for(
    command: &clap::Command,
    error: &clap::Error,
    arguments: &[OsString],
) -> Option<CliError> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => return None,
        _ => {}
    }
    let context = |kind| {
        error.get(kind).and_then(|value| match value {
            ContextValue::String(text) => Some(text.clone()),
            _ => None,
        })
    };
    let tokens: Vec<&str> = arguments
        .iter()
        .skip(1)
        .filter_map(|argument| argument.to_str())
        .collect();
    let path = command_path_of(command, &tokens);
    let command_name = path.join(" ");
    // cobra prints its deprecation notices while parsing, before refusing arguments.
    for notice in crate::deprecations::notices(&path, arguments) {
        console::info(notice);
    }
    // Wrong number of positional arguments: cobra's validator wording.
    let unknown_flag = error.kind() == ErrorKind::UnknownArgument
        && context(ContextKind::InvalidArg).is_some_and(|argument| argument.starts_with('-'));
    let mut leaf = command;
    for name in &path {
        if let Some(sub) = leaf.find_subcommand(name) {
            leaf = sub;
        }
    }
    if !unknown_flag
        && matches!(
            error.kind(),
            ErrorKind::MissingRequiredArgument
                | ErrorKind::UnknownArgument
                | ErrorKind::TooManyValues
        )
    {
        let after_path: Vec<&str> = {
            let mut rest = tokens.clone();
            for name in &path {
                if let Some(position) = rest.iter().position(|token| token == name) {
                    rest.drain(..=position);
                }
            }
            rest
        };
        let given = positionals(leaf, &after_path);
        if let Some(message) = arity(&command_name).and_then(|arity| {
            arity_message(arity, given.len(), &command_name, given.first().copied())
        }) {
            return Some(CliError::usage(message));
        }
    }
    let invalid =
        context(ContextKind::InvalidArg).or_else(|| context(ContextKind::InvalidSubcommand));
    let message = match (error.kind(), invalid) {
        (ErrorKind::UnknownArgument, Some(argument)) if argument.starts_with("--") => {
            format!(
                "unknown flag: {}",
                argument.split('=').next().unwrap_or(&argument)
            )
        }
        (ErrorKind::UnknownArgument, Some(argument)) if argument.starts_with('-') => {
            let letter = argument.chars().nth(1).unwrap_or('-');
            format!("unknown shorthand flag: {letter:?} in {argument}")
        }
        (ErrorKind::InvalidSubcommand, Some(name)) => {
            let suggestion = match error.get(ContextKind::SuggestedSubcommand) {
                Some(ContextValue::Strings(names)) if !names.is_empty() => {
                    format!("\n\nDid you mean this?\n\t{}\n", names.join("\n\t"))
                }
                Some(ContextValue::String(name)) => format!("\n\nDid you mean this?\n\t{name}\n"),
                _ => String::new(),
            };
            let parent = if command_name.is_empty() {
                "cosign".to_owned()
            } else {
                format!("cosign {command_name}")
            };
            format!("unknown command {name:?} for {parent:?}{suggestion}\nRun '{parent} --help' for usage.")
        }
        (ErrorKind::InvalidValue | ErrorKind::ValueValidation, Some(flag)) => {
            let value = context(ContextKind::InvalidValue).unwrap_or_default();
            let long = flag
                .split(['=', ' ', '['])
                .next()
                .unwrap_or(&flag)
                .to_owned();
            // cobra names a flag with its shorthand: "-r, --recursive".
            let name = leaf
                .get_arguments()
                .find(|arg| {
                    arg.get_long()
                        .is_some_and(|name| long.strip_prefix("--") == Some(name))
                })
                .and_then(|arg| arg.get_short())
                .map_or(long.clone(), |short| format!("-{short}, {long}"));
            let is_bool = parse_go_bool(&value).is_none()
                && error
                    .get(ContextKind::ValidValue)
                    .is_some_and(|valid| valid.to_string().contains("True"));
            if is_bool {
                format!("invalid argument {value:?} for {name:?} flag: strconv.ParseBool: parsing {value:?}: invalid syntax")
            } else {
                format!("invalid argument {value:?} for {name:?} flag")
            }
        }
        (ErrorKind::MissingRequiredArgument, _) => {
            let missing: Vec<String> = match error.get(ContextKind::InvalidArg) {
                Some(ContextValue::Strings(names)) => names
                    .iter()
                    .map(|name| {
                        let long = name.trim_start_matches('-');
                        format!("{:?}", long.split([' ', '=']).next().unwrap_or(long))
                    })
                    .collect(),
                _ => Vec::new(),
            };
            format!("required flag(s) {} not set", missing.join(", "))
        }
        _ => {
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or_default();
            first.strip_prefix("error: ").unwrap_or(first).to_owned()
        }
    };
    Some(CliError::usage(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strings(arguments: &[&str]) -> Result<Cli, clap::Error> {
        parse(
            &mut command(),
            normalize_go_style_flags(arguments.iter().map(OsString::from).collect()),
        )
    }

    #[test]
    fn boolean_flags_take_go_boolean_values() {
        for (given, expected) in [
            (&["cosign", "sign", "--recursive", "img"][..], true),
            (&["cosign", "sign", "--recursive=true", "img"][..], true),
            (&["cosign", "sign", "--recursive=1", "img"][..], true),
            (&["cosign", "sign", "--recursive=T", "img"][..], true),
            (&["cosign", "sign", "--recursive=false", "img"][..], false),
            (&["cosign", "sign", "--recursive=0", "img"][..], false),
            (&["cosign", "sign", "-r=False", "img"][..], false),
            (&["cosign", "sign", "img"][..], false),
        ] {
            let cli = parse_strings(given).expect("parses");
            let crate::args::Command::Sign(args) = cli.command else {
                panic!("sign")
            };
            assert_eq!(args.recursive, expected, "{given:?}");
        }
        assert!(parse_strings(&["cosign", "sign", "--recursive=maybe", "img"]).is_err());
        // `--flag false` leaves `false` as a positional argument, as pflag does.
        let cli =
            parse_strings(&["cosign", "sign", "--recursive", "false", "img"]).expect("parses");
        let crate::args::Command::Sign(args) = cli.command else {
            panic!("sign")
        };
        assert!(args.recursive);
        assert_eq!(args.images, ["false", "img"]);
    }

    #[test]
    fn a_flag_given_twice_takes_its_last_value_and_lists_collect_every_one() {
        let cli = parse_strings(&[
            "cosign",
            "sign",
            "--key",
            "a.key",
            "-a",
            "x=1",
            "--key",
            "b.key",
            "-a",
            "y=2",
            "--recursive",
            "--recursive=false",
            "img",
        ])
        .expect("parses");
        let crate::args::Command::Sign(args) = cli.command else {
            panic!("sign")
        };
        assert_eq!(args.key.as_deref(), Some("b.key"));
        assert_eq!(args.annotations, ["x=1", "y=2"]);
        assert!(!args.recursive);
    }

    #[test]
    fn parses_go_booleans() {
        for value in GO_BOOLS {
            assert!(parse_go_bool(value).is_some());
        }
        assert_eq!(parse_go_bool("yes"), None);
    }
}
