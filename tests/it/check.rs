//! `herald check` as an admin reads it (issue 17, "The first hour"): one line per problem, in
//! words, without follow-on problems; warnings that do not fail the check.

use crate::common;

use common::{command_output as output, herald_command as herald, stderr};
use std::path::Path;
use std::process::Output;

/// `herald check -c PATH` on `text`, written to a fresh folder.
async fn check(text: &str) -> (Output, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    let o = output(herald().arg("check").arg("-c").arg(&path)).await;
    (o, path.display().to_string())
}

/// A source of akorda-en with a broken selector, a broken regex and a broken cron, and a
/// translation group naming it.
const BROKEN: &str = r#"[[sources]]
id = "akorda-en"
url = "https://www.akorda.kz/en/events"
schedule = "0 */70 * * * *"
include = ['(\d+']
id_pattern = '-(\d+$'

[sources.list]
item = "div >"
title = "h3 a"
link = "h3 a@href"
summary = "p:foo"

[[sources]]
id = "akorda-ru"
url = "https://www.akorda.kz/ru/events"
schedule = "0 0 0 31 4 *"
language = "ru"
kind = "feed"

[[translations]]
sources = ["akorda-en", "akorda-ru"]
"#;

#[tokio::test]
async fn every_problem_is_one_line_in_words_and_without_follow_ons() {
    let (o, path) = check(BROKEN).await;
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    let expected = [
        "4:12: invalid cron `0 */70 * * * *`: step 70 in the minutes field is out of range (1-59)",
        "5:12: `include`: invalid regex `(\\d+`: unclosed group: a `(` has no `)`",
        "6:14: `id_pattern`: invalid regex `-(\\d+$`: unclosed group: a `(` has no `)`",
        "9:8: invalid CSS selector `div >`: a combinator (>, +, ~ or a space) is followed by no selector",
        "12:11: invalid CSS selector `p:foo`: this pseudo-class or pseudo-element is not supported",
        "17:12: cron `0 0 0 31 4 *` never fires",
    ];
    assert_eq!(lines.len(), expected.len() + 1, "{err}");
    for (line, want) in lines.iter().zip(expected) {
        assert!(line.starts_with(&format!("{path}:{want}")), "{line}");
    }
    assert_eq!(
        lines.last(),
        Some(&format!("herald: {path}: 6 problems found").as_str())
    );
}

#[tokio::test]
async fn a_rare_schedule_is_a_warning_and_the_check_passes() {
    let text = r#"[[sources]]
id = "leap"
url = "https://example.org/"
schedule = "0 0 0 29 2 *"
kind = "feed"
"#;
    let (o, path) = check(text).await;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let warning = format!(
        "{path}:4:12: warning: source `leap`: cron `0 0 0 29 2 *` fires less than once a year (next at "
    );
    assert!(err.starts_with(&warning), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// A schedule whose years end draws a warning naming its last instant (polling stops there);
/// one whose years are past says that its source is not polled. Neither fails the check (a
/// config that ran must not become one herald refuses to start with by the date alone).
#[tokio::test]
async fn a_schedule_whose_years_end_is_a_warning_naming_its_end() {
    let text = r#"[[sources]]
id = "ends"
url = "https://example.org/a"
schedule = "0 0 9 * * * 2089-2090"
kind = "feed"

[[sources]]
id = "ended"
url = "https://example.org/b"
schedule = "0 0 9 * * * 2020"
kind = "feed"
"#;
    let (o, path) = check(text).await;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[..2],
        [
            format!(
                "{path}:4:12: warning: source `ends`: cron `0 0 9 * * * 2089-2090` fires for the \
                 last time at 2090-12-31 09:00:00 UTC (its years end there): after that the \
                 source is not polled"
            ),
            format!(
                "{path}:10:12: warning: source `ended`: cron `0 0 9 * * * 2020` fires no more \
                 (no instant is left in its years): the source is polled once at start, then no more, and /healthz and \
                 the admins are told so"
            ),
        ],
        "{err}"
    );
    assert_eq!(lines.len(), 2, "{err}");
}

#[tokio::test]
async fn the_shipped_schedules_draw_no_warning() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
    let o = output(herald().arg("check").arg("-c").arg(&shipped)).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The warnings name the schedule ("cron `…`"); the config's own path may hold "cron".
    let said = stderr(&o).replace(&shipped.display().to_string(), "config.toml");
    assert!(!said.contains("cron"), "{said}");
}

/// A channel whose template is `template` (a TOML literal string on one line, line 4).
fn with_template(template: &str) -> String {
    format!(
        "[[channels]]\nid = \"c\"\nchat = \"@c\"\ntemplate = '{template}'\n\n\
         [[sources]]\nid = \"akorda-ru\"\nurl = \"https://www.akorda.kz/ru/events\"\n\
         schedule = \"0 */10 * * * *\"\nlanguage = \"ru\"\nkind = \"feed\"\nchannels = [\"c\"]\n"
    )
}

