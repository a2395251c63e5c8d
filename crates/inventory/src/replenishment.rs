//! Replenishment: how much a SKU will sell, when to reorder it and how much to order, and when
//! to raise `inventory.low_stock`.
//!
//! Pure arithmetic on a daily demand history; no clock, no storage. The flow is
//! [`forecast`] (exponential smoothing, or Croston for intermittent demand) →
//! [`safety_stock`] → [`advise`], which gives a [`ReplenishmentAdvice`] that explains itself.
//!
//! Rates are `f64` (units per day); every quantity that leaves this module is a whole number of
//! units, rounded **up** (a reorder point of 11.2 units is 12: rounding down risks a stock-out).
//! Float noise never adds a unit: a value within `1e-9` of a whole number counts as that number.

use kernel::{Quantity, Sku};
use std::fmt;

/// Syntetos–Boylan cut-off: demand with an average demand interval above this is intermittent.
pub const ADI_CUTOFF: f64 = 1.32;
/// Syntetos–Boylan cut-off on the squared coefficient of variation of non-zero demand sizes,
/// used only to name the demand pattern (smooth, erratic, intermittent, lumpy) in the reason.
pub const CV2_CUTOFF: f64 = 0.49;

/// Floats this close to a whole number are that number when rounding up.
const EPSILON: f64 = 1e-9;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReplenishmentError {
    #[error("smoothing constant {name} must be in (0, 1] (got {value})")]
    InvalidAlpha { name: &'static str, value: f64 },
    #[error("service level must be between 0.5 and 0.9999 (got {0})")]
    InvalidServiceLevel(f64),
    #[error("case pack must be at least 1 unit")]
    InvalidCasePack,
}

/// Units sold per day, oldest day first, one entry per calendar day (days without sales are 0).
///
/// Pass only days on which the SKU could sell (from its launch on, say): zero days before it
/// existed would make its demand look intermittent and its forecast too low.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DemandHistory(Vec<u32>);

impl DemandHistory {
    pub fn new(daily_units: Vec<u32>) -> Self {
        Self(daily_units)
    }

    pub fn days(&self) -> &[u32] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Days on which something sold.
    pub fn demand_days(&self) -> usize {
        self.0.iter().filter(|d| **d > 0).count()
    }

    /// Mean units per day over the whole history (0 when empty).
    pub fn mean(&self) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        self.0.iter().map(|d| f64::from(*d)).sum::<f64>() / self.0.len() as f64
    }

    /// Sample standard deviation (n − 1 denominator) of daily demand, zeros included;
    /// 0 with fewer than two days.
    pub fn std_dev(&self) -> f64 {
        let n = self.0.len();
        if n < 2 {
            return 0.0;
        }
        let mean = self.mean();
        let sum_sq: f64 = self.0.iter().map(|d| (f64::from(*d) - mean).powi(2)).sum();
        (sum_sq / (n - 1) as f64).sqrt()
    }

    /// Average demand interval: days in the history ÷ days with demand (∞ when nothing sold).
    pub fn adi(&self) -> f64 {
        match self.demand_days() {
            0 => f64::INFINITY,
            k => self.0.len() as f64 / k as f64,
        }
    }

    /// Squared coefficient of variation of the non-zero demand sizes (population variance ÷
    /// mean²); 0 when fewer than two days had demand.
    pub fn cv2(&self) -> f64 {
        let sizes: Vec<f64> = self
            .0
            .iter()
            .filter(|d| **d > 0)
            .map(|d| f64::from(*d))
            .collect();
        if sizes.len() < 2 {
            return 0.0;
        }
        let mean = sizes.iter().sum::<f64>() / sizes.len() as f64;
        let var = sizes.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / sizes.len() as f64;
        var / (mean * mean)
    }
}

impl From<Vec<u32>> for DemandHistory {
    fn from(days: Vec<u32>) -> Self {
        Self::new(days)
    }
}

/// How a forecast was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForecastMethod {
    /// Nothing sold in the history (or there is none): the forecast is 0.
    NoDemand,
    /// Simple exponential smoothing of daily demand.
    ExponentialSmoothing,
    /// Croston's method: sizes and intervals smoothed separately, forecast = z / p.
    Croston,
    /// Croston with the Syntetos–Boylan approximation: (1 − α/2) · z / p.
    CrostonSba,
}

impl ForecastMethod {
    /// A stable machine-readable name (for APIs and logs).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoDemand => "no_demand",
            Self::ExponentialSmoothing => "exponential_smoothing",
            Self::Croston => "croston",
            Self::CrostonSba => "croston_sba",
        }
    }
}

