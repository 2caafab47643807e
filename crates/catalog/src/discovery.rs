//! Parsing the router's `GET /v1/models` answer.
//!
//! The list is `{"object":"list","data":[…]}`. Unknown fields are ignored; an entry that
//! does not parse (no id, numeric id, wrong types) is skipped with a warning, and so is a
//! provider entry without a name, so one bad entry never costs the whole list.

use compact_str::CompactString;
use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::value::RawValue;

use crate::model::{Cost, ProviderInfo, ProviderStatus};

/// A model as the router lists it, before merging.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveModel {
    /// Router id, e.g. `Qwen/Qwen3-8B`.
    pub id: String,
    /// `name`, else `title`, else `display_name` from the API.
    pub api_name: Option<String>,
    /// Owner on the hub.
    pub owned_by: Option<CompactString>,
    /// The API's reasoning flag, when it sends one.
    pub reasoning: Option<bool>,
    /// `architecture.input_modalities`.
    pub input_modalities: Option<Vec<String>>,
    /// Backends, in the router's order.
    pub providers: Vec<ProviderInfo>,
}

/// The parsed list and what was skipped on the way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Discovered {
    /// Models in the router's order.
    pub models: Vec<LiveModel>,
    /// One line per skipped entry, saying which and why (`data[3]: …`).
    pub warnings: Vec<String>,
    /// Model entries that were skipped.
    pub skipped_models: usize,
}

impl Discovered {
    /// One line for the user when entries were skipped: how many, and the first as an
    /// example (`skipped 2 of 19 models in the router's list; data[16]: missing field `id``).
    pub fn skipped_summary(&self) -> Option<String> {
        let first = self.warnings.first()?;
        let skipped_providers = self.warnings.len() - self.skipped_models;
        let total = self.models.len() + self.skipped_models;
        let mut parts = Vec::new();
        if self.skipped_models > 0 {
            parts.push(format!("{} of {total} models", self.skipped_models));
        }
        if skipped_providers > 0 {
            let entries = if skipped_providers == 1 {
                "entry"
            } else {
                "entries"
            };
            parts.push(format!("{skipped_providers} provider {entries}"));
        }
        Some(format!(
            "skipped {} in the router's list (malformed); {first}",
            parts.join(" and ")
        ))
    }
}

/// What a fetched list is weighed against before it may replace what is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baseline {
    /// The cached list of the same router, holding this many models.
    Cache(usize),
    /// The built-in snapshot (a list of the public router), holding this many models.
    BuiltIn(usize),
}

/// Why a fetched list was refused: it parsed, but it is not a list to trust over good data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Implausible {
    /// More than half of its model entries are malformed.
    #[error("{skipped} of its {total} model entries are malformed")]
    Malformed {
        /// Entries skipped.
        skipped: usize,
        /// All model entries.
        total: usize,
    },
    /// It lists fewer than half as many models as the baseline.
    #[error("it lists {count} model{}, fewer than half of the {}", plural(*count), describe(baseline))]
    Shrank {
        /// Models it lists.
        count: usize,
        /// What it was weighed against.
        baseline: Baseline,
    },
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

fn describe(baseline: &Baseline) -> String {
    match baseline {
        Baseline::Cache(n) => format!("{n} cached"),
        Baseline::BuiltIn(n) => format!("{n} of the built-in snapshot"),
    }
}

impl Discovered {
    /// Garbage never wins over good data: a list more than half of whose model entries are
    /// malformed, or holding fewer than half the models of `baseline`, is refused (a failed
    /// fetch, whoever asked and however). `None` when the list may be used.
    pub fn implausible(&self, baseline: Option<Baseline>) -> Option<Implausible> {
        let total = self.models.len() + self.skipped_models;
        if self.skipped_models * 2 > total {
            return Some(Implausible::Malformed {
                skipped: self.skipped_models,
                total,
            });
        }
        let baseline = baseline?;
        let (Baseline::Cache(known) | Baseline::BuiltIn(known)) = baseline;
        (self.models.len() * 2 < known).then_some(Implausible::Shrank {
            count: self.models.len(),
            baseline,
        })
    }
}

/// The answer is not a model list at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the router's model list is not valid: {reason}")]
pub struct DiscoveryError {
    reason: String,
}

