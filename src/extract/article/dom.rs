//! A lean HTML parser for the article extractor: one forward scan of the page into a flat tree.
//!
//! Why not html5ever (which `scraper` uses for list pages)? The benchmark asks for many times the
//! speed of Python trafilatura, start-up included, and html5ever's full tree construction alone
//! takes most of that budget (1.2 ms for an average 170 KB page here, against 0.3 ms for this scan).
//! What main-text extraction needs from a tree is its block structure, its text and a few
//! attributes, so this parser keeps the parts of the HTML tree-building rules that shape blocks:
//! void elements, raw-text elements, a `<p>` closed by the next block, `<li>`/`<dt>`/`<dd>`/
//! table cells closing their open siblings, end tags that close only within their scope, and
//! stray end tags ignored. Misnested formatting (`<b><p></b>`) is not re-parented: it changes no
//! text.
//!
//! Robustness: no recursion anywhere (nodes are stored in document order, so a parent's index is
//! always below its children's); scope searches look at most [`SCOPE_LIMIT`] open elements deep,
//! so a page of a million unclosed `<div>`s stays linear.

use markup5ever::data::{C1_REPLACEMENTS, NAMED_ENTITIES};

/// No node.
pub const NONE: usize = usize::MAX;
/// How far down the stack of open elements a scope search looks.
const SCOPE_LIMIT: usize = 256;

#[derive(Debug)]
pub enum Kind {
    Document,
    /// Tag name in ASCII lower case; attributes with lower-case names, values decoded.
    Element {
        name: Box<str>,
        attrs: Vec<(Box<str>, Box<str>)>,
    },
    /// Text with character references decoded (raw for `<script>`/`<style>`).
    Text(String),
}

#[derive(Debug)]
pub struct Node {
    pub parent: usize,
    pub first_child: usize,
    pub last_child: usize,
    pub next_sibling: usize,
    pub kind: Kind,
}

impl Node {
    /// The tag name of an element, "" for other nodes.
    pub fn name(&self) -> &str {
        match &self.kind {
            Kind::Element { name, .. } => name,
            _ => "",
        }
    }

    pub fn attr(&self, key: &str) -> Option<&str> {
        match &self.kind {
            Kind::Element { attrs, .. } => {
                attrs.iter().find(|(k, _)| &**k == key).map(|(_, v)| &**v)
            }
            _ => None,
        }
    }

    pub fn is_element(&self) -> bool {
        matches!(self.kind, Kind::Element { .. })
    }
}

/// A parsed page. Node 0 is the document; nodes are in document order.
#[derive(Debug)]
pub struct Doc {
    pub nodes: Vec<Node>,
}

impl Doc {
    pub fn parse(html: &str) -> Doc {
        let mut builder = Builder {
            nodes: Vec::with_capacity(html.len() / 40 + 16),
            stack: vec![0],
        };
        builder.nodes.push(Node {
            parent: NONE,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            kind: Kind::Document,
        });
        builder.run(html);
        Doc {
            nodes: builder.nodes,
        }
    }

    pub fn node(&self, id: usize) -> &Node {
        &self.nodes[id]
    }

    /// The children of `id`, in order.
    pub fn children(&self, id: usize) -> Children<'_> {
        Children {
            doc: self,
            next: self.nodes[id].first_child,
        }
    }

    /// The index just past the subtree of `id`: a subtree is one contiguous range of indices,
    /// because nodes are only ever appended to the rightmost open path.
    pub fn subtree_end(&self, id: usize) -> usize {
        self.after_ancestors(id)
    }

    fn after_ancestors(&self, mut n: usize) -> usize {
        while n != NONE {
            let node = &self.nodes[n];
            if node.next_sibling != NONE {
                return node.next_sibling;
            }
            n = node.parent;
        }
        self.nodes.len()
    }

    /// Elements named `name` anywhere in the page, in document order.
    pub fn elements<'a>(&'a self, name: &'a str) -> impl Iterator<Item = usize> + 'a {
        (0..self.nodes.len()).filter(move |&i| self.nodes[i].name() == name)
    }
}

pub struct Children<'a> {
    doc: &'a Doc,
    next: usize,
}

impl Iterator for Children<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.next == NONE {
            return None;
        }
        let id = self.next;
        self.next = self.doc.nodes[id].next_sibling;
        Some(id)
    }
}

