//! `models list --task embeddings` and `models show` of a model the chat catalog does not
//! hold but the Hub maps to providers for a task: the Hub's answers, read by
//! `hfclaw_router_client::tasks`, rendered.

use std::time::SystemTime;

use hfclaw_model_ref::ModelRef;
use hfclaw_router_client::discovery::{DEFAULT_TTL, format_age};
use hfclaw_router_client::tasks::listing::{ListOrigin, cache_path_beside, load_task_models};
use hfclaw_router_client::tasks::mapping::{HubModel, ProviderMapping, parse_model_mapping};
use hfclaw_router_client::tasks::providers::task_provider;
use hfclaw_router_client::tasks::{MappingStatus, Task, routes};
use hfclaw_router_client::{CachePolicy, ListResponse, default_cache_path, resolve_hub_url};
use serde_json::{Value, json};

use crate::args::ListArgs;
use crate::context::{Context, env, runtime};
use crate::error::{CliError, CliResult};
use crate::output::{print_data, print_json, table_text};

/// Reads `--task`.
pub fn parse_task(text: &str) -> CliResult<Task> {
    Task::parse(text).ok_or_else(|| {
        CliError::input(format!("unknown task {text:?}"))
            .hint("--task embeddings lists embedding models; without --task, chat models")
    })
}

/// The flags of `models list` that describe chat models only.
fn chat_only_flag(args: &ListArgs) -> Option<&'static str> {
    [
        (args.reasoning, "--reasoning"),
        (args.tools, "--tools"),
        (args.structured_output, "--structured-output"),
        (args.image, "--image"),
        (args.free, "--free"),
        (args.sort.is_some(), "--sort"),
    ]
    .into_iter()
    .find_map(|(set, flag)| set.then_some(flag))
}

/// Whether `provider` serves `mapping` for `task` and hfclaw can call it.
fn callable(task: Task, mapping: &ProviderMapping) -> bool {
    mapping.status == MappingStatus::Live
        && task_provider(task, &mapping.provider)
            .is_some_and(|p| p.mapping_tasks.contains(&mapping.task.as_str()))
}

fn provider_json(task: Task, m: &ProviderMapping) -> Value {
    json!({"provider": m.provider, "providerId": m.provider_id, "status": m.status.as_str(),
        "task": m.task, "callable": callable(task, m)})
}

