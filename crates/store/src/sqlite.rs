//! The embedded store: one SQLite file in WAL mode, schema versioned by
//! `user_version`, one transaction per batch. Keys are the tables' primary
//! keys, so a replayed event is an ignored insert.

use crate::model::{
    session_expires, Evidence, HistoryEntry, Metadata, Recorded, ResourceHistory, Rows, Source,
    UserAction,
};
use crate::{AuditStore, StoreError, Visit};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;
use tagwarden_core::catalog::sessions::Issued;

/// Schema migrations, in order; `user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    // 1: the three tables. Rows hold their JSON document; key columns and
    // the columns queries filter on are kept beside it.
    "CREATE TABLE tags_metadata (
        arn TEXT PRIMARY KEY,
        resource_type TEXT NOT NULL,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        state TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        doc TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX tags_metadata_failed ON tags_metadata(arn) WHERE state = 'failed';
    CREATE TABLE tag_history (
        arn TEXT NOT NULL,
        sk TEXT NOT NULL,
        time TEXT NOT NULL,
        event_id TEXT NOT NULL,
        change TEXT NOT NULL,
        actor TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (arn, sk)
    ) WITHOUT ROWID;
    CREATE INDEX tag_history_by_time ON tag_history(time, arn, sk);
    CREATE TABLE user_actions (
        principal TEXT NOT NULL,
        sk TEXT NOT NULL,
        time TEXT NOT NULL,
        event_id TEXT NOT NULL,
        action TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (principal, sk)
    ) WITHOUT ROWID;",
    // 2: evidence of what was acted on (model::Evidence).
    "CREATE TABLE evidence (
        source TEXT NOT NULL,
        entry TEXT NOT NULL,
        day TEXT,
        doc TEXT NOT NULL,
        PRIMARY KEY (source, entry)
    ) WITHOUT ROWID;
    CREATE INDEX evidence_by_day ON evidence(day, source) WHERE day IS NOT NULL;",
    // 3: session hops by the key each issued (catalog::sessions::Issued).
    "CREATE TABLE sessions (
        key TEXT PRIMARY KEY,
        expires INTEGER NOT NULL,
        doc TEXT NOT NULL
    ) WITHOUT ROWID;",
];

/// How to open the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// Create the file if missing (writers).
    Create,
    /// The file must exist (readers: `history`, `export`).
    Existing,
}

