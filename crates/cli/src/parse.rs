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
    cobra_style(Cli::command())
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

/// Parses `arguments` (the program name first) into the command line, or the error to print.
pub fn parse(arguments: Vec<OsString>) -> Result<(Cli, ArgMatches), clap::Error> {
    let arguments = normalize_go_style_flags(arguments);
    let matches = command().try_get_matches_from(arguments)?;
    let cli = Cli::from_arg_matches(&matches)?;
    Ok((cli, matches))
}

/// cosign rewrites Go-style flags before parsing, with a warning: `--o` becomes `-o`, and a
/// single-dash long flag `-output` becomes `--output` (`-version` becomes `version`).
fn normalize_go_style_flags(arguments: Vec<OsString>) -> Vec<OsString> {
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

/// The error cosign prints for a command line clap refused (`None` for help, which succeeds).
pub fn error_for(error: &clap::Error, arguments: &[OsString]) -> Option<CliError> {
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
    let invalid =
        context(ContextKind::InvalidArg).or_else(|| context(ContextKind::InvalidSubcommand));
    let message = match (error.kind(), invalid) {
        (ErrorKind::UnknownArgument, Some(argument)) if argument.starts_with('-') => {
            format!(
                "unknown flag: {}",
                argument.split('=').next().unwrap_or(&argument)
            )
        }
        (ErrorKind::InvalidSubcommand, Some(command)) => {
            format!("unknown command {command:?} for \"cosign\"")
        }
        (ErrorKind::InvalidValue | ErrorKind::ValueValidation, Some(flag)) => {
            let value = context(ContextKind::InvalidValue).unwrap_or_default();
            format!(
                "invalid argument {value:?} for {:?} flag",
                flag.split(' ').next().unwrap_or(&flag)
            )
        }
        _ => {
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or_default();
            first.strip_prefix("error: ").unwrap_or(first).to_owned()
        }
    };
    let _ = arguments;
    Some(CliError::usage(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strings(arguments: &[&str]) -> Result<Cli, clap::Error> {
        parse(arguments.iter().map(OsString::from).collect()).map(|(cli, _)| cli)
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
    fn parses_go_booleans() {
        for value in GO_BOOLS {
            assert!(parse_go_bool(value).is_some());
        }
        assert_eq!(parse_go_bool("yes"), None);
    }
}
