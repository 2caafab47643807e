//! `hfclaw chat`: one prompt through the router, streamed, with real fallbacks.
//!
//! The answer streams to stdout; reasoning (with `--show-reasoning`), skipped models and
//! the closing line (`answered by … via cerebras · 1.8 s · 412 tokens · $0.0011`) go to
//! stderr. Each invocation is one row of the usage ledger (unless `--no-ledger`); the
//! price comes from the catalog's cached live data (SPEC §6).

use std::cell::RefCell;
use std::io::{IsTerminal, Read, Write};
use std::time::{Instant, SystemTime};

use hfclaw_accounting::{self as accounting, Api, Outcome, Row, format_usd, price_in_catalog};
use hfclaw_catalog::{Catalog, Needs};
use hfclaw_gateway::Api as GatewayApi;
use hfclaw_model_ref::{ChainError, ModelRef, Resolved, UserModels, Via};
use hfclaw_router_client::{
    AttemptError, ChainFailure, ChatEvent, ChatRequest, ErrorKind, FallbackPolicy, JsonBody,
    Message, RouterClient, RouterError, StopReason, Usage, run_chain,
};
use serde::Serialize;

use crate::args::ChatArgs;
use crate::context::{Context, runtime, user_models};
use crate::error::{CliError, CliResult};
use crate::output::{DIM, print_data, print_json};

/// The key label `hfclaw chat` rows are recorded under (gateway rows carry the client
/// key's label).
const CHAT_KEY_LABEL: &str = "hfclaw-chat";

/// What one model answered.
#[derive(Debug, Default, Serialize)]
struct Answer {
    content: String,
    reasoning: String,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    /// The router's `x-inference-provider`.
    provider: Option<String>,
    /// When the first event arrived.
    #[serde(skip)]
    first_event: Option<Instant>,
}

/// `--json` output.
#[derive(Debug, Serialize)]
struct JsonResult<'a> {
    #[serde(rename = "model")]
    model_ref: &'a str,
    fallback: usize,
    provider: Option<&'a str>,
    content: &'a str,
    reasoning: Option<&'a str>,
    finish_reason: Option<&'a str>,
    usage: Option<Usage>,
    cost_usd: Option<f64>,
    cost_estimated: Option<bool>,
    skipped: Vec<JsonSkip>,
    seconds: f64,
}

#[derive(Debug, Serialize)]
struct JsonSkip {
    #[serde(rename = "model")]
    model_ref: String,
    error: String,
}

/// Runs `chat`. With `--json` an error is a JSON object on stdout too (`{"error":
/// {"message", "hints"}, "skipped": [{"model", "error"}]}`), as an answer is.
pub fn run(ctx: &Context, args: &ChatArgs) -> CliResult {
    let mut skipped = Vec::new();
    let result = run_chat(ctx, args, &mut skipped);
    if let (true, Err(error)) = (args.json, &result) {
        print_json(&serde_json::json!({
            "error": {"message": error.message(), "hints": error.hints()},
            "skipped": skipped,
        }))?;
    }
    result
}