impl DiscoveryError {
    /// Why the body was rejected.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

#[derive(Deserialize)]
struct RawList<'a> {
    #[serde(borrow)]
    data: Vec<&'a RawValue>,
}

/// The fast path: the whole list in one pass, providers typed directly.
#[derive(Deserialize)]
struct TypedList {
    data: Vec<TypedModel>,
}

/// A model converted as it is read (see [`TypedProvider`]).
#[repr(transparent)]
struct TypedModel(LiveModel);

impl<'de> Deserialize<'de> for TypedModel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (raw, providers) = RawModel::<TypedProvider>::deserialize(d)?.take_providers();
        let providers = providers.into_iter().map(|p| p.0).collect();
        Ok(TypedModel(live_model(raw, providers)))
    }
}

/// A provider converted as it is read, so the list's providers land in their final
/// `Vec` without a second allocation and copy (same layout: the `Vec` is reused).
#[repr(transparent)]
struct TypedProvider(ProviderInfo);

impl<'de> Deserialize<'de> for TypedProvider {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RawProvider::deserialize(d).map(|raw| TypedProvider(provider_info(raw)))
    }
}

/// A model entry; `P` is a provider, or a raw provider text when parsing tolerantly.
#[derive(Deserialize)]
#[serde(bound(deserialize = "P: Deserialize<'de>"))]
struct RawModel<P> {
    id: String,
    #[serde(default)]
    owned_by: Option<CompactString>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    reasoning: Option<bool>,
    #[serde(default)]
    architecture: Option<RawArchitecture>,
    #[serde(default)]
    providers: Option<Vec<P>>,
}

#[derive(Deserialize)]
struct RawArchitecture {
    #[serde(default)]
    input_modalities: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawProvider {
    provider: CompactString,
    #[serde(default, deserialize_with = "status")]
    status: Option<ProviderStatus>,
    #[serde(default, deserialize_with = "lenient_u64")]
    context_length: Option<u64>,
    #[serde(default)]
    pricing: Option<RawPricing>,
    #[serde(default)]
    supports_tools: Option<bool>,
    #[serde(default)]
    supports_structured_output: Option<bool>,
    #[serde(default, deserialize_with = "lenient_f64")]
    first_token_latency_ms: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    throughput: Option<f64>,
    #[serde(default)]
    is_free: Option<bool>,
    #[serde(default)]
    is_model_author: Option<bool>,
}

#[derive(Deserialize)]
struct RawPricing {
    #[serde(default, deserialize_with = "lenient_f64")]
    input: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    output: Option<f64>,
}

/// Parses a router model list; skipped entries are reported in [`Discovered::warnings`].
pub fn parse_model_list(body: &[u8]) -> Result<Discovered, DiscoveryError> {
    // One UTF-8 check of the whole body lets serde_json skip checking each string (a
    // tenth of the parse for a large list).
    let text = std::str::from_utf8(body).map_err(|e| DiscoveryError {
        reason: format!("the body is not UTF-8 text ({e})"),
    })?;
    // Well-formed lists (the norm) parse in one pass; only a list with a bad entry pays for
    // the entry-by-entry pass that skips what does not parse.
    if let Ok(list) = serde_json::from_str::<TypedList>(text) {
        let models = list.data.into_iter().map(|m| m.0).collect();
        return Ok(Discovered {
            models,
            ..Discovered::default()
        });
    }
    parse_tolerantly(text)
}

fn parse_tolerantly(body: &str) -> Result<Discovered, DiscoveryError> {
    let list: RawList<'_> = serde_json::from_str(body).map_err(|e| DiscoveryError {
        reason: format!("expected {{\"data\": [...]}} ({e})"),
    })?;
    let mut out = Discovered {
        models: Vec::with_capacity(list.data.len()),
        ..Discovered::default()
    };
    for (index, raw) in list.data.iter().enumerate() {
        match serde_json::from_str::<RawModel<&RawValue>>(raw.get()) {
            Ok(model) => {
                let (model, raw_providers) = model.take_providers();
                let mut providers = Vec::with_capacity(raw_providers.len());
                for (index, entry) in raw_providers.iter().enumerate() {
                    match serde_json::from_str::<RawProvider>(entry.get()) {
                        Ok(p) => providers.push(provider_info(p)),
                        Err(e) => out.warnings.push(format!(
                            "{} providers[{index}]: {}",
                            model.id,
                            without_position(&e)
                        )),
                    }
                }
                out.models.push(live_model(model, providers));
            }
            Err(e) => {
                out.skipped_models += 1;
                out.warnings
                    .push(format!("data[{index}]: {}", without_position(&e)));
            }
        }
    }
    Ok(out)
}

