//! Live config edits as editors and deploy tools make them (issue 19): a bad edit is reported
//! again after a good one came between; an edit of a symlink's target that keeps its size and
//! time still applies; a file written in pieces is applied whole, never half, and a half that
//! does not parse is not reported while the file is still being written.

use crate::common;

use common::eventually;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Setup, TestApp, spawn_app_with};
use fake_botapi::{ChatConfig, ChatKind, FakeBotApi, FakeOptions};

const ADMIN: i64 = 4242;
const TITLE: &str = "title = \"Akorda — press releases\"";

async fn fake() -> FakeBotApi {
    FakeBotApi::start(FakeOptions {
        chats: vec![ChatConfig {
            id: ADMIN,
            username: None,
            title: "admin".into(),
            kind: ChatKind::Private,
            bot_is_member: true,
        }],
        ..FakeOptions::default()
    })
    .await
}

/// The app with Telegram on and one admin, whose chat `fake` records.
async fn app_with_admin(fake: &FakeBotApi) -> TestApp {
    spawn_app_with(Setup::telegram(fake, &format!("admins = [{ADMIN}]\n\n"))).await
}

/// The admin messages that refuse an edit.
fn refusals(fake: &FakeBotApi) -> usize {
    fake.messages_for(ADMIN)
        .into_iter()
        .filter(|m| m.text.as_deref().unwrap_or_default().contains("refused"))
        .count()
}

fn title_is(t: &TestApp, title: &str) -> bool {
    t.app.config().sources[0].title == title
}

