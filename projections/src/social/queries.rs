//! What the API reads from the social read models. Every read of posts — by id, a user's posts,
//! the feed, a share's original, the comments under a post — goes through `Visible`, the one SQL
//! form of the domain's visibility rule (`domain::social::visibility`).
//!
//! The feed is read on request from the follows and the authors' posts (fan-out on read, ADR 14).
//! A page once read is kept while the social projector has applied nothing newer, so repeated
//! reads of a quiet feed cost no query.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::social::visibility::Viewer;
use sqlx::mysql::{MySqlArguments, MySqlRow};
use sqlx::query::{Query, QueryScalar};
use sqlx::{MySql, MySqlPool, Row};
use tokio::sync::watch;
use uuid::Uuid;

/// Feed pages kept, keyed by reader, cursor and size.
const CACHED_FEED_PAGES_MAX: u64 = 50_000;

/// The viewer's side of the visibility rule, bound into every post query.
#[derive(Clone, Copy, Debug)]
struct Visible(Viewer);

impl Visible {
    /// The condition on `p` (a post) and `ap` (its author's profile), and the viewer id it binds
    /// (zero, one or two times, in order).
    fn condition(self) -> (&'static str, usize) {
        match self.0 {
            Viewer::User { is_admin: true, .. } => ("p.is_deleted = FALSE", 0),
            Viewer::User { .. } => (
                "p.is_deleted = FALSE AND (p.author_id = ? OR (p.is_hidden = FALSE AND (ap.is_private = FALSE \
                 OR EXISTS (SELECT 1 FROM follows vf WHERE vf.follower_id = ? AND vf.followee_id = p.author_id))))",
                2,
            ),
            Viewer::Anonymous => ("p.is_deleted = FALSE AND p.is_hidden = FALSE AND ap.is_private = FALSE", 0),
        }
    }

    fn bind<'q>(self, mut query: Query<'q, MySql, MySqlArguments>) -> Query<'q, MySql, MySqlArguments> {
        let (_, binds) = self.condition();
        for _ in 0..binds {
            query = query.bind(self.0.id());
        }
        query
    }

    fn bind_scalar<'q, O>(self, mut query: QueryScalar<'q, MySql, O, MySqlArguments>) -> QueryScalar<'q, MySql, O, MySqlArguments> {
        let (_, binds) = self.condition();
        for _ in 0..binds {
            query = query.bind(self.0.id());
        }
        query
    }
}

