//! Keeps secrets out of any text that leaves an adapter (errors, logs): upstream servers may
//! echo the key they were sent (`Incorrect API key provided: sk-…`).

const REDACTED: &str = "[redacted]";
/// Upstream error text is cut to this many characters before it is surfaced.
const MAX_UPSTREAM_CHARS: usize = 300;

/// `text` with every occurrence of `secret` (and of its longer prefixes and suffixes, which
/// providers print when they mask the middle of a key) replaced, cut to a readable length.
pub(crate) fn scrub(text: &str, secret: Option<&str>) -> String {
    let mut out = text.to_owned();
    if let Some(secret) = secret.map(str::trim).filter(|s| s.len() >= 4) {
        out = out.replace(secret, REDACTED);
        // `sk-abc…wxyz` style masks keep the ends: hide any 8+ char fragment of the key.
        let chars: Vec<char> = secret.chars().collect();
        if chars.len() > 8 {
            for len in (8..chars.len()).rev() {
                let head: String = chars[..len].iter().collect();
                let tail: String = chars[chars.len() - len..].iter().collect();
                out = out.replace(&head, REDACTED).replace(&tail, REDACTED);
            }
        }
    }
    truncate(&out, MAX_UPSTREAM_CHARS)
}

pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    let mut s: String = text.chars().take(max_chars).collect();
    if text.chars().count() > max_chars {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_the_whole_key_and_masked_fragments_of_it() {
        let key = "sk-test-1234567890abcdef";
        let text =
            format!("Incorrect API key provided: {key}. Also sk-test-12****cdef and sk-test-1234…");
        let out = scrub(&text, Some(key));
        assert!(!out.contains(key));
        assert!(!out.contains("sk-test-1234"));
        assert!(out.contains("Incorrect API key provided: [redacted]"));
    }

    #[test]
    fn leaves_text_alone_without_a_key_and_cuts_long_text() {
        assert_eq!(scrub("bad gateway", None), "bad gateway");
        let long = "x".repeat(1000);
        assert_eq!(scrub(&long, None).chars().count(), MAX_UPSTREAM_CHARS + 1);
    }
}
