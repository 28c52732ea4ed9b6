//! Random passwords (GetRandomPassword, and the values of rotated generic secrets): ASCII
//! characters drawn uniformly from character classes with OS randomness.
//!
//! The classes are lowercase and uppercase ASCII letters, digits and ASCII punctuation
//! (`!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~`). Each character is drawn uniformly (rejection sampling
//! over OS random bytes), so a password of length n from an alphabet of size a carries
//! n·log2(a) bits.

use zeroize::Zeroizing;

use crate::random_bytes;

/// The character classes, named by the `Exclude<Class>` parameter that drops each.
pub const PASSWORD_CLASSES: [(&str, &str); 4] = [
    ("ExcludeLowercase", "abcdefghijklmnopqrstuvwxyz"),
    ("ExcludeUppercase", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    ("ExcludeNumbers", "0123456789"),
    ("ExcludePunctuation", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
];

/// A password of `length` ASCII characters drawn from `classes` (each non-empty, together at most
/// 94 characters): uniformly from their union, or, with `require_each`, one from each class first
/// and the rest from the union, then shuffled so the required ones have no fixed place.
pub fn random_password(
    classes: &[Vec<u8>],
    length: usize,
    require_each: bool,
) -> Zeroizing<Vec<u8>> {
    let alphabet: Vec<u8> = classes.concat();
    let mut out = Zeroizing::new(Vec::with_capacity(length));
    if require_each {
        for class in classes {
            out.push(class[uniform(class.len())]);
        }
    }
    while out.len() < length {
        out.push(alphabet[uniform(alphabet.len())]);
    }
    // Fisher–Yates, so the class-forced characters land anywhere.
    for i in (1..out.len()).rev() {
        out.swap(i, uniform(i + 1));
    }
    out
}

/// A uniform index below `n` (1 ≤ n ≤ 256), from OS randomness without modulo bias: bytes at or
/// above the largest multiple of `n` are drawn again.
fn uniform(n: usize) -> usize {
    debug_assert!((1..=256).contains(&n));
    let limit = 256 - 256 % n;
    loop {
        let byte = usize::from(random_bytes(1)[0]);
        if byte < limit {
            return byte % n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(names: &[usize]) -> Vec<Vec<u8>> {
        names.iter().map(|i| PASSWORD_CLASSES[*i].1.as_bytes().to_vec()).collect()
    }

    #[test]
    fn the_alphabet_is_every_printable_ascii_character_but_space() {
        let all: Vec<u8> = PASSWORD_CLASSES.iter().flat_map(|(_, c)| c.bytes()).collect();
        let mut sorted = all.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), all.len(), "no character in two classes");
        assert_eq!(sorted, (b'!'..=b'~').collect::<Vec<u8>>());
    }

    #[test]
    fn lengths_and_classes_are_kept() {
        for length in [8, 32, 128] {
            let password = random_password(&classes(&[2]), length, false);
            assert_eq!(password.len(), length);
            assert!(password.iter().all(u8::is_ascii_digit));
        }
    }

    #[test]
    fn require_each_puts_every_class_in_every_password() {
        // Length 8 over four classes: without the requirement a password misses a class often.
        let all = classes(&[0, 1, 2, 3]);
        for _ in 0..200 {
            let password = random_password(&all, 8, true);
            for class in &all {
                assert!(password.iter().any(|c| class.contains(c)), "{password:?}");
            }
        }
    }

    #[test]
    fn draws_are_spread_over_the_alphabet() {
        // 10 digits × 2000 draws: each digit 200 times on average; a biased or stuck draw would
        // leave one far off (the bound is > 7 standard deviations, a false failure is ~1e-11).
        let password = random_password(&classes(&[2]), 128, false);
        assert!(password.iter().collect::<std::collections::BTreeSet<_>>().len() > 5);
        let mut counts = [0usize; 10];
        for _ in 0..2000 {
            counts[uniform(10)] += 1;
        }
        assert!(counts.iter().all(|c| (100..=300).contains(c)), "{counts:?}");
    }
}
