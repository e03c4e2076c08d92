//! The database handle: a sea-orm pool plus, on SQLite, one writer at a time.
//!
//! SQLite allows a single writer; concurrent deferred transactions that both
//! try to write fail with SQLITE_BUSY instead of waiting. Queuing writers in
//! the hub makes them wait their turn, while reads stay concurrent (WAL).

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// How [`Db::connect_with`] connects.
#[derive(Clone, Copy, Debug)]
pub struct DbOptions {
    /// Size of the pool (reads, and every write on PostgreSQL).
    pub max_connections: u32,
    /// Log every statement.
    pub log_sql: bool,
    /// Keep SQLite's writer thread and its connection's worker on one core.
    pub pin_sqlite_writer: bool,
}

#[derive(Clone)]
pub struct Db {
    conn: DatabaseConnection,
    sqlite_writer: Option<SqliteWriter>,
}

/// SQLite's one writer: the turn to write, the connection that writes, and
/// a thread for the tasks that write.
///
/// One connection for every write keeps its page cache warm: in WAL mode a
/// write empties the cache of every other connection, so writes spread over
/// the pool read their pages back from the file each time.
#[derive(Clone)]
struct SqliteWriter {
    turn: Arc<Mutex<()>>,
    conn: DatabaseConnection,
    thread: WriterThread,
}

/// A single-threaded runtime of its own for write transactions.
///
/// Between two statements a transaction waits for its task to be polled
/// again. On the busy HTTP workers that wait grew with the load, and SQLite's
/// one writer stayed held meanwhile: a create's turn took 0.9 ms under load
/// against 0.5 ms at 500 a second. On this thread nothing else competes.
#[derive(Clone)]
struct WriterThread {
    runtime: tokio::runtime::Handle,
    /// Dropped with the last `Db` clone, which ends the thread.
    _stop: Arc<tokio::sync::oneshot::Sender<()>>,
}

impl WriterThread {
    /// Starts the thread; with `pin`, it runs on one core only (see
    /// [`pin_to_one_core`]).
    fn start(pin: bool) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                if pin {
                    pin_to_one_core();
                }
                let _ = runtime.block_on(stopped);
            })?;
        Ok(Self {
            runtime: handle,
            _stop: Arc::new(stop),
        })
    }
}

