//! JSON text exactly as Go's `encoding/json` writes it, for the bytes that get signed or
//! hashed: compact, with Go's HTML-safe string escaping (`<`, `>`, `&`, U+2028, U+2029).

/// Appends `value` as a Go-encoded JSON string (with quotes) to `out`.
pub fn push_string(out: &mut String, value: &str) {
    out.push('"');
    for character in value.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A Go-encoded JSON string.
pub fn string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    push_string(&mut out, value);
    out
}

/// Serializes any `serde` value compactly, then rewrites string escapes to Go's. serde_json and
/// Go agree on everything else for the types we write (structs in declaration order, maps as
/// `BTreeMap` in key order, integers).
pub fn to_vec<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let text = serde_json::to_string(value)?;
    if !text.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return Ok(text.into_bytes());
    }
    // Only inside strings can these characters appear in JSON text.
    let mut out = String::with_capacity(text.len() + 16);
    for character in text.chars() {
        match character {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_go() {
        assert_eq!(
            string("a<b>&c\"\\\n\u{1}\u{2028}é"),
            r#""a\u003cb\u003e\u0026c\"\\\n\u0001\u2028é""#
        );
        let map: std::collections::BTreeMap<&str, &str> = [("k", "<v>")].into_iter().collect();
        assert_eq!(
            to_vec(&map).expect("json"),
            br#"{"k":"\u003cv\u003e"}"#.to_vec()
        );
    }
}