/// [`run`]; a failed chain leaves why each model was skipped in `skipped`.
fn run_chat(ctx: &Context, args: &ChatArgs, skipped: &mut Vec<JsonSkip>) -> CliResult {
    let prompt = read_prompt(args)?;
    let view = ctx.load_view()?;
    let user = user_models(&view);
    // The cached router list when there is one, as the other commands; never a fetch
    // before the first token. It resolves `--model` and prices the answer.
    let catalog = ctx.catalog(&view, false, false)?;
    let chain = chain(ctx, args, &catalog, &user)?;
    let Some((token, _)) = ctx.token(&view)? else {
        return Err(crate::context::no_token());
    };
    let client = ctx.client(&view, Some(token))?;
    let mut messages = Vec::new();
    if let Some(system) = &args.system {
        messages.push(Message::system(system.clone()));
    }
    messages.push(Message::user(prompt));
    let request = ChatRequest::new(String::new(), messages);
    let (chain, left_out) = fit(&catalog, chain, &request);
    for model in left_out {
        ctx.messages.note(format!("leaving out {model}"));
    }
    let ids: Vec<String> = chain
        .iter()
        .map(|r| r.router_model_id().to_owned())
        .collect();
    let started = Instant::now();
    let started_at = SystemTime::now();
    let policy = FallbackPolicy::default();
    // The last failure, so that moving on can say why, as it happens.
    let last_error: RefCell<Option<RouterError>> = RefCell::new(None);
    let outcome = runtime()?.block_on(run_chain(&ids, &policy, |attempt| {
        // An unreachable router is said once, at the end, not once per model.
        let unreachable = last_error
            .borrow()
            .as_ref()
            .is_some_and(|e| e.kind == ErrorKind::Network);
        if attempt.retry == 0 && attempt.index > 0 && !args.json && !unreachable {
            let why = last_error
                .borrow()
                .as_ref()
                .map_or_else(String::new, |e| format!(" ({})", reason(e)));
            ctx.messages.note(format!(
                "{} failed{why}; trying fallback #{}: {}",
                chain[attempt.index - 1],
                attempt.index,
                chain[attempt.index]
            ));
        }
        let last_error = &last_error;
        let request = request.with_model(attempt.model);
        let client = &client;
        async move {
            let result = stream_answer(client, request, args).await;
            if let Err(AttemptError::BeforeContent(e) | AttemptError::AfterContent(e)) = &result {
                *last_error.borrow_mut() = Some(e.clone());
            }
            result
        }
    }));
    let elapsed = started.elapsed().as_secs_f64();
    let mut row = Row {
        key: Some(CHAT_KEY_LABEL.to_owned()),
        total: started.elapsed(),
        streamed: true,
        ..Row::new(
            started_at,
            Api::Chat,
            args.model.as_deref().unwrap_or("default"),
        )
    };
    let success = match outcome {
        Ok(success) => success,
        Err(failure) => {
            if let Some(last) = failure.last_error() {
                row.outcome = Outcome::error(last.kind.as_str());
                row.status = last.status;
                row.fallback_index = failure
                    .skipped
                    .last()
                    .and_then(|s| u32::try_from(s.index).ok());
            }
            record(ctx, args, row);
            skipped.extend(failure.skipped.iter().map(|s| JsonSkip {
                model_ref: chain[s.index].to_string(),
                error: reason(&s.error),
            }));
            return Err(chain_error(&chain, &failure, client.base_url()));
        }
    };
    let skipped: Vec<JsonSkip> = success
        .skipped
        .iter()
        .map(|s| JsonSkip {
            model_ref: chain[s.index].to_string(),
            error: reason(&s.error),
        })
        .collect();
    let model_ref = &chain[success.index];
    let answer = success.value;
    let cost = answer_cost(&catalog, model_ref, &answer);
    row.answered_ref = Some(model_ref.to_string());
    row.provider.clone_from(&answer.provider);
    row.fallback_index = u32::try_from(success.index).ok();
    row.status = Some(200);
    row.usage = answer.usage.map(tokens);
    row.cost = cost;
    row.ttfb = answer.first_event.map(|t| t.duration_since(started));
    if args.json {
        let result = JsonResult {
            model_ref: model_ref.as_str(),
            fallback: success.index,
            provider: answer.provider.as_deref(),
            content: &answer.content,
            reasoning: (!answer.reasoning.is_empty()).then_some(answer.reasoning.as_str()),
            finish_reason: answer.finish_reason.as_deref(),
            usage: answer.usage,
            // A billionth of a dollar is far below anything billed; it hides float noise.
            cost_usd: cost.map(|c| (c.usd * 1e9).round() / 1e9),
            cost_estimated: cost.map(|c| c.estimated),
            skipped,
            seconds: (elapsed * 10.0).round() / 10.0,
        };
        let json = serde_json::to_string_pretty(&result)
            .map_err(|e| CliError::runtime(format!("encoding JSON: {e}")))?;
        print_data(&format!("{json}\n"))?;
        record(ctx, args, row);
        return Ok(());
    }
    if !answer.content.ends_with('\n') {
        print_data("\n")?;
    }
    if answer.finish_reason.as_deref() == Some("length") {
        ctx.messages
            .warn("the answer was cut off at the model's token limit");
    }
    ctx.messages.status(closing_line(&Closing {
        model_ref,
        provider: answer.provider.as_deref(),
        index: success.index,
        seconds: elapsed,
        usage: answer.usage,
        cost,
    }));
    record(ctx, args, row);
    Ok(())
}

