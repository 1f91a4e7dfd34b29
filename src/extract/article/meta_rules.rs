//! Named cases for what `extract` takes as the date, picture, title and summary of a page
//! (issues 5 and 21): the page's own chrome (masthead, header, sidebar, comments) must not
//! win over the article.

use super::{date_string, extract};
use rstest::rstest;
use url::Url;

/// Two paragraphs of body text, enough to be the article.
const BODY: &str = "<p>The council approved the plan for the new bridge after a long debate, and \
                    the work will start in spring. Residents welcomed the decision.</p><p>Some \
                    asked about the cost, which the mayor put at four million over three years, \
                    to be paid from the regional budget.</p>";

fn page(before: &str, article: &str, after: &str) -> String {
    format!(
        "<html><body>{before}<main><article>{article}{BODY}</article></main>{after}</body></html>"
    )
}

fn date_of(html: &str) -> Option<String> {
    extract(html, None, None).date.as_ref().map(date_string)
}

fn url() -> Url {
    Url::parse("https://example.com/news/a").unwrap()
}

#[rstest]
#[case::masthead_today_text(
    page(
        r#"<div class="top">Сегодня: 7 декабря 2026 г.</div>"#,
        r#"<h1>Совещание</h1><div class="date">3 ноября 2026 г.</div>"#,
        ""
    ),
    "2026-11-03"
)]
#[case::header_time(
    page(
        r#"<header><time datetime="2026-12-07">Monday, December 7, 2026</time></header>"#,
        r#"<h1>Grant</h1><p class="meta"><time datetime="2026-11-03T10:00:00Z">3 Nov</time></p>"#,
        ""
    ),
    "2026-11-03T10:00:00+00:00"
)]
#[case::aside_latest_news_first(
    page(r#"<aside><ul><li><a href="/n1">Other news</a> <time datetime="2026-12-01T09:00:00Z">Dec 1</time></li></ul></aside>"#,
         r#"<h1>Grant</h1><p>Published on <time datetime="2026-11-03T10:00:00Z">3 November 2026</time></p>"#, ""),
    "2026-11-03T10:00:00+00:00"
)]
#[case::left_column_of_latest_news(
    r#"<html><body><table><tr><td><b>Последние новости</b><p><span>04.11.2026</span><br><a href="/n0">Другая новость дня</a></p></td>
       <td><h1>Совещание по бюджету</h1><p class="date">03.11.2026</p>"#.to_owned() + BODY + "</td></tr></table></body></html>",
    "2026-11-03"
)]
#[case::updated_before_published(
    page("", r#"<h1>Grant</h1><div class="meta"><span>Updated 5 November 2026</span> · <span>Published 3 November 2026</span></div>"#, ""),
    "2026-11-03"
)]
#[case::updated_time_before_published_time(
    page("", r#"<h1>Grant</h1><p>Обновлено <time datetime="2026-11-05">5 ноября</time>, опубликовано <time datetime="2026-11-03">3 ноября</time></p>"#, ""),
    "2026-11-03"
)]
#[case::comment_time_after_byline(
    page("", r#"<h1>Title</h1><p class="byline">By Jane Doe, November 3, 2026</p>"#,
         r#"<ol id="comments"><li class="comment"><time datetime="2026-11-10T12:00:00Z">Nov 10</time><p>Nice.</p></li></ol>"#),
    "2026-11-03"
)]
#[case::json_ld_article_over_web_page(
    r#"<html><head><script type="application/ld+json">{"@graph":[{"@type":"WebPage","datePublished":"2019-01-01T00:00:00+00:00"},{"@type":"NewsArticle","datePublished":"2026-11-03T10:00:00+00:00"}]}</script></head><body><h1>Grant</h1>"#.to_owned() + BODY + "</body></html>",
    "2026-11-03T10:00:00+00:00"
)]
#[case::json_ld_article_day_made_precise(
    r#"<html><head><script type="application/ld+json">[{"@type":"BlogPosting","datePublished":"2026-11-03"},{"@type":"WebPage","datePublished":"2026-11-03T10:00:00+00:00"}]</script></head><body><h1>Grant</h1>"#.to_owned() + BODY + "</body></html>",
    "2026-11-03T10:00:00+00:00"
)]
// Cases that worked before and must keep working.
#[case::date_above_the_title(
    page(
        "",
        r#"<h5>21 March 2026</h5><h1>Head of State receives the Minister</h1>"#,
        ""
    ),
    "2026-03-21"
)]
#[case::time_in_the_articles_own_header(
    page(
        "",
        r#"<header><h1>Grant</h1><time datetime="2026-11-03">3 Nov</time></header>"#,
        ""
    ),
    "2026-11-03"
)]
#[case::meta_tag_first(
    r#"<html><head><meta property="article:published_time" content="2026-11-03T10:00:00+05:00"></head><body><time datetime="2026-12-07">today</time><h1>T</h1>"#.to_owned() + BODY + "</body></html>",
    "2026-11-03T10:00:00+05:00"
)]
fn the_articles_date_wins(#[case] html: String, #[case] expected: &str) {
    assert_eq!(date_of(&html).as_deref(), Some(expected), "{html}");
}

