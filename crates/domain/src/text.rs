//! Helpers for echoing user input inside error messages without letting it grow unbounded.

use std::borrow::Cow;

/// Longest slice of user input repeated in an error message; enough to recognise a typo,
/// short enough that a pasted blob does not end up in every log line and response body.
const MAX_ECHO_CHARS: usize = 40;

/// The input as it should appear in an error message, cut at a char boundary with `…`.
pub fn excerpt(input: &str) -> Cow<'_, str> {
    match input.char_indices().nth(MAX_ECHO_CHARS) {
        Some((cut, _)) => Cow::Owned(format!("{}…", &input[..cut])),
        None => Cow::Borrowed(input),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_short_input_unchanged() {
        assert_eq!(excerpt("AAPL"), "AAPL");
    }

    #[test]
    fn cuts_long_input_on_a_char_boundary() {
        let long = "é".repeat(50);
        let shown = excerpt(&long);
        assert_eq!(shown.chars().count(), MAX_ECHO_CHARS + 1);
        assert!(shown.ends_with('…'));
    }
}
