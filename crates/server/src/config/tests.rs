use super::*;

fn env(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn opts(dir: &std::path::Path) -> SourceOptions {
    SourceOptions {
        config_file: None,
        dotenv: Some(dir.join("absent.env")),
    }
}

/// The problems of a configuration file holding `content` (and nothing else configured), and
/// the file's path.
fn load_file(content: &str) -> (ConfigErrors, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stockpilot.toml");
    std::fs::write(&file, content).unwrap();
    let errs = Config::load_from(
        &SourceOptions {
            config_file: Some(file.clone()),
            dotenv: Some(dir.path().join("absent.env")),
        },
        &[],
    )
    .unwrap_err();
    (errs, file)
}

fn load(list: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
    let dir = tempfile::tempdir().unwrap();
    Config::load_from(&opts(dir.path()), &env(list))
}

#[test]
fn defaults_to_an_embedded_sqlite_database_under_the_data_directory() {
    let c = load(&[]).unwrap();
    assert_eq!(
        c.database_url().expose_secret(),
        "sqlite://./data/stockpilot.db?mode=rwc"
    );
    assert!(c.cache.redis_url.is_none());
    assert_eq!(c.server.port, 8080);
    assert!(c.database.auto_migrate);
    assert_eq!(c.logging.format, LogFormat::Json);
}

#[test]
fn a_non_numeric_port_names_the_key_and_the_variable() {
    let errs = load(&[("STOCKPILOT_SERVER__PORT", "abc")]).unwrap_err();
    assert_eq!(errs.0.len(), 1, "{errs}");
    let p = &errs.0[0];
    assert_eq!(p.key, "server.port");
    assert_eq!(p.message, "\"abc\" is not a whole number in 0–65535");
    assert_eq!(p.source, "environment variable STOCKPILOT_SERVER__PORT");
}

#[test]
fn bad_values_are_described_by_what_is_allowed_not_by_serde_types() {
    let errs = load(&[
        ("STOCKPILOT_SERVER__PORT", "70000"),
        ("STOCKPILOT_SERVER__WORKERS", "-1"),
        ("STOCKPILOT_LLM__TIMEOUT_SECS", "1.5"),
        ("STOCKPILOT_RATE_LIMIT__ENABLED", "maybe"),
        ("LOG_FORMAT", "xml"),
        ("STOCKPILOT_SERVER__", "3"),
        ("STOCKPILOT___X", "4"),
    ])
    .unwrap_err();
    let lines: Vec<String> = errs.0.iter().map(ToString::to_string).collect();
    for expected in [
        "server.port: 70000 is out of range 0–65535 (from environment variable STOCKPILOT_SERVER__PORT)",
        "server.workers: -1 is out of range 0–18446744073709551615 (from environment variable STOCKPILOT_SERVER__WORKERS)",
        "llm.timeout_secs: 1.5 is not a whole number in 0–18446744073709551615 (from environment variable STOCKPILOT_LLM__TIMEOUT_SECS)",
        "rate_limit.enabled: \"maybe\" is not true or false (from environment variable STOCKPILOT_RATE_LIMIT__ENABLED)",
        "logging.format: \"xml\" is not one of: json, pretty (from environment variable LOG_FORMAT)",
        "STOCKPILOT_SERVER__ names no setting: a part of the name is empty (a doubled or trailing __) (from environment variable STOCKPILOT_SERVER__)",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected}\nin {lines:#?}"
        );
    }
    let text = errs.to_string();
    assert!(
        !text.contains("``") && !text.contains("expected u"),
        "{text}"
    );
    assert!(!text.contains("\n  - :"), "no empty key names: {text}");
}

#[test]
fn a_file_that_is_not_toml_is_a_problem_not_an_empty_file() {
    let (errs, file) = load_file("not toml [[");
    let text = errs.to_string();
    assert!(
        text.contains(&format!("{} is not valid TOML", file.display())),
        "{text}"
    );
    assert!(!text.contains("- -:"), "{text}");
}

#[test]
fn an_empty_key_name_is_named_as_such() {
    let (errs, _) = load_file("[default]\n\"\" = 1\n");
    assert_eq!(errs.0[0].key, "\"\"", "{errs}");
    assert!(errs.0[0].message.starts_with("names no setting"), "{errs}");
}

