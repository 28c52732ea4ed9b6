//! Wraps fuzz input in a PEM envelope, so the DER parsers behind PEM readers see the raw bytes
//! (shared by the targets that read PEM: `mod pem_envelope;`).

/// `data` as the Base64 body of a PEM block labelled `label`.
pub fn pem(label: &str, data: &[u8]) -> String {
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", base64(data))
}

/// Standard Base64 with padding, on one line (no dependency: the fuzz crate stays small).
fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
