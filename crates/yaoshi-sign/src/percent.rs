//! RFC 3986 percent-encoding as Alibaba Cloud request signing requires.

/// Percent-encodes `s` the way Alibaba Cloud signatures require (RFC 3986 unreserved set).
///
/// Keeps `A-Z a-z 0-9 - _ . ~`; every other byte of the UTF-8 encoding becomes `%XX` with
/// upper-case hex. So a space is `%20` (never `+`), `*` is `%2A`, `~` stays, and `!'()` are
/// encoded.
#[must_use]
pub fn percent_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &byte in s.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}
