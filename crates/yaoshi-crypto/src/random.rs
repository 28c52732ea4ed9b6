//! The one place that reads operating-system randomness.

use zeroize::Zeroizing;

/// Returns `len` bytes from the operating system's cryptographically secure random number
/// generator, in a buffer that is zeroized on drop.
///
/// This is the only function in Yaoshi's crypto crate that reads OS randomness; everything else
/// that needs random bytes (key generation, nonces, salts) calls it.
///
/// # Panics
///
/// Panics if the operating system cannot provide randomness. There is no safe way to continue
/// without it (this is what `rand`'s `OsRng` does as well).
#[must_use]
pub fn random_bytes(len: usize) -> Zeroizing<Vec<u8>> {
    let mut buf = Zeroizing::new(vec![0u8; len]);
    #[expect(
        clippy::disallowed_methods,
        reason = "this is the single sanctioned reader of OS randomness"
    )]
    let filled = getrandom::fill(&mut buf);
    if let Err(err) = filled {
        panic!("operating system random number generator failed: {err}");
    }
    buf
}

/// A cryptographically secure random number generator over the same OS source, for the
/// algorithms (RSA key generation, randomized padding and signatures) that take one.
///
/// # Panics
///
/// Using it panics if the operating system cannot provide randomness, as [`random_bytes`] does.
pub(crate) fn os_rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}