pub struct SqliteStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (and migrates) the store; waits up to `busy` for another
    /// writer's lock.
    pub fn open(path: &Path, open: Open, busy: Duration) -> Result<Self, StoreError> {
        let at = |e: rusqlite::Error| describe(path, e);
        if open == Open::Existing && !path.exists() {
            return Err(StoreError::new(
                format!("sqlite:{}", path.display()),
                "no store here yet: run `tagwarden apply` or `tagwarden store init` first",
            ));
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if open == Open::Create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let mut conn = Connection::open_with_flags(path, flags).map_err(at)?;
        conn.busy_timeout(busy).map_err(at)?;
        // The first read of the header: a file that is not a database fails here.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(at)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::new(
                format!("sqlite:{}", path.display()),
                format!("could not switch to WAL mode (got `{mode}`)"),
            ));
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(at)?;
        // A run in parts reads back the items of each part's resources
        // among everything recorded before: with SQLite's default 2 MiB
        // of page cache, most of that is system calls.
        conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)
            .map_err(at)?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_PAGES)
            .map_err(at)?;
        migrate(&mut conn).map_err(|e| match e {
            Migrate::Sql(e) => at(e),
            Migrate::Newer(found) => StoreError::new(
                format!("sqlite:{}", path.display()),
                format!(
                    "written by a newer tagwarden (schema {found}; this one knows {})",
                    MIGRATIONS.len()
                ),
            ),
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        })
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        describe(&self.path, e)
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        // A panic elsewhere cannot leave a half-written transaction behind
        // (it rolls back on drop), so a poisoned lock is still usable.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn).map_err(|e| self.err(e))
    }

    fn record_now(&self, batch: &Rows) -> Result<Recorded, StoreError> {
        let mut done = Recorded::default();
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut add = tx.prepare_cached(
                    "INSERT OR IGNORE INTO tag_history (arn, sk, time, event_id, change, actor, doc)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for h in &batch.history {
                    done.history += add.execute(params![
                        h.arn,
                        h.sort_key(),
                        h.event.time,
                        h.event.id,
                        h.change.as_str(),
                        h.actor,
                        json(h),
                    ])?;
                }
                let mut add = tx.prepare_cached(
                    "INSERT OR IGNORE INTO user_actions (principal, sk, time, event_id, action, doc)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                for a in &batch.actions {
                    done.actions += add.execute(params![
                        a.principal,
                        a.sort_key(),
                        a.event.time,
                        a.event.id,
                        a.event.name,
                        json(a),
                    ])?;
                }
                let mut get = tx.prepare_cached("SELECT doc FROM tags_metadata WHERE arn = ?1")?;
                let mut put = tx.prepare_cached(
                    "INSERT OR REPLACE INTO tags_metadata
                     (arn, resource_type, account, region, state, updated_at, doc)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for m in &batch.metadata {
                    let old: Option<String> = get.query_row([&m.arn], |r| r.get(0)).optional()?;
                    let next = match old {
                        None => Some(m.clone()),
                        Some(doc) => serde_json::from_str::<Metadata>(&doc)
                            .map_err(|e| not_ours(&m.arn, e))?
                            .merge(m),
                    };
                    if let Some(n) = next {
                        put.execute(params![
                            n.arn,
                            n.resource_type,
                            n.account,
                            n.region,
                            n.state.as_str(),
                            n.updated_at,
                            json(&n),
                        ])?;
                        done.metadata += 1;
                    }
                }
            }
            tx.commit()
        })?;
        Ok(done)
    }

    fn docs<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<T>, StoreError> {
        self.with(|conn| {
            let mut q = conn.prepare_cached(sql)?;
            let rows = q.query_map(params, |r| {
                let doc: String = r.get(0)?;
                serde_json::from_str(&doc).map_err(|e| not_ours(&doc, e))
            })?;
            rows.collect()
        })
    }
}

/// A stored document this build cannot read, as a row conversion error.
fn not_ours(what: &str, e: serde_json::Error) -> rusqlite::Error {
    let what: String = what.chars().take(120).collect();
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("a stored row is not what this tagwarden wrote ({what}): {e}").into(),
    )
}

fn json<T: serde::Serialize>(v: &T) -> String {
    // Our own types serialise without fail: string keys, no floats.
    serde_json::to_string(v).unwrap_or_default()
}

enum Migrate {
    Sql(rusqlite::Error),
    Newer(usize),
}

/// SQLite's page cache: bounded, so memory stays flat however large the
/// store grows.
const PAGE_CACHE_KIB: i64 = 32 * 1024;

/// Pages the write-ahead log takes before they are copied into the
/// database (SQLite's default is 1,000): each part of a long run commits
/// on its own, and a page its indexes share is copied once per checkpoint,
/// not once per part.
const WAL_PAGES: i64 = 16 * 1024;

fn migrate(conn: &mut Connection) -> Result<(), Migrate> {
    let version = schema_version(conn).map_err(Migrate::Sql)?;
    if version > MIGRATIONS.len() {
        return Err(Migrate::Newer(version));
    }
    if version == MIGRATIONS.len() {
        return Ok(());
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(Migrate::Sql)?;
    // Another process may have migrated while we waited for the lock.
    let version = schema_version(&tx).map_err(Migrate::Sql)?;
    for sql in MIGRATIONS.iter().skip(version) {
        tx.execute_batch(sql).map_err(Migrate::Sql)?;
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)
        .map_err(Migrate::Sql)?;
    tx.commit().map_err(Migrate::Sql)
}

fn schema_version(conn: &Connection) -> rusqlite::Result<usize> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok(usize::try_from(v).unwrap_or(usize::MAX))
}

