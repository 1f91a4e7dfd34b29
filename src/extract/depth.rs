//! How deeply a page nests its elements, measured before any tree is built. html5ever's tree
//! builder looks through the stack of open elements for most tags, so its time grows with the
//! number of tags times the depth: a page of 50,000 nested `<div>`s took 8 s. Browsers flatten
//! past a depth of 512 (Chromium); herald refuses a list page nested past [`MAX_DEPTH`], which no
//! real list page comes near, so that parsing time stays linear in the page's size.
//!
//! The page is run through html5ever's tokenizer (linear) and the depth counted from its tags
//! the way the tree builder nests them: void elements and elements whose end tag may be left
//! out (`p`, `li`, `td` …) do not count, a start tag that the tree builder takes as the end of
//! an open element of its kind does not nest (`<a>` in an `<a>`, a heading in a heading; see
//! `Nesting::start`), and an end tag closes only an element of its name that is open. The
//! figure is then about the depth of the tree the tree builder would make of the rest, never
//! more: a page of 2,000 unclosed `<a>`s is flat, as its tree is.
//!
//! The article extractor reads any page, so it does not refuse: [`Flatten`] sits between the
//! tokenizer and the tree builder and drops the tags nested past [`MAX_DEPTH`] (their text is
//! kept, in the deepest element left), counting the same way, in the same single pass.

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::{LocalName, local_name};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// The deepest nesting a list page may have (twice Chromium's flattening depth).
pub const MAX_DEPTH: usize = 1024;

/// Elements that never hold others, or whose end tag is optional (closed by a sibling or the
/// parent's end): neither deepens the tree the way an unclosed `<div>` does.
fn counts(name: &str) -> bool {
    !(super::is_void(name)
        || matches!(
            name,
            "p" | "li"
                | "dt"
                | "dd"
                | "option"
                | "optgroup"
                | "tr"
                | "td"
                | "th"
                | "thead"
                | "tbody"
                | "tfoot"
                | "colgroup"
                | "caption"
                | "rb"
                | "rt"
                | "rtc"
                | "rp"
                | "html"
                | "head"
                | "body"
        ))
}

/// The counted elements open, as the tree builder would keep them: a start tag pushes one,
/// except where the tree builder closes an open element of its kind instead of nesting in it
/// (see [`Nesting::start`]); an end tag closes the innermost open element of its name and
/// everything opened inside it, and is ignored when none is open (a stray `</b>` closes
/// nothing, so it cannot hide a level).
#[derive(Default)]
struct Nesting {
    /// Open elements, outermost first: the name they are matched by (see [`kind`]) and whether
    /// [`Flatten`] passed their start tag on.
    open: Vec<(LocalName, bool)>,
    /// How many elements of each kind are in `open`.
    count: HashMap<LocalName, usize>,
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

impl Nesting {
    fn depth(&self) -> usize {
        self.open.len()
    }

    fn is_open(&self, kind: &LocalName) -> bool {
        self.count.get(kind).is_some_and(|&n| n > 0)
    }

    fn push(&mut self, kind: LocalName) -> bool {
        let passed = self.open.len() < MAX_DEPTH;
        *self.count.entry(kind.clone()).or_default() += 1;
        self.open.push((kind, passed));
        passed
    }

    /// Closes the innermost open element of `kind` and those inside it; whether it was passed
    /// on. `None` when none is open.
    fn close(&mut self, kind: &LocalName) -> Option<bool> {
        if !self.is_open(kind) {
            return None;
        }
        while let Some((name, passed)) = self.open.pop() {
            if let Some(n) = self.count.get_mut(&name) {
                *n = n.saturating_sub(1);
            }
            if &name == kind {
                return Some(passed);
            }
        }
        None
    }

    /// A start tag that opens an element (counted, and not a self-closing one in SVG or
    /// MathML); whether it is to be passed on to the tree builder. The tree builder (the HTML
    /// standard's "in body" rules) nests most start tags in the current element, but:
    /// - `<a>` and `<nobr>` with one of their kind open end it first (the adoption agency, see
    ///   [`Nesting::adopt`]), so a page of unclosed links stays flat;
    /// - `<button>` with a `<button>` open closes it and what is inside it first;
    /// - `<form>` with a `<form>` open is ignored;
    /// - a heading (`h1`-`h6`) right inside another heading closes it first;
    /// - `<select>` inside a `<select>` closes it and opens nothing.
    ///
    /// Elements whose end tag may be left out (`p`, `li`, `option`, table parts …) are not
    /// counted at all (see [`counts`]).
    fn start(&mut self, name: &LocalName) -> bool {
        let kind = kind(name);
        match &*kind {
            "a" | "nobr" if self.is_open(&kind) => {
                self.adopt(&kind);
                self.push(kind)
            }
            "form" if self.is_open(&kind) => self.innermost(&kind),
            "select" if self.is_open(&kind) => self.close(&kind).unwrap_or(true),
            "button" if self.is_open(&kind) => {
                self.close_reopening_formatting(&kind);
                self.push(kind)
            }
            "h1" => {
                if self.open.last().is_some_and(|(open, _)| *open == kind) {
                    self.close(&kind);
                }
                self.push(kind)
            }
            _ => self.push(kind),
        }
    }

