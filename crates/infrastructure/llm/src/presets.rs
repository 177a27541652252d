//! Defaults for the provider presets a user picks when adding an LLM provider.
//!
//! | preset       | base URL                                              | json_schema | context | output | default model  |
//! |--------------|-------------------------------------------------------|-------------|---------|--------|----------------|
//! | `openai`     | `https://api.openai.com/v1`                           | yes         | 128000  | 16384  | `gpt-4o-mini`  |
//! | `deepseek`   | `https://api.deepseek.com/v1`                         | no          | 64000   | 8192   | `deepseek-chat`|
//! | `qwen`       | `https://dashscope.aliyuncs.com/compatible-mode/v1`   | no          | 32000   | 8192   | `qwen-plus`    |
//! | `ollama`     | `http://localhost:11434/v1`                           | no          | 8192    | 4096   | `llama3.1`     |
//! | `vllm`       | `http://localhost:8000/v1`                            | yes         | 32000   | 4096   | (none)         |
//! | `openrouter` | `https://openrouter.ai/api/v1`                        | no          | 128000  | 8192   | (none)         |
//! | `custom`     | no defaults: every field must be given                |             |         |        |                |
//!
//! Ollama accepts `json_schema` from 0.5 on, but older servers answer it with an error, so
//! the preset stays on `json_object` + schema-in-prompt, which every version honours. Ollama's
//! own default context window is small and silently truncates long prompts: set `num_ctx` on
//! the server to match `max_context_tokens`. OpenRouter routes to many upstreams whose schema
//! support differs, so it is treated as schema-less too.

use stockpilot_application::llm::presets;

/// What a preset fills in when a provider is added without those fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresetDefaults {
    pub base_url: &'static str,
    pub supports_json_schema: bool,
    pub max_context_tokens: u32,
    pub max_output_tokens: u32,
    /// Empty when the preset has no sensible default model (the user must name one).
    pub default_model: &'static str,
}

/// Every preset name accepted in a provider configuration, `custom` included.
pub const PRESETS: [&str; 7] = [
    "openai",
    "deepseek",
    "qwen",
    "ollama",
    "vllm",
    "openrouter",
    "custom",
];

/// The defaults of `preset`; `None` for `custom` (nothing to default) and for unknown names
/// (check membership in [`PRESETS`] to tell them apart). The values come from the
/// application's preset table, so the gateway and the provider registry cannot disagree.
pub fn preset_defaults(preset: &str) -> Option<PresetDefaults> {
    let p = presets::preset(preset).filter(|p| p.name != "custom")?;
    Some(PresetDefaults {
        base_url: p.base_url,
        supports_json_schema: p.supports_json_schema,
        max_context_tokens: p.max_context_tokens,
        max_output_tokens: p.max_output_tokens,
        default_model: p.default_model,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deepseek_has_no_json_schema_and_a_default_model() {
        let d = preset_defaults("deepseek").unwrap();
        assert!(!d.supports_json_schema);
        assert_eq!(d.default_model, "deepseek-chat");
        assert_eq!((d.max_context_tokens, d.max_output_tokens), (64_000, 8_192));
    }

    #[test]
    fn matches_the_documented_table() {
        let table = [
            (
                "openai",
                "https://api.openai.com/v1",
                true,
                128_000,
                16_384,
                "gpt-4o-mini",
            ),
            (
                "deepseek",
                "https://api.deepseek.com/v1",
                false,
                64_000,
                8_192,
                "deepseek-chat",
            ),
            (
                "qwen",
                "https://dashscope.aliyuncs.com/compatible-mode/v1",
                false,
                32_000,
                8_192,
                "qwen-plus",
            ),
            (
                "ollama",
                "http://localhost:11434/v1",
                false,
                8_192,
                4_096,
                "llama3.1",
            ),
            ("vllm", "http://localhost:8000/v1", true, 32_000, 4_096, ""),
            (
                "openrouter",
                "https://openrouter.ai/api/v1",
                false,
                128_000,
                8_192,
                "",
            ),
        ];
        for (name, base_url, schema, context, output, model) in table {
            let d = preset_defaults(name).unwrap();
            assert_eq!(
                (
                    d.base_url,
                    d.supports_json_schema,
                    d.max_context_tokens,
                    d.max_output_tokens,
                    d.default_model
                ),
                (base_url, schema, context, output, model),
                "{name}"
            );
        }
    }

    #[test]
    fn every_preset_but_custom_has_defaults_and_unknown_ones_have_none() {
        for p in PRESETS {
            assert_eq!(preset_defaults(p).is_some(), p != "custom", "{p}");
        }
        assert_eq!(preset_defaults("anthropic"), None);
        assert_eq!(preset_defaults("vllm").unwrap().default_model, "");
    }
}
