//! Business settings of SPEC.md: defaults, validation, and the merge of
//! global values with a store's overrides.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A limit that differs for anonymous and identified shoppers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerCustomerKind {
    pub anonymous: u32,
    pub identified: u32,
}

impl PerCustomerKind {
    pub fn for_customer(self, identified: bool) -> u32 {
        if identified {
            self.identified
        } else {
            self.anonymous
        }
    }
}

/// Who receives the team alerts of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertRecipients {
    TeamList,
    AllUsers,
}

/// The effective business settings of one store (or the global ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessSettings {
    /// Nothing is reservable until the module is switched on.
    pub module_active: bool,
    /// Most units of one article in one reservation.
    pub max_quantity_per_article: PerCustomerKind,
    /// Most open reservations one shopper may have.
    pub max_open_reservations: PerCustomerKind,
    /// Most units one shopper may hold across open reservations.
    pub max_items_held: PerCustomerKind,
    /// Article lines per reservation ("one reservation per article" = 1).
    pub max_lines_per_reservation: u32,
    /// Days a set-aside article waits for the shopper.
    pub hold_days: u32,
    /// Opening-time minutes the store has to handle a new reservation.
    pub confirm_within_minutes: u32,
    /// Minutes between reminders to the team while unhandled.
    pub reminder_every_minutes: u32,
    pub alert_recipients: AlertRecipients,
    /// Anonymous shoppers confirm their email before the store sees the request.
    pub email_validation_for_anonymous: bool,
    /// Hours the validation link stays valid; then the stock is released.
    pub validation_link_hours: u32,
    /// Hours before the pickup deadline the shopper is reminded (0 = never).
    pub pickup_reminder_hours: u32,
}

impl Default for BusinessSettings {
    fn default() -> Self {
        Self {
            module_active: false,
            max_quantity_per_article: PerCustomerKind {
                anonymous: 2,
                identified: 5,
            },
            max_open_reservations: PerCustomerKind {
                anonymous: 15,
                identified: 10,
            },
            max_items_held: PerCustomerKind {
                anonymous: 30,
                identified: 45,
            },
            max_lines_per_reservation: 1,
            hold_days: 3,
            confirm_within_minutes: 120,
            reminder_every_minutes: 20,
            alert_recipients: AlertRecipients::TeamList,
            email_validation_for_anonymous: true,
            validation_link_hours: 24,
            pickup_reminder_hours: 24,
        }
    }
}

/// Why a settings change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("unknown setting `{0}`")]
    UnknownKey(String),
    #[error("setting `{key}`: {reason}")]
    InvalidValue { key: String, reason: String },
}

