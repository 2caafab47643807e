//! `hfclaw chat`: one prompt through the router, streamed, with real fallbacks.
//!
//! The answer streams to stdout; reasoning (with `--show-reasoning`), skipped models and
//! the closing line (`answered by … · 1.8 s · 412 tokens`) go to stderr.

use std::cell::RefCell;
use std::io::{IsTerminal, Read, Write};
use std::time::Instant;

use hfclaw_config_merge::OpenClawView;
use hfclaw_model_ref::ModelRef;
use hfclaw_router_client::{
    AttemptError, ChainFailure, ChatEvent, ChatRequest, ErrorKind, FallbackPolicy, Message,
    RouterClient, RouterError, StopReason, Usage, run_chain,
};
use serde::Serialize;

use crate::args::ChatArgs;
use crate::context::{Context, UserModels, runtime};
use crate::error::{CliError, CliResult};
use crate::output::{DIM, print_data};

/// What one model answered.
#[derive(Debug, Default, Serialize)]
struct Answer {
    content: String,
    reasoning: String,
    finish_reason: Option<String>,
    usage: Option<Usage>,
}

/// `--json` output.
#[derive(Debug, Serialize)]
struct JsonResult<'a> {
    #[serde(rename = "model")]
    model_ref: &'a str,
    fallback: usize,
    content: &'a str,
    reasoning: Option<&'a str>,
    finish_reason: Option<&'a str>,
    usage: Option<Usage>,
    skipped: Vec<JsonSkip>,
    seconds: f64,
}

#[derive(Debug, Serialize)]
struct JsonSkip {
    #[serde(rename = "model")]
    model_ref: String,
    error: String,
}

/// Runs `chat`.
pub fn run(ctx: &Context, args: &ChatArgs) -> CliResult {
    let prompt = read_prompt(args)?;
    let view = ctx.load_view()?;
    let user = UserModels::from_view(&view);
    let chain = chain(ctx, args, &view, &user)?;
    let Some((token, _)) = ctx.token(&view)? else {
        return Err(CliError::input("no Hugging Face token found").hint(
            "run `hfclaw onboard`, set HF_TOKEN, or pass --token (see `hfclaw models status`)",
        ));
    };
    let client = ctx.client(&view, Some(token))?;
    let mut messages = Vec::new();
    if let Some(system) = &args.system {
        messages.push(Message::system(system.clone()));
    }
    messages.push(Message::user(prompt));
    let request = ChatRequest::new(String::new(), messages);
    let ids: Vec<String> = chain
        .iter()
        .map(|r| r.router_model_id().to_owned())
        .collect();
    let started = Instant::now();
    let policy = FallbackPolicy::default();
    // The last failure, so that moving on can say why, as it happens.
    let last_error: RefCell<Option<RouterError>> = RefCell::new(None);
    let outcome = runtime()?.block_on(run_chain(&ids, &policy, |attempt| {
        if attempt.retry == 0 && attempt.index > 0 && !args.json {
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
    let success = outcome.map_err(|failure| chain_error(&chain, &failure))?;
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
    if args.json {
        let result = JsonResult {
            model_ref: model_ref.as_str(),
            fallback: success.index,
            content: &answer.content,
            reasoning: (!answer.reasoning.is_empty()).then_some(answer.reasoning.as_str()),
            finish_reason: answer.finish_reason.as_deref(),
            usage: answer.usage,
            skipped,
            seconds: (elapsed * 10.0).round() / 10.0,
        };
        let json = serde_json::to_string_pretty(&result)
            .map_err(|e| CliError::runtime(format!("encoding JSON: {e}")))?;
        return print_data(&format!("{json}\n"));
    }
    if !answer.content.ends_with('\n') {
        print_data("\n")?;
    }
    if answer.finish_reason.as_deref() == Some("length") {
        ctx.messages
            .warn("the answer was cut off at the model's token limit");
    }
    ctx.messages.status(closing_line(
        model_ref,
        success.index,
        elapsed,
        answer.usage,
    ));
    Ok(())
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

/// `--model` (or the default), then the fallbacks unless `--no-fallback`; duplicates and
/// refs the router cannot serve (other providers) are left out.
fn chain(
    ctx: &Context,
    args: &ChatArgs,
    view: &OpenClawView,
    user: &UserModels,
) -> CliResult<Vec<ModelRef>> {
    let first = match &args.model {
        Some(input) => {
            // The cached router list when there is one, as the other commands; never a
            // fetch before the first token.
            let catalog = ctx.catalog(view, user, false, false)?;
            ctx.resolve_model(input, user, &catalog)?
        }
        None => user.primary.clone().ok_or_else(|| {
            CliError::input("no default model")
                .hint("pass --model REF, or set one with `hfclaw models set REF`")
        })?,
    };
    let mut chain = vec![first];
    if !args.no_fallback {
        for fallback in &user.fallbacks {
            if !chain.contains(fallback) {
                chain.push(fallback.clone());
            }
        }
    }
    chain.retain(|r| {
        if r.is_huggingface() {
            return true;
        }
        ctx.messages
            .note(format!("leaving out {r}: not a Hugging Face model"));
        false
    });
    if chain.is_empty() {
        return Err(CliError::input("no Hugging Face model to try")
            .hint("set one with `hfclaw models set huggingface/deepseek-ai/DeepSeek-R1`"));
    }
    Ok(chain)
}

/// One attempt: streams content to stdout as it arrives (unless `--json`).
async fn stream_answer(
    client: &RouterClient,
    request: ChatRequest,
    args: &ChatArgs,
) -> Result<Answer, AttemptError> {
    let mut stream = client.chat_stream(&request).await?;
    let mut answer = Answer::default();
    let mut stdout = anstream::stdout();
    let mut stderr = anstream::stderr();
    while let Some(event) = stream.next_event().await {
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

/// `answered by huggingface/… (fallback 1) · 1.8 s · 412 tokens`
fn closing_line(model_ref: &ModelRef, index: usize, seconds: f64, usage: Option<Usage>) -> String {
    let mut line = format!("answered by {model_ref}");
    if index > 0 {
        line.push_str(&format!(" (fallback {index})"));
    }
    line.push_str(&format!(" · {seconds:.1} s"));
    if let Some(usage) = usage {
        line.push_str(&format!(" · {} tokens", usage.total_tokens));
    }
    format!("{DIM}{line}{DIM:#}")
}

/// The error the user sees when no model answered: the last error, each skip as a hint.
fn chain_error(chain: &[ModelRef], failure: &ChainFailure) -> CliError {
    let Some(last) = failure.last_error() else {
        return CliError::input("no model to try");
    };
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
