//! Routes for the model names clients choose themselves (`hfclaw serve --route
//! PATTERN=TARGET`): Claude Code asks for `claude-sonnet-5-5` and
//! `claude-haiku-4-5-20251001`, other agents for their own vendors' names. A route sends
//! such a name to one of the user's models.
//!
//! Routes are a layer in front of the one name → ref decision (the snapshot's): a route
//! applies only to a name that decision does not claim (not `default`, not an alias, not a
//! ref, not a model id the catalog lists), so a route never hides a model. The user's
//! routes come first, in order; then, unless turned off, the built-in ones:
//! `claude-*haiku*` → the first fallback (else the default) and `claude-*` → the default.
//! A routed request keeps the whole chain: the route's target, then the default model and
//! its fallbacks.
//!
//! Patterns are matched whole, ASCII case-insensitively, `*` standing for any run of
//! characters (none included); the first route that matches wins.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use hfclaw_model_ref::ModelRef;

use crate::error::ApiError;
use crate::snapshot::Snapshot;

/// The built-in routes' patterns, in the order they are tried.
pub const BUILTIN_PATTERNS: [&str; 2] = ["claude-*haiku*", "claude-*"];

/// Where a route sends a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteTarget {
    /// A ref, an alias, a bare `org/model` or `default`, resolved per request (an alias
    /// may change on reload).
    Model(String),
    /// The config's first fallback, else the default model.
    FirstFallback,
    /// The default model.
    Default,
}

impl fmt::Display for RouteTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteTarget::Model(name) => f.write_str(name),
            RouteTarget::FirstFallback => f.write_str("the first fallback (else default)"),
            RouteTarget::Default => f.write_str("default"),
        }
    }
}

/// A `*` glob, matched whole and ASCII case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    /// As written (the `x-hfclaw-route` header's value).
    text: Arc<str>,
    /// The literal runs between the `*`s, lower-cased: one more than there are `*`s.
    pieces: Vec<Box<[u8]>>,
}

impl Pattern {
    fn new(text: &str) -> Pattern {
        Pattern {
            text: Arc::from(text),
            pieces: text
                .split('*')
                .map(|piece| piece.to_ascii_lowercase().into_bytes().into_boxed_slice())
                .collect(),
        }
    }

    fn matches(&self, name: &str) -> bool {
        let name = name.as_bytes();
        let (first, rest) = match self.pieces.split_first() {
            Some(split) => split,
            None => return name.is_empty(),
        };
        let Some((last, middle)) = rest.split_last() else {
            return name.eq_ignore_ascii_case(first);
        };
        if name.len() < first.len() + last.len()
            || !name[..first.len()].eq_ignore_ascii_case(first)
            || !name[name.len() - last.len()..].eq_ignore_ascii_case(last)
        {
            return false;
        }
        // Leftmost matches of the middle runs, in order, are the glob's answer.
        let mut between = &name[first.len()..name.len() - last.len()];
        for piece in middle {
            match find_ignore_case(between, piece) {
                Some(at) => between = &between[at + piece.len()..],
                None => return false,
            }
        }
        true
    }
}

/// The first position of `needle` (lower case) in `haystack`, ignoring ASCII case.
fn find_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
}

/// One route: names matching `pattern` go to `target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRoute {
    pattern: Pattern,
    target: RouteTarget,
}

/// Why `--route` text is not a route.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// No `=`.
    #[error("{0:?} is not PATTERN=MODEL (no `=`)")]
    NoEquals(String),
    /// Nothing before the `=`.
    #[error("{0:?} has no pattern before the `=`")]
    EmptyPattern(String),
    /// Nothing after the `=`.
    #[error("{0:?} names no model after the `=`")]
    EmptyTarget(String),
}

impl ModelRoute {
    /// A route from `pattern` to `target`.
    pub fn new(pattern: &str, target: RouteTarget) -> ModelRoute {
        ModelRoute {
            pattern: Pattern::new(pattern),
            target,
        }
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern.text
    }

    /// Where it sends names.
    pub fn target(&self) -> &RouteTarget {
        &self.target
    }

