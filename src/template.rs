//! Per-channel post templates (issue 10): a channel's `template` (minijinja) writes the post's
//! text from the release's fields instead of the default layout of `format`.
//!
//! A template cannot make a post Telegram refuses:
//! - every field is escaped on output (`<`, `>`, `&`, `"`), whatever the template asks for: the
//!   `safe` filter is removed and `{% autoescape false %}` changes nothing, so text from a site
//!   never becomes markup;
//! - the rendered text must be well-formed Telegram HTML ([`check_markup`]: only the tags of the
//!   Bot API's "HTML style", properly nested, entities that Telegram decodes);
//! - it must fit the limit (1024 UTF-16 units for a caption, 4096 for a message, after entity
//!   parsing): the summary is cut at a sentence (else a word) until it does.
//!
//! When none of that can be had (the text is still too long with no summary, or the markup is
//! broken by what a filter did to it), the channel gets the default post: a post in the wrong
//! shape is better than no post. `herald check` reports syntax errors, unknown fields, and tags
//! outside Telegram's subset in every branch of the template (found in its text, at the tag's
//! column, whether a sample takes the branch or not), then renders it for sample releases in each
//! language herald words posts in, with and without a picture and a summary, measuring each
//! against its limit: 1024 with a picture (a caption), 4096 without (issue 25).

use crate::markup::{
    CAPTION_LIMIT, MESSAGE_LIMIT, TAGS, check_attributes, check_markup, escape_attribute,
};
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value, context};
use std::sync::Arc;

/// The fields a template may use, as documented in README.md.
pub const FIELDS: &[&str] = &[
    "title",
    "summary",
    "link",
    "date",
    "source_id",
    "source_title",
    "hashtag",
    "language",
    "image",
];

/// minijinja's global functions: names a template may use that are not fields.
const GLOBALS: &[&str] = &[
    "range",
    "dict",
    "namespace",
    "debug",
    "lipsum",
    "cycler",
    "joiner",
];

/// Work a template may do per post (minijinja's "fuel"): ample for any post, and it stops a
/// runaway loop (`{% for i in range(100000) %}` nested) before it stalls a channel.
const FUEL: u64 = 200_000;

/// The name of the one template in a [`PostTemplate`]'s environment.
const NAME: &str = "post";

/// A channel's compiled template.
#[derive(Clone)]
pub struct PostTemplate {
    source: String,
    env: Arc<Environment<'static>>,
}

/// Its `Debug` form is its text (the compiled environment would say nothing to a reader).
impl std::fmt::Debug for PostTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PostTemplate").field(&self.source).finish()
    }
}

/// A problem with a template: the message, and where in the template's text it is (byte
/// offset), when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub offset: Option<usize>,
    pub message: String,
}

/// The values a template is rendered with: plain text (escaped on output), except `link` and
/// `image`, which are URLs (escaped too, so they are safe inside `href="…"`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields {
    pub title: String,
    pub summary: String,
    pub link: String,
    /// As the default post prints it: in the source's language and timezone.
    pub date: String,
    pub source_id: String,
    pub source_title: String,
    /// `#` and the source id with `-` turned into `_`.
    pub hashtag: String,
    pub language: String,
    /// The picture's URL, or none (`{% if image %}`).
    pub image: Option<String>,
}

impl Fields {
    fn context(&self) -> Value {
        context! {
            title => self.title.clone(),
            summary => self.summary.clone(),
            link => self.link.clone(),
            date => self.date.clone(),
            source_id => self.source_id.clone(),
            source_title => self.source_title.clone(),
            hashtag => self.hashtag.clone(),
            language => self.language.clone(),
            image => self.image.clone(),
        }
    }

    /// A release as `check` renders templates with: every field set, with text long enough to
    /// show a template's shape, and no markup.
    pub fn sample(image: bool) -> Fields {
        Fields::sample_in("en", image, true)
    }

