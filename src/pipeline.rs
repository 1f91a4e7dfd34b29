//! One poll of one source: fetch the list page (and older pages while they hold new releases),
//! extract the releases, decide for each whether it is new, known or changed, and store the new
//! and corrected ones in one durable step. Returns what happened; the caller reports it.

use crate::config::{Channel, Config, Source, SourceKind, passes};
use crate::dates;
use crate::extract::{self, ExtractError};
use crate::fetch::{self, FetchError, Fetched, Fetcher, Page, Reach, Request};
use crate::model::{Item, ItemId, ItemState, Scraped, Translation};
use crate::store::{
    Commit, DeliveryKind, Digest8, NewDelivery, Seen, SourceState, Store, StoreError, WalkCut,
    address_digest, content_digest, whole_address,
};
use crate::text::without_userinfo;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use url::Url;

/// Why a poll failed. Stored items are never touched by a failed poll.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// The list page (or feed) could not be fetched.
    #[error("fetch {url}: {source}")]
    Fetch { url: String, source: FetchError },
    /// The page was fetched but yielded no releases.
    #[error("extract {url}: {source}")]
    Extract { url: String, source: ExtractError },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The poll ran past its deadline (`poll_deadline_secs`): the fetch or parse in progress was
    /// cut, nothing was stored.
    #[error(
        "poll cut at its deadline of {secs} s (poll_deadline_secs) while reading {url}; nothing stored"
    )]
    Deadline { url: String, secs: u64 },
    /// The poll panicked: a bug, counted as a failed poll (SPEC: nothing fails silently).
    #[error("internal error (a bug in herald, please report it): {0}")]
    Panicked(String),
}

impl PollError {
    /// How long the site asked herald to wait before asking again (a 429 or 503 with
    /// `Retry-After` to the list page or feed).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            PollError::Fetch {
                source: FetchError::StatusWait(_, secs),
                ..
            } => Some(std::time::Duration::from_secs(*secs)),
            _ => None,
        }
    }
}

/// How to poll.
#[derive(Clone, Copy, Debug)]
pub struct PollOptions {
    /// Send the stored validators (ETag / Last-Modified) and skip an unchanged body. Scheduled
    /// polls do; a poll asked for by hand shows everything.
    pub conditional: bool,
    /// Put every known release, read back from the store, in the report (`herald poll` lists
    /// them). Scheduled polls only count them ([`PollReport::count`]) unless the poll itself
    /// needs them (a channel's backfill, translations, the date of an undated release below
    /// one): reading each back was most of a poll whose page holds one new release among
    /// twenty.
    pub report_known: bool,
}

/// One release as this poll saw it.
#[derive(Clone, Debug)]
pub struct Observed {
    pub state: ItemState,
    pub item: Item,
}

/// What one poll found, items in the site's order (newest first).
#[derive(Clone, Debug, Default)]
pub struct PollReport {
    /// True when the page was unchanged (304 or same body) and was not read again.
    pub unchanged: bool,
    /// True when this was the source's first successful poll (only `backfill` items are posted).
    pub first_poll: bool,
    pub pages: u32,
    pub items: Vec<Observed>,
    /// Sources whose feeds changed because this poll linked translations (this source too, when
    /// an item already stored got its first link).
    pub linked: Vec<String>,
    /// Entries of an upstream feed skipped for having neither a link nor any text.
    pub skipped: usize,
    /// `(link, text)` of list dates that could not be read (issue 24): those releases are
    /// dated by the release listed above them (when first seen, if that one is out of the
    /// list's order), and the poll says so.
    pub unreadable_dates: Vec<(String, String)>,
    /// Whether the source is an upstream feed (its dates are the feed's, not a selector's).
    pub upstream_feed: bool,
    /// Cards of the list page not read as releases, with why (no title, no own link, …).
    pub skipped_cards: Vec<extract::html::SkippedCard>,
    /// Links of the releases `require_id` left out (no id in the link), in the page's order.
    pub no_id: Vec<String>,
    /// Known releases counted but not in `items` (see [`PollOptions::report_known`]).
    pub known_not_read: usize,
    /// The walk through older pages was cut short by this error: the releases there are read
    /// by the next poll; until then the source counts as failing.
    pub walk_error: Option<String>,
    /// The walk stopped at `max_pages` (this many pages) on a page of new releases only, after
    /// the source's first poll: releases past it were published since the last poll too, and
    /// are not read (see [`PollReport::pages_warning`]).
    pub capped_at: Option<u32>,
    /// Stored releases this poll rewrote as now read, the source's reading config having
    /// changed: their feed entries show the new reading; nothing is announced.
    pub refreshed: usize,
    /// The site page an upstream feed names changed: the published feeds link it.
    pub site_changed: bool,
    /// Known releases whose stored item `herald prune` deleted, read again now that the source
    /// is back: stored again (in the feed under their old ids), announced nowhere. Counted as
    /// known.
    pub restored: usize,
}

impl PollReport {
    pub fn count(&self, state: ItemState) -> usize {
        let unread = if state == ItemState::Known {
            self.known_not_read
        } else {
            0
        };
        self.items.iter().filter(|o| o.state == state).count() + unread
    }

    /// What the admin should hear about cards of the list page this poll skipped, if any.
    pub fn card_warning(&self) -> Option<String> {
        let first = self.skipped_cards.first()?;
        Some(format!(
            "{} card(s) of the list page skipped (e.g. {first}): check the `title` and `link` \
             selectors",
            self.skipped_cards.len()
        ))
    }

    /// What the admin should hear about the releases `require_id` left out, if any: they are
    /// meant to be (cards that are no releases), but never without a word.
    pub fn no_id_note(&self) -> Option<String> {
        let first = self.no_id.first()?;
        Some(format!(
            "{} card(s) left out by `require_id`: no id in the link (e.g. {first})",
            self.no_id.len()
        ))
    }

    /// What the admin should hear about a walk that stopped at `max_pages` among new releases.
    pub fn pages_warning(&self) -> Option<String> {
        let pages = self.capped_at?;
        Some(format!(
            "the {pages} page(s) read (`max_pages` = {pages}) held only new releases: more were \
             published since the last poll than they show, and those past page {pages} were not \
             read; raise `max_pages` or poll more often"
        ))
    }

    /// What the admin should hear about dates this poll could not read, if any.
    pub fn date_warning(&self) -> Option<String> {
        let (link, text) = self.unreadable_dates.first()?;
        if self.upstream_feed {
            return Some(format!(
                "{} feed date(s) could not be read or are no release's (e.g. \"{text}\" for \
                 {link}); those entries are dated by the entry listed above them, keeping the \
                 feed's order",
                self.unreadable_dates.len()
            ));
        }
        Some(format!(
            "{} list date(s) could not be read (e.g. \"{text}\" for {link}); those releases are \
             dated by the release listed above them (when first seen, if that one is a card \
             pinned above newer ones): set `date_format`, or a better `date` selector (e.g. \
             `time@datetime`)",
            self.unreadable_dates.len()
        ))
    }
}

/// When a poll must be over (`poll_deadline_secs`); every fetch and parse of the poll is cut
/// there.
#[derive(Clone, Copy, Debug)]
struct Deadline {
    /// `None`: too far ahead to represent, i.e. never.
    at: Option<tokio::time::Instant>,
    secs: u64,
}

impl Deadline {
    fn of(source: &Source) -> Deadline {
        Deadline {
            at: tokio::time::Instant::now().checked_add(source.poll_deadline),
            secs: source.poll_deadline.as_secs(),
        }
    }

    fn passed(&self) -> bool {
        self.at.is_some_and(|at| tokio::time::Instant::now() >= at)
    }

    /// `work`, or [`PollError::Deadline`] (naming `url`) if the deadline comes first.
    async fn cut<T>(
        &self,
        url: &Url,
        work: impl Future<Output = Result<T, PollError>>,
    ) -> Result<T, PollError> {
        let Some(at) = self.at else {
            return work.await;
        };
        tokio::time::timeout_at(at, work).await.unwrap_or_else(|_| {
            Err(PollError::Deadline {
                url: without_userinfo(url),
                secs: self.secs,
            })
        })
    }
}

/// Everything a poll needs, borrowed from the app.
pub struct Poller<'a> {
    pub fetcher: &'a Fetcher,
    pub user_agent: &'a str,
    pub mode: Mode<'a>,
    /// Telegram delivery is on (a token is set): polls enqueue posts for the source's channels.
    /// Off, nothing is queued, and a later first poll with it on counts as a first poll.
    pub telegram: bool,
    /// Free space to keep in the data folder (`[general] min_free_mb`).
    pub min_free_bytes: u64,
    /// The configured channels: their filters and digests decide what a poll makes due.
    pub channels: &'a [Channel],
    /// The other sources of the polled source's `[[translations]]` group (usually none).
    pub translations: Vec<&'a Source>,
    /// That group's `same_ids`: equal numeric ids in links count as evidence.
    pub same_ids: bool,
}

/// Whether a poll reads and writes the database.
#[derive(Clone, Copy)]
pub enum Mode<'a> {
    /// The running herald's poll: releases are judged against the store and the new ones
    /// stored, with the deliveries they make due.
    Live(&'a Store),
    /// A dry run beside a running herald (or without one): no database is opened, every
    /// release counts as new, only the first page is read, nothing is stored.
    DryRun,
}

impl<'a> Poller<'a> {
    /// A poller of `source` as `config` describes it; `telegram`: whether delivery is on.
    pub fn new(
        fetcher: &'a Fetcher,
        config: &'a Config,
        source: &str,
        mode: Mode<'a>,
        telegram: bool,
    ) -> Poller<'a> {
        Poller {
            fetcher,
            user_agent: &config.general.user_agent,
            mode,
            telegram,
            min_free_bytes: config.general.min_free_bytes,
            channels: &config.channels,
            translations: config.translations_of(source),
            same_ids: config.translation_group(source).is_some_and(|g| g.same_ids),
        }
    }

    /// The database of a live poll; `None` in a dry run.
    fn store(&self) -> Option<&'a Store> {
        match self.mode {
            Mode::Live(store) => Some(store),
            Mode::DryRun => None,
        }
    }
}

