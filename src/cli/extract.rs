//! `herald extract`: the article extractor on files (`.html`, `.html.gz`) or URLs, its findings
//! printed as blocks or JSON lines. The reading is here; the extraction is
//! [`herald::extract::article`], which does no I/O.

use super::{Exit, write_failure};
use herald::extract::article::{self, Article};
use std::borrow::Cow;
use std::io::{Read, Write};
use url::Url;

/// `herald extract`: each unreadable input is reported once (on stderr); exit 1 when none
/// could be read.
pub async fn extract(inputs: &[String], url: Option<&str>, json: bool) -> Result<(), Exit> {
    let failed = print_articles(
        inputs,
        url,
        json,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    )
    .await
    .map_err(write_failure)?;
    match failed {
        n if n < inputs.len() => Ok(()),
        1 => Err(Exit(1, String::new())),
        n => Err(Exit(1, format!("none of the {n} inputs could be read"))),
    }
}

/// Memory `herald extract` reads each file into, kept from one input to the next: a page is
/// read and unpacked into memory already in hand rather than fresh memory (whose first touch
/// costs a page fault per 4 KiB) for each.
#[derive(Default)]
struct Buffers {
    /// The file as stored.
    raw: Vec<u8>,
    /// The file unpacked (`.gz`), in its first bytes: its length is the most any page needed
    /// (zeroed once, when it grows), so that the decoder writes straight into it, in one call
    /// for the whole page, rather than a chunk at a time copied over.
    unpacked: Vec<u8>,
    /// The whole-buffer gzip decoder (libdeflate), kept for the next page.
    inflater: libdeflater::Decompressor,
}

/// Unpacks the gzip file `packed` into `into` (see [`Buffers::unpacked`]): the number of bytes
/// it holds.
///
/// libdeflate unpacks a whole file into a buffer known to be large enough, about twice as fast
/// as zlib's streaming decoder; it takes exactly one gzip member that fits, so a file it
/// refuses (larger than the trailer says, members after the first, damaged) is read by zlib as
/// before, which reads the first member and reports damage.
fn gunzip(
    packed: &[u8],
    into: &mut Vec<u8>,
    inflater: &mut libdeflater::Decompressor,
) -> std::io::Result<usize> {
    reserve_unpacked(packed, into);
    match inflater.gzip_decompress(packed, into) {
        Ok(n) => Ok(n),
        Err(_) => gunzip_streaming(packed, into),
    }
}

/// Makes `into` at least as long as the size unpacked that the gzip trailer of `packed` gives,
/// and one byte more.
fn reserve_unpacked(packed: &[u8], into: &mut Vec<u8>) {
    // The size unpacked, as the gzip trailer gives it (modulo 4 GiB): room for all of it and
    // one byte more, so that the end is seen without growing. The trailer is only a hint (a
    // damaged file may claim anything): no more than deflate can expand the file to (1032
    // times), nor than 32 MiB; past that, the room grows with what is actually unpacked.
    let size = packed
        .last_chunk::<4>()
        .map_or(0, |t| u32::from_le_bytes(*t) as usize)
        .min(packed.len().saturating_mul(1032))
        .min(32 << 20);
    if into.len() <= size {
        into.resize(size + 1, 0);
    }
}