/// SQLite's errors, said plainly, with the file they are about.
fn describe(path: &Path, e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::*;
    let location = format!("sqlite:{}", path.display());
    let message = match e.sqlite_error_code() {
        Some(DatabaseBusy | DatabaseLocked) => {
            "the store is locked by another process (another tagwarden still running?)".to_string()
        }
        Some(NotADatabase) => {
            "not a tagwarden store: the file is not an SQLite database, or it is corrupted"
                .to_string()
        }
        Some(DatabaseCorrupt) => "the store file is corrupted".to_string(),
        Some(CannotOpen) => "cannot open the file (does its directory exist?)".to_string(),
        Some(ReadOnly | PermissionDenied) => "the file is read-only for this user".to_string(),
        Some(DiskFull) => "the disk is full".to_string(),
        _ => e.to_string(),
    };
    StoreError::new(location, message)
}

impl AuditStore for SqliteStore {
    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    async fn init(&self) -> Result<(), StoreError> {
        // Opening created and migrated the file.
        Ok(())
    }

    async fn record(&self, batch: &Rows) -> Result<Recorded, StoreError> {
        self.record_now(batch)
    }

    async fn history(&self, arn: &str) -> Result<ResourceHistory, StoreError> {
        let metadata = self
            .docs::<Metadata>("SELECT doc FROM tags_metadata WHERE arn = ?1", [arn])?
            .pop();
        let history = self.docs(
            "SELECT doc FROM tag_history WHERE arn = ?1 ORDER BY sk",
            [arn],
        )?;
        Ok(ResourceHistory { metadata, history })
    }

    async fn failed(&self) -> Result<Vec<Metadata>, StoreError> {
        self.docs(
            "SELECT doc FROM tags_metadata WHERE state IN ('failed', 'pending') ORDER BY arn",
            [],
        )
    }

    async fn metadata(&self, arns: &[&str]) -> Result<Vec<Metadata>, StoreError> {
        let mut out = Vec::new();
        for arn in arns {
            out.extend(
                self.docs::<Metadata>("SELECT doc FROM tags_metadata WHERE arn = ?1", [arn])?,
            );
        }
        out.sort_by(|a, b| a.arn.cmp(&b.arn));
        out.dedup_by(|a, b| a.arn == b.arn);
        Ok(out)
    }

    async fn actions(&self, principal: &str) -> Result<Vec<UserAction>, StoreError> {
        self.docs(
            "SELECT doc FROM user_actions WHERE principal = ?1 ORDER BY sk",
            [principal],
        )
    }

    async fn export(&self, since: Option<&str>, visit: &mut Visit<'_>) -> Result<u64, StoreError> {
        let mut visited = 0;
        let mut stop = None;
        self.with(|conn| {
            let mut q = conn
                .prepare("SELECT doc FROM tag_history WHERE time >= ?1 ORDER BY time, arn, sk")?;
            let mut rows = q.query([since.unwrap_or("")])?;
            while let Some(row) = rows.next()? {
                let doc: String = row.get(0)?;
                let entry: HistoryEntry =
                    serde_json::from_str(&doc).map_err(|e| not_ours(&doc, e))?;
                if let Err(e) = visit(entry) {
                    stop = Some(e);
                    break;
                }
                visited += 1;
            }
            Ok(())
        })?;
        match stop {
            Some(e) => Err(e),
            None => Ok(visited),
        }
    }

