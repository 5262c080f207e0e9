//! Rego policies, evaluated by `regorus` as cosign evaluates them with OPA
//! (`pkg/cosign/rego`): every file is parsed as Rego v0 into one set of modules, the query is
//! `data.signature.allow`, the input is the statement, and the input is allowed only when the
//! query gives exactly one result whose one expression is `true`.
//!
//! Unlike cosign, an evaluation is bounded: regorus stops it after
//! [`Limits::time`](crate::Limits), and with [`Evaluation::Worker`] it runs in a child process
//! (the same binary, started with [`WORKER_ARGUMENT`]) whose address space the kernel caps at
//! [`Limits::memory`](crate::Limits): a policy that allocates without bound ends that process,
//! not ours, and a crash in the engine is a failed check, not a crashed verifier. A failure
//! names the policy files and repeats what the policy printed (`print(...)`).

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, LimitError, Value};

use crate::child::{self, Stopped};
use crate::{Limits, PolicyError, PolicyFile, Violation};

/// cosign's query.
pub const QUERY: &str = "data.signature.allow";

/// The first argument that makes a program that embeds this crate act as the Rego worker (see
/// [`worker_main`]).
pub const WORKER_ARGUMENT: &str = "__cosign-rs-rego-worker";

/// The most of a worker's answer read.
const ANSWER_LIMIT: u64 = 256 * 1024;

/// Where a Rego policy is evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evaluation {
    /// In this process: the time limit holds, the memory limit does not.
    InProcess,
    /// In a child process, `program WORKER_ARGUMENT ...` (a program whose `main` calls
    /// [`worker_main`]), with its address space capped.
    Worker { program: PathBuf },
}

/// Rego files compiled together, ready to evaluate inputs.
#[derive(Debug)]
pub struct RegoPolicy {
    engine: Engine,
    paths: Vec<PathBuf>,
    limits: Limits,
    evaluation: Evaluation,
}