/// The answer's cost at the serving provider's price; `None` without usage or price.
fn answer_cost(
    catalog: &Catalog,
    model_ref: &ModelRef,
    answer: &Answer,
) -> Option<accounting::Cost> {
    let usage = tokens(answer.usage?);
    let choice = price_in_catalog(catalog, model_ref, answer.provider.as_deref());
    accounting::cost(&usage, &choice)
}

/// The router client's usage as the ledger counts it (chat streams report no cache use).
fn tokens(usage: Usage) -> accounting::Usage {
    accounting::Usage {
        input_tokens: usage.prompt_tokens,
        output_tokens: usage.completion_tokens,
        cached_tokens: None,
        cache_write_tokens: None,
    }
}

/// Writes the invocation's row to the usage ledger; a ledger that cannot be used only
/// warns (the answer is already out).
fn record(ctx: &Context, args: &ChatArgs, row: Row) {
    if args.ledger.no_ledger {
        return;
    }
    let result = crate::ledger::spec_at(&args.ledger.location)
        .and_then(|spec| crate::ledger::open(&spec))
        .and_then(|ledger| {
            ledger.recorder().record(row);
            ledger.close().map_err(crate::error::CliError::from)
        });
    if let Err(e) = result {
        ctx.messages
            .warn(format!("usage not recorded: {}", e.message()));
        for hint in e.hints() {
            ctx.messages.note(hint);
        }
    }
}

/// The prompt: the argument, else stdin when it is not a terminal.
fn read_prompt(args: &ChatArgs) -> CliResult<String> {
    if let Some(prompt) = &args.prompt {
        return Ok(prompt.clone());
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(CliError::input("no prompt")
            .hint("pass it as an argument: hfclaw chat \"hello\", or pipe it on stdin"));
    }
    let mut prompt = String::new();
    stdin
        .lock()
        .read_to_string(&mut prompt)
        .map_err(|e| CliError::runtime(format!("reading the prompt from stdin: {e}")))?;
    if prompt.trim().is_empty() {
        return Err(CliError::input("the prompt on stdin is empty"));
    }
    Ok(prompt)
}

/// `--model` (or the default), then the fallbacks unless `--no-fallback`: the chain
/// `UserModels::chain` decides (the gateway's too); refs of other providers it leaves out
/// are said.
fn chain(
    ctx: &Context,
    args: &ChatArgs,
    catalog: &Catalog,
    user: &UserModels,
) -> CliResult<Vec<ModelRef>> {
    let first = match &args.model {
        Some(input) => Resolved {
            model_ref: ctx.resolve_model(input, user, catalog)?,
            via: Via::Ref,
            warnings: Vec::new(),
        },
        None => user.requested(None, catalog).map_err(chain_problem)?,
    };
    let chain = user
        .chain(&first, args.no_fallback)
        .map_err(chain_problem)?;
    for model_ref in &chain.left_out {
        ctx.messages
            .note(format!("leaving out {model_ref}: not a Hugging Face model"));
    }
    Ok(chain.refs)
}

