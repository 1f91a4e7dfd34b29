//! What a deployment meets before anything is polled: a data folder herald may not write, and
//! the environment overrides a container sets (README, "Deploying"). The real binary, no network.

use crate::common::{self, stderr};
use std::path::Path;
use std::process::Command;

fn herald(config: &Path, args: &[&str]) -> Command {
    let mut cmd = common::herald_std_command();
    cmd.args(args).arg("-c").arg(config);
    for (name, _) in herald::config::ENV_OVERRIDES {
        cmd.env_remove(name);
    }
    cmd
}

/// A config with no sources (nothing to fetch) and its data in `data_dir`, on a free port.
fn write_config(dir: &Path, data_dir: &Path) -> std::path::PathBuf {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let path = dir.join("config.toml");
    let text = format!(
        "[general]\ndata_dir = {:?}\n\n[server]\nlisten = \"127.0.0.1:{port}\"\n",
        data_dir.display().to_string()
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// A data folder that cannot be made (a file stands in the way) or whose database cannot be
/// opened: `run` exits 1 at once, naming the folder and the cause exactly once. Root may write
/// anywhere, so a file in the way stands for the read-only folder of the issue (the sandboxed
/// read-only case is in scripts/check-deploy).
#[test]
fn run_names_an_unusable_data_folder_and_its_cause_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, "x").expect("write file");
    let in_the_way = dir.path().join("db-is-a-file");
    std::fs::create_dir(&in_the_way).expect("mkdir");
    std::fs::write(in_the_way.join("db"), "x").expect("write file");
    for data_dir in [blocker.join("data"), in_the_way.clone()] {
        let config = write_config(dir.path(), &data_dir);
        let o = herald(&config, &["run"]).output().expect("run herald");
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        let folder = data_dir.display().to_string();
        assert!(
            err.contains(&format!("cannot open the database in {folder}: ")),
            "{err}"
        );
        let cause = "Not a directory (os error 20)"; // both: a file where a folder goes
        assert_eq!(err.matches(cause).count(), 1, "the cause once:\n{err}");
        assert_eq!(err.matches("os error").count(), 1, "one cause:\n{err}");
    }
}

/// `HERALD_DATA_DIR`, `HERALD_LISTEN` and `HERALD_PUBLIC_URL` replace the file's keys; a bad
/// value is a config problem (exit 2) that names the variable.
#[test]
fn environment_overrides_apply_and_bad_ones_are_config_problems() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), Path::new("data"));
    let moved = dir.path().join("elsewhere");
    let o = herald(&config, &["run"])
        .env("HERALD_DATA_DIR", &moved)
        .env("HERALD_LISTEN", "not an address")
        .output()
        .expect("run herald");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("environment variable HERALD_LISTEN: listen `not an address` is not an IP address with a port"),
        "{err}"
    );
    assert!(!moved.exists() && !dir.path().join("data").exists());

    let o = herald(&config, &["check"])
        .env("HERALD_DATA_DIR", &moved)
        .env("HERALD_PUBLIC_URL", "https://feeds.example.org/")
        .env("RUST_LOG", "info")
        .output()
        .expect("check");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!(
            "data_dir = {} (from HERALD_DATA_DIR",
            moved.display()
        )),
        "{err}"
    );
    assert!(err.contains("public_url = https://feeds.example.org/ (from HERALD_PUBLIC_URL"));

    // `run` opens the database where HERALD_DATA_DIR says.
    std::fs::write(&moved, "a file in the way").expect("write file");
    let o = herald(&config, &["run"])
        .env("HERALD_DATA_DIR", moved.join("db"))
        .output()
        .expect("run herald");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let folder = moved.join("db").display().to_string();
    assert!(err.contains(&format!("database in {folder}: ")), "{err}");
}

/// The red team's container: HERALD_LISTEN=0.0.0.0:8080 (every address) with the shipped
/// public_url (http://127.0.0.1:8080) linked every outside reader to their own machine without
/// a word. `check` and the start of `run` now warn once, naming public_url; with herald on
/// loopback, or a public_url readers reach, nothing is said.
#[test]
fn a_loopback_public_url_served_to_other_machines_is_a_warning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), Path::new("data"));
    let text = std::fs::read_to_string(&config).expect("read config");
    let port = text
        .rsplit(':')
        .next()
        .expect("a port")
        .trim()
        .trim_end_matches('"');
    let warning = format!(
        "warning: herald listens on 0.0.0.0:{port}, open to other machines, but public_url is \
         http://127.0.0.1:{port}, which every reader reads as their own machine"
    );
    let o = herald(&config, &["check"])
        .env("HERALD_LISTEN", format!("0.0.0.0:{port}"))
        .output()
        .expect("check");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(err.matches(&warning).count(), 1, "{err}");
    assert!(
        err.contains("Set public_url (or HERALD_PUBLIC_URL)"),
        "{err}"
    );

    // At the start of `run`, in its log: once, before it serves.
    let mut child = herald(&config, &["run"])
        .env("HERALD_LISTEN", format!("0.0.0.0:{port}"))
        .env("HERALD_DATA_DIR", dir.path().join("data"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run herald");
    let log = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let (lines, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in log.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut said = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while let Ok(line) = seen.recv_timeout(deadline - std::time::Instant::now()) {
        said.push(line);
        if std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().expect("port"))).is_ok() {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let said = said.join("\n");
    assert_eq!(said.matches(&warning).count(), 1, "{said}");

    for env in [
        ("HERALD_LISTEN", format!("127.0.0.1:{port}")),
        ("HERALD_PUBLIC_URL", "https://feeds.example.org".to_owned()),
    ] {
        let o = herald(&config, &["check"])
            .env("HERALD_LISTEN", format!("0.0.0.0:{port}"))
            .env(env.0, &env.1)
            .output()
            .expect("check");
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stderr(&o), "", "{env:?}");
    }
}
