//! Selectors: `"h3 a@href"` (a CSS selector and an optional attribute), and the
//! `[sources.list]` and `[sources.article]` tables made of them.

use super::diagnostics::Report;
use super::table::Table;

/// A selector with an optional `@attr` suffix: `"h3 a@href"`. An empty selector part (`"@href"`)
/// means the element itself. Without `@attr` the value is the element's text.
#[derive(Clone, Debug)]
pub struct Pick {
    pub text: String,
    pub selector: Option<scraper::Selector>,
    pub attr: Option<String>,
}

/// `[sources.list]`: how items are found on a list page.
#[derive(Clone, Debug)]
pub struct ListSelectors {
    pub item: scraper::Selector,
    pub title: Pick,
    pub link: Pick,
    pub date: Option<Pick>,
    pub date_format: Option<String>,
    pub summary: Option<Pick>,
    pub image: Option<Pick>,
}

/// `[sources.article]`: what to read from each new item's own page.
#[derive(Clone, Debug)]
pub struct ArticleSelectors {
    pub body: Option<Pick>,
    pub date: Option<Pick>,
    pub image: Option<Pick>,
}

impl Pick {
    /// Parses `"selector@attr"`: one `@` outside `[...]` and quotes, followed by an attribute
    /// name up to the end, so `a[href*='@x']` stays one selector. Every message quotes the
    /// value as written. `:scope` (CSS's name for the element a selector is applied to) is the
    /// item itself, as an empty selector before `@attr` is: `date = ":scope"` reads the date in
    /// the item's own text (outside its title), `":scope@data-published"` an attribute of it.
    pub fn parse(text: &str) -> Result<Pick, String> {
        let invalid = |problem: &str| format!("invalid CSS selector `{text}`: {problem}");
        let (css, attr) = split_attr(text.trim()).map_err(|p| invalid(&p))?;
        let css = css.trim();
        let selector = if css.is_empty() {
            if attr.is_none() {
                return Err(EMPTY.into());
            }
            None
        } else if css.eq_ignore_ascii_case(SCOPE) {
            None
        } else {
            balanced(css).map_err(invalid)?;
            let parsed =
                scraper::Selector::parse(css).map_err(|e| invalid(selector_problem(&e)))?;
            Some(parsed)
        };
        Ok(Pick {
            text: text.to_string(),
            selector,
            attr: attr.map(str::to_string),
        })
    }
}

/// The item itself, in a pick (see [`Pick::parse`]).
pub const SCOPE: &str = ":scope";

/// A selector with nothing in it.
const EMPTY: &str =
    "the selector is empty: write one such as `h3 a`, or `a@href` to read an attribute";

/// Brackets, parentheses and quotes each closed, in order: scraper, given `a:has(`, complains
/// of something else (a combinator that needs a selector after it).
fn balanced(css: &str) -> Result<(), &'static str> {
    let mut open = Vec::new();
    let mut quote = None;
    for c in css.chars() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '(') => open.push(c),
            (None, ']') if open.pop() != Some('[') => {
                return Err("a `]` has no `[` before it");
            }
            (None, ')') if open.pop() != Some('(') => {
                return Err("a `)` has no `(` before it");
            }
            _ => {}
        }
    }
    if quote.is_some() {
        return Err("a quote is left open: close it with the same quote");
    }
    match open.last() {
        Some('(') => Err("a `(` is left open: close it with `)`"),
        Some(_) => Err("a `[` is left open: close it with `]`"),
        None => Ok(()),
    }
}

