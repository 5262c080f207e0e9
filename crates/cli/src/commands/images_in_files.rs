//! `cosign dockerfile verify` and `cosign manifest verify` (deprecated in cosign 3.1, present
//! until 4.0): the images a Dockerfile builds from, or a Kubernetes manifest runs, found as
//! cosign finds them, then verified as `cosign verify` verifies them (all at once, with its
//! flags, output and exit codes).
//!
//! - Dockerfile: every `FROM` image, in order (not `scratch`, not an earlier stage's name), and
//!   every `COPY --from=IMAGE` that is not a stage; `$VAR`/`${VAR}` are replaced from the
//!   file's `ARG`/`ENV` `KEY=VALUE` lines, then the environment (then nothing), as cosign's
//!   line scanner does. `--base-image-only`: the last one. (Stage names are never taken for
//!   images, as in cosign 3.1.2; 3.1.1 took them.)
//! - Manifest (`.yaml`/`.yml`, documents of YAML or JSON): the `initContainers` then
//!   `containers` images of `spec`, `spec.template.spec` and
//!   `spec.jobTemplate.spec.template.spec`, keys matched regardless of case (Go's JSON
//!   decoding), in the order found.

use std::collections::HashMap;
use std::path::Path;

use crate::args::{DockerfileVerifyArgs, ManifestVerifyArgs};
use crate::console::{self, Console};
use crate::error::CliError;
use crate::settings::GlobalSettings;

/// The largest Dockerfile or manifest read.
const FILE_LIMIT: u64 = 16 * 1024 * 1024;

pub async fn dockerfile_verify(
    args: &DockerfileVerifyArgs,
    settings: &GlobalSettings,
    console: &mut Console,
) -> Result<(), CliError> {
    let path = one_path(&args.verify.images)?;
    let text = read(path).map_err(|error| error.context("could not open Dockerfile"))?;
    let environment = |name: &str| std::env::var(name).ok();
    let mut images = dockerfile_images(&text, &environment).map_err(|error| {
        CliError::new(format!("failed extracting images from Dockerfile: {error}"))
    })?;
    if images.is_empty() {
        return Err(CliError::new("no images found in Dockerfile"));
    }
    if args.base_image_only {
        images = images.split_off(images.len() - 1);
    }
    console::info(format_args!("Extracted image(s): {}", images.join(", ")));
    super::verify::run_on(&args.verify, &images, settings, console).await
}

pub async fn manifest_verify(
    args: &ManifestVerifyArgs,
    settings: &GlobalSettings,
    console: &mut Console,
) -> Result<(), CliError> {
    let path = one_path(&args.verify.images)?;
    let extension = Path::new(path.trim())
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_ascii_lowercase);
    if !matches!(extension.as_deref(), Some("yaml" | "yml")) {
        return Err(CliError::new(
            "check if extension is valid: only [.yaml .yml] manifests are supported at this time",
        ));
    }
    let text = read(path).map_err(|error| error.context("could not read manifest"))?;
    let images = manifest_images(&text).map_err(|()| {
        CliError::new("unable to extract the container image references in the manifest unable to decode the manifest")
    })?;
    if images.is_empty() {
        return Err(CliError::new("no images found in manifest"));
    }
    console::info(format_args!("Extracted image(s): {}", images.join(", ")));
    super::verify::run_on(&args.verify, &images, settings, console).await
}

fn one_path(arguments: &[String]) -> Result<&str, CliError> {
    match arguments {
        [path] => Ok(path),
        _ => Err(CliError::usage(format!(
            "accepts 1 arg(s), received {}",
            arguments.len()
        ))),
    }
}

