//! What the API reads from the commerce read models: carts with today's titles and prices, what
//! a user owns, orders, and a speaker's sales.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{MySqlPool, Row};
use uuid::Uuid;

/// A cart line, with its item's title and effective price now (None when the item is gone).
#[derive(Clone, Debug, PartialEq)]
pub struct CartLine {
    pub id: Uuid,
    pub item_type: String,
    pub item_id: Uuid,
    pub title: Option<String>,
    pub price: Option<Decimal>,
}

/// Something a user owns: an enrollment or a bought book.
#[derive(Clone, Debug, PartialEq)]
pub struct Owned {
    pub item_type: String,
    pub item_id: Uuid,
    pub title: String,
    pub order_id: Uuid,
    pub order_item_id: Uuid,
    pub acquired_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderLine {
    pub id: Uuid,
    pub item_type: String,
    pub item_id: Uuid,
    pub title: String,
    pub unit_price: Decimal,
    pub quantity: u32,
    pub net: Decimal,
    pub vat: Decimal,
    pub refunded: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    pub id: Uuid,
    pub buyer_id: Uuid,
    pub buyer_name: String,
    pub subtotal: Decimal,
    pub vat_amount: Decimal,
    pub total: Decimal,
    pub refunded_amount: Decimal,
    pub status: String,
    pub invoice_id: Option<Uuid>,
    pub placed_at: DateTime<Utc>,
    pub lines: Vec<OrderLine>,
}

/// A speaker's sales in a period, refunded lines left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sales {
    pub orders_count: u64,
    pub gross: Decimal,
    pub vat: Decimal,
    pub commission: Decimal,
    pub net_earnings: Decimal,
    pub by_item: Vec<ItemSales>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ItemSales {
    pub item_type: String,
    pub item_id: Uuid,
    pub title: String,
    pub sales_count: u64,
    pub net_earnings: Decimal,
}

#[derive(Clone)]
pub struct CommerceQueries {
    pool: MySqlPool,
}

impl CommerceQueries {
    pub fn new(pool: MySqlPool) -> Self {
        Self { pool }
    }

