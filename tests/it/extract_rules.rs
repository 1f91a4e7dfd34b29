//! The article extractor's rules that generalise (issue 21), one small synthetic page each:
//! the tree is built as browsers build it, a junk word in a class is weighed rather than obeyed,
//! an `<aside>` can be the post, link lists and teasers do not beat the article, and the
//! cleaning never throws the whole article away.

use herald::extract::article::{decode_file, extract};

/// `n` sentences of ordinary prose about `topic` (about 110 characters each).
fn prose(topic: &str, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "Sentence {i} about the {topic}, which the council discussed at length, \
                 is plain prose that a reader came for."
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn paragraphs(topic: &str, count: usize) -> String {
    (0..count)
        .map(|i| format!("<p>{}</p>", prose(&format!("{topic} {i}"), 3)))
        .collect()
}

/// A navigation block of `n` links, the kind of text around every article.
fn link_list(n: usize) -> String {
    let items: String = (0..n)
        .map(|i| format!("<li><a href=\"/story-{i}\">Another story headline number {i}</a></li>"))
        .collect();
    format!("<ul>{items}</ul>")
}

fn text_of(html: &str) -> String {
    extract(html, None, None).text
}

/// Rule 1: a page whose head never closes, or whose `<body>` is in a conditional comment, has
/// its body where a browser puts it (the old builder kept it in the head: empty output).
#[test]
fn a_head_left_open_does_not_swallow_the_body() {
    let body = format!("<div class=\"post\">{}</div>", paragraphs("harbour", 4));
    for page in [
        format!("<html><head><title>T</title><meta charset=utf-8>{body}</html>"),
        format!("<html><head><title>T</title><!--[if IE]><body class=ie><![endif]-->{body}"),
    ] {
        let text = text_of(&page);
        assert!(text.contains("Sentence 0 about the harbour 3"), "{text:?}");
    }
}

/// Rule 2: a junk word in a class is evidence, not a verdict: a block holding most of the
/// page's text, or one that reads as prose, stays; the same word on a short block of links
/// still drops it.
#[test]
fn junk_words_in_class_names_are_weighed_against_the_text() {
    let nav = format!("<nav>{}</nav>", link_list(5));
    // Wrappers of the whole post named "meta", "byline", a forum's opening post named "comment".
    for class in [
        "post-meta",
        "byline-author",
        "mtnCommentText",
        "caption-image",
    ] {
        let page = format!(
            "<body>{nav}<div class=\"{class}\">{}</div><div class=\"share\"><a href=/s>Share</a></div></body>",
            paragraphs("bridge", 5)
        );
        let text = text_of(&page);
        assert!(text.contains("about the bridge 4"), "{class}: {text:?}");
    }
    // Page builders put each block of the article in a "widget"; Drupal's body field says its
    // label is hidden; Bootstrap's `hidden-xs` hides on phones only. Each block is a small part
    // of a page full of links, yet prose.
    for class in [
        "elementor-widget elementor-widget-text-editor",
        "field field--name-body field--label-hidden",
        "well hidden-xs",
    ] {
        let blocks: String = (0..3)
            .map(|i| {
                format!(
                    "<div class=\"{class}\">{}</div>",
                    paragraphs(&format!("dam {i}"), 2)
                )
            })
            .collect();
        let page = format!(
            "<body><div class=\"main\">{blocks}</div><div class=\"links\">{}</div></body>",
            link_list(120)
        );
        let text = text_of(&page);
        assert!(
            text.contains("about the dam 0 0") && text.contains("about the dam 2 1"),
            "{class}: {text:?}"
        );
        assert!(
            !text.contains("Another story headline"),
            "{class}: {text:?}"
        );
    }
    let page = format!(
        "<body><div class=\"content\">{}<div class=\"social-share\"><a href=/t>Tweet this story</a> <a href=/f>Post it to Facebook</a></div></div></body>",
        paragraphs("canal", 4)
    );
    let text = text_of(&page);
    assert!(
        text.contains("about the canal 3") && !text.contains("Tweet"),
        "{text:?}"
    );
}

/// Rule 2: tags and categories in a post's class (`tag-promotion`, `category-comments`) say what
/// it is about, not that it is boilerplate.
#[test]
fn taxonomy_classes_say_nothing_about_layout() {
    let page = format!(
        "<body><div class=\"site\">{}<div class=\"post type-post tag-promotion category-comments\">{}</div></div></body>",
        link_list(8),
        paragraphs("market", 4)
    );
    let text = text_of(&page);
    assert!(text.contains("about the market 3"), "{text:?}");
}

/// Rule 3: an `<aside>` is left out, unless it is the post.
#[test]
fn an_aside_can_hold_the_post() {
    let page = format!(
        "<body><aside class=\"blogPost\">{}</aside><aside class=\"sidebar\"><p>{}</p>{}</aside></body>",
        paragraphs("lighthouse", 4),
        "About this blog: written by a keeper of lights, for friends of the sea.",
        link_list(6)
    );
    let text = text_of(&page);
    assert!(text.contains("about the lighthouse 3"), "{text:?}");
    assert!(
        !text.contains("About this blog") && !text.contains("Another story"),
        "{text:?}"
    );
}

/// Rule 4: a line of thousands of linked names with commas between them ("kudos") does not
/// outscore the article for its commas.
#[test]
fn a_list_of_links_with_commas_does_not_beat_the_article() {
    let names: Vec<String> = (0..5000)
        .map(|i| format!("<a href=\"/u/{i}\">reader_{i}</a>"))
        .collect();
    let page = format!(
        "<body><div class=\"work\"><div class=\"chapter\">{}</div></div><div id=\"feedback\"><p class=\"thanks\">{} left kudos on this work!</p></div></body>",
        paragraphs("orchard", 6),
        names.join(", ")
    );
    let text = text_of(&page);
    assert!(
        text.contains("about the orchard 5"),
        "{}",
        &text[..text.len().min(300)]
    );
    assert!(
        !text.contains("reader_1,"),
        "{}",
        &text[..text.len().min(300)]
    );
}

/// Rule 4: text written straight into a `<div>` between `<br>`s is the article's paragraph: it
/// beats a short contact block, though a link-heavy column sits next to it.
#[test]
fn text_written_straight_into_a_div_is_a_paragraph() {
    let page = format!(
        "<body><div class=\"row\"><div class=\"col-3\">{}</div><div class=\"col-9\"><p class=\"title\">A headline</p><small>05/10/2018 - by A. Writer</small><br><br>{}<br><br><br></div></div><div class=\"contact\"><p>Town hall, 1111 Main Street, phone 2106-8000, open Monday to Friday, closed on holidays.</p></div></body>",
        link_list(40),
        prose("ambulance", 4)
    );
    let text = text_of(&page);
    assert!(text.contains("Sentence 3 about the ambulance"), "{text:?}");
    assert!(!text.contains("Town hall"), "{text:?}");
}

/// Rule 5: a post that is a list of links (a link round-up) is not cleaned away to nothing:
/// when the cleaning leaves little of the article found, it is written without it.
#[test]
fn a_post_that_is_a_list_of_links_is_not_thrown_away() {
    let items: String = (0..12)
        .map(|i| {
            format!(
                "<li><a href=\"/read/{i}\">A long and interesting article on river engineering, part {i}</a> (via a friend)</li>"
            )
        })
        .collect();
    let page = format!(
        "<body><div class=\"entry-content\"><p>This week's reading list, with commas, links, and notes, for everyone.</p><ul>{items}</ul></div></body>"
    );
    let text = text_of(&page);
    assert!(text.contains("river engineering, part 11"), "{text:?}");
}

/// Only the page's headline `<h1>` is left out: further ones inside the article are section
/// headings (Medium writes them so).
#[test]
fn section_headings_in_h1_are_kept() {
    let page = format!(
        "<body><h1>The headline</h1><article><div class=\"body\">{}<h1>Why it matters</h1>{}</div></article></body>",
        paragraphs("valley", 3),
        paragraphs("delta", 3)
    );
    let text = text_of(&page);
    assert!(
        text.contains("Why it matters") && !text.contains("The headline"),
        "{text:?}"
    );
}

/// A file saved as UTF-8 that still declares the legacy charset it was served in is read as
/// UTF-8 (read as GB2312 it was mojibake).
#[test]
fn a_utf8_file_declaring_another_charset_is_read_as_utf8() {
    let page = format!(
        "<html><head><meta charset=\"gb2312\"></head><body><div>{}<p>人工智能公司开发出一款能够用自己的记忆学习新知识的产品。</p></div></body></html>",
        paragraphs("river", 2)
    );
    let text = text_of(&decode_file(page.as_bytes()));
    assert!(text.contains("人工智能公司开发出"), "{text:?}");
}

/// Inside an article, a list item that is all link ("Here is our year in review!") is one of
/// the list's points, as its neighbours are: a list kept as a whole keeps its items (the item
/// was dropped for its link density).
#[test]
fn an_item_that_is_a_link_in_a_list_of_prose_is_kept() {
    let page = format!(
        "<body><article><div class=\"entry\">{}<ul>\
         <li><a href=\"/review\">Here is our year in review for the whole project!</a></li>\
         <li>We have just landed a <a href=\"/bug/1\">fix</a>. {}</li>\
         <li>Also about to land is a <a href=\"/bug/2\">second fix</a>. {}</li>\
         </ul>{}</div></article></body>",
        paragraphs("bridge", 2),
        prose("updates", 2),
        prose("downloads", 2),
        paragraphs("tunnel", 2)
    );
    let text = text_of(&page);
    assert!(text.contains("Here is our year in review"), "{text:?}");
    assert!(text.contains("Sentence 1 about the downloads"), "{text:?}");
}

/// A `<span>` wrapping a link in the middle of a sentence is part of the sentence, not a block
/// of links: "… in a statement Twitter Lite is now available …" kept its words.
#[test]
fn a_link_in_a_span_inside_a_sentence_is_kept() {
    let page = format!(
        "<body><div class=\"article-body\">{}<p>According to a <a href=\"/s\">statement</a> \
         <span class=\"link\"><a href=\"/lite\">Twitter Lite</a></span> is now available in \
         eleven more countries, from Bolivia to Venezuela, as of this week.</p>{}</div></body>",
        paragraphs("bridge", 3),
        paragraphs("tunnel", 2)
    );
    let text = text_of(&page);
    assert!(
        text.contains("statement Twitter Lite is now available"),
        "{text:?}"
    );
}

/// An article split into chunks marked alike (the same tag and class), at different depths
/// around a picture or a pull quote: every chunk is the article, not only the biggest.
#[test]
fn chunks_of_one_article_marked_alike_are_all_kept() {
    let page = format!(
        "<body><div class=\"page\">\
         <div class=\"wrap\"><div><div><div><div class=\"chunk\">{}</div></div></div></div></div>\
         <figure><img src=\"/a.jpg\"></figure>\
         <div class=\"chunk\">{}</div></div>\
         <div class=\"contact\">{}</div></body>",
        paragraphs("opening", 3),
        paragraphs("rest", 6),
        link_list(8)
    );
    let text = text_of(&page);
    assert!(text.contains("Sentence 0 about the opening 0"), "{text:?}");
    assert!(text.contains("Sentence 2 about the rest 5"), "{text:?}");
    assert!(!text.contains("Another story headline"), "{text:?}");
}

/// The article's body in a box of its own ("read more") with its opening paragraphs beside
/// the box: the box's parent, scoring higher than the box for the paragraphs it adds, is the
/// article (readability walks up so too).
#[test]
fn a_parent_scoring_higher_than_the_box_is_the_article() {
    let page = format!(
        "<body><div class=\"piece\"><h1>Headline</h1>\
         <div class=\"intro\"><p><strong>{}</strong></p></div><p>{}</p><p>{}</p>\
         <div id=\"more\"><div><a href=\"#\">Read more</a></div><div class=\"rest\">{}</div></div>\
         </div><div class=\"contact\">{}</div></body>",
        prose("opening", 3),
        prose("second", 3),
        prose("third", 3),
        paragraphs("rest", 5),
        link_list(8)
    );
    let text = text_of(&page);
    assert!(text.contains("Sentence 0 about the opening"), "{text:?}");
    assert!(text.contains("Sentence 2 about the third"), "{text:?}");
    assert!(text.contains("Sentence 2 about the rest 4"), "{text:?}");
    assert!(!text.contains("Read more"), "{text:?}");
}
