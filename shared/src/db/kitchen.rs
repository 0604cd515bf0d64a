//! The kitchen's settings: one item (`pk = KITCHEN`, `sk = SETTINGS`), absent until staff first
//! change them (the defaults apply until then), replaced whole under a version condition.

use super::{Db, DbError, Item, from_item, key, n};
use crate::domain::KitchenSettings;

pub(super) const ENTITY: &str = "kitchen";

pub(super) fn kitchen_key() -> Item {
    key("KITCHEN", "SETTINGS")
}

/// The settings as stored, with the version that guards their next write (0: never written).
#[derive(Debug, Clone)]
pub struct StoredKitchen {
    pub settings: Option<KitchenSettings>,
    pub version: u64,
}

pub(super) fn stored(item: Item) -> Result<StoredKitchen, DbError> {
    let version = super::version_of(&item);
    Ok(StoredKitchen {
        settings: Some(from_item(item)?),
        version,
    })
}

impl Db {
    /// The stored settings (none before staff first change them).
    pub async fn kitchen(&self) -> Result<StoredKitchen, DbError> {
        match self.get_consistent(kitchen_key()).await? {
            Some(item) => stored(item),
            None => Ok(StoredKitchen {
                settings: None,
                version: 0,
            }),
        }
    }

    /// Replaces the settings read at `old.version` with `next`; `false` if they changed since.
    pub async fn put_kitchen(
        &self,
        old: &StoredKitchen,
        next: &KitchenSettings,
    ) -> Result<bool, DbError> {
        let mut item = super::to_item(next, ENTITY, kitchen_key(), [])?;
        item.insert("version".into(), n(old.version + 1));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let put = if old.version == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("version = :version")
                .expression_attribute_values(":version", n(old.version))
        };
        super::applied(put.send().await)
    }
}