    /// The sample release in `language` (its `language` field), with or without a picture and
    /// a summary.
    pub fn sample_in(language: &str, image: bool, summary: bool) -> Fields {
        let mut fields = Fields::english_sample(image);
        fields.language = language.to_owned();
        if !summary {
            fields.summary.clear();
        }
        fields
    }

    /// The sample releases of `source`, one that posts to the channel: its id, title, hashtag,
    /// language and date as its posts carry them, with and without a picture and a summary (a
    /// post always has a title, a link and a date).
    pub fn samples_of(source: &SampleSource) -> Vec<Fields> {
        let mut out = Vec::new();
        for (image, summary) in [(true, true), (true, false), (false, true), (false, false)] {
            let mut fields = Fields::sample_in(source.language, image, summary);
            fields.source_id = source.id.to_owned();
            fields.source_title = source.title.to_owned();
            fields.hashtag = hashtag(source.id);
            fields.date = crate::dates::format_day(
                chrono::DateTime::from_timestamp(1_774_080_000, 0).unwrap_or_default(),
                source.timezone,
                source.language,
            );
            out.push(fields);
        }
        out
    }

    fn english_sample(image: bool) -> Fields {
        Fields {
            title: "President Tokayev met with the Prime Minister".into(),
            summary: "The Head of State heard a report on the economy. Growth reached 6%.".into(),
            link: "https://www.akorda.kz/en/president-met-123456".into(),
            date: "21 March 2026".into(),
            source_id: "akorda-en".into(),
            source_title: "Akorda — press releases".into(),
            hashtag: "#akorda_en".into(),
            language: "en".into(),
            image: image.then(|| "https://www.akorda.kz/uploadMedia/cover.jpg".into()),
        }
    }
}

/// A post's `hashtag`: `#` and the source id with `-` turned into `_`.
pub fn hashtag(source_id: &str) -> String {
    format!("#{}", source_id.replace('-', "_"))
}

/// A source that posts to a channel, as `check` renders the channel's template for it.
#[derive(Clone, Copy, Debug)]
pub struct SampleSource<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub language: &'a str,
    pub timezone: chrono_tz::Tz,
}

impl PostTemplate {
    /// Compiles `text` and checks it: syntax, unknown fields, and the markup it makes for a
    /// sample release (with and without a picture). Every unknown field and every foreign tag
    /// is told, in the order they are written; the later checks (a language's spelling, the
    /// samples' markup) only when there are none, and their first problem.
    pub fn compile(text: &str) -> Result<PostTemplate, Vec<TemplateError>> {
        let mut env = environment();
        env.add_template_owned(NAME, text.to_owned())
            .map_err(|e| vec![from_minijinja(&e)])?;
        let template = PostTemplate {
            source: text.to_owned(),
            env: Arc::new(env),
        };
        let compiled = template
            .env
            .get_template(NAME)
            .map_err(|e| vec![from_minijinja(&e)])?;
        let mut problems: Vec<TemplateError> = compiled
            .undeclared_variables(false)
            .into_iter()
            .filter(|v| !FIELDS.contains(&v.as_str()) && !GLOBALS.contains(&v.as_str()))
            .map(|name| TemplateError {
                offset: word_offset(text, &name),
                message: unknown_field(&name),
            })
            .collect();
        problems.extend(check_tags(text));
        if !problems.is_empty() {
            problems.sort_by_key(|p| p.offset);
            return Err(problems);
        }
        check_samples(text, &compiled).map_err(|e| vec![e])?;
        Ok(template)
    }
    /// Renders the template for the sample releases of each source that posts to its channel
    /// (see [`Fields::samples_of`]): a branch on `source_id`, `hashtag`, `source_title` or a
    /// source's date is taken as that source's posts take it. The first problem, naming the
    /// source.
    pub fn check_sources(&self, sources: &[SampleSource]) -> Result<(), TemplateError> {
        let compiled = self
            .env
            .get_template(NAME)
            .map_err(|e| from_minijinja(&e))?;
        for source in sources {
            for fields in Fields::samples_of(source) {
                let what = format!("source `{}`, language {}", source.id, source.language);
                if let Some(message) = sample_problem(&compiled, &fields, &what)? {
                    return Err(TemplateError {
                        offset: None,
                        message,
                    });
                }
            }
        }
        Ok(())
    }