/// Keeps the calling thread on the last core it may run on.
///
/// Every statement of a write is a round trip between the writer thread and
/// sqlx's worker thread of the writer's connection, which inherits this
/// thread's cores. On one core a round trip is two context switches; on two,
/// each wake-up crosses cores, and on a virtual machine that goes through the
/// host (the thread profile of a create was mostly the kernel's wake-ups).
fn pin_to_one_core() {
    let Some(last) = core_affinity::get_core_ids().and_then(|cores| cores.last().copied()) else {
        tracing::warn!("could not read this thread's cores; the SQLite writer is not pinned");
        return;
    };
    if !core_affinity::set_for_current(last) {
        tracing::warn!(core = last.id, "could not pin the SQLite writer to a core");
    }
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
        // sqlx pings a connection on every checkout by default: one more
        // round trip per read (to SQLite's worker thread, or to PostgreSQL).
        // One used within the last second is taken as alive, as HikariCP
        // does; one idle longer (perhaps cut by a restart) is still tested.
        .test_before_acquire_if_idle_for(Duration::from_secs(1))
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
    /// Connects to `url` (`sqlite://...` or `postgres://...`), the SQLite
    /// writer pinned (the settings' default).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        let options = DbOptions {
            max_connections,
            log_sql: false,
            pin_sqlite_writer: true,
        };
        Self::connect_with(url, options).await
    }

    /// [`Db::connect`] with `options`.
    pub async fn connect_with(url: &str, options: DbOptions) -> Result<Self, DbErr> {
        let conn =
            Database::connect(pool_options(url, options.max_connections, options.log_sql)).await?;
        if conn.get_database_backend() != DbBackend::Sqlite {
            return Ok(Self {
                conn,
                sqlite_writer: None,
            });
        }
        conn.execute_unprepared("PRAGMA journal_mode = WAL").await?;
        let thread = WriterThread::start(options.pin_sqlite_writer)
            .map_err(|err| DbErr::Custom(format!("could not start the writer thread: {err}")))?;
        // An in-memory database is private to its connection: there, the
        // pool's connections write too.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let writer_conn = if in_memory {
            conn.clone()
        } else {
            // Opened on the writer thread, so that sqlx's worker thread for
            // it starts there and shares its core. Never retired for age or
            // idleness: a replacement would be opened by whichever task
            // next writes, on any core.
            let mut writer_options = pool_options(url, 1, options.log_sql);
            writer_options
                .idle_timeout(None)
                .max_lifetime(None)
                .map_sqlx_sqlite_opts(|opts| opts.thread_name(|_| "sqlite-writer-io".into()));
            let opening = thread.runtime.spawn(Database::connect(writer_options));
            opening
                .await
                .map_err(|err| DbErr::Custom(format!("the writer thread stopped: {err}")))??
        };
        Ok(Self {
            conn,
            sqlite_writer: Some(SqliteWriter {
                turn: Arc::new(Mutex::new(())),
                conn: writer_conn,
                thread,
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

    /// Runs `work`, which writes, on SQLite's writer thread (see
    /// [`WriterThread`]), which shares a core with the writer connection's
    /// worker ([`pin_to_one_core`]); on PostgreSQL, here. It runs to its
    /// end even if the caller stops waiting.
    pub async fn on_writer_thread<T, W>(&self, work: W) -> Result<T, DbErr>
    where
        T: Send + 'static,
        W: Future<Output = T> + Send + 'static,
    {
        let Some(writer) = &self.sqlite_writer else {
            return Ok(work.await);
        };
        match writer.thread.runtime.spawn(work).await {
            Ok(done) => Ok(done),
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(err) => Err(DbErr::Custom(format!("the writer thread stopped: {err}"))),
        }
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.conn.ping().await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_database() -> (std::path::PathBuf, String) {
        let path = std::env::temp_dir().join(format!(
            "storehub-writer-thread-{}-{}.db",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        (path, url)
    }

    #[tokio::test]
    async fn sqlite_writes_run_on_the_writer_thread_which_ends_with_the_last_handle() {
        let (path, url) = temp_database();
        let db = Db::connect(&url, 2).await.expect("connect");
        let thread_name = db
            .on_writer_thread(async { std::thread::current().name().map(str::to_owned) })
            .await
            .expect("ran");
        assert_eq!(thread_name.as_deref(), Some("sqlite-writer"));

        // The work writes through the writer's turn like any other write.
        let writing = db.clone();
        db.on_writer_thread(async move {
            let tx = writing.write().await?;
            tx.execute_unprepared("CREATE TABLE t (n INTEGER)").await?;
            tx.execute_unprepared("INSERT INTO t VALUES (7)").await?;
            tx.commit().await
        })
        .await
        .expect("ran")
        .expect("wrote");
        let count = db
            .conn()
            .query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Sqlite,
                "SELECT COUNT(*) AS n FROM t",
            ))
            .await
            .expect("read")
            .expect("a row")
            .try_get::<i64>("", "n")
            .expect("n");
        assert_eq!(count, 1);

        let runtime = db
            .sqlite_writer
            .as_ref()
            .expect("a SQLite writer")
            .thread
            .runtime
            .clone();
        drop(db);
        let mut stopped = false;
        for _ in 0..200 {
            if runtime.spawn(async {}).await.is_err() {
                stopped = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(stopped, "the writer thread outlived the last Db handle");
        let _ = std::fs::remove_file(&path);
    }

    /// The cores a thread of this process may run on, from `/proc`.
    #[cfg(target_os = "linux")]
    fn allowed_cores(status_path: &std::path::Path) -> String {
        let status = std::fs::read_to_string(status_path).expect("thread status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
            .expect("Cpus_allowed_list")
            .trim()
            .to_owned()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_writer_connection_works_on_the_writer_threads_one_core() {
        let (path, url) = temp_database();
        let db = Db::connect(&url, 2).await.expect("connect");
        let writer_cores = db
            .on_writer_thread(async { allowed_cores("/proc/thread-self/status".as_ref()) })
            .await
            .expect("ran");
        let expected = core_affinity::get_core_ids()
            .and_then(|cores| cores.last().copied())
            .expect("cores");
        assert_eq!(writer_cores, expected.id.to_string());

        // Thread names are cut to 15 bytes in `comm`.
        let mut io_threads = 0;
        for task in std::fs::read_dir("/proc/self/task").expect("tasks") {
            let task = task.expect("task").path();
            let name = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
            if name.trim_end() == "sqlite-writer-i" {
                io_threads += 1;
                assert_eq!(allowed_cores(&task.join("status")), writer_cores);
            }
        }
        assert!(
            io_threads >= 1,
            "no worker thread for the writer's connection"
        );
        let _ = std::fs::remove_file(&path);
    }

    #[tokio::test]
    async fn a_panic_in_writer_work_reaches_the_caller() {
        let (path, url) = temp_database();
        let db = Db::connect(&url, 1).await.expect("connect");
        let outcome = tokio::spawn(async move {
            db.on_writer_thread(async { panic!("boom in the writer") })
                .await
        })
        .await;
        let panic = outcome.expect_err("the panic came back");
        assert!(panic.is_panic());
        let _ = std::fs::remove_file(&path);
    }
}
