//! How many elements of a list page are read. A parsed tree costs a few hundred bytes per
//! element: 10 MiB of `<b>x</b>` is 1.3 million elements and took over 300 MiB as a tree, for a
//! page that lists nothing. A real list page has a few thousand elements; herald reads the
//! first [`MAX_ELEMENTS`] and leaves the rest unread (the newest releases come first, and at most
//! `max_page_items` of them are read anyway), with a warning.
//!
//! The count is taken before any tree is built, in one pass over the bytes: every `<` followed
//! by a letter opens a tag. Inside scripts, comments and attribute values that over-counts, so
//! the cut can come early, never late: the tree never holds more than the bound.

/// The most elements of a list page put in a tree (see the module's note).
pub const MAX_ELEMENTS: usize = 100_000;

/// Where to cut `text` so that at most `max` start tags are left: the byte offset of the
/// `max + 1`th, or None when the page has no more than `max`.
pub fn cut_after(text: &str, max: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    text.match_indices('<')
        .map(|(lt, _)| lt)
        .filter(|lt| bytes.get(lt + 1).is_some_and(u8::is_ascii_alphabetic))
        .nth(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_within_the_bound_is_read_whole() {
        assert_eq!(cut_after("<p>a</p><p>b</p>", 2), None);
        assert_eq!(cut_after("no tags at all, 1 < 2", 0), None);
    }

    #[test]
    fn the_cut_falls_before_the_first_tag_past_the_bound() {
        let text = "<ul><li>a</li><li>b</li></ul>";
        let cut = cut_after(text, 2).unwrap();
        assert_eq!(&text[..cut], "<ul><li>a</li>");
    }

    #[test]
    fn end_tags_comparisons_and_multibyte_text_do_not_count() {
        let text = "<p>ё < 3 </p><b>x</b>";
        assert_eq!(cut_after(text, 1), Some(text.find("<b>").unwrap()));
    }
}
