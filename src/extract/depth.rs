//! How deeply a page nests its elements, measured before any tree is built. html5ever's tree
//! builder looks through the stack of open elements for most tags, so its time grows with the
//! number of tags times the depth: a page of 50,000 nested `<div>`s took 8 s. Browsers flatten
//! past a depth of 512 (Chromium); herald refuses a list page nested past [`MAX_DEPTH`], which no
//! real list page comes near, so that parsing time stays linear in the page's size.
//!
//! The page is run through html5ever's tokenizer (linear) and the depth counted from its tags
//! the way the tree builder nests them: void elements and elements whose end tag may be left
//! out and that cannot nest in one of their kind (`p`, `option`, table parts …) do not count,
//! a start tag that the tree builder takes as the end of an open element of its kind does not
//! nest (`<a>` in an `<a>`, a heading right in a heading, an `<li>` in an `<li>`; see
//! `Nesting::start`), and an end tag closes only an element of its name that is open, where the
//! tree builder would close it. Each closing rule applies only where the tree builder finds the
//! element: an uncounted element opened inside it (an `<option>` in an `<h1>`) makes the next
//! one nest. The figure is then about the depth of the tree the tree builder would make of the
//! rest, or more, never much less: a page of 2,000 unclosed `<a>`s is flat, as its tree is.
//!
//! Formatting elements (`<b>`, `<a>`, `<font>` …) are also kept on the tree builder's list of
//! active formatting elements, and one closed by the end of an element around it
//! (`<span><b></span>`) is opened again, inside the current element, at the next text or inline
//! tag: a row of such markup nests as deep as it is long, and the list grows with it. The count
//! keeps that list too (see [`Entry`]): its markers, its "Noah's Ark" rule, and the reopening.
//!
//! The article extractor reads any page, so it does not refuse: [`Flatten`] sits between the
//! tokenizer and the tree builder and drops the tags nested past [`MAX_DEPTH`] (their text is
//! kept, in the deepest element left), counting the same way, in the same single pass. It also
//! drops formatting start tags past [`MAX_FORMATTING`] entries in the list, and start tags
//! past [`REOPENING_WORK`]: the tree builder's work to reopen the list at each text stays
//! bounded (32,000 rows of `<span><b class=cN></span>x` took 26 s).

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::{Attribute, LocalName, local_name};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// The deepest nesting a list page may have (twice Chromium's flattening depth).
pub const MAX_DEPTH: usize = 1024;

/// Elements that never hold others, or whose end tag is optional and that a start tag of their
/// kind closes wherever they are (`p`) or that live only in tables: none deepens the tree the
/// way an unclosed `<div>` does. (`li`, `dt`, `dd`, `optgroup` and the ruby parts nest in each
/// other, or in themselves outside a `<ruby>`: they count.)
fn counts(name: &str) -> bool {
    !(super::is_void(name)
        || matches!(
            name,
            "p" | "option"
                | "tr"
                | "td"
                | "th"
                | "thead"
                | "tbody"
                | "tfoot"
                | "colgroup"
                | "caption"
                | "html"
                | "head"
                | "body"
        ))
}

/// An uncounted element that is opened as an element of its own (not void, and not `html`,
/// `head` or `body`, whose tags only add attributes to the ones there are).
fn opens_uncounted(name: &str) -> bool {
    !(counts(name) || super::is_void(name) || matches!(name, "html" | "head" | "body"))
}

/// The counted elements open, as the tree builder would keep them: a start tag pushes one,
/// except where the tree builder closes an open element of its kind instead of nesting in it
/// (see [`Nesting::start`]); an end tag closes the innermost open element of its name where
/// the tree builder would (see [`Nesting::end`]), and is ignored otherwise (a stray `</b>`
/// closes nothing, so it cannot hide a level).
#[derive(Default)]
struct Nesting {
    /// Open elements, outermost first.
    open: Vec<Open>,
    /// How many elements of each kind are in `open`.
    count: HashMap<LocalName, usize>,
    /// The tree builder's list of active formatting elements (see [`Entry`]).
    formatting: Vec<Entry>,
    /// The ids of the elements in `open`.
    live: HashSet<u64>,
    /// The markers in `formatting`: where each is, and the id of the element that set it.
    markers: Vec<(usize, u64)>,
    /// The id the next element gets.
    next_id: u64,
    /// Whether tags are dropped ([`Flatten`]): start tags past [`MAX_DEPTH`] or
    /// [`REOPENING_WORK`], and formatting start tags past [`MAX_FORMATTING`] entries.
    drops: bool,
    /// Whether the tokenizer is in the text of a `<script>`, `<style>` … (no markup there).
    raw: bool,
    /// What uncounted elements may be open outside every counted one (a `<p>` in the body).
    root: Inside,
    /// How many `p`s are noted as open (in `root` and the `inside` of open elements).
    paragraphs: usize,
}

/// The most entries after the last marker that [`Flatten`] lets the list of active formatting
/// elements hold. The tree builder compares each formatting start tag with all of them, and
/// reopens the entries whose elements were closed at each text and most start tags: a page
/// can make it reopen the whole list at every short run of text (`<div>x</div>`), adding as
/// many elements: with 16, a page makes at most about 1.3 elements per byte (a page of `<b>`s
/// makes 0.3). The 297 pages of the two extraction benchmarks keep 2 at most (formatting left
/// open in a paragraph or a cell).
pub const MAX_FORMATTING: usize = 16;

/// The most entries after the last marker times the depth that [`Flatten`] lets through:
/// for each entry it reopens, the tree builder looks through the whole stack of open elements
/// (whether its element is still open), so that is the work a text can cost. Four times
/// [`MAX_DEPTH`], about what one look through the deepest stack costs for other tags; real
/// pages stay far below (2 entries at most in the benchmarks' pages).
const REOPENING_WORK: usize = 4 * MAX_DEPTH;

