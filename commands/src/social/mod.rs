//! The social context's commands: profiles, follows and their requests, posts, comments,
//! reactions, shares and reports. Acting on a post first asks the domain's visibility rule with
//! what the store holds (the post, its author's privacy, whether the actor follows them), so what
//! a user may not see they cannot touch either: it is not found.

use domain::catalogue::ContentUrl;
use domain::social::block::{self, BlockCommand, Blocks};
use domain::social::comment::{self, Comment, CommentBody, CommentCommand};
use domain::social::follow::{self, FollowCommand, FollowStatus, Followers};
use domain::social::post::{self, Post, PostCommand, PostContent, PostType, ReportAction, ReportReason};
use domain::social::profile::{self, Profile, ProfileChange, ProfileCommand};
use domain::social::visibility::{Audience, Viewer, can_see};
use domain::social::{Reaction, SocialError};
use domain::users::{Language, Timezone, UserCommand};
use uuid::Uuid;

use crate::catalogue::require_category;
use crate::kernel::{Kernel, Transacted, UnitOfWork};
use crate::stream::{Loaded, Stream};
use crate::users::user_stream;
use crate::{CommandContext, CommandError};

pub fn profile_stream(user_id: Uuid) -> Stream<Profile> {
    Stream::new(profile::STREAM_TYPE, user_id.to_string())
}

pub fn followers_stream(user_id: Uuid) -> Stream<Followers> {
    Stream::new(follow::STREAM_TYPE, user_id.to_string())
}

pub fn blocks_stream(user_id: Uuid) -> Stream<Blocks> {
    Stream::new(block::STREAM_TYPE, user_id.to_string())
}

/// Refuses, 403 `blocked`, when `owner` has blocked `from`: for following, messaging and gifting.
pub async fn check_reach(unit: &UnitOfWork, owner: Uuid, from: Uuid) -> Result<(), CommandError> {
    unit.check(&unit.load(&blocks_stream(owner)).await?, BlockCommand::Reach { from })
}

pub fn post_stream(post_id: Uuid) -> Stream<Post> {
    Stream::new(post::STREAM_TYPE, post_id.to_string())
}

pub fn comment_stream(comment_id: Uuid) -> Stream<Comment> {
    Stream::new(comment::STREAM_TYPE, comment_id.to_string())
}

fn rejected(rejection: SocialError) -> CommandError {
    CommandError::rejected(rejection)
}

/// Everything `PATCH /me/profile` may change at once.
#[derive(Clone, Debug, Default)]
pub struct ProfileUpdate {
    pub profile: ProfileChange,
    pub language: Option<Language>,
    pub timezone: Option<Timezone>,
}

/// A new post as its author writes it.
#[derive(Clone, Debug)]
pub struct NewPost {
    pub post_type: PostType,
    pub content: PostContent,
    pub media_urls: Vec<ContentUrl>,
}

/// The context's command handler. Cheap to clone.
#[derive(Clone)]
pub struct Social {
    kernel: Kernel,
}

impl Social {
    pub fn new(kernel: Kernel) -> Self {
        Self { kernel }
    }

    /// Changes a user's profile, language and time zone in one append. Turning the profile
    /// public accepts every waiting follow request in the same append.
    pub async fn update_profile(&self, user_id: Uuid, update: ProfileUpdate, context: &CommandContext) -> Result<Transacted<()>, CommandError> {
        let (update, now) = (&update, self.kernel.now());
        self.kernel
            .transact(context, |unit| async move {
                let user = &user_stream(user_id);
                let mut registered = unit.load(user).await?;
                if let Some(language) = update.language {
                    unit.decide(user, &mut registered, UserCommand::SetLanguage { language })?;
                }
                if let Some(timezone) = update.timezone.clone() {
                    unit.decide(user, &mut registered, UserCommand::SetTimezone { timezone })?;
                }
                let profile = &profile_stream(user_id);
                let mut current = unit.load(profile).await?;
                unit.decide(profile, &mut current, ProfileCommand::Change { user_id, change: update.profile.clone() })?;
                if update.profile.is_private == Some(false) {
                    let followers = &followers_stream(user_id);
                    let mut waiting = unit.load(followers).await?;
                    unit.decide(followers, &mut waiting, FollowCommand::AcceptAll { now })?;
                }
                Ok(())
            })
            .await
    }

