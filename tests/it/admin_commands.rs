//! The admin commands' rules: `/check` says what `herald check` says, a slow command holds no
//! other and ends at a stop, a handled command is not run again after a restart, a command for
//! another bot is not answered, a paused source is not polled by `/poll`.

use crate::common;

use common::eventually;

use common::{Setup, TestApp, spawn_app_with};
use fake_botapi::{ChatConfig, ChatKind, FakeBotApi, FakeOptions, command};
use std::time::Duration;

const ADMIN: i64 = 4242;

async fn fake() -> FakeBotApi {
    FakeBotApi::start(FakeOptions {
        per_chat_per_second: 10,
        per_chat_per_minute: 600,
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

async fn app(fake: &FakeBotApi, schedule: &str) -> TestApp {
    spawn_app_with(Setup {
        schedule: schedule.into(),
        source_keys: vec![("akorda-en".into(), "channels = [\"en\"]".into())],
        ..Setup::telegram(
            fake,
            &format!(
                "admins = [{ADMIN}]\nper_chat_per_second = 10\nper_chat_per_minute = 600\n\n\
                 [[channels]]\nid = \"en\"\nchat = \"@herald_en\"\n"
            ),
        )
    })
    .await
}

fn admin_texts(fake: &FakeBotApi) -> Vec<String> {
    fake.messages_for(ADMIN)
        .into_iter()
        .map(|m| m.text.unwrap_or_default())
        .collect()
}

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
