#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;

fn parse(s: &str) -> ModelRef {
    s.parse()
        .unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

/// Asserts that `input` fails with `message` at byte `offset`.
fn check_err(input: &str, message: &str, offset: usize) {
    let err = input.parse::<ModelRef>().expect_err(input);
    assert_eq!(err.kind().to_string(), message, "message for {input:?}");
    assert_eq!(err.offset(), offset, "offset for {input:?}");
}

#[test]
fn splits_provider_model_and_policy() {
    let r = parse("huggingface/deepseek-ai/DeepSeek-R1:cheapest");
    assert_eq!(r.provider(), "huggingface");
    assert_eq!(r.model_id(), "deepseek-ai/DeepSeek-R1");
    assert_eq!(r.org(), Some("deepseek-ai"));
    assert_eq!(r.name(), "DeepSeek-R1");
    assert_eq!(r.suffix(), Some(&Suffix::Cheapest));
    assert!(r.is_huggingface());
}

#[test]
fn every_policy_suffix_is_recognised() {
    for (text, suffix) in [
        ("fastest", Suffix::Fastest),
        ("cheapest", Suffix::Cheapest),
        ("preferred", Suffix::Preferred),
    ] {
        let r = parse(&format!("huggingface/Qwen/Qwen3-8B:{text}"));
        assert_eq!(r.suffix(), Some(&suffix));
        assert!(suffix.is_policy());
    }
}

#[test]
fn other_suffixes_pin_a_provider() {
    let r = parse("huggingface/deepseek-ai/DeepSeek-R1:fireworks-ai");
    assert_eq!(
        r.suffix(),
        Some(&Suffix::Provider("fireworks-ai".to_owned()))
    );
    assert_eq!(r.suffix().and_then(Suffix::provider), Some("fireworks-ai"));
}

#[test]
fn router_id_drops_provider_and_keeps_suffix() {
    assert_eq!(
        parse("huggingface/Qwen/Qwen3-8B:together").router_model_id(),
        "Qwen/Qwen3-8B:together"
    );
    assert_eq!(
        parse("huggingface/Qwen/Qwen3-8B").router_model_id(),
        "Qwen/Qwen3-8B"
    );
}

#[test]
fn org_is_optional_on_the_hub() {
    let r = parse("huggingface/gpt2");
    assert_eq!(r.model_id(), "gpt2");
    assert_eq!(r.org(), None);
    assert_eq!(r.name(), "gpt2");
}

#[test]
fn base_and_with_suffix_rebuild_the_ref() {
    let r = parse("huggingface/Qwen/Qwen3-8B:cheapest");
    assert_eq!(r.base().as_str(), "huggingface/Qwen/Qwen3-8B");
    assert_eq!(r.base().suffix(), None);
    let pinned = r.with_suffix(Some(&Suffix::Provider("groq".to_owned())));
    assert_eq!(pinned.as_str(), "huggingface/Qwen/Qwen3-8B:groq");
    assert_eq!(pinned, parse("huggingface/Qwen/Qwen3-8B:groq"));
}

#[test]
fn huggingface_constructor_validates() {
    let r = ModelRef::huggingface("Qwen/Qwen3-8B", Some(&Suffix::Fastest)).unwrap();
    assert_eq!(r.as_str(), "huggingface/Qwen/Qwen3-8B:fastest");
    assert!(ModelRef::huggingface("Qwen/Qwen 3", None).is_err());
    assert_eq!(
        ModelRef::from_router_id("Qwen/Qwen3-8B:cheapest")
            .unwrap()
            .suffix(),
        Some(&Suffix::Cheapest)
    );
}

#[test]
fn foreign_refs_parse_and_keep_their_model_verbatim() {
    let r = parse("openrouter/meta-llama/llama-3.1-8b-instruct:free");
    assert!(!r.is_huggingface());
    assert_eq!(r.provider(), "openrouter");
    assert_eq!(r.model_id(), "meta-llama/llama-3.1-8b-instruct:free");
    assert_eq!(r.suffix(), None);
    assert_eq!(
        r.to_string(),
        "openrouter/meta-llama/llama-3.1-8b-instruct:free"
    );
}

#[test]
fn empty_model_name_after_prefix() {
    check_err(
        "huggingface/",
        "empty model name after \"huggingface/\"",
        12,
    );
    check_err(
        "huggingface/org/",
        "empty model name after \"huggingface/\"",
        16,
    );
}

#[test]
fn two_suffixes_are_rejected_at_the_second_colon() {
    check_err(
        "huggingface/Qwen/Qwen3-8B:cheapest:groq",
        "two ':' suffixes",
        34,
    );
}

#[test]
fn suffix_must_be_lower_case() {
    check_err(
        "huggingface/Qwen/Qwen3-8B:Fastest",
        "suffix \"Fastest\" must be lower-case",
        26,
    );
    let err = "huggingface/Qwen/Qwen3-8B:Fastest"
        .parse::<ModelRef>()
        .unwrap_err();
    assert_eq!(
        err.suggestion().as_deref(),
        Some("huggingface/Qwen/Qwen3-8B:fastest")
    );
}

#[test]
fn empty_suffix_is_rejected() {
    check_err("huggingface/Qwen/Qwen3-8B:", "empty suffix after ':'", 26);
}

#[test]
fn suffix_characters_are_restricted() {
    check_err(
        "huggingface/Qwen/Qwen3-8B:fire_works",
        "character '_' is not allowed in the suffix",
        30,
    );
}

#[test]
fn doubled_prefix_suggests_the_single_one() {
    let err = "huggingface/huggingface/Qwen/Qwen3-8B"
        .parse::<ModelRef>()
        .unwrap_err();
    assert_eq!(err.offset(), 12);
    assert_eq!(
        err.suggestion().as_deref(),
        Some("huggingface/Qwen/Qwen3-8B")
    );
    assert_eq!(err.hint(), "did you mean \"huggingface/Qwen/Qwen3-8B\"?");
}

#[test]
fn provider_must_be_lower_case() {
    let err = "HuggingFace/Qwen/Qwen3-8B".parse::<ModelRef>().unwrap_err();
    assert_eq!(err.offset(), 0);
    assert_eq!(
        err.suggestion().as_deref(),
        Some("huggingface/Qwen/Qwen3-8B")
    );
}

#[test]
fn segments_reject_bad_dots_and_characters() {
    check_err(
        "huggingface/.Qwen/x",
        "a name part cannot start or end with '.'",
        12,
    );
    check_err(
        "huggingface/Qwen./x",
        "a name part cannot start or end with '.'",
        16,
    );
    check_err(
        "huggingface/Qwen/x.",
        "a name part cannot start or end with '.'",
        18,
    );
    check_err(
        "huggingface/Qwen/a..b",
        "'..' is not allowed in a model id",
        18,
    );
    check_err(
        "huggingface/Qwen/Qwen 3",
        "character ' ' is not allowed in the model id",
        21,
    );
    check_err("huggingface//x", "empty organisation before '/'", 12);
    check_err(
        "huggingface/a/b/c",
        "too many '/': a Hugging Face model id is <org>/<model>",
        15,
    );
    check_err("", "empty model ref", 0);
    check_err("huggingface", "missing '/' between provider and model", 11);
    check_err("/x", "empty provider before '/'", 0);
}

#[test]
fn dots_inside_names_are_fine() {
    parse("huggingface/Qwen/Qwen2.5-7B-Instruct");
    parse("huggingface/deepseek-ai/DeepSeek-V3.2");
}

#[test]
fn whitespace_is_not_trimmed_by_the_parser() {
    assert!(" huggingface/Qwen/Qwen3-8B".parse::<ModelRef>().is_err());
    assert!("huggingface/Qwen/Qwen3-8B ".parse::<ModelRef>().is_err());
}

#[test]
fn parse_error_display_names_input_part_and_offset() {
    let err = "huggingface/".parse::<ModelRef>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid model ref \"huggingface/\": empty model name after \"huggingface/\" (at byte 12)"
    );
}