impl Poller<'_> {
    /// Polls `source` once. On failure the error is also recorded in the source's state (unless
    /// this is a dry run).
    pub async fn poll(&self, source: &Source, opts: PollOptions) -> Result<PollReport, PollError> {
        let mut state = match self.mode {
            Mode::Live(store) => store.source_state(&source.id)?,
            Mode::DryRun => SourceState::default(),
        };
        let result = match self.mode {
            Mode::Live(store) => match store.ensure_room(self.min_free_bytes) {
                Ok(()) => self.poll_guarded(source, opts, &mut state).await,
                Err(e) => Err(e.into()),
            },
            Mode::DryRun => self.poll_guarded(source, opts, &mut state).await,
        };
        if let Mode::Live(store) = self.mode {
            let now = Utc::now();
            match &result {
                Ok(report) => {
                    if !report.unchanged {
                        state.date_warning = report.date_warning();
                        state.card_warning = report.card_warning();
                        state.pages_warning = report.pages_warning();
                    }
                    state.ever_succeeded = true;
                    if let Some(error) = &report.walk_error {
                        // Releases are missing until the next poll reads on: a fault to show.
                        state.last_error = Some(error.clone());
                        state.last_error_at = Some(now);
                        state.consecutive_failures += 1;
                    } else {
                        state.last_success = Some(now);
                        state.consecutive_failures = 0;
                    }
                }
                Err(e) => {
                    state.last_error = Some(e.to_string());
                    state.last_error_at = Some(now);
                    state.consecutive_failures += 1;
                }
            }
            // The poll owns every field but `paused`, which an admin may have changed
            // while it ran.
            store.update_source_state(&source.id, |current| {
                let paused = current.paused;
                *current = state.clone();
                current.paused = paused;
            })?;
        }
        result
    }

    /// [`Self::poll_inner`], with a panic turned into a failed poll.
    async fn poll_guarded(
        &self,
        source: &Source,
        opts: PollOptions,
        state: &mut SourceState,
    ) -> Result<PollReport, PollError> {
        use futures_util::FutureExt;
        let poll = std::panic::AssertUnwindSafe(self.poll_inner(source, opts, state));
        match poll.catch_unwind().await {
            Ok(result) => result,
            Err(payload) => Err(PollError::Panicked(crate::supervise::panic_message(
                payload.as_ref(),
            ))),
        }
    }

    async fn poll_inner(
        &self,
        source: &Source,
        opts: PollOptions,
        state: &mut SourceState,
    ) -> Result<PollReport, PollError> {
        // A channel of this source that has had no first poll yet (a token set on an existing
        // database, a channel added) gets its backfill from this poll: read the page even if
        // it has not changed.
        let needs_baseline = match self.mode {
            Mode::Live(store) if self.telegram => must_read_page(store, source, self.channels),
            _ => false,
        };
        // A walk through older pages cut short by the last poll reads on, page 1 unchanged or not.
        // A source whose reading config changed since its validators were kept (an edit, live
        // or while herald was stopped) is read again with the new config, changed page or not.
        // An edit of what is fetched or kept (filters, headers, how far the walk goes) reads the
        // page again too, but reads no release otherwise: no reread (a correction made
        // meanwhile is one).
        let reading = reading_digest(source);
        let kept_with = state.read_with.as_deref().map(read_with_parts);
        let reread =
            self.store().is_some() && kept_with.map(|(r, _)| r) != Some(reading.0.as_str());
        let edited = kept_with != Some((reading.0.as_str(), reading.1.as_str()));
        let reading = format!("{}+{}", reading.0, reading.1);
        let conditional = opts.conditional
            && self.store().is_some()
            && !needs_baseline
            && !edited
            && state.walk_cut.is_none();
        let deadline = Deadline::of(source);
        let first = deadline
            .cut(
                &source.url,
                self.fetch(source, &source.url, conditional.then_some(&*state)),
            )
            .await?;
        let Some(mut page) = first else {
            return Ok(PollReport {
                unchanged: true,
                ..PollReport::default()
            });
        };
        let body_hash = crate::text::hex(&page.body_hash);
        if conditional && state.body_hash.as_deref() == Some(body_hash.as_str()) {
            return Ok(PollReport {
                unchanged: true,
                pages: 1,
                ..PollReport::default()
            });
        }
        let now = Utc::now();
        let mut seen_ids = HashSet::new();
        let (scraped, notes) = deadline
            .cut(&page.url.clone(), scrape(source, &mut page))
            .await?;
        if source.kind == SourceKind::Feed && scraped.is_empty() {
            self.judge_empty_feed(source, &page.url)?;
        }
        let skipped = notes.skipped;
        let mut site_changed = false;
        if source.kind == SourceKind::Feed {
            let site = notes.site.as_ref().map(Url::to_string);
            site_changed = state.site != site;
            state.site = site;
        }
        let mut unreadable_dates = notes.unreadable_dates;
        let skipped_cards = notes.skipped_cards;
        let no_id = notes.no_id;
        let mut rereading = reread.then(Rereading::default);
        let mut found = self.classify(
            source,
            scraped,
            &mut seen_ids,
            &notes.shared_ids,
            &mut rereading,
        )?;
        found.rereading = rereading;
        found.next_page = notes.next_page.clone();
        let walk = self
            .read_older_pages(
                source,
                deadline,
                &mut found,
                &mut seen_ids,
                &mut unreadable_dates,
                state.walk_cut.as_ref(),
            )
            .await?;
        let pages = walk.pages;
        let (walk_cut, walk_error) = walk.cut.unzip();
        let walk_cut = walk_cut.map(|cut| WalkCut {
            cuts: state.walk_cut.as_ref().map_or(0, |c| c.cuts) + 1,
            ..cut
        });
        let first_poll = !state.first_poll_done;
        // A first poll reads its `max_pages` as history (all new by nature): nothing is missed.
        let capped_at =
            (walk.capped && !first_poll && matches!(self.mode, Mode::Live(_))).then_some(pages);
        // Corrections are judged on what the list page shows, before article pages add to it.
        let content_digests = std::mem::take(&mut found.content_digests);
        let rereading = found.rereading.take();
        let relinked = std::mem::take(&mut found.relinked);
        let restored = std::mem::take(&mut found.restored);
        if source.article.is_some() {
            self.follow_articles(source, &mut found.entries, &restored, deadline)
                .await;
        }
        // The known releases are read back when this poll needs them: for the backfill of a
        // channel not baselined yet (`plan_deliveries`), and for translations
        // (`link_translations`).
        let read_known =
            opts.report_known || !self.translations.is_empty() || self.backfill_due(source)?;
        let (mut report, known_not_read) =
            self.build(source, found.entries, now, read_known, &restored)?;
        let seen_only = cap_new(&mut report, source, matches!(self.mode, Mode::Live(_)));
        let mut linked = Vec::new();
        let mut refreshed_count = 0;
        if let Mode::Live(store) = self.mode {
            // A channel's first poll waits for a whole walk, a few polls at most: an older page
            // that keeps failing (a 403, a 500) must not keep the channel from its first poll
            // for ever (it would post only its backfill of every burst).
            let walk_done = walk_cut
                .as_ref()
                .is_none_or(|cut| cut.cuts >= CUT_WALKS_BEFORE_BASELINE);
            if walk_cut
                .as_ref()
                .is_some_and(|cut| cut.cuts == CUT_WALKS_BEFORE_BASELINE)
            {
                tracing::warn!(source = %source.id, "older pages failed {CUT_WALKS_BEFORE_BASELINE} polls in a row: the first poll counts as done without them");
            }
            // Known, so no channel plans a post of them: a baselined channel posts new releases
            // only, and a backfill skips known releases not stored.
            let back: Vec<Item> = report
                .iter()
                .filter(|o| o.state == ItemState::Known && restored.contains(&o.item.id))
                .map(|o| o.item.clone())
                .collect();
            linked = self
                .store_poll(
                    store,
                    source,
                    &report,
                    &content_digests,
                    (&seen_only, &back),
                    walk_done,
                )
                .await?;
            if !restored.is_empty() {
                tracing::info!(source = %source.id, restored = restored.len(), "releases pruned from the feed are back in it (the source returned); nothing is announced");
            }
            // A walk cut short is not done: the next poll reads the first page again (its
            // validators and hash are not kept) and reads on.
            let done = walk_cut.is_none();
            if let Some(mut rereading) = rereading {
                // Every stored release gets the key the source's key rule now gives its link,
                // read on this poll's pages or not: a later poll that walks on to an older
                // page finds it known.
                let keyed = rereading.keyed(store, source)?.clone();
                let taken: HashSet<ItemId> = rereading.aliases.iter().map(|(n, _)| *n).collect();
                rereading
                    .aliases
                    .extend(keyed.into_iter().filter(|(n, _)| !taken.contains(n)));
                let rewritten = refreshed(store, source, rereading.refresh)?;
                refreshed_count = rewritten.len();
                store
                    .note_reading(
                        &source.id,
                        &rereading.reread,
                        &rereading.aliases,
                        &rewritten,
                    )
                    .await?;
                if rereading.reread.len() + rereading.aliases.len() > 0 {
                    tracing::info!(source = %source.id, reread = rereading.reread.len(), rekeyed = rereading.aliases.len(), rewritten = refreshed_count, "the source's reading config changed: known releases read in the new way are not corrections, nor new");
                }
            }
            if !relinked.is_empty() {
                let mut items = Vec::new();
                for (id, _, link, _) in &relinked {
                    if let Some(mut item) = store.item(&source.id, id)? {
                        item.link = link.clone();
                        items.push(item);
                    }
                }
                let (seen, aliases): (Vec<_>, Vec<_>) = relinked
                    .into_iter()
                    .map(|(id, fp, link, own)| ((id, fp, link), (own, id)))
                    .unzip();
                store
                    .note_reading(&source.id, &seen, &aliases, &items)
                    .await?;
                tracing::info!(source = %source.id, releases = seen.len(), "known releases found under their links written anew (https, another host, a last slash) take the new links");
            }
            // The digest tells how page 1 was read, not how far the walk went: a walk cut
            // short (an older page that keeps failing) must not make every poll a reread, where
            // a release that reads otherwise is known and a true correction is lost.
            state.read_with = Some(reading);
            state.etag = page.etag.clone().filter(|_| done);
            state.last_modified = page.last_modified.clone().filter(|_| done);
            state.body_hash = Some(body_hash).filter(|_| done);
            state.walk_cut = walk_cut;
            state.first_poll_done = true;
        }
        Ok(PollReport {
            unchanged: false,
            first_poll,
            pages,
            items: report,
            linked,
            skipped,
            unreadable_dates,
            upstream_feed: source.kind == SourceKind::Feed,
            skipped_cards,
            no_id,
            known_not_read,
            walk_error,
            capped_at,
            refreshed: refreshed_count,
            site_changed,
            restored: restored.len(),
        })
    }

    /// Whether this poll plans a backfill (see [`plan_deliveries`]): Telegram is on and a
    /// channel of the source has had no first poll yet.
    fn backfill_due(&self, source: &Source) -> Result<bool, StoreError> {
        let Mode::Live(store) = self.mode else {
            return Ok(false);
        };
        if !self.telegram {
            return Ok(false);
        }
        for channel in &source.channels {
            if !store.baselined(channel, &source.id)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The pages after the first (`?page=2`, …), read while the last one held a new release,
    /// up to `max_pages`; their releases join `found`. A walk the last poll could not finish
    /// (`resume`) goes on to the page after the one showing the release it read last, new
    /// releases or not. A page the site says is not there (404, 410) or that shows no release
    /// ends the list; any other error cuts the walk short: it is noted ([`Walk::cut`]) for the
    /// next poll to read on, and reported. The deadline fails the poll.
    async fn read_older_pages(
        &self,
        source: &Source,
        deadline: Deadline,
        found: &mut Found,
        seen_ids: &mut HashSet<ItemId>,
        unreadable_dates: &mut Vec<(String, String)>,
        resume: Option<&WalkCut>,
    ) -> Result<Walk, PollError> {
        let mut next_page = found.next_page.take();
        let mut pages = 1;
        // The pages read, so that a pager linking back (a last page whose "next" is the first)
        // ends the walk.
        let mut read_pages: HashSet<Url> = HashSet::from([source.url.clone()]);
        // A dry run without a database sees every release as new: it reads the first page only
        // (older pages would be fetched on every preview).
        let max_pages = if matches!(self.mode, Mode::DryRun) {
            1
        } else {
            source.max_pages
        };
        // The page showing the release a cut walk read last, once read.
        let shows_last = |entries: &[(ItemId, ItemState, Scraped)]| {
            resume
                .and_then(|c| c.after)
                .is_some_and(|after| entries.iter().any(|(id, _, _)| *id == after))
        };
        let mut last_seen_on = shows_last(&found.entries).then_some(1);
        // Whether the last page read showed new releases only (none known to end the news at).
        let all_new = |entries: &[(ItemId, ItemState, Scraped)]| {
            !entries.is_empty() && entries.iter().all(|(_, s, _)| *s == ItemState::New)
        };
        let mut last_all_new = all_new(&found.entries);
        // Whether the page counted last was read (a walk that ends on a page not there, or on
        // one already read, counted a page it did not read).
        let mut last_read = true;
        let resuming = |pages: u32, last_seen_on: Option<u32>| match resume {
            None => false,
            Some(WalkCut { after: Some(_), .. }) => last_seen_on.is_none_or(|p| p >= pages),
            Some(WalkCut {
                after: None, page, ..
            }) => pages < *page,
        };
        while pages < max_pages
            && source.kind == SourceKind::Html
            && (found.last_page_had_new || resuming(pages, last_seen_on))
        {
            pages += 1;
            last_read = false;
            // The page's own "next" link when it has one (a pager numbered from 0, or by
            // path), else `?page=N`.
            let url = next_page
                .take()
                .unwrap_or_else(|| page_url(&source.url, pages));
            if !read_pages.insert(url.clone()) {
                break;
            }
            let fetched = deadline.cut(&url, self.fetch(source, &url, None)).await;
            let read = match fetched {
                Ok(Some(mut p)) => {
                    deadline
                        .cut(&url, scrape(source, &mut p))
                        .await
                        .map(|(scraped, notes)| {
                            unreadable_dates.extend(notes.unreadable_dates);
                            next_page = notes.next_page;
                            scraped
                        })
                }
                Ok(None) => break,
                Err(e) => Err(e),
            };
            let scraped = match read {
                Ok(scraped) => scraped,
                Err(e @ PollError::Deadline { .. }) => return Err(e),
                Err(e) if ends_the_list(&e) => {
                    tracing::debug!(source = %source.id, page = pages, error = %e, "no older page: the list ends");
                    break;
                }
                Err(e) => {
                    tracing::warn!(source = %source.id, page = pages, error = %e, "older page not read; the next poll reads on from it");
                    let cut = WalkCut {
                        page: pages,
                        after: found.entries.last().map(|(id, _, _)| *id),
                        cuts: 1,
                    };
                    let error = format!(
                        "older page {pages} not read ({e}); its releases are read by the next poll"
                    );
                    return Ok(Walk {
                        pages,
                        cut: Some((cut, error)),
                        capped: false,
                    });
                }
            };
            let next = self.classify(
                source,
                scraped,
                seen_ids,
                &HashMap::new(),
                &mut found.rereading,
            )?;
            if last_seen_on.is_none() && shows_last(&next.entries) {
                last_seen_on = Some(pages);
            }
            found.last_page_had_new = next.last_page_had_new;
            last_all_new = all_new(&next.entries);
            last_read = true;
            found.entries.extend(next.entries);
            found.content_digests.extend(next.content_digests);
            found.relinked.extend(next.relinked);
        }
        let capped =
            pages >= max_pages && last_read && last_all_new && source.kind == SourceKind::Html;
        Ok(Walk {
            pages,
            cut: None,
            capped,
        })
    }

    /// The poll's one durable step: the new and corrected releases, the deliveries they make
    /// due (planned per channel), the translation links found and the edits those bring, all in
    /// one store transaction; with them, the known releases `seen_only` (past the poll's bound)
    /// and `restored` (pruned, read again). Returns the other sources whose feeds gained a link.
    async fn store_poll(
        &self,
        store: &Store,
        source: &Source,
        report: &[Observed],
        content_digests: &HashMap<ItemId, [u8; 8]>,
        (seen_only, restored): (&[Item], &[Item]),
        walk_done: bool,
    ) -> Result<Vec<String>, PollError> {
        let new: Vec<Item> = pick(report, ItemState::New);
        let corrected: Vec<Item> = pick(report, ItemState::Changed);
        let (mut deliveries, mut baselines) = if self.telegram {
            plan_deliveries(store, source, self.channels, report)?
        } else {
            (Vec::new(), Vec::new())
        };
        // A channel's first poll of the source ends with a whole walk: the releases of older
        // pages that a cut walk leaves to the next poll are part of the backfill, not news to
        // post (that poll plans the backfill again; what was posted is not posted twice).
        if !walk_done {
            baselines.clear();
        }
        let linking = self.link_translations(store, source, report)?;
        deliveries.extend(linking.edits);
        store
            .commit(&Commit {
                source: &source.id,
                new: &new,
                corrected: &corrected,
                deliveries: &deliveries,
                baselines: &baselines,
                content_digests,
                max_items: source.max_items,
                links: &linking.links,
                unlinks: &linking.unlinks,
                seen_only,
                restored,
            })
            .await?;
        Ok(linking.sources)
    }

    /// Looks for the translations of the releases this poll saw (new ones, and stored ones
    /// still missing a language: a translation may appear days later, or two polls may have
    /// run at once) among the stored releases of the other sources of the group. Returns the
    /// links to store, and the edits that add language buttons to posts already made.
    ///
    /// A group's links form a clique: a release and its translations all link to each other,
    /// one release per language. A link that would join two releases whose partners disagree
    /// (the English release linked to Russian B, its new Kazakh partner to Russian D) is
    /// refused; one that agrees brings the partners' links along (linking English A to Kazakh
    /// C, which is linked to Russian B, links A and B too).
    fn link_translations(
        &self,
        store: &Store,
        source: &Source,
        report: &[Observed],
    ) -> Result<Linking, StoreError> {
        let mut linking = Linking::default();
        if self.translations.is_empty() {
            return Ok(linking);
        }
        let window = crate::translations::window();
        let fresh: Vec<&Item> = report
            .iter()
            .filter(|o| o.state == ItemState::New)
            .map(|o| &o.item)
            .collect();
        // Candidates taken by this poll, so that two of its releases never share one.
        let mut taken: HashSet<ItemId> = HashSet::new();
        let mut view = LinkView::new(store);
        // A new release has no link yet (whatever a release of the same id trimmed long ago left).
        for f in &fresh {
            view.lists.insert((source.id.clone(), f.id), Vec::new());
        }
        let mut histories = NameHistories::around(report);
        for o in report {
            let x = &o.item;
            if o.state == ItemState::Changed {
                self.follow_corrected_link(store, source, x, &mut linking)?;
            }
            let (from, to) = (x.published - window, x.published + window);
            for other in &self.translations {
                // The languages `x` has now: stored, linked by this poll, or brought along by
                // a link of this poll.
                let known = view
                    .of(&source.id, &x.id)?
                    .iter()
                    .any(|t| t.language == other.language);
                if known {
                    continue;
                }
                let candidates = store.published_between(&other.id, from, to)?;
                if candidates.is_empty() {
                    continue;
                }
                let mut peers = store.published_between(&source.id, from, to)?;
                peers.extend(
                    fresh
                        .iter()
                        .filter(|f| f.published >= from && f.published <= to)
                        .map(|f| (*f).clone()),
                );
                // Each candidate's present partner in this language: a release taken by this
                // poll is not available; one linked before may be taken over by a better match
                // (`choose` then compared the two), so it joins the peers.
                let mut partner: HashMap<ItemId, Translation> = HashMap::new();
                for c in &candidates {
                    let Some(t) = view
                        .of(&other.id, &c.id)?
                        .into_iter()
                        .find(|t| t.language == source.language)
                    else {
                        continue;
                    };
                    if t.source == source.id
                        && !peers.iter().any(|p| p.id == t.id)
                        && let Some(item) = store.item(&source.id, &t.id)?
                    {
                        peers.push(item);
                    }
                    partner.insert(c.id, t);
                }
                let mut context =
                    self.linking_context(store, source, other, &candidates, &peers, &fresh)?;
                context.name_history = [
                    histories.of(store, &source.id, &fresh)?.clone(),
                    histories.of(store, &other.id, &[])?.clone(),
                ];
                if o.state == ItemState::New {
                    self.untie(
                        store,
                        (source, other),
                        x,
                        (&candidates, &peers),
                        &context,
                        &mut partner,
                        &mut view,
                        &mut linking,
                    )?;
                }
                let Some(c) = crate::translations::choose(
                    x,
                    source.timezone,
                    &candidates,
                    other.timezone,
                    &peers,
                    &context,
                    |c| {
                        !taken.contains(&c.id)
                            && partner.get(&c.id).is_none_or(|t| {
                                t.source == source.id && peers.iter().any(|p| p.id == t.id)
                            })
                    },
                ) else {
                    continue;
                };
                let (a, b) = (translation(source, x), translation(other, c));
                // A release taking the place of `c`'s partner takes it for the whole group
                // linked to `c`, when it matches the group better than the old partner.
                let mut replaces = None;
                if let Some(old) = partner.get(&c.id) {
                    let members: Vec<Translation> = view
                        .of(&other.id, &c.id)?
                        .into_iter()
                        .filter(|t| t.language != source.language)
                        .collect();
                    let mut group: Vec<(Item, chrono_tz::Tz)> = vec![(c.clone(), other.timezone)];
                    for t in &members {
                        let owner = self.translations.iter().find(|s| s.id == t.source);
                        if let (Some(owner), Some(item)) = (owner, store.item(&t.source, &t.id)?) {
                            group.push((item, owner.timezone));
                        }
                    }
                    let old_item = peers.iter().find(|p| p.id == old.id).cloned();
                    let whole = members.is_empty()
                        || old_item.is_some_and(|old_item| {
                            let group: Vec<(&Item, chrono_tz::Tz)> =
                                group.iter().map(|(i, tz)| (i, *tz)).collect();
                            crate::translations::better_for_group(
                                x,
                                &old_item,
                                source.timezone,
                                &peers,
                                &group,
                                &context,
                            )
                        });
                    if !whole {
                        tracing::info!(source = %source.id, item = %x.id, other = %other.id, translation = %c.id, linked = %old.id, "translation not linked: it does not match the linked group better than the release linked to it");
                        metrics::counter!("herald_translations_refused_total", "source" => source.id.clone())
                            .increment(1);
                        continue;
                    }
                    replaces = Some(old.clone());
                }
                let Some(pairs) = view.joined(&a, &b, replaces.as_ref())? else {
                    tracing::info!(source = %source.id, item = %x.id, other = %other.id, translation = %c.id, "translation not linked: a partner of one is linked to another release of the other's group");
                    metrics::counter!("herald_translations_refused_total", "source" => source.id.clone())
                        .increment(1);
                    continue;
                };
                if let Some(old) = partner.get(&c.id) {
                    tracing::info!(source = %source.id, item = %x.id, other = %other.id, translation = %c.id, replaced = %old.id, "translation link replaced by a better match");
                    metrics::counter!("herald_translations_replaced_total", "source" => source.id.clone())
                        .increment(1);
                    if self.telegram
                        && let Some(old_item) = store.item(&source.id, &old.id)?
                    {
                        // Its buttons lose the language (the store unlinks both sides).
                        linking.edits.extend(edits_for(store, source, &old_item)?);
                    }
                    if !linking.sources.contains(&source.id) {
                        linking.sources.push(source.id.clone());
                    }
                } else {
                    tracing::info!(source = %source.id, item = %x.id, other = %other.id, translation = %c.id, "translation linked");
                }
                metrics::counter!("herald_translations_linked_total", "source" => source.id.clone())
                    .increment(1);
                // The releases that gain a link: their feeds change, their posts get buttons.
                let mut gained: Vec<&Translation> = Vec::new();
                for (p, q) in &pairs {
                    if (p, q) != (&a, &b) {
                        tracing::info!(source = %p.source, item = %p.id, other = %q.source, translation = %q.id, "translation linked along with its group");
                    }
                    view.link(p, q)?;
                    for t in [p, q] {
                        if !gained.iter().any(|g| g.source == t.source && g.id == t.id) {
                            gained.push(t);
                        }
                    }
                }
                for t in gained {
                    if t.source != source.id {
                        taken.insert(t.id);
                    }
                    let is_x = t.source == source.id && t.id == x.id;
                    if is_x && o.state == ItemState::New {
                        // A new release's post reads its links when it is sent, and its feed
                        // is written after the poll anyway.
                        continue;
                    }
                    self.languages_changed(store, source, t, &[x, c], &mut linking)?;
                }
                linking.links.extend(pairs);
            }
        }
        Ok(linking)
    }

    /// Takes back the links that the new release `x` ties (issue 25: "a tie links none", and
    /// the first of two look-alikes to arrive must not keep its link for good): each candidate
    /// linked to another release of `x`'s source that `x` matches about as well (within the
    /// margin, see [`crate::translations::ties`]) loses it, and that release leaves the
    /// candidate's group. The posts of every release that loses a language are edited (their
    /// buttons follow the store), as when a link is replaced; `choose` then decides the pair
    /// again with every candidate seen, and the candidate is free for a clear best.
    #[allow(clippy::too_many_arguments)]
    fn untie(
        &self,
        store: &Store,
        (source, other): (&Source, &Source),
        x: &Item,
        (candidates, peers): (&[Item], &[Item]),
        context: &crate::translations::Context,
        partner: &mut HashMap<ItemId, Translation>,
        view: &mut LinkView,
        linking: &mut Linking,
    ) -> Result<(), StoreError> {
        for c in candidates {
            let Some(old) = partner.get(&c.id).cloned() else {
                continue;
            };
            if old.source != source.id || old.id == x.id {
                continue;
            }
            let Some(old_item) = peers.iter().find(|p| p.id == old.id) else {
                continue;
            };
            let tied = crate::translations::ties(
                x,
                old_item,
                source.timezone,
                c,
                other.timezone,
                candidates,
                peers,
                context,
            );
            if !tied {
                continue;
            }
            tracing::info!(source = %source.id, item = %x.id, other = %other.id, translation = %c.id, linked = %old.id, "translation link taken back: a new release matches the translation as well as the release linked to it");
            // `old` leaves `c`'s group: its links to `c` and to `c`'s partners.
            let mut lost: Vec<Translation> = vec![translation(other, c)];
            lost.extend(
                view.of(&other.id, &c.id)?
                    .into_iter()
                    .filter(|t| t.language != source.language),
            );
            for t in &lost {
                view.unlink(&old, t)?;
                linking.links.retain(|(p, q)| {
                    let same =
                        |a: &Translation, b: &Translation| a.source == b.source && a.id == b.id;
                    !((same(p, &old) && same(q, t)) || (same(p, t) && same(q, &old)))
                });
                linking.unlinks.push((old.clone(), t.clone()));
            }
            partner.remove(&c.id);
            lost.push(old.clone());
            for t in &lost {
                self.languages_changed(store, source, t, &[c, old_item], linking)?;
            }
        }
        Ok(())
    }

    /// Release `t` gained or lost a language: its source's feeds change, and with Telegram on,
    /// its posts already made get their language buttons by an edit, through the outbox like
    /// any edit. `at_hand`: releases of this poll, as read now (the store has the others).
    fn languages_changed(
        &self,
        store: &Store,
        source: &Source,
        t: &Translation,
        at_hand: &[&Item],
        linking: &mut Linking,
    ) -> Result<(), StoreError> {
        if !linking.sources.contains(&t.source) {
            linking.sources.push(t.source.clone());
        }
        if !self.telegram {
            return Ok(());
        }
        let owner = if t.source == source.id {
            Some(source)
        } else {
            self.translations.iter().copied().find(|s| s.id == t.source)
        };
        let item = match at_hand
            .iter()
            .find(|i| i.source == t.source && i.id == t.id)
        {
            Some(item) => Some((*item).clone()),
            None => store.item(&t.source, &t.id)?,
        };
        if let (Some(owner), Some(item)) = (owner, item) {
            linking.edits.extend(edits_for(store, owner, &item)?);
        }
        Ok(())
    }

    /// A corrected release may have a new address (a corrected slug under the same id): the
    /// releases linked to it keep a copy of its link for their language button and hreflang,
    /// so each copy that differs is written again, and their feeds and posts follow.
    fn follow_corrected_link(
        &self,
        store: &Store,
        source: &Source,
        x: &Item,
        linking: &mut Linking,
    ) -> Result<(), StoreError> {
        for t in store.translations(&source.id, &x.id)? {
            let stale = store
                .translations(&t.source, &t.id)?
                .iter()
                .any(|p| p.source == source.id && p.id == x.id && p.link != x.link);
            let Some(other) = self.translations.iter().find(|s| s.id == t.source) else {
                continue;
            };
            if !stale {
                continue;
            }
            let Some(partner) = store.item(&other.id, &t.id)? else {
                continue;
            };
            // The store writes the new link into the partner's copy with the correction.
            tracing::info!(source = %source.id, item = %x.id, other = %other.id, translation = %t.id, link = %x.link, "a linked release moved: its translation follows");
            if !linking.sources.contains(&other.id) {
                linking.sources.push(other.id.clone());
            }
            if self.telegram {
                linking.edits.extend(edits_for(store, other, &partner)?);
            }
        }
        Ok(())
    }

    /// What linking knows beyond the window: the group's rules, and how often each picture of
    /// the releases compared was used over the stored history of its source (this poll's new
    /// releases, not stored yet, counted too).
    fn linking_context(
        &self,
        store: &Store,
        source: &Source,
        other: &Source,
        candidates: &[Item],
        peers: &[Item],
        fresh: &[&Item],
    ) -> Result<crate::translations::Context, StoreError> {
        use crate::model::image_key;
        let mut context = crate::translations::Context {
            rules: crate::translations::Rules {
                same_ids: self.same_ids,
                ..Default::default()
            },
            ..Default::default()
        };
        let names: HashSet<String> = candidates
            .iter()
            .chain(peers)
            .filter_map(|i| i.image.as_deref().and_then(image_key))
            .collect();
        for name in names {
            let unstored = fresh
                .iter()
                .filter(|f| f.image.as_deref().and_then(image_key).as_deref() == Some(&name))
                .count() as u64;
            let mine = store.image_uses(&source.id, &name)? + unstored;
            let theirs = store.image_uses(&other.id, &name)?;
            context.image_uses.insert(name, mine.max(theirs) as usize);
        }
        Ok(context)
    }

    /// Fetches a page the config names; `Ok(None)` is a 304 to a conditional request.
    async fn fetch(
        &self,
        source: &Source,
        url: &Url,
        validators: Option<&SourceState>,
    ) -> Result<Option<Page>, PollError> {
        self.fetch_within(source, url, validators, Reach::Any).await
    }

    async fn fetch_within(
        &self,
        source: &Source,
        url: &Url,
        validators: Option<&SourceState>,
        reach: Reach,
    ) -> Result<Option<Page>, PollError> {
        let req = Request {
            user_agent: self.user_agent,
            headers: &source.headers,
            etag: validators.and_then(|s| s.etag.as_deref()),
            last_modified: validators.and_then(|s| s.last_modified.as_deref()),
            insecure_tls: source.insecure_tls,
        };
        match self.fetcher.get_within(url, &req, reach).await {
            Ok(Fetched::NotModified) => Ok(None),
            Ok(Fetched::Page(page)) => Ok(Some(*page)),
            Err(source) => Err(PollError::Fetch {
                url: without_userinfo(url),
                source,
            }),
        }
    }

    /// An upstream feed that lists no entry: a fault when it listed releases before (SPEC: a
    /// list that suddenly shows nothing is not "no news", as a list page whose selectors match
    /// nothing is not), a new feed's silence when nothing of it was ever stored. A dry run has
    /// no database to tell them apart and takes the feed as it is.
    fn judge_empty_feed(&self, source: &Source, url: &Url) -> Result<(), PollError> {
        let Some(store) = self.store() else {
            return Ok(());
        };
        match store.count(&source.id)? {
            0 => Ok(()),
            stored => Err(PollError::Extract {
                url: without_userinfo(url),
                source: ExtractError::FeedEmptied { stored },
            }),
        }
    }

    /// `shared`: the feed's entries identified otherwise because other entries share their
    /// guid/id, that id by their key ([`extract::feed::FeedEntries::shared_ids`]).
    fn classify(
        &self,
        source: &Source,
        scraped: Vec<Scraped>,
        seen_ids: &mut HashSet<ItemId>,
        shared: &HashMap<String, String>,
        rereading: &mut Option<Rereading>,
    ) -> Result<Found, PollError> {
        let mut found = Found::default();
        // How many entries of this page share each address (an address several show tells
        // none of them apart: see `Rereading::former`).
        let mut page_addresses = PageAddresses::default();
        if rereading.is_some() {
            for s in &scraped {
                *page_addresses
                    .paths
                    .entry(address_digest(&s.link))
                    .or_default() += 1;
                *page_addresses
                    .whole
                    .entry(whole_address(&s.link))
                    .or_default() += 1;
            }
        }
        let keys: HashSet<&str> = scraped.iter().map(|s| s.key.as_str()).collect();
        // The source's own host, with its port as links write it.
        let home = &source.url[url::Position::BeforeHost..url::Position::AfterPort];
        let mut moved = Vec::new();
        for s in &scraped {
            // Each written-otherwise key with whether this page lists it too.
            moved.push(
                moved_keys(&s.key, Some(home).filter(|h| !h.is_empty()))
                    .into_iter()
                    .map(|(k, same_text)| {
                        let listed = keys.contains(k.as_str());
                        (k, same_text, listed)
                    })
                    .collect::<Vec<_>>(),
            );
        }
        let mut moved = moved.into_iter();
        let mut per_link: HashMap<String, usize> = HashMap::new();
        let mut claims = HashMap::new();
        let mut renamed = Renamed::default();
        let mut reused = Reused::default();
        if source.kind == SourceKind::Feed {
            for s in &scraped {
                *per_link.entry(former_key(s)).or_default() += 1;
            }
            claims = self.shared_id_claims(source, &scraped, shared)?;
            renamed = Renamed::of(source, &scraped, &claims);
            reused = self.reused_ids(source, &scraped)?;
        }
        for s in scraped {
            let moved = moved.next().unwrap_or_default();
            if !passes(
                &source.include,
                &source.exclude,
                &s.title,
                s.summary.as_deref(),
            ) {
                continue;
            }
            let mut id = ItemId::new(&source.id, &s.key);
            let now_fp = content_digest(&s.title, s.summary.as_deref());
            if source.kind == SourceKind::Feed {
                if let Some(other) = reused.id_of(source, &s, seen_ids) {
                    id = other;
                } else if let Some(former) =
                    self.former_id(source, &s, id, now_fp, &per_link, seen_ids)?
                {
                    id = former;
                } else if let Some(held) = claims.get(&s.key).filter(|c| !seen_ids.contains(c)) {
                    id = *held;
                } else if let Some(store) = self.store()
                    && let Some(former) = renamed.former(store, source, &s, id, now_fp, seen_ids)?
                {
                    id = former;
                }
            }
            // A release whose key changed (an `id_pattern` edit) keeps the identity it is
            // stored under.
            if let Some(store) = self.store() {
                if let Some(former) = store.alias(&source.id, &id)? {
                    id = former;
                } else if let Some(r) = rereading.as_mut()
                    && let Some(former) = r
                        .keyed(store, source)?
                        .get(&id)
                        .copied()
                        .filter(|f| !seen_ids.contains(f))
                {
                    id = former;
                } else if let Some(r) = rereading.as_mut()
                    && let Some(former) =
                        r.former(store, source, &s, id, seen_ids, &page_addresses)?
                {
                    r.aliases.push((id, former));
                    id = former;
                }
            }
            // A site that moved to https or to another host (`www.` added or dropped, a list
            // page redirecting elsewhere), or began or stopped ending its paths with a slash,
            // keeps its releases: one unknown under its link and known under the link written
            // the former way is that release (on the source's home host after a redirect, only
            // with the same text). This page listing the link written the other way too is
            // that release listed twice when the two read the same (a migration's pinned old
            // link above the new list), else another release.
            let mut moved_from = None;
            let unknown = match self.store() {
                Some(store) => store.seen_digest(&source.id, &id)?.is_none(),
                None => true,
            };
            if !moved.is_empty() && unknown {
                for (key, same_text, listed) in &moved {
                    let former = ItemId::new(&source.id, key);
                    let stored = match self.store() {
                        Some(store) => store.seen_digest(&source.id, &former)?,
                        None => None,
                    };
                    if seen_ids.contains(&former) {
                        // Counted already in this poll (above on this page, or on a page read
                        // before): this entry is that release again when the two read the same
                        // (skipped below); else another release.
                        if found.content_digests.get(&former) == Some(&now_fp)
                            || stored == Some(now_fp)
                        {
                            id = former;
                            break;
                        }
                        continue;
                    }
                    if *listed {
                        // Listed below in the other form: this entry is that release when the
                        // store knows it with this very text (the entry below then counts
                        // once); else another release.
                        if stored == Some(now_fp) {
                            moved_from = Some(id);
                            id = former;
                            break;
                        }
                        continue;
                    }
                    match stored {
                        Some(fp) if !same_text || fp == now_fp || reads_as_stored(&s, fp) => {
                            moved_from = Some(id);
                            id = former;
                            break;
                        }
                        _ => {}
                    }
                }
            }
            // The same release on two pages (the list moved while we read it) counts once.
            if !seen_ids.insert(id) {
                continue;
            }
            // Changed: the page shows another title or summary than when the release was
            // last stored, or another address (a corrected slug under the same id; a query
            // alone does not count), and the release is still stored (one that left the feed
            // is known).
            // A release read in a new way (the source's reading config changed) is known: the
            // edit is no correction to announce; its text as now read is kept for the next poll.
            let state = match self.store() {
                None => ItemState::New,
                Some(store) => match store.seen_digests(&source.id, &id)? {
                    None => ItemState::New,
                    Some((fp, address)) => {
                        let differs = (fp != now_fp && !reads_as_stored(&s, fp))
                            || address.is_some_and(|a| !same_path(a, &s.link));
                        match rereading.as_mut() {
                            Some(r) if differs => {
                                r.reread.push((id, now_fp, s.link.clone()));
                                if store.stored(&source.id, &id)? {
                                    r.refresh.push((id, s.clone()));
                                }
                                ItemState::Known
                            }
                            None if differs && store.stored(&source.id, &id)? => ItemState::Changed,
                            _ => {
                                if let Some(own) = moved_from {
                                    found.relinked.push((id, fp, s.link.clone(), own));
                                }
                                ItemState::Known
                            }
                        }
                    }
                },
            };
            // A release of a source that `herald prune` emptied, read again now that the source
            // is back: known (never announced again), and stored again.
            if state == ItemState::Known
                && let Some(store) = self.store()
                && store.was_pruned(&source.id, &id)?
                && !store.stored(&source.id, &id)?
            {
                found.restored.insert(id);
            }
            found.last_page_had_new |= state == ItemState::New;
            found.content_digests.insert(id, now_fp);
            found.entries.push((id, state, s));
        }
        Ok(found)
    }

    /// The identity an upstream feed's entry had before entries were identified by their own
    /// guid/id (issue 20): its canonical link. An entry stored under it keeps it, so that an
    /// upgraded database announces nothing again. It is taken only when the entry is not known
    /// under its own id, the poll has not given it to another entry, and it is surely the same
    /// entry: the only one of this poll with that link, or one that reads as the stored one.
    fn former_id(
        &self,
        source: &Source,
        s: &Scraped,
        id: ItemId,
        now_fp: [u8; 8],
        per_link: &HashMap<String, usize>,
        seen_ids: &HashSet<ItemId>,
    ) -> Result<Option<ItemId>, PollError> {
        let Some(store) = self.store() else {
            return Ok(None);
        };
        let key = former_key(s);
        if source
            .id_pattern
            .as_ref()
            .is_some_and(|re| re.is_match(&key))
        {
            // Identified by the pattern, as before.
            return Ok(None);
        }
        let former = ItemId::new(&source.id, &key);
        if former == id || seen_ids.contains(&former) {
            return Ok(None);
        }
        let Seen::Before {
            content_digest: fp, ..
        } = store.seen(&source.id, &former)?
        else {
            return Ok(None);
        };
        if !matches!(store.seen(&source.id, &id)?, Seen::Never) {
            return Ok(None);
        }
        let alone = per_link.get(&key).copied().unwrap_or(0) <= 1;
        let same = fp == now_fp;
        Ok((alone || same).then_some(former))
    }

    /// Which entries carry a guid/id a stored release had while they are another release: the
    /// stored one has another link (path), another title and another date (a feed that numbers
    /// its entries by position gives each number to a new release at every post). A release
    /// past `max_items` is compared by what the store still holds of it: its path, its title
    /// and text. An entry without a date of its own never agrees by date.
    fn reused_ids(&self, source: &Source, scraped: &[Scraped]) -> Result<Reused, PollError> {
        let mut reused = Reused::default();
        let Some(store) = self.store() else {
            return Ok(reused);
        };
        for s in scraped {
            let id = ItemId::new(&source.id, &s.key);
            let other = match store.item(&source.id, &id)? {
                Some(stored) => !same_release(&stored, s, source),
                None => match store.seen_digests(&source.id, &id)? {
                    Some((fp, Some(address))) => {
                        address != address_digest(&s.link)
                            && fp != content_digest(&s.title, s.summary.as_deref())
                    }
                    _ => false,
                },
            };
            if other {
                reused.keys.insert(s.key.clone());
            } else {
                reused.kept.insert(id);
            }
        }
        if let Some(example) = reused.keys.iter().next() {
            tracing::warn!(
                source = %source.id,
                entries = reused.keys.len(),
                %example,
                "entries of the feed carry the guid/id of another stored release (link, title and date all differ): each is identified by its link"
            );
            reused.by_address = store.stored_by_whole_address(&source.id)?;
        }
        Ok(reused)
    }

    /// Which entry of the document keeps the identity of a release known under a guid/id the
    /// document's entries now share (they are identified otherwise: `shared`): so that a feed
    /// that starts to give a second entry the same guid does not announce the first again. Of
    /// the entries sharing that id, the one at the known release's address, else the one that
    /// reads as it (same title and text), when only one is; of several at its address, the one
    /// that reads as it. Only when that entry is not known under its own key already. A release
    /// no longer stored (past `max_items`) is still known: its sharers are not new. By key.
    fn shared_id_claims(
        &self,
        source: &Source,
        scraped: &[Scraped],
        shared: &HashMap<String, String>,
    ) -> Result<HashMap<String, ItemId>, PollError> {
        let mut claims = HashMap::new();
        let Some(store) = self.store() else {
            return Ok(claims);
        };
        let ids: HashSet<&String> = shared.values().collect();
        for guid in ids {
            let held = ItemId::new(&source.id, guid);
            let Some((fp, address)) = store.seen_digests(&source.id, &held)? else {
                continue;
            };
            // One entry per key: a later one of the same key is a duplicate the poll drops.
            let mut keys = HashSet::new();
            let sharers: Vec<&Scraped> = scraped
                .iter()
                .filter(|s| shared.get(&s.key) == Some(guid) && keys.insert(s.key.as_str()))
                .collect();
            let reads_as = |s: &&&Scraped| content_digest(&s.title, s.summary.as_deref()) == fp;
            let at_address: Vec<&&Scraped> = sharers
                .iter()
                .filter(|s| address == Some(address_digest(&s.link)))
                .collect();
            let at_address_reading_as: Vec<&&Scraped> =
                at_address.iter().copied().filter(reads_as).collect();
            let reading_as: Vec<&&Scraped> = sharers.iter().filter(reads_as).collect();
            let claimant = match (
                at_address.as_slice(),
                at_address_reading_as.as_slice(),
                reading_as.as_slice(),
            ) {
                ([one], _, _) | ([_, _, ..], [one], _) | ([], _, [one]) => **one,
                _ => continue,
            };
            if matches!(
                store.seen(&source.id, &ItemId::new(&source.id, &claimant.key))?,
                Seen::Never
            ) {
                claims.insert(claimant.key.clone(), held);
            }
        }
        Ok(claims)
    }

    /// Opens the page of each new or corrected release (`[sources.article]`), one at a time so
    /// the site never sees a burst, and takes the body, and the date, picture and lead where the
    /// list page gave none (the date also where the list's has no time of day and the page's
    /// gives one on that day). A page that fails leaves the release as the list showed it: it is
    /// never held back by its article page. At the poll's deadline the page being read is cut
    /// and the pages not read yet are skipped, their releases too going out as the list showed
    /// them: the poll stores what it found rather than failing again at every retry.
    async fn follow_articles(
        &self,
        source: &Source,
        entries: &mut [(ItemId, ItemState, Scraped)],
        restored: &HashSet<ItemId>,
        deadline: Deadline,
    ) {
        let selectors = source.article.as_ref();
        // Article links come from the page, so they may lead only to public addresses, unless
        // the source itself lives on a private network (SSRF, issue 8). A link to the list
        // page's own origin reaches no further than the admin's own `url` does, so it is
        // fetched like the list page, over the same pool of connections: a site then never
        // holds more than `fetch::PER_HOST` connections from herald (issue 9).
        let mut reach = None;
        // Article pages not read (or cut) because the poll's deadline came.
        let mut skipped = 0_u64;
        for (id, state, scraped) in entries.iter_mut() {
            // A known release is not read again, unless it is back after a prune (it is stored
            // anew, as a new one is).
            if *state == ItemState::Known && !restored.contains(id) {
                continue;
            }
            if deadline.passed() {
                skipped += 1;
                continue;
            }
            let Ok(url) = Url::parse(&scraped.link) else {
                continue;
            };
            let reach = if url.origin() == source.url.origin() {
                Reach::Any
            } else {
                match reach {
                    Some(reach) => reach,
                    None => *reach.insert(if fetch::host_is_private(&source.url).await {
                        Reach::Any
                    } else {
                        Reach::Public
                    }),
                }
            };
            let fetched = deadline
                .cut(&url, self.fetch_within(source, &url, None, reach))
                .await;
            let page = match fetched {
                Ok(Some(page)) => page,
                Ok(None) => continue,
                Err(PollError::Deadline { .. }) => {
                    skipped += 1;
                    continue;
                }
                Err(e) => {
                    metrics::counter!("herald_article_failures_total", "source" => source.id.clone())
                        .increment(1);
                    tracing::warn!(source = %source.id, link = %scraped.link, error = %e, "article page not read; the release goes out with its list data");
                    continue;
                }
            };
            // Off the async workers: a big or deep page must not hold up other sources.
            let (selectors, summary_length) = (selectors.cloned(), source.summary_length);
            let reading = async move {
                let turn = reading_turn().await;
                tokio::task::spawn_blocking(move || {
                    let _turn = turn;
                    let options = extract::article::Options {
                        url: Some(&page.url),
                        selectors: selectors.as_ref(),
                        summary_length,
                    };
                    extract::article::extract_with(&page.text, &options)
                })
                .await
            };
            let article = deadline.cut(&url, async { Ok(reading.await) }).await;
            let article = match article {
                Ok(Ok(article)) => article,
                Err(_) => {
                    skipped += 1;
                    continue;
                }
                Ok(Err(e)) => {
                    // Counted where an admin looks, not only logged.
                    metrics::counter!("herald_article_failures_total", "source" => source.id.clone())
                        .increment(1);
                    tracing::error!(source = %source.id, link = %scraped.link, error = %e, "reading an article page failed (a bug); the release goes out with its list data");
                    continue;
                }
            };
            if !article.html.trim().is_empty() {
                scraped.content_html = Some(article.html);
            }
            scraped.summary = scraped.summary.take().or(article.summary);
            let article_image = match (&source.image_rewrite, article.image) {
                (Some(rewrite), Some(url)) => Some(rewrite.apply(&url)),
                (_, image) => image,
            };
            scraped.image = scraped.image.take().or(article_image);
            scraped.date = article_refined(scraped.date, article.date, source.timezone);
        }
        if skipped > 0 {
            metrics::counter!("herald_poll_deadlines_total", "source" => source.id.clone())
                .increment(1);
            metrics::counter!("herald_article_failures_total", "source" => source.id.clone())
                .increment(skipped);
            tracing::warn!(source = %source.id, skipped, deadline_secs = deadline.secs, "poll deadline reached (poll_deadline_secs): article pages not read; their releases go out with their list data");
        }
    }

    /// Turns scraped releases into items: new ones get their date and a `seq` (taken oldest
    /// first, so that the site's order survives among items of the same date); corrected ones
    /// keep their identity and first date. Known releases are read back from the store only
    /// when `read_known` (otherwise they are counted, and read only where a new release next
    /// to one needs its date or place); the second value is how many were left out of the
    /// report.
    ///
    /// A new release never sorts above a release the site lists above it with the same date
    /// (SPEC: items of the same date keep the site's list order): one whose date has no time
    /// of day (or could not be read) is dated no later than that release, and at an equal time
    /// its `seq` puts it below; one printing its own time keeps it. Stored releases are never
    /// moved.
    fn build(
        &self,
        source: &Source,
        entries: Vec<(ItemId, ItemState, Scraped)>,
        now: DateTime<Utc>,
        read_known: bool,
        restored: &HashSet<ItemId>,
    ) -> Result<(Vec<Observed>, usize), PollError> {
        let mut slots: Vec<Slot> = Vec::with_capacity(entries.len());
        // Whether each release's own date carries a time of day: that instant is kept.
        let timed: Vec<bool> = entries
            .iter()
            .map(|(_, _, s)| {
                matches!(
                    s.date,
                    Some(dates::ParsedDate::Local(_) | dates::ParsedDate::Absolute(_))
                )
            })
            .collect();
        for (id, state, s) in entries.into_iter().rev() {
            slots.push(if restored.contains(&id) {
                // Read from the page as a new release is (a fresh `seq`), reported as known,
                // with the date the feed showed before the prune when that was noted.
                let (mut item, mut undated) = self.build_one(source, id, ItemState::New, s, now)?;
                if let Some(store) = self.store()
                    && let Some(date) = store.pruned_date(&source.id, &id)?
                {
                    item.published = date;
                    item.updated = item.updated.max(date);
                    undated = false;
                }
                Slot::Built(
                    Observed {
                        state: ItemState::Known,
                        item,
                    },
                    undated,
                )
            } else if state == ItemState::Known && !read_known {
                Slot::Unread(id, s)
            } else {
                let (item, undated) = self.build_one(source, id, state, s, now)?;
                Slot::Built(Observed { state, item }, undated)
            });
        }
        slots.reverse();
        // Each release's place in the sort (published, seq) once known: a stored one's as
        // stored, a new one's once settled (top down).
        let mut places: Places = slots
            .iter()
            .map(|slot| match slot {
                Slot::Built(o, false) if o.state != ItemState::New => {
                    Some((o.item.published, o.item.seq))
                }
                _ => None,
            })
            .collect();
        // The date: no later than the release above, on a list page for one dated the same day
        // as that release by a date without a time of day (one printing its time keeps it), and for a release whose date could not be read (issue 24: it keeps
        // its place in the list) while the list is in order there (the next release below
        // with a time of its own is no newer; with none below, the one above is new too, or
        // of the same day): else the one above is a card pinned above newer ones, maybe for months, and a
        // new release must never pass for that old; it is dated when first seen. A source that reads no dates (no `date` selector) has its releases dated when
        // first seen: a new one below a known one is dated by it only within this poll's new
        // releases (the page's order among them).
        for i in 0..slots.len() {
            let Slot::Built(o, undated) = &slots[i] else {
                continue;
            };
            let (published, undated) = (o.item.published, *undated);
            if o.state != ItemState::New && !undated {
                continue;
            }
            let above = match i.checked_sub(1) {
                Some(j) => self.place_of(source, &slots, &mut places, j, now)?,
                None => None,
            };
            let capped = match above {
                Some((t, _)) if t < published => {
                    let same_date = source.kind == SourceKind::Html
                        && !timed[i]
                        && same_day(source, t, published);
                    let above_new = matches!(
                        &slots[i - 1],
                        Slot::Built(o, _) if o.state == ItemState::New
                    );
                    let reads_dates = source.kind == SourceKind::Feed
                        || source.list.as_ref().is_some_and(|l| l.date.is_some());
                    let in_order = || -> Result<bool, PollError> {
                        Ok(match self.time_below(source, &slots, i)? {
                            Some(below) => below <= t,
                            None => above_new || same_day(source, t, published),
                        })
                    };
                    let keeps_place = if reads_dates {
                        same_date || (undated && in_order()?)
                    } else {
                        undated && above_new
                    };
                    keeps_place.then_some(t)
                }
                _ => None,
            };
            if let (Some(t), Slot::Built(o, _)) = (capped, &mut slots[i]) {
                o.item.published = t;
                o.item.updated = t;
            }
            if let Slot::Built(o, _) = &slots[i] {
                places[i] = Some((o.item.published, o.item.seq));
            }
        }
        // The order at equal times: a new release at the time of the release above it takes a
        // `seq` below that one's, and above the next stored one's of the same time below it.
        if self.store().is_some() {
            for i in 1..slots.len() {
                let Slot::Built(o, _) = &slots[i] else {
                    continue;
                };
                if o.state != ItemState::New {
                    continue;
                }
                let (published, seq) = (o.item.published, o.item.seq);
                let millis = published.timestamp_millis();
                let Some((above_at, upper)) = places[i - 1] else {
                    continue;
                };
                if above_at.timestamp_millis() != millis {
                    continue;
                }
                // The new releases from this one down, and the stored one closing the run.
                let mut new_ones: u64 = 1;
                let mut lower = None;
                for j in i + 1..slots.len() {
                    let is_new =
                        matches!(&slots[j], Slot::Built(o, _) if o.state == ItemState::New);
                    let Some((at, below)) = self.place_of(source, &slots, &mut places, j, now)?
                    else {
                        break;
                    };
                    if at.timestamp_millis() != millis {
                        break;
                    }
                    if !is_new {
                        lower = Some(below);
                        break;
                    }
                    new_ones += 1;
                }
                if seq < upper && lower.is_none_or(|l| l < seq) {
                    continue;
                }
                let lower = lower.unwrap_or_else(|| upper.saturating_sub(crate::store::SEQ_GAP));
                let step = ((upper.saturating_sub(lower)) / (new_ones + 1)).max(1);
                let seq = upper.saturating_sub(step);
                if let Slot::Built(o, _) = &mut slots[i] {
                    o.item.seq = seq;
                }
                places[i] = Some((published, seq));
            }
        }
        let mut out = Vec::with_capacity(slots.len());
        let mut left_out = 0;
        for slot in slots {
            match slot {
                Slot::Unread(..) => left_out += 1,
                Slot::Built(o, _) => out.push(o),
            }
        }
        Ok((out, left_out))
    }

    /// Where release `j` of `slots` sorts (published, seq): read back from the store when it
    /// is a known release not read yet; `None` for a new one not yet settled.
    fn place_of(
        &self,
        source: &Source,
        slots: &[Slot],
        places: &mut [Option<(DateTime<Utc>, u64)>],
        j: usize,
        now: DateTime<Utc>,
    ) -> Result<Option<(DateTime<Utc>, u64)>, PollError> {
        // The releases read back, from `j` up to one with a date of its own (a release seen
        // once and no longer stored may have none: it is dated by the one above it).
        let mut chain = Vec::new();
        let mut k = j;
        while places[k].is_none() {
            let Slot::Unread(id, s) = &slots[k] else {
                break;
            };
            let (item, undated) = self.build_one(source, *id, ItemState::Known, s.clone(), now)?;
            chain.push((k, item.published, item.seq, undated));
            match k.checked_sub(1) {
                Some(above) if undated => k = above,
                _ => break,
            }
        }
        for (k, published, seq, undated) in chain.into_iter().rev() {
            let above = k.checked_sub(1).and_then(|a| places[a]);
            let published = match above {
                Some((t, _)) if undated && t < published => t,
                _ => published,
            };
            places[k] = Some((published, seq));
        }
        Ok(places[j])
    }

    /// The time of the first release below slot `i` that has one of its own: a stored
    /// release's (its date, or when it was first seen), a new one's date read from the page.
    /// `None` when there is none below.
    fn time_below(
        &self,
        source: &Source,
        slots: &[Slot],
        i: usize,
    ) -> Result<Option<DateTime<Utc>>, PollError> {
        for slot in &slots[i + 1..] {
            match slot {
                Slot::Built(o, undated) if o.state != ItemState::New || !undated => {
                    return Ok(Some(o.item.published));
                }
                Slot::Built(..) => {}
                Slot::Unread(id, _) => {
                    if let Some(store) = self.store()
                        && let Some(item) = store.item(&source.id, id)?
                    {
                        return Ok(Some(item.published));
                    }
                }
            }
        }
        Ok(None)
    }

    /// One release as this poll reports it, and whether it is undated (built from the page,
    /// which gave no date): a stored release as stored (a corrected one with the page's
    /// title, summary, body, picture and link), any other from the page.
    fn build_one(
        &self,
        source: &Source,
        id: ItemId,
        state: ItemState,
        s: Scraped,
        now: DateTime<Utc>,
    ) -> Result<(Item, bool), PollError> {
        let stored = match (state, self.store()) {
            (ItemState::New, _) | (_, None) => None,
            (_, Some(store)) => store.item(&source.id, &id)?,
        };
        if let Some(mut item) = stored {
            if state == ItemState::Changed {
                item.title = s.title;
                item.summary = s.summary;
                item.content_html = s.content_html.or(item.content_html);
                item.image = s.image.or(item.image);
                item.link = s.link;
                item.updated = now.max(item.published);
            }
            return Ok((item, false));
        }
        let published = s
            .date
            .map(|d| dates::resolve(d, source.timezone, now, now))
            .filter(|t| {
                let plausible = *t >= dates::earliest_plausible();
                if !plausible {
                    tracing::warn!(source = %source.id, link = %s.link, date = %t, "a date before 1990 counts as no date; the release is kept in the list's order, as an undated one");
                }
                plausible
            });
        // An implausible date is no date: the release keeps its place in the list, dated as
        // undated ones are, never put at the top as the newest.
        let undated = published.is_none();
        let published = published.unwrap_or(now);
        let seq = match (state, self.store()) {
            (ItemState::New, Some(store)) => store.next_seq()?,
            _ => 0,
        };
        let item = Item {
            id,
            source: source.id.clone(),
            title: s.title,
            link: s.link,
            summary: s.summary,
            content_html: s.content_html,
            image: s.image,
            language: source.language.clone(),
            published,
            updated: published,
            first_seen: now,
            seq,
        };
        Ok((item, undated))
    }
}

/// A release's date from its list card and its article page: the list's, else the article's;
/// the article's when the list's has no time of day and the article's gives one on that day in
/// the source's zone `tz` (it refines the day; on another day, the list's wins).
fn article_refined(
    list: Option<dates::ParsedDate>,
    article: Option<dates::ParsedDate>,
    tz: chrono_tz::Tz,
) -> Option<dates::ParsedDate> {
    use dates::ParsedDate::{Absolute, Day, Local};
    match (list, article) {
        (Some(Day(day)), Some(Local(t))) if t.date() == day => article,
        (Some(Day(day)), Some(Absolute(t))) if t.with_timezone(&tz).date_naive() == day => article,
        _ => list.or(article),
    }
}

/// Whether two instants fall on the same day in the source's zone.
fn same_day(source: &Source, a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    let day = |x: DateTime<Utc>| x.with_timezone(&source.timezone).date_naive();
    day(a) == day(b)
}

/// A stored release whose upstream guid/id changed while the entry did not (SPEC: an entry's
/// identity is its guid; some feeds rewrite every guid once, on a move to another platform): an
/// entry unknown under its id is that release when it is surely the same entry. That is, the
/// release is no longer in the document under its own id, and it has the entry's link, title
/// and text, and date (to the second), and no other entry of the document has that link, title
/// and text. Two real entries are never one: episodes sharing a link differ by title, a
/// recurring entry ("Weekly digest") by date; an entry without a date of its own is never
/// matched.
#[derive(Default)]
struct Renamed {
    /// The ids of the document's entries (and of the releases other entries keep).
    in_document: HashSet<ItemId>,
    /// How many entries of the document have each (link, content digest).
    twins: HashMap<(String, [u8; 8]), usize>,
    /// The source's stored releases, read when first needed.
    stored: Option<Vec<Item>>,
}

impl Renamed {
    fn of(source: &Source, scraped: &[Scraped], claims: &HashMap<String, ItemId>) -> Renamed {
        let mut renamed = Renamed::default();
        for s in scraped {
            renamed.in_document.insert(ItemId::new(&source.id, &s.key));
            let digest = content_digest(&s.title, s.summary.as_deref());
            *renamed.twins.entry((s.link.clone(), digest)).or_default() += 1;
        }
        renamed.in_document.extend(claims.values().copied());
        renamed
    }

    fn former(
        &mut self,
        store: &Store,
        source: &Source,
        s: &Scraped,
        id: ItemId,
        now_fp: [u8; 8],
        seen_ids: &HashSet<ItemId>,
    ) -> Result<Option<ItemId>, PollError> {
        let Some(date) = s.date else {
            return Ok(None);
        };
        if self.twins.get(&(s.link.clone(), now_fp)) != Some(&1)
            || !matches!(store.seen(&source.id, &id)?, Seen::Never)
        {
            return Ok(None);
        }
        let stored = match &mut self.stored {
            Some(stored) => stored,
            None => self
                .stored
                .insert(store.recent(&source.id, source.max_items)?),
        };
        let mut same = Vec::new();
        for item in stored.iter() {
            if item.link == s.link
                && dates_agree(item, date, source)
                && !self.in_document.contains(&item.id)
                && !seen_ids.contains(&item.id)
                && store.seen_digest(&source.id, &item.id)? == Some(now_fp)
            {
                same.push(item.id);
            }
        }
        let [former] = same.as_slice() else {
            return Ok(None);
        };
        tracing::info!(source = %source.id, link = %s.link, "an entry's guid changed: it stays the release stored under its former one");
        // Taken once: no other entry of this poll is matched to it.
        self.in_document.insert(*former);
        Ok(Some(*former))
    }
}

/// Entries whose guid/id a stored release had while they are another release
/// ([`Poller::reused_ids`]). Each is identified by its link: it is the stored release at that
/// address (an entry that moved to another position's guid), else a release keyed by the link.
#[derive(Default)]
struct Reused {
    /// The keys (guids/ids) that name another stored release than the entry that has them.
    keys: HashSet<String>,
    /// The ids of the document's entries that are the release stored under them: never given
    /// to another entry.
    kept: HashSet<ItemId>,
    /// The source's stored releases by address ([`whole_address`]), read when a key is reused.
    by_address: HashMap<String, Option<ItemId>>,
}

impl Reused {
    fn id_of(&self, source: &Source, s: &Scraped, seen_ids: &HashSet<ItemId>) -> Option<ItemId> {
        if !self.keys.contains(&s.key) {
            return None;
        }
        if let Some(Some(stored)) = self.by_address.get(&whole_address(&s.link))
            && !self.kept.contains(stored)
            && !seen_ids.contains(stored)
        {
            return Some(*stored);
        }
        Some(ItemId::new(&source.id, &former_key(s)))
    }
}

/// Whether a stored release and an entry under its guid/id are one release: the link's path
/// (no query, scheme or host), or the title, or the date ([`dates_agree`]) still agrees. A
/// correction changes one of them, seldom all three.
fn same_release(stored: &Item, s: &Scraped, source: &Source) -> bool {
    address_digest(&stored.link) == address_digest(&s.link)
        || stored.title.trim() == s.title.trim()
        || s.date.is_some_and(|d| dates_agree(stored, d, source))
}

/// Whether an entry's date is the one a stored release was dated by, as it read when the release
/// was first seen: resolved as of that time (a date-only entry of that day gave its first-seen
/// time, a date in the future was clamped to it), it is the stored instant;
/// a date-only one also agrees with a release stored on that day in the source's zone (dated by
/// the release above it, SPEC: items of the same date keep the site's list order).
fn dates_agree(stored: &Item, date: dates::ParsedDate, source: &Source) -> bool {
    let tz = source.timezone;
    let seen = stored.first_seen;
    dates::resolve(date, tz, seen, seen) == stored.published
        || matches!(date, dates::ParsedDate::Day(day)
            if stored.published.with_timezone(&tz).date_naive() == day)
}

/// Whether the release's text as herald read it before (see `Scraped::former_text`) is what the
/// store's digest `fp` says: then a new way of reading the page is no correction.
fn reads_as_stored(s: &Scraped, fp: [u8; 8]) -> bool {
    s.former_text
        .as_ref()
        .is_some_and(|(title, summary)| content_digest(title, summary.as_deref()) == fp)
}

/// Polls in a row with a cut walk after which a channel's first poll counts as done anyway.
const CUT_WALKS_BEFORE_BASELINE: u32 = 3;

/// How a walk through a list's pages went: pages read (or tried), and, when an error cut it
/// short, where the next poll reads on and what to report.
struct Walk {
    pages: u32,
    cut: Option<(WalkCut, String)>,
    /// It stopped at `max_pages` on a page whose releases were all new.
    capped: bool,
}

/// An older page that is not there (404, 410) or shows no release: the list has no more
/// pages (a site without `?page=N`, or one read to its end), not a fault.
fn ends_the_list(e: &PollError) -> bool {
    match e {
        PollError::Fetch {
            source: FetchError::Status(404 | 410),
            ..
        } => true,
        PollError::Extract { source, .. } => matches!(
            source,
            ExtractError::NothingMatched(_)
                | ExtractError::NoUsableItems { .. }
                | ExtractError::NoIds { .. }
        ),
        _ => false,
    }
}

/// A release of [`Poller::build`]: reported, with whether it is undated, or known and not read.
enum Slot {
    Built(Observed, bool),
    Unread(ItemId, Scraped),
}

/// Where each release of [`Poller::build`] sorts (published, seq), as far as known.
type Places = Vec<Option<(DateTime<Utc>, u64)>>;

/// What linking translations found in one poll.
#[derive(Default)]
struct Linking {
    links: Vec<(Translation, Translation)>,
    /// Links taken back: a new release tied them (see [`crate::translations::ties`]).
    unlinks: Vec<(Translation, Translation)>,
    edits: Vec<NewDelivery>,
    sources: Vec<String>,
}

/// The translation links as this poll leaves them: the stored ones, with the poll's links
/// applied as the store will apply them (a new link in a language replaces the old one, on
/// both sides).
struct LinkView<'s> {
    store: &'s Store,
    lists: HashMap<(String, ItemId), Vec<Translation>>,
}

