//! Rego policies, evaluated in process by `regorus`, as cosign evaluates them with OPA
//! (`pkg/cosign/rego`): every file is parsed as Rego v0 into one set of modules, the query is
//! `data.signature.allow`, the input is the statement, and the input is allowed only when the
//! query gives exactly one result whose one expression is `true`.
//!
//! Unlike cosign, an evaluation is bounded: it stops after [`Limits::time`](crate::Limits) and
//! when it would bring the process over [`Limits::memory`](crate::Limits), and a failure names
//! the policy files and repeats what the policy printed (`print(...)`).

use std::num::NonZeroU32;
use std::path::PathBuf;

use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, LimitError, Value};

use crate::{Limits, PolicyError, PolicyFile, Violation};

/// cosign's query.
pub const QUERY: &str = "data.signature.allow";

/// Rego files compiled together, ready to evaluate inputs.
#[derive(Debug)]
pub struct RegoPolicy {
    engine: Engine,
    paths: Vec<PathBuf>,
    limits: Limits,
}

impl RegoPolicy {
    /// Parses every file (Rego v0, as cosign's OPA is told); a file that does not parse is
    /// named with the parser's message.
    pub fn compile(files: Vec<PolicyFile>, limits: Limits) -> Result<Self, PolicyError> {
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
        })
    }

    /// The files, in the order given.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Evaluates the policy against `input` (a JSON document).
    pub fn check(&self, input: &[u8]) -> Result<(), Violation> {
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
        // Process-wide in regorus; left set (every policy of a process has the same limit).
        regorus::set_global_memory_limit(Some(self.limits.memory));
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

    #[test]
    fn an_allocation_without_bound_is_stopped_by_the_memory_limit() -> Result<(), PolicyError> {
        let hungry = policy(
            "package signature\nallow { x := [i | i := numbers.range(1, 1000000000)[_]]; count(x) > 0 }\n",
            Limits::default(),
        )?;
        let message = hungry.check(STATEMENT).err().map(|v| v.message);
        assert!(
            message.as_deref().is_some_and(
                |m| m.starts_with("evaluation stopped: execution exceeded memory limit")
            ),
            "{message:?}"
        );
        Ok(())
    }
}
