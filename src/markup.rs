//! Telegram's HTML subset (Bot API, "HTML style"): its limits, escaping, entities, what a text
//! counts after entity parsing, and a check that a text is markup Telegram parses. A leaf: the
//! post formatter, the template checker (in `config` too) and the preview all read it here.

/// Bot API, sendPhoto: "Photo caption …, 0-1024 characters after entities parsing".
pub const CAPTION_LIMIT: usize = 1024;

/// Bot API, sendMessage: "Text of the message to be sent, 1-4096 characters after entities
/// parsing".
pub const MESSAGE_LIMIT: usize = 4096;

/// Escapes text for Telegram HTML. Bot API: "All <, > and & symbols that are not a part of a tag
/// or an HTML entity must be replaced with the corresponding HTML entities".
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            _ => out.push(c),
        }
    }
    out
}

/// Telegram counts its limits in UTF-16 code units: an emoji outside the BMP counts 2.
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// Length of Telegram HTML after entity parsing, in UTF-16 code units (what Telegram's limits
/// count).
pub fn visible_utf16_len(html: &str) -> usize {
    utf16_len(&decode(html))
}

/// The text Telegram shows for `html`: tags dropped, entities decoded. Bot API, "HTML style":
/// "All numerical HTML entities are supported. The API currently supports only the following named
/// HTML entities: &lt;, &gt;, &amp; and &quot;." Anything else after `&` stays as written.
pub fn decode(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(['<', '&']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with('<') {
            match rest.find('>') {
                Some(end) => rest = &rest[end + 1..],
                None => {
                    out.push_str(rest);
                    rest = "";
                }
            }
        } else if let Some((c, len)) = entity(rest) {
            out.push(c);
            rest = &rest[len..];
        } else {
            out.push('&');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The character of the entity at the start of `text` (which starts with `&`) and the entity's
/// length in bytes.
pub fn entity(text: &str) -> Option<(char, usize)> {
    // The longest entity we decode, "&#x10FFFF;", is 10 bytes; `;` is ASCII, so its position is a
    // character boundary.
    let end = text.bytes().take(12).position(|b| b == b';')?;
    let name = &text[1..end];
    let c = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, end + 1))
}

/// Escapes text for Telegram HTML, both between tags and inside a quoted attribute.
pub fn escape_attribute(text: &str) -> String {
    escape(text).replace('"', "&quot;")
}

/// Bot API, "HTML style": the tags Telegram understands.
pub const TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "tg-spoiler",
    "tg-emoji",
    "span",
    "a",
    "code",
    "pre",
    "blockquote",
];

/// Checks that `html` is text Telegram parses in `parse_mode` HTML: only its tags, each closed in
/// order, with the attributes it knows; `&` only as an entity it decodes; no bare `>`.
pub fn check_markup(html: &str) -> Result<(), String> {
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(['<', '>', '&']) {
        rest = &rest[at..];
        if rest.starts_with('>') {
            return Err("a bare `>` in the text: write &gt;".into());
        }
        if rest.starts_with('&') {
            let Some((_, len)) = entity(rest) else {
                let shown: String = rest.chars().take(12).collect();
                return Err(format!(
                    "`{shown}`: `&` must start &amp;, &lt;, &gt;, &quot; or a numeric entity"
                ));
            };
            rest = &rest[len..];
            continue;
        }
        let Some(end) = rest.find('>') else {
            return Err("a `<` that opens no tag: write &lt;".into());
        };
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim().to_ascii_lowercase();
            match open.pop() {
                Some(top) if top == name => {}
                Some(top) => return Err(format!("`</{name}>` closes `<{top}>`")),
                None => return Err(format!("`</{name}>` closes nothing")),
            }
            continue;
        }
        let name_end = tag
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(tag.len());
        let name = tag[..name_end].to_ascii_lowercase();
        if !TAGS.contains(&name.as_str()) {
            return Err(format!(
                "`<{tag}>` is not a Telegram tag (Telegram knows: {})",
                TAGS.join(", ")
            ));
        }
        check_attributes(&name, tag[name_end..].trim())?;
        // Bot API: `pre` holds only its `code`; nothing goes inside `code`; links do not nest.
        let refused =
            |o: &String| (o == "pre" && name != "code") || o == "code" || (o == "a" && name == "a");
        if open.iter().any(refused) {
            return Err(format!(
                "`<{name}>` cannot be inside `<{}>`",
                open.join("><")
            ));
        }
        open.push(name);
    }
    match open.last() {
        Some(tag) => Err(format!("`<{tag}>` is never closed")),
        None => Ok(()),
    }
}