fn aliases(pairs: &[(&str, &str)]) -> Aliases {
    pairs
        .iter()
        .map(|(r, a)| (parse(r), (*a).to_owned()))
        .collect()
}

fn with_aliases(pairs: &[(&str, &str)]) -> UserModels {
    UserModels {
        aliases: aliases(pairs),
        ..UserModels::default()
    }
}

fn resolve(input: &str, table: &Aliases, known: &[&str]) -> Result<Resolved, ResolveError> {
    let user = UserModels {
        aliases: table.clone(),
        ..UserModels::default()
    };
    user.resolve(input, &Ids(known))
}

/// A catalog with provider data: `live` says whether it is the router's list.
struct Fake {
    models: Vec<(&'static str, Vec<&'static str>)>,
    live: bool,
}

impl Lookup for Fake {
    fn lists(&self, id: &str) -> bool {
        self.models.iter().any(|(m, _)| *m == id)
    }
    fn listed_ignoring_case(&self, id: &str) -> Option<String> {
        let found = self.models.iter().find(|(m, _)| m.eq_ignore_ascii_case(id));
        found.map(|(m, _)| (*m).to_owned())
    }
    fn each_id(&self, each: &mut dyn FnMut(&str)) {
        for (m, _) in &self.models {
            each(m);
        }
    }
    fn providers(&self, id: &str) -> Option<Vec<String>> {
        let (_, providers) = self.models.iter().find(|(m, _)| *m == id)?;
        Some(providers.iter().map(|p| (*p).to_owned()).collect())
    }
    fn live(&self) -> bool {
        self.live
    }
}

