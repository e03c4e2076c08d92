//! The reservation life cycle of SPEC.md as one transition function.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a reservation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Anonymous shopper has not clicked the email link yet; stock is held.
    AwaitingValidation,
    /// Reached the store; nobody has handled it yet.
    Pending,
    /// The store put the article aside; waiting for the shopper.
    SetAside,
    /// Handed over / transferred to an order.
    Collected,
    /// Refused by the store.
    Rejected,
    /// Cancelled by the shopper or on their behalf.
    Cancelled,
    /// Not collected in time, or never validated.
    Expired,
    /// Stock disappeared before anyone handled it.
    AutoCancelled,
}

/// Something that may happen to a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Validate,
    SetAside,
    Reject,
    Collect,
    Cancel,
    Expire,
    AutoCancel,
}

pub const ALL_STATES: [State; 8] = [
    State::AwaitingValidation,
    State::Pending,
    State::SetAside,
    State::Collected,
    State::Rejected,
    State::Cancelled,
    State::Expired,
    State::AutoCancelled,
];

pub const ALL_ACTIONS: [Action; 7] = [
    Action::Validate,
    Action::SetAside,
    Action::Reject,
    Action::Collect,
    Action::Cancel,
    Action::Expire,
    Action::AutoCancel,
];

/// The refusal of a transition: the state it was tried from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action:?} a reservation that is {from}")]
pub struct TransitionRefused {
    pub from: State,
    pub action: Action,
}

/// The one place that says which action leads where.
pub fn transition(from: State, action: Action) -> Result<State, TransitionRefused> {
    use Action as A;
    use State as S;
    let to = match (from, action) {
        (S::AwaitingValidation, A::Validate) => S::Pending,
        (S::AwaitingValidation | S::SetAside, A::Expire) => S::Expired,
        (S::AwaitingValidation | S::Pending, A::AutoCancel) => S::AutoCancelled,
        (S::AwaitingValidation | S::Pending | S::SetAside, A::Cancel) => S::Cancelled,
        (S::Pending, A::SetAside) => S::SetAside,
        (S::Pending, A::Reject) => S::Rejected,
        // A shopper at the counter may be served before anyone set it aside.
        (S::Pending | S::SetAside, A::Collect) => S::Collected,
        _ => return Err(TransitionRefused { from, action }),
    };
    Ok(to)
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::AwaitingValidation => "awaiting_validation",
            State::Pending => "pending",
            State::SetAside => "set_aside",
            State::Collected => "collected",
            State::Rejected => "rejected",
            State::Cancelled => "cancelled",
            State::Expired => "expired",
            State::AutoCancelled => "auto_cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<State> {
        ALL_STATES.into_iter().find(|state| state.as_str() == text)
    }

    /// Open reservations hold stock and count against the shopper's limits.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            State::AwaitingValidation | State::Pending | State::SetAside
        )
    }

    /// The label a shopper sees, in their language (French or English).
    pub fn customer_label(self, language: &str) -> &'static str {
        let french = language.starts_with("fr");
        match (self, french) {
            (State::AwaitingValidation, true) => "En attente de votre validation",
            (State::AwaitingValidation, false) => "Waiting for your confirmation",
            (State::Pending, true) => "Transmise au magasin",
            (State::Pending, false) => "Sent to the store",
            (State::SetAside, true) => "Prête : mise de côté en magasin",
            (State::SetAside, false) => "Ready: set aside at the store",
            (State::Collected, true) => "Retirée",
            (State::Collected, false) => "Collected",
            (State::Rejected, true) => "Refusée par le magasin",
            (State::Rejected, false) => "Declined by the store",
            (State::Cancelled, true) => "Annulée",
            (State::Cancelled, false) => "Cancelled",
            (State::Expired, true) => "Expirée",
            (State::Expired, false) => "Expired",
            (State::AutoCancelled, true) => "Annulée : article plus disponible",
            (State::AutoCancelled, false) => "Cancelled: article no longer available",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The full table: every (state, action) pair, allowed or not.
    #[test]
    fn every_transition_is_as_specified() {
        use Action as A;
        use State as S;
        let allowed: &[(S, A, S)] = &[
            (S::AwaitingValidation, A::Validate, S::Pending),
            (S::AwaitingValidation, A::Expire, S::Expired),
            (S::AwaitingValidation, A::AutoCancel, S::AutoCancelled),
            (S::AwaitingValidation, A::Cancel, S::Cancelled),
            (S::Pending, A::SetAside, S::SetAside),
            (S::Pending, A::Reject, S::Rejected),
            (S::Pending, A::Collect, S::Collected),
            (S::Pending, A::Cancel, S::Cancelled),
            (S::Pending, A::AutoCancel, S::AutoCancelled),
            (S::SetAside, A::Collect, S::Collected),
            (S::SetAside, A::Cancel, S::Cancelled),
            (S::SetAside, A::Expire, S::Expired),
        ];
        for from in ALL_STATES {
            for action in ALL_ACTIONS {
                let expected = allowed
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to);
                match expected {
                    Some(to) => assert_eq!(transition(from, action), Ok(to), "{from} {action:?}"),
                    None => assert_eq!(
                        transition(from, action),
                        Err(TransitionRefused { from, action }),
                        "{from} {action:?} must be refused"
                    ),
                }
            }
        }
    }

    #[test]
    fn state_names_round_trip() {
        for state in ALL_STATES {
            assert_eq!(State::parse(state.as_str()), Some(state));
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
        }
        assert_eq!(State::parse("lost"), None);
    }

    fn any_action() -> impl Strategy<Value = Action> {
        proptest::sample::select(ALL_ACTIONS.to_vec())
    }

    proptest! {
        /// Whatever happens, a finished reservation never changes again, and
        /// only the validation link leads back into the store's queue.
        #[test]
        fn finished_reservations_stay_finished(actions in proptest::collection::vec(any_action(), 0..20)) {
            let mut state = State::AwaitingValidation;
            for action in actions {
                match transition(state, action) {
                    Ok(next) => {
                        prop_assert!(state.is_open(), "{state} moved on");
                        if next == State::Pending {
                            prop_assert_eq!(state, State::AwaitingValidation);
                        }
                        state = next;
                    }
                    Err(refused) => prop_assert_eq!(refused.from, state),
                }
            }
        }
    }
}
