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

/// A data folder whose database cannot be opened (a file where the database's own file goes):
/// `run` exits 1 at once, naming the folder and the cause exactly once. Root may write
/// anywhere, so a file in the way stands for the read-only folder of the issue (the sandboxed
/// read-only case is in scripts/check-deploy).
#[test]
fn run_names_an_unusable_database_and_its_cause_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let in_the_way = dir.path().join("db-is-a-file");
    std::fs::create_dir(&in_the_way).expect("mkdir");
    std::fs::write(in_the_way.join("db"), "x").expect("write file");
    let config = write_config(dir.path(), &in_the_way);
    let o = herald(&config, &["run"]).output().expect("run herald");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let folder = in_the_way.display().to_string();
    assert!(
        err.contains(&format!("cannot open the database in {folder}: ")),
        "{err}"
    );
    let cause = "Not a directory (os error 20)"; // a file where a folder goes
    assert_eq!(err.matches(cause).count(), 1, "the cause once:\n{err}");
    assert_eq!(err.matches("os error").count(), 1, "one cause:\n{err}");
}

/// Red team: a data folder herald cannot make (a file stands in the way) was a config problem
/// for `check` (exit 2, at `data_dir`) but a failure to open the database for `run` and `poll`
/// (exit 1). The commands that open the database say it as `check` does, with the file's other
/// problems; `poll --dry-run`, which opens none, does not judge it.
#[test]
fn run_and_poll_report_a_data_folder_they_cannot_make_as_check_does() {
    let dir = tempfile::tempdir().expect("temp dir");
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, "x").expect("write file");
    let data_dir = blocker.join("data");
    let config = write_config(dir.path(), &data_dir);
    let text = std::fs::read_to_string(&config).expect("read config");
    std::fs::write(&config, text.replace("[server]", "foo = 1\n\n[server]")).expect("write");
    let path = config.display();
    let expected = format!(
        "{path}:2:12: `data_dir` {} cannot be used: {} is a file, not a folder; name a folder \
         herald can make or write in\n",
        data_dir.display(),
        blocker.display()
    );
    for args in [&["check"][..], &["run"], &["poll", "a"], &["prune", "a"]] {
        let o = herald(&config, args).output().expect("run herald");
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with(&expected), "{args:?}: {err}");
        assert!(
            err.contains(&format!("{path}:4:1: unknown key `foo` in [general]")),
            "{args:?}: {err}"
        );
        assert!(err.ends_with("2 problems found\n"), "{args:?}: {err}");
    }
    let o = herald(&config, &["poll", "a", "--dry-run"])
        .output()
        .expect("poll");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.ends_with("1 problem found\n"), "only `foo`: {err}");
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

    // `run` judges (and would open the database in) the folder HERALD_DATA_DIR says.
    std::fs::write(&moved, "a file in the way").expect("write file");
    let o = herald(&config, &["run"])
        .env("HERALD_DATA_DIR", moved.join("db"))
        .output()
        .expect("run herald");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let folder = moved.join("db").display().to_string();
    assert!(
        err.starts_with(&format!(
            "{}:1:1: `data_dir` {folder} (from HERALD_DATA_DIR) cannot be used: ",
            config.display()
        )),
        "{err}"
    );
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
