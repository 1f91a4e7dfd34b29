//! The admin commands' rules: `/check` says what `herald check` says, a slow command holds no
//! other and ends at a stop, a handled command is not run again after a restart, a command for
//! another bot is not answered, a paused source is not polled by `/poll`.

use crate::common;

use common::eventually;

use fake_botapi::{FakeBotApi, command};
use std::time::Duration;

use crate::admin::{ADMIN, admin_texts, app, fake};

/// The `n`th answer to the admin (1-based), waited for.
async fn answer(fake: &FakeBotApi, n: usize, what: &str) -> String {
    eventually(what, Duration::from_secs(20), || {
        admin_texts(fake).len() >= n
    })
    .await;
    admin_texts(fake)[n - 1].clone()
}

/// A schedule firing every 10 seconds is a warning of `herald check`: `/check` says it too.
#[tokio::test(flavor = "multi_thread")]
async fn check_says_the_warnings_check_prints() {
    let fake = fake().await;
    let t = app(&fake, "*/10 * * * * *").await;
    fake.push_update(command(ADMIN, "/check"));
    let check = answer(&fake, 1, "the check").await;
    let lines: Vec<&str> = check.lines().collect();
    assert!(lines.len() >= 2, "{check}");
    assert!(
        lines[0]
            .contains("warning: source `akorda-en`: cron `*/10 * * * * *` fires every 10 seconds"),
        "{check}"
    );
    assert!(
        lines[0].starts_with(&format!("{}:", t.config_path.display())),
        "{check}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .ends_with("ok (3 sources, 1 channels)"),
        "{check}"
    );
    t.stop().await;
}

/// A page that takes the connection and never answers.
pub(crate) async fn silent_site() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/news/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    url
}

/// `/add` of a page that never answers holds no other command (the fourth at once is answered
/// "busy"), and a stop ends them at once, each admin told that it was cut short.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_command_holds_no_other_and_a_stop_ends_it() {
    let fake = fake().await;
    let t = app(&fake, "0 0 0 1 1 *").await;
    let url = silent_site().await;
    for _ in 0..4 {
        fake.push_update(command(ADMIN, &format!("/add {url}")));
    }
    fake.push_update(command(ADMIN, "/status"));
    eventually("busy and status", Duration::from_secs(5), || {
        admin_texts(&fake).len() >= 2
    })
    .await;
    let texts = admin_texts(&fake);
    assert!(texts[0].starts_with("Busy: 3 commands"), "{texts:#?}");
    assert!(texts[1].starts_with("Sources"), "{texts:#?}");
    let started = std::time::Instant::now();
    t.stop().await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "the stop took {took:?}");
    let texts = admin_texts(&fake);
    let cut = texts
        .iter()
        .filter(|t| t.starts_with("herald is stopping: /add was not finished"))
        .count();
    assert_eq!(cut, 3, "{texts:#?}");
}

/// A stop while a command is answered confirms it to Telegram: the next start does not run it
/// again.
#[tokio::test(flavor = "multi_thread")]
async fn a_command_handled_before_a_stop_is_not_run_again_after_a_restart() {
    let fake = fake().await;
    let t = app(&fake, "0 0 0 1 1 *").await;
    // Telegram takes the answer at once and says so 6 s later: herald stops meanwhile.
    fake.inject(
        fake_botapi::Fault::Delay(Duration::from_secs(6)),
        fake_botapi::Match::any()
            .method("sendMessage")
            .chat(ADMIN)
            .times(1),
    );
    fake.push_update(command(ADMIN, "/status"));
    answer(&fake, 1, "the status").await;
    t.stop().await;
    let again = app(&fake, "0 0 0 1 1 *").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let statuses = admin_texts(&fake)
        .iter()
        .filter(|t| t.starts_with("Sources"))
        .count();
    assert_eq!(statuses, 1, "{:#?}", admin_texts(&fake));
    again.stop().await;
}

/// In a group, `/status@other_bot` is another bot's; `/status@Herald_Test_Bot` is this one's
/// (usernames are read without case).
#[tokio::test(flavor = "multi_thread")]
async fn a_command_for_another_bot_is_not_answered() {
    let fake = fake().await;
    let t = app(&fake, "0 0 0 1 1 *").await;
    fake.push_update(command(ADMIN, "/status@some_other_bot"));
    fake.push_update(command(ADMIN, "/check@Herald_Test_Bot"));
    let first = answer(&fake, 1, "the check").await;
    assert!(first.ends_with("ok (3 sources, 1 channels)"), "{first}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(admin_texts(&fake).len(), 1, "{:#?}", admin_texts(&fake));
    t.stop().await;
}

/// `/poll` of a paused source polls nothing (its posts would go out) unless told `anyway`, and
/// `/status` shows no next run for it.
#[tokio::test(flavor = "multi_thread")]
async fn a_paused_source_is_not_polled_by_poll_and_has_no_next_run() {
    let fake = fake().await;
    let t = app(&fake, "0 0 0 1 1 *").await;
    t.site.publish("en", common::site::release_en(1, 1));
    fake.push_update(command(ADMIN, "/pause source:akorda-en"));
    assert_eq!(answer(&fake, 1, "pause").await, "source akorda-en paused");
    fake.push_update(command(ADMIN, "/poll akorda-en"));
    let refused = answer(&fake, 2, "the poll").await;
    assert!(
        refused.starts_with("akorda-en is paused: not polled"),
        "{refused}"
    );
    assert_eq!(t.app.shared.store.count("akorda-en").unwrap(), 0);
    fake.push_update(command(ADMIN, "/status"));
    let status = answer(&fake, 3, "the status").await;
    assert!(
        status
            .contains("• akorda-en (paused): 0 items; last success never; next run none (paused)"),
        "{status}"
    );
    fake.push_update(command(ADMIN, "/poll akorda-en anyway"));
    let polled = answer(&fake, 4, "the poll anyway").await;
    assert_eq!(polled, "akorda-en: 1 new, 0 changed, 0 known");
    t.stop().await;
}
