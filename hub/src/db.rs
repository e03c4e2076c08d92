//! The database handle: a sea-orm pool plus, on SQLite, one writer at a time.
//!
//! SQLite allows a single writer; concurrent deferred transactions that both
//! try to write fail with SQLITE_BUSY instead of waiting. Queuing writers in
//! the hub makes them wait their turn, while reads stay concurrent (WAL).

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

#[derive(Clone)]
pub struct Db {
    conn: DatabaseConnection,
    sqlite_writer: Option<SqliteWriter>,
}

/// SQLite's one writer: the turn to write, and the connection that writes.
///
/// One connection for every write keeps its page cache warm: in WAL mode a
/// write empties the cache of every other connection, so writes spread over
/// the pool read their pages back from the file each time.
#[derive(Clone)]
struct SqliteWriter {
    turn: Arc<Mutex<()>>,
    conn: DatabaseConnection,
}

/// A write transaction; on SQLite it also holds the writer's turn.
///
/// Dropped without `commit`, it rolls back before giving up the turn: a
/// rollback left for later would keep SQLite's write lock while the next
/// writer already runs, and that writer would fail with "database is locked".
pub struct WriteTx {
    tx: Option<DatabaseTransaction>,
    turn: Option<OwnedMutexGuard<()>>,
}

impl Deref for WriteTx {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        match &self.tx {
            Some(tx) => tx,
            // `tx` is only taken by `commit` and `drop`, which consume `self`.
            None => unreachable!("transaction used after commit"),
        }
    }
}

impl WriteTx {
    pub async fn commit(mut self) -> Result<(), DbErr> {
        match self.tx.take() {
            Some(tx) => tx.commit().await,
            None => Ok(()),
        }
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        let Some(tx) = self.tx.take() else {
            return;
        };
        let turn = self.turn.take();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(err) = tx.rollback().await {
                        tracing::warn!(error = %err, "rollback failed");
                    }
                    drop(turn);
                });
            }
            Err(_) => drop((tx, turn)),
        }
    }
}

fn pool_options(url: &str, max_connections: u32, log_sql: bool) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections.max(1))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(log_sql)
        .map_sqlx_sqlite_opts(|opts| {
            // WAL is set once by `connect`: it persists in the file, and
            // asking for it on every new connection contends with the writer.
            opts.synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    options
}

impl Db {
    /// Connects to `url` (`sqlite://...` or `postgres://...`).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        Self::connect_logging(url, max_connections, false).await
    }

    /// [`Db::connect`], logging every statement when `log_sql` is set.
    pub async fn connect_logging(
        url: &str,
        max_connections: u32,
        log_sql: bool,
    ) -> Result<Self, DbErr> {
        let conn = Database::connect(pool_options(url, max_connections, log_sql)).await?;
        if conn.get_database_backend() != DbBackend::Sqlite {
            return Ok(Self {
                conn,
                sqlite_writer: None,
            });
        }
        conn.execute_unprepared("PRAGMA journal_mode = WAL").await?;
        // An in-memory database is private to its connection: there, the
        // pool's connections write too.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let writer_conn = if in_memory {
            conn.clone()
        } else {
            Database::connect(pool_options(url, 1, log_sql)).await?
        };
        Ok(Self {
            conn,
            sqlite_writer: Some(SqliteWriter {
                turn: Arc::new(Mutex::new(())),
                conn: writer_conn,
            }),
        })
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// Begins a transaction that will write.
    pub async fn write(&self) -> Result<WriteTx, DbErr> {
        let (conn, turn) = match &self.sqlite_writer {
            Some(writer) => (&writer.conn, Some(writer.turn.clone().lock_owned().await)),
            None => (&self.conn, None),
        };
        let tx = conn.begin().await?;
        Ok(WriteTx { tx: Some(tx), turn })
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.conn.ping().await.is_ok()
    }
}
