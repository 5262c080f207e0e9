//! A key password: bytes that are wiped on drop and never printed.

use zeroize::Zeroizing;

/// The password protecting a `cosign.key`. cosign takes it byte for byte (a password read from
/// standard input keeps its trailing newline), so this holds bytes, not text.
#[derive(Clone, Default)]
pub struct Password(Zeroizing<Vec<u8>>);

impl Password {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Zeroizing::new(bytes.into()))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl PartialEq for Password {
    fn eq(&self, other: &Self) -> bool {
        // Only used to compare a password with its confirmation; constant time is not needed
        // there, but it costs nothing.
        let (a, b) = (self.as_bytes(), other.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_its_bytes() {
        let password = Password::new(b"hunter2".to_vec());
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
    }

    #[test]
    fn compares_by_value() {
        assert_eq!(Password::new(b"a".to_vec()), Password::new(b"a".to_vec()));
        assert_ne!(Password::new(b"a".to_vec()), Password::new(b"a\n".to_vec()));
    }
}
