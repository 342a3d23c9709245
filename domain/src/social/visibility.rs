//! Who may see a post, and so its comments, reactions and place in a share: the author, admins,
//! and — unless an admin hid it — everyone when the author's profile is public, or the author's
//! accepted followers when it is private. Commands ask this before acting on a post; the read
//! side's one SQL predicate (`projections::social::visibility`) says the same.

use uuid::Uuid;

/// Who is looking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    Anonymous,
    User { id: Uuid, is_admin: bool },
}

impl Viewer {
    pub fn id(self) -> Option<Uuid> {
        match self {
            Viewer::Anonymous => None,
            Viewer::User { id, .. } => Some(id),
        }
    }
}

/// What the rule needs to know about a post and its author.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Audience {
    pub author_id: Uuid,
    pub author_is_private: bool,
    pub hidden: bool,
    /// Whether the viewer is an accepted follower of the author.
    pub viewer_follows: bool,
}

/// Whether `viewer` may see a post with this audience.
pub fn can_see(viewer: Viewer, audience: Audience) -> bool {
    match viewer {
        Viewer::User { is_admin: true, .. } => true,
        Viewer::User { id, .. } if id == audience.author_id => true,
        _ if audience.hidden => false,
        _ if !audience.author_is_private => true,
        Viewer::User { .. } => audience.viewer_follows,
        Viewer::Anonymous => false,
    }
}
