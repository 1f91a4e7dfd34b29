//! How deeply a page nests its elements, measured before any tree is built. html5ever's tree
//! builder looks through the stack of open elements for most tags, so its time grows with the
//! number of tags times the depth: a page of 50,000 nested `<div>`s took 8 s. Browsers flatten
//! past a depth of 512 (Chromium); herald refuses a list page nested past [`MAX_DEPTH`], which no
//! real list page comes near, so that parsing time stays linear in the page's size.
//!
//! The page is run through html5ever's tokenizer (linear) and the depth counted from its tags:
//! void elements and elements whose end tag may be left out (`p`, `li`, `td` …) do not count,
//! so the figure is at most the depth of the tree the tree builder would make of the rest.

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
                if !tag.self_closing && counts(name) {
                    self.now.set(self.now.get() + 1);
                    self.max.set(self.max.get().max(self.now.get()));
                }
                // The tokenizer needs to be told, as the tree builder would tell it, where text
                // that is not markup starts (else `<script>` text would count as tags).
                match name {
                    "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                    "style" | "xmp" | "iframe" | "noembed" | "noframes" => {
                        TokenSinkResult::RawData(RawKind::Rawtext)
                    }
                    "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
                    "plaintext" => TokenSinkResult::Plaintext,
                    _ => TokenSinkResult::Continue,
                }
            }
            TagKind::EndTag => {
                if counts(name) {
                    self.now.set(self.now.get().saturating_sub(1));
                }
                TokenSinkResult::Continue
            }
        }
    }
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
    #[case::void_and_self_closing("<div><img><br><input/><span/></div>", 1)]
    #[case::script_text_is_not_markup("<script>'<div><div><div>'</script><div></div>", 1)]
    fn measures(#[case] html: &str, #[case] expected: usize) {
        assert_eq!(depth(html), expected);
    }

    #[test]
    fn a_hundred_thousand_levels_are_measured_in_linear_time() {
        let html = "<div>".repeat(100_000);
        let start = std::time::Instant::now();
        assert_eq!(depth(&html), 100_000);
        assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
    }
}