/// An entry of the list of active formatting elements. A formatting start tag (`<b>`, `<a>`
/// …) adds one; an end tag of another element that closes the element (`<span><b></span>`)
/// leaves the entry, and the tree builder opens a new element for it, inside the current one,
/// at the next text or start tag of most elements ("reconstruct the active formatting
/// elements"): rows of such markup nest.
enum Entry {
    /// Set by a table cell or caption (for the table) and by `applet`, `object`, `marquee`
    /// and `template`: entries before it are neither reopened nor compared until the content
    /// it was set for ends (see [`Nesting::markers`]).
    Marker,
    Element {
        kind: LocalName,
        /// The element that holds it now (see [`Nesting::live`]).
        id: u64,
        /// Its tag, for the "Noah's Ark" rule: a fourth entry equal to three after the last
        /// marker (name and attributes, in any order) removes the earliest of them.
        key: Rc<Key>,
    },
}

/// A formatting start tag's name and attributes, sorted, with their hash.
#[derive(PartialEq)]
struct Key {
    hash: u64,
    name: LocalName,
    attrs: Vec<Attribute>,
}

impl Key {
    fn new(tag: &Tag) -> Key {
        let mut attrs = tag.attrs.clone();
        attrs.sort();
        let mut hasher = std::hash::DefaultHasher::new();
        tag.name.hash(&mut hasher);
        for attr in &attrs {
            attr.name.local.hash(&mut hasher);
            attr.value.hash(&mut hasher);
        }
        Key {
            hash: hasher.finish(),
            name: tag.name.clone(),
            attrs,
        }
    }
}

/// An open counted element.
struct Open {
    /// Which element it is (an element reopened from the list of active formatting elements
    /// is a new one).
    id: u64,
    /// The name it is matched by (see [`kind`]).
    kind: LocalName,
    /// Whether [`Flatten`] passed its start tag on.
    passed: bool,
    /// Whether it is special (see [`is_special`]), kept so that walks down the stack are cheap.
    special: bool,
    /// What uncounted elements may be open inside it (after the counted ones inside it).
    inside: Inside,
}

/// The uncounted elements (`p`, `li`, `option` …) that may be open right inside an element.
/// The tree builder's rules look at the current node, and with one of these open the current
/// node is not the counted element: a rule that closes it then does not apply.
#[derive(Clone, PartialEq, Default)]
enum Inside {
    /// None: the element is the current node.
    #[default]
    Clean,
    /// At most one, of this name (a `p`, `li`, `dt`, `dd` or `option` closes one of its kind
    /// right before it, so a row of them leaves one open).
    One(LocalName),
    /// Any, or not known.
    Other,
}

/// How far down the stack [`Nesting::close_p`] looks for an open `p`: inline elements in a
/// paragraph nest a few deep on real pages.
const P_REACH: usize = 128;

fn is_p(inside: &Inside) -> bool {
    matches!(inside, Inside::One(name) if &**name == "p")
}

/// Elements that are scope boundaries for end tags (the HTML standard's "has an element in
/// scope"): an end tag does not close an element of its name outside one of them.
fn is_boundary(name: &str) -> bool {
    matches!(
        name,
        "applet" | "table" | "marquee" | "object" | "template" | "svg" | "math"
    )
}

/// The name an element is matched by: headings are one kind (`</h2>` closes an open `<h1>`).
fn kind(name: &LocalName) -> LocalName {
    match &**name {
        "h2" | "h3" | "h4" | "h5" | "h6" => local_name!("h1"),
        _ => name.clone(),
    }
}

/// The formatting elements the tree builder reopens when they were closed by the end of an
/// element around them (the HTML standard's "list of active formatting elements").
fn is_formatting(name: &str) -> bool {
    matches!(
        name,
        "a" | "b"
            | "big"
            | "code"
            | "em"
            | "font"
            | "i"
            | "nobr"
            | "s"
            | "small"
            | "strike"
            | "strong"
            | "tt"
            | "u"
    )
}

/// The elements of the HTML standard's "special" category that the depth counts: a link that
/// holds one of them is ended around it (the adoption agency), not with it.
fn is_special(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "li"
            | "dt"
            | "dd"
            | "applet"
            | "article"
            | "aside"
            | "blockquote"
            | "button"
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
            | "frameset"
            | "h1"
            | "header"
            | "hgroup"
            | "iframe"
            | "listing"
            | "main"
            | "marquee"
            | "menu"
            | "nav"
            | "noembed"
            | "noframes"
            | "noscript"
            | "object"
            | "ol"
            | "plaintext"
            | "pre"
            | "script"
            | "search"
            | "section"
            | "select"
            | "style"
            | "summary"
            | "table"
            | "template"
            | "textarea"
            | "title"
            | "ul"
            | "xmp"
            | "mi"
            | "mo"
            | "mn"
            | "ms"
            | "mtext"
            | "annotation-xml"
            | "foreignObject"
            | "foreignobject"
            | "desc"
    )
}

/// Start tags the tree builder handles without reopening the active formatting elements first:
/// those that end an open `p` (blocks, headings, list items; `xmp` reopens them after), head
/// elements, table parts, frames, ruby parts, raw text. Every other start tag, and text,
/// reopens them (see [`Entry`]).
fn keeps_formatting_closed(name: &str) -> bool {
    (closes_p(name) && name != "xmp")
        || matches!(
            name,
            "h2" | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "base"
                | "basefont"
                | "bgsound"
                | "link"
                | "meta"
                | "noframes"
                | "script"
                | "style"
                | "template"
                | "title"
                | "html"
                | "head"
                | "body"
                | "frameset"
                | "frame"
                | "iframe"
                | "noembed"
                | "noscript"
                | "textarea"
                | "table"
                | "caption"
                | "col"
                | "colgroup"
                | "tbody"
                | "tfoot"
                | "thead"
                | "tr"
                | "td"
                | "th"
                | "rb"
                | "rp"
                | "rt"
                | "rtc"
                | "param"
                | "source"
                | "track"
        )
}

/// Start tags that end an open `p` first (see [`Nesting::close_p`]).
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
            | "header"
            | "hgroup"
            | "main"
            | "menu"
            | "nav"
            | "ol"
            | "p"
            | "search"
            | "section"
            | "summary"
            | "ul"
            | "h1"
            | "pre"
            | "listing"
            | "form"
            | "plaintext"
            | "li"
            | "dd"
            | "dt"
            | "hr"
            | "xmp"
    )
}

/// Elements that put a marker on the list of active formatting elements for their content.
fn sets_marker(name: &str) -> bool {
    matches!(name, "applet" | "object" | "marquee" | "template")
}

impl Nesting {
    fn new(drops: bool) -> Nesting {
        Nesting {
            drops,
            ..Nesting::default()
        }
    }