impl<'s> LinkView<'s> {
    fn new(store: &'s Store) -> LinkView<'s> {
        LinkView {
            store,
            lists: HashMap::new(),
        }
    }

    /// The links of one release.
    fn of(&mut self, source: &str, id: &ItemId) -> Result<Vec<Translation>, StoreError> {
        let key = (source.to_owned(), *id);
        if let Some(list) = self.lists.get(&key) {
            return Ok(list.clone());
        }
        let list = self.store.translations(source, id)?;
        self.lists.insert(key, list.clone());
        Ok(list)
    }

    /// Takes back the link of `a` and `b`, on both sides.
    fn unlink(&mut self, a: &Translation, b: &Translation) -> Result<(), StoreError> {
        for (from, to) in [(a, b), (b, a)] {
            let mut list = self.of(&from.source, &from.id)?;
            list.retain(|t| !(t.source == to.source && t.id == to.id));
            self.lists.insert((from.source.clone(), from.id), list);
        }
        Ok(())
    }

    /// Links `a` and `b`, on both sides.
    fn link(&mut self, a: &Translation, b: &Translation) -> Result<(), StoreError> {
        self.add(a, b)?;
        self.add(b, a)
    }

    fn add(&mut self, from: &Translation, to: &Translation) -> Result<(), StoreError> {
        let mut list = self.of(&from.source, &from.id)?;
        for old in list
            .iter()
            .filter(|t| t.language == to.language && t.id != to.id)
        {
            let mut theirs = self.of(&old.source, &old.id)?;
            theirs.retain(|t| t.id != from.id);
            self.lists.insert((old.source.clone(), old.id), theirs);
        }
        list.retain(|t| t.language != to.language);
        list.push(to.clone());
        self.lists.insert((from.source.clone(), from.id), list);
        Ok(())
    }

    /// The links that linking `a` to `b` makes, so that their groups become one clique: each
    /// of `a` and its partners with each of `b` and its partners, but `b`'s partner in `a`'s
    /// language (`replaces`), which `a` replaces for the whole of `b`'s group (the store then
    /// unlinks it from every member). `None` when the groups disagree: a language in both with
    /// different releases, or a partner linked in the other's language to another release.
    fn joined(
        &mut self,
        a: &Translation,
        b: &Translation,
        replaces: Option<&Translation>,
    ) -> Result<Option<Vec<(Translation, Translation)>>, StoreError> {
        let mut left = vec![a.clone()];
        left.extend(
            self.of(&a.source, &a.id)?
                .into_iter()
                .filter(|t| t.language != b.language),
        );
        let mut right = vec![b.clone()];
        right.extend(
            self.of(&b.source, &b.id)?
                .into_iter()
                .filter(|t| t.language != a.language),
        );
        let same = |p: &Translation, q: &Translation| p.source == q.source && p.id == q.id;
        let mut pairs = Vec::new();
        for p in &left {
            for q in &right {
                if same(p, q) {
                    continue;
                }
                if p.language == q.language {
                    return Ok(None);
                }
                let p_has = self.of(&p.source, &p.id)?;
                let p_has = p_has.iter().find(|t| t.language == q.language);
                let q_has = self.of(&q.source, &q.id)?;
                let q_has = q_has.iter().find(|t| t.language == p.language);
                // `b`'s partner in `a`'s language is the one `a` replaces, with every member
                // of `b`'s group (`choose` and `better_for_group` allowed it).
                let replaced =
                    same(p, a) && q_has.is_some_and(|t| replaces.is_some_and(|r| same(t, r)));
                if p_has.is_some_and(|t| !same(t, q))
                    || (!replaced && q_has.is_some_and(|t| !same(t, p)))
                {
                    return Ok(None);
                }
                if p_has.is_none_or(|t| !same(t, q)) {
                    pairs.push((p.clone(), q.clone()));
                }
            }
        }
        Ok(Some(pairs))
    }
}

/// The history of names of each source of a group (see
/// [`crate::translations::NameHistory`]), read once per poll: the releases stored from
/// [`crate::translations::history`] before the poll's oldest release to a window after its
/// newest (the polled source's new releases, not stored yet, counted too).
struct NameHistories {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    of: HashMap<String, crate::translations::NameHistory>,
}

impl NameHistories {
    fn around(report: &[Observed]) -> NameHistories {
        let dates = report.iter().map(|o| o.item.published);
        let (from, to) = match (dates.clone().min(), dates.max()) {
            (Some(first), Some(last)) => (first, last),
            _ => (Utc::now(), Utc::now()),
        };
        NameHistories {
            from: from - crate::translations::history(),
            to: to + crate::translations::window(),
            of: HashMap::new(),
        }
    }

