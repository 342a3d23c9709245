//! The operators' CLI against planted corruption (written next).
