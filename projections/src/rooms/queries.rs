//! What the API reads about rooms and consultations: rooms by status, a host's and a
//! registrant's rooms, bookings, availabilities, speakers' ratings, the scheduler's due work, and
//! open slots. Slots are computed by the domain's one rule from a speaker's schedule, which is
//! kept in memory with the consultations projector's position it was read at: an entry serves
//! only while that projector has applied nothing newer, so a booking or a new availability is
//! never missed.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use domain::money::Money;
use domain::rooms::schedule::{self, Availability, DayOfWeek, Reserved, Slot};
use rust_decimal::Decimal;
use sqlx::mysql::MySqlRow;
use sqlx::{MySqlPool, Row};
use tokio::sync::watch;
use uuid::Uuid;

/// Speakers' schedules kept in memory.
const CACHED_SCHEDULES_MAX: u64 = 10_000;

#[derive(Clone, Debug, PartialEq)]
pub struct PersonRow {
    pub id: Uuid,
    /// None once erased.
    pub username: Option<String>,
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RoomRow {
    pub id: Uuid,
    pub host: PersonRow,
    pub title: String,
    pub description: String,
    pub category_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: u32,
    pub access_type: String,
    pub price: Decimal,
    pub max_participants: u32,
    pub registered_count: u32,
    pub status: String,
    pub is_registered: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BookingRow {
    pub id: Uuid,
    pub speaker: PersonRow,
    pub student: PersonRow,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: u32,
    pub price: Decimal,
    pub status: String,
    pub order_id: Option<Uuid>,
    pub student_rating: Option<u8>,
    pub speaker_rating: Option<u8>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AvailabilityRow {
    pub id: Uuid,
    pub availability: Availability,
}

/// The average of the ratings students gave a speaker's sessions, with their count.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsultationRating {
    pub average: Option<Decimal>,
    pub count: u64,
}

/// Whose bookings a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookingSide {
    Student,
    Speaker,
    Either,
}

/// What the scheduler has to look at now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DueWork {
    /// Scheduled rooms whose start has come, and active ones past their end.
    pub rooms: Vec<Uuid>,
    /// Scheduled bookings a day past their end.
    pub no_shows: Vec<Uuid>,
}

/// A speaker's schedule as the read model had it at one position.
#[derive(Debug)]
struct SpeakerSchedule {
    zone: Tz,
    availabilities: Vec<Availability>,
    reserved: Vec<Reserved>,
}

#[derive(Clone)]
pub struct RoomQueries {
    pool: MySqlPool,
    /// The consultations projector's applied position.
    consultations: watch::Receiver<u64>,
    schedules: moka::future::Cache<Uuid, (Arc<SpeakerSchedule>, u64)>,
}

const ROOM_COLUMNS: &str = "r.id, r.host_id, u.username, u.name, r.title, r.description, r.category_id, r.starts_at, r.duration_minutes, \
     r.access_type, r.price, r.max_participants, r.registered_count, r.status";
const BOOKING_COLUMNS: &str = "b.id, b.speaker_id, sp.username, sp.name, b.student_id, st.username, st.name, b.starts_at, b.duration_minutes, \
     b.price, b.status, b.order_id, b.student_rating, b.speaker_rating";
const BOOKING_FROM: &str =
    "FROM consultation_bookings b LEFT JOIN users sp ON sp.id = b.speaker_id LEFT JOIN users st ON st.id = b.student_id";

impl RoomQueries {
    pub fn new(pool: MySqlPool, consultations: watch::Receiver<u64>) -> Self {
        Self { pool, consultations, schedules: moka::future::Cache::new(CACHED_SCHEDULES_MAX) }
    }

