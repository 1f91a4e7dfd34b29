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
    // The very text refused before: news again, since a good config came between.
    std::fs::write(&t.config_path, &bad).unwrap();
    eventually("the same bad edit reported again", wait, || {
        refusals(&fake) == 2
    })
    .await;
    assert!(title_is(&t, "Two"), "the running config stays");
    t.stop().await;
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

/// Writes `whole` into the config file in two pieces, `first` bytes then the rest, 500 ms
/// apart (an editor or a copy over a slow link).
async fn write_in_two_halves(t: &TestApp, whole: &str, first: usize) {
    let mut file = std::fs::File::create(&t.config_path).unwrap();
    file.write_all(&whole.as_bytes()[..first]).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    file.write_all(&whole.as_bytes()[first..]).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_written_in_pieces_is_applied_whole() {
    let fake = fake().await;
    let t = app_with_admin(&fake).await;
    let text = std::fs::read_to_string(&t.config_path).unwrap();
    // Watch the running config all along: three sources, always.
    let done = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn({
        let (app, done) = (t.app.clone(), done.clone());
        async move {
            let mut fewest = usize::MAX;
            while !done.load(Ordering::Relaxed) {
                fewest = fewest.min(app.config().sources.len());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            fewest
        }
    });
    let wait = Duration::from_secs(10);

    // The first half is a valid config that lacks the last source.
    let whole = text.replacen(TITLE, "title = \"Whole\"", 1);
    let last_source = whole.rfind("[[sources]]").unwrap();
    write_in_two_halves(&t, &whole, last_source).await;
    eventually("the whole edit applied", wait, || title_is(&t, "Whole")).await;

    // The first half ends inside a line: no config at all, and no bad edit either.
    let again = text.replacen(TITLE, "title = \"Again\"", 1);
    let mid_line = again.rfind("schedule = ").unwrap() + 5;
    write_in_two_halves(&t, &again, mid_line).await;
    eventually("the second edit applied", wait, || title_is(&t, "Again")).await;

    done.store(true, Ordering::Relaxed);
    assert_eq!(sampler.await.unwrap(), 3, "a source went missing");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(refusals(&fake), 0, "{:#?}", fake.messages_for(ADMIN));
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