/// serde_json's message without "at line 1 column 17": the position is within the entry,
/// not the body, and only misleads.
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

impl<P> RawModel<P> {
    fn take_providers(mut self) -> (RawModel<P>, Vec<P>) {
        let providers = self.providers.take().unwrap_or_default();
        (self, providers)
    }
}

fn live_model<P>(raw: RawModel<P>, providers: Vec<ProviderInfo>) -> LiveModel {
    let api_name = [raw.name, raw.title, raw.display_name]
        .into_iter()
        .flatten()
        .find(|n| !n.trim().is_empty());
    LiveModel {
        id: raw.id,
        api_name,
        owned_by: raw.owned_by,
        reasoning: raw.reasoning,
        input_modalities: raw.architecture.and_then(|a| a.input_modalities),
        providers,
    }
}

fn provider_info(raw: RawProvider) -> ProviderInfo {
    let pricing = raw.pricing.and_then(|p| match (p.input, p.output) {
        (Some(input), Some(output)) => Some(Cost::new(input, output)),
        _ => None,
    });
    ProviderInfo {
        name: raw.provider,
        status: raw
            .status
            .unwrap_or_else(|| ProviderStatus::Other("unknown".to_owned())),
        context_length: raw.context_length.filter(|c| *c > 0),
        pricing,
        supports_tools: raw.supports_tools,
        supports_structured_output: raw.supports_structured_output,
        first_token_latency_ms: raw.first_token_latency_ms,
        throughput: raw.throughput,
        is_free: raw.is_free,
        is_model_author: raw.is_model_author,
    }
}

/// Reads a number, a numeric string, or anything else (as absent): optional numeric fields
/// must not cost a provider its entry. A visitor, not an untagged enum, because untagged
/// enums buffer every value and made list parsing several times slower.
struct LooseNumber;

impl<'de> de::Visitor<'de> for LooseNumber {
    type Value = Option<f64>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a number")
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.trim().parse::<f64>().ok())
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(LooseNumber)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(None)
    }
}

/// A status string read straight into [`ProviderStatus`]: no string is allocated for the
/// statuses this version knows.
struct StatusVisitor;

