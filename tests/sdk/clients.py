"""The official SDKs as clients of `hfclaw serve` (run by tests/tests/sdk_clients.rs and
tests/tests/serve_embeddings.rs).

Usage: python clients.py GATEWAY_URL CLIENT_KEY CASE...
Prints one JSON object: per case, what the SDK returned (or the exception it raised).
One process runs every case: importing the SDKs is most of the time.
"""

import json
import sys


def anthropic_client(url, key):
    import anthropic


    # The way Claude Code is pointed at a gateway: ANTHROPIC_BASE_URL without /v1.
    return anthropic.Anthropic(base_url=url, api_key=key, max_retries=0)


def openai_client(url, key):
    import openai


    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)


def messages_create(url, key):
    message = anthropic_client(url, key).messages.create(
        model="qwen",
        max_tokens=64,
        messages=[{"role": "user", "content": "hi"}],
    )
    return {
        "text": "".join(block.text for block in message.content if block.type == "text"),
        "model": message.model,
        "stop_reason": message.stop_reason,
        "output_tokens": message.usage.output_tokens,
    }


def messages_stream(url, key):
    client = anthropic_client(url, key)
    with client.messages.stream(
        model="default",
        max_tokens=64,
        messages=[{"role": "user", "content": "hi"}],
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    return {
        "pieces": pieces,
        "text": "".join(block.text for block in final.content if block.type == "text"),
        "stop_reason": final.stop_reason,
        "output_tokens": final.usage.output_tokens,
    }


def messages_not_found(url, key):
    try:
        anthropic_client(url, key).messages.create(
            # Not a `claude-*` name: the gateway routes those to the default (issue 20).
            model="no-such/model-anywhere",
            max_tokens=8,
            messages=[{"role": "user", "content": "hi"}],
        )
    except Exception as e:  # anthropic.APIStatusError, imported lazily
        if not hasattr(e, "status_code"):
            raise
        return {"error": type(e).__name__, "status": e.status_code, "type": e.body["error"]["type"]}
    return {"error": None}


def messages_bad_key(url, key):
    try:
        anthropic_client(url, "wrong-key").messages.create(
            model="qwen", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
        )
    except Exception as e:  # anthropic.APIStatusError, imported lazily
        if not hasattr(e, "status_code"):
            raise
        return {"error": type(e).__name__, "status": e.status_code, "type": e.body["error"]["type"]}
    return {"error": None}


def responses_create(url, key):
    response = openai_client(url, key).responses.create(model="r1", input="hi")
    return {
        "text": response.output_text,
        "status": response.status,
        "output_tokens": response.usage.output_tokens,
    }


def responses_stream(url, key):
    stream = openai_client(url, key).responses.create(model="r1", input="hi", stream=True)
    deltas = []
    completed = None
    for event in stream:
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
        elif event.type == "response.completed":
            completed = event.response
    return {
        "deltas": deltas,
        "text": completed.output_text if completed else None,
        "output_tokens": completed.usage.output_tokens if completed else None,
    }


def responses_rate_limited(url, key):
    try:
        openai_client(url, key).responses.create(model="huggingface/a/limited", input="hi")
    except Exception as e:  # openai.APIStatusError, imported lazily
        if not hasattr(e, "status_code"):
            raise
        return {"error": type(e).__name__, "status": e.status_code, "code": e.code}
    return {"error": None}


def chat_stream(url, key):
    stream = openai_client(url, key).chat.completions.create(
        model="qwen",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
    )
    text = ""
    for chunk in stream:
        for choice in chunk.choices:
            text += choice.delta.content or ""
    return {"text": text}


def refused_at_once(call, errors):
    """A call refused by a spent budget, with the SDK's default retries: it must return at
    once (the gateway says `x-should-retry: false` and no long `Retry-After`)."""
    import time

    started = time.monotonic()
    try:
        call()
        return {"error": None}
    except errors as e:
        return {
            "error": type(e).__name__,
            "status": e.status_code,
            "at_once": time.monotonic() - started < 3,
        }


def budget_refused_messages(url, key):
    import anthropic

    client = anthropic.Anthropic(base_url=url, api_key=key)  # default retries
    return refused_at_once(
        lambda: client.messages.create(
            model="r1", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        ),
        anthropic.APIStatusError,
    )


def budget_refused_chat(url, key):
    import openai

    client = openai.OpenAI(base_url=url + "/v1", api_key=key)  # default retries
    return refused_at_once(
        lambda: client.chat.completions.create(
            model="r1", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        ),
        openai.APIStatusError,
    )


def embeddings_create(url, key):
    # What OpenClaw's memory search sends: a list of texts, floats.
    answer = openai_client(url, key).embeddings.create(
        model="huggingface/BAAI/bge-m3", input=["hello", "world"], encoding_format="float"
    )
    return {
        "vectors": [item.embedding for item in answer.data],
        "indexes": [item.index for item in answer.data],
        "model": answer.model,
        "prompt_tokens": answer.usage.prompt_tokens,
    }


def embeddings_default(url, key):
    # The SDK's default: it asks for base64 and decodes it to floats itself.
    client = openai_client(url, key)
    answer = client.embeddings.create(model="BAAI/bge-m3:hf-inference", input="one")
    return {"vectors": [item.embedding for item in answer.data]}


def embeddings_not_supported(url, key):
    try:
        openai_client(url, key).embeddings.create(model="deepseek-ai/DeepSeek-R1", input="hi")
    except Exception as e:  # openai.NotFoundError, imported lazily
        if not hasattr(e, "status_code"):
            raise
        return {"error": type(e).__name__, "status": e.status_code, "code": e.code}
    return {"error": None}


CASES = {
    name: fn
    for name, fn in globals().items()
    if callable(fn)
    and name.split("_")[0] in ("messages", "responses", "chat", "budget", "embeddings")
}

if __name__ == "__main__":
    url, key, *cases = sys.argv[1:]
    print(json.dumps({case: CASES[case](url, key) for case in cases}))
