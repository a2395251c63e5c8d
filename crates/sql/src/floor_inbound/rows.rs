//! Rows and JSON bodies of receiving, counts and QC, to and from the domain's types.

use super::*;

pub(super) fn refused(e: InventoryError) -> StockEffectError {
    let detail = e.to_string();
    let code = match e {
        InventoryError::Store(s) => return StockEffectError::Store(s),
        InventoryError::BelowReserved { .. } => "below-reserved",
        InventoryError::InsufficientStock(_) => "insufficient-stock",
        InventoryError::UnknownSku(_) | InventoryError::UnknownSkus(_) => "unknown-sku",
        InventoryError::KitHasNoStock(_) | InventoryError::NestedKit(_) => "kit",
        _ => "stock-refused",
    };
    StockEffectError::Refused { code, detail }
}

pub(super) fn q(n: i64) -> Result<Quantity, StoreError> {
    Quantity::new(n).map_err(bad)
}

pub(super) fn sku_of(raw: &str) -> Result<Sku, StoreError> {
    Sku::parse(raw).map_err(bad)
}

pub(super) fn bin_of(raw: &str) -> Result<BinCode, StoreError> {
    BinCode::parse(raw).map_err(bad)
}

pub(super) fn body_q(v: &Value, key: &str) -> Result<Quantity, StoreError> {
    q(v[key]
        .as_i64()
        .ok_or_else(|| StoreError::new(format!("stored body lacks {key}")))?)
}

pub(super) fn body_str<'a>(v: &'a Value, key: &str) -> Result<&'a str, StoreError> {
    v[key]
        .as_str()
        .ok_or_else(|| StoreError::new(format!("stored body lacks {key}")))
}

pub(super) fn inbound_row(s: &InboundShipment, tenant: Uuid) -> inbound_shipment::ActiveModel {
    let lines: Vec<Value> = s
        .lines()
        .iter()
        .map(|l| {
            json!({ "sku": l.sku, "barcode": l.barcode, "expected": l.expected,
                    "received": l.received, "damaged": l.damaged })
        })
        .collect();
    let mut scans: Vec<(&Uuid, &ReceiveProgress)> = s.scans().collect();
    scans.sort_by_key(|(id, _)| **id);
    let scans: Vec<Value> = scans
        .into_iter()
        .map(|(id, p)| {
            json!({ "id": id, "sku": p.sku, "received": p.received, "damaged": p.damaged,
                    "expected": p.expected })
        })
        .collect();
    inbound_shipment::ActiveModel {
        id: Set(s.id()),
        tenant_id: Set(tenant),
        warehouse_id: Set(s.warehouse().into_uuid()),
        reference: Set(s.reference().to_owned()),
        status: Set(s.status().as_str().to_owned()),
        body: Set(json!({ "v": BODY_VERSION, "lines": lines, "scans": scans })),
        version: Set(s.version()),
        created_at: Set(s.created_at()),
        closed_at: Set(s.closed_at()),
    }
}

