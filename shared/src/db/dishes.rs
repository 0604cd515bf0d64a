//! Dishes, their name claims, and the two listings: the public menu for a date and the back office's
//! list of everything.

use super::{
    Db, DbError, Item, attr, from_item, key,
    listing::{Index, Listing, Page},
    s,
};
use crate::domain::Dish;
use crate::domain::{Date, DishId, DishType, Tag};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};

pub(super) const ENTITY: &str = "dish";
const NAME_ENTITY: &str = "dish_name";
const MENU: &str = "MENU";
const ALL_DISHES: &str = "DISHES";
/// The menu index's sort key for dishes with no last day.
const OPEN_ENDED: &str = "9999-12-31";

pub(crate) fn dish_key(id: &DishId) -> Item {
    key(format!("DISH#{id}"), "DISH")
}

/// The dish's index entries: every dish in gsi2 (newest first), and only an active dish in the
/// menu (gsi1), so the menu never reads an inactive one. The menu's sort key starts with the last
/// day the dish can be ordered, so a date's menu is one key range (`>= date`).
fn dish_index(dish: &Dish) -> Vec<(&'static str, String)> {
    let mut index = vec![
        (attr::GSI2PK, ALL_DISHES.to_string()),
        (attr::GSI2SK, dish.id.to_string()),
    ];
    if dish.active {
        let until = dish
            .available_until
            .map(|d| d.to_string())
            .unwrap_or_else(|| OPEN_ENDED.into());
        index.push((attr::GSI1PK, MENU.to_string()));
        index.push((attr::GSI1SK, format!("{until}#{}", dish.id)));
    }
    index
}

fn name_key(folded: &str) -> Item {
    key(format!("DISHNAME#{folded}"), "DISHNAME")
}

/// The item that claims a dish's name: its key is the folded name, so a second dish of that name
/// fails the claim's `attribute_not_exists(pk)` condition.
fn name_claim(dish: &Dish) -> Item {
    let mut claim = name_key(&dish.name.folded());
    claim.insert(attr::ENTITY.into(), s(NAME_ENTITY));
    claim.insert("dish_id".into(), s(dish.id.as_str()));
    claim
}

impl Dish {
    /// The item as the table holds it at `version`, public like `Order::to_item` for the tools
    /// that read the table (the load tool's invariants).
    pub fn to_item(&self, version: u64) -> Result<Item, DbError> {
        let mut attributes = dish_index(self);
        // The folded name, for the menu's and the back office's case-insensitive search.
        attributes.push(("name_search", self.name.folded()));
        let mut item = super::to_item(self, ENTITY, dish_key(&self.id), attributes)?;
        item.insert("version".into(), super::n(version));
        Ok(item)
    }
}

/// A dish as read, with the version that guards its next write.
#[derive(Debug, Clone)]
pub struct StoredDish {
    pub dish: Dish,
    pub version: u64,
}

/// The keys of dishes `ids`, each once.
pub(super) fn dish_keys(ids: &[DishId]) -> Vec<Item> {
    super::unique_keys(ids, dish_key)
}

