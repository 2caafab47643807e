//! Checks of refs and of the user's selection against the catalog: unknown models,
//! unknown `:<provider>` suffixes, duplicate fallbacks. (Allowlist gaps are config
//! knowledge: `hfclaw-config-merge` checks them.)
//!
//! Checks only report; callers decide whether a problem is a warning or (with `--strict`)
//! an error.

use std::fmt;

use hfclaw_model_ref::{ModelRef, ResolveError, Suffix, UserModels, Warning};
use serde::{Serialize, Serializer};

use crate::listing::Selection;
use crate::merge::Catalog;

/// Something worth telling the user about a ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefProblem {
    /// Not a Hugging Face ref: hfclaw cannot check or route it.
    Foreign {
        /// The ref.
        model_ref: ModelRef,
    },
    /// The catalog does not know the model id; `live` says whether the router's list was
    /// consulted (if not, only the built-in list was).
    UnknownModel {
        /// The ref.
        model_ref: ModelRef,
        /// Whether live data took part.
        live: bool,
    },
    /// Live data says no provider serves the model now.
    NotServed {
        /// The ref.
        model_ref: ModelRef,
    },
    /// The `:<provider>` suffix names a provider the router does not list for this model.
    UnknownProvider {
        /// The ref.
        model_ref: ModelRef,
        /// The provider in the suffix.
        provider: String,
        /// Providers the router lists for the model.
        known: Vec<String>,
    },
}

impl RefProblem {
    /// True for problems that `--strict` turns into errors (the ref will fail at the router).
    pub fn is_serious(&self) -> bool {
        match self {
            RefProblem::UnknownModel { live, .. } => *live,
            RefProblem::NotServed { .. } | RefProblem::UnknownProvider { .. } => true,
            RefProblem::Foreign { .. } => false,
        }
    }
}

impl fmt::Display for RefProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefProblem::Foreign { model_ref } => write!(
                f,
                "{model_ref} is not a Hugging Face ref; hfclaw keeps it but cannot check or route it"
            ),
            RefProblem::UnknownModel {
                model_ref,
                live: true,
            } => {
                write!(f, "the router does not list {}", model_ref.model_id())
            }
            RefProblem::UnknownModel {
                model_ref,
                live: false,
            } => write!(
                f,
                "{} is not in the built-in catalog (offline, so the router's list was not checked)",
                model_ref.model_id()
            ),
            RefProblem::NotServed { model_ref } => {
                match model_ref.suffix().and_then(Suffix::provider) {
                    Some(provider) => write!(
                        f,
                        "provider \"{provider}\" is not serving {} right now",
                        model_ref.model_id()
                    ),
                    None => write!(f, "no provider serves {} right now", model_ref.model_id()),
                }
            }
            RefProblem::UnknownProvider {
                model_ref,
                provider,
                known,
            } => write!(
                f,
                "provider \"{provider}\" does not serve {}; known providers: {}",
                model_ref.model_id(),
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        }
    }
}

impl Serialize for RefProblem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Checks one ref of the config against the catalog. Whether the model is listed and
/// whether its `:<provider>` is known are `hfclaw_model_ref::resolve`'s decision (the one
/// every command and the gateway use); this adds whether live data says it is served.
pub fn check_ref(catalog: &Catalog, model_ref: &ModelRef) -> Option<RefProblem> {
    if !model_ref.is_huggingface() {
        return Some(RefProblem::Foreign {
            model_ref: model_ref.clone(),
        });
    }
    let unknown = || RefProblem::UnknownModel {
        model_ref: model_ref.clone(),
        live: catalog.has_live_data(),
    };
    match UserModels::default().resolve(model_ref.as_str(), catalog) {
        Err(ResolveError::UnknownProvider {
            provider, known, ..
        }) => {
            return Some(RefProblem::UnknownProvider {
                model_ref: model_ref.clone(),
                provider,
                known,
            });
        }
        Err(_) => return Some(unknown()),
        Ok(resolved) => {
            if resolved
                .warnings
                .iter()
                .any(|w| matches!(w, Warning::Unlisted { .. }))
            {
                return Some(unknown());
            }
        }
    }
    let model = catalog.get(model_ref.model_id())?;
    let served = catalog.model_for(model_ref).and_then(|m| m.available);
    if model.available.is_some() && served == Some(false) {
        return Some(RefProblem::NotServed {
            model_ref: model_ref.clone(),
        });
    }
    None
}

/// Something off in the user's default/fallback/allowlist choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectionProblem {
    /// A ref of the selection has a catalog problem.
    Ref {
        /// Where it is used: `primary`, `fallback #2`, …
        role: String,
        /// The problem.
        problem: RefProblem,
    },
    /// No primary model is set.
    NoPrimary,
    /// The same fallback appears twice.
    DuplicateFallback {
        /// The ref.
        model_ref: ModelRef,
    },
    /// A fallback equals the primary, so it can never help.
    FallbackIsPrimary {
        /// The ref.
        model_ref: ModelRef,
    },
}

impl fmt::Display for SelectionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectionProblem::Ref { role, problem } => write!(f, "{role}: {problem}"),
            SelectionProblem::NoPrimary => f.write_str("no default model is set"),
            SelectionProblem::DuplicateFallback { model_ref } => {
                write!(f, "fallback {model_ref} is listed more than once")
            }
            SelectionProblem::FallbackIsPrimary { model_ref } => {
                write!(f, "fallback {model_ref} is also the default model")
            }
        }
    }
}