struct Builder {
    nodes: Vec<Node>,
    /// Open elements, the document at the bottom.
    stack: Vec<usize>,
}

fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
            | "keygen"
            | "frame"
    )
}

/// Elements whose content is not markup (`<script>` holds JSON-LD we read; the rest we skip).
fn is_raw_text(name: &str) -> bool {
    matches!(
        name,
        "script" | "style" | "xmp" | "iframe" | "noembed" | "noframes" | "plaintext"
    )
}

/// Elements whose start closes an open `<p>` (HTML: "close a p element in button scope").
fn closes_p(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "center"
            | "details"
            | "dialog"
            | "dir"
            | "div"
            | "dl"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hgroup"
            | "hr"
            | "li"
            | "dd"
            | "dt"
            | "main"
            | "menu"
            | "nav"
            | "ol"
            | "p"
            | "pre"
            | "section"
            | "summary"
            | "table"
            | "ul"
            | "listing"
    )
}

/// Scope boundaries: an end tag or an implied close never reaches past these.
fn is_scope_boundary(name: &str) -> bool {
    matches!(
        name,
        "html"
            | "table"
            | "td"
            | "th"
            | "caption"
            | "template"
            | "object"
            | "marquee"
            | "applet"
            | "button"
            | "svg"
            | "math"
    )
}

/// Elements an inline end tag does not close through (HTML's "special" category, abridged).
fn is_block(name: &str) -> bool {
    closes_p(name) || is_scope_boundary(name) || matches!(name, "body" | "tr" | "tbody")
}

impl Builder {
    fn current(&self) -> usize {
        self.stack.last().copied().unwrap_or(0)
    }

    fn append(&mut self, parent: usize, kind: Kind) -> usize {
        let id = self.nodes.len();
        let prev = self.nodes[parent].last_child;
        self.nodes.push(Node {
            parent,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            kind,
        });
        if prev == NONE {
            self.nodes[parent].first_child = id;
        } else {
            self.nodes[prev].next_sibling = id;
        }
        self.nodes[parent].last_child = id;
        id
    }

    fn text(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        let parent = self.current();
        let last = self.nodes[parent].last_child;
        if last != NONE
            && let Kind::Text(t) = &mut self.nodes[last].kind
        {
            t.push_str(s);
            return;
        }
        self.append(parent, Kind::Text(s.to_owned()));
    }

    /// Position in the stack of the nearest open `name`, searching down to a boundary.
    fn find_open(&self, name: &str, boundary: impl Fn(&str) -> bool) -> Option<usize> {
        for (depth, &id) in self.stack.iter().enumerate().rev().take(SCOPE_LIMIT) {
            let n = self.nodes[id].name();
            if n == name {
                return Some(depth);
            }
            if boundary(n) || id == 0 {
                return None;
            }
        }
        None
    }

    fn close_to(&mut self, depth: usize) {
        self.stack.truncate(depth.max(1));
    }