impl fmt::Display for ForecastMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Tuning of the forecast. `Default` is what a tenant gets unless it says otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForecastConfig {
    /// Smoothing constant of simple exponential smoothing, in (0, 1]. Default 0.3.
    pub ses_alpha: f64,
    /// Smoothing constant of Croston's method (sizes and intervals alike), in (0, 1].
    /// Default 0.1: intermittent series are noisy and want heavier smoothing.
    pub croston_alpha: f64,
    /// Demand with an ADI above this is intermittent and forecast with Croston. Default 1.32.
    pub adi_cutoff: f64,
    /// Apply the Syntetos–Boylan bias correction (1 − α/2) to Croston. Default true: plain
    /// Croston is known to over-forecast.
    pub sba: bool,
}

impl Default for ForecastConfig {
    fn default() -> Self {
        Self {
            ses_alpha: 0.3,
            croston_alpha: 0.1,
            adi_cutoff: ADI_CUTOFF,
            sba: true,
        }
    }
}

impl ForecastConfig {
    fn check(&self) -> Result<(), ReplenishmentError> {
        check_alpha("ses_alpha", self.ses_alpha)?;
        check_alpha("croston_alpha", self.croston_alpha)
    }
}

fn check_alpha(name: &'static str, value: f64) -> Result<(), ReplenishmentError> {
    if value > 0.0 && value <= 1.0 {
        Ok(())
    } else {
        Err(ReplenishmentError::InvalidAlpha { name, value })
    }
}

/// A demand forecast: units per day from tomorrow on, how it was made and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub per_day: f64,
    pub method: ForecastMethod,
    /// Average demand interval of the history (days per demand day).
    pub adi: f64,
    /// Squared coefficient of variation of the non-zero demand sizes.
    pub cv2: f64,
    /// Why this method, e.g. "intermittent demand (ADI 3.33 > 1.32, CV² 0.17): Croston (SBA)".
    pub reason: String,
}

/// Simple exponential smoothing, initialised from the **first observation**:
/// `L₁ = y₁`, `Lₜ = α·yₜ + (1 − α)·Lₜ₋₁`; the forecast is the last level. `None` when empty.
pub fn exponential_smoothing(days: &[u32], alpha: f64) -> Option<f64> {
    let (first, rest) = days.split_first()?;
    Some(rest.iter().fold(f64::from(*first), |level, y| {
        alpha * f64::from(*y) + (1.0 - alpha) * level
    }))
}

/// Croston's method. Initialised at the first day with demand: the size `z` is that demand and
/// the interval `p` is its 1-based day number (the interval since the start of the history).
/// At each later demand day, with `q` the days since the previous demand day:
/// `z ← z + α(y − z)`, `p ← p + α(q − p)`. The forecast is `z / p`, times `(1 − α/2)` when
/// `sba` is set. Zero-demand days after the last demand do not change the forecast (as in the
/// classic method). `None` when nothing sold.
pub fn croston(days: &[u32], alpha: f64, sba: bool) -> Option<f64> {
    let mut state: Option<(f64, f64)> = None; // (size z, interval p)
    let mut last_demand_day = 0usize; // 1-based; 0 = the start of the history
    for (i, &y) in days.iter().enumerate() {
        if y == 0 {
            continue;
        }
        let day = i + 1;
        let q = (day - last_demand_day) as f64;
        let y = f64::from(y);
        state = Some(match state {
            None => (y, q),
            Some((z, p)) => (z + alpha * (y - z), p + alpha * (q - p)),
        });
        last_demand_day = day;
    }
    let (z, p) = state?;
    let factor = if sba { 1.0 - alpha / 2.0 } else { 1.0 };
    Some(factor * z / p)
}

/// Forecasts daily demand, picking the method by the Syntetos–Boylan classification: Croston
/// (with SBA unless turned off) when the ADI is above the cut-off, else exponential smoothing.
pub fn forecast(
    history: &DemandHistory,
    config: &ForecastConfig,
) -> Result<Forecast, ReplenishmentError> {
    config.check()?;
    let adi = history.adi();
    let cv2 = history.cv2();
    if history.demand_days() == 0 {
        return Ok(Forecast {
            per_day: 0.0,
            method: ForecastMethod::NoDemand,
            adi,
            cv2,
            reason: format!("no demand in the last {} days", history.len()),
        });
    }
    let pattern = match (adi > config.adi_cutoff, cv2 > CV2_CUTOFF) {
        (false, false) => "smooth",
        (false, true) => "erratic",
        (true, false) => "intermittent",
        (true, true) => "lumpy",
    };
    let stats = format!(
        "ADI {adi:.2} {} {:.2}, CV² {cv2:.2}",
        if adi > config.adi_cutoff { ">" } else { "≤" },
        config.adi_cutoff
    );
    let days = history.days();
    let (per_day, method, how) = if adi > config.adi_cutoff {
        let alpha = config.croston_alpha;
        let rate = croston(days, alpha, config.sba).unwrap_or(0.0);
        if config.sba {
            let how = format!("Croston with SBA correction (α {alpha})");
            (rate, ForecastMethod::CrostonSba, how)
        } else {
            (
                rate,
                ForecastMethod::Croston,
                format!("Croston (α {alpha})"),
            )
        }
    } else {
        let alpha = config.ses_alpha;
        let rate = exponential_smoothing(days, alpha).unwrap_or(0.0);
        let how = format!("exponential smoothing (α {alpha})");
        (rate, ForecastMethod::ExponentialSmoothing, how)
    };
    Ok(Forecast {
        per_day,
        method,
        adi,
        cv2,
        reason: format!("{pattern} demand ({stats}): {how}"),
    })
}