/// The chain without the later models the catalog knows cannot serve `request` (image
/// input, tools), and those left out with why: the gateway's rule
/// (`hfclaw_catalog::unfit`, asking the chat API's reading of the body). A prompt of text
/// needs neither, so today nothing is left out; the rule is here so that the CLI and the
/// gateway cannot differ.
fn fit(
    catalog: &Catalog,
    chain: Vec<ModelRef>,
    request: &ChatRequest,
) -> (Vec<ModelRef>, Vec<String>) {
    let unfit = hfclaw_catalog::unfit(catalog, &chain, |wanted| {
        serde_json::to_vec(request)
            .ok()
            .and_then(|bytes| JsonBody::parse(bytes.into()).ok())
            .map_or_else(Needs::default, |body| GatewayApi::Chat.needs(&body, wanted))
    });
    let mut kept = Vec::with_capacity(chain.len());
    let mut left_out = Vec::new();
    for (i, model_ref) in chain.into_iter().enumerate() {
        match unfit.iter().find(|(u, _)| *u == i) {
            Some((_, lack)) => left_out.push(format!("{model_ref} ({lack})")),
            None => kept.push(model_ref),
        }
    }
    (kept, left_out)
}

/// Why there is no model to try, with what to do.
fn chain_problem(error: ChainError) -> CliError {
    match error {
        ChainError::NoDefault => CliError::input("no default model")
            .hint("pass --model REF, or set one with `hfclaw models set REF`"),
        ChainError::Resolve(e) => e.into(),
        ChainError::NotHuggingFace(model_ref) => CliError::input(format!(
            "{model_ref} is a model of provider \"{}\": `hfclaw chat` talks to Hugging Face",
            model_ref.provider()
        ))
        .hint("pass a huggingface/… ref, an org/model a catalog lists, or an alias"),
        other => CliError::input(other.to_string())
            .hint("set one with `hfclaw models set huggingface/deepseek-ai/DeepSeek-R1`"),
    }
}

/// One attempt: streams content to stdout as it arrives (unless `--json`).
async fn stream_answer(
    client: &RouterClient,
    request: ChatRequest,
    args: &ChatArgs,
) -> Result<Answer, AttemptError> {
    let mut stream = client.chat_stream(&request).await?;
    let mut answer = Answer {
        provider: stream.provider().map(str::to_owned),
        ..Answer::default()
    };
    let mut stdout = anstream::stdout();
    let mut stderr = anstream::stderr();
    while let Some(event) = stream.next_event().await {
        answer.first_event.get_or_insert_with(Instant::now);
        match event {
            Ok(ChatEvent::Content(text)) => {
                if !args.json {
                    // A closed stdout (`| head`) ends the output, not the program.
                    let _ = stdout
                        .write_all(text.as_bytes())
                        .and_then(|()| stdout.flush());
                }
                answer.content.push_str(&text);
            }
            Ok(ChatEvent::Reasoning(text)) => {
                if args.show_reasoning && !args.json {
                    let _ = write!(stderr, "{DIM}{text}{DIM:#}");
                }
                answer.reasoning.push_str(&text);
            }
            Ok(ChatEvent::Usage(usage)) => answer.usage = Some(usage),
            Ok(ChatEvent::Finish(reason)) => answer.finish_reason = Some(reason),
            Ok(ChatEvent::Done) => break,
            Ok(ChatEvent::Error(error)) | Err(error) => {
                return Err(if stream.emitted_content() {
                    AttemptError::AfterContent(error)
                } else {
                    AttemptError::BeforeContent(error)
                });
            }
        }
    }
    if args.show_reasoning && !answer.reasoning.is_empty() && !args.json {
        let _ = writeln!(stderr);
    }
    Ok(answer)
}

/// What the closing line reports.
struct Closing<'a> {
    model_ref: &'a ModelRef,
    provider: Option<&'a str>,
    index: usize,
    seconds: f64,
    usage: Option<Usage>,
    cost: Option<accounting::Cost>,
}

/// `answered by huggingface/… via cerebras (fallback 1) · 1.8 s · 412 tokens · $0.0011`
/// (`~$…` when the cost is estimated).
fn closing_line(c: &Closing<'_>) -> String {
    let mut line = format!("answered by {}", c.model_ref);
    if let Some(provider) = c.provider {
        line.push_str(&format!(" via {provider}"));
    }
    if c.index > 0 {
        line.push_str(&format!(" (fallback {})", c.index));
    }
    line.push_str(&format!(" · {:.1} s", c.seconds));
    if let Some(usage) = c.usage {
        line.push_str(&format!(" · {} tokens", usage.total_tokens));
    }
    if let Some(cost) = c.cost {
        line.push_str(&format!(" · {}", format_usd(cost.usd, cost.estimated)));
    }
    format!("{DIM}{line}{DIM:#}")
}