pub(super) fn to_inbound(m: inbound_shipment::Model) -> Result<InboundShipment, StoreError> {
    let status = InboundStatus::parse(&m.status)
        .ok_or_else(|| StoreError::new(format!("unknown inbound status {}", m.status)))?;
    let empty = Vec::new();
    let lines = m.body["lines"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|l| {
            Ok(InboundLine {
                sku: sku_of(body_str(l, "sku")?)?,
                barcode: l["barcode"].as_str().map(str::to_owned),
                expected: body_q(l, "expected")?,
                received: body_q(l, "received")?,
                damaged: body_q(l, "damaged")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let scans = m.body["scans"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|p| {
            let id: Uuid = body_str(p, "id")?.parse().map_err(bad)?;
            Ok((
                id,
                ReceiveProgress {
                    sku: sku_of(body_str(p, "sku")?)?,
                    received: body_q(p, "received")?,
                    damaged: body_q(p, "damaged")?,
                    expected: body_q(p, "expected")?,
                },
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(InboundShipment::restore(
        m.id,
        m.reference,
        WarehouseId::from_uuid(m.warehouse_id),
        status,
        lines,
        scans,
        m.version,
        m.created_at,
        m.closed_at,
    ))
}

pub(super) fn pairs(list: &[(Sku, Quantity)]) -> Value {
    Value::Array(list.iter().map(|(s, n)| json!([s, n])).collect())
}

pub(super) fn from_pairs(v: &Value) -> Result<Vec<(Sku, Quantity)>, StoreError> {
    v.as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let sku = p[0]
                .as_str()
                .ok_or_else(|| StoreError::new("stored count line lacks its SKU"))?;
            Ok((sku_of(sku)?, q(p[1].as_i64().unwrap_or_default())?))
        })
        .collect()
}

pub(super) fn count_row(c: &CycleCount, tenant: Uuid) -> cycle_count::ActiveModel {
    cycle_count::ActiveModel {
        id: Set(c.id()),
        tenant_id: Set(tenant),
        warehouse_id: Set(c.warehouse().into_uuid()),
        bin_code: Set(c.bin().to_string()),
        status: Set(c.status().as_str().to_owned()),
        body: Set(json!({
            "v": BODY_VERSION,
            "expected": pairs(c.expected()),
            "counted": pairs(c.counted()),
        })),
        counter: Set(c.counter().map(str::to_owned)),
        version: Set(c.version()),
        created_at: Set(c.created_at()),
        counted_at: Set(c.counted_at()),
    }
}

pub(super) fn to_count(m: cycle_count::Model) -> Result<CycleCount, StoreError> {
    let status = CountStatus::parse(&m.status)
        .ok_or_else(|| StoreError::new(format!("unknown count status {}", m.status)))?;
    Ok(CycleCount::restore(
        m.id,
        WarehouseId::from_uuid(m.warehouse_id),
        bin_of(&m.bin_code)?,
        status,
        from_pairs(&m.body["expected"])?,
        from_pairs(&m.body["counted"])?,
        m.counter,
        m.version,
        m.created_at,
        m.counted_at,
    ))
}

pub(super) fn to_checklist(m: qc_checklist::Model) -> Result<QcChecklist, StoreError> {
    Ok(QcChecklist {
        id: m.id,
        name: m.name,
        stage: QcStage::parse(&m.stage)
            .ok_or_else(|| StoreError::new(format!("unknown QC stage {}", m.stage)))?,
        sku: m.sku.as_deref().map(sku_of).transpose()?,
        questions: m.body["questions"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|q| q.as_str().map(str::to_owned))
            .collect(),
    })
}

pub(super) fn quarantine_row(r: &QuarantineRecord, tenant: Uuid) -> quarantine::ActiveModel {
    quarantine::ActiveModel {
        id: Set(r.quarantine.id),
        tenant_id: Set(tenant),
        warehouse_id: Set(r.warehouse.into_uuid()),
        inspection_id: Set(r.inspection_id),
        sku: Set(r.quarantine.sku.to_string()),
        quantity: Set(r.quarantine.quantity.as_i64()),
        reason: Set(r.quarantine.reason.clone()),
        status: Set(r.quarantine.status.as_str().to_owned()),
        created_at: Set(r.created_at),
        settled_at: Set(r.quarantine.settled_at),
    }
}

pub(super) fn to_quarantine(m: quarantine::Model) -> Result<QuarantineRecord, StoreError> {
    Ok(QuarantineRecord {
        quarantine: Quarantine {
            id: m.id,
            sku: sku_of(&m.sku)?,
            quantity: q(m.quantity)?,
            reason: m.reason,
            status: QuarantineStatus::parse(&m.status).ok_or_else(|| {
                StoreError::new(format!("unknown quarantine status {}", m.status))
            })?,
            settled_at: m.settled_at,
        },
        warehouse: WarehouseId::from_uuid(m.warehouse_id),
        inspection_id: m.inspection_id,
        created_at: m.created_at,
    })
}

pub(super) fn to_put_away(
    m: put_away_task::Model,
    task: warehouse_task::Model,
) -> Result<PutAwayTask, StoreError> {
    Ok(PutAwayTask {
        task: to_task(task)?,
        inbound_id: m.inbound_id,
        sku: sku_of(&m.sku)?,
        quantity: q(m.quantity)?,
        suggested_bin: bin_of(&m.suggested_bin)?,
        placed_bin: m.placed_bin.as_deref().map(bin_of).transpose()?,
    })
}

pub(super) fn floor_warehouse(m: warehouse::Model) -> FloorWarehouse {
    FloorWarehouse {
        id: WarehouseId::from_uuid(m.id),
        code: m.code,
    }
}
