//! `hfclaw memory use | status`: OpenClaw's memory search (`memory.search`) on Hugging
//! Face embeddings through `hfclaw serve`.
//!
//! `use` resolves the model like every command, checks with the Hub that a provider
//! serves it for embeddings (unless `--offline`), and writes the block through
//! `config-merge` (format-preserving, locked, atomic); `status` reads the block back and
//! asks the gateway it names whether it is up.

use std::time::Duration;

use axum::http::{HeaderMap, Method};
use bytes::Bytes;
use hfclaw_accounting::keys::file::{self, FileKey};
use hfclaw_config_merge::{MemorySearch, MemoryTarget, OPENAI_COMPATIBLE};
use hfclaw_model_ref::{AlsoListing, ModelRef, Via};
use hfclaw_router_client::tasks::mapping::parse_model_mapping;
use hfclaw_router_client::tasks::{Task, routes};
use hfclaw_router_client::{ClientOptions, ListResponse, RouterClient, resolve_hub_url};
use serde_json::json;

use crate::args::{DEFAULT_LISTEN, MemoryCommand, MemoryStatusArgs, MemoryUseArgs};
use crate::commands::run::connect_addr;
use crate::commands::service::{installed_command, unit::flag_value};
use crate::context::{Context, env, runtime, user_models};
use crate::error::{CliError, CliResult};
use crate::output::{print_data, print_json};

/// How OpenClaw is told to rebuild its index.
const REINDEX: &str = "`openclaw memory index --force`";

/// Runs `memory …`.
pub fn run(ctx: &Context, command: &MemoryCommand) -> CliResult {
    match command {
        MemoryCommand::Use(args) => use_model(ctx, args),
        MemoryCommand::Status(args) => status(ctx, args),
    }
}

/// The gateway's OpenAI base URL: `URL/v1/` (a `/v1` already given is kept).
fn base_url_of(gateway: &str) -> CliResult<String> {
    let trimmed = gateway.trim();
    let url = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("http://{trimmed}")
    };
    let url = url.trim_end_matches('/');
    let host = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .map(|rest| rest.split('/').next().unwrap_or(""));
    if host.is_none_or(|h| h.is_empty() || h.contains(char::is_whitespace)) {
        return Err(
            CliError::input(format!("--gateway {gateway:?} is not an http(s) address"))
                .hint("give the gateway's address, e.g. --gateway http://127.0.0.1:4000"),
        );
    }
    let base = url.strip_suffix("/v1").unwrap_or(url);
    Ok(format!("{base}/v1/"))
}

/// The first key of a client-key file (what a client of the gateway sends).
fn first_key(path: &std::path::Path) -> CliResult<FileKey> {
    let keys = file::read(path).map_err(|e| CliError::input(e.to_string()).hint(e.hint()))?;
    keys.into_iter().next().ok_or_else(|| {
        CliError::input(format!("{} holds no client key", path.display()))
            .hint("the file holds one key per line (`KEY` or `LABEL KEY`)")
    })
}

/// The first key of the installed service's `--api-key-file`, when `base_url` is that
/// service's gateway: what OpenClaw must send it (`hfclaw service install
/// --api-key-file`). A file that cannot be read is a warning: the block is written
/// without a key.
fn service_key(ctx: &Context, base_url: &str) -> Option<FileKey> {
    let command = installed_command()?;
    let file = flag_value(&command, "--api-key-file")?;
    let listen = flag_value(&command, "--listen").unwrap_or(DEFAULT_LISTEN);
    let addr = connect_addr(listen)?;
    if format!("http://{addr}/v1/") != base_url {
        return None;
    }
    match first_key(std::path::Path::new(file)) {
        Ok(key) => {
            ctx.messages.note(format!(
                "the gateway's service takes client keys from {file}: writing its first key"
            ));
            Some(key)
        }
        Err(e) => {
            ctx.messages.warn(format!(
                "the gateway's service takes client keys from {file}, which cannot be used \
                 ({}): writing no key; pass --api-key-file",
                e.message()
            ));
            None
        }
    }
}