fn default_map() -> Map<String, Value> {
    match serde_json::to_value(BusinessSettings::default()) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// The setting names, as the API spells them.
pub fn known_keys() -> Vec<String> {
    default_map().keys().cloned().collect()
}

impl BusinessSettings {
    /// Defaults, then each layer of overrides in order (global, then store).
    /// Stored values are validated on save, so a bad one here is ignored.
    pub fn resolve<'a>(layers: impl IntoIterator<Item = &'a Map<String, Value>>) -> Self {
        let mut merged = default_map();
        for layer in layers {
            for (key, value) in layer {
                if merged.contains_key(key) {
                    let mut candidate = merged.clone();
                    candidate.insert(key.clone(), value.clone());
                    if Self::from_map(candidate).is_ok() {
                        merged.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        Self::from_map(merged).unwrap_or_default()
    }

    fn from_map(map: Map<String, Value>) -> Result<Self, SettingsError> {
        let settings: Self = serde_json::from_value(Value::Object(map)).map_err(|err| {
            SettingsError::InvalidValue {
                key: "settings".into(),
                reason: err.to_string(),
            }
        })?;
        settings.check_ranges()?;
        Ok(settings)
    }

    fn check_ranges(&self) -> Result<(), SettingsError> {
        let bad = |key: &str, reason: &str| {
            Err(SettingsError::InvalidValue {
                key: key.into(),
                reason: reason.into(),
            })
        };
        let positive = |pair: PerCustomerKind| pair.anonymous >= 1 && pair.identified >= 1;
        if !positive(self.max_quantity_per_article) {
            return bad("max_quantity_per_article", "must be at least 1");
        }
        if !positive(self.max_open_reservations) {
            return bad("max_open_reservations", "must be at least 1");
        }
        if !positive(self.max_items_held) {
            return bad("max_items_held", "must be at least 1");
        }
        if self.max_lines_per_reservation < 1 || self.max_lines_per_reservation > 100 {
            return bad("max_lines_per_reservation", "must be between 1 and 100");
        }
        if self.hold_days < 1 || self.hold_days > 60 {
            return bad("hold_days", "must be between 1 and 60");
        }
        if self.confirm_within_minutes < 1 || self.confirm_within_minutes > 60 * 24 * 14 {
            return bad("confirm_within_minutes", "must be between 1 and 20160");
        }
        if self.reminder_every_minutes < 1 || self.reminder_every_minutes > 60 * 24 {
            return bad("reminder_every_minutes", "must be between 1 and 1440");
        }
        if self.pickup_reminder_hours > 24 * 30 {
            return bad("pickup_reminder_hours", "must be between 0 and 720");
        }
        if self.validation_link_hours < 1 || self.validation_link_hours > 24 * 14 {
            return bad("validation_link_hours", "must be between 1 and 336");
        }
        Ok(())
    }
}

/// A checked PATCH: values to store and keys to drop (sent as `null`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsChange {
    pub writes: Vec<(String, Value)>,
    pub removals: Vec<String>,
}

/// Checks a PATCH body against the settings it would change. `current` is the
/// effective value it applies to.
pub fn validate_patch(
    current: &BusinessSettings,
    patch: &Map<String, Value>,
) -> Result<SettingsChange, SettingsError> {
    let mut merged = match serde_json::to_value(current) {
        Ok(Value::Object(map)) => map,
        _ => default_map(),
    };
    let mut writes = Vec::new();
    let mut removals = Vec::new();
    for (key, value) in patch {
        if !merged.contains_key(key) {
            return Err(SettingsError::UnknownKey(key.clone()));
        }
        if value.is_null() {
            removals.push(key.clone());
            continue;
        }
        let mut candidate = merged.clone();
        candidate.insert(key.clone(), value.clone());
        BusinessSettings::from_map(candidate).map_err(|err| match err {
            SettingsError::InvalidValue { key: k, reason } if k == "settings" => {
                SettingsError::InvalidValue {
                    key: key.clone(),
                    reason,
                }
            }
            other => other,
        })?;
        merged.insert(key.clone(), value.clone());
        writes.push((key.clone(), value.clone()));
    }
    Ok(SettingsChange { writes, removals })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn defaults_are_those_of_the_spec() {
        let s = BusinessSettings::default();
        assert!(!s.module_active);
        assert_eq!(s.max_quantity_per_article.for_customer(false), 2);
        assert_eq!(s.max_quantity_per_article.for_customer(true), 5);
        assert_eq!(s.max_open_reservations.for_customer(false), 15);
        assert_eq!(s.max_open_reservations.for_customer(true), 10);
        assert_eq!(s.max_items_held.for_customer(false), 30);
        assert_eq!(s.max_items_held.for_customer(true), 45);
        assert_eq!(s.max_lines_per_reservation, 1);
        assert_eq!(
            (
                s.hold_days,
                s.confirm_within_minutes,
                s.reminder_every_minutes
            ),
            (3, 120, 20)
        );
        assert!(s.email_validation_for_anonymous);
        assert_eq!(s.validation_link_hours, 24);
    }

    #[test]
    fn store_layer_overrides_global_layer() {
        let global = map(json!({"module_active": true, "hold_days": 5}));
        let store = map(json!({"hold_days": 2}));
        let s = BusinessSettings::resolve([&global, &store]);
        assert!(s.module_active);
        assert_eq!(s.hold_days, 2);
        assert_eq!(s.reminder_every_minutes, 20);
    }

    #[test]
    fn patch_refuses_unknown_keys_and_bad_values() {
        let current = BusinessSettings::default();
        assert_eq!(
            validate_patch(&current, &map(json!({"colour": 1}))),
            Err(SettingsError::UnknownKey("colour".into()))
        );
        let err = validate_patch(&current, &map(json!({"reminder_every_minutes": 0}))).unwrap_err();
        assert!(
            matches!(err, SettingsError::InvalidValue { ref key, .. } if key == "reminder_every_minutes")
        );
        let err = validate_patch(&current, &map(json!({"hold_days": "three"}))).unwrap_err();
        assert!(matches!(err, SettingsError::InvalidValue { ref key, .. } if key == "hold_days"));
        let err =
            validate_patch(&current, &map(json!({"alert_recipients": "everyone"}))).unwrap_err();
        assert!(
            matches!(err, SettingsError::InvalidValue { ref key, .. } if key == "alert_recipients")
        );
        let SettingsChange { writes, removals } = validate_patch(
            &current,
            &map(json!({"max_quantity_per_article": {"anonymous": 1, "identified": 3}, "hold_days": null})),
        )
        .unwrap();
        assert_eq!(writes.len(), 1);
        assert_eq!(removals, vec!["hold_days".to_string()]);
    }
}
