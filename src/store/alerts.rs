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

use super::{SourceState, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

const PENDING: u8 = b'p';
const REFUSED: u8 = b'r';

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

fn records(admins: &[i64], text: &str, seq: u64) -> Result<Vec<(AlertKey, Vec<u8>)>, StoreError> {
    let decided = Utc::now();
    admins
        .iter()
        .map(|&admin| {
            let alert = PendingAlert {
                admin,
                text: text.to_owned(),
                decided,
                unanswered: 0,
            };
            Ok((pending_key(seq, admin), serde_json::to_vec(&alert)?))
        })
        .collect()
}

fn transaction_error(e: TransactionError<serde_json::Error>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e.into(),
        TransactionError::Storage(e) => StoreError::Sled(e),
    }
}

impl Store {
    /// Keeps `text` for each of `admins` until Telegram takes it.
    pub fn queue_alert(&self, admins: &[i64], text: &str) -> Result<(), StoreError> {
        let seq = self.db.generate_id()?;
        let mut batch = sled::Batch::default();
        for (key, value) in records(admins, text, seq)? {
            batch.insert(key, value);
        }
        self.alerts.apply_batch(batch)?;
        Ok(())
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
        let seq = self.db.generate_id()?;
        let alerts = records(admins, text, seq)?;
        let result = (&self.sources, &self.alerts).transaction(|(sources, tree)| {
            let abort = |e: serde_json::Error| ConflictableTransactionError::Abort(e);
            let mut state = match sources.get(source)? {
                Some(bytes) => serde_json::from_slice::<SourceState>(&bytes).map_err(abort)?,
                None => SourceState::default(),
            };
            change(&mut state);
            sources.insert(
                source.as_bytes(),
                serde_json::to_vec(&state).map_err(abort)?,
            )?;
            for (key, value) in &alerts {
                tree.insert(key.as_slice(), value.as_slice())?;
            }
            Ok(())
        });
        result.map_err(transaction_error)
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
        let seq = self.db.generate_id()?;
        let alerts = records(admins, text, seq)?;
        let result = (&self.set_aside, &self.alerts).transaction(|(set_aside, tree)| {
            if let Some(bytes) = set_aside.get(key)?
                && let Ok(mut mark) = serde_json::from_slice::<serde_json::Value>(&bytes)
                && mark.get("n").and_then(serde_json::Value::as_u64) == Some(n)
            {
                // Told already (another worker of the chat kept it): not kept twice.
                if mark.get("told").and_then(serde_json::Value::as_bool) == Some(true) {
                    return Ok(());
                }
                mark["told"] = serde_json::Value::Bool(true);
                let abort = |e: serde_json::Error| ConflictableTransactionError::Abort(e);
                set_aside.insert(key, serde_json::to_vec(&mark).map_err(abort)?)?;
            }
            for (key, value) in &alerts {
                tree.insert(key.as_slice(), value.as_slice())?;
            }
            Ok(())
        });
        result.map_err(transaction_error)
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
        let seq = self.db.generate_id()?;
        let alerts = records(admins, text, seq)?;
        let key = format!("blocked-told\0{channel}");
        let default: &sled::Tree = &self.db;
        let result = (default, &self.alerts).transaction(|(default, tree)| {
            match reason {
                Some(reason) => default.insert(key.as_bytes(), reason.as_bytes())?,
                None => default.remove(key.as_bytes())?,
            };
            for (key, value) in &alerts {
                tree.insert(key.as_slice(), value.as_slice())?;
            }
            Ok::<(), ConflictableTransactionError<serde_json::Error>>(())
        });
        result.map_err(transaction_error)
    }

    /// Every pending alert, oldest first.
    pub fn pending_alerts(&self) -> Result<Vec<(AlertKey, PendingAlert)>, StoreError> {
        self.alerts
            .scan_prefix([PENDING])
            .map(|entry| {
                let (key, value) = entry?;
                Ok((key.to_vec(), serde_json::from_slice(&value)?))
            })
            .collect()
    }

    pub fn pending_alert_count(&self) -> usize {
        self.alerts.scan_prefix([PENDING]).count()
    }

    /// Telegram took the alert (or it is given up on, logged): it leaves the store.
    pub fn alert_done(&self, key: &[u8]) -> Result<(), StoreError> {
        self.alerts.remove(key)?;
        Ok(())
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
}
