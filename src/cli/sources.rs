//! The commands on one source: `herald poll`, `herald preview`, `herald prune`.

use super::{Exit, app_options, busy, note, out};
use herald::app::App;
use herald::config::Config;
use herald::model::ItemState;
use herald::pipeline::{Mode, PollOptions, Poller};
use herald::store::{Store, StoreError};

pub async fn poll(config: Config, id: &str, dry_run: bool, json: bool) -> Result<(), Exit> {
    let Some(source) = config.source(id).cloned() else {
        return Err(unknown_source(&config, id));
    };
    let opts = PollOptions {
        conditional: false,
        report_known: true,
    };
    let report = if dry_run {
        // A dry run never opens the database: it must work beside a running herald, and it
        // must not create one. Every release therefore shows as new.
        let fetcher =
            herald::fetch::Fetcher::new(Default::default()).map_err(|e| Exit(1, e.to_string()))?;
        let poller = Poller::new(&fetcher, &config, id, Mode::DryRun, false);
        poller.poll(&source, opts).await
    } else {
        let app = App::new(config.clone(), app_options()).map_err(|e| {
            busy(
                e,
                &format!(
                    "let it poll `{id}` (send `/poll {id}` to its admin bot, or wait for the \
                     schedule), or stop it first; `herald poll {id} --dry-run` works beside it"
                ),
            )
        })?;
        let report = app.poll(&source, opts).await;
        app.shared
            .store
            .flush()
            .await
            .map_err(|e| Exit(1, e.to_string()))?;
        report
    }
    .map_err(|e| Exit(1, format!("{id}: {e}")))?;
    for o in &report.items {
        let date = o
            .item
            .published
            .with_timezone(&source.timezone)
            .to_rfc3339();
        let unread = report
            .unreadable_dates
            .iter()
            .find(|(link, _)| *link == o.item.link)
            .map(|(_, text)| text);
        if json {
            let mut line = serde_json::json!({
                "id": o.item.id.guid(),
                "state": o.state.as_str(),
                "title": o.item.title,
                "link": o.item.link,
                "date": date,
            });
            if let Some(text) = unread {
                line["warning"] = serde_json::json!(format!(
                    "date \"{text}\" could not be read; dated by the release listed above it \
                     (when first seen, if that one is a card pinned above newer ones)"
                ));
            }
            out(line)?;
        } else {
            out(format_args!(
                "{:<7} {date}  {}\n        {}",
                o.state.as_str(),
                o.item.title,
                o.item.link
            ))?;
        }
    }
    note(format_args!(
        "{id}: {} new, {} changed, {} known{}{}",
        report.count(ItemState::New),
        report.count(ItemState::Changed),
        report.count(ItemState::Known),
        match report.skipped {
            0 => String::new(),
            n => format!(", {n} skipped (neither a link nor any text)"),
        },
        if dry_run {
            " (dry run: nothing stored)"
        } else {
            ""
        }
    ));
    if let Some(warning) = report.card_warning() {
        note(format_args!("{id}: warning: {warning}"));
    }
    if let Some(left_out) = report.no_id_note() {
        note(format_args!("{id}: {left_out}"));
    }
    if let Some(warning) = report.date_warning() {
        note(format_args!("{id}: warning: {warning}"));
    }
    if let Some(warning) = report.pages_warning() {
        note(format_args!("{id}: warning: {warning}"));
    }
    Ok(())
}

/// Fetches the list page (touching no database) and prints the post(s) its newest release
/// would make: one per channel of the source, or one without share buttons when it has none.
pub async fn preview(config: Config, id: &str) -> Result<(), Exit> {
    let Some(source) = config.source(id).cloned() else {
        return Err(unknown_source(&config, id));
    };
    let fetcher =
        herald::fetch::Fetcher::new(Default::default()).map_err(|e| Exit(1, e.to_string()))?;
    let text = herald::app::preview::preview_newest(&fetcher, &config, &source)
        .await
        .map_err(|e| Exit(1, e))?;
    out(text)
}

fn unknown_source(config: &Config, id: &str) -> Exit {
    let known: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
    Exit(
        1,
        format!(
            "unknown source `{id}` (the config has: {})",
            known.join(", ")
        ),
    )
}

pub async fn prune(config: Config, id: &str) -> Result<(), Exit> {
    if config.source(id).is_some() {
        return Err(Exit(
            1,
            format!(
                "source `{id}` is still in {}: remove it from the config first",
                config.path.display()
            ),
        ));
    }
    let dir = &config.general.data_dir;
    // Opening would create an empty database, which holds no source either.
    if !dir.join("db").exists() {
        return Err(Exit(
            1,
            format!(
                "unknown source `{id}`: there is no database in {} yet",
                dir.display()
            ),
        ));
    }
    let store = Store::open(dir, herald::app::STORE_CACHE_BYTES).map_err(|e| {
        busy(
            e.into(),
            &format!("stop it first, then run `herald prune {id}` again"),
        )
    })?;
    let store_error = |e: StoreError| Exit(1, e.to_string());
    if !store.holds(id).map_err(store_error)? {
        let gone: Vec<String> = store
            .known_sources()
            .map_err(store_error)?
            .into_iter()
            .filter(|s| config.source(s).is_none())
            .collect();
        return Err(Exit(
            1,
            format!(
                "unknown source `{id}`: the database in {} holds nothing of it (sources it holds \
                 that the config no longer names: {})",
                dir.display(),
                if gone.is_empty() {
                    "none".to_owned()
                } else {
                    gone.join(", ")
                }
            ),
        ));
    }
    let n = store.prune(id).await.map_err(store_error)?;
    out(format_args!(
        "{id}: {n} stored items deleted; their ids are kept, so they will not be announced again"
    ))
}
