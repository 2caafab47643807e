//! What a request needs of a model beyond text in and text out — image input, tools — and
//! the one rule of which models of a fallback chain are skipped for it: a later model the
//! catalog *knows* cannot serve the request (its input modalities lack `image`; no usable
//! provider it reaches serves tools). Where the catalog does not know (no entry, no input
//! modalities, a provider without `supports_tools`), the model is tried. The chain's first
//! model — the one the client named, or the default — is always tried: the router's answer
//! is better than a guess.
//!
//! The gateway and `hfclaw chat` both ask [`unfit`]; it asks for the request's needs only
//! when a later model of the chain lacks something, so a body is scanned only when a model
//! could be skipped.

use std::fmt;

use hfclaw_model_ref::{ModelRef, Suffix};

use crate::merge::Catalog;
use crate::model::{Model, ProviderInfo};
use crate::reach::reach;

/// Capabilities a request needs (or, from [`Catalog::lacks`], a model is known to lack).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Image parts in the conversation (`image_url`, `image`, `input_image`).
    pub image_input: bool,
    /// A non-empty `tools` list.
    pub tools: bool,
}

impl Needs {
    /// True when anything is needed (or lacking).
    pub fn any(self) -> bool {
        self.image_input || self.tools
    }

    /// What both have.
    pub fn and(self, other: Needs) -> Needs {
        Needs {
            image_input: self.image_input && other.image_input,
            tools: self.tools && other.tools,
        }
    }

    /// What either has.
    pub fn or(self, other: Needs) -> Needs {
        Needs {
            image_input: self.image_input || other.image_input,
            tools: self.tools || other.tools,
        }
    }

    /// The first need of these as a [`Lack`] (image input before tools).
    pub fn first_lack(self) -> Option<Lack> {
        if self.image_input {
            Some(Lack::ImageInput)
        } else if self.tools {
            Some(Lack::Tools)
        } else {
            None
        }
    }
}

/// Why a model of a chain was skipped for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lack {
    /// The request has image parts; the model's input is known to be text only.
    ImageInput,
    /// The request has tools; no usable provider the model reaches is known to serve them.
    Tools,
}

impl Lack {
    /// What the client is told, in `x-hfclaw-skipped` and errors (`no image input`).
    pub fn as_str(self) -> &'static str {
        match self {
            Lack::ImageInput => "no image input",
            Lack::Tools => "no provider serves tools",
        }
    }
}

impl fmt::Display for Lack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `model` is known to lack, reached under `suffix`: image input when its input
/// modalities are known and lack `image`; tools when every usable provider it may reach
/// (the pinned one for `:<provider>`, else all of them: the router may fail over) says
/// `supports_tools: false`. Unknown is not lacking.
pub fn lacks(model: &Model, suffix: Option<&Suffix>) -> Needs {
    let image_input = !model.input.is_empty() && !model.input.iter().any(|i| i == "image");
    let tools = match suffix {
        Some(Suffix::Provider(_)) => none_serves_tools(reach(model, suffix).provider.into_iter()),
        _ => none_serves_tools(model.providers.iter().filter(|p| p.is_usable())),
    };
    Needs { image_input, tools }
}

/// True when there are providers and each says it serves no tools.
fn none_serves_tools<'a>(mut providers: impl Iterator<Item = &'a ProviderInfo>) -> bool {
    let mut any = false;
    providers.all(|p| {
        any = true;
        p.supports_tools == Some(false)
    }) && any
}

impl Catalog {
    /// What `model_ref` is known to lack ([`lacks`]); nothing when the catalog does not
    /// know the model. A config entry for exactly this id speaks for its input modalities.
    pub fn lacks(&self, model_ref: &ModelRef) -> Needs {
        if !model_ref.is_huggingface() {
            return Needs::default();
        }
        let exact = self.get(model_ref.router_model_id());
        let Some(base) = self.get(model_ref.model_id()).or(exact) else {
            return Needs::default();
        };
        let mut lacking = lacks(base, model_ref.suffix());
        if let Some(entry) = exact.filter(|e| !std::ptr::eq(*e, base)) {
            lacking.image_input = lacks(entry, None).image_input;
        }
        lacking
    }
}