/// An edit made while herald starts (after the config was read, before the watcher began:
/// the database opening, which takes seconds for a large one) is applied: the watcher compares
/// the file with the text the running config was read from, not with the file as it first
/// sees it.
#[tokio::test(flavor = "multi_thread")]
async fn an_edit_made_while_herald_starts_is_applied() {
    let t = common::spawn_app_with(Setup {
        edited_before_run: Some(("Akorda — press releases".into(), "Akorda — news".into())),
        ..Setup::default()
    })
    .await;
    common::eventually(
        "the edit made while starting applied",
        Duration::from_secs(10),
        || title_is(&t, "Akorda — news"),
    )
    .await;
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_edit_is_reported_again_after_a_good_one() {
    let fake = fake().await;
    let t = app_with_admin(&fake).await;
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let good = |title: &str| text.replacen(TITLE, &format!("title = \"{title}\""), 1);
    let bad = good("One").replacen("Asia/Almaty", "Asia/Almati", 1);
    let wait = Duration::from_secs(10);

    std::fs::write(&t.config_path, good("One")).unwrap();
    eventually("first good edit applied", wait, || title_is(&t, "One")).await;
    std::fs::write(&t.config_path, &bad).unwrap();
    eventually("bad edit reported", wait, || refusals(&fake) == 1).await;
    std::fs::write(&t.config_path, good("Two")).unwrap();
    eventually("second good edit applied", wait, || title_is(&t, "Two")).await;
    // Told it is good again, once (their last word was the refusal).
    eventually("told the config is good again", wait, || {
        good_again(&fake) == 1
    })
    .await;
    // The very text refused before: news again, since a good config came between.
    std::fs::write(&t.config_path, &bad).unwrap();
    eventually("the same bad edit reported again", wait, || {
        refusals(&fake) == 2
    })
    .await;
    assert!(title_is(&t, "Two"), "the running config stays");
    std::fs::write(&t.config_path, good("Three")).unwrap();
    eventually("third good edit applied", wait, || title_is(&t, "Three")).await;
    std::fs::write(&t.config_path, good("Four")).unwrap();
    eventually("fourth good edit applied", wait, || title_is(&t, "Four")).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(good_again(&fake), 2, "{:#?}", fake.messages_for(ADMIN));
    t.stop().await;
}

fn good_again(fake: &FakeBotApi) -> usize {
    fake.messages_for(ADMIN)
        .into_iter()
        .filter(|m| m.text.as_deref().unwrap_or_default().contains("good again"))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_same_size_edit_of_a_symlinks_target_that_keeps_its_time_applies() {
    let t = spawn_app_with(Setup {
        symlinked_config: true,
        ..Setup::default()
    })
    .await;
    assert!(t.config_path.is_symlink());
    let target = std::fs::canonicalize(&t.config_path).unwrap();
    let text = std::fs::read_to_string(&target).unwrap();
    let modified = std::fs::metadata(&target).unwrap().modified().unwrap();
    let edited = text.replacen("press releases", "press RELEASES", 1);
    assert_eq!(edited.len(), text.len());
    std::fs::write(&target, &edited).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&target)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    let after = std::fs::metadata(&t.config_path).unwrap();
    assert_eq!(
        (after.len(), after.modified().unwrap()),
        (text.len() as u64, modified)
    );
    eventually("the edit applied", Duration::from_secs(12), || {
        title_is(&t, "Akorda — press RELEASES")
    })
    .await;
    t.stop().await;
}

/// Writes `whole` into the config file in two pieces, `first` bytes then the rest, `pause`
/// apart (an editor, a copy over a slow link, a script that flushed half and then slept),
/// holding the file open all along.
async fn write_in_two_halves(t: &TestApp, whole: &str, first: usize, pause: Duration) {
    let mut file = std::fs::File::create(&t.config_path).unwrap();
    file.write_all(&whole.as_bytes()[..first]).unwrap();
    file.flush().unwrap();
    tokio::time::sleep(pause).await;
    file.write_all(&whole.as_bytes()[first..]).unwrap();
}

/// Samples the running config's sources every 5 ms until the answer is awaited (after
/// `done` is set): the fewest seen.
fn sample_sources(t: &TestApp, done: &Arc<AtomicBool>) -> tokio::task::JoinHandle<usize> {
    let (app, done) = (t.app.clone(), done.clone());
    tokio::spawn(async move {
        let mut fewest = usize::MAX;
        while !done.load(Ordering::Relaxed) {
            fewest = fewest.min(app.config().sources.len());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        fewest
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_written_in_pieces_is_applied_whole() {
    let fake = fake().await;
    let t = app_with_admin(&fake).await;
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    // Watch the running config all along: three sources, always.
    let done = Arc::new(AtomicBool::new(false));
    let sampler = sample_sources(&t, &done);
    let wait = Duration::from_secs(10);

    // The first half is a valid config that lacks the last source.
    let whole = text.replacen(TITLE, "title = \"Whole\"", 1);
    let last_source = whole.rfind("[[sources]]").unwrap();
    let pause = Duration::from_millis(500);
    write_in_two_halves(&t, &whole, last_source, pause).await;
    eventually("the whole edit applied", wait, || title_is(&t, "Whole")).await;

    // The first half ends inside a line: no config at all, and no bad edit either.
    let again = text.replacen(TITLE, "title = \"Again\"", 1);
    let mid_line = again.rfind("schedule = ").unwrap() + 5;
    write_in_two_halves(&t, &again, mid_line, pause).await;
    eventually("the second edit applied", wait, || title_is(&t, "Again")).await;

    done.store(true, Ordering::Relaxed);
    assert_eq!(sampler.await.unwrap(), 3, "a source went missing");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(refusals(&fake), 0, "{:#?}", fake.messages_for(ADMIN));
    t.stop().await;
}

/// A writer that flushes half the file and holds it open for seconds before writing the rest
/// (issue 19): the half is never read, however long the pause; the whole is, once closed.
#[tokio::test(flavor = "multi_thread")]
async fn a_half_held_open_for_seconds_is_not_applied() {
    let fake = fake().await;
    let t = app_with_admin(&fake).await;
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let sampler = sample_sources(&t, &done);

    // The first half is a valid config that lacks the last source.
    let whole = text.replacen(TITLE, "title = \"Whole\"", 1);
    let last_source = whole.rfind("[[sources]]").unwrap();
    write_in_two_halves(&t, &whole, last_source, Duration::from_millis(2500)).await;
    eventually("the whole edit applied", Duration::from_secs(10), || {
        title_is(&t, "Whole")
    })
    .await;

    done.store(true, Ordering::Relaxed);
    assert_eq!(sampler.await.unwrap(), 3, "the half was applied");
    assert_eq!(refusals(&fake), 0, "{:#?}", fake.messages_for(ADMIN));
    t.stop().await;
}

/// /healthz tells that the config on disk is refused as not a regular file (`what`).
async fn refused_as(t: &TestApp, what: &str) {
    let why = format!("cannot read config: the path is not a regular file ({what})");
    let h = t.health().await;
    assert_eq!(h["config"]["ok"], false, "{h}");
    assert!(
        h["config"]["problems"][0]
            .as_str()
            .is_some_and(|p| p.ends_with(&why)),
        "{h}"
    );
}

/// On drop, opens the FIFO at its path for writing (without blocking), which ends a read
/// blocked in opening it: a watch that hangs there fails the test instead of hanging it.
struct Unblock<'p>(&'p std::path::Path);

impl Drop for Unblock<'_> {
    fn drop(&mut self) {
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(self.0);
    }
}

/// The config replaced by a FIFO or a symlink to an endless device is refused as a bad edit
/// is (issue 19): the watch hung in `open()` on the FIFO for good, and read `/dev/zero` until
/// memory ran out. A good file put back after either is applied.
#[tokio::test(flavor = "multi_thread")]
async fn a_config_replaced_by_a_fifo_or_a_device_is_refused_and_a_good_one_applies_after() {
    let fake = fake().await;
    let t = app_with_admin(&fake).await;
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    let wait = Duration::from_secs(10);
    std::fs::remove_file(&t.config_path).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&t.config_path)
            .status()
            .unwrap()
            .success()
    );
    let unblock = Unblock(&t.config_path);
    eventually("the FIFO refused", wait, || refusals(&fake) == 1).await;
    refused_as(&t, "a FIFO").await;
    std::fs::remove_file(&t.config_path).unwrap();
    drop(unblock);
    std::fs::write(&t.config_path, text.replacen(TITLE, "title = \"One\"", 1)).unwrap();
    eventually("a good file applied after the FIFO", wait, || {
        title_is(&t, "One")
    })
    .await;

    std::fs::remove_file(&t.config_path).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &t.config_path).unwrap();
    eventually("/dev/zero refused", wait, || refusals(&fake) == 2).await;
    refused_as(&t, "a character device").await;
    std::fs::remove_file(&t.config_path).unwrap();
    std::fs::write(&t.config_path, text.replacen(TITLE, "title = \"Two\"", 1)).unwrap();
    eventually("a good file applied after /dev/zero", wait, || {
        title_is(&t, "Two")
    })
    .await;
    assert_eq!(t.app.config().sources.len(), 3);
    t.stop().await;
}

/// An edit that empties the file (a save cut short by a full disk, a failed deploy write) is
/// refused like a deleted file: the running config stays, its feeds keep answering, and the
/// admins and /healthz hear of it. A file of comments only is the same.
#[tokio::test(flavor = "multi_thread")]
async fn an_edit_that_empties_the_config_is_refused() {
    let fake = fake().await;
    let t = app_with_admin(&fake).await;
    let wait = Duration::from_secs(10);
    std::fs::write(&t.config_path, "").unwrap();
    eventually("the empty file is refused", wait, || refusals(&fake) == 1).await;
    let h = t.health().await;
    assert_eq!(h["config"]["ok"], false, "{h}");
    assert!(
        h["config"]["problems"][0]
            .as_str()
            .is_some_and(|e| e.contains("the file is empty")),
        "{h}"
    );
    std::fs::write(&t.config_path, "# herald\n\n  # nothing yet\n").unwrap();
    eventually("a file of comments is refused", wait, || {
        refusals(&fake) == 2
    })
    .await;
    assert_eq!(t.app.config().sources.len(), 3, "the running config stays");
    let feed = t.get("/feeds/akorda-en.rss").await;
    assert_eq!(feed.status(), 200);
    t.stop().await;
}
