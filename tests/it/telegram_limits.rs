//! Telegram's real default limits (1/s and 20/min per chat, 30/s in all), kept by herald against
//! the fake Bot API that enforces them. Slow by nature: the 25-post check runs when `CI` is set;
//! the 60-post figures are a benchmark (`cargo test --release --test telegram_limits -- --ignored
//! --nocapture`).

use crate::common;

use common::site::release_en;
use common::{Setup, spawn_app_with};
use fake_botapi::{FakeBotApi, FakeOptions};
use std::time::{Duration, Instant};

/// Posts `n` releases to each of `channels` channels at the default limits; returns how long
/// each channel took from the poll to its last post, and the fake's violation count.
async fn burst(n: u64, channels: usize) -> (Vec<Duration>, usize) {
    let fake = FakeBotApi::start(FakeOptions::default()).await;
    let mut extra = String::new();
    let mut ids = Vec::new();
    for c in 0..channels {
        extra.push_str(&format!(
            "\n[[channels]]\nid = \"c{c}\"\nchat = \"@herald_c{c}\"\n"
        ));
        ids.push(format!("\"c{c}\""));
    }
    let t = spawn_app_with(Setup {
        source_keys: vec![(
            "akorda-en".into(),
            format!(
                "channels = [{}]\nmax_pages = 20\nbackfill = 0",
                ids.join(", ")
            ),
        )],
        ..Setup::telegram(&fake, &extra)
    })
    .await;
    // backfill = 0: the first poll posts nothing and only marks the start.
    t.site.publish("en", release_en(0, 1));
    t.poll("akorda-en").await.unwrap();
    for i in 1..=n {
        t.site.publish("en", release_en(i, 2));
    }
    let start = Instant::now();
    t.poll("akorda-en").await.unwrap();
    let mut took = vec![None; channels];
    let deadline = start + Duration::from_secs(60 * (n / 20 + 2));
    while took.iter().any(Option::is_none) {
        for (c, slot) in took.iter_mut().enumerate() {
            if slot.is_none() && fake.messages_for(format!("@herald_c{c}")).len() as u64 >= n {
                *slot = Some(start.elapsed());
            }
        }
        assert!(Instant::now() < deadline, "not delivered in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for c in 0..channels {
        assert_eq!(
            fake.messages_for(format!("@herald_c{c}")).len() as u64,
            n,
            "channel c{c}"
        );
    }
    let violations = fake.violations().len();
    t.stop().await;
    (took.into_iter().flatten().collect(), violations)
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_five_posts_to_one_channel_take_at_least_a_minute() {
    if std::env::var_os("CI").is_none() {
        eprintln!("skipped: takes over a minute; runs when CI is set");
        return;
    }
    let (took, violations) = burst(25, 1).await;
    assert_eq!(violations, 0);
    // 20 per minute: the 21st post waits for the first to leave the window.
    assert!(took[0] >= Duration::from_secs(60), "{took:?}");
    assert!(took[0] < Duration::from_secs(75), "{took:?}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: about three minutes"]
async fn sixty_posts_at_the_default_limits() {
    let (one, v1) = burst(60, 1).await;
    let (three, v3) = burst(60, 3).await;
    println!("60 posts, 1 channel: {one:?} ({v1} violations)");
    println!("60 posts, 3 channels at once: {three:?} ({v3} violations)");
    assert_eq!(v1 + v3, 0);
}
