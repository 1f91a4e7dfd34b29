//! Admin alerts decided and not yet taken by Telegram (SPEC, Guarantees: nothing fails
//! silently). An alert is written here, one record per admin, in the same step that records why
//! it was sent (a source's `alerted` flag), and leaves only when Telegram accepted it for that
//! admin, or when the admin's chat refuses messages for good.
//!
//! Tree `alerts`:
//! - `p` ++ seq (u64, big-endian: sled's `generate_id`, increasing across restarts) ++ admin
//!   (i64, big-endian) → PendingAlert (JSON): in the order decided, per admin
//! - `r` ++ admin (i64, big-endian) → why the admin's chat refuses messages for good (UTF-8),
//!   until a message to it is accepted again
//! - `d` ++ admin (i64, big-endian) ++ SHA-256 of the text → the pending record's key: an alert
//!   whose text is already pending for that admin is not stored again (while Telegram is down,
//!   the same alert decided poll after poll would pile up and drain for hours)
//! - `l` ++ admin (i64, big-endian) → the key of the admin's newest record: only an alert that
//!   repeats that one is not stored again (an older copy of the same text is followed by a newer
//!   state — "failing", "works again", "failing" — whose news must not be buried)
//! - `c` → how many `p` records there are (u64, big-endian), kept with them in each write, so
//!   that `/healthz` and the metrics never scan the tree

use super::{SourceState, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sled::Transactional;
use sled::transaction::{
    ConflictableTransactionError, ConflictableTransactionResult, TransactionError,
    TransactionalTree,
};

const PENDING: u8 = b'p';
const REFUSED: u8 = b'r';
const SAME: u8 = b'd';
const LAST: u8 = b'l';
const COUNT: [u8; 1] = [b'c'];

/// One alert to one admin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingAlert {
    pub admin: i64,
    pub text: String,
    pub decided: DateTime<Utc>,
    /// Tries that got no answer (Telegram may have taken them): the next copy says it may be a
    /// second one.
    #[serde(default)]
    pub unanswered: u32,
}

/// A pending alert's record key.
pub type AlertKey = Vec<u8>;

fn pending_key(seq: u64, admin: i64) -> AlertKey {
    let mut k = Vec::with_capacity(17);
    k.push(PENDING);
    k.extend_from_slice(&seq.to_be_bytes());
    k.extend_from_slice(&admin.to_be_bytes());
    k
}

fn refused_key(admin: i64) -> [u8; 9] {
    let mut k = [REFUSED; 9];
    k[1..].copy_from_slice(&admin.to_be_bytes());
    k
}

/// One alert for some admins, ready to be written.
struct Records {
    /// Per admin: the admin, its record's key and value.
    alerts: Vec<(i64, AlertKey, Vec<u8>)>,
    digest: [u8; 32],
}

fn records(admins: &[i64], text: &str, seq: u64) -> Result<Records, StoreError> {
    let decided = Utc::now();
    let alerts = admins
        .iter()
        .map(|&admin| {
            let alert = PendingAlert {
                admin,
                // An error quoted in an alert may carry the bot token (an error page repeating
                // a Bot API path): it is cut before the alert is kept or sent.
                text: crate::secret::redact(text).into_owned(),
                decided,
                unanswered: 0,
            };
            Ok((admin, pending_key(seq, admin), serde_json::to_vec(&alert)?))
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Records {
        alerts,
        digest: Sha256::digest(text.as_bytes()).into(),
    })
}

fn same_key(admin: i64, digest: &[u8; 32]) -> Vec<u8> {
    let mut k = Vec::with_capacity(41);
    k.push(SAME);
    k.extend_from_slice(&admin.to_be_bytes());
    k.extend_from_slice(digest);
    k
}

fn last_key(admin: i64) -> [u8; 9] {
    let mut k = [LAST; 9];
    k[1..].copy_from_slice(&admin.to_be_bytes());
    k
}

fn read_count(tree: &TransactionalTree) -> ConflictableTransactionResult<u64, serde_json::Error> {
    Ok(tree.get(COUNT)?.map_or(0, |v| decode_count(&v)))
}

fn decode_count(bytes: &[u8]) -> u64 {
    bytes.try_into().map_or(0, u64::from_be_bytes)
}

/// Writes `records`, but none for an admin whose newest pending alert has the same text, and
/// counts them.
fn keep(
    tree: &TransactionalTree,
    records: &Records,
) -> ConflictableTransactionResult<(), serde_json::Error> {
    let mut added = 0;
    for (admin, key, value) in &records.alerts {
        let same = same_key(*admin, &records.digest);
        let last = last_key(*admin);
        if let Some(pending) = tree.get(&same)?
            && tree.get(last)?.is_some_and(|newest| newest == pending)
            && tree.get(&pending)?.is_some()
        {
            continue;
        }
        tree.insert(key.as_slice(), value.as_slice())?;
        tree.insert(same, key.as_slice())?;
        tree.insert(&last, key.as_slice())?;
        added += 1;
    }
    if added > 0 {
        let count = read_count(tree)? + added;
        tree.insert(&COUNT, &count.to_be_bytes())?;
    }
    Ok(())
}

/// A JSON failure inside a transaction, which aborts it.
fn abort(e: serde_json::Error) -> ConflictableTransactionError<serde_json::Error> {
    ConflictableTransactionError::Abort(e)
}

fn alerts_error(e: TransactionError<serde_json::Error>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e.into(),
        TransactionError::Storage(e) => StoreError::Sled(e),
    }
}