    /// A page of rooms, soonest first (`status` or all), with the viewer's registration.
    pub async fn rooms(&self, status: Option<&str>, viewer: Option<Uuid>, page: u64, per_page: u64) -> Result<(u64, Vec<RoomRow>), sqlx::Error> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rooms WHERE status = COALESCE(?, status)").bind(status).fetch_one(&self.pool).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ROOM_COLUMNS}, {} FROM rooms r LEFT JOIN users u ON u.id = r.host_id WHERE r.status = COALESCE(?, r.status) \
             ORDER BY r.starts_at, r.id LIMIT ? OFFSET ?",
            is_registered_column()
        )))
        .bind(viewer)
        .bind(status)
        .bind(per_page)
        .bind(page.saturating_sub(1).saturating_mul(per_page))
        .fetch_all(&self.pool)
        .await?;
        Ok((total as u64, rows.iter().map(room).collect::<Result<_, _>>()?))
    }

    pub async fn room(&self, room_id: Uuid, viewer: Option<Uuid>) -> Result<Option<RoomRow>, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ROOM_COLUMNS}, {} FROM rooms r LEFT JOIN users u ON u.id = r.host_id WHERE r.id = ?",
            is_registered_column()
        )))
        .bind(viewer)
        .bind(room_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(room).transpose()
    }

    /// The host's rooms in every status, latest start first.
    pub async fn hosted(&self, host: Uuid, page: u64, per_page: u64) -> Result<(u64, Vec<RoomRow>), sqlx::Error> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rooms WHERE host_id = ?").bind(host).fetch_one(&self.pool).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ROOM_COLUMNS}, FALSE FROM rooms r LEFT JOIN users u ON u.id = r.host_id WHERE r.host_id = ? \
             ORDER BY r.starts_at DESC, r.id LIMIT ? OFFSET ?"
        )))
        .bind(host)
        .bind(per_page)
        .bind(page.saturating_sub(1).saturating_mul(per_page))
        .fetch_all(&self.pool)
        .await?;
        Ok((total as u64, rows.iter().map(room).collect::<Result<_, _>>()?))
    }

    /// The rooms the user is registered for and that were not cancelled, soonest first.
    pub async fn registered(&self, user: Uuid, page: u64, per_page: u64) -> Result<(u64, Vec<RoomRow>), sqlx::Error> {
        const WHERE: &str = "FROM room_registrations g JOIN rooms r ON r.id = g.room_id LEFT JOIN users u ON u.id = r.host_id \
                             WHERE g.user_id = ? AND r.status <> 'cancelled'";
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {WHERE}"))).bind(user).fetch_one(&self.pool).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ROOM_COLUMNS}, TRUE {WHERE} ORDER BY r.starts_at, r.id LIMIT ? OFFSET ?")))
            .bind(user)
            .bind(per_page)
            .bind(page.saturating_sub(1).saturating_mul(per_page))
            .fetch_all(&self.pool)
            .await?;
        Ok((total as u64, rows.iter().map(room).collect::<Result<_, _>>()?))
    }

    /// The user's bookings on `side`, latest start first; cancelled ones are left out.
    pub async fn bookings(&self, user: Uuid, side: BookingSide, page: u64, per_page: u64) -> Result<(u64, Vec<BookingRow>), sqlx::Error> {
        let whose = match side {
            BookingSide::Student => "b.student_id = ?",
            BookingSide::Speaker => "b.speaker_id = ?",
            BookingSide::Either => "(b.student_id = ? OR b.speaker_id = ?)",
        };
        let condition = format!("WHERE {whose} AND b.status <> 'cancelled'");
        let binds = if side == BookingSide::Either { 2 } else { 1 };
        let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM consultation_bookings b {condition}")));
        let mut select = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BOOKING_COLUMNS} {BOOKING_FROM} {condition} ORDER BY b.starts_at DESC, b.id LIMIT ? OFFSET ?"
        )));
        for _ in 0..binds {
            count = count.bind(user);
            select = select.bind(user);
        }
        let total = count.fetch_one(&self.pool).await?;
        let rows = select.bind(per_page).bind(page.saturating_sub(1).saturating_mul(per_page)).fetch_all(&self.pool).await?;
        Ok((total as u64, rows.iter().map(booking).collect::<Result<_, _>>()?))
    }

    pub async fn booking(&self, booking_id: Uuid) -> Result<Option<BookingRow>, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {BOOKING_COLUMNS} {BOOKING_FROM} WHERE b.id = ?")))
            .bind(booking_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(booking).transpose()
    }

    /// The speaker's availabilities, by day and start.
    pub async fn availabilities(&self, speaker: Uuid) -> Result<Vec<AvailabilityRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, day_of_week, start_time, end_time, session_minutes, price FROM consultation_availabilities WHERE speaker_id = ? \
             ORDER BY FIELD(day_of_week, 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'), start_time",
        )
        .bind(speaker)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok(AvailabilityRow { id: row.try_get(0)?, availability: availability(row, 1)? })).collect()
    }

    /// These users' usernames and names, by id (the ones known).
    pub async fn people(&self, ids: &[Uuid]) -> Result<std::collections::HashMap<Uuid, PersonRow>, sqlx::Error> {
        let mut query = sqlx::QueryBuilder::new("SELECT id, username, name FROM users WHERE id IN (");
        let mut separated = query.separated(", ");
        for id in ids {
            separated.push_bind(*id);
        }
        query.push(")");
        let rows = query.build().fetch_all(&self.pool).await?;
        rows.iter().map(|row| person(row, 0).map(|person| (person.id, person))).collect()
    }

    pub async fn consultation_rating(&self, speaker: Uuid) -> Result<ConsultationRating, sqlx::Error> {
        let row = sqlx::query("SELECT ROUND(AVG(student_rating), 2), COUNT(student_rating) FROM consultation_bookings WHERE speaker_id = ?")
            .bind(speaker)
            .fetch_one(&self.pool)
            .await?;
        Ok(ConsultationRating { average: row.try_get(0)?, count: row.try_get::<i64, _>(1)? as u64 })
    }

    /// The open slots of a speaker starting in [`from`, `to`), or None for someone unknown.
    pub async fn slots(&self, speaker: Uuid, from: DateTime<Utc>, to: DateTime<Utc>, now: DateTime<Utc>) -> Result<Option<Vec<Slot>>, sqlx::Error> {
        let Some(schedule) = self.schedule(speaker, now).await? else { return Ok(None) };
        Ok(Some(schedule::open_slots(&schedule.availabilities, schedule.zone, from, to, now, &schedule.reserved)))
    }

    async fn schedule(&self, speaker: Uuid, now: DateTime<Utc>) -> Result<Option<Arc<SpeakerSchedule>>, sqlx::Error> {
        // Read before the tables: a change applied meanwhile leaves the entry older than the
        // projector, and the next read takes it again.
        let applied = *self.consultations.borrow();
        if let Some((schedule, at)) = self.schedules.get(&speaker).await
            && at == applied
        {
            return Ok(Some(schedule));
        }
        let Some(zone) = sqlx::query_scalar::<_, Option<String>>(
            "SELECT t.timezone FROM users u LEFT JOIN speaker_timezones t ON t.user_id = u.id WHERE u.id = ?",
        )
        .bind(speaker)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let zone = zone.and_then(|name| name.parse().ok()).unwrap_or(chrono_tz::Asia::Riyadh);
        let availabilities = self.availabilities(speaker).await?.into_iter().map(|row| row.availability).collect();
        let reserved = sqlx::query("SELECT starts_at, ends_at FROM consultation_bookings WHERE speaker_id = ? AND status <> 'cancelled' AND ends_at > ?")
            .bind(speaker)
            .bind(now)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| Ok(Reserved { starts_at: time(row, 0)?, ends_at: time(row, 1)? }))
            .collect::<Result<_, sqlx::Error>>()?;
        let schedule = Arc::new(SpeakerSchedule { zone, availabilities, reserved });
        self.schedules.insert(speaker, (schedule.clone(), applied)).await;
        Ok(Some(schedule))
    }

    /// What the scheduler should look at now: at most `limit` rooms and bookings.
    pub async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<DueWork, sqlx::Error> {
        due(&self.pool, now, limit).await
    }
}

