//! Per-shopper limits checked before any stock is held.

use super::settings::BusinessSettings;

/// What the shopper already has open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CustomerTotals {
    pub open_reservations: u32,
    pub items_held: u64,
}

/// Which limit a request breaks, with the number in force.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitExceeded {
    #[error("at most {limit} article line(s) per reservation; this request has {requested}")]
    Lines { limit: u32, requested: usize },
    #[error("at most {limit} unit(s) of one article per reservation; {sku} asks for {requested}")]
    QuantityPerArticle {
        limit: u32,
        sku: String,
        requested: u64,
    },
    #[error("at most {limit} open reservation(s) per customer; this customer already has {open}")]
    OpenReservations { limit: u32, open: u32 },
    #[error(
        "at most {limit} item(s) held per customer; this customer holds {held} and asks for {requested} more"
    )]
    ItemsHeld {
        limit: u32,
        held: u64,
        requested: u64,
    },
}

impl LimitExceeded {
    /// The stable API error code of each limit.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Lines { .. } => "too_many_lines",
            Self::QuantityPerArticle { .. } => "quantity_limit_exceeded",
            Self::OpenReservations { .. } => "open_reservations_limit_exceeded",
            Self::ItemsHeld { .. } => "items_held_limit_exceeded",
        }
    }
}

/// Checks a request of `(sku, quantity)` lines for a shopper.
pub fn check_limits(
    settings: &BusinessSettings,
    identified: bool,
    totals: CustomerTotals,
    lines: &[(String, u64)],
) -> Result<(), LimitExceeded> {
    let max_lines = settings.max_lines_per_reservation;
    if lines.len() > max_lines as usize {
        return Err(LimitExceeded::Lines {
            limit: max_lines,
            requested: lines.len(),
        });
    }
    let per_article = settings.max_quantity_per_article.for_customer(identified);
    if let Some((sku, quantity)) = lines.iter().find(|(_, q)| *q > u64::from(per_article)) {
        return Err(LimitExceeded::QuantityPerArticle {
            limit: per_article,
            sku: sku.clone(),
            requested: *quantity,
        });
    }
    let max_open = settings.max_open_reservations.for_customer(identified);
    if totals.open_reservations >= max_open {
        return Err(LimitExceeded::OpenReservations {
            limit: max_open,
            open: totals.open_reservations,
        });
    }
    let max_items = settings.max_items_held.for_customer(identified);
    let requested: u64 = lines.iter().map(|(_, q)| q).sum();
    if totals.items_held + requested > u64::from(max_items) {
        return Err(LimitExceeded::ItemsHeld {
            limit: max_items,
            held: totals.items_held,
            requested,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(qs: &[u64]) -> Vec<(String, u64)> {
        qs.iter()
            .enumerate()
            .map(|(i, q)| (format!("SKU{i}"), *q))
            .collect()
    }

    #[test]
    fn anonymous_and_identified_defaults_differ() {
        let s = BusinessSettings::default();
        let none = CustomerTotals::default();
        assert!(check_limits(&s, false, none, &lines(&[2])).is_ok());
        assert_eq!(
            check_limits(&s, false, none, &lines(&[3]))
                .unwrap_err()
                .code(),
            "quantity_limit_exceeded"
        );
        assert!(check_limits(&s, true, none, &lines(&[5])).is_ok());
        assert_eq!(
            check_limits(&s, true, none, &lines(&[6]))
                .unwrap_err()
                .code(),
            "quantity_limit_exceeded"
        );
        let many = CustomerTotals {
            open_reservations: 10,
            items_held: 10,
        };
        assert!(check_limits(&s, false, many, &lines(&[1])).is_ok());
        assert_eq!(
            check_limits(&s, true, many, &lines(&[1])),
            Err(LimitExceeded::OpenReservations {
                limit: 10,
                open: 10
            })
        );
    }

    #[test]
    fn items_held_counts_what_is_already_open() {
        let s = BusinessSettings::default();
        let totals = CustomerTotals {
            open_reservations: 1,
            items_held: 29,
        };
        assert!(check_limits(&s, false, totals, &lines(&[1])).is_ok());
        let err = check_limits(&s, false, totals, &lines(&[2])).unwrap_err();
        assert_eq!(
            err,
            LimitExceeded::ItemsHeld {
                limit: 30,
                held: 29,
                requested: 2
            }
        );
        assert!(err.to_string().contains("at most 30"));
    }

    #[test]
    fn one_line_per_reservation_by_default() {
        let s = BusinessSettings::default();
        let err = check_limits(&s, true, CustomerTotals::default(), &lines(&[1, 1])).unwrap_err();
        assert_eq!(
            err,
            LimitExceeded::Lines {
                limit: 1,
                requested: 2
            }
        );
        let s = BusinessSettings {
            max_lines_per_reservation: 3,
            ..s
        };
        assert!(check_limits(&s, true, CustomerTotals::default(), &lines(&[1, 1])).is_ok());
    }
}
