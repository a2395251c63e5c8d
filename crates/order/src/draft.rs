use crate::{Address, Order, OrderLine, ServiceLevel};
use chrono::{DateTime, Utc};
use kernel::{Currency, Money, OrderId, Quantity, Sku, TenantId, ValidationErrors};

/// An order as a channel or seller sends it, before it is checked.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub channel: Option<String>,
    pub external_id: Option<String>,
    pub allow_backorder: bool,
    pub ship_to: Address,
    pub lines: Vec<NewOrderLine>,
    /// A checkout hold whose reservations this order takes over.
    pub hold_id: Option<kernel::HoldId>,
    pub service_level: ServiceLevel,
}

#[derive(Debug, Clone)]
pub struct NewOrderLine {
    pub sku: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
    pub currency: String,
}

/// Bounded work per request: an order this large is a mistake or an attack.
pub const MAX_LINES: usize = 500;
pub const DEFAULT_CHANNEL: &str = "api";

impl NewOrder {
    /// Checks everything and reports every problem at once, with JSON-path field names.
    pub fn validate(
        self,
        id: OrderId,
        tenant_id: TenantId,
        now: DateTime<Utc>,
    ) -> Result<Order, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let channel = match self.channel.map(|c| c.trim().to_ascii_lowercase()) {
            None => DEFAULT_CHANNEL.to_owned(),
            Some(c) if is_token(&c, 32) => c,
            Some(_) => {
                errors.add(
                    "channel",
                    "channel must be 1 to 32 characters of a-z, 0-9, - and _",
                );
                String::new()
            }
        };
        let external_id = self.external_id.map(|e| e.trim().to_owned());
        if let Some(e) = &external_id
            && (e.is_empty() || e.chars().count() > 128)
        {
            errors.add("external_id", "external_id must be 1 to 128 characters");
        }
        let ship_to = self.ship_to.normalise("ship_to", &mut errors);

        let lines = validate_lines(self.lines, None, &mut errors);
        errors.into_result()?;
        let Some((lines, total)) = lines else {
            return Err(ValidationErrors::single("lines", "the lines are invalid"));
        };
        Ok(Order::new(
            id,
            tenant_id,
            channel,
            external_id,
            self.allow_backorder,
            ship_to,
            lines,
            total,
            self.service_level,
            now,
        ))
    }
}

/// Checks order lines (every problem at once, under `lines[i]`) and computes their total.
/// With `currency`, every line must be in it (an edit keeps the order's currency).
/// Returns `None` when `errors` got something.
pub(crate) fn validate_lines(
    raw_lines: Vec<NewOrderLine>,
    currency: Option<Currency>,
    errors: &mut ValidationErrors,
) -> Option<(Vec<OrderLine>, Money)> {
    let before = errors.0.len();
    if raw_lines.is_empty() {
        errors.add("lines", "an order needs at least one line");
        return None;
    } else if raw_lines.len() > MAX_LINES {
        errors.add(
            "lines",
            format!("an order can have at most {MAX_LINES} lines"),
        );
        return None;
    }
    let mut lines = Vec::with_capacity(raw_lines.len());
    let mut currency = currency;
    for (i, raw) in raw_lines.into_iter().enumerate() {
        let at = |field: &str| format!("lines[{i}].{field}");
        let sku = errors.check(at("sku"), Sku::parse(&raw.sku));
        let quantity = errors.check(at("quantity"), Quantity::new(raw.quantity));
        if quantity.is_some_and(Quantity::is_zero) {
            errors.add(at("quantity"), "quantity must be at least 1");
        }
        if raw.unit_price_minor < 0 {
            errors.add(at("unit_price.amount_minor"), "price must not be negative");
        }
        let line_currency = errors.check(at("unit_price.currency"), Currency::parse(&raw.currency));
        if let (Some(first), Some(this)) = (currency, line_currency)
            && first != this
        {
            errors.add(
                at("unit_price.currency"),
                format!("every line must be in the same currency ({first})"),
            );
        }
        currency = currency.or(line_currency);
        if let (Some(sku), Some(quantity), Some(c)) = (sku, quantity, line_currency) {
            lines.push(OrderLine::new(
                (i + 1) as u32,
                sku,
                quantity,
                Money::new(raw.unit_price_minor, c),
            ));
        }
    }
    if errors.0.len() > before {
        return None;
    }
    let currency = currency?;
    let total = lines.iter().try_fold(Money::zero(currency), |sum, line| {
        line.unit_price
            .checked_mul(line.quantity.as_i64())
            .and_then(|t| sum.checked_add(t))
    });
    match total {
        Ok(total) => Some((lines, total)),
        Err(_) => {
            errors.add("lines", "the order total is too large to represent");
            None
        }
    }
}

fn is_token(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use crate::model::tests::{line, new_order, now};
    use crate::{NewOrderLine, OrderStatus};
    use kernel::{OrderId, TenantId};

    fn fields(errors: kernel::ValidationErrors) -> Vec<String> {
        errors.0.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_valid_order_is_pending_with_a_computed_total_and_the_api_channel() {
        let o = new_order(vec![line("A", 2), line("B", 1)])
            .validate(OrderId::new(), TenantId::new(), now())
            .unwrap();
        assert_eq!(o.status, OrderStatus::Pending);
        assert_eq!(o.total.amount_minor, 3 * 1_250);
        assert_eq!(o.channel, "api");
        assert_eq!(o.lines[1].line_no, 2);
    }

    #[test]
    fn negative_and_zero_quantities_are_refused_per_line() {
        let err = new_order(vec![line("A", -1), line("B", 0)])
            .validate(OrderId::new(), TenantId::new(), now())
            .unwrap_err();
        assert_eq!(fields(err), vec!["lines[0].quantity", "lines[1].quantity"]);
    }

    #[test]
    fn an_order_without_lines_is_refused() {
        let err = new_order(vec![])
            .validate(OrderId::new(), TenantId::new(), now())
            .unwrap_err();
        assert_eq!(fields(err), vec!["lines"]);
    }

    #[test]
    fn mixed_currencies_are_refused() {
        let mut eur = line("B", 1);
        eur.currency = "EUR".into();
        let err = new_order(vec![line("A", 1), eur])
            .validate(OrderId::new(), TenantId::new(), now())
            .unwrap_err();
        assert_eq!(fields(err), vec!["lines[1].unit_price.currency"]);
    }

    #[test]
    fn a_total_that_would_overflow_is_refused_not_wrapped() {
        let huge = NewOrderLine {
            unit_price_minor: i64::MAX / 2,
            ..line("A", 3)
        };
        let err = new_order(vec![huge])
            .validate(OrderId::new(), TenantId::new(), now())
            .unwrap_err();
        assert_eq!(fields(err), vec!["lines"]);
    }

    #[test]
    fn too_many_lines_are_refused() {
        let lines = (0..501).map(|i| line(&format!("S{i}"), 1)).collect();
        assert!(
            new_order(lines)
                .validate(OrderId::new(), TenantId::new(), now())
                .is_err()
        );
    }
}
