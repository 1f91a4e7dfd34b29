//! A fake akorda.kz: list pages for en/ru/kz shaped like the real ones (SPEC, "The first
//! target"), with releases that tests add, edit and break between polls.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const PER_PAGE: usize = 10;

#[derive(Clone, Debug)]
pub struct Release {
    pub id: u64,
    pub slug: String,
    pub title: String,
    /// As printed on the page, e.g. "21 March 2026".
    pub date: String,
    pub summary: String,
    pub image: Option<String>,
    /// The article's paragraphs; `None`: a generic text built from the summary.
    pub body: Option<String>,
}

/// How a list page answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// HTTP 500.
    Error,
    /// A page of a redesigned site: no `div.card` at all.
    Redesigned,
    /// A redesigned site that still lists the releases, in a new shape
    /// (`article.news-tile` with `h2 a` and `time[datetime]`).
    RedesignedList,
    /// Never answers within the client's timeout.
    Hang,
    /// The usual page, its cards inside this many nested `<div>`s (a hostile page).
    Nested(usize),
    /// The usual page, this many unclosed links (`<a href=x>link`) before its cards.
    UnclosedLinks(usize),
}

#[derive(Default)]
struct Inner {
    /// Per language ("en", "ru", "kz"): newest first, as the site lists them.
    lists: HashMap<String, Vec<Release>>,
    modes: HashMap<String, Mode>,
    /// Requests per path (with query), to check paging and conditional GET.
    hits: HashMap<String, usize>,
    not_modified: usize,
    broken_articles: Vec<u64>,
    /// Releases per list page when not `PER_PAGE`.
    per_page: Option<usize>,
}

#[derive(Clone)]
pub struct FakeSite {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl FakeSite {
    pub async fn start() -> FakeSite {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/{lang}/events", get(list))
            .route("/{lang}/{page}", get(article))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeSite { addr, inner }
    }

    pub fn list_url(&self, lang: &str) -> String {
        format!("http://{}/{lang}/events", self.addr)
    }

    /// Publishes a release on top of the list (the newest).
    pub fn publish(&self, lang: &str, release: Release) {
        let mut inner = self.inner.lock().unwrap();
        inner
            .lists
            .entry(lang.into())
            .or_default()
            .insert(0, release);
    }

    pub fn edit_title(&self, lang: &str, id: u64, title: &str) {
        let mut inner = self.inner.lock().unwrap();
        for r in inner.lists.entry(lang.into()).or_default() {
            if r.id == id {
                r.title = title.into();
            }
        }
    }

    /// Corrects a release's title and the slug of its address (the id stays, as akorda.kz's).
    pub fn correct(&self, lang: &str, id: u64, title: &str, slug: &str) {
        let mut inner = self.inner.lock().unwrap();
        for r in inner.lists.entry(lang.into()).or_default() {
            if r.id == id {
                r.title = title.into();
                r.slug = slug.into();
            }
        }
    }

    /// The article page of this release answers 404 from now on.
    pub fn break_article(&self, id: u64) {
        self.inner.lock().unwrap().broken_articles.push(id);
    }

    /// Lists this many releases per page instead of `PER_PAGE`.
    pub fn set_per_page(&self, n: usize) {
        self.inner.lock().unwrap().per_page = Some(n);
    }

    pub fn set_mode(&self, lang: &str, mode: Mode) {
        self.inner.lock().unwrap().modes.insert(lang.into(), mode);
    }

    pub fn hits(&self, path_and_query: &str) -> usize {
        *self
            .inner
            .lock()
            .unwrap()
            .hits
            .get(path_and_query)
            .unwrap_or(&0)
    }