    /// Replaces the categories a user cares about; each must exist.
    pub async fn set_interests(&self, user_id: Uuid, category_ids: Vec<Uuid>, context: &CommandContext) -> Result<Transacted<()>, CommandError> {
        let category_ids = &category_ids;
        self.kernel
            .transact(context, |unit| async move {
                let profile = &profile_stream(user_id);
                let mut current = unit.load(profile).await?;
                unit.decide(profile, &mut current, ProfileCommand::SetInterests { user_id, category_ids: category_ids.clone() })?;
                for category_id in category_ids {
                    require_category(&unit, *category_id).await?;
                }
                Ok(())
            })
            .await
    }

    /// Follows a user (`following` at once for a public profile, `requested` for a private one);
    /// answers where the follower stands now.
    pub async fn follow(&self, follower: Uuid, followee: Uuid, context: &CommandContext) -> Result<Transacted<FollowStatus>, CommandError> {
        let stream = &followers_stream(followee);
        let now = self.kernel.now();
        self.kernel
            .transact_in_turn(stream, context, |unit| async move {
                let is_private = unit.load(&profile_stream(followee)).await?.state.is_private();
                if follower != followee {
                    check_reach(&unit, followee, follower).await?;
                }
                let mut followers = unit.load(stream).await?;
                let follow = FollowCommand::Follow { followee, follower, is_private, request_id: Uuid::now_v7(), now };
                unit.decide(stream, &mut followers, follow)?;
                Ok(followers.state.status_of(follower))
            })
            .await
    }

    /// Unfollows a user, or withdraws the request to; changes nothing when neither was made.
    pub async fn unfollow(&self, follower: Uuid, followee: Uuid, context: &CommandContext) -> Result<Transacted<FollowStatus>, CommandError> {
        let stream = &followers_stream(followee);
        let unfollowed = self.kernel.execute(stream, FollowCommand::Unfollow { followee, follower, now: self.kernel.now() }, context).await?;
        Ok(unfollowed.map(|followers| followers.state.status_of(follower)))
    }

    /// Blocks a user: from now on they cannot follow, message or gift the blocker, and follows
    /// (and follow requests) between the two end, both ways, in the same append.
    pub async fn block(&self, blocker: Uuid, blocked: Uuid, context: &CommandContext) -> Result<Transacted<()>, CommandError> {
        let now = self.kernel.now();
        self.kernel
            .transact(context, |unit| async move {
                let blocks = &blocks_stream(blocker);
                let mut current = unit.load(blocks).await?;
                unit.decide(blocks, &mut current, BlockCommand::Block { blocker, blocked, now })?;
                for (followee, follower) in [(blocker, blocked), (blocked, blocker)] {
                    let followers = &followers_stream(followee);
                    let mut current = unit.load(followers).await?;
                    unit.decide(followers, &mut current, FollowCommand::Unfollow { followee, follower, now })?;
                }
                Ok(())
            })
            .await
    }

    pub async fn unblock(&self, blocker: Uuid, blocked: Uuid, context: &CommandContext) -> Result<Transacted<()>, CommandError> {
        let unblock = BlockCommand::Unblock { blocker, blocked, now: self.kernel.now() };
        Ok(self.kernel.execute(&blocks_stream(blocker), unblock, context).await?.map(|_| ()))
    }

    /// Accepts (`true`) or rejects a request to follow `owner`.
    pub async fn answer_request(&self, owner: Uuid, request_id: Uuid, accept: bool, context: &CommandContext) -> Result<Transacted<Loaded<Followers>>, CommandError> {
        let now = self.kernel.now();
        let command = if accept { FollowCommand::Accept { request_id, now } } else { FollowCommand::Reject { request_id, now } };
        self.kernel.execute(&followers_stream(owner), command, context).await
    }

    pub async fn create_post(&self, author: Uuid, post: NewPost, context: &CommandContext) -> Result<Transacted<Uuid>, CommandError> {
        let post_id = Uuid::now_v7();
        let stream = &post_stream(post_id);
        let (post, now) = (&post, self.kernel.now());
        self.kernel
            .transact(context, |unit| async move {
                let mut new = unit.create(stream).await?;
                let create = PostCommand::Create {
                    post_id,
                    author_id: author,
                    post_type: post.post_type,
                    content: Some(post.content.clone()),
                    media_urls: post.media_urls.clone(),
                    shared_post_id: None,
                    now,
                };
                unit.decide(stream, &mut new, create)?;
                Ok(post_id)
            })
            .await
    }

