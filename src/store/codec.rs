//! How items and queued deliveries are written: JSON, deflated when that is worth it. Release
//! bodies are most of the database's bytes and text deflates to a third or so; sled keeps
//! several copies of a value's bytes in its log until it cleans a segment, so every byte saved
//! here is saved several times over (benches/store_scale).
//!
//! A value that starts with `PACKED` is deflated JSON; any other is plain JSON, which is how
//! every value was written before: data folders of earlier versions read as they are.

use std::io::{Read, Write};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// First byte of a deflated value (JSON never starts with it).
const PACKED: u8 = 0x01;
/// Shorter JSON is stored as it is: too little to gain.
const MIN_PACKED: usize = 256;

/// `value` as stored: deflated JSON when that is shorter, else plain JSON.
pub(super) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let json = serde_json::to_vec(value)?;
    if json.len() < MIN_PACKED {
        return Ok(json);
    }
    let mut packed = Vec::with_capacity(json.len() / 2);
    packed.push(PACKED);
    // Level 3: within a few percent of the best size, and cheap next to a poll's fetch.
    let mut deflater = flate2::write::DeflateEncoder::new(packed, flate2::Compression::new(3));
    match deflater.write_all(&json).and_then(|()| deflater.finish()) {
        Ok(packed) if packed.len() < json.len() => Ok(packed),
        _ => Ok(json),
    }
}

/// A value written by `encode` (or plain JSON, as earlier versions wrote).
pub(super) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    match bytes.split_first() {
        Some((&PACKED, packed)) => {
            let mut json = Vec::with_capacity(packed.len() * 3);
            flate2::read::DeflateDecoder::new(packed)
                .read_to_end(&mut json)
                .map_err(serde_json::Error::io)?;
            serde_json::from_slice(&json)
        }
        _ => serde_json::from_slice(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Release {
        title: String,
        body: String,
    }

    fn release(body_words: usize) -> Release {
        Release {
            title: "Head of State receives a delegation".into(),
            body: (0..body_words)
                .map(|n| format!("word{} ", n % 37))
                .collect(),
        }
    }

    #[test]
    fn long_values_are_packed_and_read_back() {
        let value = release(400);
        let bytes = encode(&value).unwrap();
        assert_eq!(bytes[0], PACKED);
        assert!(bytes.len() * 3 < serde_json::to_vec(&value).unwrap().len());
        assert_eq!(decode::<Release>(&bytes).unwrap(), value);
    }

    #[test]
    fn short_values_stay_plain_json() {
        let value = release(3);
        let bytes = encode(&value).unwrap();
        assert_eq!(bytes, serde_json::to_vec(&value).unwrap());
        assert_eq!(decode::<Release>(&bytes).unwrap(), value);
    }

    #[test]
    fn values_written_before_packing_still_read() {
        let value = release(400);
        let old = serde_json::to_vec(&value).unwrap();
        assert_eq!(decode::<Release>(&old).unwrap(), value);
    }

    #[test]
    fn a_damaged_packed_value_is_an_error_not_a_panic() {
        let mut bytes = encode(&release(400)).unwrap();
        bytes.truncate(bytes.len() / 2);
        assert!(decode::<Release>(&bytes).is_err());
        assert!(decode::<Release>(&[PACKED]).is_err());
    }
}