    async fn note(&self, rows: &[Evidence]) -> Result<usize, StoreError> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut added = 0;
            {
                let mut add = tx.prepare_cached(
                    "INSERT OR IGNORE INTO evidence (source, entry, day, doc) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for r in rows {
                    added += add.execute(params![
                        r.source.to_string(),
                        r.entry.to_string(),
                        r.day,
                        json(r)
                    ])?;
                }
            }
            tx.commit()?;
            Ok(added)
        })
    }

    async fn evidence(&self, source: &Source) -> Result<Vec<Evidence>, StoreError> {
        self.docs(
            "SELECT doc FROM evidence WHERE source = ?1 ORDER BY entry",
            [source.to_string()],
        )
    }

    async fn evidence_on(&self, day: &str) -> Result<Vec<Evidence>, StoreError> {
        self.docs(
            "SELECT doc FROM evidence WHERE day = ?1 ORDER BY source, entry",
            [day],
        )
    }

    /// Forgets the hops past their time as it keeps new ones: the file
    /// has no time to live of its own.
    async fn keep_sessions(&self, hops: &[Issued], at: i64) -> Result<usize, StoreError> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute("DELETE FROM sessions WHERE expires < ?1", [at])?;
            let mut added = 0;
            {
                let mut add = tx.prepare_cached(
                    "INSERT OR IGNORE INTO sessions (key, expires, doc) VALUES (?1, ?2, ?3)",
                )?;
                for h in hops {
                    added += add.execute(params![h.key, session_expires(h, at), json(h)])?;
                }
            }
            tx.commit()?;
            Ok(added)
        })
    }

    async fn sessions(&self, keys: &[&str], at: i64) -> Result<Vec<Issued>, StoreError> {
        let mut out = Vec::new();
        for key in keys {
            out.extend(self.docs::<Issued>(
                "SELECT doc FROM sessions WHERE key = ?1 AND expires >= ?2",
                params![key, at],
            )?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite;

    fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open(path, Open::Create, Duration::from_millis(200))
    }

    #[tokio::test]
    async fn passes_the_shared_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("tw.db")).unwrap();
        suite::run_all(&store, "sqlite").await;
    }

    #[tokio::test]
    async fn survives_reopening_and_keeps_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tw.db");
        let items = [suite::item("re", 1, "e1", "2026-01-01T00:00:00Z")];
        let rows = suite::rows_of(&items, crate::model::State::Tagged, "2026-01-02T00:00:00Z");
        open(&path).unwrap().record(&rows).await.unwrap();
        let again = SqliteStore::open(&path, Open::Existing, Duration::ZERO).unwrap();
        assert_eq!(again.history(&items[0].arn).await.unwrap().history.len(), 2);
        assert_eq!(again.record(&rows).await.unwrap(), Recorded::default());
        let mode: String = again
            .with(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_corrupted_file_is_named_and_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tw.db");
        std::fs::write(
            &path,
            b"this is not a database, just text, long enough to fill a header page ".repeat(80),
        )
        .unwrap();
        let e = open(&path).err().expect("refused");
        assert_eq!(e.location, format!("sqlite:{}", path.display()));
        assert!(e.message.contains("not an SQLite database"), "{e}");
    }

    #[test]
    fn a_locked_store_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tw.db");
        drop(open(&path).unwrap());
        let holder = Connection::open(&path).unwrap();
        holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let store = open(&path);
        let e = match store {
            Err(e) => e,
            // WAL lets the open through; the first write meets the lock.
            Ok(s) => {
                let items = [suite::item("lk", 1, "e1", "2026-01-01T00:00:00Z")];
                let rows = suite::rows_of(&items, crate::model::State::Tagged, "now");
                s.record_now(&rows).expect_err("locked")
            }
        };
        assert!(e.message.contains("locked by another process"), "{e}");
        holder.execute_batch("ROLLBACK").unwrap();
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tw.db");
        drop(open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let e = open(&path).err().expect("refused");
        assert!(e.message.contains("newer tagwarden (schema 99"), "{e}");
    }

    #[test]
    fn readers_need_an_existing_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.db");
        let e = SqliteStore::open(&path, Open::Existing, Duration::ZERO)
            .err()
            .expect("refused");
        assert!(e.message.contains("store init"), "{e}");
        assert!(!path.exists(), "a reader created the file");
    }
}