    /// Shares a post the sharer may see (a share of a share shares its original).
    pub async fn share(&self, sharer: Viewer, post_id: Uuid, comment: Option<PostContent>, context: &CommandContext) -> Result<Transacted<Uuid>, CommandError> {
        let author = sharer.id().ok_or_else(|| rejected(SocialError::UnknownUser))?;
        let share_id = Uuid::now_v7();
        let stream = &post_stream(share_id);
        let (comment, now) = (&comment, self.kernel.now());
        self.kernel
            .transact(context, |unit| async move {
                let shared = visible_post(&unit, sharer, post_id).await?;
                let original = shared.state.shared_post_id().unwrap_or(post_id);
                let mut new = unit.create(stream).await?;
                let create = PostCommand::Create {
                    post_id: share_id,
                    author_id: author,
                    post_type: PostType::Share,
                    content: comment.clone(),
                    media_urls: Vec::new(),
                    shared_post_id: Some(original),
                    now,
                };
                unit.decide(stream, &mut new, create)?;
                Ok(share_id)
            })
            .await
    }

    pub async fn edit_post(
        &self,
        actor: Viewer,
        post_id: Uuid,
        content: Option<PostContent>,
        media_urls: Option<Vec<ContentUrl>>,
        context: &CommandContext,
    ) -> Result<Transacted<Loaded<Post>>, CommandError> {
        let user = actor.id().ok_or_else(|| rejected(SocialError::UnknownUser))?;
        let now = self.kernel.now();
        self.on_visible_post(actor, post_id, context, PostCommand::Edit { actor: user, content, media_urls, now }).await
    }