/// The error the user sees when no model answered: the last error, each skip as a hint;
/// a router no model could reach is said once, with the one hint that helps.
fn chain_error(chain: &[ModelRef], failure: &ChainFailure, base_url: &str) -> CliError {
    let Some(last) = failure.last_error() else {
        return CliError::input("no model to try");
    };
    if failure
        .skipped
        .iter()
        .all(|s| s.error.kind == ErrorKind::Network)
    {
        return unreachable_router(base_url, last);
    }
    let message = match failure.reason {
        StopReason::AfterContent => format!(
            "the answer broke off: {}",
            describe(chain, failure.skipped.len() - 1, failure, last)
        ),
        StopReason::Exhausted if failure.skipped.len() > 1 => {
            format!("all {} models failed", failure.skipped.len())
        }
        _ => describe(chain, failure.skipped.len() - 1, failure, last),
    };
    let mut error = match last.kind {
        ErrorKind::BadRequest => CliError::input(message),
        _ => CliError::runtime(message),
    };
    if failure.skipped.len() > 1 {
        for skip in &failure.skipped {
            error = error.hint(format!("{}: {}", chain[skip.index], reason(&skip.error)));
        }
    }
    error.hint(last.hint())
}

/// `cannot reach the router at URL (Connection refused)`.
fn unreachable_router(base_url: &str, error: &RouterError) -> CliError {
    let cause = error.cause();
    let message = if cause.is_empty() {
        format!("cannot reach the router at {base_url}")
    } else {
        format!("cannot reach the router at {base_url} ({cause})")
    };
    CliError::runtime(message).hint(
        "check the network and proxy settings, or the router URL (--router-url, \
         $HFCLAW_ROUTER_URL or models.providers.huggingface.baseUrl); `hfclaw doctor` checks it",
    )
}

fn describe(chain: &[ModelRef], i: usize, failure: &ChainFailure, error: &RouterError) -> String {
    let index = failure.skipped.get(i).map_or(0, |s| s.index);
    format!("{}: {}", chain[index], reason(error))
}

/// The error without its router model id (the user knows models by their refs).
fn reason(error: &RouterError) -> String {
    let mut error = error.clone();
    error.model = None;
    error.to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use hfclaw_catalog::{Model, Source};
    use hfclaw_router_client::Message;
    use serde_json::json;

    use super::*;

    #[test]
    fn the_chain_leaves_out_what_the_gateway_would() {
        let model = |id: &str, input: &[&str]| Model {
            input: input.iter().map(|i| (*i).to_owned()).collect(),
            ..Model::unknown(id.to_owned(), id.to_owned(), Source::Live)
        };
        let catalog = Catalog::merge(
            vec![
                model("a/text", &["text"]),
                model("a/vision", &["text", "image"]),
            ],
            None,
            &[],
        );
        let chain: Vec<ModelRef> = ["a/text", "a/text", "a/vision"]
            .iter()
            .map(|id| format!("huggingface/{id}").parse().unwrap())
            .collect();
        let text = ChatRequest::new("", vec![Message::user("hi".to_owned())]);
        assert_eq!(fit(&catalog, chain.clone(), &text), (chain.clone(), vec![]));
        let image = ChatRequest::new(
            "",
            vec![Message {
                role: "user".to_owned(),
                content: json!([{"type": "image_url", "image_url": {"url": "data:,"}}]),
            }],
        );
        let (kept, left_out) = fit(&catalog, chain.clone(), &image);
        assert_eq!(kept, [chain[0].clone(), chain[2].clone()]);
        assert_eq!(left_out, ["huggingface/a/text (no image input)"]);
    }
}
