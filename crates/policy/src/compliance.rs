//! Inline policies as Sigstore policy-controller evaluates them (a `ClusterImagePolicy`'s
//! attestation `policy` and its policy-level `policy`), which is not how `cosign
//! verify-attestation --policy` does:
//!
//! - the policy is text in the resource, of `type: rego` or `type: cue`;
//! - Rego: the text is the module `sigstore.rego` (Rego v0); the query is
//!   `isCompliant = data.sigstore.isCompliant`. `true` is compliant. A set or an array of
//!   `{"result": bool, "warning": string, "error": string}` objects is compliant when one has
//!   `result: true`, with a warning when that one has one. Anything else (false, undefined, an
//!   object) is not compliant.
//! - CUE: the input must unify with the policy (incomplete values allowed), which `cue vet`
//!   checks ([`crate::cue`]).
//!
//! policy-controller counts a compliant answer that carries a warning as a failure (it stops
//! at any warning), and so does [`evaluate`]; the message is its.
//!
//! Rego runs in the worker process ([`Evaluation::Worker`]) with the same time and memory
//! limits as cosign-style policies.

use std::path::Path;
use std::time::Duration;

use regorus::{Engine, LimitError, Value};

use crate::child::{self, Stopped};
use crate::rego::{Evaluation, WORKER_ARGUMENT};
use crate::{Limits, PolicyFile};

/// The module name policy-controller gives the policy text.
pub const MODULE: &str = "sigstore.rego";
/// policy-controller's query (it binds the rule's value to a variable of the same name).
pub const QUERY: &str = "isCompliant = data.sigstore.isCompliant";
/// The worker's argument for this kind of evaluation (after the time and memory limits).
pub const WORKER_MODE: &str = "--compliance";

/// The most of a worker's answer read.
const ANSWER_LIMIT: u64 = 256 * 1024;

/// A policy's language, as the resource's `type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyType {
    Rego,
    Cue,
}

impl PolicyType {
    pub fn parse(type_: &str) -> Option<Self> {
        match type_ {
            "rego" => Some(Self::Rego),
            "cue" => Some(Self::Cue),
            _ => None,
        }
    }
}

/// What a Rego policy said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegoAnswer {
    Compliant,
    /// Compliant, with this warning.
    Warning(String),
    /// Not compliant: the error (as policy-controller words it).
    NotCompliant(String),
}

/// Evaluates `policy` (of `type_`) against `input` (JSON), as policy-controller's
/// `EvaluatePolicyAgainstJSON` does for the attestation or policy called `name`. `Ok` only when
/// compliant without a warning; otherwise policy-controller's message.
pub fn evaluate(
    name: &str,
    type_: &str,
    policy: &str,
    input: &[u8],
    limits: Limits,
    evaluation: &Evaluation,
) -> Result<(), String> {
    match PolicyType::parse(type_) {
        Some(PolicyType::Cue) => evaluate_cue(policy, input, limits).map_err(|error| {
            format!("failed evaluating cue policy for {name}: failed to evaluate the policy with error: {error}")
        }),
        Some(PolicyType::Rego) => {
            let answer = match evaluation {
                Evaluation::InProcess => rego_here(policy, input, limits),
                Evaluation::Worker { program } => rego_in_worker(program, policy, input, limits),
            };
            match answer {
                RegoAnswer::Compliant => Ok(()),
                RegoAnswer::Warning(warning) => Err(format!("warning: {warning}")),
                RegoAnswer::NotCompliant(error) => Err(format!(
                    "failed evaluating rego policy for type {name}: {error}"
                )),
            }
        }
        None => Err(format!("sorry Type {type_} is not supported yet")),
    }
}

/// `cue vet POLICY json: -` with the policy in a private scratch file.
fn evaluate_cue(policy: &str, input: &[u8], limits: Limits) -> Result<(), String> {
    let tool = crate::cue::find_tool().map_err(|error| {
        let hint = error
            .hint()
            .map(|hint| format!(" ({hint})"))
            .unwrap_or_default();
        format!("{error}{hint}")
    })?;
    let scratch = tempfile::Builder::new()
        .prefix("cosign-rs-cue-")
        .tempdir()
        .map_err(|error| format!("a scratch directory for the CUE policy: {error}"))?;
    let path = scratch.path().join("policy.cue");
    std::fs::write(&path, policy)
        .map_err(|error| format!("writing the CUE policy to {}: {error}", path.display()))?;
    let file = PolicyFile {
        path: path.clone(),
        language: crate::Language::Cue,
        text: String::new(),
    };
    crate::cue::CuePolicy::new(vec![file], tool, limits)
        .check(input)
        .map_err(|violation| {
            // `cue vet` names the scratch file; the policy has no file of its own.
            violation
                .message
                .replace(&format!("{}:", path.display()), "policy:")
                .replace(&path.display().to_string(), "policy")
        })
}

