//! Store alert lists: staff and managers subscribe themselves with channels
//! and quiet hours; managers see who is on the lists of their stores. Also
//! decides who receives a team alert.

use chrono::{DateTime, NaiveTime, Timelike, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::staff::Role;
use super::{Caller, StaffIdentity};
use crate::catalogue_cache::TeamAhead;
use crate::context::AppContext;
use crate::domain::settings::AlertRecipients;
use crate::error::ApiError;
use crate::store as db;

/// Channels a team member can be alerted on.
pub const CHANNELS: [&str; 4] = ["ws", "web_push", "fcm", "email"];

/// Do not disturb between two times of day, in the store's time zone. May
/// cross midnight (`22:00` to `07:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// `HH:MM`
    #[schema(value_type = String, example = "22:00")]
    pub from: NaiveTime,
    /// `HH:MM`
    #[schema(value_type = String, example = "07:00")]
    pub to: NaiveTime,
}

impl QuietHours {
    /// Whether a local time of day falls inside the quiet period.
    pub fn contains(&self, local: NaiveTime) -> bool {
        let t = local.num_seconds_from_midnight();
        let (from, to) = (
            self.from.num_seconds_from_midnight(),
            self.to.num_seconds_from_midnight(),
        );
        if from <= to {
            from <= t && t < to
        } else {
            t >= from || t < to
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    /// Any of `ws`, `web_push`, `fcm`, `email`.
    pub channels: Vec<String>,
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ListMember {
    pub staff_id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub channels: Vec<String>,
    pub quiet_hours: Option<QuietHours>,
}

fn staff_of(caller: &Caller) -> Result<&StaffIdentity, ApiError> {
    match caller {
        Caller::Staff(identity) => Ok(identity),
        Caller::Integration { .. } => Err(ApiError::Forbidden {
            code: "staff_only",
            message: "Alert lists are for signed-in staff; sign in to subscribe.".into(),
        }),
    }
}

/// Subscribes the caller (or changes their channels) on a store's list.
pub async fn subscribe(
    ctx: &AppContext,
    caller: &Caller,
    store_code: &str,
    subscription: Subscription,
) -> Result<ListMember, ApiError> {
    let me = staff_of(caller)?;
    let store = super::catalogue::get_store(ctx, store_code).await?;
    caller.require_store(store.id, &store.code)?;
    let mut channels = Vec::new();
    for channel in &subscription.channels {
        if !CHANNELS.contains(&channel.as_str()) {
            return Err(ApiError::invalid(
                "unknown_channel",
                format!("`{channel}` is not a channel; use {}.", CHANNELS.join(", ")),
            ));
        }
        if !channels.contains(channel) {
            channels.push(channel.clone());
        }
    }
    if channels.is_empty() {
        return Err(ApiError::invalid(
            "no_channels",
            "Choose at least one channel, or unsubscribe with DELETE.",
        ));
    }
    let channels_json = serde_json::to_string(&channels).map_err(anyhow::Error::from)?;
    let quiet_json = subscription
        .quiet_hours
        .map(|q| serde_json::to_string(&q))
        .transpose()
        .map_err(anyhow::Error::from)?;
    let tx = ctx.db.write().await?;
    db::alert_lists::upsert(
        &*tx,
        store.id,
        me.id,
        &channels_json,
        quiet_json,
        ctx.clock.now(),
    )
    .await?;
    tx.commit().await?;
    ctx.catalogue.changed();
    let view = super::staff::view(ctx, me.id).await?;
    Ok(ListMember {
        staff_id: me.id,
        name: view.name,
        email: view.email,
        role: view.role,
        channels,
        quiet_hours: subscription.quiet_hours,
    })
}

pub async fn unsubscribe(
    ctx: &AppContext,
    caller: &Caller,
    store_code: &str,
) -> Result<(), ApiError> {
    let me = staff_of(caller)?;
    let store = super::catalogue::get_store(ctx, store_code).await?;
    let tx = ctx.db.write().await?;
    let removed = db::alert_lists::remove(&*tx, store.id, me.id).await?;
    tx.commit().await?;
    ctx.catalogue.changed();
    if !removed {
        return Err(ApiError::not_found(
            "not_subscribed",
            format!("You are not on the alert list of `{}`.", store.code),
        ));
    }
    Ok(())
}

fn member_view(
    subscription: &schema::entities::alert_subscription::Model,
    person: &schema::entities::staff::Model,
) -> ListMember {
    ListMember {
        staff_id: person.id,
        name: person.name.clone(),
        email: person.email.clone(),
        role: Role::parse(&person.role).unwrap_or(Role::Staff),
        channels: serde_json::from_str(&subscription.channels).unwrap_or_default(),
        quiet_hours: subscription
            .quiet_hours
            .as_deref()
            .and_then(|q| serde_json::from_str(q).ok()),
    }
}

/// A list the caller is on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MyList {
    pub store: String,
    pub channels: Vec<String>,
    pub quiet_hours: Option<QuietHours>,
}

/// The lists the signed-in staff member is on, by store.
pub async fn mine(ctx: &AppContext, caller: &Caller) -> Result<Vec<MyList>, ApiError> {
    let me = staff_of(caller)?;
    Ok(db::alert_lists::of_staff(ctx.db.conn(), me.id)
        .await?
        .into_iter()
        .map(|(subscription, store)| MyList {
            store,
            channels: serde_json::from_str(&subscription.channels).unwrap_or_default(),
            quiet_hours: subscription
                .quiet_hours
                .as_deref()
                .and_then(|q| serde_json::from_str(q).ok()),
        })
        .collect())
}

/// The members of a store's list: for its managers and admins.
pub async fn list(
    ctx: &AppContext,
    caller: &Caller,
    store_code: &str,
) -> Result<Vec<ListMember>, ApiError> {
    let store = super::catalogue::get_store(ctx, store_code).await?;
    let allowed = caller.is_admin()
        || matches!(caller, Caller::Staff(me) if me.role == Role::Manager && me.store_ids.contains(&store.id));
    if !allowed {
        return Err(ApiError::Forbidden {
            code: "manager_only",
            message: format!("Only the managers of `{}` see its alert list.", store.code),
        });
    }
    Ok(db::alert_lists::members(ctx.db.conn(), store.id)
        .await?
        .iter()
        .map(|(s, p)| member_view(s, p))
        .collect())
}

/// Who a team alert goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// The team: the list, or every member of the store (setting).
    Team,
    /// Escalation: the managers on the list.
    Managers,
}

/// One person to alert and the channels to use (the live WebSocket is not
/// one: open apps see every store event anyway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub staff_id: i64,
    pub email: String,
    pub channels: Vec<String>,
}