#[test]
fn config_show_is_valid_toml_with_each_section_once() {
    let c = load(&[("DATABASE_URL", "postgres://app:pw@db:5432/sp")]).unwrap();
    let shown = c.render();
    let table: toml::Table = toml::from_str(&shown).unwrap_or_else(|e| panic!("{e}\n{shown}"));
    assert_eq!(table["server"]["port"].as_integer(), Some(8080));
    assert_eq!(
        table["server"]["trusted_proxies"].as_str(),
        Some(""),
        "a key read after another section stays in its own"
    );
    assert!(!shown.contains("pw"), "{shown}");
    let headers = shown.lines().filter(|l| l.starts_with('[')).count();
    assert_eq!(headers, table.len());
}

#[test]
fn numbers_and_booleans_given_as_text_are_read_as_such() {
    let c = load(&[
        ("STOCKPILOT_SERVER__PORT", "9090"),
        ("STOCKPILOT_DATABASE__AUTO_MIGRATE", "false"),
        ("STOCKPILOT_TELEMETRY__SAMPLE_RATIO", "0.25"),
    ])
    .unwrap();
    assert_eq!(c.server.port, 9090);
    assert!(!c.database.auto_migrate);
    assert!((c.telemetry.sample_ratio - 0.25).abs() < f64::EPSILON);
}

#[test]
fn reports_every_problem_at_once() {
    let errs = load(&[
        ("STOCKPILOT_SERVER__PORT", "abc"),
        ("DATABASE_URL", "mysql://x/y"),
        ("LOG_FORMAT", "xml"),
        ("STOCKPILOT_TELEMETRY__SAMPLE_RATIO", "2"),
        ("STOCKPILOT_DATABASE__POOL_MIN", "20"),
        ("STOCKPILOT_SERVR__PORT", "1"),
    ])
    .unwrap_err();
    let keys: Vec<&str> = errs.0.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "server.port",
            "logging.format",
            "database.url",
            "database.pool_min",
            "telemetry.sample_ratio",
            "servr.port"
        ],
        "{errs}"
    );
    let format = &errs.0[1];
    assert_eq!(format.message, "\"xml\" is not one of: json, pretty");
    assert_eq!(
        errs.0[5].message,
        "unknown setting (see docs/configuration.md for the list)"
    );
}

#[test]
fn a_malformed_postgres_url_is_rejected_without_echoing_it() {
    let errs = load(&[("DATABASE_URL", "postgres://user:pw@:5432")]).unwrap_err();
    let text = errs.to_string();
    assert!(text.contains("database.url"), "{text}");
    assert!(text.contains("environment variable DATABASE_URL"), "{text}");
    assert!(!text.contains("user:pw"), "{text}");
}

#[test]
fn the_environment_overrides_dotenv_which_overrides_the_file_profile() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stockpilot.toml");
    std::fs::write(
        &file,
        "[default.server]\nport = 1000\nhost = \"127.0.0.1\"\nworkers = 3\n[production.server]\nport = 2000\n",
    )
    .unwrap();
    let dotenv = dir.path().join(".env");
    std::fs::write(
        &dotenv,
        "STOCKPILOT_SERVER__WORKERS=5\nSTOCKPILOT_SERVER__HOST=10.0.0.1\n",
    )
    .unwrap();
    let opts = SourceOptions {
        config_file: Some(file.clone()),
        dotenv: Some(dotenv),
    };

    let c = Config::load_from(
        &opts,
        &env(&[
            ("STOCKPILOT_ENV", "production"),
            ("STOCKPILOT_SERVER__HOST", "::1"),
        ]),
    )
    .unwrap();
    assert_eq!(c.profile, "production");
    assert_eq!(
        c.server.port, 2000,
        "production profile beats default profile"
    );
    assert_eq!(c.server.workers, 5, ".env beats the file");
    assert_eq!(c.server.host, "::1", "environment beats .env");

    let c = Config::load_from(&opts, &env(&[])).unwrap();
    assert_eq!(c.server.port, 1000);

    let errs = Config::load_from(&opts, &env(&[("STOCKPILOT_SERVER__WORKERS", "0")])).unwrap_err();
    assert_eq!(errs.0[0].key, "server.workers");
    assert_eq!(
        errs.0[0].source,
        "environment variable STOCKPILOT_SERVER__WORKERS"
    );

    std::fs::write(&file, "[default.server]\nport = \"x\"\n").unwrap();
    let errs = Config::load_from(&opts, &env(&[])).unwrap_err();
    assert!(
        errs.0[0].source.contains(&file.display().to_string()),
        "{}",
        errs.0[0]
    );
}

