//! How items and queued deliveries are written: JSON, deflated when that is worth it. Release
//! bodies are most of the database's bytes and text deflates to a third or so; sled keeps
//! several copies of a value's bytes in its log until it cleans a segment, so every byte saved
//! here is saved several times over (benches/store_scale).
//!
//! A value that starts with `PACKED` is deflated JSON; any other is plain JSON, which is how
//! every value was written before: data folders of earlier versions read as they are.

use std::cell::RefCell;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// First byte of a deflated value (JSON never starts with it).
const PACKED: u8 = 0x01;
/// Shorter JSON is stored as it is: too little to gain.
const MIN_PACKED: usize = 256;

thread_local! {
    // One deflater and one inflater per thread, reset for each value: making one allocates and
    // zeroes its window and tables (hundreds of KB for the deflater), which cost a poll more
    // than the deflating itself did (malloc, memset and page faults in the polling profile).
    static DEFLATER: RefCell<Option<Compress>> = const { RefCell::new(None) };
    static INFLATER: RefCell<Option<Decompress>> = const { RefCell::new(None) };
}

/// `value` as stored: deflated JSON when that is shorter, else plain JSON.
pub(super) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let json = serde_json::to_vec(value)?;
    if json.len() < MIN_PACKED {
        return Ok(json);
    }
    Ok(DEFLATER
        .with_borrow_mut(|deflater| {
            // Level 3: within a few percent of the best size, and cheap next to a poll's fetch.
            let deflater =
                deflater.get_or_insert_with(|| Compress::new(Compression::new(3), false));
            deflater.reset();
            deflate(deflater, &json)
        })
        .unwrap_or(json))
}

/// `json` deflated behind `PACKED`, or `None` when that is no shorter (or deflate fails).
fn deflate(deflater: &mut Compress, json: &[u8]) -> Option<Vec<u8>> {
    let mut packed = Vec::with_capacity(json.len() / 2 + 64);
    packed.push(PACKED);
    loop {
        let read = usize::try_from(deflater.total_in()).ok()?;
        let status = deflater
            .compress_vec(&json[read..], &mut packed, FlushCompress::Finish)
            .ok()?;
        if status == Status::StreamEnd {
            return (packed.len() < json.len()).then_some(packed);
        }
        if packed.len() >= json.len() {
            return None;
        }
        // Out of room: the deflater writes only into spare capacity.
        packed.reserve(json.len() / 4 + 64);
    }
}

/// A value written by `encode` (or plain JSON, as earlier versions wrote).
pub(super) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    match bytes.split_first() {
        Some((&PACKED, packed)) => {
            let json = INFLATER.with_borrow_mut(|inflater| {
                let inflater = inflater.get_or_insert_with(|| Decompress::new(false));
                inflater.reset(false);
                inflate(inflater, packed)
            })?;
            serde_json::from_slice(&json)
        }
        _ => serde_json::from_slice(bytes),
    }
}

/// The bytes `packed` inflates to; an error when they are damaged or cut short.
fn inflate(inflater: &mut Decompress, packed: &[u8]) -> Result<Vec<u8>, serde_json::Error> {
    let damaged = |why: &str| serde_json::Error::io(std::io::Error::other(why.to_owned()));
    let mut json = Vec::with_capacity(packed.len() * 3 + 64);
    loop {
        let read = usize::try_from(inflater.total_in()).map_err(|_| damaged("too long"))?;
        let before = (inflater.total_in(), inflater.total_out());
        let status = inflater
            .decompress_vec(&packed[read..], &mut json, FlushDecompress::Finish)
            .map_err(|e| damaged(&e.to_string()))?;
        if status == Status::StreamEnd {
            return Ok(json);
        }
        if json.len() < json.capacity() {
            // Room left and the stream has not ended: it ends only if there is more input.
            if (inflater.total_in(), inflater.total_out()) == before
                || usize::try_from(inflater.total_in()).ok() == Some(packed.len())
            {
                return Err(damaged("a packed value cut short"));
            }
        } else {
            json.reserve(json.capacity());
        }
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
    fn values_of_every_size_read_back_through_the_reused_deflater() {
        // Each value through the same thread's deflater and inflater, after values of other
        // sizes: a reset that kept anything of the previous value would show here.
        for words in [40, 400, 3, 4000, 41, 20_000, 400] {
            let value = release(words);
            let bytes = encode(&value).unwrap();
            assert_eq!(decode::<Release>(&bytes).unwrap(), value, "{words} words");
        }
        // Text that hardly deflates.
        let noise: String = (0..600_u32)
            .map(|n| {
                char::from_u32(0x4e00 + (n.wrapping_mul(2_654_435_761) >> 20) % 20_000).unwrap()
            })
            .collect();
        let value = Release {
            title: noise.clone(),
            body: String::new(),
        };
        let bytes = encode(&value).unwrap();
        assert_eq!(decode::<Release>(&bytes).unwrap(), value);
    }

    #[test]
    fn a_damaged_packed_value_is_an_error_not_a_panic() {
        let mut bytes = encode(&release(400)).unwrap();
        bytes.truncate(bytes.len() / 2);
        assert!(decode::<Release>(&bytes).is_err());
        assert!(decode::<Release>(&[PACKED]).is_err());
        // Garbage after the marker, then a good value: the inflater is usable again.
        assert!(decode::<Release>(&[PACKED, 0xff, 0xff, 0xff, 0x00, 0x12]).is_err());
        let value = release(400);
        assert_eq!(decode::<Release>(&encode(&value).unwrap()).unwrap(), value);
    }
}
