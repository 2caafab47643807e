// The README's "any OpenAI SDK" recipe with the official Node SDK (`openai`, the copy
// OpenClaw ships): the client finds the gateway through OPENAI_BASE_URL and the key
// through OPENAI_API_KEY, nothing in code. Run by `cargo xtask interop` (agents.rs) with
// this file's dir holding a node_modules that has `openai`.
// Prints {"chat", "streamed", "responses"}: the three answers' text.
import OpenAI from "openai";

const client = new OpenAI({ maxRetries: 0 });
const messages = [{ role: "user", content: "say hi" }];

const chat = await client.chat.completions.create({ model: "qwen", messages });
let streamed = "";
const stream = await client.chat.completions.create({ model: "qwen", messages, stream: true });
for await (const chunk of stream) {
  streamed += chunk.choices[0]?.delta?.content ?? "";
}
const response = await client.responses.create({ model: "qwen", input: "say hi" });

console.log(
  JSON.stringify({
    chat: chat.choices[0].message.content,
    streamed,
    responses: response.output_text,
  }),
);
