//! The writes a projector prepares from a batch of events, in event order, for the runtime to
//! run inside the batch's transaction: inserts (consecutive ones into the same table become
//! multi-row statements) and single statements. Table names are written `{table}` in SQL and
//! resolved when the writes run, so the same writes fill the live tables or a rebuild's shadows.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::mysql::MySqlArguments;
use sqlx::query::Query;
use sqlx::{MySql, MySqlConnection, QueryBuilder};
use uuid::Uuid;

use crate::ProjectionError;
use crate::runtime::{BoxFuture, Prepared, Tables};

/// MySQL takes at most 65,535 placeholders in one statement.
const PLACEHOLDERS_MAX: usize = 65_535;

/// A value bound to a placeholder.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Uuid(Uuid),
    Text(String),
    Decimal(Decimal),
    Int(i64),
    Bool(bool),
    Time(DateTime<Utc>),
    Null,
}

impl From<Uuid> for Value {
    fn from(value: Uuid) -> Value {
        Value::Uuid(value)
    }
}

impl From<String> for Value {
    fn from(value: String) -> Value {
        Value::Text(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Value {
        Value::Text(value.to_owned())
    }
}

impl From<Decimal> for Value {
    fn from(value: Decimal) -> Value {
        Value::Decimal(value)
    }
}

impl From<domain::money::Money> for Value {
    fn from(value: domain::money::Money) -> Value {
        Value::Decimal(value.amount())
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Value {
        Value::Int(value)
    }
}

impl From<u32> for Value {
    fn from(value: u32) -> Value {
        Value::Int(i64::from(value))
    }
}

impl From<u64> for Value {
    fn from(value: u64) -> Value {
        Value::Int(i64::try_from(value).unwrap_or(i64::MAX))
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Value {
        Value::Bool(value)
    }
}

impl From<DateTime<Utc>> for Value {
    fn from(value: DateTime<Utc>) -> Value {
        Value::Time(value)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Value {
        value.map_or(Value::Null, Into::into)
    }
}

#[derive(Debug)]
enum Write {
    Insert { table: &'static str, columns: &'static [&'static str], rows: Vec<Vec<Value>> },
    Statement { sql: String, values: Vec<Value> },
}

/// A batch's writes, in order.
#[derive(Debug, Default)]
pub struct Writes {
    writes: Vec<Write>,
    tables: &'static [&'static str],
}

impl Writes {
    /// Writes to a projector's `tables`: the names `{table}` in SQL may use.
    pub fn new(tables: &'static [&'static str]) -> Writes {
        Writes { writes: Vec::new(), tables }
    }

    /// One row into `table`; joins the previous insert when it is into the same table.
    pub fn insert(&mut self, table: &'static str, columns: &'static [&'static str], row: Vec<Value>) {
        debug_assert_eq!(columns.len(), row.len(), "a row for {table} with the wrong number of values");
        if let Some(Write::Insert { table: last, columns: last_columns, rows }) = self.writes.last_mut()
            && *last == table
            && *last_columns == columns
        {
            rows.push(row);
            return;
        }
        self.writes.push(Write::Insert { table, columns, rows: vec![row] });
    }

    /// One statement; `{table}` names in it are resolved when it runs.
    pub fn execute(&mut self, sql: impl Into<String>, values: Vec<Value>) {
        self.writes.push(Write::Statement { sql: sql.into(), values });
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    fn resolve(&self, sql: &str, tables: Tables) -> String {
        self.tables.iter().fold(sql.to_owned(), |sql, table| sql.replace(&format!("{{{table}}}"), &tables.name(table)))
    }
}

impl Prepared for Writes {
    fn write<'a>(self: Box<Self>, connection: &'a mut MySqlConnection, tables: Tables) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            for write in &self.writes {
                match write {
                    Write::Insert { table, columns, rows } => {
                        for chunk in rows.chunks((PLACEHOLDERS_MAX / columns.len()).max(1)) {
                            let mut query: QueryBuilder<MySql> =
                                QueryBuilder::new(format!("INSERT INTO {} ({}) ", tables.name(table), columns.join(", ")));
                            query.push_values(chunk, |mut separated, row| {
                                for value in row {
                                    push(&mut separated, value);
                                }
                            });
                            query.build().execute(&mut *connection).await?;
                        }
                    }
                    Write::Statement { sql, values } => {
                        // Table names are constants of the projectors, never input.
                        let sql = self.resolve(sql, tables);
                        let query = values.iter().fold(sqlx::query(sqlx::AssertSqlSafe(sql)), bind);
                        query.execute(&mut *connection).await?;
                    }
                }
            }
            Ok(())
        })
    }
}

fn push(separated: &mut sqlx::query_builder::Separated<'_, MySql, &'static str>, value: &Value) {
    match value {
        Value::Uuid(value) => separated.push_bind(*value),
        Value::Text(value) => separated.push_bind(value.clone()),
        Value::Decimal(value) => separated.push_bind(*value),
        Value::Int(value) => separated.push_bind(*value),
        Value::Bool(value) => separated.push_bind(*value),
        Value::Time(value) => separated.push_bind(value.naive_utc()),
        Value::Null => separated.push_bind(None::<String>),
    };
}

fn bind<'q>(query: Query<'q, MySql, MySqlArguments>, value: &Value) -> Query<'q, MySql, MySqlArguments> {
    match value {
        Value::Uuid(value) => query.bind(*value),
        Value::Text(value) => query.bind(value.clone()),
        Value::Decimal(value) => query.bind(*value),
        Value::Int(value) => query.bind(*value),
        Value::Bool(value) => query.bind(*value),
        Value::Time(value) => query.bind(value.naive_utc()),
        Value::Null => query.bind(None::<String>),
    }
}
