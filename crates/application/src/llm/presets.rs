//! Known OpenAI-compatible servers and what they support, so a provider needs only a preset,
//! a model and (where required) a key.

/// Defaults a preset fills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    pub name: &'static str,
    pub base_url: &'static str,
    /// Whether the server enforces `response_format: json_schema`.
    pub supports_json_schema: bool,
    pub max_context_tokens: u32,
    pub max_output_tokens: u32,
    /// Empty when the server has no sensible default model.
    pub default_model: &'static str,
    /// Whether calls need an API key.
    pub needs_key: bool,
}

/// | preset | base URL | json_schema | context / output tokens | default model |
/// |---|---|---|---|---|
/// | openai | https://api.openai.com/v1 | yes | 128000 / 16384 | gpt-4o-mini |
/// | deepseek | https://api.deepseek.com/v1 | no (json_object only) | 64000 / 8192 | deepseek-chat |
/// | qwen | https://dashscope.aliyuncs.com/compatible-mode/v1 | no | 32000 / 8192 | qwen-plus |
/// | ollama | http://localhost:11434/v1 | no (json_object; schemas only from 0.5) | 8192 / 4096 | llama3.1 |
/// | vllm | http://localhost:8000/v1 | yes | 32000 / 4096 | — |
/// | openrouter | https://openrouter.ai/api/v1 | no | 128000 / 8192 | — |
/// | custom | — | no | 8192 / 4096 | — |
pub const PRESETS: [Preset; 7] = [
    Preset {
        name: "openai",
        base_url: "https://api.openai.com/v1",
        supports_json_schema: true,
        max_context_tokens: 128_000,
        max_output_tokens: 16_384,
        default_model: "gpt-4o-mini",
        needs_key: true,
    },
    Preset {
        name: "deepseek",
        base_url: "https://api.deepseek.com/v1",
        supports_json_schema: false,
        max_context_tokens: 64_000,
        max_output_tokens: 8192,
        default_model: "deepseek-chat",
        needs_key: true,
    },
    Preset {
        name: "qwen",
        base_url: "https://dashscope.aliyuncs.com/compatible-mode/v1",
        supports_json_schema: false,
        max_context_tokens: 32_000,
        max_output_tokens: 8192,
        default_model: "qwen-plus",
        needs_key: true,
    },
    Preset {
        name: "ollama",
        base_url: "http://localhost:11434/v1",
        supports_json_schema: false,
        max_context_tokens: 8192,
        max_output_tokens: 4096,
        default_model: "llama3.1",
        needs_key: false,
    },
    Preset {
        name: "vllm",
        base_url: "http://localhost:8000/v1",
        supports_json_schema: true,
        max_context_tokens: 32_000,
        max_output_tokens: 4096,
        default_model: "",
        needs_key: false,
    },
    Preset {
        name: "openrouter",
        base_url: "https://openrouter.ai/api/v1",
        supports_json_schema: false,
        max_context_tokens: 128_000,
        max_output_tokens: 8192,
        default_model: "",
        needs_key: true,
    },
    Preset {
        name: "custom",
        base_url: "",
        supports_json_schema: false,
        max_context_tokens: 8192,
        max_output_tokens: 4096,
        default_model: "",
        needs_key: false,
    },
];

/// The preset named `name`.
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The preset a base URL most likely belongs to (for providers given only by URL).
pub fn guess(base_url: &str) -> &'static Preset {
    let url = base_url.to_ascii_lowercase();
    let by_host = |needle: &str, name: &str| url.contains(needle).then(|| preset(name)).flatten();
    by_host("api.openai.com", "openai")
        .or_else(|| by_host("deepseek.com", "deepseek"))
        .or_else(|| by_host("dashscope", "qwen"))
        .or_else(|| by_host("openrouter.ai", "openrouter"))
        .or_else(|| by_host(":11434", "ollama"))
        .or_else(|| by_host(":8000", "vllm"))
        .unwrap_or(&PRESETS[6])
}

/// Names, for error messages.
pub fn names() -> String {
    PRESETS
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let p = preset(name).unwrap();
            assert_eq!(
                (
                    p.base_url,
                    p.supports_json_schema,
                    p.max_context_tokens,
                    p.max_output_tokens,
                    p.default_model
                ),
                (base_url, schema, context, output, model),
                "{name}"
            );
        }
        assert!(preset("unknown").is_none());
        assert!(!preset("ollama").unwrap().needs_key && preset("deepseek").unwrap().needs_key);
    }

    #[test]
    fn guesses_the_preset_from_the_url() {
        assert_eq!(guess("http://localhost:11434/v1").name, "ollama");
        assert_eq!(guess("https://api.deepseek.com").name, "deepseek");
        assert_eq!(guess("http://gpu-box:8000/v1").name, "vllm");
        assert_eq!(guess("https://llm.internal/v1").name, "custom");
        assert!(preset("openai").unwrap().supports_json_schema);
    }
}