/// Someone as lists show them.
#[derive(Clone, Debug, PartialEq)]
pub struct PersonRow {
    pub id: Uuid,
    pub username: Option<String>,
    pub name: String,
    pub avatar_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProfileRow {
    pub person: PersonRow,
    pub headline: Option<String>,
    pub bio: Option<String>,
    pub location: Option<String>,
    pub language: String,
    pub timezone: Option<String>,
    pub social_links: serde_json::Value,
    pub cover_url: Option<String>,
    pub is_private: bool,
    pub is_speaker: bool,
    pub expertise: Vec<String>,
    pub interests: Vec<Uuid>,
    pub followers_count: u64,
    pub following_count: u64,
    pub posts_count: u64,
}

/// Where the viewer stands with a profile's owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    Oneself,
    Following,
    Requested,
    None,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PostRow {
    pub id: Uuid,
    pub seq: u64,
    pub author: PersonRow,
    pub post_type: String,
    pub content: Option<String>,
    pub media_urls: Vec<String>,
    pub shared_post_id: Option<Uuid>,
    pub reactions_count: u64,
    pub comments_count: u64,
    pub shares_count: u64,
    pub my_reaction: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CommentRow {
    pub id: Uuid,
    pub post_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub author: PersonRow,
    pub body: Option<String>,
    pub deleted: bool,
    pub replies_count: u64,
    pub reactions_count: u64,
    pub my_reaction: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RequestRow {
    pub id: Uuid,
    pub requester: PersonRow,
    pub requested_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReportRow {
    pub id: Uuid,
    pub post_id: Uuid,
    pub reporter_id: Uuid,
    pub reason: String,
    pub details: Option<String>,
    pub status: String,
    pub action: Option<String>,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// A page of the feed: its posts, and the cursor of the next page if there is one.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedPage {
    pub posts: Vec<PostRow>,
    pub next_cursor: Option<u64>,
}

#[derive(Clone)]
pub struct SocialQueries {
    pool: MySqlPool,
    /// The social projector's applied position: a cached feed page is good while it stands.
    applied: watch::Receiver<u64>,
    feeds: moka::future::Cache<(Uuid, u64, u64), (Arc<FeedPage>, u64)>,
}

pub(crate) const PERSON_COLUMNS: &str = "u.id, u.username, u.name, pr.avatar_url";

const POST_COLUMNS: &str = "p.id, p.seq, u.id, u.username, u.name, ap.avatar_url, p.type, p.content, p.media_urls, p.shared_post_id, \
     p.reactions_count, p.comments_count, p.shares_count, mr.reaction, p.created_at, p.edited_at";

/// Comments with their authors and the viewer's reaction (the first placeholder: the viewer).
const COMMENT_SELECT: &str = "SELECT c.id, c.post_id, c.parent_id, c.body, c.is_deleted, c.replies_count, c.reactions_count, mr.reaction, c.created_at, \
     u.id, u.username, u.name, pr.avatar_url FROM comments c JOIN users u ON u.id = c.author_id JOIN profiles pr ON pr.user_id = u.id \
     LEFT JOIN comment_reactions mr ON mr.comment_id = c.id AND mr.user_id = ?";

/// Posts with their authors and the viewer's reaction (the first placeholder: the viewer).
const POST_FROM: &str = "FROM posts p JOIN profiles ap ON ap.user_id = p.author_id JOIN users u ON u.id = p.author_id \
     LEFT JOIN post_reactions mr ON mr.post_id = p.id AND mr.user_id = ?";

impl SocialQueries {
    pub fn new(pool: MySqlPool, applied: watch::Receiver<u64>) -> Self {
        Self { pool, applied, feeds: moka::future::Cache::new(CACHED_FEED_PAGES_MAX) }
    }

    pub async fn profile(&self, viewer: Option<Uuid>, user_id: Uuid) -> Result<Option<(ProfileRow, Relation)>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.name, pr.avatar_url, pr.headline, pr.bio, pr.location, u.language, t.timezone, pr.social_links, \
             pr.cover_url, pr.is_private, u.roles, pr.expertise, pr.interests, pr.followers_count, pr.following_count, pr.posts_count, \
             EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = ? AND f.followee_id = u.id), \
             EXISTS (SELECT 1 FROM follow_requests r WHERE r.follower_id = ? AND r.followee_id = u.id) \
             FROM users u JOIN profiles pr ON pr.user_id = u.id LEFT JOIN speaker_timezones t ON t.user_id = u.id \
             WHERE u.id = ? AND u.is_erased = FALSE",
        )
        .bind(viewer)
        .bind(viewer)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let text_json = |index: usize| -> Result<serde_json::Value, sqlx::Error> {
            let text: String = row.try_get(index)?;
            Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
        };
        let ids: Vec<Uuid> = serde_json::from_value(text_json(14)?).unwrap_or_default();
        let profile = ProfileRow {
            person: person(&row, 0)?,
            headline: row.try_get(4)?,
            bio: row.try_get(5)?,
            location: row.try_get(6)?,
            language: row.try_get(7)?,
            timezone: row.try_get(8)?,
            social_links: text_json(9)?,
            cover_url: row.try_get(10)?,
            is_private: row.try_get(11)?,
            is_speaker: row.try_get::<String, _>(12)?.split(',').any(|role| role == "speaker"),
            expertise: serde_json::from_value(text_json(13)?).unwrap_or_default(),
            interests: ids,
            followers_count: row.try_get::<u32, _>(15)?.into(),
            following_count: row.try_get::<u32, _>(16)?.into(),
            posts_count: row.try_get::<u32, _>(17)?.into(),
        };
        let relation = if viewer == Some(user_id) {
            Relation::Oneself
        } else if row.try_get::<bool, _>(18)? {
            Relation::Following
        } else if row.try_get::<bool, _>(19)? {
            Relation::Requested
        } else {
            Relation::None
        };
        Ok(Some((profile, relation)))
    }

    /// A user's followers (`followers = true`) or the people they follow, newest first.
    pub async fn follows(&self, user_id: Uuid, followers: bool, page: u64, per_page: u64) -> Result<(u64, Vec<PersonRow>), sqlx::Error> {
        let (mine, theirs) = if followers { ("followee_id", "follower_id") } else { ("follower_id", "followee_id") };
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM follows WHERE {mine} = ?"))).bind(user_id).fetch_one(&self.pool).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PERSON_COLUMNS} FROM follows f JOIN users u ON u.id = f.{theirs} JOIN profiles pr ON pr.user_id = u.id \
             WHERE f.{mine} = ? ORDER BY f.position DESC LIMIT ? OFFSET ?"
        )))
        .bind(user_id)
        .bind(per_page)
        .bind(offset(page, per_page))
        .fetch_all(&self.pool)
        .await?;
        Ok((total as u64, rows.iter().map(|row| person(row, 0)).collect::<Result<_, _>>()?))
    }

    pub async fn follow_requests(&self, owner: Uuid, page: u64, per_page: u64) -> Result<(u64, Vec<RequestRow>), sqlx::Error> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM follow_requests WHERE followee_id = ?").bind(owner).fetch_one(&self.pool).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT r.id, r.requested_at, {PERSON_COLUMNS} FROM follow_requests r JOIN users u ON u.id = r.follower_id \
             JOIN profiles pr ON pr.user_id = u.id WHERE r.followee_id = ? ORDER BY r.position DESC LIMIT ? OFFSET ?"
        )))
        .bind(owner)
        .bind(per_page)
        .bind(offset(page, per_page))
        .fetch_all(&self.pool)
        .await?;
        let request = |row: &MySqlRow| -> Result<RequestRow, sqlx::Error> {
            Ok(RequestRow { id: row.try_get(0)?, requested_at: row.try_get::<chrono::NaiveDateTime, _>(1)?.and_utc(), requester: person(row, 2)? })
        };
        Ok((total as u64, rows.iter().map(request).collect::<Result<_, _>>()?))
    }

    /// A post the viewer may see.
    pub async fn post(&self, viewer: Viewer, post_id: Uuid) -> Result<Option<PostRow>, sqlx::Error> {
        Ok(self.posts_by_id(viewer, &[post_id]).await?.pop())
    }

    /// Those of `ids` the viewer may see.
    pub async fn posts_by_id(&self, viewer: Viewer, ids: &[Uuid]) -> Result<Vec<PostRow>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let visible = Visible(viewer);
        let sql = format!("SELECT {POST_COLUMNS} {POST_FROM} WHERE {} AND p.id IN ({})", visible.condition().0, placeholders(ids.len()));
        let query = visible.bind(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(viewer.id()));
        let rows = ids.iter().fold(query, |query, id| query.bind(*id)).fetch_all(&self.pool).await?;
        rows.iter().map(post).collect()
    }

    /// A user's posts the viewer may see, newest first.
    pub async fn user_posts(&self, viewer: Viewer, author: Uuid, page: u64, per_page: u64) -> Result<(u64, Vec<PostRow>), sqlx::Error> {
        let visible = Visible(viewer);
        let condition = format!("WHERE p.author_id = ? AND {}", visible.condition().0);
        let count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM posts p JOIN profiles ap ON ap.user_id = p.author_id {condition}"
        )));
        let total = visible.bind_scalar(count.bind(author)).fetch_one(&self.pool).await?;
        let select = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {POST_COLUMNS} {POST_FROM} {condition} ORDER BY p.seq DESC LIMIT ? OFFSET ?")));
        let rows = visible.bind(select.bind(viewer.id()).bind(author)).bind(per_page).bind(offset(page, per_page)).fetch_all(&self.pool).await?;
        Ok((total as u64, rows.iter().map(post).collect::<Result<_, _>>()?))
    }

    /// The reader's feed: their own posts and those of everyone they follow, newest first, from
    /// before `cursor` (a post's `seq`). Hidden posts leave every feed.
    pub async fn feed(&self, reader: Uuid, is_admin: bool, cursor: Option<u64>, limit: u64) -> Result<Arc<FeedPage>, sqlx::Error> {
        let key = (reader, cursor.unwrap_or(u64::MAX), limit);
        // Read before the tables: a change applied meanwhile leaves the entry older than the
        // projector, and the next read computes it again.
        let applied = *self.applied.borrow();
        if let Some((page, at)) = self.feeds.get(&key).await
            && at == applied
        {
            return Ok(page);
        }
        // Fan-out on read (ADR 14): the page's ids from the `posts_feed` index alone (the newest
        // of each followed author's, and of the reader's own), then their rows. The visibility
        // rule still guards the rows, though following an author is what lets one see them.
        let visible = Visible(Viewer::User { id: reader, is_admin });
        let newest = "x.is_hidden = FALSE AND x.is_deleted = FALSE AND x.seq < ? ORDER BY x.seq DESC LIMIT ?";
        let sql = format!(
            "SELECT {POST_COLUMNS} {POST_FROM} JOIN ((SELECT x.id FROM posts x JOIN follows f ON f.followee_id = x.author_id WHERE f.follower_id = ? AND {newest}) \
             UNION ALL (SELECT x.id FROM posts x WHERE x.author_id = ? AND {newest})) page ON page.id = p.id WHERE {} ORDER BY p.seq DESC LIMIT ?",
            visible.condition().0
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(reader).bind(reader).bind(key.1).bind(limit + 1).bind(reader).bind(key.1).bind(limit + 1);
        let rows = visible.bind(query).bind(limit + 1).fetch_all(&self.pool).await?;
        let mut posts = rows.iter().map(post).collect::<Result<Vec<_>, _>>()?;
        let more = posts.len() as u64 > limit;
        posts.truncate(limit as usize);
        let next_cursor = more.then(|| posts.last().map(|last| last.seq)).flatten();
        let page = Arc::new(FeedPage { posts, next_cursor });
        self.feeds.insert(key, (page.clone(), applied)).await;
        Ok(page)
    }

    /// The comments under a post (top-level, or the replies to `parent_id`), oldest first. The
    /// caller has checked that the viewer may see the post.
    pub async fn comments(&self, viewer: Option<Uuid>, post_id: Uuid, parent_id: Option<Uuid>, page: u64, per_page: u64) -> Result<(u64, Vec<CommentRow>), sqlx::Error> {
        let condition = "WHERE c.post_id = ? AND c.parent_id <=> ?";
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM comments c {condition}")))
            .bind(post_id)
            .bind(parent_id)
            .fetch_one(&self.pool)
            .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{COMMENT_SELECT} {condition} ORDER BY c.seq LIMIT ? OFFSET ?")))
            .bind(viewer)
            .bind(post_id)
            .bind(parent_id)
            .bind(per_page)
            .bind(offset(page, per_page))
            .fetch_all(&self.pool)
            .await?;
        Ok((total as u64, rows.iter().map(comment).collect::<Result<_, _>>()?))
    }

    /// One comment, with the viewer's reaction; the caller has checked the viewer may see its post.
    pub async fn comment(&self, viewer: Option<Uuid>, comment_id: Uuid) -> Result<Option<CommentRow>, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{COMMENT_SELECT} WHERE c.id = ?"))).bind(viewer).bind(comment_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(comment).transpose()
    }

    pub async fn reports(&self, status: &str, page: u64, per_page: u64) -> Result<(u64, Vec<ReportRow>), sqlx::Error> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM post_reports WHERE status = ?").bind(status).fetch_one(&self.pool).await?;
        let rows = sqlx::query(
            "SELECT id, post_id, reporter_id, reason, details, status, action, created_at, resolved_at FROM post_reports \
             WHERE status = ? ORDER BY seq LIMIT ? OFFSET ?",
        )
        .bind(status)
        .bind(per_page)
        .bind(offset(page, per_page))
        .fetch_all(&self.pool)
        .await?;
        Ok((total as u64, rows.iter().map(report).collect::<Result<_, _>>()?))
    }

    pub async fn report(&self, report_id: Uuid) -> Result<Option<ReportRow>, sqlx::Error> {
        let row = sqlx::query("SELECT id, post_id, reporter_id, reason, details, status, action, created_at, resolved_at FROM post_reports WHERE id = ?")
            .bind(report_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(report).transpose()
    }
}