fn use_model(ctx: &Context, args: &MemoryUseArgs) -> CliResult {
    let base_url = base_url_of(&args.gateway)?;
    let api_key = match &args.api_key_file {
        Some(path) => Some(first_key(path)?),
        None => service_key(ctx, &base_url),
    };
    let (document, view) = ctx.load_for_edit_of(Some(&args.model))?;
    let user = user_models(&view);
    let catalog = ctx.catalog(&view, false, false)?;
    // The one rule, with the Hub as catalog: an embedding model is no chat model; the
    // Hub's mapping, asked next, confirms it.
    let hub = AlsoListing::input(&catalog, Some(&args.model));
    let resolved = user.resolve(&args.model, &hub).map_err(CliError::from)?;
    if let Via::Alias(alias) = &resolved.via {
        ctx.messages
            .note(format!("alias \"{alias}\" is {}", resolved.model_ref));
    }
    let model_ref = resolved.model_ref;
    if !model_ref.is_huggingface() {
        return Err(CliError::input(format!(
            "{model_ref} is not a Hugging Face model; `memory use` points OpenClaw at Hugging \
             Face embeddings"
        ))
        .hint("`hfclaw models list --task embeddings` lists embedding models"));
    }
    if ctx.global.offline {
        ctx.messages.note(format!(
            "not checked with the Hub (--offline): make sure a provider serves {model_ref} \
             for embeddings"
        ));
    } else {
        check_served(ctx, &view, &model_ref)?;
    }
    let before = document
        .as_ref()
        .map(|d| MemorySearch::of(d.value()))
        .unwrap_or_default();
    let target = MemoryTarget {
        model: model_ref.as_str(),
        base_url: &base_url,
        api_key: api_key.as_ref().map(|k| k.secret.as_str()),
    };
    let ((changed, edit), outcome) =
        ctx.edit_config(document, |editor| editor.set_memory_search(&target))?;
    ctx.messages.status(format!(
        "OpenClaw's memory search: {model_ref} through {base_url} ({OPENAI_COMPATIBLE}){}",
        match &api_key {
            Some(key) => format!(", client key {:?}", key.label),
            None => String::new(),
        }
    ));
    if edit.kept_secret_ref {
        ctx.messages.warn(
            "memory.search.remote.apiKey is a secret reference: left as it is; make sure it \
             holds the gateway's client key",
        );
    }
    ctx.report_write(&outcome);
    let same_model = before.provider.as_deref() == Some(OPENAI_COMPATIBLE)
        && before.model.as_deref() == Some(model_ref.as_str());
    if changed && !same_model {
        let was = match (&before.provider, &before.model) {
            (None, _) => "OpenClaw's default embedding provider".to_owned(),
            (Some(provider), Some(model)) => format!("{model} ({provider})"),
            (Some(provider), None) => format!("the {provider} provider"),
        };
        ctx.messages.warn(format!(
            "OpenClaw's memory index (if it has one) holds vectors of {was}: vectors of \
             another model do not compare with them, so rebuild it with {REINDEX}"
        ));
    }
    ctx.messages.note(format!(
        "OpenClaw calls the gateway for every memory search: keep `hfclaw serve` running on \
         {} (or `hfclaw service install`)",
        base_url.trim_end_matches("/v1/")
    ));
    Ok(())
}

