use super::*;

fn parse(text: &str) -> Result<Scenario, LoadError> {
    Scenario::parse(text, "test.toml", None)
}

/// Text with flags laid over it.
fn resolve(text: &str, flags: &FlagSettings) -> Result<Scenario, LoadError> {
    Scenario::resolve_text(text, "test.toml", None, flags)
}

/// The file position of a problem found in a file.
fn pos(e: &ScenarioError) -> &Position {
    e.position()
        .unwrap_or_else(|| panic!("expected a file position: {e}"))
}

/// The single problem of a scenario that has exactly one.
fn problem(text: &str) -> ScenarioError {
    let err = parse(text).expect_err("the scenario should be rejected");
    let problems = err.problems();
    assert_eq!(problems.len(), 1, "{err}");
    problems[0].clone()
}

#[test]
fn an_empty_file_is_a_default_closed_run_against_the_embedded_server() {
    let s = parse("").unwrap();
    assert_eq!(s.name, "test");
    assert_eq!(s.target.url, None);
    assert_eq!(s.target.path, DEFAULT_PATH);
    assert_eq!(
        s.load.model,
        Model::Closed {
            concurrency: DEFAULT_CONCURRENCY
        }
    );
    assert_eq!(
        s.load.stop_rule(),
        StopRule {
            duration: Some(DEFAULT_DURATION),
            requests: None
        }
    );
    assert_eq!(s.http.timeout, DEFAULT_TIMEOUT);
    assert_eq!(s.body.seed, None);
}

#[test]
fn reads_every_section() {
    let s = parse(
        r#"
name = "peak"
description = "evening peak"
[target]
url = "https://acme.example.net/base"
path = "/api/v1/sessions"
insecure = true
[load]
concurrency = 64
duration = "2m"
requests = 5000
threads = 2
[http]
timeout = "500ms"
headers = { "X-Run" = "ci", Authorization = "Bearer t" }
[body]
seed = 7
[body.params]
"analytics.reportSuite" = "acme-prod"
"media.contentType" = { one_of = ["vod", "live"], weights = [4, 1] }
"media.length" = { uniform = [60, 5400.5] }
"media.show" = { present = 0.3 }
"media.id" = { pattern = "vod-{digits:8}" }
"visitor.aamLocationHint" = { uniform = [1, 12], present = 0.5 }
"media.downloaded" = false
[body.custom_metadata]
generated = [1, 2]
fields = { "cms.tier" = { one_of = ["gold", "free"], present = 0.4 } }
[body.qoe_data]
present = 0.75
fields = { "media.qoe.bitrate" = { uniform = [300000, 8000000] } }
"#,
    )
    .unwrap();
    assert_eq!(s.name, "peak");
    let url = s.target.url.as_ref().unwrap();
    assert_eq!((url.scheme, url.port), (Scheme::Https, 443));
    assert!(s.target.insecure);
    assert_eq!(s.load.model, Model::Closed { concurrency: 64 });
    assert_eq!(
        s.load.stop_rule(),
        StopRule {
            duration: Some(Duration::from_secs(120)),
            requests: Some(5000)
        }
    );
    assert_eq!(s.load.threads, Some(2));
    assert_eq!(s.http.timeout, Duration::from_millis(500));
    assert_eq!(s.http.headers[0], ("X-Run".into(), "ci".into()));
    assert_eq!(s.body.seed, Some(7));
    assert_eq!(s.body.params.len(), 7);
    let content_type = &s.body.params[1];
    assert_eq!(content_type.param.key, "media.contentType");
    assert_eq!(
        content_type.value,
        Some(ValueSetting::OneOf {
            choices: vec![
                Literal::String("vod".into()),
                Literal::String("live".into())
            ],
            weights: Some(vec![4.0, 1.0])
        })
    );
    assert_eq!(
        s.body.params[2].value,
        Some(ValueSetting::UniformFloat(60.0, 5400.5))
    );
    assert_eq!(
        (s.body.params[3].present, &s.body.params[3].value),
        (Some(0.3), &None)
    );
    assert_eq!(
        s.body.params[5].value,
        Some(ValueSetting::UniformInt(1, 12))
    );
    assert_eq!(s.body.custom_metadata.generated, (1, 2));
    assert_eq!(s.body.custom_metadata.fields[0].present, Some(0.4));
    assert_eq!(s.body.qoe.present, Some(0.75));
    assert_eq!(s.body.qoe.fields[0].key.key, "media.qoe.bitrate");
}

