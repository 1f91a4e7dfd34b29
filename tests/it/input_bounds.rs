//! Every input's cost is bounded (issue 19): a list page nested deeper than any real one is
//! refused with a clear message, off the async workers, while the server keeps answering; a
//! list page of very many cards stores a bounded number per poll and never announces the rest.

use crate::common;

use common::site::{Mode, release_en};
use common::{Setup, spawn_app, spawn_app_with};
use herald::model::ItemState;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn a_page_nested_past_the_bound_is_refused_and_the_server_keeps_answering() {
    let t = spawn_app().await;
    t.site.publish("en", release_en(1, 3));
    t.site.set_mode("en", Mode::Nested(200_000));
    let poll = {
        let app = t.app.clone();
        let source = app.config().source("akorda-en").unwrap().clone();
        let opts = herald::pipeline::PollOptions {
            conditional: false,
            report_known: true,
        };
        tokio::spawn(async move { app.poll(&source, opts).await })
    };
    // Meanwhile /healthz answers at once.
    for _ in 0..5 {
        let started = std::time::Instant::now();
        assert_eq!(t.get("/healthz").await.status(), 200);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let e = poll.await.unwrap().unwrap_err().to_string();
    assert!(e.contains("deep") && e.contains("refused"), "{e}");
    let state = t.app.shared.store.source_state("akorda-en").unwrap();
    assert!(state.last_error.unwrap().contains("refused"));
    // A page nested as real ones are is read as usual.
    t.site.set_mode("en", Mode::Nested(40));
    assert_eq!(t.poll("akorda-en").await.unwrap().count(ItemState::New), 1);
    t.stop().await;
}

/// Depth is counted as the tree builder nests: 2,000 unclosed links are one level deep (each
/// `<a>` ends the one before), so the page is read, not refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_page_of_unclosed_links_is_not_taken_as_deep() {
    let t = spawn_app().await;
    t.site.publish("en", release_en(1, 3));
    t.site.set_mode("en", Mode::UnclosedLinks(2000));
    let report = t.poll("akorda-en").await.unwrap();
    assert_eq!(report.count(ItemState::New), 1);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_of_many_cards_stores_a_bounded_number_and_never_the_rest() {
    let t = spawn_app_with(Setup {
        extra_source_keys: "max_page_items = 50\nmax_new_per_poll = 20\nmax_pages = 1".into(),
        ..Setup::default()
    })
    .await;
    t.site.set_per_page(1000);
    for n in 1..=120 {
        t.site.publish("en", release_en(n, 1 + (n % 28) as u32));
    }
    let first = t.poll("akorda-en").await.unwrap();
    assert_eq!(first.count(ItemState::New), 20, "stored per poll");
    assert_eq!(t.app.shared.store.count("akorda-en").unwrap(), 20);
    // The 30 read but not stored are known from now on: a new release on top is the only new
    // one, and the page is read as far as 50 cards.
    t.site.publish("en", release_en(121, 28));
    let second = t.poll("akorda-en").await.unwrap();
    assert_eq!(second.count(ItemState::New), 1);
    assert_eq!(second.count(ItemState::Known), 49, "read per page");
    t.stop().await;
}

/// A title of megabytes (a broken site) is stored cut at a word to `MAX_TITLE_CHARS`, with an
/// ellipsis: it would be in every feed and post.
#[tokio::test(flavor = "multi_thread")]
async fn a_title_longer_than_a_title_can_be_is_cut_at_a_word() {
    let t = spawn_app().await;
    let mut release = release_en(1, 3);
    release.title = "Head of State receives ".repeat(20_000);
    t.site.publish("en", release);
    let report = t.poll("akorda-en").await.unwrap();
    let title = &report.items[0].item.title;
    let max = herald::pipeline::MAX_TITLE_CHARS;
    assert!(title.chars().count() <= max, "{}", title.chars().count());
    assert!(
        title.chars().count() > max - 30,
        "{}",
        title.chars().count()
    );
    // Whole words, then the ellipsis.
    let words = title.strip_suffix('…').unwrap_or_default();
    assert!(
        words.ends_with(['d', 'f', 'e', 's']) && !words.ends_with(' '),
        "{}",
        &title[title.len() - 40..]
    );
    assert!(
        "Head of State receives "
            .repeat(20_000)
            .starts_with(&format!("{words} "))
    );
    t.stop().await;
}
