//! The current time as RFC 3339 UTC (`2026-11-25T16:34:43Z`), for annotations.

/// Now, as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339_utc_now() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    rfc3339_utc(seconds)
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339_utc(seconds: u64) -> String {
    cosign_core::trust::trusted_root::format_rfc3339(i64::try_from(seconds).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_795_624_483), "2026-11-25T16:34:43Z");
    }
}