fn read(path: &str) -> Result<String, CliError> {
    let bytes = crate::key_files::read_limited_to(Path::new(path), FILE_LIMIT)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The images of a Dockerfile (see the module's text).
pub fn dockerfile_images(
    text: &str,
    environment: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>, String> {
    let mut variables: HashMap<String, String> = HashMap::new();
    let mut stages: Vec<String> = Vec::new();
    let mut images = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let upper = line.to_uppercase();
        let expand = |text: &str, variables: &HashMap<String, String>| {
            expand(text, &|name| {
                variables
                    .get(name)
                    .cloned()
                    .or_else(|| environment(name))
                    .unwrap_or_default()
            })
        };
        if upper.starts_with("FROM") {
            let expanded = expand(line.strip_prefix("FROM").unwrap_or(line), &variables);
            let mut fields: Vec<&str> = expanded.split_whitespace().collect();
            if let Some(at) = (1..fields.len()).rev().find(|index| {
                fields
                    .get(*index)
                    .is_some_and(|f| f.eq_ignore_ascii_case("AS"))
            }) {
                let Some(stage) = fields.get(at + 1) else {
                    return Err(format!("expected stage name after \"AS\" in line {line:?}"));
                };
                stages.push((*stage).to_owned());
                fields.truncate(at);
            }
            let Some(image) = fields.last() else {
                return Err(format!(
                    "no image found in line {line:?} (is a build arg missing from the environment?)"
                ));
            };
            if *image != "scratch" && !stages.iter().any(|stage| stage == image) {
                images.push((*image).to_owned());
            }
        } else if upper.starts_with("COPY") {
            let expanded = expand(line.strip_prefix("COPY").unwrap_or(line), &variables);
            let from = expanded
                .split_whitespace()
                .filter(|field| field.contains("--from="))
                .filter_map(|field| field.split('=').nth(1))
                .find(|source| !stages.iter().any(|stage| stage == source));
            if let Some(image) = from {
                images.push(image.to_owned());
            }
        } else if upper.starts_with("ENV") || upper.starts_with("ARG") {
            let rest = line.strip_prefix("ENV").unwrap_or(line);
            let rest = rest.strip_prefix("ARG").unwrap_or(rest);
            let expanded = expand(rest, &variables);
            for field in expanded.split_whitespace() {
                let mut parts = field.split('=');
                if let (Some(key), Some(value)) = (parts.next(), parts.next()) {
                    variables.insert(key.trim().to_owned(), value.trim().to_owned());
                }
            }
        }
    }
    Ok(images)
}

/// Go's `os.Expand`: `$NAME` and `${NAME}` replaced by `lookup(NAME)`; `$` before anything
/// else is kept; single-character special names (`$1`, `$@`, ...) are looked up too.
fn expand(text: &str, lookup: &dyn Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let Some(first) = after.chars().next() else {
            out.push('$');
            rest = after;
            break;
        };
        if first == '{' {
            match after.find('}') {
                // `${}`: Go eats the bad syntax.
                Some(1) => rest = &after[2..],
                Some(end) => {
                    out.push_str(&lookup(&after[1..end]));
                    rest = &after[end + 1..];
                }
                // No closing brace: Go eats the `{`.
                None => rest = &after[1..],
            }
        } else if "*#$@!?-".contains(first) || first.is_ascii_digit() {
            out.push_str(&lookup(&after[..first.len_utf8()]));
            rest = &after[first.len_utf8()..];
        } else {
            let length = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if length == 0 {
                out.push('$');
            } else {
                out.push_str(&lookup(&after[..length]));
            }
            rest = &after[length..];
        }
    }
    out.push_str(rest);
    out
}

/// The images of a manifest's documents (see the module's text); `Err` when a document is not
/// YAML or JSON, or a field has the wrong type (as Go's decoding refuses it).
pub fn manifest_images(text: &str) -> Result<Vec<String>, ()> {
    use serde::Deserialize as _;
    let mut images = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        let value = serde_json::Value::deserialize(document).map_err(|_| ())?;
        let spec = field(&value, "spec")?;
        let template_spec = field_of(spec, "template").and_then(|t| field_of(t, "spec"))?;
        let job_spec = field_of(spec, "jobTemplate")
            .and_then(|t| field_of(t, "spec"))
            .and_then(|s| field_of(s, "template"))
            .and_then(|t| field_of(t, "spec"))?;
        for pod_spec in [spec, template_spec, job_spec].into_iter().flatten() {
            for list in ["initContainers", "containers"] {
                let Some(containers) = field(pod_spec, list)? else {
                    continue;
                };
                let containers = match containers {
                    serde_json::Value::Array(containers) => containers,
                    _ => return Err(()),
                };
                for container in containers {
                    match field(container, "image")? {
                        None => {}
                        Some(serde_json::Value::String(image)) if !image.is_empty() => {
                            images.push(image.clone())
                        }
                        Some(serde_json::Value::String(_)) => {}
                        Some(_) => return Err(()),
                    }
                }
            }
        }
    }
    Ok(images)
}