/// Evaluates a Rego policy here, in this process (the time limit holds, not the memory one).
pub fn rego_here(policy: &str, input: &[u8], limits: Limits) -> RegoAnswer {
    let not_compliant = RegoAnswer::NotCompliant;
    let mut engine = Engine::new();
    engine.set_rego_v0(true);
    engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit: limits.time,
        check_interval: std::num::NonZeroU32::MIN.saturating_add(63),
    });
    if let Err(error) = engine.add_policy(MODULE.to_owned(), policy.to_owned()) {
        return not_compliant(error.to_string());
    }
    let Ok(text) = std::str::from_utf8(input) else {
        return not_compliant("the input is not UTF-8 JSON".to_owned());
    };
    match Value::from_json_str(text) {
        Ok(value) => engine.set_input(value),
        Err(error) => return not_compliant(format!("parsing the input: {error}")),
    }
    // A query, not `eval_rule`: an undefined rule is no result, not an error.
    let value = match engine.eval_query("data.sigstore.isCompliant".to_owned(), false) {
        Ok(results) => results
            .result
            .into_iter()
            .next()
            .and_then(|result| result.expressions.into_iter().next())
            .map_or(Value::Undefined, |expression| expression.value),
        Err(error) => {
            return not_compliant(match error.downcast_ref::<LimitError>() {
                Some(limit) => format!("evaluation stopped: {limit}"),
                None => error.to_string(),
            })
        }
    };
    answer_of(&value)
}

/// policy-controller's reading of the rule's value.
fn answer_of(value: &Value) -> RegoAnswer {
    let results: Vec<&Value> = match value {
        Value::Bool(true) => return RegoAnswer::Compliant,
        Value::Array(items) => items.iter().collect(),
        Value::Set(items) => items.iter().collect(),
        _ => {
            return RegoAnswer::NotCompliant(format!("policy is not compliant for query '{QUERY}'"))
        }
    };
    let mut answer =
        RegoAnswer::NotCompliant(format!("policy is not compliant for query \"{QUERY}\""));
    for result in results {
        let Value::Object(fields) = result else {
            return RegoAnswer::NotCompliant(format!(
                "policy is not compliant for query '{QUERY}': unexpected result type {}",
                go_type(result)
            ));
        };
        let text = |key: &str| -> Result<String, String> {
            match fields.get(&Value::String(key.into())) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(text)) => Ok(text.to_string()),
                Some(other) => Err(format!(
                    "policy is not compliant for query '{QUERY}' due to parsing errors: json: cannot unmarshal {} into Go struct field CosignRuleResult.{key} of type string",
                    json_kind(other)
                )),
            }
        };
        let compliant = match fields.get(&Value::String("result".into())) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(result)) => *result,
            Some(other) => {
                return RegoAnswer::NotCompliant(format!(
                    "policy is not compliant for query '{QUERY}' due to parsing errors: json: cannot unmarshal {} into Go struct field CosignRuleResult.result of type bool",
                    json_kind(other)
                ))
            }
        };
        let (warning, error) = match (text("warning"), text("error")) {
            (Ok(warning), Ok(error)) => (warning, error),
            (Err(why), _) | (_, Err(why)) => return RegoAnswer::NotCompliant(why),
        };
        if compliant {
            return if warning.is_empty() {
                RegoAnswer::Compliant
            } else {
                RegoAnswer::Warning(warning)
            };
        }
        answer = RegoAnswer::NotCompliant(format!(
            "policy is not compliant for query '{QUERY}' with errors: {error}"
        ));
    }
    answer
}

/// A JSON value's kind, as Go's decoder names it in a type error.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) | Value::Set(_) => "array",
        Value::Object(_) => "object",
        _ => "null",
    }
}