    /// The template's text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders the post's text for `fields`; an error (a failed filter, the fuel spent) is
    /// described in words.
    pub fn render(&self, fields: &Fields) -> Result<String, String> {
        let template = self.env.get_template(NAME).map_err(|e| e.to_string())?;
        template.render(fields.context()).map_err(|e| e.to_string())
    }
}

/// The checks that need a template free of unknown fields and foreign tags: the languages it
/// names, and the markup of every sample release. The first problem.
fn check_samples(text: &str, compiled: &minijinja::Template) -> Result<(), TemplateError> {
    // A release's language is written as herald writes it (`kk`, not `kz`; the primary
    // subtag in lower case): a comparison with another spelling never holds.
    for code in named_languages(text) {
        let primary = code.split('-').next().unwrap_or_default();
        let written = if primary.eq_ignore_ascii_case("kz") {
            code.replacen(primary, "kk", 1)
        } else {
            code.replacen(primary, &primary.to_ascii_lowercase(), 1)
        };
        if written != code {
            return Err(TemplateError {
                offset: text
                    .find(&format!("\"{code}\""))
                    .or_else(|| text.find(&format!("'{code}'"))),
                message: format!(
                    "`language` is never \"{code}\": a release's language is written \"{written}\""
                ),
            });
        }
    }
    // Every branch a language, a picture or a summary chooses: the languages herald words
    // posts in (a source in another language takes the branches English takes, unless the
    // template names it).
    let mut languages = vec!["en", "ru", "kk"];
    languages.extend(
        named_languages(text)
            .into_iter()
            .filter(|l| !["en", "ru", "kk"].contains(l)),
    );
    for language in languages {
        for (image, summary) in [(true, true), (true, false), (false, true), (false, false)] {
            let fields = Fields::sample_in(language, image, summary);
            if let Some(message) =
                sample_problem(compiled, &fields, &format!("language {language}"))?
            {
                return Err(TemplateError {
                    offset: None,
                    message,
                });
            }
        }
    }
    Ok(())
}

/// What is wrong with the post `compiled` makes of `fields`, if anything: markup Telegram
/// refuses, an empty post, or a post over its limit. `what` names the sample in the message
/// (its language, or its source and language).
fn sample_problem(
    compiled: &minijinja::Template,
    fields: &Fields,
    what: &str,
) -> Result<Option<String>, TemplateError> {
    let html = compiled
        .render(fields.context())
        .map_err(|e| from_minijinja(&e))?;
    let image = fields.image.is_some();
    let summary = !fields.summary.is_empty();
    // Bot API: a photo's caption is 0-1024 characters after entity parsing, a message 1-4096.
    let limit = if image { CAPTION_LIMIT } else { MESSAGE_LIMIT };
    let kind = if image {
        "with a picture (a caption)"
    } else {
        "without a picture"
    };
    Ok(match check_markup(&html) {
        Err(message) => Some(format!(
            "the template makes markup Telegram refuses ({what}): {message}"
        )),
        Ok(()) => {
            let text = crate::markup::decode(&html);
            let length: usize = text.chars().map(char::len_utf16).sum();
            // Every sample counts: a release without a summary is common, and a long one is
            // rendered again without its summary when it does not fit. An empty post there
            // falls back to the default post at run time.
            if text.trim().is_empty() {
                let shape = match (image, summary) {
                    (true, true) => "with a picture and a summary",
                    (true, false) => "with a picture and no summary",
                    (false, true) => "with a summary and no picture",
                    (false, false) => "with neither a picture nor a summary",
                };
                Some(format!(
                    "the template makes an empty post for a release {shape} ({what}); such \
                     releases would get the default post"
                ))
            } else if length > limit {
                Some(format!(
                    "the template makes a post {kind} of {length} characters for a short \
                     release ({what}); Telegram takes at most {limit}"
                ))
            } else {
                None
            }
        }
    })
}

