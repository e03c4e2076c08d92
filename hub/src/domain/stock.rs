//! Stock arithmetic for one variant in one store: `on_hand = available + held`,
//! none of them negative. The database enforces the same with CHECKs and
//! conditional updates; this is the model those statements implement.

/// Units of one variant in one store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLevel {
    pub on_hand: i64,
    pub held: i64,
}

/// Not enough free units for a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("only {available} available")]
pub struct Shortage {
    pub available: i64,
}

impl StockLevel {
    pub fn available(self) -> i64 {
        self.on_hand - self.held
    }

    /// Holds `quantity` units if that many are free.
    pub fn hold(self, quantity: i64) -> Result<StockLevel, Shortage> {
        if quantity <= 0 || quantity > self.available() {
            return Err(Shortage {
                available: self.available().max(0),
            });
        }
        Ok(StockLevel {
            held: self.held + quantity,
            ..self
        })
    }

    /// Gives back units a reservation held. Never releases more than held.
    pub fn release(self, quantity: i64) -> StockLevel {
        StockLevel {
            held: (self.held - quantity.max(0)).max(0),
            ..self
        }
    }
}

/// An open hold on this variant, as the stock-drop plan sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold<Id> {
    pub reservation: Id,
    pub quantity: i64,
    /// Set aside: the article is off the shelf and must not be auto-cancelled.
    pub set_aside: bool,
}

/// What a lower till count means for the open holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockDropPlan<Id> {
    /// Everything still fits.
    Fits,
    /// These unhandled reservations (newest first) must be auto-cancelled.
    AutoCancel(Vec<Id>),
    /// Even with every unhandled hold gone, set-aside units exceed the count.
    BelowSetAside { set_aside: i64 },
}

/// Decides which holds a new on-hand count can no longer serve. `holds` must
/// be ordered newest first: the latest requests give way first.
pub fn plan_stock_drop<Id: Clone>(new_on_hand: i64, holds: &[Hold<Id>]) -> StockDropPlan<Id> {
    let set_aside: i64 = holds
        .iter()
        .filter(|h| h.set_aside)
        .map(|h| h.quantity)
        .sum();
    if set_aside > new_on_hand {
        return StockDropPlan::BelowSetAside { set_aside };
    }
    let mut held: i64 = holds.iter().map(|h| h.quantity).sum();
    let mut cancelled = Vec::new();
    for hold in holds.iter().filter(|h| !h.set_aside) {
        if held <= new_on_hand {
            break;
        }
        held -= hold.quantity;
        cancelled.push(hold.reservation.clone());
    }
    if cancelled.is_empty() {
        StockDropPlan::Fits
    } else {
        StockDropPlan::AutoCancel(cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hold_refuses_more_than_available() {
        let level = StockLevel {
            on_hand: 3,
            held: 2,
        };
        assert_eq!(level.hold(2), Err(Shortage { available: 1 }));
        assert_eq!(
            level.hold(1),
            Ok(StockLevel {
                on_hand: 3,
                held: 3
            })
        );
        assert_eq!(level.hold(0), Err(Shortage { available: 1 }));
    }

    #[test]
    fn stock_drop_cancels_newest_unhandled_first() {
        let holds = vec![
            Hold {
                reservation: "new",
                quantity: 1,
                set_aside: false,
            },
            Hold {
                reservation: "aside",
                quantity: 2,
                set_aside: true,
            },
            Hold {
                reservation: "mid",
                quantity: 1,
                set_aside: false,
            },
            Hold {
                reservation: "old",
                quantity: 1,
                set_aside: false,
            },
        ];
        assert_eq!(plan_stock_drop(5, &holds), StockDropPlan::Fits);
        assert_eq!(
            plan_stock_drop(4, &holds),
            StockDropPlan::AutoCancel(vec!["new"])
        );
        assert_eq!(
            plan_stock_drop(3, &holds),
            StockDropPlan::AutoCancel(vec!["new", "mid"])
        );
        assert_eq!(
            plan_stock_drop(2, &holds),
            StockDropPlan::AutoCancel(vec!["new", "mid", "old"])
        );
        assert_eq!(
            plan_stock_drop(1, &holds),
            StockDropPlan::BelowSetAside { set_aside: 2 }
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Hold(i64),
        Release(usize),
        Count(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (1i64..4).prop_map(Op::Hold),
            (0usize..8).prop_map(Op::Release),
            (0i64..12).prop_map(Op::Count),
        ]
    }

    proptest! {
        /// Any sequence of holds, releases and till counts keeps
        /// on_hand = available + held with nothing negative, and the holds
        /// recorded always add up to `held`.
        #[test]
        fn invariant_survives_any_sequence(ops in proptest::collection::vec(op(), 0..60)) {
            let mut level = StockLevel { on_hand: 5, held: 0 };
            let mut holds: Vec<(usize, i64)> = Vec::new();
            let mut next_id = 0usize;
            for op in ops {
                match op {
                    Op::Hold(q) => {
                        if let Ok(next) = level.hold(q) {
                            level = next;
                            holds.push((next_id, q));
                            next_id += 1;
                        }
                    }
                    Op::Release(index) => {
                        if index < holds.len() {
                            let (_, q) = holds.remove(index);
                            level = level.release(q);
                        }
                    }
                    Op::Count(on_hand) => {
                        let newest_first: Vec<Hold<usize>> = holds.iter().rev()
                            .map(|(id, q)| Hold { reservation: *id, quantity: *q, set_aside: false })
                            .collect();
                        if let StockDropPlan::AutoCancel(ids) = plan_stock_drop(on_hand, &newest_first) {
                            for id in ids {
                                let at = holds.iter().position(|(h, _)| *h == id).unwrap();
                                let (_, q) = holds.remove(at);
                                level = level.release(q);
                            }
                        }
                        level.on_hand = on_hand;
                    }
                }
                prop_assert!(level.held >= 0 && level.available() >= 0);
                prop_assert_eq!(level.on_hand, level.available() + level.held);
                prop_assert_eq!(level.held, holds.iter().map(|(_, q)| q).sum::<i64>());
            }
        }
    }
}
