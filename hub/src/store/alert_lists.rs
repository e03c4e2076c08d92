//! Store alert lists: who is subscribed, on which channels.

use chrono::{DateTime, Utc};
use schema::entities::{alert_subscription, staff, store};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

pub async fn upsert(
    conn: &impl ConnectionTrait,
    store_id: i64,
    staff_id: i64,
    channels_json: &str,
    quiet_hours_json: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = alert_subscription::ActiveModel {
        store_id: Set(store_id),
        staff_id: Set(staff_id),
        channels: Set(channels_json.to_string()),
        quiet_hours: Set(quiet_hours_json),
        updated_at: Set(now),
    };
    alert_subscription::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                alert_subscription::Column::StoreId,
                alert_subscription::Column::StaffId,
            ])
            .update_columns([
                alert_subscription::Column::Channels,
                alert_subscription::Column::QuietHours,
                alert_subscription::Column::UpdatedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

pub async fn remove(
    conn: &impl ConnectionTrait,
    store_id: i64,
    staff_id: i64,
) -> Result<bool, DbErr> {
    let result = alert_subscription::Entity::delete_many()
        .filter(alert_subscription::Column::StoreId.eq(store_id))
        .filter(alert_subscription::Column::StaffId.eq(staff_id))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The list of a store with each member's account.
pub async fn members(
    conn: &impl ConnectionTrait,
    store_id: i64,
) -> Result<Vec<(alert_subscription::Model, staff::Model)>, DbErr> {
    let subscriptions = alert_subscription::Entity::find()
        .filter(alert_subscription::Column::StoreId.eq(store_id))
        .order_by_asc(alert_subscription::Column::StaffId)
        .all(conn)
        .await?;
    if subscriptions.is_empty() {
        // No list: nobody to read (a create reads this for every reservation).
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = subscriptions.iter().map(|s| s.staff_id).collect();
    let people = staff::Entity::find()
        .filter(staff::Column::Id.is_in(ids))
        .filter(staff::Column::Active.eq(true))
        .all(conn)
        .await?;
    Ok(subscriptions
        .into_iter()
        .filter_map(|s| {
            let person = people.iter().find(|p| p.id == s.staff_id)?.clone();
            Some((s, person))
        })
        .collect())
}

/// One staff member's subscriptions, with each store's code.
pub async fn of_staff(
    conn: &impl ConnectionTrait,
    staff_id: i64,
) -> Result<Vec<(alert_subscription::Model, String)>, DbErr> {
    let subscriptions = alert_subscription::Entity::find()
        .filter(alert_subscription::Column::StaffId.eq(staff_id))
        .order_by_asc(alert_subscription::Column::StoreId)
        .all(conn)
        .await?;
    let ids: Vec<i64> = subscriptions.iter().map(|s| s.store_id).collect();
    let stores = store::Entity::find()
        .filter(store::Column::Id.is_in(ids))
        .all(conn)
        .await?;
    Ok(subscriptions
        .into_iter()
        .filter_map(|s| {
            let code = stores.iter().find(|st| st.id == s.store_id)?.code.clone();
            Some((s, code))
        })
        .collect())
}
