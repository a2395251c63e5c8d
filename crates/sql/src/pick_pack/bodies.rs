//! How pick lists and pack sessions are stored: JSON bodies, and rows of the floor tables.

use super::*;
use crate::tx::Tx;

#[derive(Serialize, Deserialize)]
struct BinBody {
    code: String,
    warehouse: Uuid,
    zone: String,
    walk_order: u32,
}

impl From<&Bin> for BinBody {
    fn from(b: &Bin) -> Self {
        Self {
            code: b.code.to_string(),
            warehouse: b.warehouse.into_uuid(),
            zone: b.zone.clone(),
            walk_order: b.walk_order,
        }
    }
}

impl BinBody {
    fn into_bin(self) -> Result<Bin, StoreError> {
        Ok(Bin {
            code: BinCode::parse(&self.code).map_err(|_| bad("bin code"))?,
            warehouse: WarehouseId::from_uuid(self.warehouse),
            zone: self.zone,
            walk_order: self.walk_order,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct AllocationBody {
    order_id: OrderId,
    line_no: u32,
    quantity: Quantity,
}

fn allocations_body(a: &[warehouse::Allocation]) -> Vec<AllocationBody> {
    a.iter()
        .map(|a| AllocationBody {
            order_id: a.order_id,
            line_no: a.line_no,
            quantity: a.quantity,
        })
        .collect()
}

fn allocations_of_body(a: Vec<AllocationBody>) -> Vec<warehouse::Allocation> {
    a.into_iter()
        .map(|a| warehouse::Allocation {
            order_id: a.order_id,
            line_no: a.line_no,
            quantity: a.quantity,
        })
        .collect()
}

#[derive(Serialize, Deserialize)]
struct LineBody {
    seq: u32,
    bin: BinBody,
    sku: Sku,
    barcode: Option<String>,
    quantity: Quantity,
    picked: Quantity,
    short: Quantity,
    allocations: Vec<AllocationBody>,
}

#[derive(Serialize, Deserialize)]
struct UnallocatedBody {
    sku: Sku,
    missing: Quantity,
    affected: Vec<AllocationBody>,
}

#[derive(Serialize, Deserialize)]
struct ScanBody {
    scan_id: Uuid,
    line_seq: u32,
    quantity: Quantity,
    at: DateTime<Utc>,
    next_seq: Option<u32>,
}

#[derive(Serialize, Deserialize)]
struct PickListBody {
    orders: Vec<OrderId>,
    lines: Vec<LineBody>,
    unallocated: Vec<UnallocatedBody>,
    scans: Vec<ScanBody>,
    completed_at: Option<DateTime<Utc>>,
}

pub(super) fn pick_list_body(list: &PickList) -> Result<serde_json::Value, StoreError> {
    let body = PickListBody {
        orders: list.orders().to_vec(),
        lines: list
            .lines()
            .iter()
            .map(|l| LineBody {
                seq: l.seq,
                bin: (&l.bin).into(),
                sku: l.sku.clone(),
                barcode: l.barcode.clone(),
                quantity: l.quantity,
                picked: l.picked,
                short: l.short,
                allocations: allocations_body(&l.allocations),
            })
            .collect(),
        unallocated: list
            .unallocated()
            .iter()
            .map(|u| UnallocatedBody {
                sku: u.sku.clone(),
                missing: u.missing,
                affected: allocations_body(&u.affected),
            })
            .collect(),
        scans: list
            .scans()
            .into_iter()
            .map(|s| ScanBody {
                scan_id: s.scan_id,
                line_seq: s.line_seq,
                quantity: s.quantity,
                at: s.at,
                next_seq: s.next_seq,
            })
            .collect(),
        completed_at: list.completed_at(),
    };
    serde_json::to_value(body).map_err(json_err)
}

pub(super) fn to_pick_list(m: pick_list::Model) -> Result<PickList, StoreError> {
    let body: PickListBody = serde_json::from_value(m.body).map_err(json_err)?;
    let lines = body
        .lines
        .into_iter()
        .map(|l| {
            Ok(PickLine {
                seq: l.seq,
                bin: l.bin.into_bin()?,
                sku: l.sku,
                barcode: l.barcode,
                quantity: l.quantity,
                picked: l.picked,
                short: l.short,
                allocations: allocations_of_body(l.allocations),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(PickList::restore(
        m.id,
        PickStatus::parse(&m.status).ok_or_else(|| bad("status"))?,
        body.orders,
        lines,
        body.unallocated
            .into_iter()
            .map(|u| Unallocated {
                sku: u.sku,
                missing: u.missing,
                affected: allocations_of_body(u.affected),
            })
            .collect(),
        body.scans
            .into_iter()
            .map(|s| AppliedScan {
                scan_id: s.scan_id,
                line_seq: s.line_seq,
                quantity: s.quantity,
                at: s.at,
                next_seq: s.next_seq,
            })
            .collect(),
        m.version,
        m.created_at,
        body.completed_at,
    ))
}

#[derive(Serialize, Deserialize)]
struct PackItemBody {
    sku: Sku,
    barcode: Option<String>,
    expected: Quantity,
    scanned: Quantity,
}

#[derive(Serialize, Deserialize)]
struct PackScanBody {
    scan_id: Uuid,
    sku: Sku,
    remaining: Quantity,
    remaining_total: u64,
}

#[derive(Serialize, Deserialize)]
struct PackSessionBody {
    items: Vec<PackItemBody>,
    scans: Vec<PackScanBody>,
    box_code: Option<String>,
    weight_g: Option<u32>,
    packed_at: Option<DateTime<Utc>>,
}

pub(super) fn pack_session_body(s: &PackSession) -> Result<serde_json::Value, StoreError> {
    let mut scans: Vec<PackScanBody> = s
        .scans()
        .map(|(id, p)| PackScanBody {
            scan_id: *id,
            sku: p.sku.clone(),
            remaining: p.remaining,
            remaining_total: p.remaining_total,
        })
        .collect();
    scans.sort_by_key(|s| s.scan_id);
    let body = PackSessionBody {
        items: s
            .items()
            .iter()
            .map(|i| PackItemBody {
                sku: i.sku.clone(),
                barcode: i.barcode.clone(),
                expected: i.expected,
                scanned: i.scanned,
            })
            .collect(),
        scans,
        box_code: s.box_code().map(str::to_owned),
        weight_g: s.weight_g(),
        packed_at: s.packed_at(),
    };
    serde_json::to_value(body).map_err(json_err)
}

pub(super) fn to_pack_session(m: pack_session::Model) -> Result<PackSession, StoreError> {
    let body: PackSessionBody = serde_json::from_value(m.body).map_err(json_err)?;
    Ok(PackSession::restore(
        m.id,
        OrderId::from_uuid(m.order_id),
        PackStatus::parse(&m.status).ok_or_else(|| bad("status"))?,
        body.items
            .into_iter()
            .map(|i| PackItem {
                sku: i.sku,
                barcode: i.barcode,
                expected: i.expected,
                scanned: i.scanned,
            })
            .collect(),
        body.scans
            .into_iter()
            .map(|s| {
                (
                    s.scan_id,
                    PackProgress {
                        sku: s.sku,
                        remaining: s.remaining,
                        remaining_total: s.remaining_total,
                    },
                )
            })
            .collect(),
        body.box_code,
        body.weight_g,
        m.version,
        body.packed_at,
    ))
}

pub(super) fn to_box(m: box_type::Model) -> Result<BoxType, StoreError> {
    let dim = |v: i64| u32::try_from(v).map_err(|_| bad("box dimension"));
    Ok(BoxType {
        code: m.code,
        length_mm: dim(m.length_mm)?,
        width_mm: dim(m.width_mm)?,
        height_mm: dim(m.height_mm)?,
        max_weight_g: dim(m.max_weight_g)?,
        cost: Money::new(
            m.cost_minor,
            Currency::parse(&m.currency).map_err(|_| bad("currency"))?,
        ),
    })
}

pub(super) fn to_bin(m: &bin::Model) -> Result<Bin, StoreError> {
    Ok(Bin {
        code: BinCode::parse(&m.code).map_err(|_| bad("bin code"))?,
        warehouse: WarehouseId::from_uuid(m.warehouse_id),
        zone: m.zone.clone(),
        walk_order: u32::try_from(m.walk_order).map_err(|_| bad("walk order"))?,
    })
}

pub(super) async fn find_bin(
    tx: &Tx,
    tenant: TenantId,
    warehouse: WarehouseId,
    code: &BinCode,
) -> Result<Option<bin::Model>, StoreError> {
    bin::Entity::find()
        .filter(bin::Column::TenantId.eq(tenant.into_uuid()))
        .filter(bin::Column::WarehouseId.eq(warehouse.into_uuid()))
        .filter(bin::Column::Code.eq(code.as_str()))
        .one(tx)
        .await
        .map_err(store_err)
}
