//! Contract tests; see `tests/`. The library only lists the functions for them.

use kitchen::state::Function;

/// The six HTTP functions, as their `main`s run them.
pub const HTTP_FUNCTIONS: [Function; 6] = [
    auth::FUNCTION,
    dishes::FUNCTION,
    orders::FUNCTION,
    payments::FUNCTION,
    admin::FUNCTION,
    paystack_webhook::FUNCTION,
];

/// The HTTP function built as binary `name`.
pub fn function_named(name: &str) -> Function {
    HTTP_FUNCTIONS
        .into_iter()
        .find(|function| function.name == name)
        .unwrap_or_else(|| panic!("no HTTP function {name}"))
}
