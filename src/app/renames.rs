//! Channel entries renamed in the config. What was posted is known by the chat it went to, not
//! by the entry's id: what the store keeps under an id that left the config (its queue, its
//! post records, its first-poll markers) moves to the entry that posts to the same chat now.
//! Without this, the renamed entry's first poll counted as a first poll, and its backfill
//! posted releases a second time into the same chat.

use crate::config::{Channel, ChatRef, Config, Diagnostic};
use crate::store::{MovedChannel, Store, StoreError};
use std::collections::HashMap;

/// A chat as a config entry names it: `@name` in lower case, or the id.
pub fn written(chat: &ChatRef) -> String {
    match chat {
        ChatRef::Username(name) => name.to_lowercase(),
        ChatRef::Id(id) => id.to_string(),
    }
}

/// The chats of `channels` by id, as written (see [`written`]).
pub fn chats_of(channels: &[Channel]) -> HashMap<String, String> {
    channels
        .iter()
        .map(|c| (c.id.clone(), written(&c.chat)))
        .collect()
}

/// The names a chat may be known by: as written, and for `@name` the id Telegram gave for it
/// (stored by the delivery workers when a post is accepted, or when they resolve a name), so
/// that `@name` and its numeric id are one chat once herald has learnt the id.
fn forms(store: &Store, chat: &str) -> Vec<String> {
    let chat = chat.to_lowercase();
    let resolved = if chat.starts_with('@') {
        store.chat_id(&chat).ok().flatten().map(|id| id.to_string())
    } else {
        None
    };
    std::iter::once(chat).chain(resolved).collect()
}

/// The (old id, new id) pairs whose records are to move: each channel id the store keeps
/// anything under that is not in `channels`, whose chat (as `known` says, for the entries of
/// a config just replaced; else as the store recorded it) an entry the store holds nothing for
/// yet (a new id) posts to. None when two ids that left would go to one new id.
pub fn renamed(
    store: &Store,
    channels: &[Channel],
    known: &HashMap<String, String>,
) -> Result<Vec<(String, String)>, StoreError> {
    let ids = store.channel_ids()?;
    let mut moves = Vec::new();
    for old in ids
        .iter()
        .filter(|id| !channels.iter().any(|c| &c.id == *id))
    {
        let chat = match known.get(old) {
            Some(chat) => Some(chat.clone()),
            None => store.recorded_chat(old)?,
        };
        let Some(chat) = chat else {
            continue;
        };
        let old_forms = forms(store, &chat);
        let same: Vec<&Channel> = channels
            .iter()
            .filter(|c| {
                forms(store, &written(&c.chat))
                    .iter()
                    .any(|f| old_forms.contains(f))
            })
            .collect();
        // Only an entry the store holds nothing for yet (the new name) takes them: an entry
        // removed beside another that posts to the same chat is a removal, shown as such.
        if let Some(target) = same.iter().find(|c| !ids.contains(&c.id)) {
            moves.push((old.clone(), target.id.clone()));
        }
    }
    // Two entries gone for one new one: which was renamed is not known, and merging both
    // queues could post a release twice. Neither moves (both show as no longer configured).
    let mut takers: HashMap<&str, usize> = HashMap::new();
    for (_, new) in &moves {
        *takers.entry(new.as_str()).or_default() += 1;
    }
    let ambiguous: Vec<String> = takers
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(new, _)| new.to_owned())
        .collect();
    moves.retain(|(old, new)| {
        let keep = !ambiguous.contains(new);
        if !keep {
            tracing::warn!(from = %old, to = %new, "several channel entries that left the config posted to the chat of this new one: none is taken as renamed");
        }
        keep
    });
    Ok(moves)
}

/// Moves the records of each renamed entry (see [`renamed`]) to its new id. A failure is
/// logged: the entry's records then stay where they are, and its queue shows in `/healthz` as
/// a channel no longer in the config.
pub fn adopt(store: &Store, moves: &[(String, String)]) -> Vec<(String, String, MovedChannel)> {
    let mut done = Vec::new();
    for (old, new) in moves {
        match store.move_channel(old, new) {
            Ok(moved) => {
                tracing::info!(
                    from = %old,
                    to = %new,
                    deliveries = moved.deliveries,
                    records = moved.records,
                    dropped = moved.dropped,
                    "channel entry renamed: its queue and post records follow it (same chat)"
                );
                done.push((old.clone(), new.clone(), moved));
            }
            Err(e) => {
                tracing::error!(from = %old, to = %new, error = %e, "could not move a renamed channel's records");
            }
        }
    }
    done
}