fn catalog(live: bool) -> Fake {
    Fake {
        models: vec![
            ("Qwen/Qwen3-8B", vec!["groq", "together"]),
            ("Qwen/Qwen3-32B", vec!["cerebras"]),
            ("openai/gpt-oss-120b", vec!["groq"]),
            ("deepseek-ai/DeepSeek-R1", vec!["together"]),
        ],
        live,
    }
}

#[test]
fn alias_match_is_case_insensitive() {
    let table = aliases(&[("huggingface/deepseek-ai/DeepSeek-R1", "DeepSeek R1")]);
    let got = resolve("deepseek r1", &table, &[]).unwrap();
    assert_eq!(
        got.model_ref.as_str(),
        "huggingface/deepseek-ai/DeepSeek-R1"
    );
    assert_eq!(got.via, Via::Alias("deepseek r1".to_owned()));
}

#[test]
fn exact_ref_wins_over_alias() {
    // An alias spelled like another ref must not hijack that ref.
    let table = aliases(&[("huggingface/Qwen/Qwen3-8B", "huggingface/Qwen/Qwen3-32B")]);
    let got = resolve("huggingface/Qwen/Qwen3-32B", &table, &[]).unwrap();
    assert_eq!(got.model_ref.as_str(), "huggingface/Qwen/Qwen3-32B");
    assert_eq!(got.via, Via::Ref);
}

#[test]
fn alias_matching_two_refs_is_an_error_listing_both() {
    let table = aliases(&[
        ("huggingface/Qwen/Qwen3-8B", "qwen"),
        ("huggingface/Qwen/Qwen3-32B", "Qwen"),
    ]);
    let err = resolve("QWEN", &table, &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "alias \"QWEN\" matches 2 refs: huggingface/Qwen/Qwen3-8B, huggingface/Qwen/Qwen3-32B"
    );
}

