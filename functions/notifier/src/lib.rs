//! The notifier function.
