//! Blocking: set-like, never oneself, and what a block refuses.

use chrono::{DateTime, Utc};
use domain::kernel::testing::given;
use domain::social::SocialError;
use domain::social::block::{BlockCommand, BlockEvent, Blocks};
use uuid::Uuid;

const BLOCKER: Uuid = Uuid::from_u128(1);
const PEST: Uuid = Uuid::from_u128(2);
const FRIEND: Uuid = Uuid::from_u128(3);

fn now() -> DateTime<Utc> {
    "2026-11-22T10:00:00Z".parse().unwrap()
}

fn blocked() -> BlockEvent {
    BlockEvent::UserBlocked { blocker_id: BLOCKER, blocked_id: PEST, blocked_at: now() }
}

#[test]
fn blocking_someone_is_recorded_once() {
    given::<Blocks>([]).when(BlockCommand::Block { blocker: BLOCKER, blocked: PEST, now: now() }).then(vec![blocked()]);
    given::<Blocks>([blocked()]).when(BlockCommand::Block { blocker: BLOCKER, blocked: PEST, now: now() }).then_nothing();
}

#[test]
fn nobody_blocks_themself() {
    given::<Blocks>([]).when(BlockCommand::Block { blocker: BLOCKER, blocked: BLOCKER, now: now() }).then_rejected(SocialError::CannotBlockSelf);
}

#[test]
fn a_blocked_user_cannot_reach_the_blocker_until_unblocked() {
    given::<Blocks>([blocked()]).when(BlockCommand::Reach { from: PEST }).then_rejected(SocialError::Blocked);
    given::<Blocks>([blocked()]).when(BlockCommand::Reach { from: FRIEND }).then_nothing();
    let unblocked = BlockEvent::UserUnblocked { blocker_id: BLOCKER, blocked_id: PEST, unblocked_at: now() };
    given::<Blocks>([blocked()]).when(BlockCommand::Unblock { blocker: BLOCKER, blocked: PEST, now: now() }).then(vec![unblocked.clone()]);
    given::<Blocks>([blocked(), unblocked]).when(BlockCommand::Reach { from: PEST }).then_nothing();
    given::<Blocks>([]).when(BlockCommand::Unblock { blocker: BLOCKER, blocked: PEST, now: now() }).then_nothing();
}