/// A Rego value's Go type, as OPA hands it over.
fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "bool",
        Value::Number(_) => "json.Number",
        Value::String(_) => "string",
        Value::Array(_) | Value::Set(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
        _ => "<nil>",
    }
}

/// Starts a worker for one evaluation: `program WORKER_ARGUMENT TIME MEMORY --compliance`, with
/// the module's length, a newline, the module and the input on standard input.
fn rego_in_worker(program: &Path, policy: &str, input: &[u8], limits: Limits) -> RegoAnswer {
    let mut command = std::process::Command::new(program);
    command
        .arg(WORKER_ARGUMENT)
        .arg(limits.time.as_millis().to_string())
        .arg(limits.memory.to_string())
        .arg(WORKER_MODE);
    let mut request = format!("{}\n", policy.len()).into_bytes();
    request.extend_from_slice(policy.as_bytes());
    request.extend_from_slice(input);
    let deadline = limits.time + Duration::from_secs(2);
    let finished = match child::run(command, &request, deadline, ANSWER_LIMIT) {
        Ok(finished) => finished,
        Err(error) => {
            return RegoAnswer::NotCompliant(format!("starting the Rego evaluator: {error}"))
        }
    };
    let answer = String::from_utf8_lossy(&finished.stdout);
    match finished.status {
        Err(Stopped::Deadline(_)) => RegoAnswer::NotCompliant(format!(
            "evaluation stopped: execution exceeded time limit ({} s)",
            limits.time.as_secs_f64()
        )),
        Err(Stopped::Wait(error)) => {
            RegoAnswer::NotCompliant(format!("waiting for the Rego evaluator: {error}"))
        }
        Ok(status) if status.success() => parse_answer(&answer).unwrap_or_else(|| {
            RegoAnswer::NotCompliant("the Rego evaluator gave no answer".to_owned())
        }),
        Ok(_) => {
            let said = String::from_utf8_lossy(&finished.stderr);
            if said.contains("memory allocation") || answer.is_empty() {
                RegoAnswer::NotCompliant(format!(
                    "evaluation stopped: execution exceeded memory limit ({} MiB)",
                    limits.memory / (1024 * 1024)
                ))
            } else {
                RegoAnswer::NotCompliant(format!("the Rego evaluator failed: {}", said.trim_end()))
            }
        }
    }
}

fn format_answer(answer: &RegoAnswer) -> String {
    match answer {
        RegoAnswer::Compliant => "compliant\n".to_owned(),
        RegoAnswer::Warning(warning) => format!("warning\n{warning}"),
        RegoAnswer::NotCompliant(error) => format!("not-compliant\n{error}"),
    }
}

fn parse_answer(answer: &str) -> Option<RegoAnswer> {
    let (verdict, text) = answer.split_once('\n')?;
    match verdict {
        "compliant" => Some(RegoAnswer::Compliant),
        "warning" => Some(RegoAnswer::Warning(text.to_owned())),
        "not-compliant" => Some(RegoAnswer::NotCompliant(text.to_owned())),
        _ => None,
    }
}