    pub async fn cart(&self, user_id: Uuid) -> Result<Vec<CartLine>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT c.id, c.item_type, c.item_id, COALESCE(co.title, b.title), COALESCE(co.effective_price, b.effective_price) \
             FROM cart_items c \
             LEFT JOIN courses co ON c.item_type = 'course' AND co.id = c.item_id \
             LEFT JOIN books b ON c.item_type = 'book' AND b.id = c.item_id \
             WHERE c.user_id = ? ORDER BY c.position",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CartLine { id: row.try_get(0)?, item_type: row.try_get(1)?, item_id: row.try_get(2)?, title: row.try_get(3)?, price: row.try_get(4)? })
            })
            .collect()
    }

    /// Which of `item_ids` (of one type) the user owns now.
    pub async fn owned_among(&self, user_id: Uuid, item_type: &str, item_ids: &[Uuid]) -> Result<HashSet<Uuid>, sqlx::Error> {
        if item_ids.is_empty() {
            return Ok(HashSet::new());
        }
        let mut query = sqlx::QueryBuilder::new("SELECT item_id FROM library_items WHERE user_id = ");
        query.push_bind(user_id).push(" AND item_type = ").push_bind(item_type.to_owned()).push(" AND item_id IN (");
        let mut ids = query.separated(", ");
        for id in item_ids {
            ids.push_bind(*id);
        }
        query.push(")");
        let owned: Vec<Uuid> = query.build_query_scalar().fetch_all(&self.pool).await?;
        Ok(owned.into_iter().collect())
    }

    pub async fn owns(&self, user_id: Uuid, item_type: &str, item_id: Uuid) -> Result<bool, sqlx::Error> {
        Ok(!self.owned_among(user_id, item_type, &[item_id]).await?.is_empty())
    }

    /// A page of what the user owns of one type, most recent first, with the total.
    pub async fn library(&self, user_id: Uuid, item_type: &str, page: u64, per_page: u64) -> Result<(u64, Vec<Owned>), sqlx::Error> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM library_items WHERE user_id = ? AND item_type = ?")
            .bind(user_id)
            .bind(item_type)
            .fetch_one(&self.pool)
            .await?;
        let rows = sqlx::query(
            "SELECT l.item_type, l.item_id, COALESCE(i.title, ''), l.order_id, l.order_item_id, l.acquired_at \
             FROM library_items l LEFT JOIN order_items i ON i.id = l.order_item_id \
             WHERE l.user_id = ? AND l.item_type = ? ORDER BY l.position DESC LIMIT ? OFFSET ?",
        )
        .bind(user_id)
        .bind(item_type)
        .bind(per_page)
        .bind(page.saturating_sub(1).saturating_mul(per_page))
        .fetch_all(&self.pool)
        .await?;
        let items = rows
            .iter()
            .map(|row| {
                let acquired_at: NaiveDateTime = row.try_get(5)?;
                Ok(Owned {
                    item_type: row.try_get(0)?,
                    item_id: row.try_get(1)?,
                    title: row.try_get(2)?,
                    order_id: row.try_get(3)?,
                    order_item_id: row.try_get(4)?,
                    acquired_at: acquired_at.and_utc(),
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok((u64::try_from(total).unwrap_or(0), items))
    }

    /// A page of orders, newest first: the buyer's, or everyone's (`None`, for admins).
    pub async fn orders(&self, buyer_id: Option<Uuid>, page: u64, per_page: u64) -> Result<(u64, Vec<Order>), sqlx::Error> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE ? IS NULL OR buyer_id = ?")
            .bind(buyer_id)
            .bind(buyer_id)
            .fetch_one(&self.pool)
            .await?;
        let ids: Vec<Uuid> =
            sqlx::query_scalar("SELECT id FROM orders WHERE ? IS NULL OR buyer_id = ? ORDER BY position DESC LIMIT ? OFFSET ?")
                .bind(buyer_id)
                .bind(buyer_id)
                .bind(per_page)
                .bind(page.saturating_sub(1).saturating_mul(per_page))
                .fetch_all(&self.pool)
                .await?;
        let mut orders = Vec::with_capacity(ids.len());
        for id in ids {
            orders.extend(self.order(id).await?);
        }
        Ok((u64::try_from(total).unwrap_or(0), orders))
    }

    pub async fn order(&self, order_id: Uuid) -> Result<Option<Order>, sqlx::Error> {
        let Some(row) = sqlx::query(
            "SELECT o.id, o.buyer_id, COALESCE(u.name, ''), o.subtotal, o.vat_amount, o.total, o.refunded_amount, o.status, o.invoice_id, \
             o.placed_at FROM orders o LEFT JOIN users u ON u.id = o.buyer_id WHERE o.id = ?",
        )
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let lines = sqlx::query(
            "SELECT id, item_type, item_id, title, unit_price, quantity, net, vat, refunded_at IS NOT NULL FROM order_items \
             WHERE order_id = ? ORDER BY line",
        )
        .bind(order_id)
        .fetch_all(&self.pool)
        .await?;
        let placed_at: NaiveDateTime = row.try_get(9)?;
        Ok(Some(Order {
            id: row.try_get(0)?,
            buyer_id: row.try_get(1)?,
            buyer_name: row.try_get(2)?,
            subtotal: row.try_get(3)?,
            vat_amount: row.try_get(4)?,
            total: row.try_get(5)?,
            refunded_amount: row.try_get(6)?,
            status: row.try_get(7)?,
            invoice_id: row.try_get(8)?,
            placed_at: placed_at.and_utc(),
            lines: lines
                .iter()
                .map(|line| {
                    Ok(OrderLine {
                        id: line.try_get(0)?,
                        item_type: line.try_get(1)?,
                        item_id: line.try_get(2)?,
                        title: line.try_get(3)?,
                        unit_price: line.try_get(4)?,
                        quantity: line.try_get(5)?,
                        net: line.try_get(6)?,
                        vat: line.try_get(7)?,
                        refunded: line.try_get::<i32, _>(8)? != 0,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()?,
        }))
    }

    /// The speaker's sales placed in `[from, to)`, refunded lines left out.
    pub async fn sales(&self, speaker_id: Uuid, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Result<Sales, sqlx::Error> {
        let (from, to) = (from.map(|t| t.naive_utc()), to.map(|t| t.naive_utc()));
        const PERIOD: &str = "speaker_id = ? AND refunded_at IS NULL AND (? IS NULL OR placed_at >= ?) AND (? IS NULL OR placed_at < ?)";
        let totals = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(DISTINCT order_id), COALESCE(SUM(unit_price * quantity), 0), COALESCE(SUM(vat), 0), \
             COALESCE(SUM(commission), 0), COALESCE(SUM(earning), 0) FROM order_items WHERE {PERIOD}"
        )))
        .bind(speaker_id)
        .bind(from)
        .bind(from)
        .bind(to)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        let by_item = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT item_type, item_id, MAX(title), COUNT(*), SUM(earning) FROM order_items WHERE {PERIOD} \
             GROUP BY item_type, item_id ORDER BY SUM(earning) DESC, item_id"
        )))
        .bind(speaker_id)
        .bind(from)
        .bind(from)
        .bind(to)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(Sales {
            orders_count: u64::try_from(totals.try_get::<i64, _>(0)?).unwrap_or(0),
            gross: totals.try_get(1)?,
            vat: totals.try_get(2)?,
            commission: totals.try_get(3)?,
            net_earnings: totals.try_get(4)?,
            by_item: by_item
                .iter()
                .map(|row| {
                    Ok(ItemSales {
                        item_type: row.try_get(0)?,
                        item_id: row.try_get(1)?,
                        title: row.try_get(2)?,
                        sales_count: u64::try_from(row.try_get::<i64, _>(3)?).unwrap_or(0),
                        net_earnings: row.try_get(4)?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()?,
        })
    }
}
