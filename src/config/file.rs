//! Reading the config file: the one way every reader takes (start, `check`, a live reload,
//! `/add`'s write, the renamed-source warnings), so that none of them hangs or runs out of
//! memory on a path that is no config file (issue 19).
//!
//! The path is followed through its symlinks and must end at a regular file: a FIFO blocked
//! the watcher in `open()` for good, and `/dev/zero` was read until memory ran out. The file is
//! opened without blocking (a FIFO swapped in between the look and the open makes no hang
//! either), looked at again through the open handle, and read up to [`MAX_BYTES`].

use std::io::{self, Read};
use std::path::Path;

/// The largest config file read. A config is a few KiB; 4 MiB holds thousands of sources.
pub const MAX_BYTES: u64 = 4 << 20;

/// The config file's bytes; an error (shown after "cannot read config: ") when it cannot be
/// read, is not a regular file, or is larger than [`MAX_BYTES`].
pub fn read_file(path: &Path) -> io::Result<Vec<u8>> {
    // `metadata` follows symlinks, as the open below does.
    regular(&std::fs::metadata(path)?)?;
    let file = open_without_blocking(path)?;
    let meta = file.metadata()?;
    regular(&meta)?;
    let mut bytes = Vec::with_capacity(meta.len().min(MAX_BYTES) as usize);
    file.take(MAX_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("the file is larger than {} MiB", MAX_BYTES >> 20),
        ));
    }
    Ok(bytes)
}

/// Opens `path` for reading; on Linux with `O_NONBLOCK`, so that a FIFO without a writer
/// opens at once (and is then refused) instead of blocking. Reads of a regular file are not
/// affected by the flag.
fn open_without_blocking(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Refuses anything but a regular file, saying what it is.
fn regular(meta: &std::fs::Metadata) -> io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    let what = if kind.is_file() {
        return Ok(());
    } else if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("the path is not a regular file ({what})"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(path: &Path) -> String {
        read_file(path).expect_err("refused").to_string()
    }

    #[test]
    fn a_regular_file_and_a_symlink_to_one_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "x = 1\n").unwrap();
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read_file(&file).unwrap(), b"x = 1\n");
        assert_eq!(read_file(&link).unwrap(), b"x = 1\n");
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("c.toml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        assert_eq!(message(&fifo), "the path is not a regular file (a FIFO)");
        assert_eq!(message(&link), "the path is not a regular file (a FIFO)");
    }

    #[test]
    fn an_endless_device_and_a_folder_are_refused() {
        assert_eq!(
            message(Path::new("/dev/zero")),
            "the path is not a regular file (a character device)"
        );
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            message(dir.path()),
            "the path is not a regular file (a folder)"
        );
    }

    #[test]
    fn a_file_over_the_bound_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, vec![b'#'; MAX_BYTES as usize]).unwrap();
        assert_eq!(read_file(&file).unwrap().len() as u64, MAX_BYTES);
        std::fs::write(&file, vec![b'#'; MAX_BYTES as usize + 1]).unwrap();
        assert_eq!(message(&file), "the file is larger than 4 MiB");
    }
}