/// [`gunzip`] with zlib's streaming decoder, growing `into` as needed.
fn gunzip_streaming(packed: &[u8], into: &mut Vec<u8>) -> std::io::Result<usize> {
    reserve_unpacked(packed, into);
    let mut decoder = flate2::bufread::GzDecoder::new(packed);
    let mut filled = 0;
    loop {
        if filled == into.len() {
            into.resize(into.len() * 2, 0);
        }
        match decoder.read(&mut into[filled..]) {
            Ok(0) => return Ok(filled),
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads one input of `herald extract`: the page text and the URL it resolves against: a
/// fetched page's own (final) address, a file's `--url` (its help: for files only).
async fn read_input<'b>(
    input: &str,
    url: Option<&str>,
    fetcher: &mut Option<herald::fetch::Fetcher>,
    buffers: &'b mut Buffers,
) -> Result<(Cow<'b, str>, Option<Url>), String> {
    let given = url
        .map(|u| Url::parse(u).map_err(|e| format!("--url {u}: {e}")))
        .transpose()?;
    if input.starts_with("http://") || input.starts_with("https://") {
        let page_url = Url::parse(input).map_err(|e| format!("{input}: {e}"))?;
        if fetcher.is_none() {
            *fetcher = Some(
                herald::fetch::Fetcher::new(herald::fetch::FetcherOptions::default())
                    .map_err(|e| e.to_string())?,
            );
        }
        let Some(f) = fetcher.as_ref() else {
            return Err("no HTTP client".into());
        };
        let request = herald::fetch::Request {
            user_agent: concat!("herald/", env!("CARGO_PKG_VERSION")),
            ..Default::default()
        };
        return match f.get(&page_url, &request).await {
            Ok(herald::fetch::Fetched::Page(page)) => Ok((Cow::Owned(page.text), Some(page.url))),
            Ok(herald::fetch::Fetched::NotModified) => Err(format!("{input}: 304 Not Modified")),
            Err(e) => Err(format!("{input}: {e}")),
        };
    }
    let Buffers {
        raw,
        unpacked,
        inflater,
    } = buffers;
    raw.clear();
    std::fs::File::open(input)
        .and_then(|mut f| f.read_to_end(raw))
        .map_err(|e| format!("{input}: {e}"))?;
    let bytes = if input.ends_with(".gz") {
        let n = gunzip(raw, unpacked, inflater).map_err(|e| format!("{input}: not gzip: {e}"))?;
        &unpacked[..n]
    } else {
        &raw[..]
    };
    Ok((article::decode_bytes(bytes), given))
}

/// Runs `herald extract`: one result per input, in order (`--json`: one object per line,
/// `{"input","title","date","image","summary","text"}`, plus `"error"` for an input that could
/// not be read, whose other fields are then null or empty).
///
/// An input that cannot be read is reported once, on `err` (SPEC: diagnostics go to stderr);
/// the text output shows only what was read, the JSON output keeps its line so that lines and
/// inputs stay aligned. Returns how many inputs could not be read (the caller exits 1 when none
/// could), or the error that stopped the output (a reader that went away, for one).
async fn print_articles(
    inputs: &[String],
    url: Option<&str>,
    json: bool,
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> std::io::Result<usize> {
    let mut fetcher = None;
    let mut buffers = Buffers::default();
    let mut failures = 0;
    for input in inputs {
        match read_input(input, url, &mut fetcher, &mut buffers).await {
            Ok((html, page_url)) => {
                let article = article::extract(&html, page_url.as_ref(), None);
                if json {
                    write_json(out, input, &article, None)?;
                } else {
                    write_block(out, input, &article)?;
                }
            }
            Err(e) => {
                failures += 1;
                // The error already names the input. stderr may be gone too: nothing to do then.
                let _ = writeln!(err, "herald: {e}");
                if json {
                    write_json(out, input, &Article::default(), Some(&e))?;
                }
            }
        }
    }
    out.flush()?;
    Ok(failures)
}

fn write_json(
    out: &mut (dyn Write + Send),
    input: &str,
    a: &Article,
    error: Option<&str>,
) -> std::io::Result<()> {
    let mut line = serde_json::json!({
        "input": input,
        "title": a.title,
        "date": a.date.as_ref().map(article::date_string),
        "image": a.image,
        "summary": a.summary,
        "text": a.text,
    });
    if let Some(e) = error {
        line["error"] = e.into();
    }
    writeln!(out, "{line}")
}

fn write_block(out: &mut (dyn Write + Send), input: &str, a: &Article) -> std::io::Result<()> {
    writeln!(out, "== {input}")?;
    let none = || "-".to_owned();
    writeln!(out, "title:   {}", a.title.clone().unwrap_or_else(none))?;
    writeln!(
        out,
        "date:    {}",
        a.date
            .as_ref()
            .map(article::date_string)
            .unwrap_or_else(none)
    )?;
    writeln!(out, "image:   {}", a.image.clone().unwrap_or_else(none))?;
    writeln!(out, "summary: {}", a.summary.clone().unwrap_or_else(none))?;
    writeln!(out, "text:\n{}\n", a.text)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    fn gunzip(packed: &[u8], into: &mut Vec<u8>) -> std::io::Result<usize> {
        super::gunzip(packed, into, &mut libdeflater::Decompressor::new())
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// The buffer is reused from page to page: a smaller page after a larger one reads as itself.
    #[test]
    fn gunzip_reuses_the_buffer() {
        let mut into = Vec::new();
        let big: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let n = gunzip(&gzip(&big), &mut into).unwrap();
        assert_eq!(&into[..n], &big[..]);
        let n = gunzip(&gzip(b"<p>small</p>"), &mut into).unwrap();
        assert_eq!(&into[..n], b"<p>small</p>");
    }

    /// The size in the trailer is a hint: a small file claiming 4 GiB (damaged, or made to) gets
    /// no more room than it can unpack to, and is reported (the decoder checks the size).
    #[test]
    fn gunzip_takes_the_trailer_size_as_a_bounded_hint() {
        let mut lying = gzip(b"<p>text</p>");
        let at = lying.len() - 4;
        lying[at..].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut into = Vec::new();
        assert!(gunzip(&lying, &mut into).is_err());
        assert!(into.len() <= lying.len() * 1032 + 1, "{}", into.len());
    }

    /// Files libdeflate refuses are read by zlib as before: a page past the 32 MiB that the
    /// trailer may reserve, and a file of several gzip members (the first is the page).
    #[test]
    fn gunzip_reads_what_libdeflate_refuses_as_before() {
        let mut into = Vec::new();
        let big = vec![b'a'; (32 << 20) + 10];
        let n = gunzip(&gzip(&big), &mut into).unwrap();
        assert_eq!(n, big.len());
        assert!(into[..n].iter().all(|&b| b == b'a'));

        let mut members = gzip(b"<p>first</p>");
        members.extend(gzip(b"<p>second</p>"));
        let mut into = Vec::new();
        let n = gunzip(&members, &mut into).unwrap();
        assert_eq!(&into[..n], b"<p>first</p>");
    }

    #[test]
    fn gunzip_reports_a_file_that_is_not_gzip() {
        let mut into = Vec::new();
        assert!(gunzip(b"<html>not packed</html>", &mut into).is_err());
        let packed = gzip(b"<p>text</p>");
        assert!(gunzip(&packed[..packed.len() / 2], &mut into).is_err());
    }
}
