//! The database handle: a sea-orm pool plus, on SQLite, one writer at a time.
//!
//! SQLite allows a single writer; concurrent deferred transactions that both
//! try to write fail with SQLITE_BUSY instead of waiting. Queuing writers in
//! the hub makes them wait their turn, while reads stay concurrent (WAL).

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

#[derive(Clone)]
pub struct Db {
    conn: DatabaseConnection,
    sqlite_writer: Option<Arc<Mutex<()>>>,
}

/// A write transaction; on SQLite it also holds the writer's turn.
pub struct WriteTx {
    tx: DatabaseTransaction,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl Deref for WriteTx {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.tx
    }
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.tx.commit().await
    }
}

impl Db {
    /// Connects to `url` (`sqlite://...` or `postgres://...`).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
        let conn = Database::connect(options).await?;
        let sqlite_writer =
            (conn.get_database_backend() == DbBackend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Self {
            conn,
            sqlite_writer,
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
        let turn = match &self.sqlite_writer {
            Some(writer) => Some(writer.clone().lock_owned().await),
            None => None,
        };
        let tx = self.conn.begin().await?;
        Ok(WriteTx { tx, _turn: turn })
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.conn.ping().await.is_ok()
    }
}
