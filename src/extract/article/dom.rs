//! The article extractor's HTML tree: html5ever's tokenizer and tree builder (the HTML
//! standard's tree-construction rules, as browsers build the page) writing into a flat arena of
//! our own, then laid out in document order.
//!
//! Why the standard's rules: a page whose head never closes (no `</head>`, a `<body>` inside
//! conditional comments), a `<p>` inside a `<table>`, misnested `<b><p></b>` all end up where a
//! browser puts them, so the text the reader sees is the text the extractor scores.
//!
//! Why an arena of our own and not `RcDom` or scraper's tree: nodes are indices into one `Vec`
//! (no reference counting, no allocation per link), and once parsed the nodes are renumbered in
//! document order, so a subtree is one contiguous range of indices and a parent's index is
//! always below its children's. Every pass over the tree is then a loop, never a recursion.
//!
//! Robustness: the tree builder searches its stack of open elements for most tags, so its time
//! grows with the depth; [`crate::extract::depth::Flatten`] drops tags nested past
//! [`crate::extract::depth::MAX_DEPTH`] before they reach it, so parsing stays linear.

use std::borrow::Cow;
use std::cell::{Cell, Ref, RefCell};
use std::sync::LazyLock;

use html5ever::interface::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::tree_builder::{TreeBuilder, TreeBuilderOpts};
use html5ever::{Attribute, LocalName, QualName, TokenizerResult};

use crate::extract::depth::Flatten;

/// No node.
pub const NONE: usize = usize::MAX;

#[derive(Debug)]
pub enum Kind {
    Document,
    /// An element: its local name (lower case for HTML) and attributes, values decoded.
    Element {
        name: LocalName,
        attrs: Vec<Attribute>,
    },
    /// Text with character references decoded (raw for `<script>`/`<style>`).
    Text(StrTendril),
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
            Kind::Element { attrs, .. } => attrs
                .iter()
                .find(|a| &*a.name.local == key)
                .map(|a| &*a.value),
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
        let arena = Arena::new(html.len() / 40 + 16);
        let builder = TreeBuilder::new(arena, TreeBuilderOpts::default());
        let input = BufferQueue::default();
        input.push_back(StrTendril::from_slice(html));
        let sink = SkipRaw {
            inner: Flatten::new(builder),
            input: &input,
            svg_end: Cell::new(None),
        };
        let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
        // `feed` stops after each `</script>` (a browser would run it there): go on.
        while !matches!(tokenizer.feed(&input), TokenizerResult::Done) {}
        tokenizer.end();
        let nodes = tokenizer.sink.inner.into_inner().sink.finish();
        let ends = subtree_ends(&nodes);
        Doc { nodes, ends }
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
    /// because nodes are numbered in document order.
    /// Taken from a table made once per page: walking up the ancestors each time made deeply
    /// nested pages quadratic.
    pub fn subtree_end(&self, id: usize) -> usize {
        self.ends[id]
    }

    /// Elements named `name` anywhere in the page, in document order.
    pub fn elements<'a>(&'a self, name: &'a str) -> impl Iterator<Item = usize> + 'a {
        // Names are interned: compared as one word each rather than as text.
        let name = LocalName::from(name);
        (0..self.nodes.len()).filter(
            move |&i| matches!(&self.nodes[i].kind, Kind::Element { name: n, .. } if *n == name),
        )
    }
}

/// Passes the tokens on, and skips the text of scripts and styles (other than JSON-LD) that
/// the extractor never reads: half the bytes of a news page are scripts and styles, and the
/// tokenizer otherwise reads them character run by character run, emitting a token at every
/// line end, which the tree builder then copies into a text node.
///
/// The skip is exactly where the tokenizer would end the element. The tree builder has just
/// switched it to reading raw text (the start tag's `>` consumed, the text next in the input):
/// raw text (`<style>`, `<noscript>`, `<iframe>` …) ends at the first `</name` followed by a
/// space, `/` or `>`; so does a script's text unless it holds `<!--` (the escaped states, in
/// which `</script>` may not end it), and then nothing is skipped. The end tag itself is left
/// to the tokenizer, so the element is closed as before, empty.
struct SkipRaw<'a, S> {
    inner: S,
    input: &'a BufferQueue,
    /// The last search for `</svg` (see [`skip_drawing`]): from how many bytes before the end
    /// of the input, and how many bytes before the end it was found (None: nowhere after).
    svg_end: Cell<Option<(usize, Option<usize>)>>,
}

