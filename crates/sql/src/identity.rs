use crate::entities::{api_key, tenant};
use crate::{SqlStore, store_err};
use async_trait::async_trait;
use identity::ports::{ApiKeyRepository, TenantRepository};
use identity::{ApiKey, Tenant};
use kernel::{ApiKeyId, StoreError, TenantId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};

#[async_trait]
impl TenantRepository for SqlStore {
    async fn create_with_key(&self, t: &Tenant, key: &ApiKey) -> Result<(), StoreError> {
        let tx = self.db.begin().await.map_err(store_err)?;
        tenant::Entity::insert(tenant::ActiveModel {
            id: Set(t.id.into_uuid()),
            company: Set(t.company.clone()),
            email: Set(t.email.clone()),
            created_at: Set(t.created_at),
        })
        .exec_without_returning(&tx)
        .await
        .map_err(store_err)?;
        // Every tenant has a default warehouse from birth: stock changes that name no warehouse
        // land there, and products get their first stock row in it.
        let warehouse = inventory::NewWarehouse::default_for_signup()
            .validate(kernel::WarehouseId::new(), t.id, true, t.created_at)
            .map_err(StoreError::from_source)?;
        crate::entities::warehouse::Entity::insert(crate::inventory::warehouse_row(&warehouse)?)
            .exec_without_returning(&tx)
            .await
            .map_err(store_err)?;
        api_key::Entity::insert(api_key::ActiveModel {
            id: Set(key.id.into_uuid()),
            tenant_id: Set(key.tenant_id.into_uuid()),
            name: Set(key.name.clone()),
            prefix: Set(key.prefix.clone()),
            hash: Set(key.hash.clone()),
            created_at: Set(key.created_at),
            revoked_at: Set(key.revoked_at),
        })
        .exec_without_returning(&tx)
        .await
        .map_err(store_err)?;
        tx.commit().await.map_err(store_err)
    }
}

#[async_trait]
impl ApiKeyRepository for SqlStore {
    async fn find_active_by_hash(
        &self,
        hash: &str,
    ) -> Result<Option<(TenantId, ApiKeyId)>, StoreError> {
        let row: Option<(uuid::Uuid, uuid::Uuid)> = api_key::Entity::find()
            .select_only()
            .column(api_key::Column::TenantId)
            .column(api_key::Column::Id)
            .filter(api_key::Column::Hash.eq(hash))
            .filter(api_key::Column::RevokedAt.is_null())
            .into_tuple()
            .one(&self.db)
            .await
            .map_err(store_err)?;
        Ok(row.map(|(t, k)| (TenantId::from_uuid(t), ApiKeyId::from_uuid(k))))
    }
}