    fn of(
        &mut self,
        store: &Store,
        source: &str,
        fresh: &[&Item],
    ) -> Result<&crate::translations::NameHistory, StoreError> {
        if !self.of.contains_key(source) {
            let stored = store.published_between(source, self.from, self.to)?;
            let history =
                crate::translations::NameHistory::of(stored.iter().chain(fresh.iter().copied()));
            self.of.insert(source.to_owned(), history);
        }
        Ok(&self.of[source])
    }
}

fn translation(source: &Source, item: &Item) -> Translation {
    Translation {
        source: source.id.clone(),
        id: item.id,
        language: source.language.clone(),
        link: item.link.clone(),
    }
}

/// An edit of `item`'s post in each of its source's channels where it was posted (or is queued:
/// the edit then finds nothing to do, and the post goes out with its buttons).
fn edits_for(store: &Store, source: &Source, item: &Item) -> Result<Vec<NewDelivery>, StoreError> {
    let mut edits = Vec::new();
    for channel in &source.channels {
        if store.post_record(channel, &source.id, &item.id)?.is_some() {
            edits.push(NewDelivery {
                channel: channel.clone(),
                kind: DeliveryKind::Edit,
                item: queued_copy(item, DeliveryKind::Edit),
                items: Vec::new(),
            });
        }
    }
    Ok(edits)
}

#[derive(Default)]
struct Found {
    entries: Vec<(ItemId, ItemState, Scraped)>,
    /// What the list page shows of each entry (see `content_digest`).
    content_digests: HashMap<ItemId, [u8; 8]>,
    last_page_had_new: bool,
    /// Set when this poll reads the pages in a new way (see `reading_digest`).
    rereading: Option<Rereading>,
    /// Known releases found under their link written the former way (a site moved to https,
    /// another host, or a path's last slash): id, stored content digest, the link now, and the
    /// id its key now makes. Their stored items and addresses take the new link, announcing
    /// nothing, and the new key names them from then on (an alias, as after an `id_pattern`
    /// edit).
    relinked: Vec<(ItemId, [u8; 8], String, ItemId)>,
    /// The first page's own link to its next page (see `ListNotes::next_page`).
    next_page: Option<Url>,
    /// Known releases whose stored item `herald prune` deleted (see `Store::was_pruned`): the
    /// poll stores them again, announcing nothing.
    restored: HashSet<ItemId>,
}

/// What a poll that reads the source's pages in a new way (its reading config changed) notes
/// for the store: known releases whose text or address now reads otherwise, and releases found
/// under a new key.
#[derive(Default)]
struct Rereading {
    /// Id, content digest and link of each known release that now reads otherwise.
    reread: Vec<(ItemId, [u8; 8], String)>,
    /// New key's id -> the id the release is stored under.
    aliases: Vec<(ItemId, ItemId)>,
    /// Each stored release among `reread`, as the page now shows it: its stored item is
    /// rewritten so that the feed is not left with the former reading (see `refreshed`).
    refresh: Vec<(ItemId, Scraped)>,
    /// The source's seen releases by address, read once when first needed.
    by_address: Option<HashMap<[u8; 8], Option<ItemId>>>,
    /// The source's stored releases by whole address, read once when first needed.
    by_whole_address: Option<HashMap<String, Option<ItemId>>>,
    /// The source's stored releases by the id their link's key now makes, where it is not the
    /// one they are stored under (see `Rereading::keyed`), read once when first needed.
    by_key: Option<HashMap<ItemId, ItemId>>,
}

/// How many entries of a page share each address: by path ([`address_digest`]) and by
/// whole address, query too ([`whole_address`]).
#[derive(Default)]
struct PageAddresses {
    paths: HashMap<[u8; 8], usize>,
    whole: HashMap<String, usize>,
}

impl Rereading {
    /// The stored releases whose link the source's key rule (`id_pattern`) now keys otherwise:
    /// new id -> the id stored under. Left out: a new id that is a release seen under it, or
    /// already an alias. Two stored releases given one key (slug variants stored apart before
    /// the pattern) map to the latest stored; the other keeps its own id.
    fn keyed(
        &mut self,
        store: &Store,
        source: &Source,
    ) -> Result<&HashMap<ItemId, ItemId>, StoreError> {
        if self.by_key.is_none() {
            let mut latest: HashMap<ItemId, (u64, ItemId)> = HashMap::new();
            for item in store.stored_items(&source.id)? {
                let Ok(link) = Url::parse(&item.link) else {
                    continue;
                };
                // A feed's entry is keyed by its link only when the pattern reads it (else by
                // its own guid, which is not stored).
                let key = match source.kind {
                    SourceKind::Html => extract::item_key(&link, source.id_pattern.as_ref()),
                    _ => match source.id_pattern.as_ref() {
                        Some(re) if re.is_match(&extract::link_key(&link)) => {
                            extract::item_key(&link, Some(re))
                        }
                        _ => continue,
                    },
                };
                let new = ItemId::new(&source.id, &key);
                if new == item.id || latest.get(&new).is_some_and(|(seq, _)| *seq > item.seq) {
                    continue;
                }
                latest.insert(new, (item.seq, item.id));
            }
            let mut by_key = HashMap::new();
            for (new, (_, former)) in latest {
                if store.seen_digests(&source.id, &new)?.is_none()
                    && store.alias(&source.id, &new)?.is_none()
                {
                    by_key.insert(new, former);
                }
            }
            self.by_key = Some(by_key);
        }
        Ok(self.by_key.get_or_insert_default())
    }