/// A field of an object, its name matched as Go's JSON decoding matches it (exactly, else
/// regardless of case); `null` is absent; a value that is not an object (or null) is an error.
fn field<'a>(
    value: &'a serde_json::Value,
    name: &str,
) -> Result<Option<&'a serde_json::Value>, ()> {
    let object = match value {
        serde_json::Value::Object(object) => object,
        serde_json::Value::Null => return Ok(None),
        _ => return Err(()),
    };
    let found = object.get(name).or_else(|| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    });
    Ok(found.filter(|value| !value.is_null()))
}

fn field_of<'a>(
    value: Option<&'a serde_json::Value>,
    name: &str,
) -> Result<Option<&'a serde_json::Value>, ()> {
    match value {
        Some(value) => field(value, name),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(name: &str) -> Option<String> {
        (name == "REGISTRY").then(|| "registry.example".to_owned())
    }

    #[test]
    fn dockerfile_images_are_found_as_cosign_finds_them() {
        let dockerfile = "ARG VERSION=3.19\nFROM --platform=$BUILDPLATFORM golang:1.22 AS build\nRUN go build\nFROM build AS test\nFROM scratch\nCOPY --from=build /app /app\nCOPY --from=${REGISTRY}/tools:v1 /bin/tool /bin/\nfrom alpine:${VERSION}\n";
        assert_eq!(
            dockerfile_images(dockerfile, &environment),
            Ok(vec![
                "golang:1.22".to_owned(),
                "registry.example/tools:v1".to_owned(),
                "alpine:3.19".to_owned(),
            ])
        );
        assert_eq!(
            dockerfile_images("FROM alpine AS\n", &environment),
            Err("expected stage name after \"AS\" in line \"FROM alpine AS\"".to_owned())
        );
        assert_eq!(
            dockerfile_images("FROM $MISSING\n", &environment),
            Err("no image found in line \"FROM $MISSING\" (is a build arg missing from the environment?)".to_owned())
        );
    }

    #[test]
    fn variables_expand_as_go_expands_them() {
        let lookup = |name: &str| format!("<{name}>");
        assert_eq!(
            expand("a$B c${D}e $1 $ $. ${} ${x", &lookup),
            "a<B> c<D>e <1> $ $.  x"
        );
    }

    #[test]
    fn manifest_images_come_from_every_pod_spec() {
        let manifest = "apiVersion: v1\nkind: Pod\nspec:\n  initContainers: [{name: i, image: init:1}]\n  containers: [{name: a, image: app:1}, {name: b}]\n---\napiVersion: apps/v1\nkind: Deployment\nSpec:\n  template:\n    spec:\n      containers: [{name: w, Image: web:2}]\n---\n{\"kind\": \"CronJob\", \"spec\": {\"jobTemplate\": {\"spec\": {\"template\": {\"spec\": {\"containers\": [{\"image\": \"job:3\"}]}}}}}}\n---\napiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n";
        assert_eq!(
            manifest_images(manifest),
            Ok(vec![
                "init:1".to_owned(),
                "app:1".to_owned(),
                "web:2".to_owned(),
                "job:3".to_owned()
            ])
        );
        assert_eq!(manifest_images("spec:\n  containers: app\n"), Err(()));
        assert_eq!(manifest_images("spec: [\n"), Err(()));
    }
}