/// What the scheduler should look at now (also for the operators' CLI, which has no API).
pub async fn due(pool: &MySqlPool, now: DateTime<Utc>, limit: u32) -> Result<DueWork, sqlx::Error> {
    let rooms = sqlx::query_scalar(
        "(SELECT id FROM rooms WHERE status = 'scheduled' AND (starts_at <= ? OR (reminded = FALSE AND starts_at <= ?)) ORDER BY starts_at LIMIT ?) \
         UNION (SELECT id FROM rooms WHERE status = 'active' AND ends_at <= ? ORDER BY ends_at LIMIT ?)",
    )
    .bind(now)
    .bind(now + chrono::Duration::minutes(domain::rooms::room::REMINDER_MINUTES))
    .bind(limit)
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let no_shows = sqlx::query_scalar("SELECT id FROM consultation_bookings WHERE status = 'scheduled' AND ends_at <= ? ORDER BY ends_at LIMIT ?")
        .bind(now - chrono::Duration::hours(domain::rooms::booking::NO_SHOW_AFTER_HOURS))
        .bind(limit)
        .fetch_all(pool)
        .await?;
    Ok(DueWork { rooms, no_shows })
}

fn is_registered_column() -> &'static str {
    "EXISTS (SELECT 1 FROM room_registrations g WHERE g.room_id = r.id AND g.user_id = ?)"
}

