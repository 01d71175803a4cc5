// Streams a chat completion from an OpenAI-compatible API and prints the tokens as they arrive.
//
//   node llm_stream.mjs [PROMPT] [--error-after N]
//   OPENAI_API_KEY=... node llm_stream.mjs [PROMPT] --base-url https://api.openai.com/v1
//
// Without --base-url it starts a local stand-in (../llm/fake_openai.py, with python3) and talks to
// it; --error-after N has that server fail after N tokens with an `event: error`, shown as an error
// line (exit status 1). The request is a POST with a JSON body, never sent twice: a cut connection
// ends the stream with an error. `data: [DONE]` ends it cleanly (sse_end_data), undelivered.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Stream } from 'tidewire';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'base-url': { type: 'string' },
    model: { type: 'string', default: 'gpt-4o-mini' },
    'error-after': { type: 'string' },
  },
});
const prompt = positionals[0] ?? 'Stream me a reply';

/** Prints the reply token by token; returns the exit status. */
async function complete(baseUrl, apiKey) {
  const body = { model: args.model, stream: true, messages: [{ role: 'user', content: prompt }] };
  const stream = new Stream(`${baseUrl}/chat/completions`, {
    transport: 'sse',
    http_method: 'POST',
    http_body: JSON.stringify(body),
    headers: { Authorization: `Bearer ${apiKey}` },
    sse_end_data: '[DONE]',
    read_timeout_ms: 30000, // a model silent this long has stalled: end (a POST is not re-sent)
  });
  try {
    for await (const event of stream) {
      if (event.type === 'error') {
        console.error(`\nerror: ${event.json().error?.message ?? event.text}`);
        return 1;
      }
      // The first chunk carries only the role, the last only finish_reason.
      for (const choice of event.json().choices) process.stdout.write(choice.delta.content ?? '');
    }
  } catch (error) {
    // A StreamError: .status is e.g. 401 for a wrong key.
    console.error(`\nthe stream failed: ${error.message}`);
    return 1;
  } finally {
    stream.close();
  }
  process.stdout.write('\n');
  return 0;
}

if (args['base-url']) {
  process.exitCode = await complete(args['base-url'].replace(/\/$/, ''), process.env.OPENAI_API_KEY ?? '');
} else {
  const script = fileURLToPath(new URL('../llm/fake_openai.py', import.meta.url));
  const extra = args['error-after'] === undefined ? [] : ['--error-after', args['error-after']];
  // The server exits when its stdin closes, so it never outlives this program.
  const server = spawn('python3', [script, ...extra], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = await Promise.race([
    once(createInterface({ input: server.stdout }), 'line'),
    once(server, 'exit').then(() => ['']),
  ]);
  if (!line.startsWith('PORT ')) {
    console.error('fake_openai.py did not start');
    process.exitCode = 1;
  } else {
    process.exitCode = await complete(`http://127.0.0.1:${line.split(' ')[1]}/v1`, 'sk-local');
  }
  server.stdin.end();
}
