//! The OpenAI chat-completions wire format, as much of it as the gateway speaks: the request
//! body (with the structured-output recipe per provider capability) and a lenient reading of
//! answers and error bodies, since "compatible" servers differ in what they omit.

use serde::Deserialize;
use serde_json::{Value, json};
use stockpilot_application::ports::{
    ChatMessage, ChatRole, CompletionRequest, OutputSchema, ProviderConfig, TokenUsage,
};

/// The JSON body of `POST {base}/chat/completions`.
pub(crate) fn request_body(
    provider: &ProviderConfig,
    request: &CompletionRequest,
    model: &str,
) -> Value {
    let mut messages = request.messages.clone();
    let mut body = json!({ "model": model, "stream": false });
    if let Some(schema) = &request.schema {
        if provider.supports_json_schema {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": { "name": schema.name, "schema": schema.schema, "strict": true },
            });
        } else {
            body["response_format"] = json!({ "type": "json_object" });
            add_schema_instruction(&mut messages, schema);
        }
    }
    body["messages"] = messages
        .iter()
        .map(|m| json!({ "role": m.role.as_str(), "content": m.content }))
        .collect();
    if let Some(t) = request.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(max) = request.max_tokens {
        let cap = if provider.max_output_tokens == 0 {
            max
        } else {
            max.min(provider.max_output_tokens)
        };
        body["max_tokens"] = json!(cap);
    }
    body
}

/// Providers without schema enforcement (DeepSeek, Qwen, …) need the word "JSON", the schema
/// and an example in the prompt for `json_object` mode to work at all.
fn add_schema_instruction(messages: &mut Vec<ChatMessage>, schema: &OutputSchema) {
    let instruction = format!(
        "Answer with only one JSON object, no prose and no code fences. It must match this JSON Schema:\n{}\nExample of a valid answer:\n{}",
        schema.schema, schema.example
    );
    match messages.iter_mut().find(|m| m.role == ChatRole::System) {
        Some(system) => {
            system.content.push_str("\n\n");
            system.content.push_str(&instruction);
        }
        None => messages.insert(0, ChatMessage::system(instruction)),
    }
}

/// The parts of an answer the gateway uses.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Answer {
    pub content: String,
    pub finish_reason: Option<String>,
    pub usage: TokenUsage,
}

#[derive(Deserialize)]
struct ChatResponse {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    message: Option<Message>,
    #[serde(default)]
    finish_reason: Option<String>,
}

/// `reasoning_content` (DeepSeek-R1, Qwen thinking models) is deliberately not read.
#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<Value>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
}

/// Reads a 2xx body. `Err` carries a description of what is wrong with it (not yet scrubbed).
pub(crate) fn parse_answer(body: &[u8]) -> Result<Answer, String> {
    let response: ChatResponse =
        serde_json::from_slice(body).map_err(|e| format!("not a chat completion ({e})"))?;
    let usage = response
        .usage
        .map_or_else(TokenUsage::default, |u| TokenUsage {
            prompt_tokens: u.prompt_tokens.unwrap_or(0),
            completion_tokens: u.completion_tokens.unwrap_or(0),
        });
    let Some(choice) = response.choices.into_iter().next() else {
        // OpenRouter reports upstream failures as a 200 carrying an `error` object.
        return Err(match response.error {
            Some(error) => format!("error in a 200 answer: {}", error_text(&error)),
            None => "no choices in the answer".into(),
        });
    };
    let content = match choice.message.and_then(|m| m.content) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s,
        // Content given as parts: `[{"type":"text","text":"…"}]`.
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        Some(other) => return Err(format!("content is neither text nor parts: {other}")),
    };
    Ok(Answer {
        content,
        finish_reason: choice.finish_reason,
        usage,
    })
}

/// The readable part of an error body: `error.message` (OpenAI shape), `message`, or the text.
pub(crate) fn error_message(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => v.get("error").map_or_else(|| error_text(&v), error_text),
        Err(_) => String::from_utf8_lossy(body).trim().to_owned(),
    }
}

fn error_text(error: &Value) -> String {
    match error {
        Value::String(s) => s.clone(),
        other => other
            .get("message")
            .or_else(|| other.get("msg"))
            .and_then(Value::as_str)
            .map_or_else(|| other.to_string(), str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn provider(json_schema: bool) -> ProviderConfig {
        ProviderConfig {
            name: "p".into(),
            preset: "custom".into(),
            base_url: "http://x/v1".into(),
            model: "m".into(),
            api_key: None,
            organization: None,
            supports_json_schema: json_schema,
            max_context_tokens: 8000,
            max_output_tokens: 100,
            timeout: Duration::from_secs(1),
            max_concurrent: 1,
            priority: 0,
            enabled: true,
            price_input_per_1k: 0.0,
            price_output_per_1k: 0.0,
            source: "config".into(),
        }
    }

    fn request(schema: bool) -> CompletionRequest {
        CompletionRequest {
            messages: vec![ChatMessage::user("hi")],
            provider: None,
            model: None,
            temperature: None,
            max_tokens: Some(500),
            schema: schema.then(|| OutputSchema {
                name: "s".into(),
                schema: json!({"type":"object"}),
                example: json!({"a":1}),
            }),
            purpose: "t".into(),
        }
    }

    #[test]
    fn caps_max_tokens_and_omits_unset_temperature() {
        let body = request_body(&provider(true), &request(false), "m");
        assert_eq!(body["max_tokens"], 100);
        assert!(body.get("temperature").is_none());
        assert!(body.get("response_format").is_none());
    }

    #[test]
    fn adds_a_system_message_with_schema_and_example_for_json_object_providers() {
        let body = request_body(&provider(false), &request(true), "m");
        assert_eq!(body["response_format"], json!({"type":"json_object"}));
        assert_eq!(body["messages"][0]["role"], "system");
        let text = body["messages"][0]["content"].as_str().unwrap();
        assert!(text.contains("JSON") && text.contains(r#"{"a":1}"#));
        assert_eq!(body["messages"][1]["content"], "hi");
    }

    #[test]
    fn reads_null_content_parts_and_missing_usage() {
        let a =
            parse_answer(br#"{"choices":[{"message":{"content":null},"finish_reason":"stop"}]}"#)
                .unwrap();
        assert_eq!((a.content.as_str(), a.usage), ("", TokenUsage::default()));
        let a = parse_answer(
            br#"{"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}}],"usage":{"prompt_tokens":3}}"#,
        )
        .unwrap();
        assert_eq!(a.content, "ab");
        assert_eq!(a.usage.prompt_tokens, 3);
        assert!(
            parse_answer(br#"{"error":{"message":"upstream down"}}"#)
                .unwrap_err()
                .contains("upstream down")
        );
        assert!(parse_answer(b"<html>").is_err());
    }

    #[test]
    fn error_messages_come_from_any_common_shape() {
        assert_eq!(
            error_message(br#"{"error":{"message":"bad key"}}"#),
            "bad key"
        );
        assert_eq!(error_message(br#"{"message":"nope"}"#), "nope");
        assert_eq!(error_message(br#"{"error":"plain"}"#), "plain");
        assert_eq!(error_message(b" Bad Gateway "), "Bad Gateway");
    }
}
