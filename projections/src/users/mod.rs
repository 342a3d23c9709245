//! The users context's read models: users and revoked tokens; `queries` reads them.

mod projector;
pub mod queries;

pub use projector::UsersProjector;

use std::sync::Arc;

use crate::Projector;

pub(crate) fn projectors() -> Vec<Arc<dyn Projector>> {
    vec![Arc::new(UsersProjector)]
}