/// The attributes Telegram accepts on each tag.
pub fn check_attributes(name: &str, attributes: &str) -> Result<(), String> {
    let attrs = parse_attributes(attributes)
        .ok_or_else(|| format!("`<{name} {attributes}>`: unreadable attributes"))?;
    let only = |allowed: &[&str]| match attrs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        Some((k, _)) => Err(format!("`<{name}>` takes no attribute `{k}`")),
        None => Ok(()),
    };
    match name {
        "a" => {
            only(&["href"])?;
            let href = attrs.iter().find(|(k, _)| k == "href").map(|(_, v)| v);
            let Some(href) = href else {
                return Err("`<a>` needs href=\"…\"".into());
            };
            let href = decode(href);
            match url::Url::parse(href.trim()) {
                Ok(u) if matches!(u.scheme(), "http" | "https" | "tg" | "mailto") => Ok(()),
                _ => Err(format!(
                    "`<a href=\"{href}\">`: not an http(s) or tg:// link"
                )),
            }
        }
        "span" => match attrs.as_slice() {
            [(k, v)] if k == "class" && v == "tg-spoiler" => Ok(()),
            _ => Err("`<span>` is only `<span class=\"tg-spoiler\">`".into()),
        },
        // A custom emoji: its id, digits (the emoji inside is shown where it cannot be).
        "tg-emoji" => match attrs.as_slice() {
            [(k, v)]
                if k == "emoji-id" && !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Ok(())
            }
            _ => Err("`<tg-emoji>` takes emoji-id=\"…\" (the custom emoji's number)".into()),
        },
        "code" => only(&["class"]),
        "blockquote" => only(&["expandable"]),
        _ => only(&[]),
    }
}

/// `href="x" expandable` as `[("href", "x"), ("expandable", "")]`; `None` when unreadable.
fn parse_attributes(mut text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    loop {
        text = text.trim_start();
        if text.is_empty() {
            return Some(out);
        }
        let key_end = text
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(text.len());
        let key = text[..key_end].to_ascii_lowercase();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return None;
        }
        text = text[key_end..].trim_start();
        let Some(after) = text.strip_prefix('=') else {
            out.push((key, String::new()));
            continue;
        };
        let after = after.trim_start();
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let close = after[1..].find(quote)?;
        out.push((key, after[1..1 + close].to_owned()));
        text = &after[close + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::plain("text only")]
    #[case::nested("<b><i>x</i></b> <u>y</u> <s>z</s>")]
    #[case::link("<a href=\"https://e.org/?a=1&amp;b=2\">x</a>")]
    #[case::spoiler("<tg-spoiler>x</tg-spoiler><span class=\"tg-spoiler\">y</span>")]
    #[case::pre_code("<pre><code class=\"language-rust\">let x;</code></pre>")]
    #[case::expandable_quote("<blockquote expandable>x</blockquote>")]
    #[case::entities("&lt;&gt;&amp;&quot;&#39;&#x1F600;")]
    #[case::upper_case_tags("<B>x</b>")]
    #[case::custom_emoji("<tg-emoji emoji-id=\"5368324170671202286\">👍</tg-emoji>")]
    fn markup_accepted(#[case] html: &str) {
        assert_eq!(check_markup(html), Ok(()));
    }

    #[rstest]
    #[case::unknown_tag("<p>x</p>", "not a Telegram tag")]
    #[case::crossed("<b><i>x</b></i>", "`</b>` closes `<i>`")]
    #[case::stray_close("x</b>", "closes nothing")]
    #[case::bare_gt("a > b", "bare `>`")]
    #[case::bare_lt("a < b", "opens no tag")]
    #[case::named_entity("&nbsp;", "`&` must start")]
    #[case::relative_link("<a href=\"/x\">x</a>", "not an http(s)")]
    #[case::javascript_link("<a href=\"javascript:alert(1)\">x</a>", "not an http(s)")]
    #[case::a_without_href("<a>x</a>", "needs href")]
    #[case::bold_attribute("<b onclick=\"x\">x</b>", "takes no attribute `onclick`")]
    #[case::other_span("<span class=\"x\">y</span>", "tg-spoiler")]
    #[case::nested_links(
        "<a href=\"https://e.org\"><a href=\"https://e.org\">x</a></a>",
        "cannot be inside"
    )]
    #[case::bold_in_pre("<pre><b>x</b></pre>", "cannot be inside")]
    #[case::emoji_without_id("<tg-emoji>👍</tg-emoji>", "emoji-id")]
    #[case::emoji_id_not_a_number("<tg-emoji emoji-id=\"x\">👍</tg-emoji>", "emoji-id")]
    fn markup_refused(#[case] html: &str, #[case] fragment: &str) {
        let e = check_markup(html).expect_err("refused");
        assert!(e.contains(fragment), "{e}");
    }
}
