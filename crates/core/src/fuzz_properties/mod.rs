//! Property-based robustness tests of every parser of untrusted input: arbitrary bytes, and
//! structure-aware mutations of valid samples (real fixtures or what the code itself writes),
//! must give `Ok` or `Err`, never a panic, in bounded time and memory; inputs over a
//! documented cap are refused before they are parsed.
//!
//! `mutate` holds the strategies; one module per area. Fixtures under `fixtures/` come from
//! the Sigstore conformance suite (`bundle-verify`), so that these tests stand alone.
//!
//! Case counts are kept small for the test suite; `PROPTEST_CASES=5000 cargo test -p
//! cosign-core --lib fuzz_properties` fuzzes longer. The bounded-time tests of huge PEM
//! inputs and reversed DER sets reproduce two defects these properties found (a quadratic PEM
//! reader, the `der` crate's quadratic `SET OF` sort), kept as regression tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod bundle;
mod keyless;
mod keys;
mod mutate;
mod oci;
mod tlog;
mod x509;
