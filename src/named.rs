//! Small enums spelt by their names (a case's status and actions, a checklist
//! answer): which value a name stands for, and the names an error lists. A leaf:
//! imports nothing of the crate.

/// The value of `all` that `name` spells as `text`, if any.
pub fn find<T: Copy>(all: &[T], name: fn(T) -> &'static str, text: &str) -> Option<T> {
    all.iter().copied().find(|&value| name(value) == text)
}

/// The names of `all`, in their order, comma-separated.
pub fn list<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> String {
    all.iter()
        .map(|&value| name(value))
        .collect::<Vec<_>>()
        .join(", ")
}