    pub fn not_modified_answers(&self) -> usize {
        self.inner.lock().unwrap().not_modified
    }
}

/// An English release numbered `n`, dated `day` March 2026.
pub fn release_en(n: u64, day: u32) -> Release {
    Release {
        id: 100_000 + n,
        slug: format!("president-meets-delegation-{n}"),
        title: format!("Head of State receives delegation number {n}"),
        date: format!("{day} March 2026"),
        summary: format!("The President discussed cooperation, part {n}. Both sides agreed."),
        image: Some(format!("/uploadMedia/2026/03/{n}.jpg")),
        body: None,
    }
}

pub fn release_ru(n: u64, day: u32) -> Release {
    Release {
        id: 200_000 + n,
        slug: format!("glava-gosudarstva-prinyal-{n}"),
        title: format!("Глава государства принял делегацию № {n}"),
        date: format!("{day} марта 2026 года"),
        summary: format!("Обсуждено сотрудничество, часть {n}."),
        image: Some(format!("/assets/media/{n}.png")),
        body: None,
    }
}

pub fn release_kz(n: u64, day: u32) -> Release {
    Release {
        id: 300_000 + n,
        slug: format!("memleket-basshysy-{n}"),
        title: format!("Мемлекет басшысы делегацияны қабылдады № {n}"),
        date: format!("{day} наурыз 2026 ж."),
        summary: format!("Ынтымақтастық талқыланды, {n}-бөлім."),
        image: None,
        body: None,
    }
}

/// An article page shaped like akorda.kz's: Open Graph tags, the body in `div.content-text`,
/// then "Go back" and share links that are not part of the text. Releases whose id is listed
/// in `broken_articles` answer 404.
async fn article(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((lang, page)): Path<(String, String)>,
) -> Response {
    let inner = inner.lock().unwrap();
    let found = inner.lists.get(&lang).and_then(|list| {
        list.iter()
            .find(|r| page == format!("{}-{}", r.slug, r.id))
            .cloned()
    });
    let Some(r) = found else {
        return (StatusCode::NOT_FOUND, "no such page").into_response();
    };
    if inner.broken_articles.contains(&r.id) {
        return (StatusCode::NOT_FOUND, "gone").into_response();
    }
    let text = match &r.body {
        Some(body) => body
            .split("\n\n")
            .map(|p| format!("<p>{}</p>", escape(p)))
            .collect::<String>(),
        None => format!(
            "<p>{} The talks covered trade, energy and transport.</p>\n\
             <p>Full text of release {}: the parties signed a memorandum on cooperation.</p>",
            escape(&r.summary),
            r.id
        ),
    };
    let body = format!(
        r#"<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:image" content="/uploadMedia/og/{id}.jpg"></head><body>
<header><nav><a href="/{lang}">Home</a> <a href="/{lang}/events">Events</a></nav></header>
<main><h1>{title}</h1><div class="content-text">
{text}
<div class="share"><a href="/{lang}/events">Go back</a> <a href="https://twitter.com/share">Twitter</a> <a href="https://facebook.com/share">Facebook</a> <a href="javascript:print()">Print</a></div>
</div></main><footer>© Akorda</footer></body></html>"#,
        title = escape(&r.title),
        id = r.id,
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn card(lang: &str, r: &Release) -> String {
    let href = format!("/{lang}/{}-{}", r.slug, r.id);
    let img = r
        .image
        .as_ref()
        .map(|src| format!(r#"<a href="{href}"><img src="{src}" alt=""></a>"#))
        .unwrap_or_default();
    format!(
        r#"<div class="card">{img}<div class="card-body"><h5>{date}</h5><h3><a href="{href}">{title}</a></h3><p>{summary}</p></div></div>"#,
        date = escape(&r.date),
        title = escape(&r.title),
        summary = escape(&r.summary),
    )
}

async fn list(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(lang): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let (mode, body) = {
        let mut inner = inner.lock().unwrap();
        let key = match page {
            1 => format!("/{lang}/events"),
            n => format!("/{lang}/events?page={n}"),
        };
        *inner.hits.entry(key).or_default() += 1;
        let mode = *inner.modes.get(&lang).unwrap_or(&Mode::Normal);
        let releases = inner.lists.get(&lang).cloned().unwrap_or_default();
        let per_page = inner.per_page.unwrap_or(PER_PAGE);
        let cards: String = releases
            .iter()
            .skip((page.max(1) - 1) * per_page)
            .take(per_page)
            .map(|r| card(&lang, r))
            .collect();
        let tiles: String = releases
            .iter()
            .take(per_page)
            .map(|r| {
                format!(
                    "<article class=\"news-tile\"><h2><a href=\"/{lang}/{}-{}\">{}</a></h2><span class=\"when\">{}</span></article>",
                    r.slug,
                    r.id,
                    escape(&r.title),
                    escape(&r.date)
                )
            })
            .collect();
        let body = match mode {
            Mode::RedesignedList => format!(
                "<!doctype html><html lang=\"{lang}\"><body><section class=\"news-grid\">{tiles}</section></body></html>"
            ),
            Mode::Redesigned => "<html><body><section class=\"news-grid\"><article>new look</article></section></body></html>".to_owned(),
            Mode::Nested(depth) => format!(
                "<!doctype html><html><body>{}{cards}</body></html>",
                "<div>".repeat(depth)
            ),
            Mode::UnclosedLinks(n) => format!(
                "<!doctype html><html><body>{}</a>{cards}</body></html>",
                "<a href=x>link".repeat(n)
            ),
            _ => format!(
                "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>Akorda</title></head>\
                 <body><header><nav><a href=\"/{lang}\">Home</a></nav></header><main><div class=\"row\">{cards}</div>\
                 <ul class=\"pagination\"><li><a href=\"?page={next}\">{next}</a></li></ul></main></body></html>",
                next = page + 1
            ),
        };
        (mode, body)
    };
    match mode {
        Mode::Error => return (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
        Mode::Hang => {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
        _ => {}
    }
    let etag = format!(
        "\"{:x}\"",
        body.len() * 31 + body.bytes().map(|b| b as usize).sum::<usize>()
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        inner.lock().unwrap().not_modified += 1;
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}
