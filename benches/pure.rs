//! The pure stages on their own (issue 9), with criterion: reading a list page, parsing dates,
//! rendering the three feed formats, and formatting a Telegram post. A benchmark, not a test:
//!   cargo bench --bench pure
//! (`cargo test --all-targets` runs each once, as a smoke check.)
use std::path::Path;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use herald::config::{self, Config};
use herald::dates;
use herald::extract::html;
use herald::model::{Item, ItemId};
use herald::render::{FeedMeta, atom, json, rss};
use herald::telegram::format;
use std::hint::black_box;
use url::Url;

/// The shipped config, built in: the bench reads the config of the checkout it was built from
/// wherever its binary runs (CI's fresh clone shares the build folder, and a binary reused from
/// an earlier clone named a folder that was gone).
fn shipped_config() -> Config {
    let text = include_str!("../config.toml");
    config::parse(Path::new("config.toml"), text, Path::new("."))
        .expect("the shipped config is valid")
}

/// A list page shaped like akorda.kz's, with `n` cards.
fn list_html(n: usize) -> String {
    let mut page = String::from("<html><head><title>Events</title></head><body><main>");
    for k in (1..=n).rev() {
        page.push_str(&format!(
            "<div class=\"card\"><a href=\"/ru/release-{k}\"><img src=\"/uploadMedia/2026/{k}.jpg\"></a>\
             <h5>{} марта 2026 года</h5><h3><a href=\"/ru/glava-gosudarstva-prinyal-{k}\">Глава государства принял делегацию {k}</a></h3>\
             <p>Обсуждены вопросы торгово-экономического сотрудничества, энергетики и транспорта, часть {k}.</p></div>",
            k % 28 + 1
        ));
    }
    page.push_str("</main></body></html>");
    page
}

fn items(n: u32) -> Vec<Item> {
    (0..n)
        .map(|k| {
            let t = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::hours(i64::from(k));
            let link = format!("https://www.akorda.kz/ru/glava-gosudarstva-prinyal-{k}");
            Item {
                id: ItemId::new("akorda-ru", &link),
                source: "akorda-ru".into(),
                title: format!("Глава государства принял делегацию {k} & провёл переговоры"),
                link,
                summary: Some("Обсуждены вопросы торгово-экономического сотрудничества, энергетики и транспорта. Стороны договорились продолжить диалог.".into()),
                content_html: Some("<p>Глава государства принял делегацию.</p><p>Обсуждены вопросы сотрудничества &amp; инвестиций.</p>".repeat(4)),
                image: Some(format!("https://www.akorda.kz/uploadMedia/2026/{k}.jpg")),
                language: "ru".into(),
                published: t,
                updated: t,
                first_seen: t,
                seq: u64::from(k),
            }
        })
        .rev()
        .collect()
}

fn bench_list_page(c: &mut Criterion) {
    let config = shipped_config();
    let source = config
        .source("akorda-ru")
        .expect("akorda-ru in config.toml");
    let list = source.list.as_ref().expect("html source");
    let page = list_html(20);
    let url = Url::parse("https://www.akorda.kz/ru/events").unwrap();
    let reading = html::Reading {
        now: Utc::now(),
        tz: source.timezone,
        max_items: source.max_page_items,
        month_first: false,
    };
    c.bench_function("list page, 20 cards (ru)", |b| {
        b.iter(|| {
            let found = html::list_page(
                black_box(&page),
                &url,
                list,
                source.id_pattern.as_ref(),
                reading,
            )
            .expect("cards");
            assert_eq!(found.len(), 20);
        })
    });
}

fn bench_dates(c: &mut Criterion) {
    let texts = [
        ("21 March 2026", Some("%d %B %Y")),
        ("21 марта 2026 года", Some("%d %B %Y")),
        ("2026 жылғы 21 наурыз", None),
        ("Sat, 21 Mar 2026 14:30:00 +0500", None),
        ("опубликовано 21.03.2026 в 14:30", None),
    ];
    c.bench_function("parse 5 dates (en, ru, kk, RFC 2822, words around)", |b| {
        b.iter(|| {
            for (text, format) in texts {
                assert!(dates::parse_date(black_box(text), format).is_some());
            }
        })
    });
}

fn bench_render(c: &mut Criterion) {
    let items = items(100);
    let meta = FeedMeta {
        id: "akorda-ru",
        title: "Акорда — пресс-релизы",
        description: "Пресс-релизы Президента Казахстана",
        home_page_url: "https://www.akorda.kz/ru/events",
        public_url: "http://127.0.0.1:8080",
        query: "",
        language: Some("ru"),
        ttl_minutes: Some(10),
        updated: items[0].updated,
        hub: None,
        translations: None,
    };
    let mut group = c.benchmark_group("render 100 items");
    group.bench_function("rss", |b| b.iter(|| rss::render(black_box(&meta), &items)));
    group.bench_function("atom", |b| {
        b.iter(|| atom::render(black_box(&meta), &items))
    });
    group.bench_function("json", |b| {
        b.iter(|| json::render(black_box(&meta), &items))
    });
    group.finish();
}

fn bench_post(c: &mut Criterion) {
    let config = shipped_config();
    let source = config
        .source("akorda-ru")
        .expect("akorda-ru in config.toml");
    let item = items(1).remove(0);
    let share = [
        config::ShareTarget::X,
        config::ShareTarget::Facebook,
        config::ShareTarget::Telegram,
    ];
    c.bench_function("format a Telegram post (photo, 3 share buttons)", |b| {
        b.iter(|| format::format_post(black_box(&item), source, &share, true))
    });
}

criterion_group!(
    benches,
    bench_list_page,
    bench_dates,
    bench_render,
    bench_post
);
criterion_main!(benches);
