//! The create baseline: the same stock hold and inserts the hub makes for a
//! reservation (guarded stock update, reservation, line, store sequence,
//! event, two outbox rows), as raw SQL in one transaction, through the same
//! connection settings (`hub::db::Db`: WAL, one writer at a time and the
//! writer's own thread on SQLite, a pool on PostgreSQL). No HTTP, no JSON,
//! no actors.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use anyhow::Context;
use hub::db::Db;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, Value as SqlValue};
use serde_json::{Value, json};

use super::create::{Load, closed_loop, on_hand, open_loop, sku};
use super::measure::{Plan, percentiles};

/// A database made for one run, dropped after it.
pub struct FreshDatabase(
    pub String,
    Option<(String, String)>,
    Option<std::path::PathBuf>,
);

impl FreshDatabase {
    pub async fn drop_it(self) {
        if let Some((admin, name)) = self.1
            && let Ok(conn) = Database::connect(admin).await
        {
            let _ = conn
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
        if let Some(dir) = self.2 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub async fn fresh_database(
    plan: &Plan,
    database: &str,
    tag: &str,
    round: u32,
) -> anyhow::Result<FreshDatabase> {
    let name = format!("storehub_bench_{tag}_{}_{round}", std::process::id());
    if database == "postgres" {
        let admin = format!("{}/postgres", plan.postgres);
        let conn = Database::connect(&admin)
            .await
            .context("PostgreSQL for the bench")?;
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
        conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        Ok(FreshDatabase(
            format!("{}/{name}", plan.postgres),
            Some((admin, name)),
            None,
        ))
    } else {
        let dir = std::env::temp_dir().join(&name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(FreshDatabase(
            format!("sqlite://{}/db.sqlite?mode=rwc", dir.display()),
            None,
            Some(dir),
        ))
    }
}

fn schema(backend: DbBackend) -> Vec<String> {
    let id = if backend == DbBackend::Postgres {
        "BIGSERIAL PRIMARY KEY"
    } else {
        "INTEGER PRIMARY KEY AUTOINCREMENT"
    };
    vec![
        "CREATE TABLE b_store (id BIGINT PRIMARY KEY, event_seq BIGINT NOT NULL)".into(),
        "CREATE TABLE b_stock (sku TEXT PRIMARY KEY, on_hand BIGINT NOT NULL, held BIGINT NOT NULL, CHECK (held >= 0), CHECK (on_hand >= held))".into(),
        format!("CREATE TABLE b_reservation (id {id}, number TEXT NOT NULL UNIQUE, state TEXT NOT NULL, customer TEXT NOT NULL, created_at TEXT NOT NULL)"),
        "CREATE TABLE b_line (reservation_id BIGINT NOT NULL, sku TEXT NOT NULL, quantity BIGINT NOT NULL)".into(),
        "CREATE TABLE b_event (store_id BIGINT NOT NULL, seq BIGINT NOT NULL, reservation_id BIGINT NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (store_id, seq))".into(),
        format!("CREATE TABLE b_outbox (id {id}, topic TEXT NOT NULL, payload TEXT NOT NULL, due_at TEXT NOT NULL)"),
        "INSERT INTO b_store (id, event_seq) VALUES (1, 0)".into(),
    ]
}

/// `$1`-style placeholders for PostgreSQL, `?` for SQLite.
fn sql(backend: DbBackend, text: &str) -> String {
    if backend == DbBackend::Postgres {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

async fn create_one(db: &Db, load: Load, serial: u64) -> anyhow::Result<Option<String>> {
    let backend = db.conn().get_database_backend();
    let stmt = |text: &str, values: Vec<SqlValue>| {
        Statement::from_sql_and_values(backend, sql(backend, text), values)
    };
    let now = chrono::Utc::now().to_rfc3339();
    let number = format!("R{serial:012}");
    let tx = db.write().await?;
    let held = tx
        .execute_raw(stmt(
            "UPDATE b_stock SET held = held + 1 WHERE sku = $1 AND on_hand - held >= 1",
            vec![sku(serial as usize % load.skus).into()],
        ))
        .await?;
    if held.rows_affected() != 1 {
        return Ok(None);
    }
    let reservation: i64 = tx
        .query_one_raw(stmt(
            "INSERT INTO b_reservation (number, state, customer, created_at) VALUES ($1, 'pending', $2, $3) RETURNING id",
            vec![number.clone().into(), format!("c{serial}").into(), now.clone().into()],
        ))
        .await?
        .context("reservation id")?
        .try_get("", "id")?;
    tx.execute_raw(stmt(
        "INSERT INTO b_line (reservation_id, sku, quantity) VALUES ($1, $2, 1)",
        vec![reservation.into(), sku(serial as usize % load.skus).into()],
    ))
    .await?;
    let seq: i64 = tx
        .query_one_raw(stmt(
            "UPDATE b_store SET event_seq = event_seq + 1 WHERE id = 1 RETURNING event_seq",
            vec![],
        ))
        .await?
        .context("seq")?
        .try_get("", "event_seq")?;
    tx.execute_raw(stmt(
        "INSERT INTO b_event (store_id, seq, reservation_id, kind, at) VALUES (1, $1, $2, 'created', $3)",
        vec![seq.into(), reservation.into(), now.clone().into()],
    ))
    .await?;
    let payload = json!({"reservation": number, "kind": "created"}).to_string();
    tx.execute_raw(stmt(
        "INSERT INTO b_outbox (topic, payload, due_at) VALUES ('shopper.email', $1, $2), ('team.alert', $3, $4)",
        vec![payload.clone().into(), now.clone().into(), payload.into(), now.into()],
    ))
    .await?;
    tx.commit().await?;
    Ok(Some(number))
}

pub async fn run(url: &str, load: Load) -> anyhow::Result<Value> {
    let db = Arc::new(Db::connect(url, 16).await?);
    let backend = db.conn().get_database_backend();
    for statement in schema(backend) {
        db.conn().execute_unprepared(&statement).await?;
    }
    for chunk in (0..load.skus).collect::<Vec<_>>().chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|i| format!("('{}', {}, 0)", sku(*i), on_hand(load.skus)))
            .collect();
        db.conn()
            .execute_unprepared(&format!(
                "INSERT INTO b_stock (sku, on_hand, held) VALUES {}",
                values.join(", ")
            ))
            .await?;
    }
    let serial = Arc::new(AtomicU64::new(0));
    let pool = db.clone();
    let create = move |n| {
        let db = pool.clone();
        async move {
            // As the hub's creates: on SQLite's writer thread, next to its
            // connection's worker (2,500-2,800 creates/s against 1,800 off it).
            let writing = db.clone();
            db.on_writer_thread(async move { create_one(&writing, load, n).await })
                .await?
        }
    };
    let capacity = closed_loop(load, std::process::id(), serial.clone(), create.clone()).await?;
    let (latencies, numbers) = open_loop(load, create, serial.clone()).await?;
    let confirmed = capacity.held + numbers.len() as u64;
    let row = db
        .conn()
        .query_one_raw(Statement::from_string(backend, "SELECT CAST(SUM(held) AS BIGINT) AS held, CAST(SUM(CASE WHEN held > on_hand THEN 1 ELSE 0 END) AS BIGINT) AS over FROM b_stock"))
        .await?
        .context("stock sums")?;
    let total: i64 = row.try_get("", "held")?;
    let over: i64 = row.try_get("", "over")?;
    db.conn().clone().close().await.ok();
    let http = percentiles(latencies);
    Ok(json!({
        "creates_per_sec": capacity.per_sec,
        "cpu_us_per_create": capacity.cpu_us_per_op,
        "p50_ms_at_rate": http["p50_ms"],
        "p99_ms_at_rate": http["p99_ms"],
        "p999_ms_at_rate": http["p999_ms"],
        "max_ms_at_rate": http["max_ms"],
        "oversold_or_leaked": ((total - confirmed as i64).abs() + over) as f64,
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_follow_the_backend() {
        let text = "UPDATE t SET a = $1 WHERE b = $2 AND c = $10";
        assert_eq!(super::sql(sea_orm::DbBackend::Postgres, text), text);
        assert_eq!(
            super::sql(sea_orm::DbBackend::Sqlite, text),
            "UPDATE t SET a = ? WHERE b = ? AND c = ?"
        );
    }
}