#[test]
fn ref_match_is_case_sensitive_with_did_you_mean() {
    let known = ["deepseek-ai/DeepSeek-R1", "Qwen/Qwen3-8B"];
    for input in [
        "huggingface/deepseek-ai/deepseek-r1:cheapest",
        "deepseek-ai/deepseek-r1:cheapest",
    ] {
        let err = resolve(input, &Aliases::new(), &known).unwrap_err();
        let ResolveError::CaseMismatch { suggestion, .. } = &err else {
            panic!("expected a case mismatch, got {err:?}");
        };
        assert_eq!(
            suggestion.as_str(),
            "huggingface/deepseek-ai/DeepSeek-R1:cheapest"
        );
        assert!(
            err.hint()
                .starts_with("did you mean \"huggingface/deepseek-ai/DeepSeek-R1:cheapest\"")
        );
    }
}

#[test]
fn a_full_ref_no_catalog_lists_is_kept_with_a_warning() {
    let known = ["Qwen/Qwen3-8B"];
    let got = resolve("huggingface/Qwen/Qwen9", &Aliases::new(), &known).unwrap();
    assert_eq!(got.model_ref.model_id(), "Qwen/Qwen9");
    assert_eq!(
        got.warnings,
        [Warning::Unlisted {
            model_ref: parse("huggingface/Qwen/Qwen9"),
            live: false
        }]
    );
    let listed = resolve("huggingface/Qwen/Qwen3-8B", &Aliases::new(), &known).unwrap();
    assert!(listed.warnings.is_empty());
}

#[test]
fn bare_org_model_a_catalog_lists_gets_the_prefix() {
    let known = ["Qwen/Qwen3-8B", "openai/gpt-oss-120b"];
    let got = resolve("Qwen/Qwen3-8B:cheapest", &Aliases::new(), &known).unwrap();
    assert_eq!(got.model_ref.as_str(), "huggingface/Qwen/Qwen3-8B:cheapest");
    assert_eq!(got.via, Via::BarePrefixed);
    // `openai/gpt-oss-120b` is a hub id the catalog lists, not a foreign `openai` ref.
    let got = resolve(" openai/gpt-oss-120b ", &Aliases::new(), &known).unwrap();
    assert_eq!(got.model_ref.as_str(), "huggingface/openai/gpt-oss-120b");
}

#[test]
fn openclaw_provider_refs_are_kept_as_typed() {
    let known = ["openai/gpt-oss-120b"];
    for input in [
        "openai/gpt-5",
        "anthropic/claude-opus-4-6",
        "ollama/llama3.3:70b",
    ] {
        let got = resolve(input, &Aliases::new(), &known).unwrap();
        assert_eq!(got.model_ref.as_str(), input);
        assert_eq!(got.via, Via::Provider);
    }
    let got = resolve("openrouter/meta-llama/llama-3", &Aliases::new(), &[]).unwrap();
    assert_eq!(got.model_ref.provider(), "openrouter");
}

#[test]
fn config_provider_refs_are_kept_as_typed() {
    let user = UserModels {
        providers: vec!["my-proxy".to_owned(), "huggingface".to_owned()],
        ..UserModels::default()
    };
    let got = user.resolve("my-proxy/llama-local", &Ids(&[])).unwrap();
    assert_eq!(
        (got.model_ref.as_str(), got.via),
        ("my-proxy/llama-local", Via::Provider)
    );
    // A ref the config already uses is taken as written, whoever serves it.
    let user = UserModels {
        fallbacks: vec![parse("lab/llama-local")],
        ..UserModels::default()
    };
    let got = user.resolve("lab/llama-local", &Ids(&[])).unwrap();
    assert_eq!(got.via, Via::Config);
}