impl RegoPolicy {
    /// Parses every file (Rego v0, as cosign's OPA is told); a file that does not parse is
    /// named with the parser's message.
    pub fn compile(
        files: Vec<PolicyFile>,
        limits: Limits,
        evaluation: Evaluation,
    ) -> Result<Self, PolicyError> {
        let mut engine = Engine::new();
        engine.set_rego_v0(true);
        engine.set_gather_prints(true);
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: limits.time,
            check_interval: NonZeroU32::MIN.saturating_add(63),
        });
        let mut paths = Vec::new();
        for file in files {
            engine
                .add_policy(file.path.display().to_string(), file.text)
                .map_err(|error| PolicyError::Malformed {
                    path: file.path.clone(),
                    message: error.to_string(),
                })?;
            paths.push(file.path);
        }
        Ok(Self {
            engine,
            paths,
            limits,
            evaluation,
        })
    }

    /// The files, in the order given.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Evaluates the policy against `input` (a JSON document).
    pub fn check(&self, input: &[u8]) -> Result<(), Violation> {
        match &self.evaluation {
            Evaluation::InProcess => self.check_here(input),
            Evaluation::Worker { program } => self.check_in_worker(program, input),
        }
    }

    /// Starts a worker for one evaluation and reads its verdict.
    fn check_in_worker(&self, program: &Path, input: &[u8]) -> Result<(), Violation> {
        let violation = |message: String| Violation {
            policies: self.paths.clone(),
            message,
        };
        let mut command = std::process::Command::new(program);
        command
            .arg(WORKER_ARGUMENT)
            .arg(self.limits.time.as_millis().to_string())
            .arg(self.limits.memory.to_string())
            .args(&self.paths);
        // The worker's own deadline is regorus's; this one catches a worker that hangs.
        let deadline = self.limits.time + Duration::from_secs(2);
        let finished = child::run(command, input, deadline, ANSWER_LIMIT)
            .map_err(|error| violation(format!("starting the Rego evaluator: {error}")))?;
        let answer = String::from_utf8_lossy(&finished.stdout);
        match finished.status {
            Err(Stopped::Deadline(_)) => Err(violation(format!(
                "evaluation stopped: execution exceeded time limit ({} s)",
                self.limits.time.as_secs_f64()
            ))),
            Err(Stopped::Wait(error)) => Err(violation(format!(
                "waiting for the Rego evaluator: {error}"
            ))),
            Ok(status) if status.success() && answer == "allow\n" => Ok(()),
            Ok(status) if status.success() && answer.starts_with("deny\n") => Err(violation(
                answer.trim_start_matches("deny\n").trim_end().to_owned(),
            )),
            Ok(_) => {
                let said = String::from_utf8_lossy(&finished.stderr);
                if said.contains("memory allocation") || answer.is_empty() {
                    Err(violation(format!(
                        "evaluation stopped: execution exceeded memory limit ({} MiB)",
                        self.limits.memory / (1024 * 1024)
                    )))
                } else {
                    Err(violation(format!(
                        "the Rego evaluator failed: {}",
                        said.trim_end()
                    )))
                }
            }
        }
    }

    /// Evaluates here, in this process.
    fn check_here(&self, input: &[u8]) -> Result<(), Violation> {
        let violation = |message: String| Violation {
            policies: self.paths.clone(),
            message,
        };
        let text = std::str::from_utf8(input)
            .map_err(|_| violation("the input is not UTF-8 JSON".to_owned()))?;
        let value = Value::from_json_str(text)
            .map_err(|error| violation(format!("parsing the input: {error}")))?;
        let mut engine = self.engine.clone();
        engine.set_input(value);
        let outcome = engine.eval_query(QUERY.to_owned(), false);
        let prints = engine.take_prints().unwrap_or_default();
        let with_prints = |message: String| {
            if prints.is_empty() {
                violation(message)
            } else {
                violation(format!(
                    "{message}; the policy printed: {}",
                    prints.join("; ")
                ))
            }
        };
        let results = match outcome {
            Ok(results) => results,
            Err(error) => {
                return Err(match error.downcast_ref::<LimitError>() {
                    Some(limit) => violation(format!("evaluation stopped: {limit}")),
                    None => with_prints(format!("evaluating {QUERY}: {error}")),
                })
            }
        };
        let values: Vec<&Value> = results
            .result
            .iter()
            .flat_map(|result| {
                result
                    .expressions
                    .iter()
                    .map(|expression| &expression.value)
            })
            .collect();
        let allowed = matches!(results.result.as_slice(), [only]
            if only.bindings.as_object().map_or(true, |bindings| bindings.is_empty())
            && matches!(only.expressions.as_slice(), [expression] if expression.value == Value::Bool(true)));
        if allowed {
            return Ok(());
        }
        match values.as_slice() {
            [] => Err(with_prints(format!(
                "result is undefined for query '{QUERY}'"
            ))),
            values => Err(with_prints(
                values
                    .iter()
                    .map(|value| format!("expression value, {value}, is not true"))
                    .collect::<Vec<_>>()
                    .join("; "),
            )),
        }
    }
}