/// The language codes a template compares `language` with (`language == "de"`), so that the
/// samples take those branches too.
fn named_languages(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices("language") {
        let rest = text[at + "language".len()..].trim_start();
        let Some(rest) = rest.strip_prefix("==").or_else(|| rest.strip_prefix("!=")) else {
            continue;
        };
        let rest = rest.trim_start();
        let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        if let Some(end) = rest[1..].find(quote) {
            let code = &rest[1..1 + end];
            if !code.is_empty() && code.len() <= 16 && !out.contains(&code) {
                out.push(code);
            }
        }
    }
    out
}

/// The template's own tags, in every branch: each `<name` of its literal text (outside `{{ }}`,
/// `{% %}` and `{# #}`) must be a Telegram tag, with the attributes Telegram takes when the tag
/// is all literal. Every problem, each at its tag's `<`.
fn check_tags(text: &str) -> Vec<TemplateError> {
    let mut problems = Vec::new();
    // The template's text with every block blanked out, offsets kept.
    let mut literal = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let open = ["{{", "{%", "{#"]
            .iter()
            .filter_map(|o| rest.find(o).map(|at| (at, *o)))
            .min();
        let Some((at, open)) = open else {
            literal.push_str(rest);
            break;
        };
        literal.push_str(&rest[..at]);
        let close = match open {
            "{{" => "}}",
            "{%" => "%}",
            _ => "#}",
        };
        let end = rest[at + 2..]
            .find(close)
            .map_or(rest.len(), |e| at + 2 + e + 2);
        // A block in a tag stands for a value: blanked with a letter, so that `<{{ x }}>` is
        // not taken for a tag named by it, and an attribute's value stays one word.
        literal.extend(std::iter::repeat_n('\u{1}', rest[at..end].chars().count()));
        rest = &rest[end..];
    }
    // `literal` has one char per char of `text`: map back by char index.
    let offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let chars: Vec<char> = literal.chars().collect();
    // Foreign tags told at an opening tag: their closing tags are not told again.
    let mut opened = Vec::new();
    for (k, c) in chars.iter().enumerate() {
        if *c != '<' {
            continue;
        }
        let mut j = k + 1;
        let closing = chars.get(j) == Some(&'/');
        if closing {
            j += 1;
        }
        let name: String = chars[j..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == '-')
            .collect();
        if name.is_empty() || !chars[j].is_ascii_alphabetic() {
            continue;
        }
        let at = offsets.get(k).copied();
        let name = name.to_ascii_lowercase();
        if !TAGS.contains(&name.as_str()) {
            if closing && opened.contains(&name) {
                continue;
            }
            if !closing {
                opened.push(name.clone());
            }
            problems.push(TemplateError {
                offset: at,
                message: format!(
                    "`<{name}>` is not a Telegram tag (Telegram knows: {})",
                    TAGS.join(", ")
                ),
            });
            continue;
        }
        let end = chars[j..].iter().position(|c| *c == '>').map(|e| j + e);
        if let Some(end) = end
            && !closing
        {
            let inside: String = chars[j + name.chars().count()..end].iter().collect();
            if !inside.contains('\u{1}')
                && let Err(message) = check_attributes(&name, inside.trim())
            {
                problems.push(TemplateError {
                    offset: at,
                    message,
                });
            }
        }
    }
    problems
}

fn unknown_field(name: &str) -> String {
    format!(
        "template: unknown field `{name}` (fields: {})",
        FIELDS.join(", ")
    )
}

/// The environment every template runs in: strict about undefined names, escaping every value
/// (see the module's doc), with bounded work.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_debug(true);
    env.set_fuel(Some(FUEL));
    // `safe` would let a site's text through as markup.
    env.remove_filter("safe");
    env.set_formatter(|out, _state, value| {
        // Escaping does not depend on the template's `{% autoescape %}` blocks: only values
        // that minijinja itself marked safe (the output of `escape`, of a macro) pass as they are.
        let text = if value.is_none() {
            String::new()
        } else {
            value.to_string()
        };
        if value.is_safe() {
            out.write_str(&text)
        } else {
            out.write_str(&escape_attribute(&text))
        }
        .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "output"))
    });
    env
}