/// Runs `models list --task TASK`.
pub fn list(ctx: &Context, args: &ListArgs, task: Task) -> CliResult {
    if let Some(flag) = chat_only_flag(args) {
        return Err(CliError::input(format!(
            "{flag} describes chat models; it does not apply to --task {}",
            task.label()
        ))
        .hint("with --task, use --search, --provider, --all, --refresh or --json"));
    }
    let view = ctx.load_view()?;
    let cache = default_cache_path(&env)
        .map(|p| cache_path_beside(&p, task))
        .ok_or_else(|| CliError::runtime("no cache directory: set HFCLAW_CACHE_DIR"))?;
    let token = if ctx.global.offline {
        None
    } else {
        ctx.token(&view)?.map(|(token, _)| token)
    };
    let client = ctx.client(&view, token)?;
    let policy = CachePolicy {
        ttl: DEFAULT_TTL,
        refresh: args.refresh,
        offline: ctx.global.offline,
    };
    let hub = resolve_hub_url(&env);
    let loaded = runtime()?.block_on(load_task_models(
        Some(&client),
        &hub,
        &cache,
        task,
        policy,
        SystemTime::now(),
    ));
    match (&loaded.origin, &loaded.failure) {
        (ListOrigin::Nothing, Some(reason)) => {
            return Err(CliError::runtime(format!(
                "cannot list {} models: the Hub did not answer ({reason})",
                task.label()
            ))
            .hint("check the network and retry with --refresh"));
        }
        (ListOrigin::Nothing, None) if ctx.global.offline => {
            return Err(CliError::runtime(format!(
                "no cached list of {} models (--offline)",
                task.label()
            ))
            .hint("run it once without --offline"));
        }
        (ListOrigin::Cache(age), Some(reason)) => ctx.messages.warn(format!(
            "the Hub did not answer ({reason}); listing its answer of {} ago",
            format_age(*age)
        )),
        _ => {}
    }
    let search = args.search.as_deref().map(str::to_lowercase);
    let provider = args.provider.as_deref().map(str::to_lowercase);
    let rows: Vec<(&HubModel, Vec<&ProviderMapping>)> = loaded
        .models
        .iter()
        .filter(|m| {
            search
                .as_deref()
                .is_none_or(|s| m.id.to_lowercase().contains(s))
        })
        .filter_map(|m| {
            let mut shown: Vec<&ProviderMapping> = m
                .mappings
                .iter()
                .filter(|p| args.all || callable(task, p))
                .collect();
            // In the order the gateway tries them: OpenAI-shaped first, converted ones
            // (hf-inference) next, the ones it cannot call last.
            shown.sort_by_key(|p| match task_provider(task, &p.provider) {
                Some(row) if callable(task, p) => u8::from(row.converted()),
                _ => 2,
            });
            let matches_provider = provider.as_deref().is_none_or(|wanted| {
                shown
                    .iter()
                    .any(|p| p.provider.eq_ignore_ascii_case(wanted))
            });
            (!shown.is_empty() && matches_provider).then_some((m, shown))
        })
        .collect();
    if args.json {
        let items: Vec<Value> = rows
            .iter()
            .map(|(m, shown)| {
                json!({"ref": format!("huggingface/{}", m.id), "id": m.id, "task": task.label(),
                    "providers": shown.iter().map(|p| provider_json(task, p)).collect::<Vec<_>>()})
            })
            .collect();
        return print_json(&items);
    }
    if rows.is_empty() {
        ctx.messages.note(format!(
            "no {} model matches{}",
            task.label(),
            if args.all {
                ""
            } else {
                " (--all also lists models without a live provider)"
            }
        ));
        return Ok(());
    }
    let table = table_text(
        &["REF", "PROVIDERS"],
        &[],
        rows.iter(),
        |(m, shown), cells| {
            cells.push(&format!("huggingface/{}", m.id));
            cells.push(
                &shown
                    .iter()
                    .map(|p| {
                        if callable(task, p) {
                            p.provider.clone()
                        } else {
                            format!("{} ({}, {})", p.provider, p.task, p.status.as_str())
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        },
    );
    print_data(&format!("{table}\n"))
}

/// `models show` for a model the chat catalog does not know: its Hub mapping, when a
/// provider hfclaw can call serves it for a task. `Ok(false)`: not such a model (or the
/// Hub could not be asked), the caller reports it unknown.
pub fn show(
    ctx: &Context,
    view: &hfclaw_config_merge::OpenClawView,
    model_ref: &ModelRef,
    as_json: bool,
) -> CliResult<bool> {
    if ctx.global.offline || !model_ref.is_huggingface() {
        return Ok(false);
    }
    let token = ctx.token(view)?.map(|(token, _)| token);
    let client = ctx.client(view, token)?;
    let path = format!(
        "/api/models/{}?expand[]=inferenceProviderMapping",
        model_ref.model_id()
    );
    let answer = runtime()?.block_on(client.hub_get(&resolve_hub_url(&env), &path, None));
    let Ok(ListResponse::Fresh { body, .. }) = answer else {
        return Ok(false);
    };
    let Ok(mappings) = parse_model_mapping(&body) else {
        return Ok(false);
    };
    let task = Task::Embeddings;
    let pinned = model_ref.suffix().and_then(|s| s.provider());
    let Ok(found) = routes(task, &mappings, pinned) else {
        return Ok(false);
    };
    let order: Vec<&str> = found.iter().map(|r| r.provider.provider).collect();
    if as_json {
        print_json(&json!({
            "ref": model_ref.as_str(), "id": model_ref.model_id(), "task": task.label(),
            "order": order,
            "providers": mappings.iter().map(|m| provider_json(task, m)).collect::<Vec<_>>(),
        }))?;
        return Ok(true);
    }
    let table = table_text(
        &["PROVIDER", "PROVIDER ID", "STATUS", "TASK", "CALLED"],
        &[],
        mappings.iter(),
        |m, cells| {
            cells.push(&m.provider);
            cells.push(&m.provider_id);
            cells.push(m.status.as_str());
            cells.push(&m.task);
            cells.push(match order.iter().position(|p| *p == m.provider) {
                Some(i) => ["1st", "2nd", "3rd", "4th"]
                    .get(i)
                    .copied()
                    .unwrap_or("later"),
                None => "no",
            });
        },
    );
    print_data(&format!(
        "{model_ref}\ntask       {} (POST /v1/embeddings of `hfclaw serve`)\nproviders  {}\n\n{table}\n",
        task.label(),
        order.join(", ")
    ))?;
    Ok(true)
}
