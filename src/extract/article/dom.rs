//! A lean HTML parser for the article extractor: html5ever's tokenizer feeding a flat tree.
//!
//! Tokenizing (tags, attributes, character references, raw-text and RCDATA elements, comments,
//! doctypes) is html5ever's spec tokenizer. Tree building is not html5ever's: the benchmark asks
//! for many times the speed of Python trafilatura, start-up included, and html5ever's full tree
//! construction (reconstructing formatting elements, foster parenting, recursive `RcDom`) is most
//! of that budget. What main-text extraction needs from a tree is its block structure, its text
//! and a few attributes, so the builder here keeps the parts of the HTML tree-building rules that
//! shape blocks: void elements, raw-text elements, a `<p>` closed by the next block,
//! `<li>`/`<dt>`/`<dd>`/table cells closing their open siblings, end tags that close only within
//! their scope, and stray end tags ignored. Misnested formatting (`<b><p></b>`) is not
//! re-parented: it changes no text.
//!
//! Robustness: no recursion anywhere (nodes are stored in document order, so a parent's index is
//! always below its children's); scope searches look at most [`SCOPE_LIMIT`] open elements deep,
//! so a page of a million unclosed `<div>`s stays linear.

use std::cell::RefCell;

use html5ever::TokenizerResult;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, CharacterTokens, EndTag, StartTag, TagToken, Token, TokenSink, TokenSinkResult,
    Tokenizer, TokenizerOpts,
};

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
    /// Per node, the index just past its subtree (see [`Doc::subtree_end`]).
    ends: Vec<usize>,
}

/// The index just past each node's subtree: its next sibling, else its parent's end. Parents
/// come before their children, so one pass in index order fills the table.
fn subtree_ends(nodes: &[Node]) -> Vec<usize> {
    let mut ends = vec![nodes.len(); nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        ends[i] = if node.next_sibling != NONE {
            node.next_sibling
        } else if node.parent != NONE {
            ends[node.parent]
        } else {
            nodes.len()
        };
    }
    ends
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
        let builder = tokenize(builder, html);
        let ends = subtree_ends(&builder.nodes);
        Doc {
            nodes: builder.nodes,
            ends,
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
    /// Taken from a table made once per page: walking up the ancestors each time made deeply
    /// nested pages (200,000 unclosed `<div>`s) quadratic.
    pub fn subtree_end(&self, id: usize) -> usize {
        self.ends[id]
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
        if !(crate::extract::is_void(name) || foreign) {
            self.stack.push(id);
        }
    }

    fn end_tag(&mut self, name: &str) {
        if crate::extract::is_void(name) || matches!(name, "html" | "body") {
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
}

/// Receives html5ever's tokens and builds the flat tree.
struct Sink(RefCell<Builder>);

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut builder = self.0.borrow_mut();
        match token {
            CharacterTokens(text) => builder.text(&text),
            TagToken(tag) if tag.kind == StartTag => {
                let name: &str = &tag.name;
                let attrs = tag
                    .attrs
                    .iter()
                    .map(|a| (Box::from(&*a.name.local), Box::from(&*a.value)))
                    .collect();
                builder.start_tag(name, attrs, tag.self_closing);
                // The tokenizer reads the content of these as text up to their end tag. (A
                // self-closed `<script/>` is taken at its word, as pages written as XHTML mean.)
                if !tag.self_closing {
                    match name {
                        "script" => return TokenSinkResult::RawData(RawKind::ScriptData),
                        "style" | "xmp" | "iframe" | "noembed" | "noframes" => {
                            return TokenSinkResult::RawData(RawKind::Rawtext);
                        }
                        "title" | "textarea" => return TokenSinkResult::RawData(RawKind::Rcdata),
                        "plaintext" => return TokenSinkResult::Plaintext,
                        _ => {}
                    }
                }
            }
            TagToken(tag) if tag.kind == EndTag => builder.end_tag(&tag.name),
            // Comments, doctypes, NUL characters (dropped in body text, as HTML does), parse
            // errors, the end.
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

fn tokenize(builder: Builder, html: &str) -> Builder {
    let tokenizer = Tokenizer::new(Sink(RefCell::new(builder)), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    // The sink never asks to stop for a script or an encoding change, so one feed reads it all.
    while !matches!(tokenizer.feed(&input), TokenizerResult::Done) {}
    tokenizer.end();
    tokenizer.sink.0.into_inner()
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
        assert_eq!(shape("a&amp;b &eacute; &#233;&#xE9; &#150;"), "a&b é éé –");
        assert_eq!(
            shape("&copy2019 &nbsp;x &unknown; &"),
            "©2019 \u{a0}x &unknown; &"
        );
        let doc = Doc::parse(r#"<a href="?a=1&copy=2&amp;b=&lt;">x</a>"#);
        let a = doc.elements("a").next().unwrap();
        assert_eq!(doc.node(a).attr("href"), Some("?a=1&copy=2&b=<"));
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