fn from_minijinja(e: &minijinja::Error) -> TemplateError {
    let detail = e.detail().map(|d| format!(": {d}")).unwrap_or_default();
    let message = match e.kind() {
        minijinja::ErrorKind::UndefinedError => {
            // minijinja says "undefined value"; the template's text says which name.
            let name = e
                .range()
                .zip(e.template_source())
                .and_then(|(r, src)| src.get(r).map(str::trim).map(str::to_owned));
            match name {
                Some(name)
                    if !name.is_empty()
                        && name.chars().all(|c| c.is_alphanumeric() || c == '_') =>
                {
                    unknown_field(&name)
                }
                Some(expr) if !expr.is_empty() => format!("template: `{expr}` is undefined"),
                _ => format!("template: {}{detail}", e.kind()),
            }
        }
        kind => format!("template: {kind}{detail}"),
    };
    TemplateError {
        offset: e.range().map(|r| r.start),
        message,
    }
}

/// Where `name` first appears in `text` as a whole word.
fn word_offset(text: &str, name: &str) -> Option<usize> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(name).map(|(at, _)| at).find(|&at| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn render(text: &str, fields: &Fields) -> String {
        PostTemplate::compile(text)
            .unwrap_or_else(|e| panic!("{e:?}"))
            .render(fields)
            .unwrap()
    }

    #[test]
    fn fields_render_and_are_escaped() {
        let mut fields = Fields::sample(true);
        fields.title = "Tom & <b>Jerry</b>".into();
        fields.link = "https://e.org/?a=1&b=\"2\"".into();
        let html = render(
            "<b>{{ title }}</b> <a href=\"{{ link }}\">{{ source_title }}</a> {{ hashtag }} {{ date }}",
            &fields,
        );
        assert_eq!(
            html,
            "<b>Tom &amp; &lt;b&gt;Jerry&lt;/b&gt;</b> \
             <a href=\"https://e.org/?a=1&amp;b=&quot;2&quot;\">Akorda — press releases</a> \
             #akorda_en 21 March 2026"
        );
        assert_eq!(check_markup(&html), Ok(()));
    }

    #[test]
    fn autoescape_false_still_escapes() {
        let mut fields = Fields::sample(false);
        fields.title = "<i>x".into();
        let html = render(
            "{% autoescape false %}{{ title }}{% endautoescape %}",
            &fields,
        );
        assert_eq!(html, "&lt;i&gt;x");
    }

    #[test]
    fn missing_image_is_none_and_renders_empty() {
        let fields = Fields::sample(false);
        assert_eq!(
            render(
                "{% if image %}pic{% else %}no{% endif %}[{{ image }}]",
                &fields
            ),
            "no[]"
        );
    }

    #[rstest]
    #[case::syntax("<b>{{ title </b>", Some(13), "template: syntax error")]
    #[case::unknown_field("{{ title }} {{ titel }}", Some(15), "unknown field `titel`")]
    #[case::unknown_in_branch(
        "{% if language == 'ru' %}{{ summry }}{% endif %}",
        Some(28),
        "unknown field `summry`"
    )]
    #[case::attribute_of_a_string("{{ title.foo.bar }}", Some(8), "is undefined")]
    #[case::safe_removed("{{ summary|safe }}", Some(11), "unknown filter")]
    #[case::foreign_tag("<h1>{{ title }}</h1>", Some(0), "`<h1>` is not a Telegram tag")]
    // Issue 25: a branch no English sample takes is still read, and the tag's place is given.
    #[case::foreign_tag_in_a_branch(
        "<b>{{ title }}</b>{% if language == \"ru\" %} <h1>{{ summary }}</h1>{% endif %}",
        Some(44),
        "`<h1>` is not a Telegram tag"
    )]
    #[case::foreign_tag_without_a_picture(
        "{% if image %}<b>{{ title }}</b>{% else %}<div>{{ title }}</div>{% endif %}",
        Some(42),
        "`<div>` is not a Telegram tag"
    )]
    #[case::bad_attribute_in_a_branch(
        "{{ title }}{% if not summary %}<b class=\"x\">!</b>{% endif %}",
        Some(31),
        "takes no attribute `class`"
    )]
    #[case::unclosed_in_another_language(
        "{% if language == 'kk' %}<b>{% endif %}{{ title }}",
        None,
        "(language kk): `<b>` is never closed"
    )]
    #[case::unclosed_in_a_language_named(
        "{% if language == 'de' %}<i>{% endif %}{{ title }}",
        None,
        "(language de): `<i>` is never closed"
    )]
    #[case::kz_is_written_kk(
        "{% if language == 'kz' %}Қазақша{% endif %}{{ title }}",
        Some(18),
        "`language` is never \"kz\": a release's language is written \"kk\""
    )]
    #[case::capitals_never_hold(
        "{% if language != \"EN\" %}!{% endif %}{{ title }}",
        Some(18),
        "written \"en\""
    )]
    #[case::caption_too_long(
        "{{ title }}{% for i in range(1100) %}.{% endfor %}",
        None,
        "with a picture (a caption) of 1145 characters"
    )]
    #[case::unclosed("<b>{{ title }}", None, "`<b>` is never closed")]
    #[case::bare_ampersand("{{ title }} & co", None, "`&` must start")]
    #[case::empty("{% if false %}x{% endif %}", None, "an empty post")]
    // A post of the summary alone is empty for every release without one (issue 25).
    #[case::summary_only(
        "{{ summary }}",
        None,
        "an empty post for a release with a picture and no summary"
    )]
    #[case::summary_only_without_picture(
        "{% if image %}{{ title }}{% else %}{{ summary }}{% endif %}",
        None,
        "an empty post for a release with neither a picture nor a summary"
    )]
    #[case::too_long(
        "{{ title }}{% if not image %}{% for i in range(5000) %}.{% endfor %}{% endif %}",
        None,
        "Telegram takes at most 4096"
    )]
    fn bad_templates(#[case] text: &str, #[case] offset: Option<usize>, #[case] fragment: &str) {
        let e = PostTemplate::compile(text).expect_err("invalid template");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].message.contains(fragment), "{e:?}");
        assert_eq!(e[0].offset, offset, "{e:?}");
    }

    /// Every unknown field and every foreign tag is told, each at its place, in the order
    /// written (a red-team finding: only the first was).
    #[test]
    fn every_problem_is_told() {
        let text = "{{ titel }} <div>x</div> {{ summery }} <p class=\"x\"></p> {{ titel }} </h1>";
        let e = PostTemplate::compile(text).expect_err("invalid template");
        let told: Vec<(Option<usize>, &str)> = e
            .iter()
            .map(|p| (p.offset, p.message.split(" (").next().unwrap_or_default()))
            .collect();
        assert_eq!(
            told,
            [
                (Some(3), "template: unknown field `titel`"),
                (Some(12), "`<div>` is not a Telegram tag"),
                (Some(28), "template: unknown field `summery`"),
                (Some(39), "`<p>` is not a Telegram tag"),
                (Some(69), "`<h1>` is not a Telegram tag"),
            ]
        );
    }

    #[test]
    fn runaway_loops_run_out_of_fuel() {
        let t = PostTemplate::compile(
            "x{% if language == 'x' ~ 'x' %}{% for i in range(10000) %}{% for j in range(10000) %}.{% endfor %}{% endfor %}{% endif %}",
        )
        .expect("valid template");
        let mut fields = Fields::sample(false);
        fields.language = "xx".into();
        let e = t.render(&fields).expect_err("out of fuel");
        assert!(e.contains("fuel"), "{e}");
    }
}