/// What is wrong with a selector, in an admin's words: scraper's own text for most of these is
/// "Unexpected error occurred. Please report this to the developer" followed by a Rust enum.
fn selector_problem(e: &scraper::error::SelectorErrorKind) -> &'static str {
    use scraper::error::SelectorErrorKind as Scraper;
    use selectors::parser::SelectorParseErrorKind as Css;
    const PSEUDO_ELEMENT_NAME: &str = "`::` must be followed by the name of a pseudo-element";
    match e {
        Scraper::UnexpectedToken => {
            "a character or word where it cannot be (check brackets, quotes and punctuation)"
        }
        Scraper::EndOfLine => {
            "it ends too early: a `[`, `(` or quote is left open, or a name or value is missing \
             (after `.`, `#`, `:` or `=`)"
        }
        Scraper::InvalidAtRule | Scraper::InvalidAtRuleBody | Scraper::QualRuleInvalid => {
            "this is CSS of a style sheet, not a selector"
        }
        Scraper::TooManyNestedBlocks => "brackets are nested too deeply",
        Scraper::ExpectedColonOnPseudoElement | Scraper::ExpectedIdentityOnPseudoElement => {
            PSEUDO_ELEMENT_NAME
        }
        Scraper::UnexpectedSelectorParseError(kind) => match kind {
            Css::EmptySelector => {
                "a selector is missing (by a comma, a combinator or a bracket), or starts with a \
                 character that cannot begin one (a tag, .class, #id or [attribute])"
            }
            Css::DanglingCombinator => {
                "a combinator (>, +, ~ or a space) is followed by no selector, or by something \
                 that cannot begin one (a tag, .class, #id, [attribute] or :pseudo-class)"
            }
            Css::ClassNeedsIdent => "`.` must be followed by a class name",
            Css::NoIdentForPseudo => "`:` must be followed by a pseudo-class name",
            Css::UnsupportedPseudoClassOrElement => {
                "this pseudo-class or pseudo-element is not supported (supported: :first-child, \
                 :nth-child(n), :not(…), :has(…), :is(…) and the like)"
            }
            Css::UnexpectedIdent => "a word where it cannot be",
            Css::NoQualifiedNameInAttributeSelector | Css::InvalidQualNameInAttr => {
                "`[` must be followed by an attribute name, e.g. [href] or [lang='en']"
            }
            Css::UnexpectedTokenInAttributeSelector | Css::BadValueInAttr => {
                "an attribute test is [name], or [name=value] with =, ~=, |=, ^=, $= or *=, the \
                 value a word or quoted, e.g. [lang='en']"
            }
            Css::ExpectedNamespace
            | Css::ExpectedBarInAttr
            | Css::ExplicitNamespaceUnexpectedToken => {
                "`|` names an XML namespace, which selectors for HTML pages do not use"
            }
            Css::NonCompoundSelector
            | Css::NonPseudoElementAfterSlotted
            | Css::InvalidPseudoElementAfterSlotted
            | Css::InvalidPseudoElementInsideWhere
            | Css::InvalidState => {
                "a pseudo-class or pseudo-element is used where it is not allowed"
            }
            Css::PseudoElementExpectedColon | Css::PseudoElementExpectedIdent => {
                PSEUDO_ELEMENT_NAME
            }
        },
    }
}

/// Splits `h3 a@href` into `("h3 a", Some("href"))`; see [`Pick::parse`]. An `@` outside
/// brackets and quotes must be the only one, followed by an attribute name.
fn split_attr(text: &str) -> Result<(&str, Option<&str>), String> {
    let mut depth = 0usize;
    let mut quote = None;
    let mut ats = Vec::new();
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, '@') if depth == 0 => ats.push(i),
            _ => {}
        }
    }
    match ats.as_slice() {
        [] => Ok((text, None)),
        [at] => {
            let name = text[at + 1..].trim();
            if name.trim().is_empty() {
                Err("an attribute name is missing after `@` (e.g. `a@href`)".into())
            } else if is_attr_name(name) {
                Ok((&text[..*at], Some(name)))
            } else {
                Err(format!(
                    "`{name}` after `@` is not an attribute name: `@` ends the selector with the \
                     name of the attribute to read (letters, digits, `-`, `_`, `:`), e.g. `a@href`"
                ))
            }
        }
        _ => Err(
            "it has more than one `@`: one `@` ends the selector with the attribute to read, \
             e.g. `h3 a@href`"
                .into(),
        ),
    }
}