    fn start_tag(&mut self, name: &str, attrs: Vec<(Box<str>, Box<str>)>, self_closing: bool) {
        if matches!(name, "html" | "head" | "body")
            && self.nodes.iter().take(64).any(|n| n.name() == name)
        {
            return;
        }
        if closes_p(name)
            && let Some(d) = self.find_open("p", is_scope_boundary)
        {
            self.close_to(d);
        }
        match name {
            "li" => {
                if let Some(d) =
                    self.find_open("li", |n| is_scope_boundary(n) || matches!(n, "ul" | "ol"))
                {
                    self.close_to(d);
                }
            }
            "dt" | "dd" => {
                let boundary = |n: &str| is_scope_boundary(n) || n == "dl";
                if let Some(d) = self
                    .find_open("dt", boundary)
                    .max(self.find_open("dd", boundary))
                {
                    self.close_to(d);
                }
            }
            "tr" | "td" | "th" | "tbody" | "thead" | "tfoot" => {
                let table = |n: &str| matches!(n, "table" | "html" | "template");
                let mut closers: &[&str] = &["td", "th"];
                if matches!(name, "tr" | "tbody" | "thead" | "tfoot") {
                    closers = &["td", "th", "tr"];
                }
                if matches!(name, "tbody" | "thead" | "tfoot") {
                    closers = &["td", "th", "tr", "tbody", "thead", "tfoot"];
                }
                if let Some(d) = closers
                    .iter()
                    .filter_map(|c| self.find_open(c, table))
                    .min()
                {
                    self.close_to(d);
                }
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
                if matches!(
                    self.nodes[self.current()].name(),
                    "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
                ) =>
            {
                self.stack.pop();
            }
            "option" | "optgroup" if self.nodes[self.current()].name() == "option" => {
                self.stack.pop();
            }
            "a" => {
                if let Some(d) = self.find_open("a", is_block) {
                    self.close_to(d);
                }
            }
            _ => {}
        }
        let parent = self.current();
        let id = self.append(
            parent,
            Kind::Element {
                name: name.into(),
                attrs,
            },
        );
        // `<x/>` closes itself only inside SVG and MathML (and `<svg/>` itself); in HTML the
        // slash means nothing.
        let foreign = self_closing
            && (matches!(name, "svg" | "math")
                || self
                    .stack
                    .iter()
                    .rev()
                    .take(SCOPE_LIMIT)
                    .any(|&s| matches!(self.nodes[s].name(), "svg" | "math")));
        if !(is_void(name) || foreign) {
            self.stack.push(id);
        }
    }

    fn end_tag(&mut self, name: &str) {
        if is_void(name) || matches!(name, "html" | "body") {
            return;
        }
        let found = if matches!(
            name,
            "td" | "th" | "tr" | "tbody" | "thead" | "tfoot" | "table"
        ) {
            self.find_open(name, |n| {
                matches!(n, "table" | "html" | "template") && n != name
            })
        } else if is_block(name) || name == "head" {
            self.find_open(name, |n| is_scope_boundary(n) && n != name)
        } else {
            self.find_open(name, |n| is_block(n) && n != name)
        };
        if let Some(d) = found {
            self.close_to(d);
        }
    }

    fn run(&mut self, html: &str) {
        let bytes = html.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let Some(lt) = html[i..].find('<').map(|p| p + i) else {
                self.text(&decode_entities(&html[i..], false));
                break;
            };
            if lt > i {
                self.text(&decode_entities(&html[i..lt], false));
            }
            i = lt;
            let rest = &bytes[i..];
            if rest.starts_with(b"<!--") {
                i = match html[i + 4..].find("-->") {
                    Some(p) => i + 4 + p + 3,
                    None => bytes.len(),
                };
            } else if rest.len() > 1 && matches!(rest[1], b'!' | b'?') {
                i = skip_past(bytes, i + 2, b'>');
            } else if rest.len() > 2 && rest[1] == b'/' && rest[2].is_ascii_alphabetic() {
                let (name, end) = tag_name(html, i + 2);
                i = skip_past(bytes, end, b'>');
                self.end_tag(&name);
            } else if rest.len() > 1 && rest[1].is_ascii_alphabetic() {
                let (name, end) = tag_name(html, i + 1);
                let (attrs, self_closing, end) = attributes(html, end);
                i = end;
                let raw = is_raw_text(&name);
                let rcdata = matches!(name.as_str(), "title" | "textarea");
                self.start_tag(&name, attrs, self_closing);
                if (raw || rcdata) && !self_closing {
                    let close = find_end_tag(bytes, i, &name);
                    let content = &html[i..close];
                    if rcdata {
                        self.text(&decode_entities(content, false));
                    } else {
                        self.text(content);
                    }
                    self.end_tag(&name);
                    i = skip_past(bytes, close, b'>');
                }
            } else if rest.len() > 1 && rest[1] == b'/' {
                // "</>" or "</ 3": a bogus comment.
                i = skip_past(bytes, i + 2, b'>');
            } else {
                self.text("<");
                i += 1;
            }
        }
    }
}

/// The index after the next `byte` at or after `from` (the end when there is none).
fn skip_past(bytes: &[u8], from: usize, byte: u8) -> usize {
    match bytes
        .get(from..)
        .and_then(|b| b.iter().position(|&c| c == byte))
    {
        Some(p) => from + p + 1,
        None => bytes.len(),
    }
}