impl Store {
    /// Keeps `text` for each of `admins` until Telegram takes it.
    pub fn queue_alert(&self, admins: &[i64], text: &str) -> Result<(), StoreError> {
        self.ensure_alert_count()?;
        let seq = self.db.generate_id()?;
        let records = records(admins, text, seq)?;
        let result = self.alerts.transaction(|tree| keep(tree, &records));
        result.map_err(alerts_error)
    }

    /// Writes `state` as `source`'s state and keeps `text` for each of `admins`, in one
    /// transaction: the flag that says an alert was sent is never recorded without the alert.
    pub fn put_source_state_with_alert(
        &self,
        source: &str,
        change: impl Fn(&mut SourceState),
        admins: &[i64],
        text: &str,
    ) -> Result<(), StoreError> {
        self.write_with_alert(&self.sources, admins, text, |sources| {
            let mut state = match sources.get(source)? {
                Some(bytes) => serde_json::from_slice::<SourceState>(&bytes).map_err(abort)?,
                None => SourceState::default(),
            };
            change(&mut state);
            sources.insert(
                source.as_bytes(),
                serde_json::to_vec(&state).map_err(abort)?,
            )?;
            Ok(true)
        })
    }

    /// Records that the admins were told about the set-aside delivery `key` (mark number `n`,
    /// see `Store::mark_told`) and keeps `text` for each of `admins`, in one transaction: a
    /// setting aside recorded as told always has its alert kept until Telegram takes it.
    pub fn mark_told_with_alert(
        &self,
        key: &[u8],
        n: u64,
        admins: &[i64],
        text: &str,
    ) -> Result<(), StoreError> {
        self.write_with_alert(&self.set_aside, admins, text, |set_aside| {
            if let Some(bytes) = set_aside.get(key)?
                && let Ok(mut mark) = serde_json::from_slice::<serde_json::Value>(&bytes)
                && mark.get("n").and_then(serde_json::Value::as_u64) == Some(n)
            {
                // Told already (another worker of the chat kept it): not kept twice.
                if mark.get("told").and_then(serde_json::Value::as_bool) == Some(true) {
                    return Ok(false);
                }
                mark["told"] = serde_json::Value::Bool(true);
                set_aside.insert(key, serde_json::to_vec(&mark).map_err(abort)?)?;
            }
            Ok(true)
        })
    }

    /// Records what the admins of channel entry `channel` were told about its block (see
    /// `Store::set_told_blocked`) and keeps `text` for each of `admins`, in one transaction.
    pub fn set_told_blocked_with_alert(
        &self,
        channel: &str,
        reason: Option<&str>,
        admins: &[i64],
        text: &str,
    ) -> Result<(), StoreError> {
        let key = format!("blocked-told\0{channel}");
        self.write_with_alert(&self.db, admins, text, |default| {
            match reason {
                Some(reason) => default.insert(key.as_bytes(), reason.as_bytes())?,
                None => default.remove(key.as_bytes())?,
            };
            Ok(true)
        })
    }