/// Whether the recorded chat of an entry (`recorded`, as [`written`]) and the chat it names
/// now are one chat: the same text, or `@name` and the id herald learnt for it.
fn same_chat(store: &Store, recorded: &str, now: &str) -> bool {
    let now = forms(store, now);
    forms(store, recorded).iter().any(|f| now.contains(f))
}

/// The ids of the entries of `channels` that follow a chat migration (`migrated_to`) of a chat
/// they no longer name: the entry's recorded chat migrated, and the entry names another chat
/// now. A migration belongs to the chat that migrated; [`record_chats`] drops these.
pub fn migrations_left(store: &Store, channels: &[Channel]) -> Vec<String> {
    channels
        .iter()
        .filter(|channel| {
            store.channel_state(&channel.id).is_ok_and(|s| {
                s.migrated_to.is_some()
                    && s.chat
                        .as_deref()
                        .is_some_and(|old| !same_chat(store, old, &written(&channel.chat)))
            })
        })
        .map(|channel| channel.id.clone())
        .collect()
}

/// Records the chat each configured entry names, so that a later start or reload knows where
/// an entry that left the config posted. An entry that names another chat than the one
/// recorded drops the migration it followed (see [`migrations_left`]): posts go to the chat
/// the entry names. Its chat's worker must not be running (it would write its copy of the
/// state back).
pub fn record_chats(store: &Store, channels: &[Channel]) {
    let left = migrations_left(store, channels);
    for channel in channels {
        let chat = written(&channel.chat);
        let known = store
            .channel_state(&channel.id)
            .is_ok_and(|s| s.chat.as_deref() == Some(chat.as_str()));
        if known {
            continue;
        }
        let drop_migration = left.contains(&channel.id);
        let recorded = store.update_channel_state(&channel.id, |s| {
            s.chat = Some(chat.clone());
            if drop_migration {
                s.migrated_to = None;
            }
        });
        match recorded {
            Ok(_) if drop_migration => {
                tracing::info!(channel = %channel.id, %chat, "the entry names another chat than the one that migrated: its posts go to the chat it names");
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(channel = %channel.id, error = %e, "could not record the channel's chat");
            }
        }
    }
}

/// A source the database holds but the config no longer names may have been renamed: its items
/// would then get new ids and be announced again (SPEC). Warn, pointing at a configured source
/// the database does not know yet (the likely new name), else at the top of the file.
pub fn renamed_source_warnings(config: &Config) -> Vec<Diagnostic> {
    renamed_sources(config)
        .into_iter()
        .map(|(_, d)| d)
        .collect()
}

/// [`renamed_source_warnings`], each with the id of the source it is about.
pub(super) fn renamed_sources(config: &Config) -> Vec<(String, Diagnostic)> {
    let known = crate::store::known_sources_on_disk(&config.general.data_dir);
    let gone: Vec<&String> = known
        .iter()
        .filter(|id| config.source(id).is_none())
        .collect();
    if gone.is_empty() {
        return Vec::new();
    }
    let text = crate::config::read_file(&config.path)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default();
    let (line, col) = config
        .sources
        .iter()
        .filter(|s| !known.contains(&s.id))
        .find_map(|s| position_of(&text, &format!("\"{}\"", s.id)))
        .unwrap_or((1, 1));
    gone.into_iter()
        .map(|id| {
            let warning = Diagnostic {
                path: config.path.display().to_string(),
                line,
                col,
                message: format!(
                    "warning: the database in {} holds source `{id}`, which this config does not name: \
                     a renamed source's items get new ids and are announced again; if `{id}` is gone \
                     for good, run `herald prune {id}`",
                    config.general.data_dir.display()
                ),
            };
            (id.clone(), warning)
        })
        .collect()
}

/// 1-based line and column (in characters) of the first occurrence of `needle`.
fn position_of(text: &str, needle: &str) -> Option<(usize, usize)> {
    let at = text.find(needle)?;
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Some((line, col))
}
