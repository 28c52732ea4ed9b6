//! The query/form parser: the decoded parameters every signature is computed over.

/// The `name=value` pairs of `application/x-www-form-urlencoded` bytes (a query string or a form
/// body), decoded, in order, with the rules of `form_urlencoded::parse`: empty sequences between
/// `&` are skipped, a sequence without `=` has an empty value, `+` is a space and `%XX` a byte,
/// invalid UTF-8 is replaced. Each part is decoded in one pass into a buffer of its size. Never
/// panics, whatever the bytes (fuzzed: `crates/yaoshi-fuzz`).
#[must_use]
pub fn parse_form(input: &[u8]) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for sequence in input.split(|&b| b == b'&').filter(|s| !s.is_empty()) {
        let (name, value) = match sequence.iter().position(|&b| b == b'=') {
            Some(i) => (&sequence[..i], &sequence[i + 1..]),
            None => (sequence, &[][..]),
        };
        pairs.push((decode_component(name), decode_component(value)));
    }
    pairs
}

/// `+` → space, `%XX` → the byte (a `%` not followed by two hex digits stays as it is), then UTF-8
/// with invalid sequences replaced by U+FFFD.
fn decode_component(input: &[u8]) -> String {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |j: usize| input.get(j).and_then(|&h| char::from(h).to_digit(16));
                if let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) {
                    // Two hex digits make one byte.
                    out.push(u8::try_from(hi * 16 + lo).unwrap_or_default());
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            _ => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}