    /// Runs `write` on `tree` and keeps `text` for each of `admins`, in one transaction: what
    /// records why an alert was decided and the alert itself are written together or not at
    /// all. A `write` that answers false (nothing to tell) leaves the alerts out.
    fn write_with_alert(
        &self,
        tree: &sled::Tree,
        admins: &[i64],
        text: &str,
        write: impl Fn(&TransactionalTree) -> ConflictableTransactionResult<bool, serde_json::Error>,
    ) -> Result<(), StoreError> {
        self.ensure_alert_count()?;
        let seq = self.db.generate_id()?;
        let alerts = records(admins, text, seq)?;
        let result = (tree, &self.alerts).transaction(|(tree, kept)| {
            if write(tree)? {
                keep(kept, &alerts)?;
            }
            Ok(())
        });
        result.map_err(alerts_error)
    }

    /// Every pending alert, oldest first. The count of them is set right by the way.
    pub fn pending_alerts(&self) -> Result<Vec<(AlertKey, PendingAlert)>, StoreError> {
        let all = self
            .alerts
            .scan_prefix([PENDING])
            .map(|entry| {
                let (key, value) = entry?;
                Ok((key.to_vec(), serde_json::from_slice(&value)?))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let count = all.len() as u64;
        if self.alerts.get(COUNT)?.map(|v| decode_count(&v)) != Some(count) {
            self.alerts.insert(COUNT, &count.to_be_bytes())?;
        }
        Ok(all)
    }

    /// How many alerts wait (one per admin), without reading them.
    pub fn pending_alert_count(&self) -> usize {
        if let Err(e) = self.ensure_alert_count() {
            tracing::warn!(error = %e, "cannot count the pending admin alerts");
        }
        match self.alerts.get(COUNT) {
            Ok(count) => count.map_or(0, |v| decode_count(&v)) as usize,
            Err(_) => 0,
        }
    }

    /// A database from before the count: counted once.
    fn ensure_alert_count(&self) -> Result<(), StoreError> {
        if self.alerts.get(COUNT)?.is_none() {
            let count = self.alerts.scan_prefix([PENDING]).count() as u64;
            let _ = self.alerts.compare_and_swap(
                COUNT,
                None as Option<&[u8]>,
                Some(&count.to_be_bytes()),
            )?;
        }
        Ok(())
    }

    /// Telegram took the alert (or it is given up on, logged): it leaves the store.
    pub fn alert_done(&self, key: &[u8]) -> Result<(), StoreError> {
        self.ensure_alert_count()?;
        let result = self.alerts.transaction(|tree| {
            let Some(old) = tree.remove(key)? else {
                return Ok(());
            };
            if let Ok(alert) = serde_json::from_slice::<PendingAlert>(&old) {
                let same = same_key(alert.admin, &Sha256::digest(alert.text.as_bytes()).into());
                // Only when it names this record (one stored before, or a later one, may hold
                // the text's mark).
                if tree.get(&same)?.is_some_and(|k| k.as_ref() == key) {
                    tree.remove(same)?;
                }
            }
            let count = read_count(tree)?.saturating_sub(1);
            tree.insert(&COUNT, &count.to_be_bytes())?;
            Ok(())
        });
        result.map_err(alerts_error)
    }

    /// A try of the alert got no answer: counted in its record.
    pub fn alert_unanswered(&self, key: &[u8]) -> Result<(), StoreError> {
        self.alerts.fetch_and_update(key, |old| {
            let mut alert: PendingAlert = serde_json::from_slice(old?).ok()?;
            alert.unanswered += 1;
            serde_json::to_vec(&alert).ok()
        })?;
        Ok(())
    }

    /// Records that `admin`'s chat refuses messages for good (`Some(why)`), or takes them again.
    pub fn set_admin_refused(&self, admin: i64, why: Option<&str>) -> Result<(), StoreError> {
        match why {
            Some(why) => self.alerts.insert(refused_key(admin), why.as_bytes())?,
            None => self.alerts.remove(refused_key(admin))?,
        };
        Ok(())
    }

    /// The admins whose chats refuse messages for good, with why.
    pub fn admins_refused(&self) -> Result<Vec<(i64, String)>, StoreError> {
        self.alerts
            .scan_prefix([REFUSED])
            .map(|entry| {
                let (key, value) = entry?;
                let mut id = [0; 8];
                id.copy_from_slice(&key[1..9]);
                Ok((
                    i64::from_be_bytes(id),
                    String::from_utf8_lossy(&value).into_owned(),
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_stay_in_order_until_done_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), 1 << 20).unwrap();
            store.queue_alert(&[7, -5], "first").unwrap();
            store
                .put_source_state_with_alert("s", |st| st.alerted = true, &[7], "second")
                .unwrap();
            assert!(store.source_state("s").unwrap().alerted);
            let pending = store.pending_alerts().unwrap();
            store.alert_done(&pending[0].0).unwrap();
            store.alert_unanswered(&pending[2].0).unwrap();
            store.set_admin_refused(-5, Some("blocked")).unwrap();
        }
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let pending: Vec<_> = store
            .pending_alerts()
            .unwrap()
            .into_iter()
            .map(|(_, a)| (a.admin, a.text, a.unanswered))
            .collect();
        assert_eq!(
            pending,
            [(-5, "first".to_owned(), 0), (7, "second".to_owned(), 1)]
        );
        assert_eq!(
            store.admins_refused().unwrap(),
            [(-5, "blocked".to_owned())]
        );
        store.set_admin_refused(-5, None).unwrap();
        assert!(store.admins_refused().unwrap().is_empty());
    }

    #[test]
    fn a_block_recorded_as_told_has_its_alert_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        store
            .set_told_blocked_with_alert("en", Some("kicked"), &[7], "blocked")
            .unwrap();
        assert_eq!(store.told_blocked("en").unwrap().as_deref(), Some("kicked"));
        let pending = store.pending_alerts().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].1.text, "blocked");
    }

