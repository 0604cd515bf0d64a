//! The dishes function.
