//! OpenClaw's model entry, as found in `models.providers.huggingface.models`.
//!
//! OpenClaw rejects a config with any key its schema lacks, so this type writes only
//! OpenClaw's own fields; the user's options (`compat`, `headers`, `params`, …) are kept in
//! [`ConfigModel::options`] and written back exactly as read.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::model::{Cost, Model};

/// One entry of `models.providers.huggingface.models`; every field but `id` is optional
/// because a user may set only some of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigModel {
    /// Router id, possibly with a suffix (`deepseek-ai/DeepSeek-R1:fastest`).
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Context window in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// Largest completion in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// Price per 1M tokens; each part optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<ConfigCost>,
    /// Reasoning flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<bool>,
    /// Input modalities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Vec<String>>,
    /// Every other key the user wrote (`compat`, `headers`, `params`, …), kept as is.
    #[serde(flatten)]
    pub options: Map<String, Value>,
}

/// Reads an entry like `#[derive(Deserialize)]` with `#[serde(flatten)]` on `options`
/// would, but in one pass: `flatten` buffers every entry into serde's intermediate
/// `Content` first, which made reading a config synced with 250,000 models cost seconds.
impl<'de> Deserialize<'de> for ConfigModel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ConfigModel, D::Error> {
        deserializer.deserialize_map(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = ConfigModel;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct ConfigModel")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ConfigModel, A::Error> {
        let mut entry = ConfigModel::default();
        let mut id = None;
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Id => id = Some(map.next_value()?),
                Field::Name => entry.name = map.next_value()?,
                Field::ContextWindow => entry.context_window = map.next_value()?,
                Field::MaxTokens => entry.max_tokens = map.next_value()?,
                Field::Cost => entry.cost = map.next_value()?,
                Field::Reasoning => entry.reasoning = map.next_value()?,
                Field::Input => entry.input = map.next_value()?,
                Field::Other(key) => {
                    entry.options.insert(key, map.next_value()?);
                }
            }
        }
        entry.id = id.ok_or_else(|| de::Error::missing_field("id"))?;
        Ok(entry)
    }
}

/// A key of an entry: one of OpenClaw's fields (no allocation), or any other.
enum Field {
    Id,
    Name,
    ContextWindow,
    MaxTokens,
    Cost,
    Reasoning,
    Input,
    Other(String),
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Field, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<Field, E> {
                Ok(match key {
                    "id" => Field::Id,
                    "name" => Field::Name,
                    "contextWindow" => Field::ContextWindow,
                    "maxTokens" => Field::MaxTokens,
                    "cost" => Field::Cost,
                    "reasoning" => Field::Reasoning,
                    "input" => Field::Input,
                    other => Field::Other(other.to_owned()),
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

/// OpenClaw's `cost` object; parts the user left out stay `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigCost {
    /// Prompt tokens per 1M.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<f64>,
    /// Completion tokens per 1M.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<f64>,
    /// Cached prompt tokens read per 1M.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    /// Cached prompt tokens written per 1M.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
}

impl ConfigCost {
    /// Applies the parts set here over `base` (missing prices count as 0, as in OpenClaw).
    pub fn over(self, base: Option<Cost>) -> Cost {
        let base = base.unwrap_or(Cost::new(0.0, 0.0));
        Cost {
            input: self.input.unwrap_or(base.input),
            output: self.output.unwrap_or(base.output),
            cache_read: self.cache_read.or(base.cache_read),
            cache_write: self.cache_write.or(base.cache_write),
        }
    }
}

impl Model {
    /// The entry `models sync` writes: OpenClaw's fields only, every one filled so OpenClaw
    /// does not fall back to its 131072/8192/cost-0 defaults.
    pub fn to_config_entry(&self) -> ConfigModel {
        let cost = self.cost.map(|c| ConfigCost {
            input: Some(c.input),
            output: Some(c.output),
            cache_read: Some(c.cache_read.unwrap_or(0.0)),
            cache_write: Some(c.cache_write.unwrap_or(0.0)),
        });
        ConfigModel {
            id: self.id.clone(),
            name: Some(self.name.clone()),
            context_window: self.context_window,
            max_tokens: self.max_output_tokens,
            cost,
            reasoning: Some(self.reasoning),
            input: Some(self.input.clone()),
            options: Map::new(),
        }
    }
}
