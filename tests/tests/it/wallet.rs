//! Wallet commands through the store and projections.
