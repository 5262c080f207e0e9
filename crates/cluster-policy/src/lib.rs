//! cosign-cluster-policy: Sigstore policy-controller's policies (issue 15), the library the
//! admission webhook and `policy-controller test` share. `ClusterImagePolicy` (`v1beta1`, and
//! `v1alpha1`, which has the same fields) and `TrustRoot` are read from YAML ([`load`]),
//! defaulted and validated with policy-controller's rules and messages ([`validate`], errors
//! as Kubernetes reports them: [`field_error`]), and matched against images by its globs
//! ([`glob`]) and against the resource that deploys them by their `match` ([`resource`]); an
//! image is judged by the policies that apply to it with the shared verifier
//! ([`evaluate`]).
#![forbid(unsafe_code)]

pub mod evaluate;
pub mod field_error;
pub mod glob;
pub mod load;
pub mod model;
pub mod resource;
pub mod trust_root;
pub mod validate;

pub use field_error::{FieldError, FieldErrors, Level};
pub use glob::{Glob, GlobError};
pub use load::{load, load_file, read_file, FileError, LoadError, Loaded, TrustRoot};
pub use model::ClusterImagePolicy;

impl ClusterImagePolicy {
    /// Whether any of the policy's globs matches `image` (policy-controller applies every
    /// policy one of whose globs does).
    pub fn applies_to(&self, image: &str) -> Result<bool, GlobError> {
        for pattern in &self.spec.images {
            if Glob::compile(&pattern.glob)?.matches(image)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests;
