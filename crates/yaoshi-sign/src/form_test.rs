//! The form parser against `form_urlencoded`.

use crate::parse_form;

/// The one-pass decoder splits and decodes exactly as `form_urlencoded::parse`.
#[test]
fn decoding_matches_form_urlencoded() {
    let cases: &[&[u8]] = &[
        b"",
        b"&&&",
        b"a",
        b"a=",
        b"=b",
        b"=",
        b"a=b=c&&d&e=%",
        b"k=%2",
        b"k=%zz%2g%G1%%41%4a%4A+%2B+",
        b"Plaintext=aGVs%2BbG8%2F%3D&Timestamp=2026-11-23T00%3A31%3A07Z",
        b"k=%C3%A9%E5%AF%86+%F0%9F%98%80",
        b"k=%FF%C3&v=%C3%28&w=\xc3\xa9",
        b"%41%3d=%26&x%20y=1",
        "é=密钥&😀".as_bytes(),
        &[b'k', b'=', 0xff, 0xfe, b'%', b'4', b'1'],
    ];
    let mut seed = 7u32;
    let mut random_cases = Vec::new();
    for _ in 0..2000 {
        let len = 1 + (seed % 24) as usize;
        let mut case = Vec::new();
        for _ in 0..len {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let alphabet = b"%+=&aF9g\xc3\xa9\xff2";
            case.push(alphabet[(seed >> 16) as usize % alphabet.len()]);
        }
        random_cases.push(case);
    }
    for case in cases.iter().copied().chain(random_cases.iter().map(Vec::as_slice)) {
        let ours = parse_form(case);
        let theirs: Vec<(String, String)> = form_urlencoded::parse(case).into_owned().collect();
        assert_eq!(ours, theirs, "input {case:?}");
    }
}