impl<S: TokenSink> TokenSink for SkipRaw<'_, S> {
    type Handle = S::Handle;

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<S::Handle> {
        let raw = match &token {
            Token::TagToken(tag) if tag.kind == TagKind::StartTag && !is_json_ld(tag) => {
                Some(tag.name.clone())
            }
            _ => None,
        };
        // An `<svg>` opened from HTML content (not `<svg/>`): its drawing may be skipped.
        let svg = matches!(&token, Token::TagToken(tag) if tag.kind == TagKind::StartTag
                && tag.name == html5ever::local_name!("svg")
                && !tag.self_closing)
            && !self
                .inner
                .adjusted_current_node_present_but_not_in_html_namespace();
        let result = self.inner.process_token(token, line);
        if let (
            Some(name),
            TokenSinkResult::RawData(kind @ (RawKind::ScriptData | RawKind::Rawtext)),
        ) = (raw, &result)
        {
            skip_raw_text(self.input, &name, *kind == RawKind::ScriptData);
        }
        // Only when the tree builder opened the `<svg>` (not dropped past the depth bound).
        if svg
            && matches!(result, TokenSinkResult::Continue)
            && self
                .inner
                .adjusted_current_node_present_but_not_in_html_namespace()
        {
            skip_drawing(self.input, &self.svg_end);
        }
        result
    }

    fn end(&self) {
        self.inner.end();
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.inner
            .adjusted_current_node_present_but_not_in_html_namespace()
    }
}

/// Drops the content of the `<svg>` just opened when it is a plain drawing: up to (not
/// including) the first `</svg>`, nothing but shapes, groups, gradients, filters and animations
/// (with any attributes but `itemprop`), and white space between them. Inline icons and logos
/// are mostly such drawings, often a tenth of a page's markup once scripts are skipped, and the
/// extractor never reads them (an `<svg>` is never content, and holds no text to read).
///
/// Anything else leaves the input as it is, for the tokenizer and the tree builder: text (an
/// icon's `<title>` is read as the text of the link around it), a comment or CDATA section, a
/// nested `<svg>`, an element that would end the drawing (`<p>`, `<div>` …) or is HTML within
/// it (`<foreignObject>`), a `<` that starts no tag, or no `</svg>` in the buffer at hand. The
/// tags are read as the tokenizer reads them (quoted attribute values may hold `>` or `</svg>`),
/// so the end found is the one it would find; the tree builder then sees `<svg></svg>`.
///
/// The search for `</svg` is remembered in `known` (as distances from the end of the input,
/// which stay put as the front is read): a page opening many drawings and never closing them
/// (each `<p>` ends one) is searched once to its end, not once per drawing. A remembered end is
/// checked before it is used.
fn skip_drawing(input: &BufferQueue, known: &Cell<Option<(usize, Option<usize>)>>) {
    let Some(mut chunk) = input.peek_front_chunk_mut() else {
        return;
    };
    let rest = chunk.len();
    let end = match known.get() {
        Some((from, found)) if rest <= from && found.is_none_or(|f| f <= rest) => {
            found.map(|f| rest - f)
        }
        _ => {
            let end = end_tag_at(&chunk, "svg");
            known.set(Some((rest, end.map(|e| rest - e))));
            end
        }
    };
    let Some(end) = end.filter(|&e| is_end_tag(chunk.as_bytes(), e, b"svg")) else {
        return;
    };
    if !plain_drawing(&chunk.as_bytes()[..end]) {
        return;
    }
    // `end` is the index of a `<`, so a character boundary; the rest stays non-empty.
    if let Ok(n) = u32::try_from(end) {
        let _ = chunk.try_pop_front(n);
    }
}

