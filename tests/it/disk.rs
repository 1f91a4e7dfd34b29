//! A full disk (issue 8). sled does not recover from a failed write until it is reopened, so
//! herald keeps `[general] min_free_mb` free in its data folder and refuses new work below it:
//! polls fail loudly (reported, stored items kept), posts wait, feeds are still served, and all
//! resumes without a restart once there is room. Tested live by raising the reserve above the
//! free space, and on a real full file system (a small tmpfs) where mounting is allowed.

use crate::common;

use std::time::Duration;

use common::site::{FakeSite, release_en};
use common::{Setup, config_text, spawn_app_with};
use fake_botapi::{FakeBotApi, FakeOptions};

async fn set_reserve(t: &common::TestApp, megabytes: u64) {
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("min_free_mb"))
        .map(str::to_owned)
        .collect();
    let at = lines.iter().position(|l| l == "[general]").unwrap();
    lines.insert(at + 1, format!("min_free_mb = {megabytes}"));
    std::fs::write(&t.config_path, lines.join("\n") + "\n").unwrap();
    let want = megabytes * 1024 * 1024;
    common::eventually("the edit applied", Duration::from_secs(20), || {
        t.app.config().general.min_free_bytes == want
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn below_the_reserve_new_work_waits_feeds_stay_and_all_resumes() {
    let fake = FakeBotApi::start(FakeOptions::fast()).await;
    let t = spawn_app_with(Setup {
        source_keys: vec![(
            "akorda-en".into(),
            "channels = [\"en\"]\nbackfill = 5".into(),
        )],
        ..Setup::telegram(
            &fake,
            &format!(
                "{}\n[[channels]]\nid = \"en\"\nchat = \"@herald_en\"\n",
                fake_botapi::FAST_TELEGRAM
            ),
        )
    })
    .await;
    t.site.publish("en", release_en(1, 1));
    t.poll("akorda-en").await.unwrap();
    fake.wait_for_messages(1, Duration::from_secs(10)).await;
    let feed_before = t.text("/feeds/akorda-en.rss").await;

    // No disk has a million terabytes free: the reserve cannot be met.
    set_reserve(&t, 1 << 40).await;
    t.site.publish("en", release_en(2, 2));
    let err = t.poll("akorda-en").await.unwrap_err().to_string();
    assert!(
        err.contains("MB free") && err.contains("min_free_mb"),
        "{err}"
    );
    assert_eq!(
        t.text("/feeds/akorda-en.rss").await,
        feed_before,
        "feeds are still served"
    );
    let health = t.health().await;
    assert_eq!(health["status"], "degraded", "{health}");
    assert!(
        health["sources"]["akorda-en"]["last_error"]
            .as_str()
            .unwrap()
            .contains("MB free"),
        "{health}"
    );
    assert_eq!(health["sources"]["akorda-en"]["items"], 1);

    // Room for a moment: the poll stores both releases and queues their posts while Telegram
    // is unreachable; then the disk is "full" again before they can go out.
    set_reserve(&t, 0).await;
    t.site.publish("en", release_en(3, 3));
    fake.set_down(true);
    let report = t.poll("akorda-en").await.unwrap();
    assert_eq!(report.count(herald::model::ItemState::New), 2);
    set_reserve(&t, 1 << 40).await;
    fake.set_down(false);
    let requests_before = fake.requests().len();
    // Longer than the delivery backoff after the outage: a worker with room would have sent.
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(fake.messages().len(), 1, "posts wait for disk space");
    let health = t.health().await;
    assert_eq!(health["channels"]["en"]["pending"], 2, "{health}");
    assert!(
        fake.requests().len() <= requests_before + 1,
        "no sends while the disk is full: {:?}",
        &fake.requests()[requests_before..]
    );

    // Room again: both posts go out, in order, without a restart; polls work again.
    set_reserve(&t, 1).await;
    let messages = fake.wait_for_messages(3, Duration::from_secs(30)).await;
    assert_eq!(messages.len(), 3);
    t.site.publish("en", release_en(4, 4));
    let report = t.poll("akorda-en").await.unwrap();
    assert_eq!(report.count(herald::model::ItemState::New), 1);
    let health = t.health().await;
    assert_eq!(health["status"], "ok", "{health}");
    t.stop().await;
}

/// A real full file system: `herald poll` on a tmpfs with less than the reserve free refuses
/// with the reason and loses nothing; with room again it stores the releases.
#[tokio::test(flavor = "multi_thread")]
async fn a_real_full_disk_is_refused_then_used_when_room_returns() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=48m", "tmpfs"])
        .arg(&data)
        .output()
        .is_ok_and(|o| o.status.success());
    if !mounted {
        eprintln!("SKIPPED: cannot mount a tmpfs here; the reserve is tested live above");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(data.clone());
    let site = FakeSite::start().await;
    site.publish("en", release_en(1, 1));
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        config_text(&site, "http://127.0.0.1:8080", &Setup::default()),
    )
    .unwrap();
    let poll = || {
        common::herald_std_command()
            .args(["poll", "akorda-en", "-c"])
            .arg(&config)
            .output()
            .unwrap()
    };
    let first = poll();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    // Fill the file system to within 8 MB of full (the default reserve is 32 MB).
    let filler = data.join("filler");
    std::fs::write(&filler, vec![0u8; 40 * 1024 * 1024]).unwrap();
    site.publish("en", release_en(2, 2));
    let refused = poll();
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert!(err.contains("MB free"), "{err}");
    std::fs::remove_file(&filler).unwrap();
    let again = poll();
    let out = String::from_utf8_lossy(&again.stdout);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(out.contains("\"new\"") || out.contains("new"), "{out}");
}