    /// A state that changed and changed back while the alerts waited ("failing", "works
    /// again", "failing") is said in full: the newest news is never buried under an older copy
    /// of its text; only a repeat of the newest is not stored again.
    #[test]
    fn an_alert_repeating_an_older_pending_one_is_stored_after_a_newer_state() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        store.queue_alert(&[7], "failing").unwrap();
        store.queue_alert(&[7], "works again").unwrap();
        store
            .put_source_state_with_alert("s", |st| st.alerted = true, &[7], "failing")
            .unwrap();
        store.queue_alert(&[7], "failing").unwrap();
        let texts: Vec<String> = store
            .pending_alerts()
            .unwrap()
            .into_iter()
            .map(|(_, a)| a.text)
            .collect();
        assert_eq!(texts, ["failing", "works again", "failing"]);
        assert_eq!(store.pending_alert_count(), 3);
    }

    #[test]
    fn an_alert_already_pending_for_an_admin_is_not_stored_twice_and_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), 1 << 20).unwrap();
            store.queue_alert(&[7], "failing").unwrap();
            // Pending for 7 already: stored for 8 only.
            store.queue_alert(&[7, 8], "failing").unwrap();
            store
                .put_source_state_with_alert("s", |st| st.alerted = true, &[7], "failing")
                .unwrap();
            store.queue_alert(&[7], "other").unwrap();
            assert_eq!(store.pending_alert_count(), 3);
            let pending = store.pending_alerts().unwrap();
            assert_eq!(pending.len(), 3);
            // Once taken, the same text is kept again.
            store.alert_done(&pending[0].0).unwrap();
            store.alert_done(&pending[0].0).unwrap();
            assert_eq!(store.pending_alert_count(), 2);
            store.queue_alert(&[7], "failing").unwrap();
            assert_eq!(store.pending_alert_count(), 3);
        }
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(store.pending_alert_count(), 3);
        let texts: Vec<_> = store
            .pending_alerts()
            .unwrap()
            .into_iter()
            .map(|(_, a)| (a.admin, a.text))
            .collect();
        assert_eq!(
            texts,
            [
                (8, "failing".to_owned()),
                (7, "other".to_owned()),
                (7, "failing".to_owned())
            ]
        );
    }
}
