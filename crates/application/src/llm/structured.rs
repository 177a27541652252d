//! Structured output that never lies: strip reasoning blocks and code fences, parse, validate
//! with serde and the caller's field rules, retry once with the error appended, and otherwise
//! fail with the raw output — never a made-up default.

use serde::de::DeserializeOwned;

use crate::ports::{ChatMessage, ChatRole, Completion, CompletionRequest, LlmError, LlmGateway};

/// How much of a bad answer an error carries.
const SAMPLE_CHARS: usize = 500;

/// The answer without `<think>…</think>` blocks and without a surrounding code fence.
pub fn clean_output(raw: &str) -> String {
    let mut text = raw.to_owned();
    while let Some(start) = text.find("<think>") {
        match text[start..].find("</think>") {
            Some(len) => text.replace_range(start..start + len + "</think>".len(), ""),
            // An unterminated block: everything after it is reasoning, not the answer.
            None => text.truncate(start),
        }
    }
    let trimmed = text.trim();
    if let Some(rest) = trimmed.strip_prefix("```") {
        let body = rest.split_once('\n').map_or("", |(_, b)| b);
        let body = body.trim_end().strip_suffix("```").unwrap_or(body);
        return body.trim().to_owned();
    }
    trimmed.to_owned()
}

fn sample(raw: &str) -> String {
    let mut s: String = raw.chars().take(SAMPLE_CHARS).collect();
    if raw.chars().count() > SAMPLE_CHARS {
        s.push('…');
    }
    s
}

fn parse<T: DeserializeOwned>(
    raw: &str,
    validate: &dyn Fn(&T) -> Result<(), String>,
) -> Result<T, String> {
    let text = clean_output(raw);
    if text.is_empty() {
        return Err("the answer was empty".into());
    }
    let value: T =
        serde_json::from_str(&text).map_err(|e| format!("not the JSON asked for: {e}"))?;
    validate(&value)?;
    Ok(value)
}

/// Asks for JSON matching `request.schema`, parses it into `T` and checks `validate`.
/// Returns the value and every completion made (one, or two after a retry).
///
/// # Errors
/// The gateway's errors, or [`LlmError::OutputInvalid`] with the provider, the reason and a
/// truncated sample when the answer is invalid twice.
pub async fn structured<T: DeserializeOwned>(
    gateway: &dyn LlmGateway,
    mut request: CompletionRequest,
    validate: impl Fn(&T) -> Result<(), String>,
) -> Result<(T, Vec<Completion>), LlmError> {
    let first = gateway.complete(request.clone()).await?;
    let reason = match parse(&first.content, &validate) {
        Ok(value) => return Ok((value, vec![first])),
        Err(reason) => reason,
    };
    tracing::warn!(provider = %first.provider, %reason, "invalid structured output; retrying once");
    // The retry goes to the same provider, with its own answer and what was wrong with it.
    request.provider = Some(first.provider.clone());
    request.messages.push(ChatMessage {
        role: ChatRole::Assistant,
        content: first.content.clone(),
    });
    request.messages.push(ChatMessage::user(format!(
        "Your previous answer was invalid: {reason}. Answer again with only the JSON object that matches the schema, no other text."
    )));
    let second = gateway.complete(request).await?;
    match parse(&second.content, &validate) {
        Ok(value) => Ok((value, vec![first, second])),
        Err(reason) => Err(LlmError::OutputInvalid {
            provider: second.provider.clone(),
            reason,
            sample: sample(&second.content),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use crate::ports::{ProviderConfig, ProviderStatus, TokenUsage};

    #[test]
    fn strips_reasoning_and_fences() {
        assert_eq!(
            clean_output("<think>hmm {no}</think>\n```json\n{\"a\":1}\n```"),
            "{\"a\":1}"
        );
        assert_eq!(clean_output("  {\"a\":1} "), "{\"a\":1}");
        assert_eq!(clean_output("<think>a</think><think>b</think>{}"), "{}");
        assert_eq!(clean_output("{\"a\":1}<think>never closed"), "{\"a\":1}");
        assert_eq!(clean_output("```\n[1,2]\n```"), "[1,2]");
    }

    struct Scripted(Mutex<Vec<&'static str>>, Mutex<Vec<CompletionRequest>>);

    #[async_trait::async_trait]
    impl LlmGateway for Scripted {
        async fn complete(&self, request: CompletionRequest) -> Result<Completion, LlmError> {
            self.1.lock().unwrap().push(request);
            let content = self.0.lock().unwrap().remove(0).to_owned();
            Ok(Completion {
                content,
                provider: "p".into(),
                model: "m".into(),
                usage: TokenUsage::default(),
                latency: Duration::ZERO,
                finish_reason: None,
                cost_usd: 0.0,
                cached: false,
            })
        }
        fn status(&self) -> Vec<ProviderStatus> {
            Vec::new()
        }
        fn reload(&self, _providers: Vec<ProviderConfig>) {}
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Signal {
        signal: String,
        confidence: u8,
    }

    fn rule(s: &Signal) -> Result<(), String> {
        if s.confidence > 100 {
            Err(format!("confidence must be 0–100, got {}", s.confidence))
        } else {
            Ok(())
        }
    }

    fn request() -> CompletionRequest {
        CompletionRequest {
            messages: vec![ChatMessage::user("rate AAPL")],
            provider: None,
            model: None,
            temperature: None,
            max_tokens: None,
            schema: None,
            purpose: "test".into(),
        }
    }

    #[tokio::test]
    async fn a_field_rule_violation_is_retried_once_with_the_reason() {
        let g = Scripted(
            Mutex::new(vec![
                r#"{"signal":"bullish","confidence":140}"#,
                r#"{"signal":"bullish","confidence":70}"#,
            ]),
            Mutex::default(),
        );
        let (value, calls) = structured::<Signal>(&g, request(), rule).await.unwrap();
        assert_eq!(
            value,
            Signal {
                signal: "bullish".into(),
                confidence: 70
            }
        );
        assert_eq!(calls.len(), 2);
        let retry = &g.1.lock().unwrap()[1];
        assert_eq!(retry.provider.as_deref(), Some("p"));
        assert!(
            retry
                .messages
                .last()
                .unwrap()
                .content
                .contains("confidence must be 0–100, got 140")
        );
    }

    #[tokio::test]
    async fn invalid_twice_is_a_typed_failure_carrying_the_output() {
        let g = Scripted(Mutex::new(vec!["hold", ""]), Mutex::default());
        let err = structured::<Signal>(&g, request(), rule).await.unwrap_err();
        assert_eq!(
            err,
            LlmError::OutputInvalid {
                provider: "p".into(),
                reason: "the answer was empty".into(),
                sample: String::new()
            }
        );
    }
}
