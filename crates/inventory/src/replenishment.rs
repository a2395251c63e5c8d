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
mod tests {
    use super::*;

    fn q(n: i64) -> Quantity {
        Quantity::new(n).unwrap()
    }

    fn sku() -> Sku {
        Sku::parse("TEE-BLUE-M").unwrap()
    }

    fn close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 1e-6,
            "expected {expected}, got {actual}"
        );
    }

    const STEADY: [u32; 5] = [10, 12, 8, 11, 9];
    const INTERMITTENT: [u32; 10] = [0, 0, 4, 0, 0, 0, 6, 0, 2, 0];

    #[test]
    fn exponential_smoothing_matches_the_hand_computation() {
        // α 0.3, L1 = 10
        // L2 = 0.3·12 + 0.7·10     = 3.6 + 7     = 10.6
        // L3 = 0.3·8  + 0.7·10.6   = 2.4 + 7.42  = 9.82
        // L4 = 0.3·11 + 0.7·9.82   = 3.3 + 6.874 = 10.174
        // L5 = 0.3·9  + 0.7·10.174 = 2.7 + 7.1218 = 9.8218
        close(exponential_smoothing(&STEADY, 0.3).unwrap(), 9.8218);
        assert_eq!(exponential_smoothing(&[], 0.3), None);
        // A single day is its own forecast.
        close(exponential_smoothing(&[7], 0.3).unwrap(), 7.0);
    }

    #[test]
    fn croston_matches_the_hand_computation() {
        // Demand on days 3, 7, 9 (sizes 4, 6, 2). α 0.1.
        // init at day 3:  z = 4, p = 3
        // day 7 (q = 4):  z = 4 + 0.1·(6 − 4) = 4.2,    p = 3 + 0.1·(4 − 3)   = 3.1
        // day 9 (q = 2):  z = 4.2 + 0.1·(2 − 4.2) = 3.98, p = 3.1 + 0.1·(2 − 3.1) = 2.99
        // forecast = 3.98 / 2.99 = 1.331103679
        close(croston(&INTERMITTENT, 0.1, false).unwrap(), 3.98 / 2.99);
        close(croston(&INTERMITTENT, 0.1, false).unwrap(), 1.331_103_679);
        // SBA: × (1 − 0.1/2) = × 0.95 → 1.264548495
        close(croston(&INTERMITTENT, 0.1, true).unwrap(), 1.264_548_495);
        assert_eq!(croston(&[0, 0, 0], 0.1, true), None);
    }

    #[test]
    fn history_statistics_match_the_hand_computation() {
        let steady = DemandHistory::from(STEADY.to_vec());
        // mean 50/5 = 10; squared deviations 0+4+4+1+1 = 10; sample variance 10/4 = 2.5
        close(steady.mean(), 10.0);
        close(steady.std_dev(), 2.5f64.sqrt());
        close(steady.adi(), 1.0); // 5 days / 5 demand days
        let intermittent = DemandHistory::from(INTERMITTENT.to_vec());
        close(intermittent.adi(), 10.0 / 3.0); // 10 days / 3 demand days
        // sizes 4, 6, 2: mean 4, population variance (0 + 4 + 4)/3 = 8/3, CV² = (8/3)/16 = 1/6
        close(intermittent.cv2(), 1.0 / 6.0);
    }

    #[test]
    fn steady_demand_is_forecast_by_exponential_smoothing() {
        let fc = forecast(&STEADY.to_vec().into(), &ForecastConfig::default()).unwrap();
        assert_eq!(fc.method, ForecastMethod::ExponentialSmoothing);
        close(fc.per_day, 9.8218);
        assert_eq!(
            fc.reason,
            "smooth demand (ADI 1.00 ≤ 1.32, CV² 0.02): exponential smoothing (α 0.3)"
        );
    }

    #[test]
    fn intermittent_demand_is_forecast_by_croston_with_sba_by_default() {
        let fc = forecast(&INTERMITTENT.to_vec().into(), &ForecastConfig::default()).unwrap();
        assert_eq!(fc.method, ForecastMethod::CrostonSba);
        close(fc.per_day, 1.264_548_495);
        assert_eq!(
            fc.reason,
            "intermittent demand (ADI 3.33 > 1.32, CV² 0.17): Croston with SBA correction (α 0.1)"
        );
        let plain = ForecastConfig {
            sba: false,
            ..Default::default()
        };
        let fc = forecast(&INTERMITTENT.to_vec().into(), &plain).unwrap();
        assert_eq!(fc.method, ForecastMethod::Croston);
        close(fc.per_day, 1.331_103_679);
    }

    #[test]
    fn the_adi_cut_off_is_exclusive() {
        // 4 demand days in 5: ADI 1.25 ≤ 1.32 → SES. 3 in 4 → 1.33 > 1.32 → Croston.
        let cfg = ForecastConfig::default();
        let fc = forecast(&vec![5, 0, 5, 5, 5].into(), &cfg).unwrap();
        assert_eq!(fc.method, ForecastMethod::ExponentialSmoothing);
        let fc = forecast(&vec![5, 0, 5, 5].into(), &cfg).unwrap();
        assert_eq!(fc.method, ForecastMethod::CrostonSba);
    }

    #[test]
    fn no_demand_forecasts_zero() {
        let cfg = ForecastConfig::default();
        for days in [vec![], vec![0, 0, 0]] {
            let fc = forecast(&days.into(), &cfg).unwrap();
            assert_eq!(fc.method, ForecastMethod::NoDemand);
            assert_eq!(fc.per_day, 0.0);
        }
    }

    #[test]
    fn an_alpha_outside_zero_to_one_is_refused() {
        for bad in [0.0, -0.1, 1.5, f64::NAN] {
            let cfg = ForecastConfig {
                ses_alpha: bad,
                ..Default::default()
            };
            assert!(matches!(
                forecast(&STEADY.to_vec().into(), &cfg),
                Err(ReplenishmentError::InvalidAlpha { .. })
            ));
        }
    }

    #[test]
    fn z_values_match_the_normal_table() {
        close_to(z_for_service_level(0.5).unwrap(), 0.0, 1e-9);
        close_to(z_for_service_level(0.90).unwrap(), 1.281_552, 1e-6);
        close_to(z_for_service_level(0.95).unwrap(), 1.644_854, 1e-6);
        close_to(z_for_service_level(0.975).unwrap(), 1.959_964, 1e-6);
        close_to(z_for_service_level(0.99).unwrap(), 2.326_348, 1e-6);
        close_to(z_for_service_level(0.9999).unwrap(), 3.719_016, 1e-5);
        for bad in [0.49, 1.0, 0.99999, f64::NAN] {
            assert!(z_for_service_level(bad).is_err(), "{bad}");
        }
    }

    fn close_to(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() < tolerance,
            "expected {expected}, got {actual}"
        );
    }

    #[test]
    fn safety_stock_and_reorder_point_match_the_hand_computation() {
        let history = DemandHistory::from(STEADY.to_vec());
        // σ_d = √2.5 = 1.581139; z(95%) = 1.644854; √4 = 2
        // 1.644854 × 1.581139 × 2 = 5.2015 → 6 units
        let ss = safety_stock(&history, 0.95, 4).unwrap();
        assert_eq!(ss, q(6));
        // ⌈9.8218 × 4 + 6⌉ = ⌈39.2872 + 6⌉ = ⌈45.2872⌉ = 46
        assert_eq!(reorder_point(9.8218, 4, ss), q(46));
    }

    #[test]
    fn float_noise_does_not_add_a_unit() {
        // 0.1 × 30 is 3.0000000000000004 in f64: still 3 units.
        assert_eq!(reorder_point(0.1, 30, q(0)), q(3));
        assert_eq!(reorder_point(0.0, 30, q(0)), q(0));
    }

    fn policy() -> ReplenishmentPolicy {
        ReplenishmentPolicy {
            lead_time_days: 4,
            review_period_days: 3,
            service_level: 0.95,
            case_pack: None,
            min_order_quantity: None,
        }
    }

    fn position(available: i64, incoming: i64) -> StockPosition {
        StockPosition {
            sku: sku(),
            available: q(available),
            incoming: q(incoming),
        }
    }

    #[test]
    fn advice_matches_the_hand_computation() {
        let advice = advise(
            &position(30, 5),
            &STEADY.to_vec().into(),
            &ForecastConfig::default(),
            &policy(),
        )
        .unwrap();
        // forecast 9.8218/day, safety stock 6, reorder point 46 (see above)
        // position 30 + 5 = 35 ≤ 46 → reorder
        // order-up-to ⌈9.8218 × (4 + 3) + 6⌉ = ⌈68.7526 + 6⌉ = 75; 75 − 35 = 40
        assert!(advice.should_reorder);
        assert_eq!(advice.safety_stock, q(6));
        assert_eq!(advice.reorder_point, q(46));
        assert_eq!(advice.suggested_quantity, q(40));
        assert_eq!(advice.method, ForecastMethod::ExponentialSmoothing);
        assert_eq!(
            advice.reason,
            "available 30 + incoming 5 = 35 is at or below reorder point 46 \
             (lead time 4 d × 9.82/day + safety stock 6): order 40 to cover 7 d of lead time \
             and review period"
        );
    }

    #[test]
    fn intermittent_advice_matches_the_hand_computation() {
        let advice = advise(
            &position(4, 0),
            &INTERMITTENT.to_vec().into(),
            &ForecastConfig::default(),
            &ReplenishmentPolicy {
                lead_time_days: 7,
                review_period_days: 7,
                ..policy()
            },
        )
        .unwrap();
        // forecast (SBA) 1.264548/day
        // daily series mean 12/10 = 1.2; squared deviations: 7 × 1.44 (zeros) + 7.84 + 23.04
        //   + 0.64 = 10.08 + 31.52 = 41.6; sample variance 41.6/9 = 4.6222; σ = 2.149935
        // safety stock 1.644854 × 2.149935 × √7 (2.645751) = 9.3563 → 10
        // reorder point ⌈1.264548 × 7 + 10⌉ = ⌈8.8518 + 10⌉ = 19
        // order-up-to ⌈1.264548 × 14 + 10⌉ = ⌈17.7037 + 10⌉ = 28; 28 − 4 = 24
        assert_eq!(advice.method, ForecastMethod::CrostonSba);
        assert_eq!(advice.safety_stock, q(10));
        assert_eq!(advice.reorder_point, q(19));
        assert_eq!(advice.suggested_quantity, q(24));
        assert!(advice.should_reorder);
    }

    #[test]
    fn stock_above_the_reorder_point_needs_no_order() {
        let advice = advise(
            &position(40, 10),
            &STEADY.to_vec().into(),
            &ForecastConfig::default(),
            &policy(),
        )
        .unwrap();
        assert!(!advice.should_reorder);
        assert_eq!(advice.suggested_quantity, q(0));
        assert_eq!(
            advice.reason,
            "available 40 + incoming 10 = 50 is above reorder point 46 \
             (lead time 4 d × 9.82/day + safety stock 6)"
        );
    }

    #[test]
    fn incoming_stock_counts_towards_the_reorder_point() {
        // Same 35 units as the reorder case, but 46 of them incoming: position 76 > 46.
        let advice = advise(
            &position(30, 46),
            &STEADY.to_vec().into(),
            &ForecastConfig::default(),
            &policy(),
        )
        .unwrap();
        assert!(!advice.should_reorder);
    }

    #[test]
    fn a_sku_that_never_sold_is_not_reordered() {
        let advice = advise(
            &position(0, 0),
            &vec![0; 30].into(),
            &ForecastConfig::default(),
            &policy(),
        )
        .unwrap();
        assert_eq!(advice.method, ForecastMethod::NoDemand);
        assert_eq!(advice.reorder_point, q(0));
        assert!(!advice.should_reorder);
        assert_eq!(advice.suggested_quantity, q(0));
    }

    #[test]
    fn orders_are_raised_to_the_moq_then_rounded_up_to_whole_cases() {
        let cases = |pack, moq| ReplenishmentPolicy {
            case_pack: pack,
            min_order_quantity: moq,
            ..policy()
        };
        // (units, case pack, MOQ, expected)
        let table = [
            (40, None, None, 40),
            (40, Some(12), None, 48),     // ⌈40/12⌉ = 4 cases = 48
            (48, Some(12), None, 48),     // already whole cases
            (40, None, Some(50), 50),     // raised to the MOQ
            (40, Some(12), Some(50), 60), // MOQ 50, then ⌈50/12⌉ = 5 cases = 60
            (0, Some(12), Some(50), 0),   // nothing needed, nothing ordered
        ];
        for (units, pack, moq, expected) in table {
            assert_eq!(
                round_to_supplier_terms(units, &cases(pack, moq)).unwrap(),
                expected,
                "{units} units, case pack {pack:?}, MOQ {moq:?}"
            );
        }
        assert_eq!(
            round_to_supplier_terms(1, &cases(Some(0), None)),
            Err(ReplenishmentError::InvalidCasePack)
        );
    }

    #[test]
    fn advice_applies_the_case_pack() {
        let advice = advise(
            &position(30, 5),
            &STEADY.to_vec().into(),
            &ForecastConfig::default(),
            &ReplenishmentPolicy {
                case_pack: Some(12),
                ..policy()
            },
        )
        .unwrap();
        assert_eq!(advice.suggested_quantity, q(48)); // 40 → 4 cases of 12
    }

    #[test]
    fn low_stock_is_raised_once_per_downward_crossing() {
        // (threshold, before, after, raised?)
        let table = [
            (Some(5), 10, 6, false), // still above
            (Some(5), 10, 5, true),  // lands on the threshold: crossed
            (Some(5), 6, 2, true),   // crosses below
            (Some(5), 5, 2, false),  // already at the threshold: raised before
            (Some(5), 4, 3, false),  // stays below
            (Some(5), 3, 8, false),  // goes back above: re-armed, nothing raised
            (Some(5), 2, 5, false),  // rises to the threshold
            (Some(0), 1, 0, true),   // threshold 0: raised on selling out
            (None, 10, 0, false),    // no threshold, no alert
        ];
        for (threshold, before, after, raised) in table {
            let alert = LowStockAlert::on_change(&sku(), threshold.map(q), q(before), q(after));
            assert_eq!(
                alert.is_some(),
                raised,
                "threshold {threshold:?}, {before} → {after}"
            );
            if let Some(alert) = alert {
                assert_eq!(alert.available, q(after));
            }
        }
    }

    #[test]
    fn a_sequence_of_changes_raises_once_per_crossing() {
        let levels = [10, 7, 5, 3, 4, 2, 9, 6, 1, 0, 8];
        let raised: Vec<i64> = levels
            .windows(2)
            .filter_map(|w| LowStockAlert::on_change(&sku(), Some(q(5)), q(w[0]), q(w[1])))
            .map(|a| i64::from(a.available))
            .collect();
        // 7 → 5 crosses; stays ≤ 5 until 9; 6 → 1 crosses again.
        assert_eq!(raised, vec![5, 1]);
    }
}
