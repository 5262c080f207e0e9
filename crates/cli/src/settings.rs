//! Global settings resolved from flags: what every command may need, parsed and checked once.

use std::time::Duration;

use crate::args::GlobalArgs;
use crate::error::CliError;

#[derive(Debug, Clone)]
pub struct GlobalSettings {
    /// The deadline for network work (cosign's `--timeout`, default 3 minutes). The key
    /// commands do no network work, so, as in cosign, it does not limit them.
    pub timeout: Duration,
    /// Debug logging on stderr (`-d`).
    pub verbose: bool,
}

impl GlobalSettings {
    pub fn resolve(args: &GlobalArgs) -> Result<Self, CliError> {
        let timeout = parse_go_duration(&args.timeout).ok_or_else(|| {
            CliError::usage(format!(
                "invalid argument {:?} for \"-t, --timeout\" flag: time: invalid duration {:?}",
                args.timeout, args.timeout
            ))
        })?;
        Ok(Self {
            timeout,
            verbose: args.verbose,
        })
    }
}

/// Parses a Go `time.Duration` string: a sequence of decimal numbers with units
/// (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), such as `3m0s`, `1.5h` or `90s`; `0` alone is zero.
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = text;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        let value: f64 = number.parse().ok()?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after_unit) = after.split_at(unit_len);
        let seconds_per_unit = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * seconds_per_unit;
        rest = after_unit;
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse_go_duration("3m0s"), Some(Duration::from_secs(180)));
        assert_eq!(parse_go_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_go_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_go_duration(""), None);
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration("5x"), None);
    }
}