/// Fails when the Hub says no provider hfclaw can call serves `model_ref` for
/// embeddings; a Hub that cannot be asked is only a warning.
fn check_served(
    ctx: &Context,
    view: &hfclaw_config_merge::OpenClawView,
    model_ref: &ModelRef,
) -> CliResult {
    let token = ctx.token(view)?.map(|(token, _)| token);
    let client = ctx.client(view, token)?;
    let hub = resolve_hub_url(&env);
    let path = format!(
        "/api/models/{}?expand[]=inferenceProviderMapping",
        model_ref.model_id()
    );
    let answer = runtime()?.block_on(client.hub_get(&hub, &path, None));
    let body = match answer {
        Ok(ListResponse::Fresh { body, .. }) => body,
        Ok(ListResponse::NotModified) => return Ok(()),
        Err(e) if e.status == Some(404) => {
            return Err(CliError::input(format!(
                "{model_ref} is not a model on the Hugging Face Hub"
            ))
            .hint("check the id (org/model, case-sensitive); `hfclaw models list --task embeddings` lists embedding models"));
        }
        Err(e) => {
            ctx.messages.warn(format!(
                "could not ask the Hub which providers serve {model_ref} ({e}); writing it \
                 anyway"
            ));
            return Ok(());
        }
    };
    let mappings = parse_model_mapping(&body).map_err(|e| CliError::runtime(e.to_string()))?;
    let pinned = model_ref.suffix().and_then(|s| s.provider());
    match routes(Task::Embeddings, &mappings, pinned) {
        Ok(found) => {
            let names: Vec<&str> = found.iter().map(|r| r.provider.provider).collect();
            ctx.messages.note(format!(
                "{model_ref} is served for embeddings by {}",
                names.join(", ")
            ));
            Ok(())
        }
        Err(none) => Err(CliError::input(format!(
            "no provider hfclaw can call serves {model_ref} for embeddings (its mappings: {})",
            none.served_text()
        ))
        .hint("`hfclaw models list --task embeddings` lists models that have one")),
    }
}

fn status(ctx: &Context, args: &MemoryStatusArgs) -> CliResult {
    let document = ctx.load_config()?;
    let search = document
        .as_ref()
        .map(|d| MemorySearch::of(d.value()))
        .unwrap_or_default();
    let gateway = search
        .base_url
        .as_deref()
        .filter(|_| search.provider.as_deref() == Some(OPENAI_COMPATIBLE))
        .filter(|_| !ctx.global.offline)
        .map(|base_url| probe_gateway(base_url, search.api_key.as_deref()));
    if args.json {
        return print_json(&json!({
            "config": ctx.paths.config.display().to_string(),
            "enabled": !search.disabled,
            "provider": search.provider,
            "model": search.model,
            "baseUrl": search.base_url,
            "apiKey": search.has_api_key,
            "gateway": gateway.as_ref().map(|g| json!({"reachable": g.is_ok(),
                "status": g.as_ref().ok().map(|a| &a.status),
                "keyAccepted": g.as_ref().ok().and_then(|a| a.key_accepted),
                "error": g.as_ref().err()})),
        }));
    }
    let Some(provider) = &search.provider else {
        ctx.messages.note(
            "memory.search names no provider: OpenClaw picks its own default; `hfclaw memory \
             use REF` points it at Hugging Face embeddings through the gateway",
        );
        return print_data("provider  (OpenClaw's default)\n");
    };
    let dash = || "—".to_owned();
    let mut lines = vec![
        ("provider", provider.clone()),
        ("model", search.model.clone().unwrap_or_else(dash)),
        ("baseUrl", search.base_url.clone().unwrap_or_else(dash)),
        (
            "apiKey",
            if search.has_api_key { "set" } else { "not set" }.to_owned(),
        ),
    ];
    if search.disabled {
        lines.push(("enabled", "no (memory.search.enabled is false)".to_owned()));
    }
    let refused = gateway
        .as_ref()
        .and_then(|g| g.as_ref().ok())
        .is_some_and(|a| a.key_accepted == Some(false));
    match &gateway {
        Some(Ok(answer)) if refused => lines.push((
            "gateway",
            format!(
                "answering ({}), but refuses {} (HTTP 401)",
                answer.status,
                if search.has_api_key {
                    "the apiKey"
                } else {
                    "requests without a client key"
                }
            ),
        )),
        Some(Ok(answer)) => lines.push(("gateway", format!("answering ({})", answer.status))),
        Some(Err(e)) => lines.push(("gateway", format!("not answering: {e}"))),
        None => {}
    }
    let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let text: String = lines
        .iter()
        .map(|(k, v)| format!("{k:width$}  {v}\n"))
        .collect();
    // The gateway's root when it is not `hfclaw serve`'s default address.
    let root = search
        .base_url
        .as_deref()
        .map(|b| b.trim_end_matches('/').trim_end_matches("/v1"))
        .filter(|root| root.strip_prefix("http://") != Some(DEFAULT_LISTEN));
    if matches!(gateway, Some(Err(_))) {
        // The command that starts a gateway where OpenClaw will look for it.
        let serve = match root.and_then(|r| r.strip_prefix("http://")) {
            Some(listen) => format!("`hfclaw serve --listen {listen}`"),
            None => "`hfclaw serve`".to_owned(),
        };
        ctx.messages.warn(format!(
            "OpenClaw's memory search will fail until the gateway runs: {serve}"
        ));
    }
    if refused {
        let root = root
            .map(|root| format!(" --gateway {root}"))
            .unwrap_or_default();
        ctx.messages.warn(format!(
            "OpenClaw's memory search will fail (401): run `hfclaw memory use {}{root} \
             --api-key-file FILE` with the gateway's client-key file",
            search.model.as_deref().unwrap_or("REF")
        ));
    }
    print_data(&text)
}