fn time(row: &MySqlRow, index: usize) -> Result<DateTime<Utc>, sqlx::Error> {
    Ok(row.try_get::<NaiveDateTime, _>(index)?.and_utc())
}

fn person(row: &MySqlRow, first: usize) -> Result<PersonRow, sqlx::Error> {
    Ok(PersonRow { id: row.try_get(first)?, username: row.try_get(first + 1)?, name: row.try_get(first + 2)? })
}

fn room(row: &MySqlRow) -> Result<RoomRow, sqlx::Error> {
    Ok(RoomRow {
        id: row.try_get(0)?,
        host: person(row, 1)?,
        title: row.try_get(4)?,
        description: row.try_get(5)?,
        category_id: row.try_get(6)?,
        starts_at: time(row, 7)?,
        duration_minutes: row.try_get(8)?,
        access_type: row.try_get(9)?,
        price: row.try_get(10)?,
        max_participants: row.try_get(11)?,
        registered_count: row.try_get(12)?,
        status: row.try_get(13)?,
        is_registered: row.try_get::<i64, _>(14)? != 0,
    })
}

fn booking(row: &MySqlRow) -> Result<BookingRow, sqlx::Error> {
    Ok(BookingRow {
        id: row.try_get(0)?,
        speaker: person(row, 1)?,
        student: person(row, 4)?,
        starts_at: time(row, 7)?,
        duration_minutes: row.try_get(8)?,
        price: row.try_get(9)?,
        status: row.try_get(10)?,
        order_id: row.try_get(11)?,
        student_rating: row.try_get(12)?,
        speaker_rating: row.try_get(13)?,
    })
}

fn availability(row: &MySqlRow, first: usize) -> Result<Availability, sqlx::Error> {
    let decode = |what: &str| sqlx::Error::Decode(format!("a stored availability's {what} is not valid").into());
    let day = DayOfWeek::parse(&row.try_get::<String, _>(first)?).map_err(|_| decode("day"))?;
    let start = schedule::parse_clock_time(&row.try_get::<String, _>(first + 1)?).ok_or_else(|| decode("start"))?;
    let end = schedule::parse_clock_time(&row.try_get::<String, _>(first + 2)?).ok_or_else(|| decode("end"))?;
    let price = Money::from_decimal(row.try_get(first + 4)?).map_err(|_| decode("price"))?;
    Availability::new(day, start, end, row.try_get(first + 3)?, price).map_err(|_| decode("window"))
}
