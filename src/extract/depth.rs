//! How deeply a page nests its elements, measured before any tree is built. html5ever's tree
//! builder looks through the stack of open elements for most tags, so its time grows with the
//! number of tags times the depth: a page of 50,000 nested `<div>`s took 8 s. Browsers flatten
//! past a depth of 512 (Chromium); herald refuses a list page nested past [`MAX_DEPTH`], which no
//! real list page comes near, so that parsing time stays linear in the page's size.
//!
//! The page is run through html5ever's tokenizer (linear) and the depth counted from its tags:
//! void elements and elements whose end tag may be left out (`p`, `li`, `td` …) do not count,
//! so the figure is at most the depth of the tree the tree builder would make of the rest.
//!
//! The article extractor reads any page, so it does not refuse: [`Flatten`] sits between the
//! tokenizer and the tree builder and drops the tags nested past [`MAX_DEPTH`] (their text is
//! kept, in the deepest element left), counting the same way, in the same single pass.

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use std::cell::Cell;

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

#[derive(Default)]
struct Depth {
    now: Cell<usize>,
    max: Cell<usize>,
    /// Open `<svg>` and `<math>` elements: inside them (and only there) a self-closing tag
    /// such as `<path/>` opens nothing.
    foreign: Cell<usize>,
}

impl TokenSink for Depth {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let Token::TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        let name: &str = &tag.name;
        match tag.kind {
            TagKind::StartTag => {
                // HTML ignores the slash of `<div/>`: it opens a `<div>` like `<div>` does. In
                // SVG and MathML (and `<svg/>` itself) the slash closes the element.
                let foreign = self.foreign.get() > 0 || matches!(name, "svg" | "math");
                if counts(name) && !(tag.self_closing && foreign) {
                    self.now.set(self.now.get() + 1);
                    self.max.set(self.max.get().max(self.now.get()));
                    if matches!(name, "svg" | "math") {
                        self.foreign.set(self.foreign.get() + 1);
                    }
                }
                raw_content(name).unwrap_or(TokenSinkResult::Continue)
            }
            TagKind::EndTag => {
                if counts(name) {
                    self.now.set(self.now.get().saturating_sub(1));
                    if matches!(name, "svg" | "math") {
                        self.foreign.set(self.foreign.get().saturating_sub(1));
                    }
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
    now: Cell<usize>,
}

impl<S> Flatten<S> {
    pub fn new(inner: S) -> Flatten<S> {
        Flatten {
            inner,
            now: Cell::new(0),
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
            let now = self.now.get();
            // `<div/>` opens a `<div>` like `<div>` does: the slash closes only in SVG and MathML.
            let opens = !tag.self_closing
                || !self
                    .inner
                    .adjusted_current_node_present_but_not_in_html_namespace();
            match tag.kind {
                TagKind::StartTag if opens => {
                    self.now.set(now + 1);
                    if now >= MAX_DEPTH {
                        return TokenSinkResult::Continue;
                    }
                }
                TagKind::EndTag => {
                    self.now.set(now.saturating_sub(1));
                    if now > MAX_DEPTH {
                        return TokenSinkResult::Continue;
                    }
                }
                TagKind::StartTag => {}
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