fn tag_name(html: &str, start: usize) -> (String, usize) {
    let bytes = html.as_bytes();
    let mut end = start;
    while end < bytes.len()
        && !matches!(
            bytes[end],
            b' ' | b'\t' | b'\n' | b'\r' | 0x0c | b'/' | b'>'
        )
    {
        end += 1;
    }
    (html[start..end].to_ascii_lowercase(), end)
}

type Attrs = Vec<(Box<str>, Box<str>)>;

/// Reads attributes up to the tag's `>`; returns them, whether the tag ended in `/>`, and the
/// index after the tag.
fn attributes(html: &str, mut i: usize) -> (Attrs, bool, usize) {
    let bytes = html.as_bytes();
    let mut attrs: Attrs = Vec::new();
    let mut self_closing = false;
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            self_closing = bytes[i] == b'/';
            i += 1;
        }
        if i >= bytes.len() {
            return (attrs, false, i);
        }
        if bytes[i] == b'>' {
            return (attrs, self_closing, i + 1);
        }
        self_closing = false;
        let start = i;
        i += 1;
        while i < bytes.len()
            && !matches!(
                bytes[i],
                b' ' | b'\t' | b'\n' | b'\r' | 0x0c | b'/' | b'>' | b'='
            )
        {
            i += 1;
        }
        let key = html[start..i].to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < bytes.len() && matches!(bytes[i], b'"' | b'\'') {
                let quote = bytes[i];
                let end = match bytes[i + 1..].iter().position(|&c| c == quote) {
                    Some(p) => i + 1 + p,
                    None => bytes.len(),
                };
                value = decode_entities(&html[i + 1..end], true).into_owned();
                i = (end + 1).min(bytes.len());
            } else {
                let start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                value = decode_entities(&html[start..i], true).into_owned();
            }
        }
        if !attrs.iter().any(|(k, _)| **k == *key) {
            attrs.push((key.into(), value.into()));
        }
    }
}

/// Where the content of a raw-text element ends: at `</name` (any case) followed by a space,
/// `/` or `>`; the end of the page when never closed.
fn find_end_tag(bytes: &[u8], from: usize, name: &str) -> usize {
    let n = name.len();
    let mut i = from;
    while let Some(p) = bytes[i..].iter().position(|&c| c == b'<') {
        let at = i + p;
        let after = at + 2 + n;
        if bytes.get(at + 1) == Some(&b'/')
            && after <= bytes.len()
            && bytes[at + 2..after].eq_ignore_ascii_case(name.as_bytes())
            && bytes
                .get(after)
                .is_none_or(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>'))
        {
            return at;
        }
        i = at + 1;
    }
    bytes.len()
}

/// Decodes character references. In attribute values a legacy reference without `;` followed
/// by a letter, digit or `=` stays as written (HTML: so `?a=1&copy=2` keeps its query).
pub fn decode_entities(s: &str, in_attribute: bool) -> std::borrow::Cow<'_, str> {
    let Some(first) = s.find('&') else {
        return std::borrow::Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..first]);
    let mut rest = &s[first..];
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let (consumed, decoded) = reference(rest, in_attribute);
        if consumed == 0 {
            out.push('&');
            rest = &rest[1..];
        } else {
            out.push_str(&decoded);
            rest = &rest[consumed..];
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// One reference at the start of `s` (which starts with `&`): bytes consumed and its text.
fn reference(s: &str, in_attribute: bool) -> (usize, String) {
    let bytes = s.as_bytes();
    if bytes.get(1) == Some(&b'#') {
        let hex = matches!(bytes.get(2), Some(b'x' | b'X'));
        let start = if hex { 3 } else { 2 };
        let mut end = start;
        while end < bytes.len()
            && end - start < 8
            && (if hex {
                bytes[end].is_ascii_hexdigit()
            } else {
                bytes[end].is_ascii_digit()
            })
        {
            end += 1;
        }
        if end == start {
            return (0, String::new());
        }
        let code = u32::from_str_radix(&s[start..end], if hex { 16 } else { 10 }).unwrap_or(0);
        let consumed = if bytes.get(end) == Some(&b';') {
            end + 1
        } else {
            end
        };
        let c = match code {
            0x80..=0x9f => C1_REPLACEMENTS[(code - 0x80) as usize]
                .unwrap_or_else(|| char::from_u32(code).unwrap_or('\u{fffd}')),
            0 => '\u{fffd}',
            _ => char::from_u32(code).unwrap_or('\u{fffd}'),
        };
        return (consumed, c.to_string());
    }
    let mut end = 1;
    while end < bytes.len() && end < 40 && bytes[end].is_ascii_alphanumeric() {
        end += 1;
    }
    if end == 1 {
        return (0, String::new());
    }
    // The table also holds every prefix of a name, with (0, 0): those are no references.
    if bytes.get(end) == Some(&b';')
        && let Some(&(a, b)) = NAMED_ENTITIES.get(&s[1..=end])
        && a != 0
    {
        return (end + 1, chars(a, b));
    }
    // Legacy references without `;` ("&nbsp", "&copy2019"): the longest known prefix.
    for len in (2..=end.min(7)).rev() {
        if let Some(&(a, b)) = NAMED_ENTITIES.get(&s[1..len])
            && a != 0
        {
            let next = bytes.get(len).copied();
            if in_attribute && next.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'=') {
                return (0, String::new());
            }
            return (len, chars(a, b));
        }
    }
    (0, String::new())
}