/// Readers' dates are never the article's: a page whose only dates are in its comments has none.
#[test]
fn dates_in_a_comment_thread_only_give_no_date() {
    let html = page(
        "",
        "<h1>Title</h1>",
        r#"<section id="discussion"><div class="post"><time datetime="2026-11-04">Nov 4</time><p>Agreed.</p></div></section>"#,
    );
    assert_eq!(date_of(&html), None);
}

/// A byline's list (author, date) in the post's header holds the article's date: only a list
/// item linking to another page is another story's.
#[test]
fn a_date_in_a_bylines_list_item_is_the_articles() {
    let html = format!(
        "<html><body><header class=\"post-header\"><h1>Bridge</h1><ul class=\"post-meta\">\
         <li>By Jane</li><li><time datetime=\"2024-03-05T10:00:00Z\">March 5, 2024</time></li>\
         </ul></header><div class=\"post-body\">{BODY}</div></body></html>"
    );
    assert_eq!(date_of(&html).as_deref(), Some("2024-03-05T10:00:00+00:00"));
    let html = format!(
        "<html><body><header class=\"post-header\"><h1>Bridge</h1><ul class=\"more\">\
         <li><a href=\"/older\">Older</a> <time datetime=\"2019-01-01\">Jan 1</time></li>\
         </ul></header><div class=\"post-body\">{BODY}</div></body></html>"
    );
    assert_eq!(date_of(&html), None);
}

/// The page's exact time on the day its address gives is kept over that bare day; a time on
/// another day gives way to the address.
#[test]
fn a_chrome_time_on_the_addresss_day_is_kept() {
    let page_at = |datetime: &str| {
        format!(
            "<html><body><header class=\"post-header\"><h1>Bridge</h1><p><time \
             datetime=\"{datetime}\">March</time></p></header><div class=\"post-body\">{BODY}\
             </div></body></html>"
        )
    };
    let url = Url::parse("https://example.com/2024/03/05/bridge").unwrap();
    let date_at = |datetime: &str| {
        extract(&page_at(datetime), Some(&url), None)
            .date
            .as_ref()
            .map(date_string)
    };
    assert_eq!(
        date_at("2024-03-05T10:00:00Z").as_deref(),
        Some("2024-03-05T10:00:00+00:00")
    );
    assert_eq!(
        date_at("2019-01-01T10:00:00Z").as_deref(),
        Some("2024-03-05")
    );
}