    /// The release an entry unknown under its key was seen as before the edit: the one stored
    /// release at the entry's whole address (path and query), else the one seen release at its
    /// path; each only when no other entry of the page and no other release has that address,
    /// and this poll has not given it to another entry yet. The whole address first: a site
    /// that tells its releases apart by query alone (`/news.php?id=101`) shows one path for all.
    fn former(
        &mut self,
        store: &Store,
        source: &Source,
        s: &Scraped,
        id: ItemId,
        seen_ids: &HashSet<ItemId>,
        page_addresses: &PageAddresses,
    ) -> Result<Option<ItemId>, StoreError> {
        if store.seen_digests(&source.id, &id)?.is_some() {
            return Ok(None);
        }
        let free = |f: &ItemId| *f != id && !seen_ids.contains(f);
        let whole = whole_address(&s.link);
        if page_addresses.whole.get(&whole).copied().unwrap_or(0) <= 1 {
            if self.by_whole_address.is_none() {
                self.by_whole_address = Some(store.stored_by_whole_address(&source.id)?);
            }
            let former = self
                .by_whole_address
                .as_ref()
                .and_then(|map| map.get(&whole).copied().flatten())
                .filter(free);
            if former.is_some() {
                return Ok(former);
            }
        }
        let address = address_digest(&s.link);
        if page_addresses.paths.get(&address).copied().unwrap_or(0) > 1 {
            return Ok(None);
        }
        if self.by_address.is_none() {
            self.by_address = Some(store.seen_by_address(&source.id)?);
        }
        let former = self
            .by_address
            .as_ref()
            .and_then(|map| map.get(&address).copied().flatten());
        Ok(former.filter(free))
    }
}

/// The stored items of a reread poll's releases that read otherwise (`Rereading::refresh`),
/// with what the list page now shows: title, summary and address, and body and picture when
/// the page gives them (for a source with article pages, the stored summary when it gives none). A release read in a new way is no correction: it is not posted nor
/// edited on Telegram, and keeps its dates; but its feed entry must not keep the former
/// reading, else a correction made with the edit would never reach the feed (the next poll
/// compares with the new reading and finds nothing changed).
fn refreshed(
    store: &Store,
    source: &Source,
    refresh: Vec<(ItemId, Scraped)>,
) -> Result<Vec<Item>, StoreError> {
    let mut out = Vec::with_capacity(refresh.len());
    for (id, s) in refresh {
        let Some(mut item) = store.item(&source.id, &id)? else {
            continue;
        };
        item.title = s.title;
        // A release's summary is the list's, else its article page's. A reread reads the list
        // only (not the article pages of known releases): with no summary on the list, the
        // stored one (the article's) stands.
        item.summary = match source.article {
            Some(_) => s.summary.or(item.summary),
            None => s.summary,
        };
        item.content_html = s.content_html.or(item.content_html);
        item.image = s.image.or(item.image);
        item.link = s.link;
        out.push(item);
    }
    Ok(out)
}

/// Digests of a source's config as its pages are read (`SourceState::read_with`, kept as
/// `reading+fetching`). The first: what decides how a page reads into releases, how they are
/// keyed and dated (selectors, `id_pattern`, `require_id`, summary length, timezone, language,
/// image rewrite, the kind of page, the list page's path): another one makes the next poll a
/// reread, where releases that read otherwise are known, not corrections. The second: what is
/// fetched and kept (headers, filters, how many pages and items): another one makes the next poll
/// read the page even if it has not changed, nothing more. Neither counts when the source is
/// polled, where its releases go, nor the site's host (a site that moves to https or another
/// domain serves the same pages; its validators and page hash tell whether the page changed).
fn reading_digest(source: &Source) -> (String, String) {
    use sha2::{Digest, Sha256};
    let digest = |text: String| crate::text::hex(&Sha256::digest(text.as_bytes())[..16]);
    // The list page's path reads as the selectors do: a list moved to another page (its
    // releases shown otherwise there) is a reread, not a run of corrections.
    let page = &source.url[url::Position::BeforePath..];
    let reading = format!(
        "{:?}",
        (
            (source.kind, &source.list, &source.article, page),
            (&source.id_pattern, source.require_id, &source.image_rewrite),
            (&source.language, source.timezone, source.summary_length),
        )
    );
    let fetching = format!(
        "{:?}",
        (
            &source.headers,
            (&source.include, &source.exclude),
            (source.max_page_items, source.max_pages),
        )
    );
    (digest(reading), digest(fetching))
}

/// A kept `read_with` as its two digests (see `reading_digest`); one kept before they were
/// split is a reading digest alone (it differs from any new one: one reread).
fn read_with_parts(kept: &str) -> (&str, &str) {
    kept.split_once('+').unwrap_or((kept, ""))
}

/// True when a poll of `source` must read its list page even if it has not changed (no
/// conditional request, no "same body" shortcut): a channel of the source that is in the config
/// (`channels`) has had no first poll yet (a token set on an existing database, a channel added
/// later), and gets its backfill from this poll (see `plan_deliveries`). With Telegram on only.
pub fn must_read_page(store: &Store, source: &Source, channels: &[Channel]) -> bool {
    source
        .channels
        .iter()
        .filter(|c| channels.iter().any(|ch| ch.id == **c))
        .any(|c| !store.baselined(c, &source.id).unwrap_or(true))
}

fn pick(report: &[Observed], state: ItemState) -> Vec<Item> {
    report
        .iter()
        .filter(|o| o.state == state)
        .map(|o| o.item.clone())
        .collect()
}

/// Which posts and edits this poll makes due, per channel of the source, oldest first.
///
/// The first poll of a source for a channel posts only the `backfill` newest releases on the
/// page that pass the channel's filters (new or already stored: a channel added later, or a
/// token set later, starts the same way), so a first start never floods a channel. After that,
/// every new release that passes the channel's filters is posted, and every correction of a
/// release posted there edits its post. When more posts than the channel's `digest_over` are
/// due at once, they go out as one digest. The store skips posts already queued or sent.
/// Returns the deliveries, and the channels whose first poll this was (to be stored as
/// baselined with them).
pub fn plan_deliveries(
    store: &Store,
    source: &Source,
    channels: &[Channel],
    report: &[Observed],
) -> Result<(Vec<NewDelivery>, Vec<String>), StoreError> {
    let mut deliveries = Vec::new();
    let mut baselines = Vec::new();
    // Newest first by date, the page's order breaking ties (as the feeds order them): a site
    // may list its releases oldest first, and the backfill is the newest by date all the same.
    let mut by_date: Vec<&Observed> = report.iter().collect();
    by_date.sort_by_key(|o| std::cmp::Reverse(o.item.published));
    for id in &source.channels {
        // A channel missing from the config (only possible mid-reload) gets the default.
        let channel = channels.iter().find(|c| &c.id == id);
        let wanted = |o: &&Observed| channel.is_none_or(|c| channel_passes(c, &o.item));
        if let Some(channel) = channel {
            count_filtered(store, source, channel, &by_date)?;
        }
        let mut due: Vec<(DeliveryKind, &Item)> = if store.baselined(id, &source.id)? {
            let mut due = Vec::new();
            for &o in &by_date {
                match o.state {
                    ItemState::New if wanted(&o) => due.push((DeliveryKind::Post, &o.item)),
                    // Only where the release was posted, listed in a digest message, or is
                    // queued: one filtered out of the channel stays out of it. A queued post
                    // may have been read and formatted already, waiting for its turn (a 429,
                    // the per-minute limit): the edit, queued behind it, carries the
                    // correction; when the post carried it already, Telegram answers "not
                    // modified" and the edit is done. A digest message's edit rewrites its
                    // line of the release.
                    ItemState::Changed
                        if store.post_record(id, &source.id, &o.item.id)?.is_some() =>
                    {
                        due.push((DeliveryKind::Edit, &o.item));
                    }
                    _ => {}
                }
            }
            due
        } else {
            baselines.push(id.clone());
            // A known release no longer in the feed (past `max_items`) is none of the newest:
            // its post record may have been swept since it was posted (`Store::sweep_posts`), and
            // posting it again would post it twice.
            let mut due = Vec::new();
            for o in by_date.iter().copied().filter(wanted) {
                if due.len() >= source.backfill as usize {
                    break;
                }
                if o.state == ItemState::Known && !store.stored(&source.id, &o.item.id)? {
                    continue;
                }
                due.push((DeliveryKind::Post, &o.item));
            }
            due
        };
        // Telegram gets the oldest first.
        due.reverse();
        let digest_over = channel.and_then(|c| c.digest_over);
        deliveries.extend(into_deliveries(id, &due, digest_over));
    }
    Ok((deliveries, baselines))
}

/// How many new releases in a row a channel's filters may keep out of it before herald warns
/// that they may pass nothing at all (a mistyped word, an `exclude` that matches everything).
pub const FILTERED_WARN: u64 = 20;

/// Counts the new releases of `by_date` (newest first) that `channel`'s own filters keep out of
/// it: `herald_posts_filtered_total{channel}`, the channel's stored state (`filtered`, and
/// `filtered_in_a_row` since the last release that passed), a line at info, and a warning
/// when the filters have kept out each of the last [`FILTERED_WARN`] new releases. A filter
/// that passes nothing otherwise looks like a quiet channel.
fn count_filtered(
    store: &Store,
    source: &Source,
    channel: &Channel,
    by_date: &[&Observed],
) -> Result<(), StoreError> {
    if channel.include.is_empty() && channel.exclude.is_empty() {
        return Ok(());
    }
    let new: Vec<bool> = by_date
        .iter()
        .filter(|o| o.state == ItemState::New)
        .map(|o| channel_passes(channel, &o.item))
        .collect();
    let filtered = new.iter().filter(|p| !**p).count() as u64;
    if filtered == 0 && new.is_empty() {
        return Ok(());
    }
    // Kept out after (newer than) the newest release that passed, or all of them.
    let newest_kept_out = new.iter().take_while(|p| !**p).count() as u64;
    let any_passed = new.iter().any(|p| *p);
    // The closure may run again when another writer changed the state meanwhile: the last
    // run's reading counts.
    let before = std::cell::Cell::new(0);
    let state = store.update_channel_state(&channel.id, |st| {
        before.set(st.filtered_in_a_row);
        st.filtered += filtered;
        st.filtered_in_a_row = if any_passed {
            newest_kept_out
        } else {
            st.filtered_in_a_row + filtered
        };
    })?;
    if filtered > 0 {
        metrics::counter!("herald_posts_filtered_total", "channel" => channel.id.clone())
            .increment(filtered);
        tracing::info!(channel = %channel.id, source = %source.id, filtered, in_a_row = state.filtered_in_a_row, "new releases kept out of the channel by its include/exclude");
    }
    if state.filtered_in_a_row >= FILTERED_WARN && before.get() < FILTERED_WARN {
        tracing::warn!(channel = %channel.id, in_a_row = state.filtered_in_a_row, "the channel's include/exclude kept out each of its last {} new releases: check that they can pass anything", state.filtered_in_a_row);
    }
    Ok(())
}

/// The deliveries of one channel for `due` (oldest first): a post or an edit each, except that
/// more than `digest_over` posts become one digest (queued where the first of them would be;
/// edits stay edits).
fn into_deliveries(
    channel: &str,
    due: &[(DeliveryKind, &Item)],
    digest_over: Option<usize>,
) -> Vec<NewDelivery> {
    let posts: Vec<Item> = due
        .iter()
        .filter(|(kind, _)| *kind == DeliveryKind::Post)
        .map(|(_, item)| queued_copy(item, DeliveryKind::Digest))
        .collect();
    let digest = digest_over.is_some_and(|n| posts.len() > n);
    let mut out = Vec::with_capacity(due.len());
    let mut posts = Some(posts);
    for (kind, item) in due {
        match kind {
            DeliveryKind::Post if digest => {
                if let Some(items) = posts.take() {
                    out.push(NewDelivery::digest(channel, items));
                }
            }
            _ => out.push(NewDelivery {
                channel: channel.to_owned(),
                kind: *kind,
                item: queued_copy(item, *kind),
                items: Vec::new(),
            }),
        }
    }
    out
}

/// The copy of an item a delivery carries: its body only when the post's lead has to come
/// from it (no summary); a digest lists titles and links only. A body is most of an item's
/// bytes, and each queued copy is written, rewritten (in flight) and deleted: at 300,000
/// deliveries that was gigabytes of sled log (benches/store_scale).
pub fn queued_copy(item: &Item, kind: DeliveryKind) -> Item {
    let mut copy = item.clone();
    if kind == DeliveryKind::Digest || !crate::telegram::format::lead_needs_body(item) {
        copy.content_html = None;
    }
    copy
}

/// Whether a release passes a channel's own `include` / `exclude`, read on the stored title
/// and summary (a summary taken from the article page counts, unlike for a source's filters,
/// which pick releases off the list page before any article is read).
pub fn channel_passes(channel: &Channel, item: &Item) -> bool {
    channel.admits(&item.title, item.summary.as_deref())
}

/// Keeps the newest `max_new_per_poll` new items of `report` (by date, the page's order breaking
/// ties: a site may list oldest first) and takes out the rest, which the store only remembers
/// as seen: a list page of 100,000 cards stores and announces a bounded number, and never the
/// rest later. `stores` says whether this poll stores anything (a dry run does not), for the
/// warning's words.
fn cap_new(report: &mut Vec<Observed>, source: &Source, stores: bool) -> Vec<Item> {
    let mut new: Vec<(usize, DateTime<Utc>)> = report
        .iter()
        .enumerate()
        .filter(|(_, o)| o.state == ItemState::New)
        .map(|(i, o)| (i, o.item.published))
        .collect();
    if new.len() <= source.max_new_per_poll {
        return Vec::new();
    }
    new.sort_by_key(|&(_, at)| std::cmp::Reverse(at));
    let out: HashSet<usize> = new[source.max_new_per_poll..]
        .iter()
        .map(|&(i, _)| i)
        .collect();
    let mut cut = Vec::new();
    let mut at = 0;
    report.retain(|o| {
        let keep = !out.contains(&at);
        at += 1;
        if !keep {
            cut.push(o.item.clone());
        }
        keep
    });
    if stores {
        tracing::warn!(source = %source.id, stored = source.max_new_per_poll, skipped = cut.len(), "more new items than max_new_per_poll: the older ones are remembered as seen and never announced");
    } else {
        tracing::warn!(source = %source.id, max_new_per_poll = source.max_new_per_poll, over = cut.len(), "more new items than max_new_per_poll: a real poll would store and announce the newest of them only, and remember the older ones as seen");
    }
    cut
}

/// [`read_list`] of a fetched page, off the async workers (parsing is CPU work that grows with
/// the page: other sources, the server and the signals must not wait for it).
/// Returns the releases and what the reading noticed (see [`read_list_counted`]).
/// The page's text moves into the parse (not copied), and a large page's slot is freed when
/// the parse ends (see `fetch::LARGE_PAGES`).
async fn scrape(source: &Source, page: &mut Page) -> Result<(Vec<Scraped>, ListNotes), PollError> {
    let (source, url) = (source.clone(), page.url.clone());
    let (text, large) = (std::mem::take(&mut page.text), page.large.take());
    let turn = reading_turn().await;
    tokio::task::spawn_blocking(move || {
        let (_large, _turn) = (large, turn);
        let mut notes = ListNotes::default();
        read_list_counted(&source, &text, &url, Utc::now(), &mut notes)
            .map(|scraped| (scraped, notes))
    })
    .await
    .unwrap_or_else(|e| {
        let message = match e.try_into_panic() {
            Ok(payload) => crate::supervise::panic_message(payload.as_ref()),
            Err(e) => e.to_string(),
        };
        Err(PollError::Panicked(message))
    })
}

/// A turn to read a page (build its tree and take what it holds): at most one page per core is
/// read at once, however many polls are waiting. Reading is CPU work, so more at once would not
/// go faster, and each page read holds its tree: with 10,000 sources on 100 sites, 200 polls
/// reading at once (two per site) held 585 MB at the first round.
async fn reading_turn() -> tokio::sync::OwnedSemaphorePermit {
    static READING: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
        std::sync::LazyLock::new(|| {
            let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
            std::sync::Arc::new(tokio::sync::Semaphore::new(cores))
        });
    READING
        .clone()
        .acquire_owned()
        .await
        .expect("the semaphore is never closed")
}

/// What reading one list page or feed noticed besides its releases.
#[derive(Clone, Debug, Default)]
pub struct ListNotes {
    /// Entries of an upstream feed skipped for having neither a link nor any text.
    pub skipped: usize,
    /// `(link, text)` of list dates that could not be read: those releases are dated by the
    /// release listed above them (when first seen, if that one is out of the list's order),
    /// never silently as new.
    pub unreadable_dates: Vec<(String, String)>,
    /// Cards of a list page not read as releases, with why.
    pub skipped_cards: Vec<extract::html::SkippedCard>,
    /// Links of the releases `require_id` left out (no id in the link).
    pub no_id: Vec<String>,
    /// Entries of an upstream feed identified otherwise because other entries share their
    /// guid/id: that id, by their key.
    pub shared_ids: HashMap<String, String>,
    /// The page an upstream feed names as its site's (its alternate link), if any.
    pub site: Option<Url>,
    /// A list page's own link to its next page (`rel="next"`), followed by the walk of the
    /// older pages instead of `?page=N` when there is one.
    pub next_page: Option<Url>,
}

/// The releases a list page (or an upstream feed) of `source` shows, as of `now`, with the
/// source's own rules applied: `require_id` drops items whose link carries no id, and
/// `image_rewrite` turns each image URL into the one to show.
pub fn read_list(
    source: &Source,
    text: &str,
    url: &Url,
    now: DateTime<Utc>,
) -> Result<Vec<Scraped>, PollError> {
    read_list_counted(source, text, url, now, &mut ListNotes::default())
}

/// [`read_list`], also noting in `notes` the entries of an upstream feed that were skipped for
/// having neither a link nor any text, and the list dates that could not be read.
pub fn read_list_counted(
    source: &Source,
    text: &str,
    url: &Url,
    now: DateTime<Utc>,
    notes: &mut ListNotes,
) -> Result<Vec<Scraped>, PollError> {
    // A test hook (tests/supervision.rs): the supervisor's tests need a poll that panics.
    if std::env::var_os("HERALD_TEST_PANIC_IN_POLL").is_some_and(|id| id == *source.id) {
        panic!("planted by HERALD_TEST_PANIC_IN_POLL");
    }
    let result = match (&source.kind, &source.list) {
        (SourceKind::Html, Some(list)) => {
            if let Some(depth) = extract::depth::too_deep(text) {
                return Err(PollError::Extract {
                    url: without_userinfo(url),
                    source: extract::ExtractError::TooDeep { depth },
                });
            }
            let reading = extract::html::Reading {
                now,
                tz: source.timezone,
                max_items: source.max_page_items,
                month_first: dates::month_first_region(&source.language, Some(source.timezone)),
            };
            let max = extract::elements::MAX_ELEMENTS;
            let text = match extract::elements::cut_after(text, max) {
                Some(cut) => {
                    tracing::warn!(source = %source.id, url = %without_userinfo(url), max_elements = max, read_bytes = cut, bytes = text.len(), "the list page has more elements than are read; the rest of it is left unread");
                    &text[..cut]
                }
                None => text,
            };
            extract::html::list_page_read(text, url, list, source.id_pattern.as_ref(), reading)
                .map(|read| {
                    notes.unreadable_dates = read.unreadable_dates;
                    notes.next_page = read.next_page;
                    // A card shown twice (a featured card and its place in the list) is one
                    // release, not a selector to fix: said at debug level, and not reported.
                    let (twice, skipped): (Vec<_>, Vec<_>) = read
                        .skipped
                        .into_iter()
                        .partition(|card| card.why == extract::html::SkipReason::Duplicate);
                    if let Some(first) = twice.first() {
                        tracing::debug!(source = %source.id, url = %without_userinfo(url), cards = twice.len(), example = %first, "list cards showing a release twice");
                    }
                    if let Some(first) = skipped.first() {
                        tracing::warn!(source = %source.id, url = %without_userinfo(url), skipped = skipped.len(), example = %first, "list cards skipped");
                    }
                    notes.skipped_cards = skipped;
                    read.items
                })
        }
        _ => extract::feed::feed_entries(
            text,
            url,
            source.id_pattern.as_ref(),
            source.max_page_items,
        )
        .map(|read| {
            if read.skipped > 0 {
                tracing::warn!(source = %source.id, skipped = read.skipped, "feed entries with neither a link nor any text skipped");
            }
            notes.skipped = read.skipped;
            notes.unreadable_dates = read.unreadable_dates;
            notes.shared_ids = read.shared_ids;
            notes.site = read.site;
            let mut all = read.entries;
            all.truncate(source.max_page_items);
            all
        }),
    };
    let mut scraped = result.map_err(|source| PollError::Extract {
        url: without_userinfo(url),
        source,
    })?;
    if let (true, Some(pattern)) = (source.require_id, &source.id_pattern) {
        // `require_id`: a card whose link carries no id is not a release (akorda.kz lists a
        // card for officials' asset declarations among its releases).
        let found = scraped.len();
        let mut no_id = Vec::new();
        scraped.retain(|s| {
            // Exactly the cards the pattern keyed: it read the link in the form keys are made
            // from (`extract::link_key`), which may differ from the link shown.
            let release = s.key.starts_with("id:");
            if !release {
                no_id.push(s.link.clone());
            }
            release
        });
        // Leaving such cards out is what `require_id` is for: no warning in the log on every
        // poll, but the poll's report (and `herald poll`) says how many, with an example.
        if let Some(first) = no_id.first() {
            tracing::debug!(source = %source.id, url = %without_userinfo(url), cards = no_id.len(), example = %first, "cards left out by require_id (no id in the link)");
        }
        // Every card skipped is no quiet day: the addresses changed (a redesign).
        if found > 0 && scraped.is_empty() {
            return Err(PollError::Extract {
                url: without_userinfo(url),
                source: ExtractError::NoIds {
                    found,
                    pattern: pattern.as_str().to_owned(),
                },
            });
        }
        // A card that is not a release has no date to warn about.
        notes
            .unreadable_dates
            .retain(|(link, _)| scraped.iter().any(|s| &s.link == link));
        notes.no_id = no_id;
    }
    if let Some(rewrite) = &source.image_rewrite {
        for s in &mut scraped {
            s.image = s.image.take().map(|url| rewrite.apply(&url));
        }
    }
    // A title is a line, not a page: one of megabytes (a broken site, an entity bomb's text)
    // would be stored, put in every feed and post. Cut at a word, with a warning.
    for s in &mut scraped {
        if let Some(cut) = cut_title(&s.title, MAX_TITLE_CHARS) {
            tracing::warn!(source = %source.id, link = %s.link, chars = s.title.chars().count(), max = MAX_TITLE_CHARS, "a release's title is longer than a title can be; it is cut");
            s.title = cut;
        }
    }
    Ok(scraped)
}

/// The longest title kept, in characters (README "Limits").
pub const MAX_TITLE_CHARS: usize = 2000;

/// `title` cut to at most `max` characters at a word, with an ellipsis; `None` when it fits.
fn cut_title(title: &str, max: usize) -> Option<String> {
    let (limit, _) = title.char_indices().nth(max)?;
    // Room for the ellipsis: the cut is at the last space before the limit's last character.
    let room = title[..limit].char_indices().last().map_or(0, |(i, _)| i);
    let head = &title[..room];
    let at = head
        .rfind(char::is_whitespace)
        .filter(|&i| i > 0)
        .unwrap_or(room);
    Some(format!("{}…", title[..at].trim_end()))
}

/// How a key that is an http(s) link may have been written before its site changed how it
/// writes links: with the other of http and https, with its path's last slash added or removed,
/// on its host with or without `www.`, or on `home` (the source's configured host, when a list
/// page now redirects to another), or several of these. Each with whether it names the same
/// release only if its text is the same (`true` for the home host: two sites may both have a
/// `/news/5`; `www.` added or dropped is the same site, where a correction made with the move
/// is a correction). Nothing for a key that is no link (a guid that is no address, an `id_pattern`
/// capture) or whose path is the site's root.
fn moved_keys(key: &str, home: Option<&str>) -> Vec<(String, bool)> {
    let Some((scheme, rest)) = key.split_once("://") else {
        return Vec::new();
    };
    let other_scheme = match scheme {
        "http" => "https",
        "https" => "http",
        _ => return Vec::new(),
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, path) = rest.split_at(host_end);
    let mut hosts = vec![(host.to_owned(), false)];
    let www = match host.strip_prefix("www.") {
        Some(bare) => bare.to_owned(),
        None => format!("www.{host}"),
    };
    hosts.push((www, false));
    if let Some(home) = home.filter(|h| !h.eq_ignore_ascii_case(host)) {
        hosts.push((home.to_owned(), true));
    }
    let mut paths = vec![path.to_owned()];
    if let Some(toggled) = slash_toggled(key) {
        paths.push(toggled.split_at(scheme.len() + 3 + host_end).1.to_owned());
    }
    let mut out = Vec::new();
    for (h, other_host) in &hosts {
        for p in &paths {
            for sc in [scheme, other_scheme] {
                let k = format!("{sc}://{h}{p}");
                if k != key && !out.iter().any(|(o, _)| o == &k) {
                    out.push((k, *other_host));
                }
            }
        }
    }
    out
}

/// A link with its path's last slash removed (`/a/` → `/a`) or added (`/a` → `/a/`); `None`
/// for a site's root or what is no link.
fn slash_toggled(link: &str) -> Option<String> {
    let (scheme, rest) = link.split_once("://")?;
    let path_start = rest.find('/')?;
    let path_end = rest.find(['?', '#']).unwrap_or(rest.len());
    if path_end <= path_start + 1 {
        return None;
    }
    let (before, after) = rest.split_at(path_end);
    let path = match before.strip_suffix('/') {
        Some(without) => without.to_owned(),
        None => format!("{before}/"),
    };
    Some(format!("{scheme}://{path}{after}"))
}

/// Whether a stored address digest is a link's path, with or without its last slash.
fn same_path(address: Digest8, link: &str) -> bool {
    address == address_digest(link)
        || slash_toggled(link).is_some_and(|other| address == address_digest(&other))
}

/// The key an upstream feed's entry had before issue 20: its link, canonical (no fragment).
fn former_key(s: &Scraped) -> String {
    Url::parse(&s.link)
        .ok()
        .and_then(|url| extract::canonical_link(&url, url.as_str()))
        .map_or_else(|| s.link.clone(), |url| extract::link_key(&url))
}

/// The list page's `n`-th page: its URL with `page=n` set in the query.
pub fn page_url(base: &Url, n: u32) -> Url {
    let mut url = base.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("page", &n.to_string());
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("http://ex.org/a", None, &[
        ("https://ex.org/a", false), ("http://ex.org/a/", false), ("https://ex.org/a/", false),
        ("http://www.ex.org/a", false), ("https://www.ex.org/a", false),
        ("http://www.ex.org/a/", false), ("https://www.ex.org/a/", false),
    ])]
    #[case("https://www.ex.org/a/?x=1#f", Some("ex.org"), &[
        ("http://www.ex.org/a/?x=1#f", false), ("https://www.ex.org/a?x=1#f", false),
        ("http://www.ex.org/a?x=1#f", false),
        ("https://ex.org/a/?x=1#f", false), ("http://ex.org/a/?x=1#f", false),
        ("https://ex.org/a?x=1#f", false), ("http://ex.org/a?x=1#f", false),
    ])]
    #[case("https://new.kz/", Some("old.kz"), &[
        ("http://new.kz/", false), ("https://www.new.kz/", false), ("http://www.new.kz/", false),
        ("https://old.kz/", true), ("http://old.kz/", true),
    ])]
    #[case("https://ex.org?x=/y", Some("ex.org"), &[
        ("http://ex.org?x=/y", false), ("https://www.ex.org?x=/y", false),
        ("http://www.ex.org?x=/y", false),
    ])]
    #[case("urn:uuid:1", Some("ex.org"), &[])]
    #[case("news-101", None, &[])]
    fn a_link_key_may_have_been_written_another_way(
        #[case] key: &str,
        #[case] home: Option<&str>,
        #[case] want: &[(&str, bool)],
    ) {
        let got: HashSet<(String, bool)> = moved_keys(key, home).into_iter().collect();
        let want: HashSet<(String, bool)> =
            want.iter().map(|(k, h)| ((*k).to_owned(), *h)).collect();
        assert_eq!(got, want);
    }

    fn item(n: u8) -> Item {
        let at: DateTime<Utc> = "2026-03-01T12:00:00Z".parse().unwrap();
        let link = format!("https://example.org/{n}");
        Item {
            id: ItemId::new("s", &link),
            source: "s".into(),
            title: format!("Title {n}"),
            link,
            summary: None,
            content_html: None,
            image: None,
            language: "en".into(),
            published: at,
            updated: at,
            first_seen: at,
            seq: n.into(),
        }
    }

    /// `max_new_per_poll` keeps the newest by date, whatever the page's order (here oldest
    /// first), the page's order breaking ties; the rest is only remembered.
    #[test]
    fn the_cap_keeps_the_newest_by_date() {
        let text = "[[sources]]\nid = \"s\"\nurl = \"https://example.org/\"\n\
                    schedule = \"0 */10 * * * *\"\nkind = \"feed\"\nmax_new_per_poll = 2\n";
        let mut config = crate::config::parse(
            std::path::Path::new("c.toml"),
            text,
            std::path::Path::new("/"),
        )
        .expect("valid source");
        let source = config.sources.remove(0);
        let dated = |n: u8, day: u32| Observed {
            state: ItemState::New,
            item: Item {
                published: chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, day, 12, 0, 0)
                    .unwrap(),
                ..item(n)
            },
        };
        // Oldest first; 3 and 4 share a day (the page's order, 3 above 4, breaks the tie).
        let mut report = vec![dated(1, 1), dated(2, 2), dated(3, 5), dated(4, 5)];
        let cut = cap_new(&mut report, &source, true);
        let kept: Vec<&str> = report.iter().map(|o| o.item.title.as_str()).collect();
        assert_eq!(kept, ["Title 3", "Title 4"]);
        let cut: Vec<&str> = cut.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(cut, ["Title 1", "Title 2"]);
        let mut report = vec![dated(1, 1), dated(2, 2), dated(3, 2)];
        cap_new(&mut report, &source, false);
        let kept: Vec<&str> = report.iter().map(|o| o.item.title.as_str()).collect();
        assert_eq!(kept, ["Title 2", "Title 3"]);
    }

    #[rstest]
    #[case::no_digest_configured(None, "PPEP")]
    #[case::at_the_threshold(Some(3), "PPEP")]
    #[case::over_the_threshold(Some(2), "D3E")]
    #[case::threshold_one(Some(1), "D3E")]
    fn posts_over_the_threshold_become_one_digest(
        #[case] digest_over: Option<usize>,
        #[case] expected: &str,
    ) {
        let items: Vec<Item> = (1..=4).map(item).collect();
        let kinds = [
            DeliveryKind::Post,
            DeliveryKind::Post,
            DeliveryKind::Edit,
            DeliveryKind::Post,
        ];
        let due: Vec<(DeliveryKind, &Item)> = kinds.into_iter().zip(&items).collect();
        let shape: String = into_deliveries("c", &due, digest_over)
            .iter()
            .map(|d| match d.kind {
                DeliveryKind::Post => "P".to_owned(),
                DeliveryKind::Edit => "E".to_owned(),
                DeliveryKind::Digest => format!("D{}", d.items.len()),
            })
            .collect();
        assert_eq!(shape, expected);
    }

    /// A release as a list page shows it.
    fn scraped(link: &str, date: Option<dates::ParsedDate>) -> Scraped {
        Scraped {
            key: link.into(),
            title: format!("Title of {link}"),
            link: link.into(),
            date,
            summary: None,
            content_html: None,
            image: None,
            former_text: None,
        }
    }

    /// A poll that does not report known releases (a scheduled one) leaves them unread, yet a
    /// new release without a date is still dated by the release listed above it: the known
    /// ones above it are read back then, up to one that has a date of its own (issue 23). Every
    /// release it reports is the same as when all are read. Below a release out of the list's
    /// order (older than the next one below: a pinned card), it is dated when first seen.
    #[tokio::test]
    async fn known_releases_are_read_back_only_for_an_undated_release_below() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let text = "[[sources]]\nid = \"s\"\nurl = \"https://example.org/\"\n\
                    schedule = \"0 0 * * * *\"\ntimezone = \"UTC\"\n[sources.list]\n\
                    item = \"div\"\ntitle = \"h3\"\nlink = \"a@href\"\ndate = \"h5\"\n";
        let config = crate::config::parse(std::path::Path::new("c.toml"), text, dir.path())
            .expect("valid source");
        let source = &config.sources[0];
        let fetcher = Fetcher::new(Default::default()).unwrap();
        let poller = Poller::new(&fetcher, &config, "s", Mode::Live(&store), false);
        let link = |n: u8| format!("https://example.org/{n}");
        let stored = |n: u8, at: &str| {
            let mut item = item(n);
            item.id = ItemId::new("s", &link(n));
            item.source = "s".into();
            item.link = link(n);
            item.published = at.parse().unwrap();
            item
        };
        // Stored: 1 (1 March) and 4 (1 February); 2 was seen once and is no longer stored.
        let (one, four) = (
            stored(1, "2026-03-01T08:00:00Z"),
            stored(4, "2026-02-01T08:00:00Z"),
        );
        let seen_only = [stored(2, "2026-03-02T08:00:00Z")];
        let digests = HashMap::new();
        store
            .commit(&Commit {
                source: "s",
                new: &[one.clone(), four.clone()],
                corrected: &[],
                deliveries: &[],
                baselines: &[],
                content_digests: &digests,
                max_items: 100,
                links: &[],
                unlinks: &[],
                seen_only: &seen_only,
                restored: &[],
            })
            .await
            .unwrap();
        let day = |d: u32| {
            Some(dates::ParsedDate::Day(
                chrono::NaiveDate::from_ymd_opt(2026, 1, d).unwrap(),
            ))
        };
        // The page, newest first: 1 known; 2 known (seen only, no date); 3 new without a
        // date; 4 known; 5 new, 15 January; 6 new without a date.
        let page = || {
            let entry =
                |n: u8, state, date| (ItemId::new("s", &link(n)), state, scraped(&link(n), date));
            vec![
                entry(1, ItemState::Known, None),
                entry(2, ItemState::Known, None),
                entry(3, ItemState::New, None),
                entry(4, ItemState::Known, day(20)),
                entry(5, ItemState::New, day(15)),
                entry(6, ItemState::New, None),
            ]
        };
        let now: DateTime<Utc> = "2026-04-01T00:00:00Z".parse().unwrap();
        let (all, left_out) = poller
            .build(source, page(), now, true, &HashSet::new())
            .unwrap();
        assert_eq!(left_out, 0);
        let as_stored = |item: &Item| store.item("s", &item.id).unwrap().unwrap();
        assert_eq!(all[0].item, as_stored(&one), "a known release as stored");
        assert_eq!(all[3].item, as_stored(&four));
        let (some, left_out) = poller
            .build(source, page(), now, false, &HashSet::new())
            .unwrap();
        assert_eq!(left_out, 3, "the known releases are counted");
        let shown = |report: &[Observed]| -> Vec<(ItemId, ItemState, DateTime<Utc>)> {
            report
                .iter()
                .filter(|o| o.state == ItemState::New)
                .map(|o| (o.item.id, o.state, o.item.published))
                .collect()
        };
        assert_eq!(shown(&some), shown(&all));
        assert_eq!(some.len(), 3, "only the new releases are reported");
        // 3 is dated by 1 (through 2, which has no date either), 6 by 5.
        assert_eq!(some[0].item.published, one.published);
        assert_eq!(
            some[2].item.published.to_rfc3339(),
            "2026-01-15T00:00:00+00:00"
        );
        // 4 (1 February) pinned above 3 and 1 (1 March): 3 is dated when first seen.
        let pinned = vec![
            (
                ItemId::new("s", &link(4)),
                ItemState::Known,
                scraped(&link(4), None),
            ),
            (
                ItemId::new("s", &link(3)),
                ItemState::New,
                scraped(&link(3), None),
            ),
            (
                ItemId::new("s", &link(1)),
                ItemState::Known,
                scraped(&link(1), None),
            ),
        ];
        let (some, _) = poller
            .build(source, pinned, now, false, &HashSet::new())
            .unwrap();
        assert_eq!(some[0].item.published, now);
        // All new, a card of 1 January above one of 20 January: the undated one between them
        // is not dated 1 January (the card is out of the list's order).
        let new = |n: u8, date| {
            (
                ItemId::new("s", &link(n)),
                ItemState::New,
                scraped(&link(n), date),
            )
        };
        let page = vec![new(7, day(1)), new(8, None), new(9, day(20))];
        let (some, _) = poller
            .build(source, page, now, false, &HashSet::new())
            .unwrap();
        assert_eq!(some[1].item.published, now);
    }

    /// A release printing its own time keeps it, also under a release of the same day (SPEC:
    /// items of the same date keep the site's list order; the cap is for dates without a time
    /// of day): cards of 09:00, 12:00 and 18:00 on one day stay at those times, while a
    /// date-only card of that day below them, first seen later, is dated by the one above.
    #[test]
    fn a_printed_time_is_kept_under_a_release_of_the_same_day() {
        let dir = tempfile::tempdir().unwrap();
        let text = "[[sources]]\nid = \"s\"\nurl = \"https://example.org/\"\n\
                    schedule = \"0 0 * * * *\"\ntimezone = \"Asia/Almaty\"\n[sources.list]\n\
                    item = \"div\"\ntitle = \"h3\"\nlink = \"a@href\"\ndate = \"h5\"\n";
        let config = crate::config::parse(std::path::Path::new("c.toml"), text, dir.path())
            .expect("valid source");
        let source = &config.sources[0];
        let fetcher = Fetcher::new(Default::default()).unwrap();
        let poller = Poller::new(&fetcher, &config, "s", Mode::DryRun, false);
        let at = |d: u32, h: u32| {
            Some(dates::ParsedDate::Local(
                chrono::NaiveDate::from_ymd_opt(2026, 12, d)
                    .unwrap()
                    .and_hms_opt(h, 0, 0)
                    .unwrap(),
            ))
        };
        let day = Some(dates::ParsedDate::Day(
            chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
        ));
        let link = |n: u8| format!("https://example.org/{n}");
        let page = [at(7, 9), at(7, 12), at(7, 18), day, at(6, 20)]
            .into_iter()
            .zip(1..)
            .map(|(date, n)| {
                (
                    ItemId::new("s", &link(n)),
                    ItemState::New,
                    scraped(&link(n), date),
                )
            })
            .collect();
        // 7 December, 20:00 in Almaty.
        let now: DateTime<Utc> = "2026-12-07T15:00:00Z".parse().unwrap();
        let (built, _) = poller
            .build(source, page, now, true, &HashSet::new())
            .unwrap();
        let dates: Vec<String> = built
            .iter()
            .map(|o| {
                o.item
                    .published
                    .with_timezone(&source.timezone)
                    .format("%d %H:%M")
                    .to_string()
            })
            .collect();
        assert_eq!(
            dates,
            ["07 09:00", "07 12:00", "07 18:00", "07 18:00", "06 20:00"]
        );
    }

    /// A date is compared with a stored release's as it read when first seen: a date-only one
    /// of that day (dated when first seen, or by the release above it on a list page), one in
    /// the future then (clamped to that time); another day or another time never agrees.
    #[test]
    fn a_date_agrees_with_the_release_it_dated_when_first_seen() {
        let dir = tempfile::tempdir().unwrap();
        let text = "[[sources]]\nid = \"s\"\nurl = \"https://example.org/\"\n\
                    schedule = \"0 0 * * * *\"\ntimezone = \"Asia/Almaty\"\nkind = \"feed\"\n";
        let config = crate::config::parse(std::path::Path::new("c.toml"), text, dir.path())
            .expect("valid source");
        let source = &config.sources[0];
        let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
        let stored = |published: &str, first_seen: &str| Item {
            published: at(published),
            first_seen: at(first_seen),
            ..item(1)
        };
        let day =
            |d: u32| dates::ParsedDate::Day(chrono::NaiveDate::from_ymd_opt(2026, 12, d).unwrap());
        let instant = |t: &str| dates::ParsedDate::Absolute(at(t).fixed_offset());
        // First seen 8 December, 00:56 in Almaty.
        let seen = "2026-12-07T19:56:00Z";
        assert!(dates_agree(&stored(seen, seen), day(8), source));
        // Dated by the release above it, 8 December 00:20.
        let capped = stored("2026-12-07T19:20:00Z", seen);
        assert!(dates_agree(&capped, day(8), source));
        assert!(!dates_agree(&capped, day(7), source));
        assert!(dates_agree(
            &stored(seen, seen),
            instant("2026-12-07T23:00:00Z"),
            source
        ));
        assert!(!dates_agree(
            &capped,
            instant("2026-12-07T19:21:00Z"),
            source
        ));
        assert!(dates_agree(
            &stored("2026-12-01T10:00:00Z", seen),
            instant("2026-12-01T10:00:00Z"),
            source
        ));
    }

    /// A filter regex naming a folded character by its escape matches the page's text as
    /// written; one written with the plain character matches the folded text.
    #[test]
    fn filters_match_typographic_characters_written_either_way() {
        let text = "President\u{2019}s visit to France";
        let escaped = [regex::Regex::new(r"President\x{2019}s").unwrap()];
        let plain = [regex::Regex::new(r"President's").unwrap()];
        assert!(!passes(&[], &escaped, text, None));
        assert!(!passes(&[], &plain, text, None));
        assert!(passes(&escaped, &[], text, None));
        assert!(!passes(
            &[],
            &escaped,
            "A visit",
            Some("President\u{2019}s words")
        ));
        assert!(passes(&[], &escaped, "A visit", Some("nothing")));
    }

    #[test]
    fn page_urls() {
        let base = Url::parse("https://www.akorda.kz/en/events").unwrap();
        assert_eq!(
            page_url(&base, 2).as_str(),
            "https://www.akorda.kz/en/events?page=2"
        );
        let q = Url::parse("https://x.org/list?cat=5&page=1").unwrap();
        assert_eq!(page_url(&q, 3).as_str(), "https://x.org/list?cat=5&page=3");
    }
}