/// Whether `content` is tags of [`drawing_element`]s and white space only (see [`skip_drawing`]).
fn plain_drawing(content: &[u8]) -> bool {
    let space = |b: u8| matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ');
    let len = content.len();
    let mut i = 0;
    loop {
        // Between tags: white space only.
        while i < len && space(content[i]) {
            i += 1;
        }
        if i == len {
            return true;
        }
        if content[i] != b'<' {
            return false;
        }
        i += 1;
        if content.get(i) == Some(&b'/') {
            i += 1;
        }
        // The tag name: to a space, `/` or `>`.
        let name = i;
        while i < len && !(space(content[i]) || matches!(content[i], b'/' | b'>')) {
            i += 1;
        }
        if !drawing_element(&content[name..i]) {
            return false;
        }
        // The attributes, to the tag's `>`.
        loop {
            while i < len && (space(content[i]) || content[i] == b'/') {
                i += 1;
            }
            match content.get(i) {
                None => return false,
                Some(b'>') => {
                    i += 1;
                    break;
                }
                Some(_) => {}
            }
            // The name: its first character whatever it is (even `=`), then to a space, `/`,
            // `>` or `=`.
            let attr = i;
            i += 1;
            while i < len && !(space(content[i]) || matches!(content[i], b'/' | b'>' | b'=')) {
                i += 1;
            }
            if content[attr..i].eq_ignore_ascii_case(b"itemprop") {
                return false;
            }
            while i < len && space(content[i]) {
                i += 1;
            }
            if content.get(i) != Some(&b'=') {
                continue;
            }
            i += 1;
            while i < len && space(content[i]) {
                i += 1;
            }
            match content.get(i) {
                Some(&quote @ (b'"' | b'\'')) => {
                    let Some(at) = content[i + 1..].iter().position(|&b| b == quote) else {
                        return false;
                    };
                    i += 1 + at + 1;
                }
                // No value (`a=>`): the `>` ends the tag.
                Some(b'>') | None => {}
                // Unquoted: to a space or `>`.
                Some(_) => {
                    while i < len && !(space(content[i]) || content[i] == b'>') {
                        i += 1;
                    }
                }
            }
        }
    }
}

/// SVG elements that draw, group or animate, and hold neither text nor HTML (any case).
fn drawing_element(name: &[u8]) -> bool {
    const NAMES: &[&[u8]] = &[
        b"path",
        b"g",
        b"circle",
        b"rect",
        b"line",
        b"polyline",
        b"polygon",
        b"ellipse",
        b"defs",
        b"use",
        b"symbol",
        b"lineargradient",
        b"radialgradient",
        b"stop",
        b"clippath",
        b"mask",
        b"pattern",
        b"marker",
        b"filter",
        b"animate",
        b"animatetransform",
        b"animatemotion",
        b"set",
        b"mpath",
    ];
    // Filter primitives: feGaussianBlur, feColorMatrix …
    (name.len() > 2
        && name[..2].eq_ignore_ascii_case(b"fe")
        && name.iter().all(u8::is_ascii_alphabetic))
        || NAMES.iter().any(|n| name.eq_ignore_ascii_case(n))
}

/// A `<script type="application/ld+json">`: [`super::meta::json_ld`] reads its text.
fn is_json_ld(tag: &Tag) -> bool {
    &*tag.name == "script"
        && tag.attrs.iter().any(|a| {
            &*a.name.local == "type" && a.value.trim().eq_ignore_ascii_case("application/ld+json")
        })
}

/// Drops the raw text of element `name` at the front of `input`, up to (not including) its end
/// tag; leaves the input as it is when the end tag is not in the buffer at hand, or when a
/// script's text holds `<!--`.
fn skip_raw_text(input: &BufferQueue, name: &str, script: bool) {
    let Some(mut chunk) = input.peek_front_chunk_mut() else {
        return;
    };
    let Some(end) = end_tag_at(&chunk, name) else {
        return;
    };
    if script && chunk[..end].contains("<!--") {
        return;
    }
    // `end` is the index of a `<`, so a character boundary; the rest stays non-empty.
    if let Ok(n) = u32::try_from(end) {
        let _ = chunk.try_pop_front(n);
    }
}

/// Where the first end tag `</name` (any case) followed by a space, `/` or `>` starts.
fn end_tag_at(text: &str, name: &str) -> Option<usize> {
    let (bytes, name) = (text.as_bytes(), name.as_bytes());
    let mut from = 0;
    // Looking for `</` (memchr's vectorised search for the pair) rather than each `<`: a script
    // has many more of the latter (`a < b`, markup in strings), each a stop and a fresh search.
    while let Some(at) = memchr::memmem::find(&bytes[from..], b"</") {
        let start = from + at;
        if is_end_tag(bytes, start, name) {
            return Some(start);
        }
        from = start + 1;
    }
    None
}