#[test]
fn secrets_may_come_from_files_and_are_redacted_when_shown() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("db_url");
    std::fs::write(&secret, "postgres://app:hunter2@db:5432/stockpilot\n").unwrap();
    let c = load(&[("DATABASE_URL_FILE", secret.to_str().unwrap())]).unwrap();
    assert_eq!(
        c.database_url().expose_secret(),
        "postgres://app:hunter2@db:5432/stockpilot"
    );
    let shown = c.render();
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        shown.contains("postgres://app:redacted@db:5432/stockpilot"),
        "{shown}"
    );
    assert!(
        shown.contains("environment variable DATABASE_URL_FILE"),
        "{shown}"
    );
}

#[test]
fn a_missing_config_file_is_a_problem_not_a_silent_default() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SourceOptions {
        config_file: Some(dir.path().join("nope.toml")),
        dotenv: None,
    };
    let errs = Config::load_from(&opts, &[]).unwrap_err();
    assert!(errs.0[0].message.contains("does not exist"), "{errs}");
}

#[test]
fn every_setting_is_documented_in_the_configuration_guide_and_env_example() {
    let guide = include_str!("../../../../docs/configuration.md");
    let example = include_str!("../../../../.env.example");
    for key in &known_keys() {
        assert!(
            guide.contains(&format!("`{key}`")),
            "docs/configuration.md misses {key}"
        );
        let env_name = format!("STOCKPILOT_{}", key.to_uppercase().replace('.', "__"));
        let conventional = sources::conventional()
            .into_iter()
            .any(|(n, k)| &k == key && example.contains(n));
        assert!(
            example.contains(&env_name) || conventional,
            ".env.example misses {key}"
        );
    }
}

#[test]
fn llm_api_key_wins_over_openai_api_key_whatever_the_environment_order() {
    for vars in [
        [
            ("OPENAI_API_KEY", "sk-openai-aaaaaaaaaaaa"),
            ("LLM_API_KEY", "sk-llm-bbbbbbbbbbbb"),
        ],
        [
            ("LLM_API_KEY", "sk-llm-bbbbbbbbbbbb"),
            ("OPENAI_API_KEY", "sk-openai-aaaaaaaaaaaa"),
        ],
    ] {
        let c = load(&vars).unwrap();
        assert_eq!(
            c.llm.api_key.unwrap().expose_secret(),
            "sk-llm-bbbbbbbbbbbb"
        );
    }
    let shown = load(&[("OPENAI_API_KEY", "sk-openai-aaaaaaaaaaaa")])
        .unwrap()
        .render();
    assert!(!shown.contains("sk-openai"), "{shown}");
    assert!(shown.contains("api_key = \"[redacted]\""), "{shown}");
}

#[test]
fn a_bad_encryption_key_or_llm_url_is_rejected_at_start() {
    let errs = load(&[
        ("STOCKPILOT_ENCRYPTION_KEY", "too-short-secret"),
        ("LLM_BASE_URL", "localhost:11434"),
    ])
    .unwrap_err();
    let keys: Vec<&str> = errs.0.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["llm.base_url", "security.encryption_key"], "{errs}");
    assert!(!errs.to_string().contains("too-short-secret"), "{errs}");
}

#[test]
fn the_settings_reference_is_written_from_the_declarations() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let guide_path = root.join("docs/configuration.md");
    let env_path = root.join(".env.example");
    let guide = std::fs::read_to_string(&guide_path).unwrap();
    let want_guide = reference::with_table(&guide)
        .expect("docs/configuration.md holds the settings table's markers");
    let want_env = reference::env_example();
    if std::env::var_os("STOCKPILOT_UPDATE_REFERENCE").is_some() {
        std::fs::write(&guide_path, &want_guide).unwrap();
        std::fs::write(&env_path, &want_env).unwrap();
        return;
    }
    assert!(
        guide == want_guide,
        "docs/configuration.md's settings table differs from the declarations: run `make config-reference`"
    );
    assert!(
        std::fs::read_to_string(&env_path).unwrap() == want_env,
        ".env.example differs from the declarations: run `make config-reference`"
    );
}