    /// True when `name` matches the pattern.
    pub fn matches(&self, name: &str) -> bool {
        self.pattern.matches(name)
    }
}

impl FromStr for ModelRoute {
    type Err = RouteError;

    /// `PATTERN=TARGET` (spaces around either side are trimmed).
    fn from_str(text: &str) -> Result<ModelRoute, RouteError> {
        let Some((pattern, target)) = text.split_once('=') else {
            return Err(RouteError::NoEquals(text.to_owned()));
        };
        let (pattern, target) = (pattern.trim(), target.trim());
        if pattern.is_empty() {
            return Err(RouteError::EmptyPattern(text.to_owned()));
        }
        if target.is_empty() {
            return Err(RouteError::EmptyTarget(text.to_owned()));
        }
        Ok(ModelRoute::new(
            pattern,
            RouteTarget::Model(target.to_owned()),
        ))
    }
}

impl fmt::Display for ModelRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.pattern.text, self.target)
    }
}

/// The user's routes then (unless turned off) the built-in ones, in matching order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRoutes {
    routes: Vec<ModelRoute>,
}

impl Default for ModelRoutes {
    /// The built-in routes only.
    fn default() -> Self {
        ModelRoutes::new(Vec::new(), true)
    }
}

/// What a request's `model` came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The models to try, in order.
    pub chain: Vec<ModelRef>,
    /// The pattern of the route that chose the chain's first model.
    pub route: Option<Arc<str>>,
    /// The client named this model itself (not `default`, not through a route).
    pub named: bool,
}

impl ModelRoutes {
    /// `user`'s routes, then the built-in ones when `builtin`.
    pub fn new(user: Vec<ModelRoute>, builtin: bool) -> ModelRoutes {
        let mut routes = user;
        if builtin {
            routes.push(ModelRoute::new(
                BUILTIN_PATTERNS[0],
                RouteTarget::FirstFallback,
            ));
            routes.push(ModelRoute::new(BUILTIN_PATTERNS[1], RouteTarget::Default));
        }
        ModelRoutes { routes }
    }

    /// No routes at all.
    pub fn none() -> ModelRoutes {
        ModelRoutes { routes: Vec::new() }
    }

    /// Every route, in matching order.
    pub fn iter(&self) -> impl Iterator<Item = &ModelRoute> {
        self.routes.iter()
    }

    /// The first route whose pattern matches `name`.
    pub fn find(&self, name: &str) -> Option<&ModelRoute> {
        self.routes.iter().find(|route| route.matches(name))
    }

    /// The chain for a request's `model` (`None`: none given): a name the snapshot does
    /// not claim goes through the first route that matches it; anything else is the
    /// snapshot's decision. `no_fallback` keeps only the first model.
    pub fn choose(
        &self,
        snapshot: &Snapshot,
        requested: Option<&str>,
        no_fallback: bool,
    ) -> Result<Choice, ApiError> {
        if let Some(name) = requested.map(str::trim).filter(|n| !n.is_empty())
            && let Some(route) = self.find(name)
            && !snapshot.claims(name)
        {
            let chain = route_chain(snapshot, route, no_fallback)?;
            return Ok(Choice {
                chain,
                route: Some(route.pattern.text.clone()),
                named: false,
            });
        }
        Ok(Choice {
            chain: snapshot.chain(requested, no_fallback)?,
            route: None,
            named: !snapshot.means_default(requested),
        })
    }

    /// Checks every user route against `snapshot`: a target that is no model is an
    /// error, a pattern that is a model name of its own (and so never applies) a warning.
    pub fn check(&self, snapshot: &Snapshot) -> RouteCheck {
        let mut check = RouteCheck::default();
        for route in &self.routes {
            if let RouteTarget::Model(target) = &route.target
                && let Err(error) = snapshot.chain(Some(target), true)
            {
                check
                    .errors
                    .push(format!("--route {route}: {}", error.message));
            }
            if !route.pattern.text.contains('*') && snapshot.claims(&route.pattern.text) {
                check.warnings.push(format!(
                    "--route {route}: {:?} is itself a model name (a ref, an alias or a \
                     catalog id), so the route never applies",
                    route.pattern.text
                ));
            }
        }
        check
    }
}

