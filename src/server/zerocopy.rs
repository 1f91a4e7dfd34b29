//! Feed bodies sent with `sendfile(2)` instead of being copied into the socket (issue 9).
//!
//! A large cached body is kept in a sealed memfd and read through a read-only mapping of it
//! ([`shareable`]): to the rest of the server it is an ordinary `Bytes`. A process-wide table
//! maps each such mapping's address range to its file. The connection wrapper [`ZeroCopy`]
//! looks up every buffer hyper asks it to write: bytes that lie in a mapping go out with
//! `sendfile` from the file (the kernel hands the socket the file's pages, no copy); anything
//! else is written as usual. The table is global because a buffer reaches the socket through
//! hyper, which carries bytes and nothing else: its address is all the wrapper sees.
//!
//! Correctness does not depend on finding a buffer: the mapping is readable memory, so a body
//! written the ordinary way sends the same bytes. Elsewhere than Linux bodies stay on the heap.
//!
//! `herald run` keeps the files in the data folder instead ([`keep_bodies_in`]), as unnamed
//! files (`O_TMPFILE`) that vanish with their last descriptor: a disk filesystem's page cache
//! hands `sendfile` many pages at once (large folios), where tmpfs, behind a memfd, looks up
//! each page alone. On a 240 KB feed an answer took 17.7 µs of CPU instead of 23.7 (nginx
//! 23.2), issue 23. The price, as for nginx serving files: the pages are the page cache's, so
//! under memory pressure the kernel may write them out and read them back (on a disk error
//! then, reading the body faults, and herald restarts), and they take room on the data disk:
//! memfds are used instead while the folder has less than `min_free_mb` + 64 MiB free, or where
//! it cannot hold unnamed files.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::task::{Context, Poll, ready};

use axum::body::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

use super::tally::{self, Count};

/// Bodies from this size on are file-backed; below it a copy costs less than the file.
pub const MIN_FILE_BACKED: usize = 16 * 1024;
/// A buffer shorter than this (the tail of a body after a partial write, say) is copied.
const MIN_SENDFILE: usize = 4096;
/// File-backed bodies alive at once at most, whatever the descriptor limit.
const MAX_LIVE_FILES: usize = 4096;

/// Mapped bodies by the address of their first byte.
static REGIONS: RwLock<BTreeMap<usize, Region>> = RwLock::new(BTreeMap::new());
/// Moves on every change of [`REGIONS`] (made while its write lock is held).
static REGIONS_VERSION: AtomicU64 = AtomicU64::new(0);
/// The folder whose filesystem holds file-backed bodies (else they are memfds), and the room
/// to leave free there.
static FOLDER: OnceLock<(std::path::PathBuf, u64)> = OnceLock::new();
/// Room left free in the folder besides what the admin keeps free (`min_free_mb`).
const FOLDER_MARGIN: u64 = 64 * 1024 * 1024;
/// File-backed bodies alive now (each holds a descriptor).
static LIVE_FILES: AtomicUsize = AtomicUsize::new(0);
/// Regions a thread has met lately, while [`REGIONS`] is as it was then: each serving thread
/// finds the bodies it sends over and over without the table's lock, which every thread would
/// otherwise take on every answer (its count moving from core to core).
#[derive(Default)]
struct Seen {
    version: u64,
    /// (start, end, descriptor) of regions in the table at `version`.
    regions: Vec<(usize, usize, RawFd)>,
}

/// Regions a thread remembers at most (the feeds it serves most).
const SEEN_MAX: usize = 32;

thread_local! {
    static SEEN: RefCell<Seen> = RefCell::new(Seen::default());
}

struct Region {
    /// One past the last byte of the mapping.
    end: usize,
    file: Arc<OwnedFd>,
}

/// `body` as `Bytes`, file-backed when it is large enough and a descriptor can be spared, on
/// the heap otherwise. Never fails: any error leaves the body on the heap.
pub fn shareable(body: Vec<u8>) -> Bytes {
    shareable_within(body, live_files_budget())
}

/// Keeps later file-backed bodies in unnamed files in `folder` while it has more than
/// `keep_free` bytes (and a margin) free; the first call wins. See the module's comment.
pub fn keep_bodies_in(folder: &std::path::Path, keep_free: u64) {
    let _ = FOLDER.set((folder.to_owned(), keep_free));
}

