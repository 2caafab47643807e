//! What every command needs: global flags, the config's location and content, the user's
//! model choices as typed refs, and the merged catalog.

use std::ffi::OsString;
use std::path::PathBuf;

use hfclaw_catalog::listing::Selection;
use hfclaw_catalog::{Catalog, ConfigModel, builtin};
use hfclaw_config_merge::{ConfigDocument, ConfigPaths, OpenClawView};
use hfclaw_model_ref::{Aliases, ModelRef};

use crate::args::GlobalArgs;
use crate::error::CliResult;
use crate::output::Messages;

/// Global flags plus what was derived from them.
pub struct Context {
    /// Message printer honouring `-q`.
    pub messages: Messages,
    /// Where the config, state dir and `.env` are.
    pub paths: ConfigPaths,
}

impl Context {
    /// Locates the config from flags and environment.
    pub fn new(global: GlobalArgs) -> CliResult<Context> {
        let home = home_dir();
        let paths =
            hfclaw_config_merge::locate(global.config.as_deref(), &env_os, home.as_deref())?;
        Ok(Context {
            messages: Messages::new(global.quiet),
            paths,
        })
    }

    /// Reads and parses the config; `None` when the file does not exist yet.
    pub fn load_config(&self) -> CliResult<Option<ConfigDocument>> {
        Ok(ConfigDocument::load(&self.paths.config)?)
    }

    /// The config's view, empty when there is no config file.
    pub fn load_view(&self) -> CliResult<OpenClawView> {
        let view = match self.load_config()? {
            Some(doc) => doc.view(),
            None => OpenClawView::default(),
        };
        for warning in &view.warnings {
            self.messages
                .warn(format!("{}: {warning}", self.paths.config.display()));
        }
        Ok(view)
    }

    /// The built-in catalog merged with the config's provider entries (no network).
    pub fn offline_catalog(&self, user: &UserModels) -> Catalog {
        let catalog = Catalog::merge(builtin::models(), None, &user.provider_models);
        self.warn_catalog(&catalog);
        catalog
    }

    fn warn_catalog(&self, catalog: &Catalog) {
        for warning in catalog.warnings() {
            self.messages
                .warn(format!("{}: {warning}", self.paths.config.display()));
        }
    }
}

fn env_os(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

fn home_dir() -> Option<PathBuf> {
    env_os("HOME").map(PathBuf::from).or_else(dirs::home_dir)
}

/// The user's model choices from the config, as typed refs.
#[derive(Debug, Default)]
pub struct UserModels {
    /// `agents.defaults.model.primary`.
    pub primary: Option<ModelRef>,
    /// `agents.defaults.model.fallbacks`.
    pub fallbacks: Vec<ModelRef>,
    /// Aliases from `agents.defaults.models`.
    pub aliases: Aliases,
    /// Keys of `agents.defaults.models`.
    pub allowlist: Vec<ModelRef>,
    /// `models.providers.huggingface.models`.
    pub provider_models: Vec<ConfigModel>,
    /// Refs in the config that do not parse, one line each.
    pub problems: Vec<String>,
}

impl UserModels {
    /// Parses the refs of a config view; unparseable ones become problems, not errors.
    pub fn from_view(view: &OpenClawView) -> UserModels {
        let mut user = UserModels::default();
        let mut parse = |what: &str, text: &str| match text.parse::<ModelRef>() {
            Ok(r) => Some(r),
            Err(e) => {
                user.problems.push(format!("{what}: {e}"));
                None
            }
        };
        let primary = view.primary.as_deref().and_then(|p| parse("primary", p));
        let fallbacks: Vec<ModelRef> = view
            .fallbacks
            .iter()
            .filter_map(|f| parse("fallback", f))
            .collect();
        let mut aliases = Aliases::new();
        let mut allowlist = Vec::new();
        for entry in &view.models {
            if let Some(model_ref) = parse("agents.defaults.models key", &entry.key) {
                if let Some(alias) = &entry.alias {
                    aliases.insert(model_ref.clone(), alias.clone());
                }
                allowlist.push(model_ref);
            }
        }
        user.primary = primary;
        user.fallbacks = fallbacks;
        user.aliases = aliases;
        user.allowlist = allowlist;
        user.provider_models = view
            .provider
            .as_ref()
            .map(|p| p.models.clone())
            .unwrap_or_default();
        user
    }

    /// The selection the catalog listing needs.
    pub fn selection(&self) -> Selection<'_> {
        Selection {
            primary: self.primary.as_ref(),
            fallbacks: &self.fallbacks,
            aliases: &self.aliases,
            allowlist: &self.allowlist,
        }
    }
}