    fn depth(&self) -> usize {
        self.open.len()
    }

    fn is_open(&self, kind: &LocalName) -> bool {
        self.count.get(kind).is_some_and(|&n| n > 0)
    }

    /// Whether a start tag is passed on: [`Flatten`] drops those nested past [`MAX_DEPTH`],
    /// or past [`REOPENING_WORK`] with the list of active formatting elements as it is.
    fn passes(&self) -> bool {
        !self.drops || self.fits(self.formatting.len() - self.section())
    }

    /// Whether one more element fits with `entries` after the last marker in the list of
    /// active formatting elements.
    fn fits(&self, entries: usize) -> bool {
        let depth = self.open.len();
        depth < MAX_DEPTH && entries * (depth + 1) <= REOPENING_WORK
    }

    /// Opens an element of `kind`; its id.
    fn push(&mut self, kind: LocalName, passed: bool) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        *self.count.entry(kind.clone()).or_default() += 1;
        self.live.insert(id);
        self.open.push(Open {
            id,
            special: is_special(&kind),
            kind,
            passed,
            inside: Inside::Clean,
        });
        id
    }

    /// Takes the open element at `at` off the stack; the markers it set on the list of active
    /// formatting elements go with it (what is left of its content's list).
    fn take(&mut self, at: usize) -> Open {
        let open = self.open.remove(at);
        if let Some(n) = self.count.get_mut(&open.kind) {
            *n = n.saturating_sub(1);
        }
        self.live.remove(&open.id);
        self.paragraphs = self
            .paragraphs
            .saturating_sub(usize::from(is_p(&open.inside)));
        while self
            .markers
            .last()
            .is_some_and(|&(_, owner)| owner == open.id)
        {
            self.clear_to_marker();
        }
        open
    }

    /// Marks the current element as not known to be the current node any more.
    fn dirty_top(&mut self, inside: Inside) {
        self.set_inside(self.open.len().checked_sub(1), inside);
    }

    /// What may be open inside the element on top (or outside them all).
    fn top_inside(&self) -> &Inside {
        self.open.last().map_or(&self.root, |top| &top.inside)
    }

    /// Sets what may be open right inside the open element at `at` (`None`: outside them
    /// all), and keeps count of the `p`s noted.
    fn set_inside(&mut self, at: Option<usize>, inside: Inside) {
        let slot = match at {
            Some(at) => &mut self.open[at].inside,
            None => &mut self.root,
        };
        let was = is_p(slot);
        self.paragraphs =
            (self.paragraphs + usize::from(is_p(&inside))).saturating_sub(usize::from(was));
        *slot = inside;
    }

    /// The tree builder's "close a p element", for `</p>` and for the start tags of blocks
    /// (see [`closes_p`]) while a `p` is open in button scope: the `p` ends with what is
    /// inside it (`<p><b>x</p>` ends the `<b>`). The `p` is the one noted as open right inside
    /// a counted element (or outside them all), under elements that are neither blocks nor
    /// scope boundaries (a block's start tag ends the `p`, a boundary hides it). It is looked
    /// for among the last [`P_REACH`] elements only, so that each look stays short: one further
    /// down is left open, with what is above it (the count is then higher, never lower).
    fn close_p(&mut self) {
        if self.paragraphs == 0 {
            return;
        }
        let from = self.open.len().saturating_sub(P_REACH);
        for at in (from..self.open.len()).rev() {
            let open = &self.open[at];
            if is_p(&open.inside) {
                self.close_at(at + 1);
                self.set_inside(Some(at), Inside::Clean);
                return;
            }
            if open.inside != Inside::Clean || open.special || is_boundary(&open.kind) {
                return;
            }
        }
        if from == 0 && is_p(&self.root) {
            self.close_at(0);
            self.set_inside(None, Inside::Clean);
        }
    }

    /// Closes the open element at `at` and those inside it; whether it was passed on.
    /// Uncounted elements left open inside what was closed are not known to be closed with it
    /// (a `<p>` in a `<b>` stays open when the `<b>` ends), so the element left on top is then
    /// not known to be the current node.
    fn close_at(&mut self, at: usize) -> bool {
        let mut dirty = false;
        let mut passed = true;
        while self.open.len() > at {
            let open = self.take(self.open.len() - 1);
            dirty |= open.inside != Inside::Clean;
            passed = open.passed;
        }
        if dirty {
            self.dirty_top(Inside::Other);
        }
        passed
    }

    /// Closes the innermost open element of `kind` (see [`Nesting::find`]) and those inside
    /// it; whether it was passed on. `None` when none is open.
    fn close(&mut self, kind: &LocalName) -> Option<bool> {
        let at = self.find(kind)?;
        Some(self.close_at(at))
    }

    /// Takes the open element at `at` off the stack and leaves those inside it open (the
    /// adoption agency moves them out of it); whether it was passed on.
    fn remove(&mut self, at: usize) -> bool {
        let open = self.take(at);
        if open.inside != Inside::Clean && at > 0 {
            self.set_inside(Some(at - 1), Inside::Other);
        }
        open.passed
    }

    /// Where the entries after the last marker start in the list of active formatting
    /// elements.
    fn section(&self) -> usize {
        self.markers.last().map_or(0, |&(at, _)| at + 1)
    }

    fn push_marker(&mut self, owner: u64) {
        self.markers.push((self.formatting.len(), owner));
        self.formatting.push(Entry::Marker);
    }

    /// Drops the entries after the last marker, and the marker.
    fn clear_to_marker(&mut self) {
        if let Some((at, _)) = self.markers.pop() {
            self.formatting.truncate(at);
        }
    }

    /// The id of the innermost open table (cells and captions set their markers for it).
    fn table(&self) -> Option<u64> {
        let table = local_name!("table");
        if !self.is_open(&table) {
            return None;
        }
        self.find(&table).map(|at| self.open[at].id)
    }

    /// The end of the cell or caption open in the innermost table (an end tag of one, or a
    /// start tag of the next cell or row): its marker goes.
    fn end_cell(&mut self) {
        if let Some(table) = self.table()
            && self
                .markers
                .last()
                .is_some_and(|&(_, owner)| owner == table)
        {
            self.clear_to_marker();
        }
    }

    /// A cell or caption starts (the tree builder ignores one outside a table).
    fn start_cell(&mut self) {
        self.end_cell();
        if let Some(table) = self.table() {
            self.push_marker(table);
        }
    }

    /// The tree builder's "reconstruct the active formatting elements": the entries at the
    /// end of the list (after the last marker) whose elements were closed get new elements,
    /// opened one in the other on top of the stack, in the order of the list. Each entry it
    /// reopens is an element it adds, so its work is the depth it adds.
    fn reconstruct(&mut self) {
        let from = self.section();
        let mut at = self.formatting.len();
        while at > from
            && matches!(&self.formatting[at - 1], Entry::Element { id, .. } if !self.live.contains(id))
        {
            at -= 1;
        }
        for i in at..self.formatting.len() {
            let Entry::Element { kind, .. } = &self.formatting[i] else {
                continue;
            };
            let new = self.push(kind.clone(), true);
            if let Entry::Element { id, .. } = &mut self.formatting[i] {
                *id = new;
            }
        }
    }

    /// Text outside raw text: the tree builder reconstructs the active formatting elements.
    fn text(&mut self) {
        if !self.raw {
            self.reconstruct();
        }
    }

    /// The entries after the last marker a formatting start tag with `key` leaves, and the
    /// one the "Noah's Ark" rule removes for it (the earliest of three equal ones).
    fn noahs_ark(&self, key: &Key) -> (usize, Option<usize>) {
        let from = self.section();
        let mut equal = self.formatting[from..].iter().enumerate().filter(
            |(_, entry)| matches!(entry, Entry::Element { key: other, .. } if **other == *key),
        );
        let first = equal.next().map(|(at, _)| from + at);
        let removed = first.filter(|_| equal.count() >= 2);
        let len = self.formatting.len() - from - usize::from(removed.is_some());
        (len, removed)
    }

    /// A formatting start tag (`<b>`, `<a>` …); whether it is passed on. The tree builder
    /// ends an `<a>` with an entry after the last marker, and an open `<nobr>`, first (the
    /// adoption agency), reconstructs the active formatting elements, opens the element and
    /// adds its entry. [`Flatten`] drops the tag when the list would pass [`MAX_FORMATTING`]
    /// entries after the last marker; the count lists at most [`MAX_DEPTH`] (all of them are
    /// open when one is added, so the page is past the bound by then).
    fn start_formatting(&mut self, tag: &Tag, kind: LocalName) -> bool {
        let key = Rc::new(Key::new(tag));
        let (len, _) = self.noahs_ark(&key);
        let bound = if self.drops {
            MAX_FORMATTING
        } else {
            MAX_DEPTH
        };
        if self.drops && !(len < bound && self.fits(len + 1)) {
            self.push(kind, false);
            return false;
        }
        let from = self.section();
        if &*kind == "a"
            && self.formatting[from..]
                .iter()
                .any(|entry| matches!(entry, Entry::Element { kind, .. } if &**kind == "a"))
        {
            self.adoption(&kind);
        }
        self.reconstruct();
        if &*kind == "nobr" && self.in_scope(&kind) {
            self.adoption(&kind);
            self.reconstruct();
        }
        let (len, removed) = self.noahs_ark(&key);
        if let Some(at) = removed {
            self.formatting.remove(at);
        }
        let id = self.push(kind.clone(), true);
        if len < bound {
            self.formatting.push(Entry::Element { kind, id, key });
        }
        true
    }

    /// The tree builder's adoption agency for the end of formatting element `kind` (an end
    /// tag, or an `<a>` or `<nobr>` ending the open one). It ends the element of the last
    /// entry of the name after the last marker: an entry whose element was closed is dropped;
    /// an element out of scope (a table opened inside it) is left alone; else, with a block
    /// opened inside it, only the element leaves the stack (the block stays open, moved out
    /// of it), and without one it closes with what is inside it. Without an entry, the end tag
    /// is any other end tag (see [`Nesting::end`]).
    fn adoption(&mut self, kind: &LocalName) {
        let from = self.section();
        let entry = self.formatting[from..]
            .iter()
            .rposition(|entry| matches!(entry, Entry::Element { kind: k, .. } if k == kind))
            .map(|at| from + at);
        let Some(entry) = entry else {
            if let Some(at) = self.find(kind)
                && !self.block_inside(at)
            {
                self.close_at(at);
            }
            return;
        };
        let Entry::Element { id, .. } = self.formatting[entry] else {
            return;
        };
        let start = self.open.len().saturating_sub(MAX_DEPTH);
        let Some(at) = self.open[start..]
            .iter()
            .rposition(|open| open.id == id)
            .map(|at| start + at)
        else {
            self.formatting.remove(entry);
            return;
        };
        if self.open[at + 1..]
            .iter()
            .any(|open| is_boundary(&open.kind))
        {
            return;
        }
        self.formatting.remove(entry);
        if self.block_inside(at) {
            self.remove(at);
        } else {
            self.close_at(at);
        }
    }

    /// A start tag of an uncounted element that is not void (`p`, `li`, `option` …): the
    /// counted element on top is no longer the current node.
    fn uncounted_start(&mut self, name: &LocalName) {
        let closes_previous = |previous: &LocalName| {
            previous == name
                || (matches!(&**previous, "dt" | "dd") && matches!(&**name, "dt" | "dd"))
        };
        let inside = match self.top_inside() {
            Inside::Clean if matches!(&**name, "p" | "li" | "dt" | "dd" | "option") => {
                Inside::One(name.clone())
            }
            Inside::One(previous) if closes_previous(previous) => Inside::One(name.clone()),
            _ => Inside::Other,
        };
        self.dirty_top(inside);
    }

    /// An end tag of an uncounted element: when it is the one uncounted element open on top,
    /// the counted element is the current node again.
    fn uncounted_end(&mut self, name: &LocalName) {
        if *self.top_inside() == Inside::One(name.clone()) {
            self.dirty_top(Inside::Clean);
        }
    }

    /// Whether the element on top is `kind` and is the current node, or has only a `p` open in
    /// it (which the new element closes first, as headings do).
    fn current_is(&self, kind: &str, p_closes: bool) -> bool {
        self.open.last().is_some_and(|top| {
            &*top.kind == kind
                && match &top.inside {
                    Inside::Clean => true,
                    Inside::One(p) => p_closes && &**p == "p",
                    Inside::Other => false,
                }
        })
    }

    /// The list item (`<li>`, or `<dt>` and `<dd>`) a new one ends: the innermost open one of
    /// `kinds`, unless a special element other than `address`, `div` and `p` is open inside it.
    fn close_item(&mut self, kinds: &[LocalName]) {
        let from = self.open.len().saturating_sub(MAX_DEPTH);
        let Some(at) = self.open[from..]
            .iter()
            .rposition(|open| kinds.contains(&open.kind))
            .map(|at| from + at)
        else {
            return;
        };
        let stop = |open: &Open| {
            open.special && open.kind != local_name!("address") && open.kind != local_name!("div")
        };
        if !self.open[at + 1..].iter().any(stop) {
            let kind = self.open[at].kind.clone();
            self.close(&kind);
        }
    }

    /// The position of the innermost open element of `kind`, looked for among the last
    /// [`MAX_DEPTH`] only: each lookup stays short however deep the page (one deeper than that
    /// is taken as not open, so the rule that looked for it does not close it, and the count
    /// only grows; the page is past the bound anyway).
    fn find(&self, kind: &LocalName) -> Option<usize> {
        let from = self.open.len().saturating_sub(MAX_DEPTH);
        self.open[from..]
            .iter()
            .rposition(|open| &open.kind == kind)
            .map(|at| from + at)
    }

    /// Whether an element of `kind` is open with no scope boundary (see [`is_boundary`]) inside
    /// it.
    fn in_scope(&self, kind: &LocalName) -> bool {
        for open in self.open.iter().rev().take(MAX_DEPTH) {
            if &open.kind == kind {
                return true;
            }
            if is_boundary(&open.kind) {
                return false;
            }
        }
        false
    }

    /// Whether a special element may be open inside the element at `at`: a counted one, or
    /// any uncounted one.
    fn block_inside(&self, at: usize) -> bool {
        self.open[at + 1..].iter().any(|open| open.special)
            || self.open[at..]
                .iter()
                .any(|open| open.inside != Inside::Clean)
    }

    /// Whether the innermost open element of `kind` was passed on.
    fn innermost(&self, kind: &LocalName) -> bool {
        self.find(kind).is_none_or(|at| self.open[at].passed)
    }

    /// A start tag that opens an element (counted, and not a self-closing one in SVG or
    /// MathML); whether it is to be passed on to the tree builder. The tree builder (the HTML
    /// standard's "in body" rules) nests most start tags in the current element, but:
    /// - formatting elements go through the list of active formatting elements (see
    ///   [`Nesting::start_formatting`]): a page of unclosed links stays flat;
    /// - `<button>` with a `<button>` open closes it and what is inside it first;
    /// - `<form>` with a `<form>` open is ignored;
    /// - a heading (`h1`-`h6`) that finds a heading as the current node (once an open `p` is
    ///   closed) closes it first; any other element open in the heading, counted or not (an
    ///   `<li>`, a `<dt>`), makes the new heading nest;
    /// - `<select>` inside a `<select>` closes it and opens nothing;
    /// - `<rb>`, `<rtc>`, `<rt>` and `<rp>` inside a `<ruby>` end the ruby parts open on top.
    ///
    /// Most elements that are not blocks reopen the active formatting elements first (see
    /// [`keeps_formatting_closed`]). Elements whose end tag may be left out (`p`, `li`,
    /// `option`, table parts …) are not counted (see [`counts`]), but are noted as open (see
    /// [`Nesting::uncounted_start`]).
    fn start(&mut self, tag: &Tag) -> bool {
        let kind = kind(&tag.name);
        if !self.passes() {
            self.push(kind, false);
            return false;
        }
        if is_formatting(&kind) {
            return self.start_formatting(tag, kind);
        }
        if closes_p(&kind) && !matches!(&*kind, "form" | "li" | "dt" | "dd") {
            self.close_p();
        }
        match &*kind {
            "form" if self.is_open(&kind) => return self.innermost(&kind),
            "form" => self.close_p(),
            "select" if self.is_open(&kind) => return self.close(&kind).unwrap_or(true),
            "button" if self.is_open(&kind) => {
                self.close(&kind);
            }
            "h1" if self.current_is("h1", true) => {
                self.close(&kind);
            }
            "li" => {
                self.close_item(&[local_name!("li")]);
                self.close_p();
            }
            "dt" | "dd" => {
                self.close_item(&[local_name!("dt"), local_name!("dd")]);
                self.close_p();
            }
            "rb" | "rtc" | "rt" | "rp" if self.in_scope(&local_name!("ruby")) => {
                let parts: &[&str] = if matches!(&*kind, "rb" | "rtc") {
                    &["rb", "rtc", "rt", "rp"]
                } else {
                    &["rb", "rt", "rp"]
                };
                while let Some(top) = self.open.last()
                    && parts.contains(&&*top.kind)
                    && top.inside != Inside::Other
                {
                    let top = top.kind.clone();
                    self.close(&top);
                }
            }
            _ => {}
        }
        if !keeps_formatting_closed(&kind) {
            self.reconstruct();
        }
        let id = self.push(kind.clone(), true);
        if sets_marker(&kind) {
            self.push_marker(id);
        }
        true
    }

    /// An end tag of a counted element: whether it is to be passed on (not when it closes an
    /// element that was not). The tree builder closes the innermost element of the name, with
    /// what is inside it, except:
    /// - a formatting element (`<b>`, `<a>` …) goes through the adoption agency (see
    ///   [`Nesting::adoption`]);
    /// - a special element (`<div>`, `<ul>` …) with a scope boundary (`<table>` …) open inside
    ///   it is not closed (nor an `<li>` with a list open in it);
    /// - `</form>` takes the form off the stack and leaves what is inside it open;
    /// - any other element (`<span>` …) with a special element open inside it is not closed.
    fn end(&mut self, name: &LocalName) -> bool {
        let kind = kind(name);
        let found = self.find(&kind);
        if is_formatting(&kind) {
            // One whose start tag was dropped: the tree builder has not seen it.
            if let Some(at) = found
                && !self.open[at].passed
            {
                return self.close_at(at);
            }
            self.adoption(&kind);
            return true;
        }
        let Some(at) = found else {
            return true;
        };
        let boundary = |open: &Open| {
            is_boundary(&open.kind) || (&*kind == "li" && matches!(&*open.kind, "ul" | "ol"))
        };
        if is_special(&kind) {
            if self.open[at + 1..].iter().any(boundary) {
                return true;
            }
            if &*kind == "form" {
                return self.remove(at);
            }
        } else if self.block_inside(at) {
            return true;
        }
        self.close_at(at)
    }

    /// A tag from the tokenizer; whether it is to be passed on to the tree builder.
    /// `foreign_closing`: a self-closing start tag in SVG or MathML, which opens no element.
    fn tag(&mut self, tag: &Tag, foreign_closing: bool) -> bool {
        let name = &tag.name;
        if tag.kind == TagKind::EndTag {
            self.raw = false;
            if counts(name) {
                return self.end(name);
            }
            match &**name {
                "td" | "th" | "caption" | "tr" | "tbody" | "thead" | "tfoot" => self.end_cell(),
                // `</br>` is taken as `<br>`.
                "br" => self.reconstruct(),
                _ => {}
            }
            if &**name == "p" {
                self.close_p();
            } else {
                self.uncounted_end(name);
            }
            return true;
        }
        self.raw = raw_content(name).is_some();
        if foreign_closing {
            return true;
        }
        if counts(name) {
            return self.start(tag);
        }
        match &**name {
            "td" | "th" | "caption" => self.start_cell(),
            "tr" | "tbody" | "thead" | "tfoot" | "col" | "colgroup" => self.end_cell(),
            "p" | "hr" => self.close_p(),
            _ => {}
        }
        if !keeps_formatting_closed(name) {
            self.reconstruct();
        }
        if opens_uncounted(name) {
            self.uncounted_start(name);
        }
        true
    }
}