fn offset(page: u64, per_page: u64) -> u64 {
    page.saturating_sub(1).saturating_mul(per_page)
}

fn placeholders(count: usize) -> String {
    vec!["?"; count].join(", ")
}

pub(crate) fn person(row: &MySqlRow, first: usize) -> Result<PersonRow, sqlx::Error> {
    Ok(PersonRow { id: row.try_get(first)?, username: row.try_get(first + 1)?, name: row.try_get(first + 2)?, avatar_url: row.try_get(first + 3)? })
}

fn post(row: &MySqlRow) -> Result<PostRow, sqlx::Error> {
    let media: String = row.try_get(8)?;
    Ok(PostRow {
        id: row.try_get(0)?,
        seq: row.try_get(1)?,
        author: person(row, 2)?,
        post_type: row.try_get(6)?,
        content: row.try_get(7)?,
        media_urls: serde_json::from_str(&media).unwrap_or_default(),
        shared_post_id: row.try_get(9)?,
        reactions_count: row.try_get::<u32, _>(10)?.into(),
        comments_count: row.try_get::<u32, _>(11)?.into(),
        shares_count: row.try_get::<u32, _>(12)?.into(),
        my_reaction: row.try_get(13)?,
        created_at: row.try_get::<chrono::NaiveDateTime, _>(14)?.and_utc(),
        edited_at: row.try_get::<Option<chrono::NaiveDateTime>, _>(15)?.map(|at| at.and_utc()),
    })
}

fn comment(row: &MySqlRow) -> Result<CommentRow, sqlx::Error> {
    Ok(CommentRow {
        id: row.try_get(0)?,
        post_id: row.try_get(1)?,
        parent_id: row.try_get(2)?,
        body: row.try_get(3)?,
        deleted: row.try_get(4)?,
        replies_count: row.try_get::<u32, _>(5)?.into(),
        reactions_count: row.try_get::<u32, _>(6)?.into(),
        my_reaction: row.try_get(7)?,
        created_at: row.try_get::<chrono::NaiveDateTime, _>(8)?.and_utc(),
        author: person(row, 9)?,
    })
}

fn report(row: &MySqlRow) -> Result<ReportRow, sqlx::Error> {
    Ok(ReportRow {
        id: row.try_get(0)?,
        post_id: row.try_get(1)?,
        reporter_id: row.try_get(2)?,
        reason: row.try_get(3)?,
        details: row.try_get(4)?,
        status: row.try_get(5)?,
        action: row.try_get(6)?,
        created_at: row.try_get::<chrono::NaiveDateTime, _>(7)?.and_utc(),
        resolved_at: row.try_get::<Option<chrono::NaiveDateTime>, _>(8)?.map(|at| at.and_utc()),
    })
}