    /// The end of the innermost open `kind` (`a` or `nobr`) when another one starts, as the
    /// adoption agency makes it. With a block (a "special" element such as `<div>`) opened
    /// inside it, the block and what is in it stay open (moved out of it): only the element
    /// itself leaves the stack. Without one, it closes with everything inside it, and the
    /// formatting elements among those (`<b>`, `<i>` …) are opened again in the same order.
    fn adopt(&mut self, kind: &LocalName) {
        let Some(at) = self.open.iter().rposition(|(name, _)| name == kind) else {
            return;
        };
        if self.open[at + 1..].iter().any(|(name, _)| is_special(name)) {
            self.open.remove(at);
            if let Some(n) = self.count.get_mut(kind) {
                *n = n.saturating_sub(1);
            }
        } else {
            self.close_reopening_formatting(kind);
        }
    }

    /// Closes the innermost open `kind` and what is inside it, then opens again the formatting
    /// elements that were inside it (the tree builder reconstructs them before the next
    /// element), each as passed on as it was.
    fn close_reopening_formatting(&mut self, kind: &LocalName) {
        let Some(at) = self.open.iter().rposition(|(name, _)| name == kind) else {
            return;
        };
        let reopened: Vec<(LocalName, bool)> = self.open[at + 1..]
            .iter()
            .filter(|(name, _)| is_formatting(name))
            .cloned()
            .collect();
        self.close(kind);
        for (name, passed) in reopened {
            *self.count.entry(name.clone()).or_default() += 1;
            self.open.push((name, passed));
        }
    }

    /// Whether the innermost open element of `kind` was passed on.
    fn innermost(&self, kind: &LocalName) -> bool {
        self.open
            .iter()
            .rev()
            .find(|(name, _)| name == kind)
            .is_none_or(|(_, passed)| *passed)
    }

    /// An end tag of a counted element: whether it is to be passed on (not when it closes an
    /// element that was not).
    fn end(&mut self, name: &LocalName) -> bool {
        self.close(&kind(name)).unwrap_or(true)
    }
}

#[derive(Default)]
struct Depth {
    nesting: RefCell<Nesting>,
    max: Cell<usize>,
}

impl TokenSink for Depth {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let Token::TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        let mut nesting = self.nesting.borrow_mut();
        match tag.kind {
            TagKind::StartTag => {
                // HTML ignores the slash of `<div/>`: it opens a `<div>` like `<div>` does. In
                // SVG and MathML (and `<svg/>` itself) the slash closes the element.
                let foreign = nesting.is_open(&local_name!("svg"))
                    || nesting.is_open(&local_name!("math"))
                    || matches!(&*tag.name, "svg" | "math");
                if counts(&tag.name) && !(tag.self_closing && foreign) {
                    nesting.start(&tag.name);
                    self.max.set(self.max.get().max(nesting.depth()));
                }
                raw_content(&tag.name).unwrap_or(TokenSinkResult::Continue)
            }
            TagKind::EndTag => {
                if counts(&tag.name) {
                    nesting.end(&tag.name);
                }
                TokenSinkResult::Continue
            }
        }
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
            nesting: RefCell::new(Nesting::default()),
        }
    }

    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: TokenSink> TokenSink for Flatten<S> {
    type Handle = S::Handle;

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<S::Handle> {
        if let Token::TagToken(tag) = &token
            && counts(&tag.name)
            && !(raw_content(&tag.name).is_some() || &*tag.name == "noscript")
        {
            // `<div/>` opens a `<div>` like `<div>` does: the slash closes only in SVG and MathML.
            let opens = !tag.self_closing
                || !self
                    .inner
                    .adjusted_current_node_present_but_not_in_html_namespace();
            let passed = match tag.kind {
                TagKind::StartTag if opens => self.nesting.borrow_mut().start(&tag.name),
                TagKind::EndTag => self.nesting.borrow_mut().end(&tag.name),
                TagKind::StartTag => true,
            };
            if !passed {
                return TokenSinkResult::Continue;
            }
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
    let tokenizer = Tokenizer::new(Depth::default(), TokenizerOpts::default());
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
    #[case::unclosed_paragraphs_and_items("<ul><li>a<li>b<li>c</ul><p>x<p>y<p>z", 1)]
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
    #[case::selects_in_a_select("<select><select><select>", 1)]
    #[case::heading_end_tags_close_any_heading("<div><h1>a</h2><div>", 2)]
    // Real nesting still counts, links and all.
    #[case::divs_in_links(&"<div><a>x".repeat(50), 51)]
    // A stray end tag closes nothing, so it hides no level.
    #[case::stray_end_tags(&"<div></b></span>".repeat(40), 40)]
    #[case::end_tag_closes_what_is_inside(&"<div><span><b></div>".repeat(5), 3)]
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
    // Formatting elements inside a link ended by the next come back: they nest.
    #[case::bold_in_unclosed_links_is_deep(
        (0..=MAX_DEPTH).map(|i| format!("<a href=x><b id={i}>")).collect(),
        Some(MAX_DEPTH + 2)
    )]
    #[case::deep_after_many_flat(
        format!("{}{}", "<br>".repeat(MAX_DEPTH), "<div>".repeat(MAX_DEPTH + 5)),
        Some(MAX_DEPTH + 5)
    )]
    fn too_deep_agrees_with_depth(#[case] html: String, #[case] expected: Option<usize>) {
        assert_eq!(too_deep(&html), expected);
        let measured = depth(&html);
        assert_eq!(expected, Some(measured).filter(|&d| d > MAX_DEPTH));
    }

    #[test]
    fn a_hundred_thousand_levels_are_measured_in_linear_time() {
        let html = "<div>".repeat(100_000);
        let start = std::time::Instant::now();
        assert_eq!(depth(&html), 100_000);
        assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
    }
}