/// Whether `bytes` holds at `start` an end tag `</name` (any case) followed by a space, `/` or
/// `>`.
fn is_end_tag(bytes: &[u8], start: usize, name: &[u8]) -> bool {
    let after = start + 2 + name.len();
    bytes.len() > after
        && bytes[start..start + 2] == *b"</"
        && bytes[start + 2..after].eq_ignore_ascii_case(name)
        && matches!(
            bytes[after],
            b'\t' | b'\n' | b'\x0C' | b'\r' | b' ' | b'/' | b'>'
        )
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

/// A node while the tree is built: the tree builder moves nodes around (foster parenting, the
/// adoption agency, `reparent_children`), so links go both ways and the order is settled only
/// in [`Arena::finish`].
struct Slot {
    parent: usize,
    first_child: usize,
    last_child: usize,
    prev_sibling: usize,
    next_sibling: usize,
    kind: SlotKind,
}

enum SlotKind {
    Document,
    Element {
        name: QualName,
        attrs: Vec<Attribute>,
        /// A `<template>`'s contents: a fragment outside the tree (so left out of it).
        template: usize,
    },
    Text(StrTendril),
    /// Comments, processing instructions and template fragments: not part of what is read.
    Other,
}

/// The name `elem_name` answers for a node that is not an element (the tree builder never asks).
static NO_NAME: LazyLock<QualName> =
    LazyLock::new(|| QualName::new(None, html5ever::ns!(), LocalName::from("")));

/// html5ever's `TreeSink`: it calls these methods as the standard's rules say; handles are
/// indices into the arena.
struct Arena {
    slots: RefCell<Vec<Slot>>,
}

thread_local! {
    /// The last arena's memory, emptied, for the next page parsed on this thread: a batch of
    /// pages (`herald extract`) then writes into memory already in hand, rather than fresh memory
    /// whose first touch costs a page fault per 4 KiB. Kept only up to [`SPARE_SLOTS`].
    static SPARE: Cell<Vec<Slot>> = const { Cell::new(Vec::new()) };
}

/// The most slots kept for the next page (under 1 MiB, per thread that parsed a page: the
/// pipeline extracts on tokio's blocking threads, each of which may keep one until it exits);
/// a larger page's arena is given back.
const SPARE_SLOTS: usize = 1 << 13;

impl Arena {
    fn new(capacity: usize) -> Arena {
        let mut slots = SPARE.take();
        slots.clear();
        slots.reserve(capacity);
        slots.push(Slot::new(SlotKind::Document));
        Arena {
            slots: RefCell::new(slots),
        }
    }
}

impl Slot {
    fn new(kind: SlotKind) -> Slot {
        Slot {
            parent: NONE,
            first_child: NONE,
            last_child: NONE,
            prev_sibling: NONE,
            next_sibling: NONE,
            kind,
        }
    }
}

fn push(slots: &mut Vec<Slot>, kind: SlotKind) -> usize {
    slots.push(Slot::new(kind));
    slots.len() - 1
}

/// Takes `child` out of its parent's list of children.
fn detach(slots: &mut [Slot], child: usize) {
    let Slot {
        parent,
        prev_sibling: prev,
        next_sibling: next,
        ..
    } = slots[child];
    if parent == NONE {
        return;
    }
    if prev == NONE {
        slots[parent].first_child = next;
    } else {
        slots[prev].next_sibling = next;
    }
    if next == NONE {
        slots[parent].last_child = prev;
    } else {
        slots[next].prev_sibling = prev;
    }
    let slot = &mut slots[child];
    slot.parent = NONE;
    slot.prev_sibling = NONE;
    slot.next_sibling = NONE;
}

/// Makes `child` (detached) the last child of `parent`.
fn link_last(slots: &mut [Slot], parent: usize, child: usize) {
    let last = slots[parent].last_child;
    slots[child].parent = parent;
    slots[child].prev_sibling = last;
    slots[child].next_sibling = NONE;
    if last == NONE {
        slots[parent].first_child = child;
    } else {
        slots[last].next_sibling = child;
    }
    slots[parent].last_child = child;
}

/// Makes `child` (detached) the sibling just before `sibling`.
fn link_before(slots: &mut [Slot], sibling: usize, child: usize) {
    let parent = slots[sibling].parent;
    let prev = slots[sibling].prev_sibling;
    slots[child].parent = parent;
    slots[child].prev_sibling = prev;
    slots[child].next_sibling = sibling;
    slots[sibling].prev_sibling = child;
    if prev == NONE {
        if parent != NONE {
            slots[parent].first_child = child;
        }
    } else {
        slots[prev].next_sibling = child;
    }
}

/// Adds text to `text_node` when it is a text node; false when it is not.
fn merge_text(slots: &mut [Slot], text_node: usize, text: &StrTendril) -> bool {
    if text_node == NONE {
        return false;
    }
    match &mut slots[text_node].kind {
        SlotKind::Text(t) => {
            t.push_tendril(text);
            true
        }
        _ => false,
    }
}

impl TreeSink for Arena {
    type Handle = usize;
    type Output = Vec<Node>;
    type ElemName<'a> = Ref<'a, QualName>;

    /// Lays the tree out in document order: a pre-order walk (a loop over the links, no
    /// recursion) from the document, leaving out what is not in the tree or not read.
    fn finish(self) -> Vec<Node> {
        let mut slots = self.slots.into_inner();
        let mut nodes: Vec<Node> = Vec::with_capacity(slots.len());
        // The new index of each slot's node, for its children to point at.
        let mut new_index = vec![NONE; slots.len()];
        let mut at = 0;
        loop {
            let kind = match std::mem::replace(&mut slots[at].kind, SlotKind::Other) {
                SlotKind::Document => Some(Kind::Document),
                SlotKind::Element { name, attrs, .. } => Some(Kind::Element {
                    name: name.local,
                    attrs,
                }),
                SlotKind::Text(t) => Some(Kind::Text(t)),
                SlotKind::Other => None,
            };
            let mut descend = false;
            if let Some(kind) = kind {
                let id = nodes.len();
                new_index[at] = id;
                let parent = match slots[at].parent {
                    NONE => NONE,
                    p => new_index[p],
                };
                nodes.push(Node {
                    parent,
                    first_child: NONE,
                    last_child: NONE,
                    next_sibling: NONE,
                    kind,
                });
                if parent != NONE {
                    match nodes[parent].last_child {
                        NONE => nodes[parent].first_child = id,
                        last => nodes[last].next_sibling = id,
                    }
                    nodes[parent].last_child = id;
                }
                descend = slots[at].first_child != NONE;
            }
            if descend {
                at = slots[at].first_child;
                continue;
            }
            // Next: the sibling, else the sibling of the nearest ancestor that has one.
            loop {
                if slots[at].next_sibling != NONE {
                    at = slots[at].next_sibling;
                    break;
                }
                at = slots[at].parent;
                if at == NONE || at == 0 {
                    if slots.capacity() <= SPARE_SLOTS {
                        slots.clear();
                        SPARE.set(slots);
                    }
                    return nodes;
                }
            }
        }
    }

    fn parse_error(&self, _msg: Cow<'static, str>) {}

    fn get_document(&self) -> usize {
        0
    }

    fn elem_name<'a>(&'a self, target: &'a usize) -> Ref<'a, QualName> {
        Ref::map(self.slots.borrow(), |slots| match &slots[*target].kind {
            SlotKind::Element { name, .. } => name,
            _ => &NO_NAME,
        })
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, _: ElementFlags) -> usize {
        let mut slots = self.slots.borrow_mut();
        let template = if name.local == html5ever::local_name!("template") {
            push(&mut slots, SlotKind::Other)
        } else {
            NONE
        };
        push(
            &mut slots,
            SlotKind::Element {
                name,
                attrs,
                template,
            },
        )
    }

    fn create_comment(&self, _text: StrTendril) -> usize {
        push(&mut self.slots.borrow_mut(), SlotKind::Other)
    }

    fn create_pi(&self, _target: StrTendril, _data: StrTendril) -> usize {
        push(&mut self.slots.borrow_mut(), SlotKind::Other)
    }

    fn append(&self, parent: &usize, child: NodeOrText<usize>) {
        let mut slots = self.slots.borrow_mut();
        match child {
            NodeOrText::AppendNode(node) => {
                detach(&mut slots, node);
                link_last(&mut slots, *parent, node);
            }
            NodeOrText::AppendText(text) => {
                let last = slots[*parent].last_child;
                if !merge_text(&mut slots, last, &text) {
                    let node = push(&mut slots, SlotKind::Text(text));
                    link_last(&mut slots, *parent, node);
                }
            }
        }
    }

    fn append_based_on_parent_node(
        &self,
        element: &usize,
        prev_element: &usize,
        child: NodeOrText<usize>,
    ) {
        let has_parent = self.slots.borrow()[*element].parent != NONE;
        if has_parent {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev_element, child);
        }
    }

    fn append_doctype_to_document(&self, _: StrTendril, _: StrTendril, _: StrTendril) {}

    fn get_template_contents(&self, target: &usize) -> usize {
        let mut slots = self.slots.borrow_mut();
        match slots[*target].kind {
            SlotKind::Element { template, .. } if template != NONE => template,
            // Never asked of anything but a template; a detached node keeps the answer harmless.
            _ => push(&mut slots, SlotKind::Other),
        }
    }

    fn same_node(&self, x: &usize, y: &usize) -> bool {
        x == y
    }

    fn set_quirks_mode(&self, _mode: QuirksMode) {}

    fn append_before_sibling(&self, sibling: &usize, new_node: NodeOrText<usize>) {
        let mut slots = self.slots.borrow_mut();
        match new_node {
            NodeOrText::AppendNode(node) => {
                detach(&mut slots, node);
                link_before(&mut slots, *sibling, node);
            }
            NodeOrText::AppendText(text) => {
                let prev = slots[*sibling].prev_sibling;
                if !merge_text(&mut slots, prev, &text) {
                    let node = push(&mut slots, SlotKind::Text(text));
                    link_before(&mut slots, *sibling, node);
                }
            }
        }
    }

    fn add_attrs_if_missing(&self, target: &usize, new: Vec<Attribute>) {
        if let SlotKind::Element { attrs, .. } = &mut self.slots.borrow_mut()[*target].kind {
            for attr in new {
                if !attrs.iter().any(|a| a.name == attr.name) {
                    attrs.push(attr);
                }
            }
        }
    }

    fn remove_from_parent(&self, target: &usize) {
        detach(&mut self.slots.borrow_mut(), *target);
    }

    fn reparent_children(&self, node: &usize, new_parent: &usize) {
        let mut slots = self.slots.borrow_mut();
        let mut child = slots[*node].first_child;
        while child != NONE {
            let next = slots[child].next_sibling;
            detach(&mut slots, child);
            link_last(&mut slots, *new_parent, child);
            child = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outline(doc: &Doc, id: usize, out: &mut String) {
        match &doc.node(id).kind {
            Kind::Text(t) => out.push_str(t),
            // The wrappers every page gets: only their content is shown.
            Kind::Element { name, .. } if matches!(&**name, "html" | "head" | "body") => {
                for c in doc.children(id) {
                    outline(doc, c, out);
                }
            }
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
            "<table><tbody><tr><td><div>a</div></td><td>b</td></tr></tbody></table>"
        );
    }

    /// The body of a page whose head is never closed, or whose `<body>` is hidden in a
    /// conditional comment: where a browser puts it (issue 21; the old builder left it in the
    /// head, which is never content).
    #[test]
    fn the_head_ends_where_the_body_content_starts() {
        for html in [
            "<html><head><title>T</title><div class=post><p>Text</p></div>",
            "<html><head><!--[if IE]><body class=ie><![endif]--><div class=post><p>Text</p>",
            "<head><meta charset=utf-8><link rel=x href=y><div class=post><p>Text</p></div></head>",
        ] {
            let doc = Doc::parse(html);
            let body = doc.elements("body").next().unwrap();
            let div = doc.elements("div").next().unwrap();
            assert_eq!(doc.node(div).parent, body, "{html}");
            assert!(
                doc.elements("head").all(|h| doc.subtree_end(h) <= div),
                "{html}"
            );
        }
    }

    #[test]
    fn misnested_markup_is_rebuilt_as_browsers_do() {
        // The adoption agency: the `<b>` is closed and reopened inside the paragraph.
        assert_eq!(shape("<b>a<p>b</b>c</p>"), "<b>a</b><p><b>b</b>c</p>");
        // Foster parenting: content misplaced in a table goes before it.
        assert_eq!(
            shape("<table><p>a</p><tr><td>b</table>"),
            "<p>a</p><table><tbody><tr><td>b</td></tr></tbody></table>"
        );
        // A template's contents are not part of the page.
        assert_eq!(
            shape("<template><p>a</p></template>b"),
            "<template></template>b"
        );
    }

    #[test]
    fn raw_text_and_comments() {
        // Markup in a script is its text, which is skipped (never read).
        assert_eq!(
            shape("<script>if (a<b) x='</p>'</script><!-- <p>no</p> -->ok"),
            "<script></script>ok"
        );
        assert_eq!(shape("<title>A &amp; B</title>"), "<title>A & B</title>");
        assert_eq!(shape("<style>p{}</style>x"), "<style></style>x");
        // No end tag: the tokenizer reads the rest as the style's text, as before.
        assert_eq!(shape("<style>p{}"), "<style>p{}</style>");
    }

    /// Scripts and styles end where the tokenizer ends them, skipped or not (issue 21: their
    /// text is skipped for speed, and must not take the page after them with it).
    #[test]
    fn skipped_raw_text_ends_where_the_tokenizer_ends_it() {
        for (html, expected) in [
            ("<script>a</scripts>b</script>c", "<script></script>c"),
            ("<SCRIPT>a</Script >b", "<script></script>b"),
            ("<style>a</style/>b", "<style></style>b"),
            ("<noscript><p>a</p></noscript>b", "<noscript></noscript>b"),
            ("<textarea>a<b></textarea>c", "<textarea>a<b></textarea>c"),
            // `<!--` puts a script in its escaped states, where `</script>` after a `<script>`
            // does not end it: left to the tokenizer.
            (
                "<script><!--<script>a</script>b--></script>c",
                "<script><!--<script>a</script>b--></script>c",
            ),
        ] {
            assert_eq!(shape(html), expected, "{html}");
        }
        // JSON-LD is read (the date), so its text is kept.
        let doc = Doc::parse(r#"<script type="application/ld+json">{"a":"</p>"}</script>x"#);
        let script = doc.elements("script").next().unwrap();
        assert!(matches!(&doc.node(script + 1).kind, Kind::Text(t) if &**t == r#"{"a":"</p>"}"#));
    }

    /// A plain drawing's content is skipped (issue 21, speed): the tree builder sees an empty
    /// `<svg>`, and the page after it is read as before.
    #[test]
    fn plain_drawings_are_skipped() {
        for html in [
            "<p>a</p><svg viewBox=\"0 0 9 9\"><g fill=red><path d=\"M0 0L9 9\"/></g>\n<circle r=1 /></svg><p>b</p>",
            "<p>a</p><SVG><defs><linearGradient id=g><stop offset=0 /></linearGradient></defs><rect data-x='a>b' fill=url(#g)></rect><feGaussianBlur/></SVG ><p>b</p>",
        ] {
            assert_eq!(shape(html), "<p>a</p><svg></svg><p>b</p>", "{html}");
        }
    }

    /// Anything but a plain drawing is left to the tokenizer and the tree builder, which build
    /// what they always built.
    #[test]
    fn drawings_with_more_are_read_as_before() {
        for (html, expected) in [
            // Text (an icon's name, read as the link's text).
            (
                "<a><svg><title>Share</title><path d=x /></svg></a>",
                "<a><svg><title>Share</title><path></path></svg></a>",
            ),
            // A `</svg>` inside an attribute value does not end the drawing.
            (
                "<svg><path d=\"</svg>\"/></svg>x",
                "<svg><path></path></svg>x",
            ),
            // An HTML element ends the drawing.
            (
                "<svg><path/><p>text</p></svg>",
                "<svg><path></path></svg><p>text</p>",
            ),
            // Nested drawings, comments, a `<` that starts no tag.
            (
                "<svg><svg><path/></svg><g></g></svg>",
                "<svg><svg><path></path></svg><g></g></svg>",
            ),
            ("<svg><!-- c --><g></g></svg>", "<svg><g></g></svg>"),
            ("<svg><g></g>< x</svg>", "<svg><g></g>< x</svg>"),
            ("<svg/><p>a</p>", "<svg></svg><p>a</p>"),
        ] {
            assert_eq!(shape(html), expected, "{html}");
        }
    }

    /// The search for `</svg` is made once for drawings that HTML ends (`<svg><p>` …, with no
    /// `</svg>` after them: else each searched the rest of the page, quadratic), and what is
    /// remembered is checked before use.
    #[test]
    fn the_end_of_drawings_is_searched_once() {
        let queue = |text: &str| {
            let q = BufferQueue::default();
            q.push_back(StrTendril::from_slice(text));
            q
        };
        let front = |q: &BufferQueue| q.peek_front_chunk_mut().map(|c| c.to_string());
        // No `</svg`: remembered as none from here to the end.
        let known = Cell::new(None);
        let q = queue("<g/><p>a</div>x");
        skip_drawing(&q, &known);
        assert_eq!(known.get(), Some((15, None)));
        assert_eq!(front(&q).as_deref(), Some("<g/><p>a</div>x"));
        // Later in the same input, the memory is used, not a new search: told "none", a
        // drawing that does end is left alone (a new search would skip it).
        let q = queue("<g/></svg>y");
        skip_drawing(&q, &Cell::new(Some((100, None))));
        assert_eq!(front(&q).as_deref(), Some("<g/></svg>y"));
        // A remembered end that is not one is not used.
        let q = queue("<g/></svg>y");
        skip_drawing(&q, &Cell::new(Some((100, Some(9)))));
        assert_eq!(front(&q).as_deref(), Some("<g/></svg>y"));
        // Once passed, the end is searched for again.
        let q = queue("<g/></svg>y");
        let known = Cell::new(Some((100, Some(50))));
        skip_drawing(&q, &known);
        assert_eq!(front(&q).as_deref(), Some("</svg>y"));
        assert_eq!(known.get(), Some((11, Some(7))));
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

    /// Tags nested past the depth bound are dropped before tree building (else the tree
    /// builder's scope searches make deep pages quadratic); their text stays.
    #[test]
    fn deep_nesting_is_flattened_and_keeps_its_text() {
        use crate::extract::depth::MAX_DEPTH;
        for open in ["<div>", "<div/>", "<span><b>"] {
            let html = open.repeat(100_000) + "x";
            let doc = Doc::parse(&html);
            let elements = doc.nodes.iter().filter(|n| n.is_element()).count();
            // `html`, `head`, `body` and the nested elements kept.
            assert_eq!(elements, 3 + MAX_DEPTH, "{open}");
            assert!(
                doc.nodes
                    .iter()
                    .any(|n| matches!(&n.kind, Kind::Text(t) if &**t == "x"))
            );
        }
    }

    /// Formatting elements closed by the end of an element around them stay on the tree
    /// builder's list of active formatting elements and are opened again at the next text:
    /// rows of them nest, and each new start tag is compared with the whole list, and each
    /// reopening looks through the stack for each entry (32,000 rows took 26 s). The list and
    /// the depth stay bounded: the tree has no path deeper than the bounds, no more than
    /// `MAX_FORMATTING` elements per row, and, in rows whose entries never leave the list (no
    /// end tag or `<a>` ends them), at most `MAX_FORMATTING` distinct formatting tags (the
    /// list's length); the text is all there.
    #[test]
    fn reopened_formatting_is_bounded() {
        use crate::extract::depth::{MAX_DEPTH, MAX_FORMATTING};
        for (row, rows, listed) in [
            ("<span><b class=c{i}></span>x", 32_000, true),
            ("<span><b class=c></span>x", 32_000, false),
            ("<div><i class=c{i}></div>x", 32_000, true),
            ("<span><font face=f{i}></span><img>x", 32_000, true),
            ("<td><u id=u{i}></td>x", 32_000, true),
            ("<a href=u{i}><div>x", 32_000, false),
            ("<em><a href=u{i}><nobr id=n{i}></em>x", 32_000, false),
            // Each paragraph reopens every font before it: without a bound, the tree grows as
            // the square of the rows.
            ("<p><font color=c{i}>x</p>", 3_000, true),
        ] {
            let html: String = (0..rows)
                .map(|i| row.replace("{i}", &i.to_string()))
                .collect();
            let doc = Doc::parse(&format!("<html><body>{html}</body></html>"));
            let mut depth = vec![0; doc.nodes.len()];
            let mut formatting = std::collections::HashSet::new();
            for (i, node) in doc.nodes.iter().enumerate() {
                if node.parent != NONE {
                    depth[i] = depth[node.parent] + usize::from(node.is_element());
                }
                if let Kind::Element { name, attrs } = &node.kind
                    && matches!(&**name, "a" | "b" | "i" | "font" | "nobr" | "u" | "em")
                {
                    let attrs: Vec<_> = attrs.iter().map(|a| (&*a.name.local, &*a.value)).collect();
                    formatting.insert(format!("{name}{attrs:?}"));
                }
            }
            let deepest = depth.iter().max().copied().unwrap_or(0);
            let elements = doc.nodes.iter().filter(|n| n.is_element()).count();
            let texts = doc
                .nodes
                .iter()
                .filter(|n| matches!(&n.kind, Kind::Text(t) if t.contains('x')))
                .map(|n| match &n.kind {
                    Kind::Text(t) => t.matches('x').count(),
                    _ => 0,
                })
                .sum::<usize>();
            assert!(
                deepest <= MAX_DEPTH + MAX_FORMATTING + 4,
                "{row}: depth {deepest}"
            );
            assert!(
                !listed || formatting.len() <= MAX_FORMATTING,
                "{row}: {} tags",
                formatting.len()
            );
            assert!(
                elements <= (MAX_FORMATTING + 4) * rows,
                "{row}: {elements} elements"
            );
            assert_eq!(texts, rows, "{row}");
        }
    }
}