/// What the gateway of `memory.search` answered.
struct GatewayAnswer {
    /// The status word of `GET /healthz` (`ok`, `degraded`).
    status: String,
    /// Whether it takes the configured key (or no key) for `GET /v1/models`; `None` when
    /// that could not be asked.
    key_accepted: Option<bool>,
}

/// `GET {gateway}/healthz`: the gateway's status word, or why it did not answer; then
/// `GET {gateway}/v1/models` with `api_key` (as OpenClaw sends it), to see whether the
/// gateway takes it.
fn probe_gateway(base_url: &str, api_key: Option<&str>) -> Result<GatewayAnswer, String> {
    let root = base_url.trim_end_matches('/');
    let root = root.strip_suffix("/v1").unwrap_or(root);
    let mut options = ClientOptions::new(root);
    options.connect_timeout = Duration::from_secs(2);
    let client = RouterClient::new(options).map_err(|e| e.to_string())?;
    let no_headers = HeaderMap::new();
    let run = async {
        let head = client.forward_raw(Method::GET, "/healthz", Bytes::new(), &no_headers);
        let raw = tokio::time::timeout(Duration::from_secs(3), head)
            .await
            .map_err(|_| "no answer within 3 s".to_owned())?
            .map_err(|e| e.kind.summary().to_owned())?;
        let status = raw.status;
        let body = raw.bytes().await.map_err(|e| e.to_string())?;
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let Some(word) = value.get("status").and_then(|s| s.as_str()) else {
            return Err(format!(
                "HTTP {status} from {root}/healthz: not an hfclaw gateway"
            ));
        };
        let mut headers = HeaderMap::new();
        if let Some(value) = api_key.and_then(|k| format!("Bearer {k}").parse().ok()) {
            headers.insert(axum::http::header::AUTHORIZATION, value);
        }
        let models = client.forward_raw(Method::GET, "/v1/models", Bytes::new(), &headers);
        let key_accepted = match tokio::time::timeout(Duration::from_secs(3), models).await {
            Ok(Ok(raw)) => Some(raw.status != 401),
            _ => None,
        };
        Ok(GatewayAnswer {
            status: word.to_owned(),
            key_accepted,
        })
    };
    runtime().map_err(|e| e.to_string())?.block_on(run)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn gateway_addresses_become_openai_base_urls() {
        assert_eq!(
            base_url_of("http://127.0.0.1:4000").unwrap(),
            "http://127.0.0.1:4000/v1/"
        );
        assert_eq!(
            base_url_of("http://127.0.0.1:4000/v1/").unwrap(),
            "http://127.0.0.1:4000/v1/"
        );
        assert_eq!(
            base_url_of("localhost:4000").unwrap(),
            "http://localhost:4000/v1/"
        );
        assert!(base_url_of("ftp://x").is_err());
        assert!(base_url_of("http://").is_err());
    }
}