struct Depth {
    nesting: RefCell<Nesting>,
    max: Cell<usize>,
}

impl TokenSink for Depth {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut nesting = self.nesting.borrow_mut();
        let result = match token {
            Token::TagToken(tag) => {
                // HTML ignores the slash of `<div/>`: it opens a `<div>` like `<div>` does. In
                // SVG and MathML (and `<svg/>` itself) the slash closes the element.
                let foreign = nesting.is_open(&local_name!("svg"))
                    || nesting.is_open(&local_name!("math"))
                    || matches!(&*tag.name, "svg" | "math");
                nesting.tag(&tag, tag.self_closing && foreign);
                match tag.kind {
                    TagKind::StartTag => raw_content(&tag.name),
                    TagKind::EndTag => None,
                }
            }
            Token::CharacterTokens(_) => {
                nesting.text();
                None
            }
            _ => None,
        };
        self.max.set(self.max.get().max(nesting.depth()));
        result.unwrap_or(TokenSinkResult::Continue)
    }
}

/// The tokenizer state that follows a start tag, as the tree builder would set it (the depth
/// count needs it too, else `<script>` text would count as tags).
fn raw_content(name: &str) -> Option<TokenSinkResult<()>> {
    match name {
        "script" => Some(TokenSinkResult::RawData(RawKind::ScriptData)),
        "style" | "xmp" | "iframe" | "noembed" | "noframes" => {
            Some(TokenSinkResult::RawData(RawKind::Rawtext))
        }
        "title" | "textarea" => Some(TokenSinkResult::RawData(RawKind::Rcdata)),
        "plaintext" => Some(TokenSinkResult::Plaintext),
        _ => None,
    }
}