impl<'de> de::Visitor<'de> for StatusVisitor {
    type Value = Option<ProviderStatus>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a status string")
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(ProviderStatus::parse(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(StatusVisitor)
    }
}

fn status<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ProviderStatus>, D::Error> {
    d.deserialize_option(StatusVisitor)
}

fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let value = d.deserialize_any(LooseNumber)?;
    Ok(value.filter(|f| f.is_finite() && *f >= 0.0))
}

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let value = lenient_f64(d)?;
    Ok(value
        .filter(|f| f.fract() == 0.0 && *f <= 1e15)
        .map(|f| f as u64))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FIXTURE: &[u8] = include_bytes!("../tests/fixtures/router-models-synthetic.json");

    #[test]
    fn fixture_parses_and_skips_malformed_entries() {
        let got = parse_model_list(FIXTURE).unwrap();
        let ids: Vec<&str> = got.models.iter().map(|m| m.id.as_str()).collect();
        assert!(ids.contains(&"deepseek-ai/DeepSeek-R1"));
        assert!(ids.contains(&"example-org/No-Providers-1B"));
        assert!(!ids.iter().any(|id| id.contains("12345")));
        assert_eq!(
            got.warnings,
            [
                "data[16]: missing field `id`",
                "data[17]: invalid type: integer `12345`, expected a string"
            ]
        );
        assert_eq!(
            got.skipped_summary().as_deref(),
            Some(
                "skipped 2 of 19 models in the router's list (malformed); data[16]: missing field `id`"
            )
        );
    }

    #[test]
    fn one_pass_and_tolerant_parses_agree_on_a_clean_list() {
        // The fixture minus its two malformed entries takes the one-pass route.
        let mut value: serde_json::Value = serde_json::from_slice(FIXTURE).unwrap();
        let data = value["data"].as_array_mut().unwrap();
        data.retain(|m| m["id"].is_string());
        let clean = serde_json::to_vec(&value).unwrap();
        assert!(serde_json::from_slice::<TypedList>(&clean).is_ok());
        let fast = parse_model_list(&clean).unwrap();
        assert_eq!(
            fast,
            parse_tolerantly(std::str::from_utf8(&clean).unwrap()).unwrap()
        );
        assert_eq!(fast.models.len(), 17);
    }

    #[test]
    fn bare_provider_entry_keeps_name_and_status() {
        let got = parse_model_list(FIXTURE).unwrap();
        let r1 = got
            .models
            .iter()
            .find(|m| m.id == "deepseek-ai/DeepSeek-R1")
            .unwrap();
        let bare = r1
            .providers
            .iter()
            .find(|p| p.name == "featherless-ai")
            .unwrap();
        assert_eq!(bare.status, ProviderStatus::Live);
        assert_eq!(bare.context_length, None);
        assert_eq!(bare.pricing, None);
    }

    #[test]
    fn api_name_prefers_name_then_title_then_display_name() {
        let body = br#"{"data":[
            {"id":"a/x","name":"N","title":"T","display_name":"D"},
            {"id":"a/y","title":"T","display_name":"D"},
            {"id":"a/z","display_name":"D"},
            {"id":"a/w","name":"  "}
        ]}"#;
        let got = parse_model_list(body).unwrap();
        let names: Vec<Option<&str>> = got.models.iter().map(|m| m.api_name.as_deref()).collect();
        assert_eq!(names, [Some("N"), Some("T"), Some("D"), None]);
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let body = br#"{"object":"list","extra":1,"data":[{"id":"a/b","new_field":{"x":[1]},
            "providers":[{"provider":"p","status":"live","future":true}]}]}"#;
        let got = parse_model_list(body).unwrap();
        assert_eq!(got.models.len(), 1);
        assert!(got.warnings.is_empty());
    }

    #[test]
    fn bad_provider_is_skipped_not_the_model() {
        let body = br#"{"data":[{"id":"a/b","providers":[{"status":"live"},{"provider":"ok","status":"live"}]}]}"#;
        let got = parse_model_list(body).unwrap();
        assert_eq!(got.models[0].providers.len(), 1);
        assert_eq!(got.warnings, ["a/b providers[0]: missing field `provider`"]);
        assert_eq!(
            got.skipped_summary().as_deref(),
            Some(
                "skipped 1 provider entry in the router's list (malformed); a/b providers[0]: missing field `provider`"
            )
        );
    }

    #[test]
    fn odd_numbers_read_as_absent_or_parsed() {
        let body = br#"{"data":[{"id":"a/b","providers":[
            {"provider":"p","status":"live","context_length":"32768","pricing":{"input":"0.5","output":-1},"throughput":"fast"}
        ]}]}"#;
        let got = parse_model_list(body).unwrap();
        let p = &got.models[0].providers[0];
        assert_eq!(p.context_length, Some(32768));
        assert_eq!(p.pricing, None, "a negative price is not a price");
        assert_eq!(p.throughput, None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for body in [
            &b"<html>502</html>"[..],
            b"",
            b"{}",
            b"{\"data\":{}}",
            b"\xff\xfe",
        ] {
            assert!(parse_model_list(body).is_err(), "{body:?}");
        }
    }

    /// Every model of a real list parses, with no warning, through the one-pass route.
    fn parses_cleanly(body: &[u8]) -> Discovered {
        let got = parse_model_list(body).unwrap();
        assert!(got.warnings.is_empty(), "{:?}", got.warnings);
        assert!(serde_json::from_slice::<TypedList>(body).is_ok());
        got
    }

    #[test]
    fn real_snapshot_parses_every_model_and_offering() {
        let got = parses_cleanly(include_bytes!("../data/router-snapshot.json"));
        assert_eq!(got.models.len(), 129);
        let offerings: Vec<&ProviderInfo> = got.models.iter().flat_map(|m| &m.providers).collect();
        assert_eq!(offerings.len(), 287);
        let mut names: Vec<&str> = offerings.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 13);
        let oss = got
            .models
            .iter()
            .find(|m| m.id == "openai/gpt-oss-120b")
            .unwrap();
        assert_eq!(oss.providers.len(), 10);
        let cerebras = &oss.providers[0];
        assert_eq!(cerebras.name, "cerebras");
        assert_eq!(cerebras.context_length, None, "absent stays absent");
        assert_eq!(cerebras.pricing, Some(Cost::new(0.25, 0.69)));
        assert_eq!(cerebras.is_model_author, Some(false));
    }

    #[test]
    fn genai_prices_excerpt_parses_with_every_field() {
        // A real router answer trimmed to 4 models; it has no top-level "object".
        let got = parses_cleanly(include_bytes!(
            "../tests/fixtures/real/router-models-genai-prices-fixture.json"
        ));
        assert_eq!(got.models.len(), 4);
        let k3 = &got.models[0];
        assert_eq!(k3.id, "moonshotai/Kimi-K3");
        assert_eq!(
            k3.input_modalities.as_deref(),
            Some(&["text".to_owned(), "image".to_owned()][..])
        );
        let together = &k3.providers[0];
        assert_eq!(together.is_free, Some(false));
        assert_eq!(together.first_token_latency_ms, Some(1836.2));
        assert_eq!(together.throughput, Some(18.374051383950203));
        assert_eq!(together.context_length, Some(1_000_000));
    }

    #[test]
    fn hub_docs_excerpt_parses_inside_a_list() {
        // The hub-docs page shows one element of `data`.
        let entry =
            include_str!("../tests/fixtures/real/router-models-hubdocs-hub-api-excerpt.json");
        let body = format!(r#"{{"object":"list","data":[{entry}]}}"#);
        let got = parses_cleanly(body.as_bytes());
        assert_eq!(got.models.len(), 1);
        assert_eq!(got.models[0].id, "deepseek-ai/DeepSeek-V4-Pro");
        assert_eq!(got.models[0].owned_by.as_deref(), Some("deepseek-ai"));
        assert!(!got.models[0].providers.is_empty());
    }

    fn list_with(valid: usize, malformed: usize) -> Discovered {
        let mut entries: Vec<String> = (0..valid)
            .map(|i| format!(r#"{{"id":"org/M-{i}","providers":[]}}"#))
            .collect();
        entries.extend((0..malformed).map(|i| format!(r#"{{"id":{i},"providers":"x"}}"#)));
        let body = format!(r#"{{"object":"list","data":[{}]}}"#, entries.join(","));
        parse_model_list(body.as_bytes()).unwrap()
    }

    #[test]
    fn a_list_mostly_malformed_is_implausible() {
        let list = list_with(1, 3);
        assert_eq!(
            list.implausible(None),
            Some(Implausible::Malformed {
                skipped: 3,
                total: 4
            })
        );
        assert_eq!(
            list.implausible(None).unwrap().to_string(),
            "3 of its 4 model entries are malformed"
        );
        // Half malformed is still a list (each good entry is kept, the rest warned about).
        assert_eq!(list_with(2, 2).implausible(None), None);
    }

    #[test]
    fn a_list_under_half_its_baseline_is_implausible() {
        let list = list_with(7, 0);
        assert_eq!(list.implausible(Some(Baseline::Cache(14))), None);
        let shrank = list.implausible(Some(Baseline::Cache(15))).unwrap();
        assert_eq!(
            shrank.to_string(),
            "it lists 7 models, fewer than half of the 15 cached"
        );
        let builtin = list_with(1, 0).implausible(Some(Baseline::BuiltIn(129)));
        assert_eq!(
            builtin.unwrap().to_string(),
            "it lists 1 model, fewer than half of the 129 of the built-in snapshot"
        );
        // Without a baseline (another router, nothing cached), only the malformed rule.
        assert_eq!(list.implausible(None), None);
        assert_eq!(list_with(0, 0).implausible(None), None);
        assert!(
            list_with(0, 0)
                .implausible(Some(Baseline::Cache(1)))
                .is_some()
        );
    }

    #[test]
    fn empty_list_is_valid() {
        assert_eq!(
            parse_model_list(br#"{"data":[]}"#).unwrap(),
            Discovered::default()
        );
    }
}
