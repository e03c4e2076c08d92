//! Reservations and their lines.

use chrono::{DateTime, Utc};
use schema::entities::{customer, reservation, reservation_line};

use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Func, IntoIden, Query, TableRef, UpdateStatement, ValueTuple,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    Iterable, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

use super::articles::like_escape;
use crate::domain::reservation::State;

pub async fn insert(
    conn: &impl ConnectionTrait,
    model: reservation::ActiveModel,
) -> Result<reservation::Model, DbErr> {
    model.insert(conn).await
}

/// Inserts a reservation's lines and returns them in id order.
pub async fn insert_lines(
    conn: &impl ConnectionTrait,
    lines: Vec<reservation_line::ActiveModel>,
) -> Result<Vec<reservation_line::Model>, DbErr> {
    let mut inserted = reservation_line::Entity::insert_many(lines)
        .exec_with_returning(conn)
        .await?;
    // RETURNING gives no order guarantee.
    inserted.sort_by_key(|line| line.id);
    Ok(inserted)
}

pub async fn find_by_number(
    conn: &impl ConnectionTrait,
    number: &str,
) -> Result<Option<reservation::Model>, DbErr> {
    super::by_key(
        reservation::Entity::find().filter(reservation::Column::Number.eq(number)),
        conn,
    )
    .await
}