/// The red team's first hour: channels configured and no TELOXIDE_TOKEN passed `check` without
/// a word, while `run` would post nothing to them. Now a warning at the first `[[channels]]`
/// (the check still passes); with a token in the environment, none.
#[tokio::test]
async fn channels_without_a_token_in_the_environment_are_a_warning() {
    let text = with_template("{{ title }}");
    let (o, path) = check(&text).await;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let warning = format!(
        "{path}:1:1: warning: 1 Telegram channel is configured, but TELOXIDE_TOKEN is not set in \
         this environment: herald run here has delivery off and posts nothing to it"
    );
    assert!(err.starts_with(&warning), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, &text).unwrap();
    let o = output(
        herald()
            .arg("check")
            .arg("-c")
            .arg(&config)
            .env("TELOXIDE_TOKEN", "123456:ABC"),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "a token is set");
}

/// The red team's first hour: `data_dir = "/proc/herald"` passed `check`, and `run` exited 1.
/// A data folder herald cannot make (a kernel file system, a file in the way) fails the check,
/// in one line, at `data_dir`, or at 1:1 naming HERALD_DATA_DIR; nothing is made.
#[tokio::test]
async fn a_data_dir_herald_cannot_make_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let in_a_file = file.join("data");
    for (data_dir, why) in [
        (
            Path::new("/proc/herald"),
            "/proc (where it would be made) is on the proc file system, where no folder can be made",
        ),
        (
            in_a_file.as_path(),
            &format!("{} is a file, not a folder", file.display()),
        ),
    ] {
        let text = format!("[general]\ndata_dir = \"{}\"\n", data_dir.display());
        let (o, path) = check(&text).await;
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert_eq!(
            err,
            format!(
                "{path}:2:12: `data_dir` {} cannot be used: {why}; name a folder herald can make \
                 or write in\nherald: {path}: 1 problem found\n",
                data_dir.display()
            )
        );
    }
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[general]\n").unwrap();
    let o = output(
        herald()
            .arg("check")
            .arg("-c")
            .arg(&config)
            .env("HERALD_DATA_DIR", "/sys/kernel/herald"),
    )
    .await;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with(&format!(
            "{}:1:1: `data_dir` /sys/kernel/herald (from HERALD_DATA_DIR) cannot be used: ",
            config.display()
        )),
        "{err}"
    );
    assert!(!dir.path().join("data").exists() && !Path::new("/sys/kernel/herald").exists());
}

/// Issue 25: a tag Telegram refuses in a branch the English sample does not take is found, at
/// the tag's column (`template = '` is 12 characters, the `<h1>` is 44 more in).
#[tokio::test]
async fn a_foreign_tag_in_a_language_branch_is_reported_at_the_tag() {
    let (o, path) = check(&with_template(
        "<b>{{ title }}</b>{% if language == \"ru\" %} <h1>{{ summary }}</h1>{% endif %}",
    ))
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!("{path}:4:57: `<h1>` is not a Telegram tag")),
        "{err}"
    );
}