/// Bytes sent with `sendfile` so far by all connections of this process.
pub fn sent_from_files() -> u64 {
    tally::total(Count::SentFromFiles)
}

/// Raises the soft limit of open files to the hard one (systemd starts services at 1024):
/// file-backed bodies hold a descriptor each, and connections must still find one.
pub fn raise_open_files_limit() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        if let Some(hard) = limit.maximum
            && limit.current != Some(hard)
        {
            let raised = rustix::process::Rlimit {
                current: Some(hard),
                maximum: Some(hard),
            };
            if let Err(e) = setrlimit(Resource::Nofile, raised) {
                tracing::debug!(error = %e, "cannot raise the open files limit");
            }
        }
    }
}

/// A quarter of the open files limit (read at first use), for bodies; the rest is left to
/// connections, the store and the fetcher.
fn live_files_budget() -> usize {
    static BUDGET: OnceLock<usize> = OnceLock::new();
    *BUDGET.get_or_init(|| {
        #[cfg(target_os = "linux")]
        let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
        #[cfg(not(target_os = "linux"))]
        let soft = 0;
        (soft / 4).min(MAX_LIVE_FILES)
    })
}

fn shareable_within(body: Vec<u8>, max_live: usize) -> Bytes {
    if body.len() < MIN_FILE_BACKED {
        return body.into();
    }
    let reserved = LIVE_FILES
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < max_live).then_some(n + 1)
        })
        .is_ok();
    if !reserved {
        return body.into();
    }
    match Mapping::new(&body) {
        Ok(mapping) => Bytes::from_owner(mapping),
        Err(e) => {
            LIVE_FILES.fetch_sub(1, Ordering::AcqRel);
            tracing::debug!(error = %e, "a body stays on the heap");
            body.into()
        }
    }
}

/// The descriptor of the file behind `buf` and the offset of `buf` in it, if `buf` lies wholly
/// inside a file-backed body.
///
/// The descriptor is open while the caller holds `buf`: a region is in the table from before
/// its mapping's first byte is handed out until after its last holder is gone, so a buffer
/// inside a region that is in the table now is inside that region's mapping, which the buffer
/// keeps alive with its file. A thread's remembered regions are used only while the table is
/// unchanged since they were read from it (`REGIONS_VERSION`): a region gone from the table
/// may have left its addresses, and its descriptor number, to another body.
fn file_behind(buf: &[u8]) -> Option<(RawFd, u64)> {
    let start = buf.as_ptr() as usize;
    let end = start.checked_add(buf.len())?;
    let within = |&(base, until, fd): &(usize, usize, RawFd)| {
        (base <= start && end <= until).then(|| (fd, (start - base) as u64))
    };
    SEEN.with_borrow_mut(|seen| {
        if seen.version == REGIONS_VERSION.load(Ordering::Acquire)
            && let Some(found) = seen.regions.iter().find_map(within)
        {
            return Some(found);
        }
        let regions = REGIONS
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Read under the lock: the version of the table as it is read here.
        let version = REGIONS_VERSION.load(Ordering::Acquire);
        if seen.version != version || seen.regions.len() >= SEEN_MAX {
            seen.regions.clear();
            seen.version = version;
        }
        let (&base, region) = regions.range(..=start).next_back()?;
        let region = (base, region.end, region.file.as_raw_fd());
        let found = within(&region)?;
        seen.regions.push(region);
        Some(found)
    })
}

/// A read-only shared mapping of a file holding a body (a sealed memfd, or an unnamed file only
/// this process holds), registered in [`REGIONS`] while it lives. The owner of a file-backed
/// `Bytes`.
struct Mapping {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
    /// Kept by the table too: a sender holds it across the syscall.
    _file: Arc<OwnedFd>,
}

// SAFETY: the mapping is read-only memory that nothing writes (see `Mapping::new`), owned by
// this value alone; reading it from any thread is sound.
unsafe impl Send for Mapping {}

