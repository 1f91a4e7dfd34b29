//! Per-channel options (issue 10) at the command line: `herald check` positions template and
//! silent-hours problems, `herald preview` shows what each channel would get.

use crate::common;

use common::site::{FakeSite, Release, release_en};
use common::{Setup, command_output as output, config_text, herald_command as herald};

#[tokio::test]
async fn check_positions_template_and_silent_hours_problems() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        r#"[[channels]]
id = "c"
chat = "@c"
template = '''
<b>{{ title }}</b>
{{ summary }} {{ titel }}'''
quiet_hours = "23:00-31:00"
quiet = "loud"

[[channels]]
id = "d"
chat = "@d"
template = "<p>{{ title }}</p>"
include = ["(visit"]
digest_over = -1
"#,
    )
    .unwrap();
    let o = output(herald().arg("check").arg("-c").arg(&path)).await;
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let p = path.display();
    for expected in [
        format!("{p}:6:18: template: unknown field `titel`"),
        format!("{p}:7:15: quiet_hours `23:00-31:00` is not a window"),
        format!("{p}:8:9: unknown quiet `loud`"),
        // The column of the tag itself (issue 25), not of the value's start.
        format!("{p}:13:13: `<p>` is not a Telegram tag"),
        format!("{p}:14:12: `include`: invalid regex `(visit`"),
        format!("{p}:15:15: `digest_over` must be a positive integer, found -1"),
    ] {
        assert!(
            stderr.contains(&expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
}

#[tokio::test]
async fn preview_shows_each_channel_when_a_channel_has_a_template_or_filters() {
    let site = FakeSite::start().await;
    site.publish(
        "en",
        Release {
            title: "State visit to Italy".into(),
            ..release_en(1, 1)
        },
    );
    site.publish("en", release_en(2, 2));
    let dir = tempfile::tempdir().unwrap();
    let channels = r#"
[[channels]]
id = "all"
chat = "@all"

[[channels]]
id = "abroad"
chat = "@abroad"
include = ["visit"]
template = "<i>{{ title }}</i> {{ hashtag }}"

[[channels]]
id = "sport"
chat = "@sport"
include = ["football"]
"#;
    let setup = Setup {
        extra_config: channels.into(),
        source_keys: vec![(
            "akorda-en".into(),
            "channels = [\"all\", \"abroad\", \"sport\"]".into(),
        )],
        ..Setup::default()
    };
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config_text(&site, "http://127.0.0.1:1", &setup)).unwrap();
    let o = output(herald().args(["preview", "akorda-en", "-c"]).arg(&path)).await;
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let sections: Vec<&str> = stdout.split("\n\n# channel ").collect();
    assert_eq!(sections.len(), 3, "{stdout}");
    assert!(
        sections[0].starts_with(
            "# channel all\nsendPhoto\n<b>Head of State receives delegation number 2</b>"
        ),
        "{stdout}"
    );
    assert!(
        sections[1]
            .starts_with("abroad\nsendPhoto\n<i>State visit to Italy</i> #akorda_en\nRead <"),
        "{stdout}"
    );
    assert_eq!(
        sections[2].trim_end(),
        "sport\n(no release on the list page passes this channel's filters)"
    );
}

/// A list page with its releases oldest first: the preview shows the newest by date, the one
/// the backfill posts and the feeds list first.
#[tokio::test]
async fn preview_shows_the_newest_by_date_on_a_page_listing_oldest_first() {
    let site = FakeSite::start().await;
    // `publish` puts a release on top: the page reads 1, 2, 3.
    for n in (1..=3).rev() {
        site.publish("en", release_en(n, n as u32));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        config_text(&site, "http://127.0.0.1:1", &Setup::default()),
    )
    .unwrap();
    let o = output(herald().args(["preview", "akorda-en", "-c"]).arg(&path)).await;
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("<b>Head of State receives delegation number 3</b>"),
        "{stdout}"
    );
}