/// The Rego worker: `WORKER_ARGUMENT TIME_MS MEMORY_BYTES POLICY...`, the input JSON on
/// standard input (or `WORKER_ARGUMENT TIME_MS MEMORY_BYTES --compliance`, for
/// [`crate::compliance`]); caps its own address space, evaluates, and prints `allow` or `deny` and the
/// reason. Returns the exit code (0 for either verdict; anything else is a failure to decide).
pub fn worker_main(args: &[std::ffi::OsString]) -> i32 {
    use std::io::{Read as _, Write as _};
    let mut args = args.iter();
    let (Some(time), Some(memory)) = (
        args.next()
            .and_then(|arg| arg.to_str()?.parse::<u64>().ok()),
        args.next()
            .and_then(|arg| arg.to_str()?.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: {WORKER_ARGUMENT} TIME_MS MEMORY_BYTES POLICY...");
        return 2;
    };
    // What the process already maps (the binary, its libraries) plus the budget.
    let baseline = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(64 * 1024 * 1024, |pages| pages * 4096);
    let cap = baseline.saturating_add(memory);
    if let Err(error) = rustix::process::setrlimit(
        rustix::process::Resource::As,
        rustix::process::Rlimit {
            current: Some(cap),
            maximum: Some(cap),
        },
    ) {
        eprintln!("capping the evaluator's memory: {error}");
        return 2;
    }
    let limits = Limits {
        time: Duration::from_millis(time),
        memory,
    };
    let mut args = args.peekable();
    if args
        .peek()
        .is_some_and(|mode| *mode == crate::compliance::WORKER_MODE)
    {
        return crate::compliance::worker(limits);
    }
    let files: Result<Vec<PolicyFile>, PolicyError> =
        args.map(|path| PolicyFile::read(Path::new(path))).collect();
    let policy =
        match files.and_then(|files| RegoPolicy::compile(files, limits, Evaluation::InProcess)) {
            Ok(policy) => policy,
            Err(error) => {
                eprintln!("{error}");
                return 2;
            }
        };
    let mut input = Vec::new();
    if let Err(error) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("reading the input: {error}");
        return 2;
    }
    let answer = match policy.check_here(&input) {
        Ok(()) => "allow\n".to_owned(),
        Err(violation) => format!("deny\n{}\n", violation.message),
    };
    match std::io::stdout().write_all(answer.as_bytes()) {
        Ok(()) => 0,
        Err(_) => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn policy(text: &str, limits: Limits) -> Result<RegoPolicy, PolicyError> {
        RegoPolicy::compile(
            vec![PolicyFile {
                path: PathBuf::from("policy.rego"),
                language: crate::Language::Rego,
                text: text.to_owned(),
            }],
            limits,
            Evaluation::InProcess,
        )
    }

    const STATEMENT: &[u8] = br#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://cyclonedx.org/bom","subject":[],"predicate":{"components":[{"name":"openssl"},{"name":"left-pad"}]}}"#;

    #[test]
    fn a_v0_policy_allows_and_denies_on_the_statement() -> Result<(), PolicyError> {
        let banned = policy(
            "package signature\n\nallow {\n  not banned\n}\n\nbanned {\n  input.predicate.components[_].name == \"left-pad\"\n}\n",
            Limits::default(),
        )?;
        let violation = banned.check(STATEMENT).err();
        assert_eq!(
            violation.map(|v| v.to_string()),
            Some("policy.rego: result is undefined for query 'data.signature.allow'".to_owned())
        );
        let fine = policy(
            "package signature\nallow {\n  input.predicateType == \"https://cyclonedx.org/bom\"\n}\n",
            Limits::default(),
        )?;
        assert_eq!(fine.check(STATEMENT), Ok(()));
        Ok(())
    }

    #[test]
    fn only_true_allows() -> Result<(), PolicyError> {
        let not_true = policy("package signature\nallow = \"yes\"\n", Limits::default())?;
        let message = not_true.check(STATEMENT).err().map(|v| v.message);
        assert_eq!(
            message.as_deref(),
            Some("expression value, \"yes\", is not true")
        );
        let false_with_print = policy(
            "package signature\ndefault allow = false\nallow { print(\"banned:\", input.predicate.components[1].name); false }\n",
            Limits::default(),
        )?;
        let message = false_with_print.check(STATEMENT).err().map(|v| v.message);
        assert!(
            message.as_deref().is_some_and(|m| m
                .starts_with("expression value, false, is not true; the policy printed:")
                && m.contains("left-pad")),
            "{message:?}"
        );
        Ok(())
    }

    #[test]
    fn another_package_is_undefined() -> Result<(), PolicyError> {
        let elsewhere = policy("package other\nallow = true\n", Limits::default())?;
        assert!(elsewhere.check(STATEMENT).is_err());
        Ok(())
    }

    #[test]
    fn a_malformed_policy_is_named() {
        let error = policy("package signature\nallow {", Limits::default()).err();
        assert!(
            matches!(&error, Some(PolicyError::Malformed { path, .. }) if path == &PathBuf::from("policy.rego")),
            "{error:?}"
        );
    }

    #[test]
    fn a_loop_is_stopped_by_the_time_limit() -> Result<(), PolicyError> {
        let limits = Limits {
            time: Duration::from_millis(300),
            ..Limits::default()
        };
        let spinning = policy(
            "package signature\nallow { r := numbers.range(1, 5000); some i, j, k; r[i] + r[j] + r[k] == -1 }\n",
            limits,
        )?;
        let message = spinning.check(STATEMENT).err().map(|v| v.message);
        assert!(
            message
                .as_deref()
                .is_some_and(|m| m.starts_with("evaluation stopped: execution exceeded time limit")),
            "{message:?}"
        );
        Ok(())
    }
}