/// Red team of issue 25: a branch on the source (`source_id`, `hashtag`, `source_title`, the
/// date as the source writes it) was checked only as the built-in sample ("akorda-en") takes
/// it, and every post of the channel fell back to the default at run time ("<b> is never
/// closed"). The samples are now each source that posts to the channel.
#[tokio::test]
async fn a_branch_on_the_posting_source_is_checked_as_its_posts_take_it() {
    for template in [
        "{% if source_id == \"akorda-ru\" %}<b>{% endif %}{{ title }}",
        "{% if hashtag == \"#akorda_ru\" %}<i>{% endif %}{{ title }}",
        "{% if \"марта\" in date %}<u>{% endif %}{{ title }}",
    ] {
        let (o, path) = check(&with_template(template)).await;
        assert_eq!(o.status.code(), Some(2), "{template}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.starts_with(&format!("{path}:4:")), "{err}");
        assert!(
            err.contains("source `akorda-ru`") && err.contains("never closed"),
            "{err}"
        );
    }
    // A branch no source posting here takes passes.
    let (o, _) = check(&with_template(
        "{% if source_id == \"akorda-kz\" %}<b>{% endif %}{{ title }}",
    ))
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Issue 25: a template too long for a caption is refused: a post with a picture would fall
/// back to the default layout every time.
#[tokio::test]
async fn a_template_too_long_for_a_caption_fails_the_check() {
    let words = "Official news of the Republic. ".repeat(40);
    let (o, path) = check(&with_template(&format!("<b>{{{{ title }}}}</b> {words}"))).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.starts_with(&format!("{path}:4:")), "{err}");
    assert!(
        err.contains("with a picture (a caption)") && err.contains("at most 1024"),
        "{err}"
    );
    // The same text fits a message: without a picture it would pass.
    assert!(words.len() < 4000);
}

/// The red team's first hour (issue 17 follow-up): a mistyped section, a title with control
/// characters, cron values out of range, a nickname herald does not know, a zone written as
/// `Z`, a replacement naming a missing group, an empty filter, an `@` without an attribute and a
/// host name for `listen`: one line each, in words, naming what is wrong, and nothing more.
const MISTAKES: &str = r#"[[channel]]
id = "ch1"
chat = "@c"

[[sources]]
id = "a"
title = "a\u0000b"
url = "https://example.org/"
schedule = "0 0 25 * * *"
timezone = "Z"
kind = "feed"
channels = ["ch1"]
image_rewrite = ['(a)', '$2']

[[sources]]
id = "b"
url = "https://example.org/b"
schedule = "@reboot"
include = ['']

[sources.list]
item = "div"
title = "h3 a@"
link = "a@href"

[server]
listen = "localhost:8080"
"#;

#[tokio::test]
async fn each_mistake_is_one_line_naming_it() {
    let (o, path) = check(MISTAKES).await;
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    let expected = [
        "1:3: unknown key `channel` in the top level of the file (did you mean `channels`?",
        "7:9: `title` `a\\u{0}b` holds the control character U+0000: it is one line of plain text",
        "9:12: invalid cron `0 0 25 * * *`: 25 in the hours field is out of range (0-23)",
        "10:12: unknown timezone `Z` (did you mean `UTC`?)",
        "13:25: `image_rewrite`: the replacement `$2` names group `2`, which the regex `(a)` does not have",
        "18:12: unknown schedule nickname `@reboot` (herald accepts @yearly, @annually, @monthly, @weekly, @daily, @hourly)",
        "19:12: `include` holds an empty pattern, which matches every title",
        "23:9: invalid CSS selector `h3 a@`: an attribute name is missing after `@`",
        "27:10: listen `localhost:8080` names the host `localhost`: write an IP address instead, such as 127.0.0.1:8080",
    ];
    assert_eq!(lines.len(), expected.len() + 1, "{err}");
    for (line, want) in lines.iter().zip(expected) {
        assert!(line.starts_with(&format!("{path}:{want}")), "{line}");
    }
    for library_words in [
        "out of bounds",
        "Component error",
        "Invalid pattern",
        "closest weekday",
    ] {
        assert!(!err.contains(library_words), "{err}");
    }
}

/// The red team (F2): an emptied config was refused by a live reload, but `check` said `ok (0
/// sources, 0 channels)` and `run` started on it, over the real database when HERALD_DATA_DIR
/// is set (as the images set it): every stored source stopped being served and `/healthz` said
/// ok. A file empty or of comments only is now refused by `check` and by `run`, with the
/// reload's message, and `run` opens no database.
#[tokio::test]
async fn an_empty_config_is_refused_by_check_and_run() {
    let refused = "1:1: the file is empty (or holds only comments): refused, as a save cut short \
                   would otherwise drop every source and channel; a running herald keeps its \
                   config. A config without sources still needs a table, e.g. `[general]`";
    for text in ["", "\n  \n", "# herald\n\n  # nothing yet\n"] {
        let (o, path) = check(text).await;
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{text:?}: {err}");
        assert_eq!(
            err,
            format!("{path}:{refused}\nherald: {path}: 1 problem found\n"),
            "{text:?}"
        );

        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(&config, text).unwrap();
        let data = dir.path().join("data");
        let o = output(
            herald()
                .arg("run")
                .arg("-c")
                .arg(&config)
                .env("HERALD_DATA_DIR", &data)
                .env("HERALD_LISTEN", "127.0.0.1:0"),
        )
        .await;
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{text:?}: {err}");
        assert!(
            err.contains(&format!("{}:{refused}\n", config.display())),
            "{err}"
        );
        assert!(!data.exists(), "run opened no database");
    }
}

/// A config path that is no regular file, or one too large, is refused at once with what it
/// is (issue 19): `check` hung for ever on a FIFO, and read `/dev/zero` until memory ran out.
#[tokio::test]
async fn a_config_that_is_a_fifo_a_device_or_too_large_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.toml");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let zero = dir.path().join("zero.toml");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let large = dir.path().join("large.toml");
    let mut text = String::from("[general]\n");
    text.push_str(&"# padding\n".repeat(500_000));
    std::fs::write(&large, text).unwrap();
    let cases = [
        (&fifo, "the path is not a regular file (a FIFO)"),
        (&zero, "the path is not a regular file (a character device)"),
        (&large, "the file is larger than 4 MiB"),
    ];
    for (path, why) in cases {
        let run = herald().arg("check").arg("-c").arg(path).output();
        let o = tokio::time::timeout(std::time::Duration::from_secs(10), run)
            .await
            .unwrap_or_else(|_| panic!("check of {} did not end in 10 s", path.display()))
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        let p = path.display();
        assert_eq!(
            err,
            format!("{p}:1:1: cannot read config: {why}\nherald: {p}: 1 problem found\n")
        );
    }
}