/// The standard normal quantile z with P(Z ≤ z) = `service_level` (cycle service level), by
/// Acklam's rational approximation (relative error below 1.2e-9). Accepts 0.5 ..= 0.9999:
/// below 0.5 the safety stock would be negative.
pub fn z_for_service_level(service_level: f64) -> Result<f64, ReplenishmentError> {
    if !(0.5..=0.9999).contains(&service_level) {
        return Err(ReplenishmentError::InvalidServiceLevel(service_level));
    }
    Ok(inverse_normal_cdf(service_level))
}

fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.02425;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < P_LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    }
}

/// Rounds a non-negative number of units up to a whole number, ignoring float noise, and caps
/// it at [`Quantity::MAX`].
fn ceil_units(x: f64) -> u32 {
    if x.is_nan() || x <= EPSILON {
        return 0;
    }
    let rounded = (x - EPSILON).ceil();
    if rounded >= f64::from(Quantity::MAX) {
        Quantity::MAX
    } else {
        rounded as u32
    }
}

fn qty(units: u64) -> Quantity {
    Quantity::new(units.min(u64::from(Quantity::MAX)) as i64).unwrap_or(Quantity::ZERO)
}

/// Safety stock in whole units: `⌈z × σ_d × √lead_time_days⌉`, σ_d the sample standard
/// deviation of daily demand in the history.
pub fn safety_stock(
    history: &DemandHistory,
    service_level: f64,
    lead_time_days: u32,
) -> Result<Quantity, ReplenishmentError> {
    let z = z_for_service_level(service_level)?;
    let units = z * history.std_dev() * f64::from(lead_time_days).sqrt();
    Ok(qty(u64::from(ceil_units(units))))
}

/// Reorder point in whole units: `⌈rate × lead_time_days + safety_stock⌉`.
pub fn reorder_point(per_day: f64, lead_time_days: u32, safety_stock: Quantity) -> Quantity {
    qty(u64::from(ceil_units(
        per_day * f64::from(lead_time_days) + f64::from(safety_stock.get()),
    )))
}

/// How a SKU is bought from its supplier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplenishmentPolicy {
    /// Days from placing a purchase order to the goods being available.
    pub lead_time_days: u32,
    /// Days between two looks at this SKU: an order must also cover them. Default 7.
    pub review_period_days: u32,
    /// Cycle service level: the chance of not running out during a lead time. Default 0.95.
    pub service_level: f64,
    /// The supplier sells in cases of this many units; orders are rounded up to whole cases.
    pub case_pack: Option<u32>,
    /// The supplier's minimum order quantity; smaller orders are raised to it.
    pub min_order_quantity: Option<u32>,
}

impl Default for ReplenishmentPolicy {
    fn default() -> Self {
        Self {
            lead_time_days: 7,
            review_period_days: 7,
            service_level: 0.95,
            case_pack: None,
            min_order_quantity: None,
        }
    }
}

/// Stock that counts towards the next order: `available` (on hand − reserved) and `incoming`
/// (on open purchase orders or in transit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockPosition {
    pub sku: Sku,
    pub available: Quantity,
    pub incoming: Quantity,
}

/// What to do about one SKU, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplenishmentAdvice {
    pub sku: Sku,
    pub available: Quantity,
    pub incoming: Quantity,
    pub forecast_per_day: f64,
    pub method: ForecastMethod,
    pub safety_stock: Quantity,
    pub reorder_point: Quantity,
    /// Units to order now; 0 when no order is needed.
    pub suggested_quantity: Quantity,
    pub should_reorder: bool,
    /// A sentence for a person, e.g. "available 4 + incoming 0 = 4 is at or below reorder
    /// point 12 (lead time 7 d × 1.43/day + safety stock 2): order 10 …".
    pub reason: String,
    /// Why the forecast method was chosen (see [`Forecast::reason`]).
    pub forecast_reason: String,
}