#[test]
fn unknown_models_are_refused_with_the_nearest_names() {
    let known = ["Qwen/Qwen3-8B", "Qwen/Qwen3-32B", "deepseek-ai/DeepSeek-R1"];
    let err = resolve("Qwen/Qwen3-9B", &Aliases::new(), &known).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown model \"Qwen/Qwen3-9B\": no catalog lists it, and \"Qwen\" is not a provider of \
         your config or of OpenClaw"
    );
    assert_eq!(err.hint(), "did you mean \"Qwen/Qwen3-8B\"?");
    let user = with_aliases(&[("huggingface/Qwen/Qwen3-8B", "qwen")]);
    let err = user.resolve("qwn", &Ids(&known)).unwrap_err();
    assert_eq!(err.hint(), "did you mean the alias \"qwen\"?");
    // A model's own name, without its organisation.
    let err = user.resolve("DeepSeek-R1", &Ids(&known)).unwrap_err();
    assert_eq!(err.hint(), "did you mean \"deepseek-ai/DeepSeek-R1\"?");
    let err = user.resolve("nothing/like-it", &Ids(&known)).unwrap_err();
    assert!(
        err.hint().starts_with("use a ref such as"),
        "{}",
        err.hint()
    );
}

#[test]
fn a_provider_suffix_the_live_list_lacks_is_an_error_with_did_you_mean() {
    let err = UserModels::default()
        .resolve("Qwen/Qwen3-8B:grok", &catalog(true))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "provider \"grok\" does not serve Qwen/Qwen3-8B; the router lists groq, together"
    );
    assert_eq!(
        err.hint(),
        "did you mean \"huggingface/Qwen/Qwen3-8B:groq\"?"
    );
    let ok = UserModels::default().resolve("huggingface/Qwen/Qwen3-8B:groq", &catalog(true));
    assert!(ok.unwrap().warnings.is_empty());
}

#[test]
fn a_provider_suffix_the_builtin_snapshot_lacks_is_a_warning() {
    let got = UserModels::default()
        .resolve("Qwen/Qwen3-8B:grok", &catalog(false))
        .unwrap();
    assert_eq!(got.model_ref.as_str(), "huggingface/Qwen/Qwen3-8B:grok");
    assert!(matches!(
        got.warnings.as_slice(),
        [Warning::UncheckedProvider { provider, .. }] if provider == "grok"
    ));
}

#[test]
fn bare_errors_point_into_what_the_user_typed() {
    let err = resolve("Qwen/Qwen 3", &Aliases::new(), &[]).unwrap_err();
    let ResolveError::Parse(parse) = err else {
        panic!("expected a parse error");
    };
    assert_eq!(parse.input(), "Qwen/Qwen 3");
    assert_eq!(parse.offset(), 9);
}

#[test]
fn doubled_prefix_is_an_error_when_resolving() {
    let err = resolve(
        "huggingface/huggingface/Qwen/Qwen3-8B",
        &Aliases::new(),
        &[],
    )
    .unwrap_err();
    assert!(err.hint().contains("huggingface/Qwen/Qwen3-8B"));
}

#[test]
fn a_word_that_is_no_alias_is_unknown() {
    let err = resolve("deepseek", &Aliases::new(), &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "\"deepseek\" is neither a model ref nor a known alias"
    );
}

#[test]
fn default_means_the_primary_unless_an_alias_is_named_so() {
    let r1 = "huggingface/deepseek-ai/DeepSeek-R1";
    let qwen = "huggingface/Qwen/Qwen3-8B:cheapest";
    let user = UserModels {
        primary: Some(parse(r1)),
        fallbacks: vec![parse(qwen), parse("openai/gpt-5")],
        aliases: aliases(&[(qwen, "qwen")]),
        ..UserModels::default()
    };
    let known = catalog(true);
    let chain = |requested: Option<&str>, no_fallback: bool| -> Vec<String> {
        let first = user.requested(requested, &known).unwrap();
        let chain = user.chain(&first, no_fallback).unwrap();
        chain.refs.iter().map(ToString::to_string).collect()
    };
    for requested in [None, Some(""), Some("default"), Some("DEFAULT"), Some(r1)] {
        assert_eq!(chain(requested, false), [r1, qwen], "{requested:?}");
    }
    assert_eq!(
        chain(Some("qwen"), false),
        [qwen],
        "a fallback is tried once"
    );
    assert_eq!(chain(None, true), [r1]);
    let first = user.requested(None, &known).unwrap();
    assert_eq!(
        user.chain(&first, false).unwrap().left_out,
        [parse("openai/gpt-5")]
    );
    let named = UserModels {
        aliases: aliases(&[(qwen, "default")]),
        ..user.clone()
    };
    let first = named.requested(Some("default"), &known).unwrap();
    assert_eq!(first.model_ref.as_str(), qwen);
}

