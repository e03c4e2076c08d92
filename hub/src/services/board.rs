//! A store's board: what to take off the shelf, what is set aside, what to
//! put back, with counts. Read from the database, so it is right after any
//! restart; the WebSocket sends it as the snapshot.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use schema::entities::{reservation, store};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::reservations::LineView;
use crate::context::AppContext;
use crate::domain::reservation::State;
use crate::error::ApiError;
use crate::store as db;

/// One reservation as the team's phone shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BoardItem {
    pub number: String,
    pub state: State,
    pub customer_name: String,
    pub lines: Vec<LineView>,
    pub created_at: DateTime<Utc>,
    pub confirm_by: Option<DateTime<Utc>>,
    pub pickup_by: Option<DateTime<Utc>>,
    pub set_aside_at: Option<DateTime<Utc>>,
    /// Past the confirmation deadline and still not handled.
    pub overdue: bool,
    pub reminders_sent: i32,
    pub handled_by: Option<String>,
    /// none / partial / total once put back.
    pub reintegration: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BoardCounts {
    pub pending: usize,
    pub set_aside: usize,
    pub to_put_back: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Board {
    pub store: String,
    /// The store's event number this board includes (at least).
    pub seq: i64,
    pub counts: BoardCounts,
    /// To take off the shelf, oldest first.
    pub pending: Vec<BoardItem>,
    /// Waiting for the shopper, soonest deadline first.
    pub set_aside: Vec<BoardItem>,
    /// Ended uncollected after being set aside: back to the shelf.
    pub to_put_back: Vec<BoardItem>,
}

/// Summarises one reservation for the board and for live events.
pub async fn item(
    conn: &impl sea_orm::ConnectionTrait,
    reservation: &reservation::Model,
    now: DateTime<Utc>,
) -> Result<BoardItem, ApiError> {
    let lines = db::reservations::lines(conn, reservation.id).await?;
    let customer = db::customers::find_by_id(conn, reservation.customer_id).await?;
    Ok(item_from(reservation, &lines, customer.as_ref(), now))
}

/// Board items of the reservations `ids` (those that exist), by id: three
/// reads however many.
pub async fn items(
    conn: &impl sea_orm::ConnectionTrait,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<HashMap<i64, BoardItem>, ApiError> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let rows = db::reservations::find_many(conn, &ids).await?;
    let items = items_of_rows(conn, &rows, now).await?;
    Ok(rows.iter().map(|row| row.id).zip(items).collect())
}

/// Board items of `rows`, in their order: their lines and customers read
/// 500 at a time.
async fn items_of_rows(
    conn: &impl sea_orm::ConnectionTrait,
    rows: &[reservation::Model],
    now: DateTime<Utc>,
) -> Result<Vec<BoardItem>, ApiError> {
    let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    let lines = lines_by_reservation(conn, &ids).await?;
    let mut customer_ids: Vec<i64> = rows.iter().map(|r| r.customer_id).collect();
    customer_ids.sort_unstable();
    customer_ids.dedup();
    let mut customers = HashMap::new();
    for chunk in customer_ids.chunks(500) {
        for customer in db::customers::find_many(conn, chunk.to_vec()).await? {
            customers.insert(customer.id, customer);
        }
    }
    Ok(rows
        .iter()
        .map(|row| {
            let lines = lines.get(&row.id).map(Vec::as_slice).unwrap_or_default();
            item_from(row, lines, customers.get(&row.customer_id), now)
        })
        .collect())
}

/// The lines of the reservations `ids`, by reservation, read 500
/// reservations at a time (under SQLite's limit on bound values).
pub async fn lines_by_reservation(
    conn: &impl sea_orm::ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<schema::entities::reservation_line::Model>>, ApiError> {
    let mut lines: HashMap<i64, Vec<schema::entities::reservation_line::Model>> = HashMap::new();
    for chunk in ids.chunks(500) {
        for line in db::reservations::lines_of_many(conn, chunk.to_vec()).await? {
            lines.entry(line.reservation_id).or_default().push(line);
        }
    }
    Ok(lines)
}

/// One reservation's board item from its rows.
pub fn item_from(
    r: &reservation::Model,
    lines: &[schema::entities::reservation_line::Model],
    customer: Option<&schema::entities::customer::Model>,
    now: DateTime<Utc>,
) -> BoardItem {
    let state = State::parse(&r.state).unwrap_or(State::Pending);
    BoardItem {
        number: r.number.clone(),
        state,
        customer_name: customer
            .map(|c| match &c.last_name {
                Some(last) => format!("{} {last}", c.first_name),
                None => c.first_name.clone(),
            })
            .unwrap_or_default(),
        lines: lines
            .iter()
            .map(|l| LineView {
                sku: l.sku.clone(),
                designation: l.designation.clone(),
                variant: l.variant.clone(),
                ean: l.ean.clone(),
                quantity: l.quantity,
                put_back_quantity: l.put_back_quantity,
            })
            .collect(),
        created_at: r.created_at,
        confirm_by: r.confirm_by,
        pickup_by: r.pickup_by,
        set_aside_at: r.set_aside_at,
        overdue: state == State::Pending && r.confirm_by.is_some_and(|by| by <= now),
        reminders_sent: r.reminders_sent,
        handled_by: r.handled_by.clone(),
        reintegration: r.reintegration.clone(),
    }
}

/// Which list of the board an item belongs on, if any.
pub fn column(item: &BoardItem) -> Option<State> {
    match item.state {
        State::Pending | State::SetAside => Some(item.state),
        State::Cancelled | State::Expired
            if item.set_aside_at.is_some() && item.reintegration.is_none() =>
        {
            Some(State::Expired)
        }
        _ => None,
    }
}

/// Sorts items into the board's lists, with `overdue` as of `now`.
pub fn assemble(
    store: &str,
    seq: i64,
    items: impl IntoIterator<Item = BoardItem>,
    now: DateTime<Utc>,
) -> Board {
    let (mut pending, mut set_aside, mut to_put_back) = (Vec::new(), Vec::new(), Vec::new());
    for mut entry in items {
        entry.overdue =
            entry.state == State::Pending && entry.confirm_by.is_some_and(|by| by <= now);
        match column(&entry) {
            Some(State::Pending) => pending.push(entry),
            Some(State::SetAside) => set_aside.push(entry),
            Some(_) => to_put_back.push(entry),
            None => {}
        }
    }
    pending.sort_by(|a, b| (a.created_at, &a.number).cmp(&(b.created_at, &b.number)));
    set_aside.sort_by(|a, b| (a.pickup_by, &a.number).cmp(&(b.pickup_by, &b.number)));
    to_put_back.sort_by(|a, b| (a.created_at, &a.number).cmp(&(b.created_at, &b.number)));
    Board {
        store: store.to_string(),
        seq,
        counts: BoardCounts {
            pending: pending.len(),
            set_aside: set_aside.len(),
            to_put_back: to_put_back.len(),
        },
        pending,
        set_aside,
        to_put_back,
    }
}

/// The board of one store, read from the database. The sequence number is
/// read first: events after it may already show in the lists, never the
/// other way round, so applying later events as upserts misses nothing.
pub async fn load_board(ctx: &AppContext, store_id: i64, code: &str) -> Result<Board, ApiError> {
    let conn = ctx.db.conn();
    let seq = db::stores::find_by_id(conn, store_id)
        .await?
        .map(|s| s.event_seq)
        .unwrap_or(0);
    let now = ctx.clock.now();
    let rows = db::reservations::board_rows(conn, store_id).await?;
    let items = items_of_rows(conn, &rows, now).await?;
    Ok(assemble(code, seq, items, now))
}

/// The live board for a WebSocket snapshot: from the store's actor, in
/// memory and exactly at its sequence number, so the live events that follow
/// start right after it; from the database if the actor cannot answer.
pub async fn board(ctx: &AppContext, store: &store::Model) -> Result<Board, ApiError> {
    use crate::actors::directory::StoreAddr;
    use crate::actors::store::GetBoard;
    if let Some(directory) = ctx.directory.get()
        && let Ok(Some(actor)) = directory.send(StoreAddr { store_id: store.id }).await
        && let Ok(Some(board)) = actor.send(GetBoard).await
    {
        return Ok(board);
    }
    load_board(ctx, store.id, &store.code).await
}

/// The print-styled preparation slip of a reservation.
/// The slip page; `caller` (absent for a signed link, which authorises by
/// itself) must belong to the reservation's store.
pub async fn slip(
    ctx: &AppContext,
    caller: Option<&super::Caller>,
    number: &str,
) -> Result<String, ApiError> {
    use crate::pages::escape;
    let conn = ctx.db.conn();
    let reservation = super::reservations::find_typed_or_scanned(conn, number).await?;
    let loaded = super::reservations::load(conn, reservation).await?;
    if let Some(caller) = caller {
        caller.require_store(loaded.store.id, &loaded.store.code)?;
    }
    let tz: chrono_tz::Tz = loaded
        .store
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Europe::Paris);
    let when = |at: Option<DateTime<Utc>>| {
        at.map(|at| at.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string())
            .unwrap_or_else(|| "—".into())
    };
    let rows: String = loaded
        .lines
        .iter()
        .map(|l| {
            let ean = l.ean.as_deref().unwrap_or("");
            let code = crate::barcode::ean13_svg(ean).unwrap_or_else(|| escape(ean));
            format!(
                "<tr><td class=\"qty\">{}</td><td>{}{}<br><small>{}</small></td><td class=\"ean\">{code}</td></tr>",
                l.quantity,
                escape(&l.designation),
                l.variant.as_deref().map(|v| format!(" ({})", escape(v))).unwrap_or_default(),
                escape(&l.sku),
            )
        })
        .collect();
    let body = format!(
        "<section class=\"slip\"><h1>Bon de préparation <span class=\"number\">{number}</span></h1>\
<p>Client : <strong class=\"first-name\">{first}</strong><br>Magasin : {store}<br>Demandée le {created}<br>\
À retirer avant le <strong class=\"pickup\">{pickup}</strong></p>\
<table><thead><tr><th>Qté</th><th>Article</th><th>EAN</th></tr></thead><tbody>{rows}</tbody></table>\
<p class=\"no-print\"><button type=\"button\" onclick=\"print()\">Imprimer</button></p></section>",
        number = escape(&loaded.reservation.number),
        first = escape(&loaded.customer.first_name),
        store = escape(&loaded.store.name),
        created = when(Some(loaded.reservation.created_at)),
        pickup = when(loaded.reservation.pickup_by),
    );
    Ok(crate::pages::layout_page(
        "fr",
        &loaded.reservation.number,
        &body,
    ))
}
