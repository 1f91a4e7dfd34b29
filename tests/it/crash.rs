//! `kill -9` at random moments while releases arrive and posts go out: the real binary as a
//! child process, restarted after every kill. Every release must reach the feed and the channel,
//! in order, and a post may be doubled only by a kill between Telegram's acceptance and the
//! database write (SPEC, "Guarantees").

use crate::common;

use common::site::{FakeSite, release_en};
use common::{Setup, write_config_on_free_port};
use fake_botapi::{FakeBotApi, FakeOptions, Fault, Match};
use std::collections::HashMap;
use std::time::Duration;
use tokio::process::Child;

/// A small deterministic generator, so that a failing run can be replayed with its seed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

fn start(config: &std::path::Path, api: &FakeBotApi) -> Child {
    common::herald_command()
        .args(["run", "-c"])
        .arg(config)
        .env("TELOXIDE_TOKEN", fake_botapi::TOKEN)
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{e} ({})", api.url()))
        .unwrap()
}

async fn pending(port: u16) -> Option<u64> {
    let health: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    health["channels"]["en"]["pending"].as_u64()
}

async fn crash_loop(items: u64, kills: usize, seed: u64) {
    let api = FakeBotApi::start(FakeOptions {
        per_chat_per_second: 20,
        per_chat_per_minute: 1200,
        ..FakeOptions::default()
    })
    .await;
    let site = FakeSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup {
        schedule: "* * * * * *".into(),
        source_keys: vec![(
            "akorda-en".into(),
            "channels = [\"en\"]\nmax_pages = 30".into(),
        )],
        ..Setup::telegram(
            &api,
            "per_chat_per_second = 20\nper_chat_per_minute = 1200\n\n\
             [[channels]]\nid = \"en\"\nchat = \"@herald_en\"\nshare = [\"x\"]\n",
        )
    };
    let (config, port) = write_config_on_free_port(dir.path(), &site, &setup);

    // Every send is accepted on arrival and answered 250 ms later: a kill in that window is the
    // "accepted, not yet recorded" case that could double a post.
    api.inject(
        Fault::Delay(Duration::from_millis(250)),
        Match::any().method("sendPhoto").times(100_000),
    );
    // Every release on one page, so that a correction of an old one is seen (herald reads older
    // pages only while they hold new releases).
    site.set_per_page(1000);
    // The first poll posts only the newest release (backfill = 1): let it happen undisturbed.
    site.publish("en", release_en(0, 1));
    let mut child = start(&config, &api);
    api.wait_for_messages(1, Duration::from_secs(20)).await;

    let mut rng = Lcg(seed);
    let mut published = 0;
    // Releases corrected on the site while herald is being killed: their posts must be edited.
    let mut corrected = Vec::new();
    for _ in 0..kills {
        let batch = (items / kills as u64).max(1);
        for _ in 0..batch {
            if published < items {
                published += 1;
                site.publish("en", release_en(published, 2));
            }
        }
        // The newest release already posted and not yet corrected: its post must be edited.
        // (Within the feed's 100 items: older ones have left the feed, and corrections of
        // releases no longer served are not followed.)
        let posted = (published.saturating_sub(90).max(1)..=published)
            .rev()
            .find(|n| {
                !corrected.contains(n)
                    && api.messages().iter().any(|m| {
                        let text = m.caption.clone().or(m.text.clone()).unwrap_or_default();
                        text.contains(&format!("number {n}<"))
                    })
            });
        if let Some(earlier) = posted {
            let release = release_en(earlier, 2);
            site.edit_title("en", release.id, &format!("Corrected: {}", release.title));
            corrected.push(earlier);
        }
        tokio::time::sleep(Duration::from_millis(300 + rng.next(1500))).await;
        child.start_kill().unwrap();
        child.wait().await.unwrap();
        child = start(&config, &api);
    }
    while published < items {
        published += 1;
        site.publish("en", release_en(published, 2));
    }
    // Let the last run finish the work.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let done = api.messages().len() as u64 > items && pending(port).await == Some(0);
        if done {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not all delivered: {} of {} posts, pending {:?}; requests: {:#?}",
            api.messages().len(),
            items + 1,
            pending(port).await,
            api.requests().iter().rev().take(5).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The feed has every release too.
    let feed: serde_json::Value =
        reqwest::get(format!("http://127.0.0.1:{port}/feeds/akorda-en.json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    // (a feed keeps `max_items`, 100 by default)
    assert_eq!(
        feed["items"].as_array().unwrap().len() as u64,
        (items + 1).min(100)
    );
    assert_eq!(feed["items"][0]["title"], release_en(items, 2).title);
    for item in feed["items"].as_array().unwrap() {
        let title = item["title"].as_str().unwrap();
        let n: u64 = title.rsplit(' ').next().unwrap().parse().unwrap();
        assert_eq!(
            title.starts_with("Corrected: "),
            corrected.contains(&n),
            "the feed shows the correction: {title}"
        );
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    let mut count: HashMap<u64, usize> = HashMap::new();
    let mut first_order = Vec::new();
    for m in api.messages() {
        let caption = m.caption.clone().or(m.text.clone()).unwrap();
        let n = (0..=items)
            .find(|n| {
                caption.contains(&release_en(*n, 1).title.to_string())
                    && caption.contains(&format!("number {n}<"))
            })
            .unwrap_or_else(|| panic!("unknown post {caption}"));
        if count
            .insert(n, count.get(&n).copied().unwrap_or(0) + 1)
            .is_none()
        {
            first_order.push(n);
        }
    }
    let duplicates: usize = count.values().map(|c| c - 1).sum();
    // Every corrected release's post shows the correction (edited in place, or sent corrected).
    for n in &corrected {
        let shown = api.messages().iter().any(|m| {
            let text = m.caption.clone().or(m.text.clone()).unwrap();
            text.contains(&format!("number {n}<")) && text.contains("Corrected: ")
        });
        assert!(shown, "release {n} was corrected but its post was not");
    }
    let edits = api.edits().len();
    let probes = api
        .requests()
        .iter()
        .filter(|r| r.method.eq_ignore_ascii_case("editMessageReplyMarkup"))
        .count();
    println!(
        "crash loop (seed {seed}): {} releases, {} corrected, {kills} kills, {} posts, {edits} edits, \
         {duplicates} duplicates, {probes} probes for unanswered posts, {} rate-limit violations",
        items + 1,
        corrected.len(),
        api.messages().len(),
        api.violations().len()
    );
    assert_eq!(
        count.len() as u64,
        items + 1,
        "some release never reached the channel"
    );
    assert!(
        count.values().all(|c| *c <= 2),
        "a release was posted three times: {count:?}"
    );
    assert!(
        duplicates <= kills,
        "more duplicates ({duplicates}) than kills ({kills})"
    );
    let mut sorted = first_order.clone();
    sorted.sort_unstable();
    assert_eq!(first_order, sorted, "posts out of order");
    assert!(api.violations().is_empty(), "{:?}", api.violations());
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_during_polls_and_deliveries_loses_nothing() {
    crash_loop(40, 8, 7).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_releases_through_twenty_kills() {
    crash_loop(200, 20, 20261125).await;
}
