//! Which timer of a live reservation fires next. The due times are columns
//! of the reservation, so this is a pure function of the row.

use chrono::{DateTime, Utc};

use super::reservation::State;

/// Something that happens to a reservation at a set time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Timer {
    /// Past the confirmation deadline: escalate once to the managers.
    Overdue,
    /// Remind the team again; repeats until someone handles it.
    Reminder,
    /// The anonymous shopper never clicked the validation link.
    ValidationExpiry,
    /// Tell the shopper the pickup deadline approaches.
    PickupReminder,
    /// The shopper did not collect in time.
    PickupExpiry,
}

/// What a reservation actor knows of the timer it sleeps for. With it the
/// firing queue moves a due reminder under its guard without reading the
/// row first; when the guard finds the row changed, the row is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerHint {
    pub at: DateTime<Utc>,
    pub timer: Timer,
    pub store_id: i64,
}

/// The timer-relevant fields of a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerFields {
    pub state: State,
    pub next_reminder_at: Option<DateTime<Utc>>,
    pub confirm_by: Option<DateTime<Utc>>,
    pub overdue_notified: bool,
    pub validate_by: Option<DateTime<Utc>>,
    pub pickup_by: Option<DateTime<Utc>>,
    pub pickup_reminder_at: Option<DateTime<Utc>>,
}

/// The earliest pending timer, if any. Ties go in `Timer` order, so an
/// overdue escalation goes out before the reminder due at the same instant.
pub fn next_timer(fields: &TimerFields) -> Option<(DateTime<Utc>, Timer)> {
    let candidates: Vec<(DateTime<Utc>, Timer)> = match fields.state {
        State::Pending => {
            let mut due = Vec::new();
            if let Some(at) = fields.next_reminder_at {
                due.push((at, Timer::Reminder));
            }
            if let (Some(at), false) = (fields.confirm_by, fields.overdue_notified) {
                due.push((at, Timer::Overdue));
            }
            due
        }
        State::AwaitingValidation => fields
            .validate_by
            .map(|at| vec![(at, Timer::ValidationExpiry)])
            .unwrap_or_default(),
        State::SetAside => {
            let mut due: Vec<(DateTime<Utc>, Timer)> = fields
                .pickup_by
                .map(|at| (at, Timer::PickupExpiry))
                .into_iter()
                .collect();
            // A reminder after the deadline would be pointless.
            if let (Some(at), Some(deadline)) = (fields.pickup_reminder_at, fields.pickup_by)
                && at < deadline
            {
                due.push((at, Timer::PickupReminder));
            }
            due
        }
        _ => Vec::new(),
    };
    candidates.into_iter().min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn fields(state: State) -> TimerFields {
        TimerFields {
            state,
            next_reminder_at: None,
            confirm_by: None,
            overdue_notified: false,
            validate_by: None,
            pickup_by: None,
            pickup_reminder_at: None,
        }
    }

    #[test]
    fn each_state_has_its_timers() {
        let t0 = Utc::now();
        let pending = TimerFields {
            next_reminder_at: Some(t0 + Duration::minutes(20)),
            confirm_by: Some(t0 + Duration::minutes(120)),
            ..fields(State::Pending)
        };
        assert_eq!(
            next_timer(&pending),
            Some((t0 + Duration::minutes(20), Timer::Reminder))
        );
        let tie = TimerFields {
            next_reminder_at: Some(t0),
            confirm_by: Some(t0),
            ..pending
        };
        assert_eq!(next_timer(&tie), Some((t0, Timer::Overdue)));
        let escalated = TimerFields {
            overdue_notified: true,
            ..tie
        };
        assert_eq!(next_timer(&escalated), Some((t0, Timer::Reminder)));
        let waiting = TimerFields {
            validate_by: Some(t0),
            next_reminder_at: Some(t0 - Duration::minutes(1)),
            ..fields(State::AwaitingValidation)
        };
        assert_eq!(next_timer(&waiting), Some((t0, Timer::ValidationExpiry)));
        let aside = TimerFields {
            pickup_by: Some(t0),
            ..fields(State::SetAside)
        };
        assert_eq!(next_timer(&aside), Some((t0, Timer::PickupExpiry)));
        let reminded_first = TimerFields {
            pickup_reminder_at: Some(t0 - Duration::hours(24)),
            ..aside
        };
        assert_eq!(
            next_timer(&reminded_first),
            Some((t0 - Duration::hours(24), Timer::PickupReminder))
        );
        for done in [
            State::Collected,
            State::Rejected,
            State::Cancelled,
            State::Expired,
            State::AutoCancelled,
        ] {
            let mut f = pending;
            f.state = done;
            assert_eq!(next_timer(&f), None, "{done}");
        }
    }
}