#[test]
fn a_requested_model_of_another_provider_is_refused_and_no_default_is_said() {
    let user = UserModels::default();
    let known = catalog(true);
    assert_eq!(user.requested(None, &known), Err(ChainError::NoDefault));
    let first = user.requested(Some("openai/gpt-5"), &known).unwrap();
    assert!(matches!(
        user.chain(&first, false),
        Err(ChainError::NotHuggingFace(_))
    ));
}

#[test]
fn alias_of_finds_the_exact_ref_only() {
    let table = aliases(&[("huggingface/Qwen/Qwen3-8B:cheapest", "cheap qwen")]);
    assert_eq!(
        table.alias_of(&parse("huggingface/Qwen/Qwen3-8B:cheapest")),
        Some("cheap qwen")
    );
    assert_eq!(table.alias_of(&parse("huggingface/Qwen/Qwen3-8B")), None);
}

fn segment() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]([A-Za-z0-9_.-]{0,20}[A-Za-z0-9_-])?"
        .prop_filter("no '..'", |s| !s.contains(".."))
}

fn suffix() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("fastest".to_owned())),
        Just(Some("cheapest".to_owned())),
        Just(Some("preferred".to_owned())),
        "[a-z0-9-]{1,16}".prop_map(Some),
    ]
}

fn valid_ref() -> impl Strategy<Value = String> {
    (proptest::option::of(segment()), segment(), suffix()).prop_map(|(org, name, suffix)| {
        let mut s = String::from("huggingface/");
        if let Some(org) = org {
            s.push_str(&org);
            s.push('/');
        }
        s.push_str(&name);
        if let Some(suffix) = suffix {
            s.push(':');
            s.push_str(&suffix);
        }
        s
    })
}

proptest! {
    #[test]
    fn display_after_parse_is_identity(s in valid_ref()) {
        let r: ModelRef = s.parse().map_err(|e: ParseError| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(r.to_string(), s.clone());
        prop_assert_eq!(format!("huggingface/{}", r.router_model_id()), s);
        let rebuilt = ModelRef::huggingface(r.model_id(), r.suffix())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(rebuilt, r);
    }

    #[test]
    fn parser_never_panics(s in "\\PC{0,64}") {
        let _ = s.parse::<ModelRef>();
        let _ = resolve(&s, &Aliases::new(), &["Qwen/Qwen3-8B"]);
        let _ = UserModels::default().resolve(&s, &catalog(true));
    }

    #[test]
    fn parse_errors_point_inside_the_input(s in "huggingface/[a-zA-Z0-9:./ _-]{0,30}") {
        if let Err(e) = s.parse::<ModelRef>() {
            prop_assert!(e.offset() <= s.len());
            prop_assert!(s.is_char_boundary(e.offset()));
        }
    }
}

#[test]
fn is_claimed_agrees_with_resolve_on_what_is_unknown() {
    let known = Ids(&["Qwen/Qwen3-8B", "openai/gpt-oss-120b"]);
    let user = with_aliases(&[("huggingface/Qwen/Qwen3-8B", "qwen")]);
    for name in [
        "Qwen/Qwen3-8B",
        "huggingface/made-up/model",
        "openai/gpt-5",
        "claude-haiku-4-5-20251001",
        "Qwen/Qwen3-9B",
        "qwen3",
        "qwen",
    ] {
        let unknown = matches!(
            user.resolve(name, &known),
            Err(ResolveError::Unknown { .. })
        );
        assert_eq!(user.claims(name, &known), !unknown, "{name}");
    }
}