pub(super) fn stored(item: Item) -> Result<StoredDish, DbError> {
    let version = super::version_of(&item);
    Ok(StoredDish {
        dish: from_item(item)?,
        version,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum DishWriteError {
    #[error("a dish with this name already exists")]
    NameTaken,
    #[error("the dish changed while this request was being handled")]
    Changed,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The public menu's filters.
#[derive(Debug, Clone, Default)]
pub struct MenuFilter {
    pub dish_type: Option<DishType>,
    pub tag: Option<Tag>,
    /// Lower-cased text the name must contain.
    pub name_contains: Option<String>,
}

impl Db {
    /// Writes a new dish and claims its name in one transaction: two concurrent creates of one name
    /// make one dish.
    pub async fn create_dish(&self, dish: &Dish) -> Result<(), DishWriteError> {
        let claim = self.claim_name(dish)?;
        let put = super::built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(dish.to_item(1)?))
                .condition_expression("attribute_not_exists(pk)")
                .build(),
        )?;
        self.write_dish(
            vec![claim, TransactWriteItem::builder().put(put).build()],
            1,
        )
        .await
    }

    /// Replaces a dish read at `version`; fails with `Changed` if someone wrote it since. A new name
    /// moves the name claim in the same transaction.
    pub async fn replace_dish(&self, old: &StoredDish, new: &Dish) -> Result<(), DishWriteError> {
        let mut writes = Vec::new();
        let renamed = old.dish.name.folded() != new.name.folded();
        if renamed {
            writes.push(self.claim_name(new)?);
            let release = super::built(
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(name_key(&old.dish.name.folded())))
                    .condition_expression("dish_id = :id")
                    .expression_attribute_values(":id", s(new.id.as_str()))
                    .build(),
            )?;
            writes.push(TransactWriteItem::builder().delete(release).build());
        }
        let put = super::built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(new.to_item(old.version + 1)?))
                .condition_expression("version = :version")
                .expression_attribute_values(":version", super::n(old.version))
                .build(),
        )?;
        let dish_index = writes.len();
        writes.push(TransactWriteItem::builder().put(put).build());
        self.write_dish(writes, dish_index).await
    }

    fn claim_name(&self, dish: &Dish) -> Result<TransactWriteItem, DbError> {
        let put = super::built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(name_claim(dish)))
                .condition_expression("attribute_not_exists(pk)")
                .build(),
        )?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Runs a dish transaction whose dish is at `dish_index`; anything before it starts with a name
    /// claim.
    async fn write_dish(
        &self,
        writes: Vec<TransactWriteItem>,
        dish_index: usize,
    ) -> Result<(), DishWriteError> {
        let claims_name = dish_index > 0;
        let Err(failure) = self.transact(writes).await else {
            return Ok(());
        };
        if claims_name && failure.condition_failed_at(0) {
            return Err(DishWriteError::NameTaken);
        }
        if failure.condition_failed_at(dish_index) {
            return Err(DishWriteError::Changed);
        }
        Err(DishWriteError::Db(failure.into()))
    }

    pub async fn get_dish(&self, id: &DishId) -> Result<Option<StoredDish>, DbError> {
        self.get_consistent(dish_key(id))
            .await?
            .map(stored)
            .transpose()
    }

    /// Dishes `ids` (at most 99 distinct) and the kitchen's settings, in one round trip: what an
    /// order write prices and checks against.
    pub async fn dishes_and_kitchen(
        &self,
        ids: &[DishId],
    ) -> Result<(Vec<Dish>, Option<crate::domain::KitchenSettings>), DbError> {
        let kitchen_key = super::kitchen::kitchen_key();
        let mut keys = vec![kitchen_key.clone()];
        keys.extend(dish_keys(ids));
        let (mut dishes, mut kitchen) = (Vec::new(), None);
        for item in self.batch_get(keys).await? {
            if super::key_of(&item) == super::key_of(&kitchen_key) {
                kitchen = super::kitchen::stored(item)?.settings;
            } else {
                dishes.push(stored(item)?.dish);
            }
        }
        Ok((dishes, kitchen))
    }

    /// Several dishes in one round trip (for carts and orders); unknown ids are simply absent.
    pub async fn get_dishes(&self, ids: &[DishId]) -> Result<Vec<Dish>, DbError> {
        let keys = dish_keys(ids);
        let mut dishes = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            for item in self.batch_get(chunk.to_vec()).await? {
                dishes.push(stored(item)?.dish);
            }
        }
        Ok(dishes)
    }

    /// Active dishes orderable on `date`, served by the menu index: the key condition keeps only
    /// dishes whose last day is `date` or later; the filter drops those that start after `date`
    /// and applies the optional type, tag and name filters.
    pub async fn menu(
        &self,
        date: Date,
        filter: &MenuFilter,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<Dish>, DbError> {
        let mut listing = Listing::partition(Index::Gsi1, MENU)
            .sort_at_least(date.to_string())
            .value(":date", s(date.to_string()))
            .name("#from", "available_from")
            .filter("#from <= :date");
        if let Some(dish_type) = filter.dish_type {
            listing = listing
                .name("#type", "dish_type")
                .value(":type", s(dish_type.as_str()))
                .filter("#type = :type");
        }
        if let Some(tag) = &filter.tag {
            listing = listing
                .name("#tags", "tags")
                .value(":tag", s(tag.as_str()))
                .filter("contains(#tags, :tag)");
        }
        if let Some(text) = &filter.name_contains {
            listing = listing
                .name("#name", "name_search")
                .value(":q", s(text))
                .filter("contains(#name, :q)");
        }
        self.list(listing, limit, start).await
    }

    /// Every dish, active or not, newest first (the back office's list).
    pub async fn all_dishes(
        &self,
        active: Option<bool>,
        name_contains: Option<&str>,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<StoredDish>, DbError> {
        let mut listing = Listing::partition(Index::Gsi2, ALL_DISHES);
        if let Some(active) = active {
            listing = listing
                .name("#active", "active")
                .value(":active", AttributeValue::Bool(active))
                .filter("#active = :active");
        }
        if let Some(text) = name_contains {
            listing = listing
                .name("#name", "name_search")
                .value(":q", s(text))
                .filter("contains(#name, :q)");
        }
        let page: Page<Item> = self.list_raw(listing, limit, start).await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(stored)
                .collect::<Result<_, _>>()?,
            next: page.next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{self, layout};

    #[test]
    fn an_active_dish_is_in_the_menu_by_its_last_day_and_in_the_list_of_all() {
        let item = testing::dish().to_item(3).unwrap();
        let dish = format!("DISH#{}", testing::DISH);
        let menu = format!("2026-12-31#{}", testing::DISH);
        assert_eq!(
            layout(&item),
            [
                ("entity", "dish"),
                ("pk", dish.as_str()),
                ("sk", "DISH"),
                ("gsi1pk", "MENU"),
                ("gsi1sk", menu.as_str()),
                ("gsi2pk", "DISHES"),
                ("gsi2sk", testing::DISH),
            ]
        );
        assert_eq!(item["name_search"].as_s().unwrap(), "jollof rice");
        assert_eq!(item["version"].as_n().unwrap(), "3");
    }

    #[test]
    fn a_dish_with_no_last_day_sorts_last_in_the_menu() {
        let open = Dish {
            available_until: None,
            daily_portions: None,
            ..testing::dish()
        };
        let item = open.to_item(1).unwrap();
        let menu = format!("9999-12-31#{}", testing::DISH);
        assert_eq!(item[attr::GSI1SK].as_s().unwrap(), &menu);
    }

    #[test]
    fn an_inactive_dish_is_only_in_the_list_of_all() {
        let inactive = Dish {
            active: false,
            ..testing::dish()
        };
        let item = inactive.to_item(1).unwrap();
        let dish = format!("DISH#{}", testing::DISH);
        assert_eq!(
            layout(&item),
            [
                ("entity", "dish"),
                ("pk", dish.as_str()),
                ("sk", "DISH"),
                ("gsi2pk", "DISHES"),
                ("gsi2sk", testing::DISH),
            ]
        );
    }

    #[test]
    fn a_name_claim_is_keyed_by_the_folded_name_and_names_its_dish() {
        let claim = name_claim(&testing::dish());
        assert_eq!(
            layout(&claim),
            [
                ("entity", "dish_name"),
                ("pk", "DISHNAME#jollof rice"),
                ("sk", "DISHNAME"),
            ]
        );
        assert_eq!(claim["dish_id"].as_s().unwrap(), testing::DISH);
    }
}