/// The models of `chain` to skip for a request, with why: later models (position ≥ 1) that
/// lack what the request needs. `needs` is called at most once, only when a later model
/// lacks something, with what any of them lacks: it need only look for those.
pub fn unfit(
    catalog: &Catalog,
    chain: &[ModelRef],
    needs: impl FnOnce(Needs) -> Needs,
) -> Vec<(usize, Lack)> {
    let lacking: Vec<(usize, Needs)> = chain
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, r)| (i, catalog.lacks(r)))
        .filter(|(_, l)| l.any())
        .collect();
    if lacking.is_empty() {
        return Vec::new();
    }
    let wanted = lacking
        .iter()
        .fold(Needs::default(), |all, (_, l)| all.or(*l));
    let needs = needs(wanted);
    if !needs.any() {
        return Vec::new();
    }
    lacking
        .into_iter()
        .filter_map(|(i, l)| l.and(needs).first_lack().map(|lack| (i, lack)))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::{ProviderStatus, Source};

    fn provider(name: &str, status: ProviderStatus, tools: Option<bool>) -> ProviderInfo {
        ProviderInfo {
            supports_tools: tools,
            ..ProviderInfo::new(name, status)
        }
    }

    fn model(id: &str, input: &[&str], providers: Vec<ProviderInfo>) -> Model {
        Model {
            input: input.iter().map(|s| (*s).to_owned()).collect(),
            providers,
            ..Model::unknown(id.to_owned(), id.to_owned(), Source::Live)
        }
    }

    fn catalog() -> Catalog {
        use ProviderStatus::{Error, Live};
        let models = vec![
            // Sees images; one live provider serves tools.
            model(
                "a/vision",
                &["text", "image"],
                vec![
                    provider("x", Live, Some(true)),
                    provider("y", Live, Some(false)),
                ],
            ),
            // Text only; no usable provider serves tools (the one that does is failing).
            model(
                "a/text",
                &["text"],
                vec![
                    provider("x", Live, Some(false)),
                    provider("z", Error, Some(true)),
                ],
            ),
            // Nothing known.
            model("a/unknown", &[], vec![provider("x", Live, None)]),
            // One provider unknown: tools may work.
            model(
                "a/mixed",
                &["text"],
                vec![provider("x", Live, Some(false)), provider("y", Live, None)],
            ),
        ];
        Catalog::merge(models, None, &[])
    }

    fn r(text: &str) -> ModelRef {
        text.parse().unwrap()
    }

    const ALL: Needs = Needs {
        image_input: true,
        tools: true,
    };

    #[test]
    fn a_model_lacks_only_what_the_catalog_knows_it_lacks() {
        let c = catalog();
        let lacks = |text: &str| c.lacks(&r(text));
        assert_eq!(lacks("huggingface/a/vision"), Needs::default());
        assert_eq!(lacks("huggingface/a/text"), ALL);
        assert_eq!(lacks("huggingface/a/unknown"), Needs::default());
        assert_eq!(
            lacks("huggingface/a/mixed"),
            Needs {
                image_input: true,
                tools: false
            }
        );
        assert_eq!(lacks("huggingface/not/listed"), Needs::default());
        assert_eq!(lacks("openrouter/a/text"), Needs::default());
        // A pin asks its provider only: y of a/vision serves no tools, x does; a pin no
        // usable provider matches is unknown.
        assert!(lacks("huggingface/a/vision:y").tools);
        assert!(!lacks("huggingface/a/vision:x").tools);
        assert!(!lacks("huggingface/a/text:z").tools);
        assert!(lacks("huggingface/a/mixed:x").tools);
        // Policies may reach any usable provider.
        assert!(!lacks("huggingface/a/vision:cheapest").tools);
        assert!(lacks("huggingface/a/text:fastest").tools);
    }

    #[test]
    fn later_models_that_lack_a_need_are_unfit_and_the_first_never_is() {
        let c = catalog();
        let chain = [
            r("huggingface/a/text"),
            r("huggingface/a/mixed"),
            r("huggingface/a/vision"),
            r("huggingface/a/text"),
            r("huggingface/a/unknown"),
        ];
        let images = Needs {
            image_input: true,
            tools: false,
        };
        assert_eq!(
            unfit(&c, &chain, |_| images),
            [(1, Lack::ImageInput), (3, Lack::ImageInput)]
        );
        let tools = Needs {
            image_input: false,
            tools: true,
        };
        assert_eq!(unfit(&c, &chain, |_| tools), [(3, Lack::Tools)]);
        assert_eq!(unfit(&c, &chain, |_| ALL)[1], (3, Lack::ImageInput));
        assert!(unfit(&c, &chain, |_| Needs::default()).is_empty());
    }

    #[test]
    fn the_request_is_looked_at_only_when_a_later_model_lacks_something() {
        let c = catalog();
        let fit = [r("huggingface/a/text"), r("huggingface/a/vision")];
        assert!(unfit(&c, &fit, |_| panic!("asked")).is_empty());
        let mut asked = None;
        let chain = [r("huggingface/a/vision"), r("huggingface/a/mixed")];
        unfit(&c, &chain, |wanted| {
            asked = Some(wanted);
            ALL
        });
        assert_eq!(
            asked,
            Some(Needs {
                image_input: true,
                tools: false
            })
        );
    }

    #[test]
    fn lacks_are_said_for_people() {
        assert_eq!(Lack::ImageInput.to_string(), "no image input");
        assert_eq!(Lack::Tools.to_string(), "no provider serves tools");
    }
}