/// A folder of its own for a test's files.
fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mcload-scenario-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("certs")).unwrap();
    dir
}

#[test]
fn ca_cert_is_relative_to_the_scenario_file() {
    let dir = temp_dir("ca-relative");
    std::fs::write(
        dir.join("certs/ca.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let s = Scenario::parse(
        "[target]\nca_cert = \"certs/ca.pem\"",
        "dir/s.toml",
        Some(&dir),
    )
    .unwrap();
    assert_eq!(s.target.ca_cert, Some(dir.join("certs/ca.pem")));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unknown_keys_name_line_column_and_the_nearest_known_key() {
    let e = problem("name = \"x\"\n\n[load]\nconcurency = 8\n");
    let p = pos(&e);
    assert_eq!((p.file.as_str(), p.line, p.column), ("test.toml", 4, 1));
    assert_eq!(e.key, "load.concurency");
    assert_eq!(e.message, "unknown key in [load]");
    assert_eq!(e.hint.as_deref(), Some("did you mean `concurrency`?"));

    let e = problem("[lod]\nconcurrency = 8\n");
    assert_eq!(e.key, "lod");
    assert_eq!(e.hint.as_deref(), Some("did you mean `load`?"));

    let e = problem("[body.params]\n\"media.lenght\" = 60\n");
    assert_eq!((pos(&e).line, pos(&e).column), (2, 1));
    assert_eq!(e.key, "body.params.\"media.lenght\"");
    assert_eq!(e.hint.as_deref(), Some("did you mean \"media.length\"?"));
}

#[test]
fn wrong_types_and_values_point_at_the_value() {
    let e = problem("[load]\nconcurrency = \"8\"\n");
    assert_eq!(
        (pos(&e).line, pos(&e).column, e.key.as_str()),
        (2, 15, "load.concurrency")
    );
    assert_eq!(e.message, "expected an integer, found a string");

    let e = problem("[load]\nconcurrency = 0\n");
    assert!(e.message.contains("out of range"), "{}", e.message);

    let e = problem("[load]\nduration = \"3 parsecs\"\n");
    assert!(e.message.contains("is not a duration"), "{}", e.message);

    let e = problem("[load]\nduration = \"400000000000y\"\n");
    assert!(e.message.contains("365 days"), "{}", e.message);

    let e = problem("[load]\nduration = \"0s\"\n");
    assert!(e.message.contains("greater than zero"), "{}", e.message);

    let e = problem("[target]\nurl = \"ftp://x\"\n");
    assert_eq!(e.key, "target.url");
    assert!(e.message.contains("http or https"), "{}", e.message);

    let e = problem("[target]\npath = \"api\"\n");
    assert!(e.message.contains("must start with '/'"), "{}", e.message);
}

#[test]
fn all_problems_of_a_file_are_reported_together() {
    let err =
        parse("[load]\nconcurency = 8\nconcurrency = -1\nthreads = \"x\"\n[http]\ntimeout = 5\n")
            .unwrap_err();
    let keys: Vec<_> = err.problems().iter().map(|p| p.key.as_str()).collect();
    // In file order, although unknown keys are found last.
    assert_eq!(
        keys,
        [
            "load.concurency",
            "load.concurrency",
            "load.threads",
            "http.timeout"
        ]
    );
    assert!(err.to_string().ends_with("4 problems in test.toml"));
}

#[test]
fn toml_syntax_errors_carry_a_position() {
    let e = problem("[load]\nconcurrency = = 8\n");
    assert_eq!(pos(&e).line, 2);
    assert!(e.message.starts_with("not valid TOML"), "{}", e.message);
}

#[test]
fn param_values_must_fit_the_catalogue() {
    for (text, needle) in [
        (
            "\"media.length\" = \"60\"",
            "takes a number, found a string",
        ),
        ("\"media.length\" = 0", "greater than 0"),
        ("\"media.length\" = { uniform = [0, 10] }", "stay above 0"),
        ("\"media.length\" = { uniform = [10, 1] }", "above max"),
        ("\"analytics.enableSSL\" = \"yes\"", "takes a boolean"),
        ("\"media.downloaded\" = true", "answer 400"),
        ("\"media.streamType\" = \"tv\"", "must be one of"),
        (
            "\"media.streamType\" = { pattern = \"{alpha:5}\" }",
            "accepts only",
        ),
        ("\"media.id\" = \"\"", "must not be empty"),
        ("\"media.id\" = { present = 0.5 }", "always present"),
        (
            "\"media.id\" = { uniform = [1, 2] }",
            "uniform needs a numeric",
        ),
        (
            "\"media.id\" = { pattern = \"{word:2}\" }",
            "unknown placeholder",
        ),
        ("\"media.name\" = { present = 1.5 }", "not a share"),
        (
            "\"media.name\" = { value = \"a\", pattern = \"b\" }",
            "not value and pattern",
        ),
        (
            "\"media.name\" = { one_of = [\"a\"], weights = [1, 2] }",
            "2 weights for 1 choices",
        ),
        ("\"media.name\" = { one_of = [] }", "at least one choice"),
        (
            "\"media.name\" = { weights = [1] }",
            "only goes with `one_of`",
        ),
        ("\"media.name\" = { presnt = 0.5 }", "unknown key"),
        (
            "\"visitor.aamLocationHint\" = 1.5",
            "takes an integer, found a float",
        ),
        ("\"visitor.customerIDs\" = \"x\"", "only `present`"),
    ] {
        let e = problem(&format!("[body.params]\n{text}\n"));
        assert!(e.message.contains(needle), "{text}: {e}");
        assert_eq!(pos(&e).line, 2, "{text}");
    }
}

#[test]
fn custom_metadata_and_qoe_keys_are_checked() {
    let e = problem("[body.custom_metadata]\nfields = { \"bad key\" = \"x\" }\n");
    assert!(e.message.contains("not a valid custom-metadata key"), "{e}");
    let e = problem("[body.custom_metadata]\nfields = { \"media.x\" = \"x\" }\n");
    assert!(e.message.contains("reserved"), "{e}");
    let e = problem("[body.custom_metadata]\nfields = { tier = 3 }\n");
    assert!(e.message.contains("takes a string"), "{e}");
    let e = problem("[body.custom_metadata]\nfields = { tier = { present = 0.5 } }\n");
    assert!(e.message.contains("needs its value"), "{e}");
    let e = problem("[body.custom_metadata]\ngenerated = [3, 1]\n");
    assert!(e.message.contains("min <= max"), "{e}");
    let e = problem("[body.qoe_data]\nfields = { \"media.qoe.bitrat\" = 5 }\n");
    assert_eq!(
        e.hint.as_deref(),
        Some("did you mean \"media.qoe.bitrate\"?")
    );
    let e = problem("[body.qoe_data]\nfields = { \"media.qoe.bitrate\" = 5.5 }\n");
    assert!(e.message.contains("takes an integer"), "{e}");
}

#[test]
fn headers_that_frame_the_request_are_refused() {
    let e = problem("[http]\nheaders = { \"Content-Length\" = \"5\" }\n");
    assert!(e.message.contains("set by mcload itself"), "{e}");
    let e = problem("[http]\nheaders = { \"X-A\" = \"a\\r\\nX-B: b\" }\n");
    assert!(e.message.contains("control characters"), "{e}");
    let e = problem("[http]\nheaders = { \"bad name\" = \"a\" }\n");
    assert!(e.message.contains("not a valid header name"), "{e}");
}

#[test]
fn flags_replace_file_values_and_the_whole_stop_rule() {
    let s = resolve(
        "[load]\nduration = \"30s\"\nconcurrency = 4\n[body]\nseed = 1\n",
        &FlagSettings {
            requests: Some(100),
            concurrency: Some(2),
            seed: Some(9),
            target: Some(TargetUrl::parse("http://127.0.0.1:9").unwrap()),
            ..FlagSettings::default()
        },
    )
    .unwrap();
    assert_eq!(
        s.load.stop_rule(),
        StopRule {
            duration: None,
            requests: Some(100)
        }
    );
    assert_eq!(s.load.model, Model::Closed { concurrency: 2 });
    assert_eq!(s.body.seed, Some(9));
    assert_eq!(s.target.url.unwrap().port, 9);

    // And the other way round: a duration flag drops the file's count.
    let s = resolve(
        "[load]\nrequests = 500\n",
        &FlagSettings {
            duration: Some(Duration::from_secs(2)),
            ..FlagSettings::default()
        },
    )
    .unwrap();
    assert_eq!(
        s.load.stop_rule(),
        StopRule {
            duration: Some(Duration::from_secs(2)),
            requests: None
        }
    );
}

fn open(s: &Scenario) -> &OpenModel {
    match &s.load.model {
        Model::Open(open) => open,
        other => panic!("expected the open model, got {other:?}"),
    }
}

#[test]
fn a_rate_chooses_the_open_model_with_default_bounds() {
    let s = parse("[load]\nrate = 500\nduration = \"4s\"\nwarmup = \"1s\"\n").unwrap();
    let o = open(&s);
    assert_eq!(o.rate, Rate::Constant(500.0));
    assert_eq!(o.connections, DEFAULT_CONNECTIONS);
    assert_eq!(o.max_in_flight, DEFAULT_MAX_IN_FLIGHT);
    assert_eq!(s.load.warmup, Some(Duration::from_secs(1)));
    assert_eq!(s.load.stop_rule().duration, Some(Duration::from_secs(4)));
}

#[test]
fn stages_set_the_length_of_the_run() {
    let s = parse(
        "[load]\nstart_rate = 100\nstages = [{ duration = \"5s\", rate = 1000 }, { duration = \"2s\", rate = 1000 }]\nconnections = 8\nmax_in_flight = 100\nrequests = 50\n",
    )
    .unwrap();
    let o = open(&s);
    assert_eq!(
        o.rate,
        Rate::Stages {
            start: 100.0,
            stages: vec![
                Stage {
                    duration: Duration::from_secs(5),
                    rate: 1000.0
                },
                Stage {
                    duration: Duration::from_secs(2),
                    rate: 1000.0
                },
            ]
        }
    );
    assert_eq!((o.connections, o.max_in_flight), (8, 100));
    assert_eq!(
        s.load.stop_rule(),
        StopRule {
            duration: Some(Duration::from_secs(7)),
            requests: Some(50)
        }
    );
}

#[test]
fn load_model_conflicts_are_errors_that_say_why() {
    let e = problem("[load]\nconcurrency = 8\nrate = 100\n");
    assert_eq!((pos(&e).line, e.key.as_str()), (3, "load.rate"));
    assert!(e.message.contains("`concurrency` already chooses"), "{e}");

    let e = problem("[load]\nrate = 100\nstages = [{ duration = \"1s\", rate = 5 }]\n");
    assert_eq!(e.key, "load.stages");

    let e = problem("[load]\nstages = [{ duration = \"1s\", rate = 5 }]\nduration = \"3s\"\n");
    assert_eq!(e.key, "load.duration");
    assert!(e.message.contains("set the run's length"), "{e}");

    let e = problem("[load]\nconcurrency = 4\nconnections = 8\n");
    assert_eq!(e.key, "load.connections");
    assert!(e.message.contains("open model"), "{e}");

    let e = problem("[load]\nrate = 10\nstart_rate = 5\n");
    assert_eq!(e.key, "load.start_rate");

    let e = problem("[load]\nstages = [{ duration = \"1s\", rate = 5 }]\nwarmup = \"1s\"\n");
    assert_eq!(e.key, "load.warmup");
    assert!(e.message.contains("would send nothing"), "{e}");

    let e = problem("[load]\nrate = 10\nconnections = 8\nmax_in_flight = 4\n");
    assert_eq!(e.key, "load.max_in_flight");
    assert!(e.message.contains("less than `connections`"), "{e}");

    // A broken model key still chooses its model: no second, made-up
    // problem about the open-model keys next to it.
    let e = problem("[load]\nrate = \"fast\"\nconnections = 8\n");
    assert_eq!(e.key, "load.rate");
}

#[test]
fn rates_and_stages_are_checked() {
    let e = problem("[load]\nrate = 0\n");
    assert!(e.message.contains("not a rate"), "{e}");
    let e = problem("[load]\nrate = 1e12\n");
    assert!(e.message.contains("more than mcload sends"), "{e}");
    let e = problem("[load]\nstages = []\n");
    assert!(e.message.contains("at least one stage"), "{e}");
    let e = problem("[load]\nstages = [{ duration = \"1s\" }]\n");
    assert!(e.message.contains("needs `rate`"), "{e}");
    let e = problem("[load]\nstages = [{ duration = \"1s\", rate = 5, ramp = true }]\n");
    assert_eq!(e.key, "load.stages[0].ramp");
    let e = problem("[load]\nstages = [{ duration = \"1s\", rate = -5 }]\n");
    assert_eq!(e.key, "load.stages[0].rate");
}

#[test]
fn the_stages_flag_reads_start_and_stages() {
    assert_eq!(
        parse_stages("100,5s:1000").unwrap(),
        Ramp {
            start: 100.0,
            stages: vec![Stage {
                duration: Duration::from_secs(5),
                rate: 1000.0
            }]
        }
    );
    assert_eq!(
        parse_stages("2s:50, 1s:0").unwrap(),
        Ramp {
            start: 0.0,
            stages: vec![
                Stage {
                    duration: Duration::from_secs(2),
                    rate: 50.0
                },
                Stage {
                    duration: Duration::from_secs(1),
                    rate: 0.0
                }
            ]
        }
    );
    for bad in ["", "100", "5s", "100,5s", "1s:x", "100,,1s:5", "0s:5"] {
        assert!(parse_stages(bad).is_err(), "{bad:?}");
    }
    // A negative rate has the form of a rate; the validation step refuses it.
    let e = resolve(
        "",
        &FlagSettings {
            stages: Some(parse_stages("1s:-3").unwrap()),
            ..FlagSettings::default()
        },
    )
    .unwrap_err();
    let p = &e.problems()[0];
    assert_eq!(
        (p.flag(), p.key.as_str()),
        (Some("--stages"), "load.stages[0].rate")
    );
    assert!(p.message.contains("not a rate"), "{e}");
}

#[test]
fn model_flags_replace_the_files_model() {
    let file = "[load]\nconcurrency = 4\nduration = \"30s\"\n";
    let s = resolve(
        file,
        &FlagSettings {
            rate: Some(200.0),
            connections: Some(8),
            warmup: Some(Duration::from_secs(1)),
            ..FlagSettings::default()
        },
    )
    .unwrap();
    let o = open(&s);
    assert_eq!((o.rate.clone(), o.connections), (Rate::Constant(200.0), 8));
    assert_eq!(s.load.duration, Some(Duration::from_secs(30)));

    // Stages set the length: the file's duration goes.
    let s = resolve(
        file,
        &FlagSettings {
            stages: Some(parse_stages("5,1s:10").unwrap()),
            ..FlagSettings::default()
        },
    )
    .unwrap();
    assert_eq!(s.load.stop_rule().duration, Some(Duration::from_secs(1)));

    // A warm-up at a starting rate of 0 would send nothing.
    let e = resolve(
        "[load]\nwarmup = \"1s\"\n",
        &FlagSettings {
            stages: Some(parse_stages("1s:10").unwrap()),
            ..FlagSettings::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("would send nothing"), "{e}");
    assert_eq!(
        pos(&e.problems()[0]).line,
        2,
        "located at the file's warmup"
    );

    let e = resolve(
        "",
        &FlagSettings {
            connections: Some(8),
            ..FlagSettings::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("open model"), "{e}");

    // A closed-model flag over an open-model file drops the file's bounds.
    let s = resolve(
        "[load]\nrate = 10\nconnections = 4\nmax_in_flight = 9\n",
        &FlagSettings {
            concurrency: Some(3),
            ..FlagSettings::default()
        },
    )
    .unwrap();
    assert_eq!(s.load.model, Model::Closed { concurrency: 3 });
}

#[test]
fn a_connections_flag_raises_the_files_max_in_flight_unless_that_is_given_too() {
    let file = "[load]\nrate = 10\nmax_in_flight = 100\n";
    let flags = FlagSettings {
        connections: Some(500),
        ..FlagSettings::default()
    };
    let o = open(&resolve(file, &flags).unwrap()).clone();
    assert_eq!((o.connections, o.max_in_flight), (500, 500));

    let e = resolve(
        file,
        &FlagSettings {
            max_in_flight: Some(100),
            ..flags
        },
    )
    .unwrap_err();
    assert_eq!(e.problems()[0].flag(), Some("--max-in-flight"), "{e}");
}

/// Each rule is written once: a mistake made in the file and the same
/// mistake made by flag give the same key, message and hint; only the
/// place differs.
#[test]
fn the_same_mistake_in_the_file_and_by_flag_gives_the_same_message() {
    let flags = FlagSettings::default;
    for (file, flags, flag) in [
        (
            "[load]\nconcurrency = 4\nconnections = 8\n",
            FlagSettings {
                concurrency: Some(4),
                connections: Some(8),
                ..flags()
            },
            "--connections",
        ),
        (
            "[load]\nrate = 10\nconnections = 8\nmax_in_flight = 4\n",
            FlagSettings {
                rate: Some(10.0),
                connections: Some(8),
                max_in_flight: Some(4),
                ..flags()
            },
            "--max-in-flight",
        ),
        (
            "[load]\nstages = [{ duration = \"1s\", rate = 5 }]\nduration = \"3s\"\n",
            FlagSettings {
                stages: Some(parse_stages("1s:5").unwrap()),
                duration: Some(Duration::from_secs(3)),
                ..flags()
            },
            "--duration",
        ),
        (
            "[load]\nconcurrency = 0\n",
            FlagSettings {
                concurrency: Some(0),
                ..flags()
            },
            "--concurrency",
        ),
        (
            "[load]\nrate = 1e12\n",
            FlagSettings {
                rate: Some(1e12),
                ..flags()
            },
            "--rate",
        ),
        (
            "[load]\nconcurrency = 4\nrate = 10\n",
            FlagSettings {
                concurrency: Some(4),
                rate: Some(10.0),
                ..flags()
            },
            "--rate",
        ),
        (
            "[load]\nstart_rate = 0\nstages = [{ duration = \"1s\", rate = 5 }]\nwarmup = \"1s\"\n",
            FlagSettings {
                stages: Some(parse_stages("1s:5").unwrap()),
                warmup: Some(Duration::from_secs(1)),
                ..flags()
            },
            "--warmup",
        ),
        (
            "[load]\nthreads = 5000\n",
            FlagSettings {
                threads: Some(5000),
                ..flags()
            },
            "--threads",
        ),
        (
            "[body]\ninvalid_share = 1.5\n",
            FlagSettings {
                invalid_share: Some(1.5),
                ..flags()
            },
            "--invalid-share",
        ),
    ] {
        let from_file = problem(file);
        let by_flag = resolve("", &flags).unwrap_err();
        assert_eq!(by_flag.problems().len(), 1, "{by_flag}");
        let by_flag = by_flag.problems()[0].clone();
        assert_eq!(by_flag.flag(), Some(flag), "{by_flag}");
        assert!(from_file.position().is_some(), "{from_file}");
        assert_eq!(
            (&from_file.key, &from_file.message, &from_file.hint),
            (&by_flag.key, &by_flag.message, &by_flag.hint),
            "{file}"
        );
        assert_eq!(
            ScenarioError {
                place: by_flag.place.clone(),
                ..from_file
            },
            by_flag
        );
    }
}

#[test]
fn problems_in_the_file_and_the_flags_come_together_file_first() {
    let e = resolve(
        "[load]\nconcurrency = 0\n[http]\ntimeot = \"1s\"\n",
        &FlagSettings {
            threads: Some(0),
            requests: Some(0),
            ..FlagSettings::default()
        },
    )
    .unwrap_err();
    let places: Vec<_> = e
        .problems()
        .iter()
        .map(|p| {
            p.flag()
                .map_or_else(|| pos(p).line.to_string(), str::to_string)
        })
        .collect();
    assert_eq!(places, ["2", "4", "--requests", "--threads"], "{e}");
    assert!(
        e.to_string()
            .ends_with("4 problems in test.toml and its flags"),
        "{e}"
    );
}

#[test]
fn target_rules_choose_the_rule_set() {
    assert_eq!(parse("").unwrap().target.rules, spec::RuleSet::Strict);
    let s = parse("[target]\nrules = \"documented\"\n").unwrap();
    assert_eq!(s.target.rules, spec::RuleSet::Documented);
    let s = parse("[target]\nrules = \"strict\"\n").unwrap();
    assert_eq!(s.target.rules, spec::RuleSet::Strict);
    let e = problem("[target]\nrules = \"lenient\"\n");
    assert_eq!((e.key.as_str(), pos(&e).column), ("target.rules", 9));
    assert!(e.message.contains("\"strict\" or \"documented\""), "{e}");
}

/// A file that `mcload validate` refuses does not run because a flag
/// happens to replace the broken value: the file's own problem is still
/// reported, at its line, beside nothing from the flag.
#[test]
fn a_broken_file_value_is_reported_even_when_a_flag_replaces_it() {
    let flags = FlagSettings {
        rate: Some(10.0),
        ..FlagSettings::default()
    };
    let err = Scenario::resolve_text("[load]\nconcurrency = 0\n", "s.toml", None, &flags)
        .expect_err("concurrency = 0 is a mistake in the file");
    let problems = err.problems();
    assert_eq!(problems.len(), 1, "{err}");
    assert!(
        err.to_string()
            .starts_with("s.toml:2:15: `load.concurrency`"),
        "{err}"
    );
}

fn header_flags(headers: &[(&str, &str)]) -> FlagSettings {
    FlagSettings {
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        ..FlagSettings::default()
    }
}

/// `--header` adds a header, or replaces the file's of the same name
/// whatever its case, through the same merge as every flag.
#[test]
fn a_header_flag_adds_or_replaces_the_files_header_of_that_name() {
    let text = "[http]\nheaders = { \"X-Run\" = \"file\", Accept = \"*/*\" }\n";
    let s = resolve(text, &header_flags(&[("x-run", "flag"), ("X-New", "1")])).unwrap();
    assert_eq!(
        s.http.headers,
        [
            ("Accept".to_string(), "*/*".to_string()),
            ("x-run".to_string(), "flag".to_string()),
            ("X-New".to_string(), "1".to_string()),
        ]
    );
}

/// A `--header` is checked by the file's rules, and the mistake is
/// located at `--header`.
#[test]
fn a_header_flag_is_checked_by_the_files_rules_at_its_flag() {
    for (name, value, says) in [
        ("Content-Length", "5", "frames each request"),
        ("bad name", "a", "not a valid header name"),
        ("X-A", "a\u{7}b", "control characters"),
        (
            "X-A",
            "${MCLOAD_SURELY_UNSET_VAR}",
            "`MCLOAD_SURELY_UNSET_VAR` is not set",
        ),
        ("X-A", "${unclosed", "no closing"),
    ] {
        let err = resolve("", &header_flags(&[(name, value)])).expect_err(name);
        let problems = err.problems();
        assert_eq!(problems.len(), 1, "{err}");
        assert_eq!(problems[0].flag(), Some("--header"), "{err}");
        assert!(err.to_string().contains(says), "{name}: {err}");
    }
    let many: Vec<(String, String)> = (0..=MAX_HEADERS)
        .map(|i| (format!("X-H{i}"), "v".to_string()))
        .collect();
    let flags = FlagSettings {
        headers: many,
        ..FlagSettings::default()
    };
    let err = resolve("", &flags).expect_err("too many headers");
    assert_eq!(err.problems()[0].flag(), Some("--header"), "{err}");
    assert!(err.to_string().contains("at most 64"), "{err}");
}

/// `${VAR}` is read from the environment when the scenario loads, in the
/// file's headers and the flag's alike; `$${` is a literal `${`.
#[test]
fn variables_in_header_values_are_read_from_the_environment() {
    // PATH is set wherever tests run; reading it needs no `set_var`,
    // which would race with other tests reading the environment.
    let path = std::env::var("PATH").expect("PATH is set");
    let text =
        "[http]\nheaders = { Authorization = \"Bearer ${PATH}\", \"X-Lit\" = \"$${HOME}\" }\n";
    let s = resolve(text, &header_flags(&[("X-Also", "k=${PATH}")])).unwrap();
    assert_eq!(
        s.http.headers,
        [
            ("Authorization".to_string(), format!("Bearer {path}")),
            ("X-Lit".to_string(), "${HOME}".to_string()),
            ("X-Also".to_string(), format!("k={path}")),
        ]
    );
}

/// An unset variable in the file is exit 2 naming it and the place; a
/// credential's line is not shown under the message.
#[test]
fn an_unset_variable_is_named_at_its_place_and_a_credential_line_is_not_shown() {
    let e = problem("[http]\nheaders = { \"X-Run\" = \"${MCLOAD_SURELY_UNSET_VAR}\" }\n");
    assert_eq!((pos(&e).line, pos(&e).column), (2, 23), "{e}");
    assert_eq!(e.key, "http.headers.X-Run");
    assert!(
        e.message.contains("`MCLOAD_SURELY_UNSET_VAR` is not set"),
        "{e}"
    );
    assert!(
        e.to_string().contains("X-Run"),
        "a plain header's line is shown: {e}"
    );

    let e = problem("[http.headers]\nAuthorization = \"Bearer hunter2\\u0007\"\n");
    assert_eq!(pos(&e).line, 2, "{e}");
    assert!(e.message.contains("control characters"), "{e}");
    assert!(!e.to_string().contains("hunter2"), "{e}");
}

/// A TOML syntax error on a credential's line (an unclosed string) shows
/// the place but not the line, so not the secret; other lines still show.
#[test]
fn a_syntax_error_on_a_credentials_line_does_not_show_it() {
    let err = parse("[http.headers]\nAuthorization = \"Bearer hunter2\n").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("test.toml:2:"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    let err = parse("[http.headers]\n\"X-Run\" = \"ci\n").unwrap_err();
    assert!(err.to_string().contains("\"X-Run\" = \"ci"), "{err}");
}