    pub async fn delete_post(&self, actor: Viewer, post_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Post>>, CommandError> {
        let Viewer::User { id, is_admin } = actor else { return Err(rejected(SocialError::UnknownUser)) };
        self.on_visible_post(actor, post_id, context, PostCommand::Delete { actor: id, is_admin, now: self.kernel.now() }).await
    }

    /// Sets (`Some`) or removes the actor's reaction to a post.
    pub async fn react_to_post(&self, actor: Viewer, post_id: Uuid, reaction: Option<Reaction>, context: &CommandContext) -> Result<Transacted<Loaded<Post>>, CommandError> {
        let user_id = actor.id().ok_or_else(|| rejected(SocialError::UnknownUser))?;
        let command = match reaction {
            Some(reaction) => PostCommand::React { user_id, reaction },
            None => PostCommand::Unreact { user_id },
        };
        self.on_visible_post(actor, post_id, context, command).await
    }

    pub async fn report(
        &self,
        actor: Viewer,
        post_id: Uuid,
        reason: ReportReason,
        details: Option<String>,
        context: &CommandContext,
    ) -> Result<Transacted<Uuid>, CommandError> {
        let reporter_id = actor.id().ok_or_else(|| rejected(SocialError::UnknownUser))?;
        let report_id = Uuid::now_v7();
        let report = PostCommand::Report { report_id, reporter_id, reason, details, now: self.kernel.now() };
        Ok(self.on_visible_post(actor, post_id, context, report).await?.map(|_| report_id))
    }

    pub async fn resolve_report(&self, admin_id: Uuid, post_id: Uuid, report_id: Uuid, action: ReportAction, context: &CommandContext) -> Result<Transacted<Loaded<Post>>, CommandError> {
        self.kernel.execute(&post_stream(post_id), PostCommand::Resolve { report_id, admin_id, action, now: self.kernel.now() }, context).await
    }

    /// Comments on a post the actor may see, or replies to one of its top-level comments.
    pub async fn comment(
        &self,
        actor: Viewer,
        post_id: Uuid,
        parent_id: Option<Uuid>,
        body: CommentBody,
        context: &CommandContext,
    ) -> Result<Transacted<Uuid>, CommandError> {
        let author_id = actor.id().ok_or_else(|| rejected(SocialError::UnknownUser))?;
        let comment_id = Uuid::now_v7();
        let stream = &comment_stream(comment_id);
        let (body, now) = (&body, self.kernel.now());
        self.kernel
            .transact(context, |unit| async move {
                visible_post(&unit, actor, post_id).await?;
                let parent = match parent_id {
                    Some(parent_id) => Some(unit.load(&comment_stream(parent_id)).await?.state),
                    None => None,
                };
                let mut new = unit.create(stream).await?;
                unit.decide(stream, &mut new, CommentCommand::Add { comment_id, post_id, author_id, parent, body: body.clone(), now })?;
                Ok(comment_id)
            })
            .await
    }

    /// Deletes a comment: its author, the post's author or an admin.
    pub async fn delete_comment(&self, actor: Viewer, comment_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Comment>>, CommandError> {
        let Viewer::User { id, is_admin } = actor else { return Err(rejected(SocialError::UnknownUser)) };
        let stream = &comment_stream(comment_id);
        let now = self.kernel.now();
        self.kernel
            .transact(context, |unit| async move {
                let mut comment = unit.load(stream).await?;
                let post = visible_comment_post(&unit, actor, &comment).await?;
                unit.decide(stream, &mut comment, CommentCommand::Delete { actor: id, post_author: post.state.author_id(), is_admin, now })?;
                Ok(comment)
            })
            .await
    }

    pub async fn react_to_comment(
        &self,
        actor: Viewer,
        comment_id: Uuid,
        reaction: Option<Reaction>,
        context: &CommandContext,
    ) -> Result<Transacted<Loaded<Comment>>, CommandError> {
        let user_id = actor.id().ok_or_else(|| rejected(SocialError::UnknownUser))?;
        let stream = &comment_stream(comment_id);
        self.kernel
            .transact(context, |unit| async move {
                let mut comment = unit.load(stream).await?;
                visible_comment_post(&unit, actor, &comment).await?;
                let command = match reaction {
                    Some(reaction) => CommentCommand::React { user_id, reaction },
                    None => CommentCommand::Unreact { user_id },
                };
                unit.decide(stream, &mut comment, command)?;
                Ok(comment)
            })
            .await
    }

    /// A post command, once the actor is known to see the post.
    async fn on_visible_post(&self, actor: Viewer, post_id: Uuid, context: &CommandContext, command: PostCommand) -> Result<Transacted<Loaded<Post>>, CommandError> {
        let stream = &post_stream(post_id);
        let command = &command;
        self.kernel
            .transact_in_turn(stream, context, |unit| async move {
                let mut post = visible_post(&unit, actor, post_id).await?;
                unit.decide(stream, &mut post, command.clone())?;
                Ok(post)
            })
            .await
    }
}

/// The post, if it exists and `viewer` may see it; otherwise not found.
async fn visible_post(unit: &UnitOfWork, viewer: Viewer, post_id: Uuid) -> Result<Loaded<Post>, CommandError> {
    let post = unit.load(&post_stream(post_id)).await?;
    if post.state.id().is_none() {
        return Err(rejected(SocialError::UnknownPost));
    }
    let author_id = post.state.author_id();
    let author_is_private = unit.load(&profile_stream(author_id)).await?.state.is_private();
    // Only a private author's followers matter, and a popular author's are many: read them then.
    let viewer_follows = match (author_is_private, viewer.id()) {
        (true, Some(viewer)) => unit.load(&followers_stream(author_id)).await?.state.is_follower(viewer),
        _ => false,
    };
    let audience = Audience { author_id, author_is_private, hidden: post.state.is_hidden(), viewer_follows };
    if !can_see(viewer, audience) {
        return Err(rejected(SocialError::UnknownPost));
    }
    Ok(post)
}

/// The post a comment is on, if the comment exists and `viewer` may see that post.
async fn visible_comment_post(unit: &UnitOfWork, viewer: Viewer, comment: &Loaded<Comment>) -> Result<Loaded<Post>, CommandError> {
    if comment.state.id().is_none() {
        return Err(rejected(SocialError::UnknownComment));
    }
    visible_post(unit, viewer, comment.state.post_id()).await.map_err(|error| match error {
        CommandError::Rejected(rejection) if rejection.is(&SocialError::UnknownPost) => rejected(SocialError::UnknownComment),
        error => error,
    })
}
