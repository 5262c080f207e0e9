//! A linear scan of DER from untrusted sources before the `der` crate parses it: that crate
//! sorts each decoded `SET OF` with an insertion sort, so a set of thousands of elements in
//! reverse order costs seconds (a timestamp's unsigned `digestAlgorithms` can be padded with
//! them and still verify). No certificate, timestamp or key Sigstore uses has a set of more
//! than a few elements; one of more than [`SET_ELEMENT_LIMIT`] is refused before parsing.
//!
//! Sets are `SET` (tag 0x31) and context-specific constructed tags (which may be an implicit
//! `SET OF`, as CMS's `certificates [0]`). DER wrapped in an `OCTET STRING` or `BIT STRING`
//! (an encapsulated `TSTInfo`, a certificate extension) is scanned too when it parses as DER.

/// The most elements a set may have.
pub const SET_ELEMENT_LIMIT: usize = 256;
/// How deep the scan goes (deeper content is left to the parser's own limits).
const DEPTH_LIMIT: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("DER set with more than {SET_ELEMENT_LIMIT} elements")]
pub struct TooManySetElements;

/// Refuses DER holding a set of more than [`SET_ELEMENT_LIMIT`] elements. Malformed DER is
/// not an error here: the parser reports it.
pub fn check(der: &[u8]) -> Result<(), TooManySetElements> {
    scan(der, 0, false).map(|_| ())
}

/// One element's tag byte, where its content starts and ends.
struct Element {
    tag: u8,
    content: usize,
    end: usize,
}

fn element_at(der: &[u8], at: usize) -> Option<Element> {
    let tag = *der.get(at)?;
    let mut position = at + 1;
    if tag & 0x1f == 0x1f {
        // High tag numbers: base-128 bytes, the last without its top bit.
        for _ in 0..4 {
            let byte = *der.get(position)?;
            position += 1;
            if byte & 0x80 == 0 {
                break;
            }
        }
    }
    let first = *der.get(position)?;
    position += 1;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let mut length = 0usize;
        for _ in 0..count {
            length = (length << 8) | usize::from(*der.get(position)?);
            position += 1;
        }
        length
    };
    let end = position.checked_add(length)?;
    (end <= der.len()).then_some(Element {
        tag,
        content: position,
        end,
    })
}

/// Scans the elements of `der` (all of it, one after another); `Ok(false)` if they are not
/// well-formed DER filling it exactly.
fn scan(der: &[u8], depth: usize, counted: bool) -> Result<bool, TooManySetElements> {
    if depth > DEPTH_LIMIT {
        return Ok(true);
    }
    let mut at = 0;
    let mut elements = 0usize;
    while at < der.len() {
        let Some(element) = element_at(der, at) else {
            return Ok(false);
        };
        elements += 1;
        if counted && elements > SET_ELEMENT_LIMIT {
            return Err(TooManySetElements);
        }
        let content = der.get(element.content..element.end).unwrap_or_default();
        let constructed = element.tag & 0x20 != 0;
        if constructed {
            let is_set = element.tag == 0x31 || element.tag & 0xe0 == 0xa0;
            scan(content, depth + 1, is_set)?;
        } else if element.tag == 0x04 {
            scan(content, depth + 1, false)?;
        } else if element.tag == 0x03 {
            scan(content.get(1..).unwrap_or_default(), depth + 1, false)?;
        }
        at = element.end;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_of(count: usize) -> Vec<u8> {
        let element = [0x02, 0x01, 0x01];
        let content: Vec<u8> = element
            .iter()
            .copied()
            .cycle()
            .take(element.len() * count)
            .collect();
        let mut out = vec![0x31, 0x83];
        let length = content.len();
        out.extend([(length >> 16) as u8, (length >> 8) as u8, length as u8]);
        out.extend(content);
        out
    }

    #[test]
    fn refuses_huge_sets_anywhere_and_accepts_the_rest() {
        assert!(check(&set_of(SET_ELEMENT_LIMIT)).is_ok());
        assert_eq!(
            check(&set_of(SET_ELEMENT_LIMIT + 1)),
            Err(TooManySetElements)
        );
        // Inside a sequence, and inside an OCTET STRING holding DER.
        let mut sequence = vec![0x30, 0x83];
        let inner = set_of(SET_ELEMENT_LIMIT + 1);
        let length = inner.len();
        sequence.extend([(length >> 16) as u8, (length >> 8) as u8, length as u8]);
        sequence.extend(&inner);
        assert!(check(&sequence).is_err());
        let mut octets = vec![0x04, 0x83];
        octets.extend([(length >> 16) as u8, (length >> 8) as u8, length as u8]);
        octets.extend(&inner);
        assert!(check(&octets).is_err());
        // Malformed input is the parser's business.
        assert!(check(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_ok());
        assert!(check(b"not der at all").is_ok());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = check(&bytes);
        }
    }
}