/// Order-up-to quantity for an inventory position, before case pack and MOQ:
/// `max(0, ⌈rate × (lead time + review period) + safety stock⌉ − (available + incoming))`.
pub fn order_up_to_shortfall(
    per_day: f64,
    policy: &ReplenishmentPolicy,
    safety_stock: Quantity,
    position: u64,
) -> u64 {
    let cover_days = f64::from(policy.lead_time_days) + f64::from(policy.review_period_days);
    let target = ceil_units(per_day * cover_days + f64::from(safety_stock.get()));
    u64::from(target).saturating_sub(position)
}

/// Raises a quantity to the minimum order quantity, then up to a whole number of cases.
/// Zero stays zero (no order).
pub fn round_to_supplier_terms(
    units: u64,
    policy: &ReplenishmentPolicy,
) -> Result<u64, ReplenishmentError> {
    if units == 0 {
        return Ok(0);
    }
    let units = units.max(u64::from(policy.min_order_quantity.unwrap_or(0)));
    match policy.case_pack {
        None => Ok(units),
        Some(0) => Err(ReplenishmentError::InvalidCasePack),
        Some(pack) => Ok(units.div_ceil(u64::from(pack)) * u64::from(pack)),
    }
}

/// Forecasts demand, sets safety stock and reorder point, and advises an order when the
/// inventory position (available + incoming) is at or below the reorder point.
pub fn advise(
    stock: &StockPosition,
    history: &DemandHistory,
    forecast_config: &ForecastConfig,
    policy: &ReplenishmentPolicy,
) -> Result<ReplenishmentAdvice, ReplenishmentError> {
    if policy.case_pack == Some(0) {
        return Err(ReplenishmentError::InvalidCasePack);
    }
    let fc = forecast(history, forecast_config)?;
    let safety = safety_stock(history, policy.service_level, policy.lead_time_days)?;
    let rop = reorder_point(fc.per_day, policy.lead_time_days, safety);
    let position = u64::from(stock.available.get()) + u64::from(stock.incoming.get());
    let at_or_below = position <= u64::from(rop.get());
    let quantity = if at_or_below {
        let shortfall = order_up_to_shortfall(fc.per_day, policy, safety, position);
        round_to_supplier_terms(shortfall, policy)?
    } else {
        0
    };
    let should_reorder = quantity > 0;
    let basis = format!(
        "lead time {} d × {:.2}/day + safety stock {}",
        policy.lead_time_days, fc.per_day, safety
    );
    let head = format!(
        "available {} + incoming {} = {position}",
        stock.available, stock.incoming
    );
    let reason = if should_reorder {
        format!(
            "{head} is at or below reorder point {rop} ({basis}): order {quantity} to cover \
             {} d of lead time and review period",
            u64::from(policy.lead_time_days) + u64::from(policy.review_period_days)
        )
    } else if at_or_below {
        format!("{head} is at reorder point {rop} ({basis}) but already covers expected demand")
    } else {
        format!("{head} is above reorder point {rop} ({basis})")
    };
    Ok(ReplenishmentAdvice {
        sku: stock.sku.clone(),
        available: stock.available,
        incoming: stock.incoming,
        forecast_per_day: fc.per_day,
        method: fc.method,
        safety_stock: safety,
        reorder_point: rop,
        suggested_quantity: qty(quantity),
        should_reorder,
        reason,
        forecast_reason: fc.reason,
    })
}

/// The `inventory.low_stock` event: available stock of a SKU fell to or below its threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowStockAlert {
    pub sku: Sku,
    pub threshold: Quantity,
    pub available: Quantity,
}

impl LowStockAlert {
    pub const EVENT_TYPE: &'static str = "inventory.low_stock";

    /// Decides, for one change of available stock, whether to raise `inventory.low_stock`:
    /// exactly once per downward crossing, i.e. when `before > threshold` and
    /// `after <= threshold`. While stock stays at or below the threshold nothing more is raised;
    /// once it goes back above, the next fall raises again. No threshold, no alert.
    ///
    /// Being a function of `before` and `after` alone, it needs no stored "armed" flag: the
    /// caller passes the available quantity before and after the movement, in the same
    /// transaction that records it.
    pub fn on_change(
        sku: &Sku,
        threshold: Option<Quantity>,
        before: Quantity,
        after: Quantity,
    ) -> Option<LowStockAlert> {
        let threshold = threshold?;
        (before > threshold && after <= threshold).then(|| LowStockAlert {
            sku: sku.clone(),
            threshold,
            available: after,
        })
    }
}

#[cfg(test)]
mod tests;