impl Mapping {
    #[cfg(target_os = "linux")]
    fn new(body: &[u8]) -> io::Result<Mapping> {
        use rustix::mm::{MapFlags, ProtFlags};

        let roomy = |(folder, keep_free): &(std::path::PathBuf, u64)| {
            let wanted = keep_free
                .saturating_add(FOLDER_MARGIN)
                .saturating_add(body.len() as u64);
            fs2::available_space(folder).is_ok_and(|free| free >= wanted)
        };
        let folder = FOLDER.get().filter(|folder| roomy(folder));
        let file = match folder.map(|(folder, _)| unnamed_file(folder, body)) {
            Some(Ok(file)) => file,
            Some(Err(e)) => {
                tracing::debug!(error = %e, "a body goes to a memfd: no unnamed file in the data folder");
                sealed_memfd(body)?
            }
            None => sealed_memfd(body)?,
        };
        // SAFETY: a fresh mapping chosen by the kernel (no address given), of a file of
        // exactly `body.len()` bytes that stays as it is: a memfd's seals forbid any change;
        // an unnamed file has no name (`O_EXCL`: none can be given to it), and this process
        // writes it no more. (A process of the same user could still reopen it through
        // /proc/<pid>/fd and change it, as it could change the process's memory itself.)
        // Unmapped only in `drop`.
        let ptr = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                body.len(),
                ProtFlags::READ,
                MapFlags::SHARED,
                &file,
                0,
            )?
        };
        let ptr = std::ptr::NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| io::Error::other("mmap gave a null address"))?;
        let file = Arc::new(OwnedFd::from(file));
        let start = ptr.as_ptr() as usize;
        let mut regions = REGIONS
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        regions.insert(
            start,
            Region {
                end: start + body.len(),
                file: file.clone(),
            },
        );
        REGIONS_VERSION.fetch_add(1, Ordering::AcqRel);
        drop(regions);
        Ok(Mapping {
            ptr,
            len: body.len(),
            _file: file,
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn new(_body: &[u8]) -> io::Result<Mapping> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// `body` in a memfd sealed against any change.
#[cfg(target_os = "linux")]
fn sealed_memfd(body: &[u8]) -> io::Result<std::fs::File> {
    use rustix::fs::{MemfdFlags, SealFlags};
    use std::io::Write;

    let fd = rustix::fs::memfd_create(
        "herald-body",
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )?;
    let mut file = std::fs::File::from(fd);
    file.write_all(body)?;
    // Sealed, the file can neither change nor shrink: the mapping can never see other bytes
    // nor fault past the end, however long it lives.
    rustix::fs::fcntl_add_seals(
        &file,
        SealFlags::WRITE | SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL,
    )?;
    Ok(file)
}

/// `body` in a file of `folder`'s filesystem that has no name, nor can be given one (it goes
/// with its descriptor).
#[cfg(target_os = "linux")]
fn unnamed_file(folder: &std::path::Path, body: &[u8]) -> io::Result<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    use std::io::Write;

    let fd = rustix::fs::open(
        folder,
        OFlags::TMPFILE | OFlags::EXCL | OFlags::RDWR | OFlags::CLOEXEC,
        Mode::RUSR | Mode::WUSR,
    )?;
    let mut file = std::fs::File::from(fd);
    file.write_all(body)?;
    Ok(file)
}

impl AsRef<[u8]> for Mapping {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `ptr..ptr + len` is mapped readable until `drop`, and its bytes never change.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // Out of the table before unmapping: once unmapped, the kernel may hand the same
        // addresses to a new body, whose entry this must not remove.
        let mut regions = REGIONS
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        regions.remove(&(self.ptr.as_ptr() as usize));
        REGIONS_VERSION.fetch_add(1, Ordering::AcqRel);
        drop(regions);
        #[cfg(target_os = "linux")]
        // SAFETY: the mapping made in `new`; the `Bytes` that owned this value are all gone,
        // so no reference into it is left.
        unsafe {
            let _ = rustix::mm::munmap(self.ptr.as_ptr().cast(), self.len);
        }
        LIVE_FILES.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A TCP connection that sends file-backed bodies with `sendfile`.
pub struct ZeroCopy {
    stream: TcpStream,
    /// Bytes this connection sent with `sendfile`.
    sent_from_files: u64,
}

impl ZeroCopy {
    pub fn new(stream: TcpStream) -> ZeroCopy {
        ZeroCopy {
            stream,
            sent_from_files: 0,
        }
    }
}

impl AsyncRead for ZeroCopy {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ZeroCopy {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    /// The buffers before the first file-backed one, then that one from its file; or all of
    /// them as usual when none is file-backed. Fewer bytes than asked is fine: hyper asks
    /// again with the rest.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let found = bufs.iter().enumerate().find_map(|(i, buf)| {
            (buf.len() >= MIN_SENDFILE)
                .then(|| file_behind(buf))
                .flatten()
                .map(|(file, offset)| (i, file, offset))
        });
        let Some((at, file, offset)) = found else {
            return Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        };
        let (head, len) = (&bufs[..at], bufs[at].len());
        // SAFETY: open while `bufs[at]` is held (see `file_behind`), which it is throughout.
        let file = unsafe { BorrowedFd::borrow_raw(file) };
        loop {
            ready!(self.stream.poll_write_ready(cx))?;
            let stream = &self.stream;
            // `try_io` forgets the socket's readiness when this says WouldBlock, so that the
            // next `poll_write_ready` waits for room.
            match stream.try_io(Interest::WRITABLE, || {
                send_with_file(stream, head, file, offset, len)
            }) {
                Ok((total, from_file)) => {
                    self.sent_from_files += from_file as u64;
                    tally::add(Count::SentFromFiles, from_file as u64);
                    return Poll::Ready(Ok(total));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Sends `head` with `MSG_MORE` (held back to share packets with the body), then `len` bytes
/// of `file` from `offset`. Returns the bytes sent in all and those of them from the file.
#[cfg(target_os = "linux")]
fn send_with_file(
    socket: &TcpStream,
    head: &[IoSlice<'_>],
    file: BorrowedFd<'_>,
    offset: u64,
    len: usize,
) -> io::Result<(usize, usize)> {
    use rustix::net::{SendAncillaryBuffer, SendFlags};

    let head_len: usize = head.iter().map(|b| b.len()).sum();
    let mut sent = 0;
    if head_len > 0 {
        sent = rustix::net::sendmsg(
            socket,
            head,
            &mut SendAncillaryBuffer::default(),
            SendFlags::MORE | SendFlags::NOSIGNAL,
        )?;
        if sent < head_len {
            return Ok((sent, 0));
        }
    }
    let mut at = offset;
    let from_file = rustix::fs::sendfile(socket, file, Some(&mut at), len);
    after_head(sent, from_file.map_err(io::Error::from))
}

/// What a write reports when `head_sent` bytes (the whole head) went out and then sending from
/// the file gave `from_file`: (bytes in all, bytes from the file). A failure after some bytes
/// went out, WouldBlock included, is reported as their count, and the next call meets it
/// again: told nothing was written, hyper would send the head twice.
fn after_head(head_sent: usize, from_file: io::Result<usize>) -> io::Result<(usize, usize)> {
    match from_file {
        Ok(n) => Ok((head_sent + n, n)),
        Err(_) if head_sent > 0 => Ok((head_sent, 0)),
        Err(e) => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
fn send_with_file(
    _socket: &TcpStream,
    _head: &[IoSlice<'_>],
    _file: BorrowedFd<'_>,
    _offset: u64,
    _len: usize,
) -> io::Result<(usize, usize)> {
    unreachable!("no body is file-backed elsewhere than on Linux")
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::time::Duration;

    use hyper::body::Buf;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpSocket};

    use super::*;

    /// A body of `len` bytes in which every 4-byte window differs from its neighbours', so
    /// that a byte sent from a wrong offset or out of order shows.
    fn body(len: usize) -> Vec<u8> {
        (0..len as u32)
            .flat_map(|n| n.to_le_bytes())
            .take(len)
            .collect()
    }

    /// A connected pair over loopback: the writer (wrapped) and the reader, with the writer's
    /// send buffer and the reader's receive buffer set when asked (small: partial writes).
    async fn pair(buffers: Option<u32>) -> (ZeroCopy, TcpStream) {
        let listening = TcpSocket::new_v4().unwrap();
        if let Some(size) = buffers {
            listening.set_recv_buffer_size(size).unwrap();
        }
        listening.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener: TcpListener = listening.listen(1).unwrap();
        let writer = TcpSocket::new_v4().unwrap();
        if let Some(size) = buffers {
            writer.set_send_buffer_size(size).unwrap();
        }
        let (writer, accepted) = tokio::join!(
            writer.connect(listener.local_addr().unwrap()),
            listener.accept()
        );
        (ZeroCopy::new(writer.unwrap()), accepted.unwrap().0)
    }

    /// Writes `parts` the way hyper does: vectored, again with what is left after each
    /// partial write. Returns the number of writes.
    async fn write_like_hyper(writer: &mut ZeroCopy, mut parts: Vec<Bytes>) -> usize {
        let mut writes = 0;
        while parts.iter().any(|p| !p.is_empty()) {
            let slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
            let mut n = writer.write_vectored(&slices).await.unwrap();
            assert!(n > 0, "a write made no progress");
            writes += 1;
            for part in &mut parts {
                let step = n.min(part.len());
                part.advance(step);
                n -= step;
            }
        }
        writer.flush().await.unwrap();
        writes
    }

    async fn read_all(mut reader: TcpStream) -> Vec<u8> {
        let mut got = Vec::new();
        reader.read_to_end(&mut got).await.unwrap();
        got
    }

    fn is_file_backed(bytes: &Bytes) -> bool {
        file_behind(bytes).is_some()
    }

    #[tokio::test]
    async fn head_and_file_backed_body_arrive_exact() {
        let (mut writer, reader) = pair(None).await;
        let body = body(100_000);
        let shared = shareable(body.clone());
        assert!(is_file_backed(&shared));
        let head = Bytes::from_static(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n");
        let reading = tokio::spawn(read_all(reader));
        write_like_hyper(&mut writer, vec![head.clone(), shared]).await;
        assert_eq!(writer.sent_from_files, body.len() as u64);
        drop(writer);
        assert_eq!(reading.await.unwrap(), [&head[..], &body[..]].concat());
    }

    #[tokio::test]
    async fn a_body_advanced_into_its_mapping_sends_from_there() {
        let (mut writer, reader) = pair(None).await;
        let body = body(64 * 1024);
        let mut shared = shareable(body.clone());
        shared.advance(12_345);
        let tail = shared.slice(..40_000);
        let reading = tokio::spawn(read_all(reader));
        write_like_hyper(&mut writer, vec![Bytes::from_static(b"head"), tail]).await;
        assert_eq!(writer.sent_from_files, 40_000);
        drop(writer);
        let got = reading.await.unwrap();
        assert_eq!(&got[..4], b"head");
        assert!(got[4..] == body[12_345..12_345 + 40_000], "wrong bytes");
    }

    /// Responses kept alive one after the other, to a reader slower than the writer: the
    /// socket fills at every point of a response, between a head and its body too.
    #[tokio::test]
    async fn a_slow_reader_gets_every_byte_in_order() {
        let (mut writer, mut reader) = pair(Some(4096)).await;
        let shared = shareable(body(100_000));
        let parts: Vec<Bytes> = (0..30u8)
            .flat_map(|n| {
                let head = Bytes::from(vec![b'a' + n % 26; 500 + 300 * usize::from(n)]);
                [head, shared.slice(usize::from(n)..)]
            })
            .collect();
        let expected: Vec<u8> = parts.iter().flat_map(|p| p.iter().copied()).collect();
        let reading = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut chunk = [0; 1500];
            loop {
                let n = reader.read(&mut chunk).await.unwrap();
                if n == 0 {
                    return got;
                }
                got.extend_from_slice(&chunk[..n]);
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        });
        let writes = write_like_hyper(&mut writer, parts).await;
        assert!(
            writes > 60,
            "the small buffers forced partial writes: {writes}"
        );
        assert!(writer.sent_from_files > 0);
        drop(writer);
        let got = reading.await.unwrap();
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "bytes out of order or wrong");
    }

    #[tokio::test]
    async fn a_heap_body_is_written_as_usual() {
        let (mut writer, reader) = pair(None).await;
        let body = Bytes::from(body(50_000));
        let reading = tokio::spawn(read_all(reader));
        write_like_hyper(&mut writer, vec![Bytes::from_static(b"head"), body.clone()]).await;
        assert_eq!(writer.sent_from_files, 0);
        drop(writer);
        assert_eq!(reading.await.unwrap(), [&b"head"[..], &body[..]].concat());
    }

    #[test]
    fn dropping_the_last_bytes_closes_the_file_and_leaves_the_table() {
        let shared = shareable(body(MIN_FILE_BACKED));
        let copy = shared.slice(100..200);
        let (_, offset) = file_behind(&shared).expect("file-backed");
        assert_eq!(offset, 0);
        let start = shared.as_ptr() as usize;
        let file = Arc::downgrade(&REGIONS.read().unwrap()[&start].file);
        drop(shared);
        assert!(file.upgrade().is_some(), "a slice still holds the mapping");
        assert_eq!(file_behind(&copy).map(|(_, at)| at), Some(100));
        drop(copy);
        assert!(file.upgrade().is_none(), "the table let go of the file");
    }

    /// The bytes the descriptor `file_behind` gives for `bytes` holds at its offset.
    fn read_behind(bytes: &[u8]) -> Vec<u8> {
        let (fd, offset) = file_behind(bytes).expect("file-backed");
        // SAFETY: open while `bytes` is held (see `file_behind`).
        let file = unsafe { BorrowedFd::borrow_raw(fd) };
        let mut read = vec![0; bytes.len()];
        let n = rustix::io::pread(file, &mut read, offset).unwrap();
        read.truncate(n);
        read
    }

    /// A thread remembers the regions it found; a body dropped and another made (often at the
    /// same addresses, with the same descriptor number) is found anew, never by the old entry.
    #[test]
    fn a_remembered_region_is_forgotten_when_the_table_changes() {
        for round in 0..20_u8 {
            let mut made = body(MIN_FILE_BACKED * 2);
            made.iter_mut().for_each(|b| *b ^= round);
            let bytes = shareable(made);
            assert!(is_file_backed(&bytes));
            // Twice: found in the table, then among the remembered regions.
            assert_eq!(read_behind(&bytes), &bytes[..]);
            assert_eq!(read_behind(&bytes[5000..9000]), &bytes[5000..9000]);
        }
    }

    /// With a folder set (as `herald run` sets the data folder), a body is kept in an unnamed
    /// file there, not in a memfd, and is sent from it the same.
    #[test]
    fn bodies_go_to_unnamed_files_in_the_folder_when_one_is_set() {
        let folder = tempfile::tempdir().unwrap();
        let made = body(MIN_FILE_BACKED * 3);
        let file = unnamed_file(folder.path(), &made).unwrap();
        assert_eq!(
            std::fs::read_dir(folder.path()).unwrap().count(),
            0,
            "no name"
        );
        assert_eq!(file.metadata().unwrap().len(), made.len() as u64);
        // Every test after this one in this process keeps its bodies there too: all the same.
        keep_bodies_in(&std::env::temp_dir(), 0);
        let bytes = shareable(made.clone());
        assert_eq!(bytes, made);
        assert_eq!(read_behind(&bytes), made);
        let (fd, _) = file_behind(&bytes).unwrap();
        // SAFETY: open while `bytes` is held.
        let behind = unsafe { BorrowedFd::borrow_raw(fd) };
        let roomy = fs2::available_space(std::env::temp_dir())
            .is_ok_and(|free| free >= FOLDER_MARGIN + made.len() as u64);
        if roomy && unnamed_file(&std::env::temp_dir(), b"x").is_ok() {
            assert!(
                rustix::fs::fcntl_get_seals(behind).is_err(),
                "not a memfd (only memfds have seals)"
            );
        }
    }

    #[test]
    fn a_failure_after_the_head_reports_the_head() {
        let would_block = || Err(io::ErrorKind::WouldBlock.into());
        assert_eq!(after_head(0, Ok(5)).unwrap(), (5, 5));
        assert_eq!(after_head(10, Ok(5)).unwrap(), (15, 5));
        assert_eq!(after_head(10, would_block()).unwrap(), (10, 0));
        assert_eq!(
            after_head(10, Err(io::ErrorKind::BrokenPipe.into())).unwrap(),
            (10, 0)
        );
        let nothing = after_head(0, would_block()).unwrap_err();
        assert_eq!(nothing.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn small_bodies_and_failures_stay_on_the_heap() {
        let small = body(MIN_FILE_BACKED - 1);
        let bytes = shareable(small.clone());
        assert!(!is_file_backed(&bytes));
        assert_eq!(bytes, small);
        // No descriptor to spare: the body stays on the heap, whole.
        let large = body(MIN_FILE_BACKED * 2);
        let bytes = shareable_within(large.clone(), 0);
        assert!(!is_file_backed(&bytes));
        assert_eq!(bytes, large);
    }
}