/// An HTML attribute name as selectors are written: `href`, `data-src`, `xlink:href`.
fn is_attr_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
}

pub(super) const LIST_KEYS: &[&str] = &[
    "item",
    "title",
    "link",
    "date",
    "date_format",
    "summary",
    "image",
];
const ARTICLE_KEYS: &[&str] = &["body", "date", "image"];

pub(super) fn list_selectors(r: &mut Report, t: &Table) -> Option<ListSelectors> {
    t.check_keys(r, LIST_KEYS);
    let item = t
        .required_str(r, "item")
        .and_then(|(text, span)| r.check(&span, item_selector(text)));
    let title = t.required_pick(r, "title");
    let link = t.required_pick(r, "link");
    let date = t.pick(r, "date");
    let date_format = t.string(r, "date_format").and_then(|(text, span)| {
        if t.value("date").is_none() && !t.misspelt("date") {
            r.error(
                &span,
                "`date_format` is set but `date` (where the date is read) is not",
            );
        }
        r.check(&span, date_format(text))
    });
    // Read before the `?`s below, so that their problems are reported too.
    let summary = t.pick(r, "summary");
    let image = t.pick(r, "image");
    Some(ListSelectors {
        item: item?,
        title: title?,
        link: link?,
        date,
        date_format,
        summary,
        image,
    })
}

/// `item` selects elements, so an `@attr` suffix makes no sense there.
fn item_selector(text: &str) -> Result<scraper::Selector, String> {
    let pick = Pick::parse(text)?;
    match (pick.selector, pick.attr) {
        (Some(selector), None) => Ok(selector),
        (_, Some(attr)) => Err(format!(
            "`item` selects elements, not values: drop `@{attr}` from `{text}`"
        )),
        (None, None) if text.trim().eq_ignore_ascii_case(SCOPE) => Err(format!(
            "`item` selects the releases in the page: `{SCOPE}` names the item itself, for \
             `title`, `link`, `date`, `summary` or `image`"
        )),
        (None, None) => Err(EMPTY.into()),
    }
}

/// A chrono strftime format that can read a date: a day and a month (a year may be left out:
/// herald then takes the latest year that does not put the date in the future), a year and a
/// day of the year (%j), a year, week and weekday, or a whole date (%s, %+, RFC 2822).
fn date_format(text: &str) -> Result<String, String> {
    use chrono::format::{Fixed, Item, Numeric, StrftimeItems};
    let (mut year, mut month, mut day, mut ordinal, mut week, mut weekday, mut whole) =
        (false, false, false, false, false, false, false);
    for item in StrftimeItems::new(text) {
        match item {
            Item::Error => {
                return Err(format!(
                    "date_format `{text}` is not a valid strftime format (e.g. `%d %B %Y`)"
                ));
            }
            Item::Numeric(numeric, _) => match numeric {
                Numeric::Year | Numeric::YearMod100 | Numeric::IsoYear | Numeric::IsoYearMod100 => {
                    year = true
                }
                Numeric::Month => month = true,
                Numeric::Day => day = true,
                Numeric::Ordinal => ordinal = true,
                Numeric::WeekFromSun | Numeric::WeekFromMon | Numeric::IsoWeek => week = true,
                Numeric::WeekdayFromMon | Numeric::NumDaysFromSun => weekday = true,
                Numeric::Timestamp => whole = true,
                _ => {}
            },
            Item::Fixed(fixed) => match fixed {
                Fixed::ShortMonthName | Fixed::LongMonthName => month = true,
                Fixed::ShortWeekdayName | Fixed::LongWeekdayName => weekday = true,
                Fixed::RFC2822 | Fixed::RFC3339 => whole = true,
                _ => {}
            },
            _ => {}
        }
    }
    let readable = whole || (month && day) || (year && ordinal) || (year && week && weekday);
    if readable {
        return Ok(text.to_string());
    }
    let named = year || month || day || ordinal || week;
    let missing = match (month, day) {
        _ if !named => {
            return Err(format!(
                "date_format `{text}` has no date in it: use %d, %m or %B, %Y (e.g. `%d %B %Y`)"
            ));
        }
        (true, false) => "day of the month (%d)",
        (false, true) => "month (%m or %B)",
        _ => "day of the month and no month (%d, and %m or %B)",
    };
    Err(format!(
        "date_format `{text}` names no {missing}, so no date can be read with it (e.g. `%d %B %Y`; \
         the year may be left out)"
    ))
}

