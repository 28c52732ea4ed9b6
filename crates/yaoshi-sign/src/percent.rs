//! RFC 3986 percent-encoding as Alibaba Cloud request signing requires.

/// Percent-encodes `s` the way Alibaba Cloud signatures require (RFC 3986 unreserved set).
///
/// Keeps `A-Z a-z 0-9 - _ . ~`; every other byte of the UTF-8 encoding becomes `%XX` with
/// upper-case hex. So a space is `%20` (never `+`), `*` is `%2A`, `~` stays, and `!'()` are
/// encoded.
#[must_use]
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    percent_encode_into(&mut out, s, "%");
    out
}

/// Appends `s` percent-encoded to `out`, writing `escape` (`"%"`, or `"%25"` to encode twice in
/// one pass) before the two hex digits of each encoded byte. Runs of unreserved bytes are copied
/// as they are.
pub(crate) fn percent_encode_into(out: &mut String, s: &str, escape: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut rest = s;
    while let Some(i) = rest.bytes().position(|b| !is_unreserved(b)) {
        // Every byte before `i` is ASCII, so `i` starts a character: encode all its bytes.
        out.push_str(&rest[..i]);
        let len = match rest.as_bytes()[i] {
            b if b < 0x80 => 1,
            b if b < 0xE0 => 2,
            b if b < 0xF0 => 3,
            _ => 4,
        };
        for &byte in &rest.as_bytes()[i..i + len] {
            out.push_str(escape);
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        rest = &rest[i + len..];
    }
    out.push_str(rest);
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~')
}
