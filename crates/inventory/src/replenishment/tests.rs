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