pub(super) fn article_selectors(r: &mut Report, t: &Table) -> ArticleSelectors {
    t.check_keys(r, ARTICLE_KEYS);
    ArticleSelectors {
        body: t.pick(r, "body"),
        date: t.pick(r, "date"),
        image: t.pick(r, "image"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::*;
    use rstest::rstest;

    #[rstest]
    #[rustfmt::skip]
    #[case::dangling_combinator("div >", "a combinator (>, +, ~ or a space) is followed by no selector")]
    #[case::double_combinator("div >> p", "a combinator (>, +, ~ or a space) is followed by no selector")]
    #[case::double_dot("div..card", "`.` must be followed by a class name")]
    #[case::open_bracket("h3 a[", "a `[` is left open")]
    #[case::attribute_without_value("a[href=]", "it ends too early")]
    #[case::leading_combinator("> div", "a selector is missing")]
    #[case::trailing_comma("div,", "a selector is missing")]
    #[case::bare_hash("#", "a selector is missing")]
    #[case::unknown_pseudo_class("a:foo", "this pseudo-class or pseudo-element is not supported")]
    #[case::unknown_pseudo_element("a::after", "this pseudo-class or pseudo-element is not supported")]
    #[case::colon_without_name("a:", "it ends too early")]
    #[case::namespace("a|b", "`|` names an XML namespace")]
    #[case::attribute_without_name("a[=x]", "`[` must be followed by an attribute name")]
    #[case::stray_parenthesis("div)", "a `)` has no `(` before it")]
    #[case::stray_word("div \"x\"", "a combinator (>, +, ~ or a space) is followed by no selector, or by something that cannot begin one")]
    fn selector_problems_are_one_plain_line(#[case] css: &str, #[case] problem: &str) {
        let text = HTML.replace("title = \"h3\"", &format!("title = '{css}'"));
        let errors = errors(&text);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        let expected = format!("invalid CSS selector `{css}`: {problem}");
        assert!(errors[0].message.starts_with(&expected), "{}", errors[0]);
        assert_eq!((errors[0].line, errors[0].col), (7, 9));
        assert_plain(&errors[0]);
    }

    #[test]
    fn optional_list_selectors_are_checked_beside_a_broken_item() {
        let text =
            HTML.replace("\"div\"", "\"div >\"") + "summary = \"p:foo\"\nimage = \"a|b@src\"\n";
        let errors = errors(&text);
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [6, 9, 10], "{errors:#?}");
    }

    #[rstest]
    #[case::text("h3 a", Some("h3 a"), None)]
    #[case::attribute("h3 a@href", Some("h3 a"), Some("href"))]
    #[case::element_itself("@href", None, Some("href"))]
    #[case::attribute_selector(
        "meta[property='og:image']@content",
        Some("meta[property='og:image']"),
        Some("content")
    )]
    #[case::at_inside_brackets("a[href*='@x']", Some("a[href*='@x']"), None)]
    #[case::at_inside_brackets_then_attr("a[href*='@x']@href", Some("a[href*='@x']"), Some("href"))]
    #[case::dashed_attribute("img@data-src", Some("img"), Some("data-src"))]
    #[case::spaced_attribute("h3 a @ href", Some("h3 a "), Some("href"))]
    fn pick_parses(#[case] text: &str, #[case] css: Option<&str>, #[case] attr: Option<&str>) {
        let pick = Pick::parse(text).expect("valid pick");
        assert_eq!(pick.text, text);
        assert_eq!(pick.attr.as_deref(), attr);
        assert_eq!(pick.selector.is_some(), css.is_some());
        assert_eq!(split_attr(text).map(|s| s.0), Ok(css.unwrap_or("")));
    }

    /// `:scope` is the item itself, as an empty selector before `@attr` is.
    #[rstest]
    #[case::text(":scope", None)]
    #[case::upper_case(" :SCOPE ", None)]
    #[case::attribute(":scope@data-published", Some("data-published"))]
    fn scope_is_the_item_itself(#[case] text: &str, #[case] attr: Option<&str>) {
        let pick = Pick::parse(text).expect("valid pick");
        assert!(pick.selector.is_none());
        assert_eq!(pick.attr.as_deref(), attr);
        let refused = item_selector(":scope").unwrap_err();
        assert!(refused.contains("names the item itself"), "{refused}");
    }

    #[rstest]
    #[case::invalid_css("h3 a[", "invalid CSS selector `h3 a[`")]
    #[case::empty("", "the selector is empty: write one such as `h3 a`")]
    #[case::blank("  ", "the selector is empty")]
    #[case::lone_at(
        "@",
        "invalid CSS selector `@`: an attribute name is missing after `@`"
    )]
    #[case::at_without_name(
        "h3 a@",
        "invalid CSS selector `h3 a@`: an attribute name is missing after `@`"
    )]
    #[case::two_ats(
        "h3 a@href@x",
        "invalid CSS selector `h3 a@href@x`: it has more than one `@`"
    )]
    #[case::not_a_name(
        "h3 a@href x",
        "invalid CSS selector `h3 a@href x`: `href x` after `@` is not an attribute name"
    )]
    #[case::open_parenthesis("a:has(", "invalid CSS selector `a:has(`: a `(` is left open")]
    #[case::open_parenthesis_and_attribute(
        "a:has(h3@href",
        "invalid CSS selector `a:has(h3@href`: a `(` is left open"
    )]
    #[case::open_bracket_in_parentheses(
        "a:not([href)",
        "invalid CSS selector `a:not([href)`: a `)` has no `(` before it"
    )]
    #[case::open_quote(
        "a[lang='en]",
        "invalid CSS selector `a[lang='en]`: a quote is left open"
    )]
    #[case::whole_value_quoted("a >@href", "invalid CSS selector `a >@href`: a combinator")]
    fn pick_rejects(#[case] text: &str, #[case] fragment: &str) {
        let error = Pick::parse(text).expect_err("invalid pick");
        assert!(error.contains(fragment), "{error}");
    }

    #[rstest]
    #[case::full("%d %B %Y")]
    #[case::without_year("%d %B")]
    #[case::month_first_without_year("%m/%d")]
    #[case::weekday_without_year("%A, %d %B %H:%M")]
    #[case::ordinal("%Y-%j")]
    #[case::iso_week("%G-W%V-%u")]
    #[case::timestamp("%s")]
    #[case::rfc3339("%+")]
    fn date_formats_that_can_read_a_date(#[case] format: &str) {
        assert_eq!(date_format(format).as_deref(), Ok(format));
    }

    #[rstest]
    #[case::time_only("%H:%M", "has no date in it")]
    #[case::month_and_year("%B %Y", "names no day of the month (%d), so no date can be read")]
    #[case::day_and_year("%d %Y", "names no month (%m or %B)")]
    #[case::year_only("%Y", "names no day of the month and no month")]
    #[case::ordinal_without_year("%j", "names no day of the month and no month")]
    fn date_formats_that_can_never_read_a_date(#[case] format: &str, #[case] problem: &str) {
        let err = date_format(format).unwrap_err();
        assert!(err.contains(problem), "{err}");
    }
}