/// Another story's date in a "More" list beside the article is not the article's; a day in the
/// article's address is, when the page shows none of its own.
#[test]
fn a_related_storys_date_gives_way_to_the_address() {
    let html = page(
        "",
        "<h1>Title</h1>",
        r#"<aside><h3>More</h3><ul><li><a href="/x">Older story</a> <time datetime="2019-01-01">Jan 1 2019</time></li></ul></aside>"#,
    );
    assert_eq!(date_of(&html), None);
    for address in [
        "https://example.com/2024/03/05/council-budget",
        "https://example.com/news/2024-03-05-council-budget.html",
    ] {
        let url = Url::parse(address).unwrap();
        let date = extract(&html, Some(&url), None)
            .date
            .as_ref()
            .map(date_string);
        assert_eq!(date.as_deref(), Some("2024-03-05"), "{address}");
    }
    // The page's own date still wins over the address.
    let own = page(
        "",
        r#"<h1>Title</h1><time datetime="2024-03-04">March 4</time>"#,
        "",
    );
    let url = Url::parse("https://example.com/2024/03/05/council-budget").unwrap();
    let date = extract(&own, Some(&url), None)
        .date
        .as_ref()
        .map(date_string);
    assert_eq!(date.as_deref(), Some("2024-03-04"));
}

fn image_of(html: &str) -> Option<String> {
    extract(html, Some(&url()), None).image
}

#[rstest]
#[case::og_image_logo_falls_back_to_content(
    r#"<html><head><meta property="og:image" content="https://example.com/static/logo-og.png"></head><body><article><h1>T</h1><img src="/uploads/school.jpg">"#.to_owned() + BODY + "</article></body></html>",
    "https://example.com/uploads/school.jpg"
)]
#[case::noscript_image_over_placeholder(
    r#"<html><body><article><h1>T</h1><img src="/static/placeholder.png" class="lazyload"><noscript><img src="/uploads/real.jpg"></noscript>"#.to_owned() + BODY + "</article></body></html>",
    "https://example.com/uploads/real.jpg"
)]
#[case::data_lazy_srcset(
    r#"<html><body><article><h1>T</h1><img data-lazy-srcset="/u/a-400.jpg 400w, /u/a-1200.jpg 1200w">"#.to_owned() + BODY + "</article></body></html>",
    "https://example.com/u/a-1200.jpg"
)]
#[case::amp_img(
    r#"<html><body><header><amp-img src="/logo.png" width="100" height="30"></amp-img></header><article><h1>T</h1><amp-img src="/img/museum.jpg" width="800" height="450"></amp-img>"#.to_owned() + BODY + "</article></body></html>",
    "https://example.com/img/museum.jpg"
)]
#[case::json_ld_image_string(
    r#"<html><head><script type="application/ld+json">{"@type":"NewsArticle","image":"https://example.com/img/a.jpg"}</script></head><body><h1>T</h1>"#.to_owned() + BODY + "</body></html>",
    "https://example.com/img/a.jpg"
)]
#[case::json_ld_image_array(
    r#"<html><head><script type="application/ld+json">{"@type":"NewsArticle","image":["https://example.com/img/b.jpg"]}</script></head><body><h1>T</h1>"#.to_owned() + BODY + "</body></html>",
    "https://example.com/img/b.jpg"
)]
#[case::json_ld_image_object(
    r#"<html><head><script type="application/ld+json">{"@type":"NewsArticle","image":{"@type":"ImageObject","url":"https://example.com/img/c.jpg","width":1200}}</script></head><body><h1>T</h1>"#.to_owned() + BODY + "</body></html>",
    "https://example.com/img/c.jpg"
)]
fn the_articles_picture(#[case] html: String, #[case] expected: &str) {
    assert_eq!(image_of(&html).as_deref(), Some(expected), "{html}");
}

fn title_of(html: &str) -> Option<String> {
    extract(html, None, None).title
}

