//! `herald preview` and `/preview`: the list page is read (no database touched) and the newest
//! release formatted as each of the source's channels would get it.

use crate::config::{Channel, Config, Source};
use crate::fetch::Fetcher;
use crate::pipeline::{Mode, PollOptions, Poller};
use crate::telegram::format;

/// One post of a preview: the channel it is for (when the source's channels differ), and the
/// post, or `None` when no release on the list page passes that channel's filters.
struct PreviewPart {
    channel: Option<String>,
    post: Option<format::Post>,
}

/// What `herald preview` shows: the list page is read (no database touched) and the newest
/// release formatted as each of the source's channels would get it (or once, without share
/// buttons, when it has none); the posts are separated by a blank line. When a channel of the
/// source has a template or filters, each channel's post is headed by a `# channel ID` line and
/// is the newest release that passes that channel's filters. Each post is its method, its text
/// as it would be sent, then one `label <url>` line per button.
pub async fn preview_newest(
    fetcher: &Fetcher,
    config: &Config,
    source: &Source,
) -> Result<String, String> {
    let parts = preview_parts(fetcher, config, source).await?;
    Ok(render_parts(&parts, format::preview, |id| {
        format!("# channel {id}")
    }))
}

/// The same as [`preview_newest`], in Telegram HTML for `/preview`: each post's text is shown as
/// Telegram would show it (bold title, links), the rest is escaped.
pub async fn preview_newest_html(
    fetcher: &Fetcher,
    config: &Config,
    source: &Source,
) -> Result<String, String> {
    let parts = preview_parts(fetcher, config, source).await?;
    Ok(render_parts(&parts, format::preview_html, |id| {
        format!("<b># channel {}</b>", crate::markup::escape(id))
    }))
}

fn render_parts(
    parts: &[PreviewPart],
    post: fn(&format::Post) -> String,
    header: impl Fn(&str) -> String,
) -> String {
    parts
        .iter()
        .map(|part| {
            let body = match &part.post {
                Some(p) => post(p),
                None => "(no release on the list page passes this channel's filters)".into(),
            };
            match &part.channel {
                Some(id) => format!("{}\n{body}", header(id)),
                None => body,
            }
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

async fn preview_parts(
    fetcher: &Fetcher,
    config: &Config,
    source: &Source,
) -> Result<Vec<PreviewPart>, String> {
    let poller = Poller::new(fetcher, config, &source.id, Mode::DryRun, false);
    let opts = PollOptions {
        conditional: false,
        report_known: true,
    };
    let report = poller
        .poll(source, opts)
        .await
        .map_err(|e| format!("{}: {e}", source.id))?;
    // Newest first by date, the page's order breaking ties (a site may list oldest first), as
    // the feeds and the backfill take them.
    let mut by_date: Vec<_> = report.items.iter().collect();
    by_date.sort_by_key(|o| std::cmp::Reverse(o.item.published));
    let Some(newest) = by_date.first() else {
        return Err(format!("{}: the list page shows no release", source.id));
    };
    let channels: Vec<&Channel> = source
        .channels
        .iter()
        .filter_map(|c| config.channel(c))
        .collect();
    if channels.is_empty() {
        let post = format::format_post(&newest.item, source, &[], true);
        return Ok(vec![PreviewPart {
            channel: None,
            post: Some(post),
        }]);
    }
    if channels.iter().any(|c| c.customized()) {
        // Channels differ: each gets the newest release that passes its filters, in its
        // template, under its id.
        return Ok(channels
            .iter()
            .map(|channel| PreviewPart {
                channel: Some(channel.id.clone()),
                post: by_date
                    .iter()
                    .find(|o| crate::pipeline::channel_passes(channel, &o.item))
                    .map(|o| format::format_post_for(&o.item, source, channel, true)),
            })
            .collect());
    }
    Ok(channels
        .iter()
        .map(|c| PreviewPart {
            channel: None,
            post: Some(format::format_post(&newest.item, source, &c.share, true)),
        })
        .collect())
}