/// Resolves an audience at `now` from the store's team: members in their
/// quiet hours are left out.
pub fn recipients(
    team: &TeamAhead,
    store: &schema::entities::store::Model,
    who: AlertRecipients,
    audience: Audience,
    now: DateTime<Utc>,
) -> Result<Vec<Recipient>, ApiError> {
    let hours = super::opening_hours_of(store)?;
    let local = now.with_timezone(&hours.time_zone).time();
    let list = &team.list;
    let mut out = Vec::new();
    let from_list = audience == Audience::Managers || who == AlertRecipients::TeamList;
    if from_list {
        for (subscription, person) in list {
            let member = member_view(subscription, person);
            if audience == Audience::Managers && member.role != Role::Manager {
                continue;
            }
            if member.quiet_hours.is_some_and(|q| q.contains(local)) {
                continue;
            }
            out.push(Recipient {
                staff_id: person.id,
                email: person.email.clone(),
                channels: member.channels.into_iter().filter(|c| c != "ws").collect(),
            });
        }
    } else {
        for person in &team.members {
            let chosen = list
                .iter()
                .find(|(_, p)| p.id == person.id)
                .map(|(s, p)| member_view(s, p));
            if chosen
                .as_ref()
                .and_then(|m| m.quiet_hours)
                .is_some_and(|q| q.contains(local))
            {
                continue;
            }
            let channels = chosen
                .map(|m| m.channels.into_iter().filter(|c| c != "ws").collect())
                .unwrap_or_else(|| vec!["web_push".to_string(), "email".to_string()]);
            out.push(Recipient {
                staff_id: person.id,
                email: person.email.clone(),
                channels,
            });
        }
    }
    Ok(out)
}

/// Reads a store's team: its alert list and its active members.
pub async fn read_team(
    conn: &impl sea_orm::ConnectionTrait,
    store_id: i64,
) -> Result<TeamAhead, ApiError> {
    Ok(TeamAhead {
        list: db::alert_lists::members(conn, store_id).await?,
        members: db::staff::members_of_store(conn, store_id).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").unwrap()
    }

    #[test]
    fn quiet_hours_may_cross_midnight() {
        let night = QuietHours {
            from: t("22:00"),
            to: t("07:00"),
        };
        assert!(night.contains(t("23:30")) && night.contains(t("03:00")));
        assert!(!night.contains(t("07:00")) && !night.contains(t("12:00")));
        let lunch = QuietHours {
            from: t("12:00"),
            to: t("14:00"),
        };
        assert!(lunch.contains(t("12:00")) && !lunch.contains(t("14:00")));
    }
}