/// What [`ModelRoutes::check`] found, one line per problem.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteCheck {
    /// Routes that cannot work (their target is no model).
    pub errors: Vec<String>,
    /// Routes that never apply.
    pub warnings: Vec<String>,
}

/// The default model, when the router can serve it.
fn default(snapshot: &Snapshot) -> Result<ModelRef, ApiError> {
    let first = snapshot.chain(None, true)?;
    first.into_iter().next().ok_or_else(ApiError::no_default)
}

/// The chain of a routed request: the target, then the default model and its fallbacks
/// (each once); only the target with `no_fallback`.
fn route_chain(
    snapshot: &Snapshot,
    route: &ModelRoute,
    no_fallback: bool,
) -> Result<Vec<ModelRef>, ApiError> {
    let first = match &route.target {
        RouteTarget::Model(target) => {
            let mut chain = snapshot
                .chain(Some(target), true)
                .map_err(|e| e.in_route(route.pattern()))?;
            chain.swap_remove(0)
        }
        RouteTarget::FirstFallback => {
            match snapshot.user.fallbacks.iter().find(|r| r.is_huggingface()) {
                Some(fallback) => fallback.clone(),
                None => default(snapshot)?,
            }
        }
        RouteTarget::Default => default(snapshot)?,
    };
    let mut chain = vec![first];
    if !no_fallback {
        for model in snapshot.configured_chain() {
            if !chain.contains(model) {
                chain.push(model.clone());
            }
        }
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::snapshot::tests::{QWEN, R1, state};

    fn routes(specs: &[&str], builtin: bool) -> ModelRoutes {
        ModelRoutes::new(specs.iter().map(|s| s.parse().unwrap()).collect(), builtin)
    }

    fn chosen(routes: &ModelRoutes, snapshot: &Snapshot, name: &str) -> (Vec<String>, String) {
        let choice = routes.choose(snapshot, Some(name), false).unwrap();
        (
            choice.chain.iter().map(ToString::to_string).collect(),
            choice.route.as_deref().unwrap_or("-").to_owned(),
        )
    }

    #[test]
    fn a_star_matches_any_run_of_characters_and_the_whole_name_must_match() {
        let cases = [
            ("claude-*", "claude-sonnet-5-5", true),
            ("claude-*", "claude-", true),
            ("claude-*", "anthropic/claude-x", false),
            ("claude-*haiku*", "claude-haiku-4-5-20251001", true),
            ("claude-*haiku*", "claude-3-5-haiku", true),
            ("claude-*haiku*", "claude-sonnet-5-5", false),
            ("CLAUDE-*", "claude-opus", true),
            ("gpt-4o", "gpt-4o", true),
            ("gpt-4o", "gpt-4o-mini", false),
            ("*", "", true),
            ("*", "anything/at:all", true),
            ("a*b*a", "aba", true),
            ("a*b*a", "ab", false),
            ("a*a", "a", false),
            ("*mini", "gpt-4o-mini", true),
            ("**", "x", true),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                Pattern::new(pattern).matches(name),
                expected,
                "{pattern} vs {name}"
            );
        }
    }

    #[test]
    fn route_text_is_pattern_equals_model() {
        let route: ModelRoute = " claude-*haiku* = qwen ".parse().unwrap();
        assert_eq!(route.pattern(), "claude-*haiku*");
        assert_eq!(route.target(), &RouteTarget::Model("qwen".to_owned()));
        assert_eq!(route.to_string(), "claude-*haiku*=qwen");
        // The target may hold `=`? No: the first `=` splits, and a ref has none.
        for bad in ["claude-*", "=qwen", "claude-*=", " = "] {
            assert!(bad.parse::<ModelRoute>().is_err(), "{bad}");
        }
    }

    #[test]
    fn built_in_routes_send_haiku_to_the_first_fallback_and_other_claude_names_to_the_default() {
        let s = state(Some(R1), &[QWEN], &[]);
        let builtin = ModelRoutes::default();
        for name in [
            "claude-sonnet-5-5",
            "claude-opus-5-5",
            "claude-sonnet-4-20250514",
        ] {
            assert_eq!(
                chosen(&builtin, &s, name),
                (vec![R1.to_owned(), QWEN.to_owned()], "claude-*".to_owned()),
                "{name}"
            );
        }
        for name in ["claude-haiku-4-5-20251001", "claude-3-5-haiku-latest"] {
            assert_eq!(
                chosen(&builtin, &s, name),
                (
                    vec![QWEN.to_owned(), R1.to_owned()],
                    "claude-*haiku*".to_owned()
                ),
                "{name}"
            );
        }
        // No fallback: haiku goes to the default.
        let s = state(Some(R1), &[], &[]);
        assert_eq!(
            chosen(&builtin, &s, "claude-haiku-4-5").0,
            vec![R1.to_owned()]
        );
        // With no default, a routed name is the same 400 as no model at all.
        let s = state(None, &[], &[]);
        let error = builtin.choose(&s, Some("claude-opus"), false).unwrap_err();
        assert_eq!(error.code.as_deref(), Some("model_not_configured"));
    }

    #[test]
    fn user_routes_come_first_in_order_and_names_the_snapshot_claims_are_never_routed() {
        let s = state(Some(R1), &[QWEN], &[(QWEN, "qwen"), (R1, "claude-opus")]);
        let r = routes(
            &[
                "claude-*haiku*=qwen",
                "claude-*=huggingface/Qwen/Qwen3-8B",
                "*=r1-nope",
            ],
            true,
        );
        assert_eq!(
            chosen(&r, &s, "claude-haiku-4-5").0[0],
            QWEN,
            "the first matching route wins"
        );
        assert_eq!(
            chosen(&r, &s, "claude-sonnet-5-5"),
            (
                vec![
                    "huggingface/Qwen/Qwen3-8B".to_owned(),
                    R1.to_owned(),
                    QWEN.to_owned()
                ],
                "claude-*".to_owned()
            )
        );
        // An alias named like a Claude model is the alias.
        assert_eq!(
            chosen(&r, &s, "claude-opus"),
            (vec![R1.to_owned(), QWEN.to_owned()], "-".to_owned())
        );
        // A catalog id, a ref and `default` are never routed.
        for name in ["deepseek-ai/DeepSeek-R1", R1, "default"] {
            assert_eq!(chosen(&r, &s, name).1, "-", "{name}");
        }
        // A route to something that is no model says which route.
        let error = r.choose(&s, Some("gpt-4o"), false).unwrap_err();
        assert_eq!(error.status.as_u16(), 404);
        assert!(error.message.contains("route *"), "{}", error.message);
        let check = r.check(&s);
        assert_eq!(
            (check.errors.len(), check.warnings.len()),
            (1, 0),
            "{check:?}"
        );
        let shadowed = routes(&["qwen=default"], false).check(&s);
        assert_eq!(
            (shadowed.errors.len(), shadowed.warnings.len()),
            (0, 1),
            "{shadowed:?}"
        );
    }

    #[test]
    fn without_built_in_routes_claude_names_are_unknown() {
        let s = state(Some(R1), &[QWEN], &[]);
        let error = ModelRoutes::none()
            .choose(&s, Some("claude-sonnet-5-5"), false)
            .unwrap_err();
        assert_eq!(error.status.as_u16(), 404);
    }

    #[test]
    fn the_client_named_a_model_unless_it_asked_for_the_default_or_a_route_chose() {
        let s = state(Some(R1), &[QWEN], &[(QWEN, "qwen")]);
        let r = ModelRoutes::default();
        let named = |name: Option<&str>| r.choose(&s, name, false).unwrap().named;
        assert!(named(Some("qwen")));
        assert!(named(Some(R1)));
        assert!(!named(None));
        assert!(!named(Some("default")));
        assert!(!named(Some("claude-sonnet-5-5")));
    }
}