#[rstest]
#[case::site_title_h1_and_entry_title_h2(
    r#"<html><head><title>Daily Example</title></head><body><div id="header"><h1 class="site-title"><a href="/">Daily Example</a></h1></div><div class="post"><h2 class="entry-title"><a href="/p/1">Council approves bridge plan</a></h2>"#.to_owned() + BODY + "</div></body></html>",
    "Council approves bridge plan"
)]
#[case::logo_h1_in_the_page_header(
    r#"<html><body><header><h1 class="logo"><a href="/">Daily Example</a></h1></header><main><article><h1>Council approves bridge plan</h1>"#.to_owned() + BODY + "</article></main></body></html>",
    "Council approves bridge plan"
)]
#[case::itemprop_headline(
    r#"<html><head><title>Council approves bridge plan | Daily Example</title></head><body><div itemprop="headline">Council approves bridge plan</div>"#.to_owned() + BODY + "</body></html>",
    "Council approves bridge plan"
)]
#[case::title_tag_less_site_name(
    r#"<html><head><title>Council approves bridge plan | Daily Example</title></head><body>"#.to_owned() + BODY + "</body></html>",
    "Council approves bridge plan"
)]
#[case::og_title_less_site_name(
    r#"<html><head><meta property="og:site_name" content="Daily Example"><meta property="og:title" content="Council approves bridge plan - Daily Example"></head><body>"#.to_owned() + BODY + "</body></html>",
    "Council approves bridge plan"
)]
#[case::dash_in_a_title_kept(
    r#"<html><head><title>Covid-19 - what we know</title></head><body>"#.to_owned() + BODY + "</body></html>",
    "Covid-19 - what we know"
)]
#[case::og_title_less_a_section_of_the_site(
    r#"<html><head><meta property="og:site_name" content="CNN"><meta property="og:title" content="Council approves bridge plan | CNN Politics"></head><body>"#.to_owned() + BODY + "</body></html>",
    "Council approves bridge plan"
)]
// A tail that only begins with the site's name is the headline's own end, not a section.
#[case::og_title_tail_beginning_with_the_site_kept(
    r#"<html><head><meta property="og:site_name" content="Apple"><meta property="og:title" content="Why I switched - Apple users explain"></head><body>"#.to_owned() + BODY + "</body></html>",
    "Why I switched - Apple users explain"
)]
#[case::og_title_long_tail_after_the_site_kept(
    r#"<html><head><meta property="og:site_name" content="Apple"><meta property="og:title" content="Why I switched | Apple Fans Tell Us Their Stories"></head><body>"#.to_owned() + BODY + "</body></html>",
    "Why I switched | Apple Fans Tell Us Their Stories"
)]
#[case::og_title_site_first_the_headline_shown(
    r#"<html><head><meta property="og:title" content="Daily Example | Council approves bridge plan"></head><body><article><h1>Council approves bridge&nbsp;plan</h1>"#.to_owned() + BODY + "</article></body></html>",
    "Council approves bridge plan"
)]
#[case::og_title_not_cut_to_a_sections_h1(
    r#"<html><head><meta property="og:title" content="Sport - Lakers beat the Celtics in overtime"></head><body><h1>Sport</h1><article>"#.to_owned() + BODY + "</article></body></html>",
    "Sport - Lakers beat the Celtics in overtime"
)]
fn the_articles_title(#[case] html: String, #[case] expected: &str) {
    assert_eq!(title_of(&html).as_deref(), Some(expected), "{html}");
}

fn summary_of(html: &str) -> String {
    extract(html, None, None).summary.unwrap_or_default()
}

#[rstest]
#[case::byline_and_heading(
    r#"<p>By Jane Doe, Education Correspondent, Astana bureau</p><h2>What the council decided on Tuesday evening</h2>"#
)]
#[case::caption_and_share_line(
    r#"<p>Photo: pupils at a rural school in the Akmola region.</p><p>Share this story on Facebook, Twitter and Telegram</p>"#
)]
#[case::russian_byline_and_caption(
    r#"<p>Автор: Иван Петров, специальный корреспондент нашей газеты в Астане</p><p>Фото пресс-службы акимата Акмолинской области, архив редакции за прошлый год.</p>"#
)]
#[case::bold_subheading(r#"<p><strong>Council decides on the bridge at last</strong></p>"#)]
fn the_lead_is_body_paragraphs_only(#[case] before_body: &str) {
    let html =
        format!("<html><body><article><h1>Title</h1>{before_body}{BODY}</article></body></html>");
    let lead = summary_of(&html);
    assert!(lead.starts_with("The council approved the plan"), "{lead}");
}