pub async fn find_by_id(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<reservation::Model>, DbErr> {
    super::by_key(reservation::Entity::find_by_id(id), conn).await
}

/// The reservations among `ids` that exist (any order).
pub async fn find_many(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<reservation::Model>, DbErr> {
    let mut rows = Vec::with_capacity(ids.len());
    // Well under every backend's limit of bound values per statement.
    for chunk in ids.chunks(500) {
        let found = reservation::Entity::find()
            .filter(reservation::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await?;
        rows.extend(found);
    }
    Ok(rows)
}

/// Records how many units of a line went back on the shelf.
pub async fn set_put_back(
    conn: &impl ConnectionTrait,
    line_id: i64,
    quantity: i64,
) -> Result<(), DbErr> {
    reservation_line::Entity::update_many()
        .col_expr(
            reservation_line::Column::PutBackQuantity,
            Expr::value(quantity),
        )
        .filter(reservation_line::Column::Id.eq(line_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// `state = '<state>'` in a form no index serves. Given the plain
/// comparison, SQLite walks the (state, next_reminder_at) index over every
/// reservation in that state instead of looking up the ids: 165 µs a
/// reminder at 100,000 pending instead of 21 µs (BENCHMARKS.md, timers).
fn state_is_unindexed(state: State) -> Expr {
    state_in_unindexed(&[state])
}

/// `state IN (...)`, likewise in a form no index serves.
fn state_in_unindexed(states: &[State]) -> Expr {
    // Fixed state names, not input: safe to inline.
    let names: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
    Expr::cust(format!("\"state\" || '' IN ({})", names.join(", ")))
}

/// Advances the reminders of `moves` (id, due, next) in one statement per
/// 200, each only if still pending and due at `due` (of two hubs firing the
/// same one, exactly one moves it). Returns the rows that moved, as moved.
pub async fn advance_reminders(
    conn: &impl ConnectionTrait,
    moves: &[(i64, DateTime<Utc>, DateTime<Utc>)],
) -> Result<Vec<reservation::Model>, DbErr> {
    let mut moved = Vec::with_capacity(moves.len());
    for chunk in moves.chunks(200) {
        for row in conn.query_all(&advance_reminders_statement(chunk)).await? {
            moved.push(reservation::Model::from_query_result(&row, "")?);
        }
    }
    Ok(moved)
}

/// The guarded update of [`advance_reminders`] for one chunk of moves.
/// The moves join as a `VALUES` list (`column1` id, `column2` due,
/// `column3` next): a `CASE` per column made SQLite compare every row with
/// every move.
pub fn advance_reminders_statement(
    moves: &[(i64, DateTime<Utc>, DateTime<Utc>)],
) -> UpdateStatement {
    use reservation::Column as C;
    let list = Alias::new("moves");
    let rows = moves
        .iter()
        .map(|(id, due, next)| ValueTuple::Three((*id).into(), (*due).into(), (*next).into()))
        .collect();
    let of_list = |column: &str| Expr::col((list.clone(), Alias::new(column)));
    Query::update()
        .table(reservation::Entity)
        .value(C::RemindersSent, Expr::col(C::RemindersSent).add(1))
        .value(C::NextReminderAt, of_list("column3"))
        .from(TableRef::ValuesList(rows, list.clone().into_iden()))
        // Found by key, then checked: still pending and still due.
        .and_where(Expr::col((reservation::Entity, C::Id)).eq(of_list("column1")))
        .and_where(state_is_unindexed(State::Pending))
        .and_where(Expr::col((reservation::Entity, C::NextReminderAt)).eq(of_list("column2")))
        // Named, not `*`: PostgreSQL's `*` would add the list's columns.
        .returning(Query::returning().columns(C::iter()))
        .to_owned()
}

/// Clears the pickup reminder once, if still due at `due`.
pub async fn clear_pickup_reminder(
    conn: &impl ConnectionTrait,
    id: i64,
    due: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = reservation::Entity::update_many()
        .col_expr(
            reservation::Column::PickupReminderAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(reservation::Column::Id.eq(id))
        .filter(reservation::Column::State.eq(State::SetAside.as_str()))
        .filter(reservation::Column::PickupReminderAt.eq(due))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records the overdue escalation once.
pub async fn mark_overdue(
    conn: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = reservation::Entity::update_many()
        .col_expr(reservation::Column::OverdueNotifiedAt, Expr::value(now))
        .filter(reservation::Column::Id.eq(id))
        .filter(reservation::Column::State.eq(State::Pending.as_str()))
        .filter(reservation::Column::OverdueNotifiedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The columns that decide an open reservation's timers.
#[derive(Debug, sea_orm::FromQueryResult)]
pub struct LiveTimers {
    pub id: i64,
    pub store_id: i64,
    pub state: String,
    pub next_reminder_at: Option<DateTime<Utc>>,
    pub confirm_by: Option<DateTime<Utc>>,
    pub overdue_notified_at: Option<DateTime<Utc>>,
    pub validate_by: Option<DateTime<Utc>>,
    pub pickup_by: Option<DateTime<Utc>>,
    pub pickup_reminder_at: Option<DateTime<Utc>>,
}

/// One page of the reservations that still have a timer (open ones), after
/// `after_id` in id order, for the boot rebuild: only what the timers need,
/// so no actor has to read its row before its first due time. Read a page
/// at a time because decoding a million rows at once held about a kilobyte
/// each that the allocator then kept.
pub async fn live_timers_page(
    conn: &impl ConnectionTrait,
    after_id: i64,
    limit: u64,
) -> Result<Vec<LiveTimers>, DbErr> {
    live_timers_page_query(after_id, limit)
        .into_model::<LiveTimers>()
        .all(conn)
        .await
}

/// The query of `live_timers_page`. The state test must not use the
/// (state, ...) indexes: SQLite would then read and sort every open
/// reservation for each page, instead of walking the ids from `after_id`.
pub fn live_timers_page_query(after_id: i64, limit: u64) -> Select<reservation::Entity> {
    use reservation::Column as C;
    reservation::Entity::find()
        .select_only()
        .columns([
            C::Id,
            C::StoreId,
            C::State,
            C::NextReminderAt,
            C::ConfirmBy,
            C::OverdueNotifiedAt,
            C::ValidateBy,
            C::PickupBy,
            C::PickupReminderAt,
        ])
        .filter(C::Id.gt(after_id))
        .filter(state_in_unindexed(&[
            State::AwaitingValidation,
            State::Pending,
            State::SetAside,
        ]))
        .order_by_asc(C::Id)
        .limit(limit)
}

/// Sets the reintegration once; false if it was already recorded.
pub async fn mark_put_back(
    conn: &impl ConnectionTrait,
    id: i64,
    reintegration: &str,
    by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = reservation::Entity::update_many()
        .col_expr(
            reservation::Column::Reintegration,
            Expr::value(reintegration),
        )
        .col_expr(
            reservation::Column::HandledBy,
            Expr::value(by.map(str::to_string)),
        )
        .col_expr(reservation::Column::UpdatedAt, Expr::value(now))
        .filter(reservation::Column::Id.eq(id))
        .filter(reservation::Column::Reintegration.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn find_by_tracking_token(
    conn: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<reservation::Model>, DbErr> {
    super::by_key(
        reservation::Entity::find().filter(reservation::Column::TrackingToken.eq(token)),
        conn,
    )
    .await
}

pub async fn find_by_validation_token(
    conn: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<reservation::Model>, DbErr> {
    super::by_key(
        reservation::Entity::find().filter(reservation::Column::ValidationToken.eq(token)),
        conn,
    )
    .await
}

pub async fn lines(
    conn: &impl ConnectionTrait,
    reservation_id: i64,
) -> Result<Vec<reservation_line::Model>, DbErr> {
    reservation_line::Entity::find()
        .filter(reservation_line::Column::ReservationId.eq(reservation_id))
        .order_by_asc(reservation_line::Column::Id)
        .all(conn)
        .await
}

pub async fn lines_of_many(
    conn: &impl ConnectionTrait,
    reservation_ids: Vec<i64>,
) -> Result<Vec<reservation_line::Model>, DbErr> {
    reservation_line::Entity::find()
        .filter(reservation_line::Column::ReservationId.is_in(reservation_ids))
        .order_by_asc(reservation_line::Column::Id)
        .all(conn)
        .await
}

/// Moves a reservation from `from` to the changes in `update`, only if it is
/// still in `from`: of two concurrent actions, exactly one matches.
pub async fn transition(
    conn: &impl ConnectionTrait,
    id: i64,
    from: State,
    update: reservation::ActiveModel,
) -> Result<bool, DbErr> {
    let result = reservation::Entity::update_many()
        .set(update)
        .col_expr(
            reservation::Column::Version,
            Expr::col(reservation::Column::Version).add(1),
        )
        .filter(reservation::Column::Id.eq(id))
        .filter(reservation::Column::State.eq(from.as_str()))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Open reservations of a store holding a given article, newest first.
pub async fn open_holding_article(
    conn: &impl ConnectionTrait,
    store_id: i64,
    article_id: i64,
) -> Result<Vec<(reservation::Model, i64)>, DbErr> {
    let open_states = [State::AwaitingValidation, State::Pending, State::SetAside]
        .map(|s| s.as_str().to_string());
    let lines = reservation_line::Entity::find()
        .filter(reservation_line::Column::ArticleId.eq(article_id))
        .filter(
            reservation_line::Column::ReservationId.in_subquery(
                Query::select()
                    .column(reservation::Column::Id)
                    .from(reservation::Entity)
                    .and_where(Expr::col(reservation::Column::StoreId).eq(store_id))
                    .and_where(Expr::col(reservation::Column::State).is_in(open_states))
                    .to_owned(),
            ),
        )
        .all(conn)
        .await?;
    let ids: Vec<i64> = lines.iter().map(|l| l.reservation_id).collect();
    let mut reservations = reservation::Entity::find()
        .filter(reservation::Column::Id.is_in(ids))
        .order_by_desc(reservation::Column::CreatedAt)
        .order_by_desc(reservation::Column::Id)
        .all(conn)
        .await?;
    reservations.retain(|r| State::parse(&r.state).is_some_and(State::is_open));
    Ok(reservations
        .into_iter()
        .map(|r| {
            let quantity = lines
                .iter()
                .filter(|l| l.reservation_id == r.id)
                .map(|l| l.quantity)
                .sum();
            (r, quantity)
        })
        .collect())
}

/// What a store's board shows: pending, set aside, and set-aside
/// reservations that ended uncollected and are not yet put back.
pub async fn board_rows(
    conn: &impl ConnectionTrait,
    store_id: i64,
) -> Result<Vec<reservation::Model>, DbErr> {
    let live = Condition::all()
        .add(reservation::Column::State.is_in([State::Pending.as_str(), State::SetAside.as_str()]));
    let to_put_back = Condition::all()
        .add(reservation::Column::WasSetAside.eq(true))
        .add(reservation::Column::Reintegration.is_null())
        .add(
            reservation::Column::State.is_in([State::Cancelled.as_str(), State::Expired.as_str()]),
        );
    reservation::Entity::find()
        .filter(reservation::Column::StoreId.eq(store_id))
        .filter(Condition::any().add(live).add(to_put_back))
        .order_by_asc(reservation::Column::CreatedAt)
        .all(conn)
        .await
}

/// Reservations whose validation link ran out.
pub async fn validation_due(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<reservation::Model>, DbErr> {
    reservation::Entity::find()
        .filter(reservation::Column::State.eq(State::AwaitingValidation.as_str()))
        .filter(reservation::Column::ValidateBy.lte(now))
        .order_by_asc(reservation::Column::ValidateBy)
        .limit(limit)
        .all(conn)
        .await
}

/// Set-aside reservations past their pickup deadline.
pub async fn pickup_due(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<reservation::Model>, DbErr> {
    reservation::Entity::find()
        .filter(reservation::Column::State.eq(State::SetAside.as_str()))
        .filter(reservation::Column::PickupBy.lte(now))
        .order_by_asc(reservation::Column::PickupBy)
        .limit(limit)
        .all(conn)
        .await
}

/// The back-office search filters of SPEC.md.
#[derive(Debug, Default, Clone)]
pub struct SearchFilter {
    /// Only these stores (a staff member's own, say).
    pub store_ids: Option<Vec<i64>>,
    pub states: Vec<State>,
    pub number: Option<String>,
    /// Words of the customer's name or email.
    pub customer: Option<String>,
    /// Words of the article designation or its SKU.
    pub article: Option<String>,
    /// Any of number, customer or article.
    pub text: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub transferred: Option<bool>,
}

fn contains(column: impl sea_orm::sea_query::IntoColumnRef, words: &str) -> Expr {
    Expr::expr(Func::lower(Expr::col(column)))
        .like(format!("%{}%", like_escape(&words.to_lowercase())))
}

fn customer_matches(words: &str) -> Condition {
    let customers = Query::select()
        .column(customer::Column::Id)
        .from(customer::Entity)
        .cond_where(
            Condition::any()
                .add(contains(customer::Column::FirstName, words))
                .add(contains(customer::Column::LastName, words))
                .add(contains(customer::Column::Email, words)),
        )
        .to_owned();
    Condition::all().add(reservation::Column::CustomerId.in_subquery(customers))
}

fn article_matches(words: &str) -> Condition {
    let lines = Query::select()
        .column(reservation_line::Column::ReservationId)
        .from(reservation_line::Entity)
        .cond_where(
            Condition::any()
                .add(contains(reservation_line::Column::Designation, words))
                .add(contains(reservation_line::Column::Sku, words)),
        )
        .to_owned();
    Condition::all().add(reservation::Column::Id.in_subquery(lines))
}

/// One page of matches, newest first, and the total count.
pub async fn search(
    conn: &impl ConnectionTrait,
    filter: &SearchFilter,
    page: u64,
    per_page: u64,
) -> Result<(Vec<reservation::Model>, u64), DbErr> {
    let mut condition = Condition::all();
    if let Some(store_ids) = &filter.store_ids {
        condition = condition.add(reservation::Column::StoreId.is_in(store_ids.clone()));
    }
    if !filter.states.is_empty() {
        condition = condition.add(
            reservation::Column::State.is_in(filter.states.iter().map(|s| s.as_str().to_string())),
        );
    }
    if let Some(number) = &filter.number {
        condition = condition.add(reservation::Column::Number.eq(number.as_str()));
    }
    if let Some(words) = &filter.customer {
        condition = condition.add(customer_matches(words));
    }
    if let Some(words) = &filter.article {
        condition = condition.add(article_matches(words));
    }
    if let Some(text) = &filter.text {
        condition = condition.add(
            Condition::any()
                .add(contains(reservation::Column::Number, text))
                .add(customer_matches(text))
                .add(article_matches(text)),
        );
    }
    if let Some(from) = filter.from {
        condition = condition.add(reservation::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        condition = condition.add(reservation::Column::CreatedAt.lt(to));
    }
    match filter.transferred {
        Some(true) => condition = condition.add(reservation::Column::OrderRef.is_not_null()),
        Some(false) => condition = condition.add(reservation::Column::OrderRef.is_null()),
        None => {}
    }
    let paginator = reservation::Entity::find()
        .filter(condition)
        .order_by_desc(reservation::Column::CreatedAt)
        .order_by_desc(reservation::Column::Id)
        .paginate(conn, per_page);
    let total = paginator.num_items().await?;
    let items = paginator.fetch_page(page).await?;
    Ok((items, total))
}

/// On PostgreSQL, locks rows a transaction is about to change, in the
/// order every writer takes them: reservations, then stock, then stores,
/// each by id (a create or a hand-over locks its customer before all of
/// them). The stock is the lines of `reservation_ids` plus `more_stock`,
/// as (store id, article id).
///
/// Why: a writer that changed several reservations or articles one after
/// the other could hold a store's row while it waited for stock that a
/// create held while it waited for that store: a deadlock. SQLite has one
/// writer and nothing to order.
pub async fn lock_in_order(
    conn: &impl ConnectionTrait,
    reservation_ids: &[i64],
    more_stock: &[(i64, i64)],
    store_ids: &[i64],
) -> Result<(), DbErr> {
    if conn.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    // Ids are integers: written into the text, they need no parameters.
    let list = |ids: &[i64]| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let mut stock_of = Vec::new();
    if !reservation_ids.is_empty() {
        stock_of.push(format!(
            "(s.store_id, s.article_id) IN (SELECT r.store_id, l.article_id \
             FROM reservation_lines l JOIN reservations r ON r.id = l.reservation_id \
             WHERE r.id IN ({}))",
            list(reservation_ids)
        ));
        conn.execute_unprepared(&format!(
            "SELECT id FROM reservations WHERE id IN ({}) ORDER BY id FOR UPDATE",
            list(reservation_ids)
        ))
        .await?;
    }
    if !more_stock.is_empty() {
        let pairs: Vec<String> = more_stock
            .iter()
            .map(|(store, article)| format!("({store},{article})"))
            .collect();
        stock_of.push(format!(
            "(s.store_id, s.article_id) IN ({})",
            pairs.join(",")
        ));
    }
    if !stock_of.is_empty() {
        conn.execute_unprepared(&format!(
            "SELECT s.store_id FROM stock_levels s WHERE {} \
             ORDER BY s.store_id, s.article_id FOR UPDATE OF s",
            stock_of.join(" OR ")
        ))
        .await?;
    }
    if !store_ids.is_empty() {
        conn.execute_unprepared(&format!(
            "SELECT id FROM stores WHERE id IN ({}) ORDER BY id FOR UPDATE",
            list(store_ids)
        ))
        .await?;
    }
    Ok(())
}