impl Serialize for SelectionProblem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Every problem of the selection, in the order default, fallbacks.
pub fn check_selection(catalog: &Catalog, selection: &Selection<'_>) -> Vec<SelectionProblem> {
    let mut problems = Vec::new();
    let mut roles: Vec<(String, &ModelRef)> = Vec::new();
    match selection.primary {
        Some(primary) => roles.push(("default".to_owned(), primary)),
        None => problems.push(SelectionProblem::NoPrimary),
    }
    for (i, fallback) in selection.fallbacks.iter().enumerate() {
        if selection.fallbacks[..i].contains(fallback) {
            problems.push(SelectionProblem::DuplicateFallback {
                model_ref: fallback.clone(),
            });
            continue;
        }
        if selection.primary == Some(fallback) {
            problems.push(SelectionProblem::FallbackIsPrimary {
                model_ref: fallback.clone(),
            });
        }
        roles.push((format!("fallback #{}", i + 1), fallback));
    }
    for (role, model_ref) in &roles {
        if let Some(problem) = check_ref(catalog, model_ref) {
            problems.push(SelectionProblem::Ref {
                role: role.clone(),
                problem,
            });
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use hfclaw_model_ref::Aliases;

    use super::*;
    use crate::{builtin, parse_model_list};

    fn r(s: &str) -> ModelRef {
        s.parse().unwrap()
    }

    fn live_catalog() -> Catalog {
        let body = include_bytes!("../tests/fixtures/router-models-synthetic.json");
        let models = parse_model_list(body).unwrap().models;
        Catalog::merge(builtin::models(), Some(models.clone()), &[])
    }

    #[test]
    fn suffix_provider_is_checked_against_live_providers() {
        let problem = check_ref(
            &live_catalog(),
            &r("huggingface/deepseek-ai/DeepSeek-R1:groq"),
        )
        .unwrap();
        assert_eq!(
            problem.to_string(),
            "provider \"groq\" does not serve deepseek-ai/DeepSeek-R1; known providers: together, novita, fireworks-ai, featherless-ai"
        );
        assert!(problem.is_serious());
        assert_eq!(
            check_ref(
                &live_catalog(),
                &r("huggingface/deepseek-ai/DeepSeek-R1:together")
            ),
            None
        );
    }

    #[test]
    fn suffix_provider_is_not_checked_without_live_data() {
        let offline = Catalog::merge(builtin::models(), None, &[]);
        assert_eq!(
            check_ref(&offline, &r("huggingface/deepseek-ai/DeepSeek-R1:groq")),
            None
        );
    }

    #[test]
    fn unknown_models_are_serious_only_with_live_data() {
        let offline = Catalog::merge(builtin::models(), None, &[]);
        let problem = check_ref(&offline, &r("huggingface/x/y")).unwrap();
        assert!(!problem.is_serious());
        assert!(
            check_ref(&live_catalog(), &r("huggingface/x/y"))
                .unwrap()
                .is_serious()
        );
    }

    #[test]
    fn provider_in_error_state_is_not_served() {
        let problem =
            check_ref(&live_catalog(), &r("huggingface/Qwen/QwQ-32B:hyperbolic")).unwrap();
        assert_eq!(
            problem.to_string(),
            "provider \"hyperbolic\" is not serving Qwen/QwQ-32B right now"
        );
        let body = br#"{"data":[{"id":"a/b","providers":[{"provider":"p","status":"error"}]}]}"#;
        let models = parse_model_list(body).unwrap().models;
        let catalog = Catalog::merge(Vec::new(), Some(models.clone()), &[]);
        let problem = check_ref(&catalog, &r("huggingface/a/b")).unwrap();
        assert_eq!(problem.to_string(), "no provider serves a/b right now");
    }

    #[test]
    fn foreign_refs_are_reported_not_checked() {
        let problem = check_ref(&live_catalog(), &r("openai/gpt-5")).unwrap();
        assert!(matches!(problem, RefProblem::Foreign { .. }));
        assert!(!problem.is_serious());
    }

    #[test]
    fn selection_flags_duplicates_and_fallbacks_equal_to_primary() {
        let primary = r("huggingface/deepseek-ai/DeepSeek-R1");
        let fallbacks = [
            r("huggingface/Qwen/Qwen3-8B"),
            r("huggingface/Qwen/Qwen3-8B"),
            primary.clone(),
        ];
        let aliases = Aliases::new();
        let allowlist = [primary.clone()];
        let selection = Selection {
            primary: Some(&primary),
            fallbacks: &fallbacks,
            aliases: &aliases,
            allowlist: &allowlist,
        };
        let problems: Vec<String> = check_selection(&live_catalog(), &selection)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            problems,
            [
                "fallback huggingface/Qwen/Qwen3-8B is listed more than once",
                "fallback huggingface/deepseek-ai/DeepSeek-R1 is also the default model",
            ]
        );
    }

    #[test]
    fn empty_selection_has_no_primary() {
        let aliases = Aliases::new();
        let selection = Selection::with_aliases(&aliases);
        assert_eq!(
            check_selection(&live_catalog(), &selection),
            [SelectionProblem::NoPrimary]
        );
    }
}