/// The worker's side: reads the request from standard input, evaluates, prints the answer.
pub(crate) fn worker(limits: Limits) -> i32 {
    use std::io::{Read as _, Write as _};
    let mut request = Vec::new();
    if let Err(error) = std::io::stdin().read_to_end(&mut request) {
        eprintln!("reading the request: {error}");
        return 2;
    }
    let Some((length, rest)) = request
        .iter()
        .position(|byte| *byte == b'\n')
        .map(|newline| request.split_at(newline))
    else {
        eprintln!("the request has no length line");
        return 2;
    };
    let rest = rest.get(1..).unwrap_or_default();
    let length = std::str::from_utf8(length)
        .ok()
        .and_then(|text| text.parse::<usize>().ok());
    let Some((module, input)) = length
        .filter(|length| *length <= rest.len())
        .map(|length| rest.split_at(length))
    else {
        eprintln!("the request's module length is wrong");
        return 2;
    };
    let answer = match std::str::from_utf8(module) {
        Ok(module) => rego_here(module, input, limits),
        Err(_) => RegoAnswer::NotCompliant("the policy is not UTF-8 text".to_owned()),
    };
    match std::io::stdout().write_all(format_answer(&answer).as_bytes()) {
        Ok(()) => 0,
        Err(_) => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SBOM: &[u8] = br#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://cyclonedx.org/bom","subject":[],"predicate":{"components":[{"name":"openssl"},{"name":"left-pad"}]}}"#;

    fn rego(policy: &str) -> Result<(), String> {
        evaluate(
            "sbom",
            "rego",
            policy,
            SBOM,
            Limits::default(),
            &Evaluation::InProcess,
        )
    }

    #[test]
    fn a_true_rule_is_compliant_and_anything_else_is_not() {
        assert_eq!(rego("package sigstore\nisCompliant = true\n"), Ok(()));
        let query_quoted =
            "failed evaluating rego policy for type sbom: policy is not compliant for query 'isCompliant = data.sigstore.isCompliant'";
        assert_eq!(
            rego("package sigstore\ndefault isCompliant = false\nisCompliant { input.predicate.components[_].name == \"bash\" }\n"),
            Err(query_quoted.to_owned())
        );
        // Undefined, and an object (not a list of them).
        assert_eq!(rego("package sigstore\n"), Err(query_quoted.to_owned()));
        assert_eq!(
            rego("package sigstore\nisCompliant = {\"result\": true}\n"),
            Err(query_quoted.to_owned())
        );
        // Another package is undefined.
        assert_eq!(
            rego("package signature\nisCompliant = true\n"),
            Err(query_quoted.to_owned())
        );
    }

    #[test]
    fn result_objects_carry_errors_and_warnings() {
        let denied = rego(
            "package sigstore\nisCompliant[response] {\n  banned := [c | c := input.predicate.components[_].name; c == \"left-pad\"]\n  response := {\"result\": count(banned) == 0, \"error\": sprintf(\"banned components: %v\", [banned])}\n}\n",
        );
        assert_eq!(
            denied,
            Err("failed evaluating rego policy for type sbom: policy is not compliant for query 'isCompliant = data.sigstore.isCompliant' with errors: banned components: [\"left-pad\"]".to_owned())
        );
        // A compliant answer with a warning stops admission, as in policy-controller.
        let warned = rego(
            "package sigstore\nisCompliant[response] {\n  response := {\"result\": true, \"warning\": \"openssl is old\"}\n}\n",
        );
        assert_eq!(warned, Err("warning: openssl is old".to_owned()));
        assert_eq!(
            rego("package sigstore\nisCompliant = []\n"),
            Err("failed evaluating rego policy for type sbom: policy is not compliant for query \"isCompliant = data.sigstore.isCompliant\"".to_owned())
        );
        assert_eq!(
            rego("package sigstore\nisCompliant = [1]\n"),
            Err("failed evaluating rego policy for type sbom: policy is not compliant for query 'isCompliant = data.sigstore.isCompliant': unexpected result type json.Number".to_owned())
        );
    }

    #[test]
    fn a_broken_module_and_an_unknown_type_are_errors() {
        let broken = rego("package sigstore\nisCompliant {");
        assert!(
            broken.as_ref().is_err_and(
                |message| message.starts_with("failed evaluating rego policy for type sbom: ")
            ),
            "{broken:?}"
        );
        assert_eq!(
            evaluate(
                "sbom",
                "yaml",
                "",
                SBOM,
                Limits::default(),
                &Evaluation::InProcess
            ),
            Err("sorry Type yaml is not supported yet".to_owned())
        );
    }

    #[test]
    fn a_loop_is_stopped() {
        let limits = Limits {
            time: Duration::from_millis(300),
            ..Limits::default()
        };
        let answer = rego_here(
            "package sigstore\nisCompliant { r := numbers.range(1, 5000); some i, j, k; r[i] + r[j] + r[k] == -1 }\n",
            SBOM,
            limits,
        );
        assert!(
            matches!(&answer, RegoAnswer::NotCompliant(message) if message.starts_with("evaluation stopped")),
            "{answer:?}"
        );
    }

    #[test]
    fn answers_cross_the_pipe_unchanged() {
        for answer in [
            RegoAnswer::Compliant,
            RegoAnswer::Warning("two\nlines".to_owned()),
            RegoAnswer::NotCompliant("no".to_owned()),
        ] {
            assert_eq!(parse_answer(&format_answer(&answer)), Some(answer));
        }
    }
}