/// A token sink in front of another (the tree builder) that passes every token on except start
/// tags nested past [`MAX_DEPTH`] and the end tags that close them. Elements whose content is
/// raw text (`<script>`, `<noscript>` …) always pass: they cannot nest, and the tokenizer must
/// be told where their text starts.
pub struct Flatten<S> {
    inner: S,
    nesting: RefCell<Nesting>,
}

impl<S> Flatten<S> {
    pub fn new(inner: S) -> Flatten<S> {
        Flatten {
            inner,
            nesting: RefCell::new(Nesting::new(true)),
        }
    }

    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: TokenSink> TokenSink for Flatten<S> {
    type Handle = S::Handle;

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<S::Handle> {
        let mut nesting = self.nesting.borrow_mut();
        let passed = match &token {
            Token::TagToken(tag)
                if raw_content(&tag.name).is_some() || &*tag.name == "noscript" =>
            {
                nesting.raw = tag.kind == TagKind::StartTag;
                true
            }
            Token::TagToken(tag) => {
                // `<div/>` opens a `<div>` like `<div>` does: the slash closes only in SVG and
                // MathML.
                let foreign_closing = tag.self_closing
                    && self
                        .inner
                        .adjusted_current_node_present_but_not_in_html_namespace();
                nesting.tag(tag, foreign_closing)
            }
            Token::CharacterTokens(_) => {
                nesting.text();
                true
            }
            _ => true,
        };
        drop(nesting);
        if !passed {
            return TokenSinkResult::Continue;
        }
        self.inner.process_token(token, line)
    }

    fn end(&self) {
        self.inner.end();
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.inner
            .adjusted_current_node_present_but_not_in_html_namespace()
    }
}

/// The depth of `html` when it is past [`MAX_DEPTH`] (the page is refused), else `None`.
///
/// Every start tag the tokenizer reads begins with `<` and a letter (the HTML standard's "tag
/// open state"), and each counted level is a start tag: a page with no more than `MAX_DEPTH`
/// such pairs cannot be nested deeper, and is not run through the tokenizer at all (counting
/// them is a scan for `<`, a fraction of a tokenizer's pass). Most pages of a few hundred
/// elements are such pages.
pub fn too_deep(html: &str) -> Option<usize> {
    super::elements::cut_after(html, MAX_DEPTH)?;
    Some(depth(html)).filter(|&d| d > MAX_DEPTH)
}

/// The nesting depth of `html` as described in the module's comment.
pub fn depth(html: &str) -> usize {
    let sink = Depth {
        nesting: RefCell::new(Nesting::new(false)),
        max: Cell::new(0),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.max.get()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::flat("<div><p>a<p>b</div><div>c</div>", 1)]
    #[case::nested("<main><div><div><a>x</a></div></div></main>", 4)]
    #[case::unclosed_paragraphs_and_items("<ul><li>a<li>b<li>c</ul><p>x<p>y<p>z", 2)]
    #[case::void("<div><img><br><input/></div>", 1)]
    // HTML ignores the slash on an element that is not void: `<span/>` opens a `<span>`.
    #[case::self_closing_html_elements_open("<div><span/><div/><div/></div>", 4)]
    #[case::self_closing_in_svg_closes("<div><svg><path/><path/><g/></svg><svg/></div>", 2)]
    #[case::script_text_is_not_markup("<script>'<div><div><div>'</script><div></div>", 1)]
    // The tree builder closes an open element of the kind before it opens the next one.
    #[case::unclosed_links(&"<a href=x>link".repeat(3000), 1)]
    #[case::unclosed_nobr_and_buttons("<div><nobr>a<nobr>b<button>c<button>d<button>", 3)]
    #[case::formatting_in_a_button_is_reopened("<button><b><button><b><button>", 3)]
    #[case::forms_in_a_form("<form><div><form><form>", 2)]
    #[case::headings_in_headings("<h1>a<h2>b<h3>c</h3><h4>d", 1)]
    #[case::a_heading_inside_other_markup_nests("<h1><b><h2>x", 3)]
    // A heading closes only a heading that is the current node (a `p` in it is closed first).
    #[case::headings_around_uncounted_elements_nest(&"<h2><option>".repeat(5), 5)]
    #[case::headings_around_list_items_nest(&"<h1><li>".repeat(5), 10)]
    #[case::a_paragraph_in_a_heading_is_closed(&"<h1><p>x".repeat(5), 1)]
    #[case::a_closed_item_in_a_heading(&"<h1><option>x</option>".repeat(5), 1)]
    #[case::items_end_items("<ul><li><li><div><li></ul><dl><dt><dd><dt>", 3)]
    #[case::items_in_other_blocks_nest("<li><section><li><dd><li>", 5)]
    #[case::selects_in_a_select("<select><select><select>", 1)]
    #[case::heading_end_tags_close_any_heading("<div><h1>a</h2><div>", 2)]
    // Real nesting still counts, links and all.
    #[case::divs_in_links(&"<div><a>x".repeat(50), 51)]
    // A stray end tag closes nothing, so it hides no level.
    #[case::stray_end_tags(&"<div></b></span>".repeat(40), 40)]
    // The `<b>` closed by `</div>` is reopened in the next `<div>` (three equal ones at most).
    #[case::end_tag_closes_what_is_inside(&"<div><span><b></div>".repeat(5), 6)]
    // Formatting closed by the end of an element around it is reopened at the next text or
    // inline tag, inside the current element: rows nest.
    #[case::reopened_formatting_nests(&"<span><b></span>x".repeat(50), 51)]
    #[case::reopened_in_blocks_nests(&"<div><i class=c></div>t".repeat(50), 51)]
    #[case::reopened_before_inline_tags(&"<span><u></span><img><em>".repeat(50), 100)]
    // Blocks do not reopen it: the next text inside them does, and their end closes it again.
    #[case::reopened_inside_blocks(&"<div><b>x</div><div>y</div>".repeat(50), 5)]
    // `</p>` ends the formatting in the paragraph; the next paragraph reopens at most three
    // equal ones ("Noah's Ark").
    #[case::formatting_in_paragraphs(&"<p><b>x</p>".repeat(50), 4)]
    // A cell's end drops what was opened in it from the list: nothing is reopened. (The
    // count keeps the `<b>` open, as it does not count cells.)
    #[case::formatting_in_cells("<table><tr><td><b>x</td><td><i>y</td></tr></table>z", 3)]
    #[case::formatting_in_objects(&"<object><b>x</object>y".repeat(50), 2)]
    fn measures(#[case] html: &str, #[case] expected: usize) {
        assert_eq!(depth(html), expected);
    }

    /// `too_deep` says what `depth` says, whether it runs the tokenizer (more than `MAX_DEPTH`
    /// tag openings) or not.
    #[rstest]
    #[case::at_the_bound("<div>".repeat(MAX_DEPTH), None)]
    #[case::past_the_bound("<div>".repeat(MAX_DEPTH + 1), Some(MAX_DEPTH + 1))]
    #[case::many_tags_shallow("<div><p>a</p></div>".repeat(MAX_DEPTH), None)]
    #[case::openings_in_text_and_scripts(
        format!("<script>{}</script><!--{}-->{}", "<b".repeat(MAX_DEPTH), "<i>".repeat(9), "<div>".repeat(MAX_DEPTH)),
        None
    )]
    #[case::unclosed_links_are_flat("<a href=x>link".repeat(2000), None)]
    // Each `<a>` ends the last one and the `<span>` in it: the tree stays three deep.
    #[case::unclosed_links_in_spans_are_flat("<span><a href=x>link".repeat(2000), None)]
    // A `<div>` inside a link stays open when the link ends: divs nest.
    #[case::divs_in_unclosed_links_are_deep(
        "<div><a href=x>link".repeat(MAX_DEPTH),
        Some(MAX_DEPTH + 1)
    )]
    // Formatting elements inside a link ended by the next come back: they nest. (The tree is
    // MAX_DEPTH + 2 deep; the count stops listing formatting elements past MAX_DEPTH.)
    #[case::bold_in_unclosed_links_is_deep(
        (0..=MAX_DEPTH).map(|i| format!("<a href=x><b id={i}>")).collect(),
        Some(MAX_DEPTH + 1)
    )]
    // A formatting element closed by the end of an element around it comes back at the next
    // text, inside the one before: equal or not, they nest.
    #[case::reopened_formatting_is_deep(
        "<span><b class=c></span>x".repeat(MAX_DEPTH + 1),
        Some(MAX_DEPTH + 2)
    )]
    #[case::distinct_reopened_formatting_is_deep(
        (0..=MAX_DEPTH).map(|i| format!("<span><b class=c{i}></span>x")).collect(),
        Some(MAX_DEPTH + 2)
    )]
    #[case::distinct_formatting_reopened_in_paragraphs_is_deep(
        (0..=MAX_DEPTH).map(|i| format!("<p><font color=c{i}>x</p>")).collect(),
        Some(MAX_DEPTH + 1)
    )]
    #[case::paragraphs_of_formatting_are_flat("<p><b>x</p>".repeat(2 * MAX_DEPTH), None)]
    #[case::deep_after_many_flat(
        format!("{}{}", "<br>".repeat(MAX_DEPTH), "<div>".repeat(MAX_DEPTH + 5)),
        Some(MAX_DEPTH + 5)
    )]
    fn too_deep_agrees_with_depth(#[case] html: String, #[case] expected: Option<usize>) {
        assert_eq!(too_deep(&html), expected);
        let measured = depth(&html);
        assert_eq!(expected, Some(measured).filter(|&d| d > MAX_DEPTH));
    }

    /// The depth of the tree html5ever (through scraper) builds of `html`: the most elements
    /// on one path from the root.
    fn real_depth(html: &str) -> usize {
        let doc = scraper::Html::parse_document(html);
        doc.tree
            .nodes()
            .map(|node| node.ancestors().filter(|a| a.value().is_element()).count())
            .max()
            .unwrap_or(0)
    }

    /// Each rule that closes an open element instead of nesting in it (`a`, `nobr`, `button`,
    /// `form`, `select`, headings), interleaved with the elements the count leaves out or whose
    /// end is implied: the tree builder closes an element only when its rule finds it where
    /// the rule looks (mostly as the current node), so the count must not be lower than the
    /// real depth by more than a constant factor (table parts and other uncounted elements
    /// between counted ones).
    #[test]
    fn the_count_is_never_far_below_the_real_depth() {
        let rules = [
            "a", "nobr", "button", "form", "select", "h1", "h2", "div", "span", "b",
        ];
        let others = [
            "li", "dt", "dd", "option", "optgroup", "p", "tr", "td", "th", "rb", "rt", "rp", "rtc",
            "ul", "table", "ruby", "caption", "tbody", "div", "span", "b",
        ];
        let mut patterns = Vec::new();
        for rule in rules {
            for other in others {
                patterns.push(format!("<{rule}><{other}>"));
                patterns.push(format!("<{other}><{rule}>"));
                patterns.push(format!("<{rule}><{other}></{rule}>"));
                patterns.push(format!("<{rule}><{other}></{other}>"));
                patterns.push(format!("<{rule}><{other}><b></b>"));
                patterns.push(format!("<{rule}><b><{other}></b>"));
                for third in ["li", "dd", "p", "option", "rt", "optgroup"] {
                    patterns.push(format!("<{rule}><{other}><{third}>"));
                }
            }
        }
        for other in others {
            patterns.push(format!("<{other}>"));
            patterns.push(format!("<{other}><ul></{other}>"));
        }
        let mut failures = Vec::new();
        for unit in &patterns {
            let html = format!("<html><body>{}</body></html>", unit.repeat(300));
            let (counted, real) = (depth(&html), real_depth(&html));
            if real > 4 * counted + 16 {
                failures.push(format!("{unit} x300: counted {counted}, real {real}"));
            }
        }
        // Formatting elements closed by the end of an element around them, reopened by the
        // tree builder at the next text or inline tag (or not: after a cell, an object, or in
        // a block that ends them again), with equal attributes and with distinct ones (`{i}`).
        // The count must follow both ways: a row of these is as flat or as deep as its tree.
        let mut reopening = Vec::new();
        for formatting in [
            "b",
            "i class=c{i}",
            "a href=u{i}",
            "font color=c{i}",
            "nobr",
            "em id=e{i}",
        ] {
            let name = formatting.split(' ').next().unwrap_or(formatting);
            for around in [
                "span", "div", "p", "h1", "li", "button", "object", "label", "center",
            ] {
                reopening.push(format!("<{around}><{formatting}></{around}>x"));
                reopening.push(format!(
                    "<{around}><{formatting}>x</{around}><{around}>y</{around}>"
                ));
                reopening.push(format!("<{around}><{formatting}></{around}><img><br>"));
                reopening.push(format!("<{around}><{formatting}></{around}></{name}>x"));
                reopening.push(format!("<{around}><b><{formatting}></{around}>x"));
                reopening.push(format!("<{formatting}><{around}></{name}>x"));
            }
            for cell in ["td", "th", "caption"] {
                reopening.push(format!(
                    "<table><tr><{cell}><{formatting}>x</{cell}></tr></table>y"
                ));
                reopening.push(format!(
                    "<table><tr><{cell}><{formatting}>x<{cell}>y</table>z"
                ));
            }
            reopening.push(format!("<template><{formatting}></template>x"));
            reopening.push(format!("<{formatting}><table><tr><td>x</table>"));
        }
        for unit in &reopening {
            let html: String = (0..300)
                .map(|i| unit.replace("{i}", &i.to_string()))
                .collect();
            let html = format!("<html><body>{html}</body></html>");
            let (counted, real) = (depth(&html), real_depth(&html));
            if real > 4 * counted + 16 || counted > 2 * real + 16 {
                failures.push(format!("{unit} x300: counted {counted}, real {real}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// The rules that look down the stack (a list item looks for the last one, `</p>` for the
    /// `p`) stay linear under a deep stack of elements they look through.
    #[test]
    fn lookups_under_a_deep_stack_stay_linear() {
        for tail in [
            "<li></li>",
            "<dd></dd>",
            "</span>",
            "</b>",
            "<a></a>",
            "<rt></rt>",
            "<form>",
            // A `p` open under the stack: its end and blocks' start tags look for it.
            "</p>",
            "<hr>",
            "<div></div>",
            // Text reopens formatting elements closed under the stack.
            "</i>x",
        ] {
            let html = format!(
                "<ruby><span><form><a><p><i>{}{}",
                "<b>".repeat(30_000),
                tail.repeat(30_000)
            );
            // Each lookup looks at MAX_DEPTH elements at most (0.3–1.8 s a case in a debug
            // build); looking through the whole stack takes about 30 times as long. The bound
            // leaves room for a busy machine.
            let start = std::time::Instant::now();
            assert!(depth(&html) > 30_000);
            assert!(
                start.elapsed().as_secs() < 15,
                "{tail}: {:?}",
                start.elapsed()
            );
        }
    }

    #[test]
    fn a_hundred_thousand_levels_are_measured_in_linear_time() {
        let html = "<div>".repeat(100_000);
        let start = std::time::Instant::now();
        assert_eq!(depth(&html), 100_000);
        assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
    }
}
