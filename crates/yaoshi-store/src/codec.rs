//! Versioned binary encoding of everything persisted (log entries, state values, snapshots).
//!
//! Every value starts with a format version byte so encodings can migrate (bincode itself carries no
//! schema). Version 1 is bincode 2 (standard config) of the serde form.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The current encoding version byte.
pub(crate) const FORMAT_V1: u8 = 1;

/// Failure to decode a persisted value.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Empty input or an unknown version byte.
    #[error("unknown encoding version {0:?}")]
    UnknownVersion(Option<u8>),
    /// The payload did not decode.
    #[error("malformed encoding")]
    Malformed(#[source] bincode::error::DecodeError),
}

/// Encodes `value` with the current format version byte.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![FORMAT_V1];
    // Encoding into a Vec cannot fail for our serde types (no maps with non-string keys, no
    // unsupported types); a failure would be a programming error caught by the tests.
    match bincode::serde::encode_into_std_write(value, &mut out, bincode::config::standard()) {
        Ok(_) => out,
        Err(e) => panic!("encoding a persisted value failed: {e}"),
    }
}

/// The length of what [`encode`] returns for `value`, counted without building it (the proposer
/// sizes every batched command).
pub fn encoded_len<T: Serialize>(value: &T) -> usize {
    let mut size = bincode::enc::write::SizeWriter::default();
    match bincode::serde::encode_into_writer(value, &mut size, bincode::config::standard()) {
        Ok(()) => 1 + size.bytes_written,
        Err(e) => panic!("encoding a persisted value failed: {e}"),
    }
}

/// Writes what [`encode`] returns for `value` to `out`, without building it in memory (for
/// snapshots, which hold the whole state).
///
/// # Errors
///
/// Fails when `out` fails.
pub(crate) fn encode_to<W: std::io::Write, T: Serialize>(
    out: &mut W,
    value: &T,
) -> std::io::Result<()> {
    out.write_all(&[FORMAT_V1])?;
    bincode::serde::encode_into_std_write(value, out, bincode::config::standard())
        .map(|_| ())
        .map_err(std::io::Error::other)
}

/// Decodes a value written by [`encode`].
///
/// # Errors
///
/// Fails on an unknown version byte or malformed payload.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    match bytes.split_first() {
        Some((&FORMAT_V1, rest)) => {
            bincode::serde::decode_from_slice(rest, bincode::config::standard())
                .map(|(v, _)| v)
                .map_err(DecodeError::Malformed)
        }
        other => Err(DecodeError::UnknownVersion(other.map(|(v, _)| *v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_len_is_the_length_of_the_encoding() {
        let value = (7u64, "a string of some length".to_string(), vec![1u8; 300]);
        assert_eq!(encoded_len(&value), encode(&value).len());
        assert_eq!(decode::<(u64, String, Vec<u8>)>(&encode(&value)).unwrap(), value);
    }
}