fn chars(a: u32, b: u32) -> String {
    let mut s = String::new();
    s.extend(char::from_u32(a));
    if b != 0 {
        s.extend(char::from_u32(b));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outline(doc: &Doc, id: usize, out: &mut String) {
        match &doc.node(id).kind {
            Kind::Text(t) => out.push_str(t),
            Kind::Element { name, .. } => {
                out.push('<');
                out.push_str(name);
                out.push('>');
                for c in doc.children(id) {
                    outline(doc, c, out);
                }
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
            Kind::Document => {
                for c in doc.children(id) {
                    outline(doc, c, out);
                }
            }
        }
    }

    fn shape(html: &str) -> String {
        let doc = Doc::parse(html);
        let mut out = String::new();
        outline(&doc, 0, &mut out);
        out
    }

    #[test]
    fn paragraphs_close_at_blocks() {
        assert_eq!(shape("<p>a<div>b</div>"), "<p>a</p><div>b</div>");
        assert_eq!(shape("<p>a<p>b"), "<p>a</p><p>b</p>");
        assert_eq!(
            shape("<ul><li>a<li>b</ul>c"),
            "<ul><li>a</li><li>b</li></ul>c"
        );
    }

    #[test]
    fn stray_end_tags_are_ignored() {
        assert_eq!(shape("<div><span>a</div>b"), "<div><span>a</span></div>b");
        assert_eq!(shape("<div>a</span>b</div>"), "<div>ab</div>");
        assert_eq!(
            shape("<table><tr><td><div>a</td><td>b</table>"),
            "<table><tr><td><div>a</div></td><td>b</td></tr></table>"
        );
    }

    #[test]
    fn raw_text_and_comments() {
        assert_eq!(
            shape("<script>if (a<b) x='</p>'</script><!-- <p>no</p> -->ok"),
            "<script>if (a<b) x='</p>'</script>ok"
        );
        assert_eq!(shape("<title>A &amp; B</title>"), "<title>A & B</title>");
        assert_eq!(shape("<style>p{}"), "<style>p{}</style>");
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("a&amp;b &eacute; &#233;&#xE9; &#150;", false),
            "a&b é éé –"
        );
        assert_eq!(
            decode_entities("&copy2019 &nbsp;x &unknown; &", false),
            "©2019 \u{a0}x &unknown; &"
        );
        assert_eq!(decode_entities("?a=1&copy=2", true), "?a=1&copy=2");
    }

    #[test]
    fn attributes_are_read() {
        let doc = Doc::parse(r#"<img SRC="/a.jpg" data-src='b' alt=x&amp;y hidden>"#);
        let img = doc.elements("img").next().unwrap();
        let node = doc.node(img);
        assert_eq!(node.attr("src"), Some("/a.jpg"));
        assert_eq!(node.attr("data-src"), Some("b"));
        assert_eq!(node.attr("alt"), Some("x&y"));
        assert_eq!(node.attr("hidden"), Some(""));
    }

    #[test]
    fn deep_nesting_is_linear_and_safe() {
        let html = "<div>".repeat(200_000) + "x";
        let doc = Doc::parse(&html);
        assert_eq!(doc.nodes.len(), 200_002);
    }
}
