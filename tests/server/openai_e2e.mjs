// End-to-end test of `dsv4 serve` with the official `openai` npm client:
//   node tests/server/openai_e2e.mjs <dsv4 binary> <model dir>
// Starts servers on free loopback ports (--port 0; the server prints the port), always kills them, and
// exits non-zero on the first failed check. A global timeout ends a hung run.
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';

let OpenAI;
try {
  ({ OpenAI } = await import('openai'));
} catch (e) {
  console.error(`the 'openai' npm package is missing (run scripts/setup.sh, which runs npm ci): ${e.message}`);
  process.exit(2);
}

const [bin, modelDir] = process.argv.slice(2);
if (!bin || !modelDir) {
  console.error('usage: openai_e2e.mjs <dsv4 binary> <model dir>');
  process.exit(2);
}
const servers = [];
process.on('exit', () => servers.forEach((s) => s.proc.kill('SIGKILL')));
const deadline = setTimeout(() => {
  console.error('FAIL: global timeout');
  process.exit(1);
}, 240_000);

async function startServer(args = []) {
  const proc = spawn(bin, ['serve', '-m', modelDir, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 60_000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.on('exit', (code) => reject(new Error(`server exited (${code}): ${err}`)));
  });
  const s = { proc, port, url: `http://127.0.0.1:${port}`, stderr: () => err };
  servers.push(s);
  return s;
}

function stopServer(s) {
  s.proc.kill('SIGTERM');
  return new Promise((resolve) => {
    const t = setTimeout(() => { s.proc.kill('SIGKILL'); resolve(); }, 5000);
    s.proc.on('exit', () => { clearTimeout(t); resolve(); });
  });
}

const client = (s, apiKey = 'none') => new OpenAI({ baseURL: `${s.url}/v1`, apiKey, maxRetries: 0, timeout: 60_000 });

let passed = 0;
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
  } catch (e) {
    console.error(`FAIL ${name}: ${e.stack || e}`);
    for (const s of servers) console.error(`server ${s.port} stderr: ${s.stderr()}`);
    process.exit(1);
  }
  passed += 1;
  console.log(`ok ${name} (${Date.now() - t0} ms)`);
}

async function expectError(promise, status, pattern) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.status, status, `status of ${e.message}`);
    assert.ok(e.error && typeof e.error.message === 'string', 'OpenAI-style error body');
    if (pattern) assert.match(e.error.message, pattern);
    return e;
  }
  assert.fail(`expected HTTP ${status}`);
}

// Collects a chat stream: content, reasoning, tool calls, finish reason, usage and the chunk count.
async function collectChat(stream) {
  const r = { content: '', reasoning: '', finish: null, usage: null, chunks: 0, logprobs: [] };
  for await (const c of stream) {
    r.chunks += 1;
    if (c.usage) r.usage = c.usage;
    for (const ch of c.choices) {
      if (ch.delta.content) r.content += ch.delta.content;
      if (ch.delta.reasoning_content) r.reasoning += ch.delta.reasoning_content;
      if (ch.finish_reason) r.finish = ch.finish_reason;
      if (ch.logprobs && ch.logprobs.content) r.logprobs.push(...ch.logprobs.content);
    }
  }
  return r;
}

const model = modelDir.split('/').filter(Boolean).pop();
const user = (text) => [{ role: 'user', content: text }];

const main = await startServer(['--parallel', '4', '--ctx', '2048', '--max-body-kib', '64']);
const api = client(main);

await check('health and models', async () => {
  const h = await (await fetch(`${main.url}/health`)).json();
  assert.equal(h.status, 'ok');
  const models = [];
  for await (const m of api.models.list()) models.push(m.id);
  assert.deepEqual(models, [model]);
});

let greedy;
await check('chat non-stream: content, finish_reason, usage', async () => {
  const r = await api.chat.completions.create({ model, messages: user('What is 2+2?'), max_tokens: 12, temperature: 0 });
  assert.equal(r.object, 'chat.completion');
  const c = r.choices[0];
  assert.equal(c.message.role, 'assistant');
  assert.equal(typeof c.message.content, 'string');
  assert.ok(['stop', 'length'].includes(c.finish_reason));
  assert.ok(r.usage.prompt_tokens > 0);
  assert.ok(r.usage.completion_tokens > 0 && r.usage.completion_tokens <= 12);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  if (c.finish_reason === 'length') assert.equal(r.usage.completion_tokens, 12);
  greedy = r;
});

await check('chat stream equals non-stream under greedy decoding; include_usage', async () => {
  const s = await collectChat(await api.chat.completions.create({
    model, messages: user('What is 2+2?'), max_tokens: 12, temperature: 0, stream: true,
    stream_options: { include_usage: true } }));
  assert.equal(s.content, greedy.choices[0].message.content);
  assert.equal(s.finish, greedy.choices[0].finish_reason);
  assert.equal(s.usage.completion_tokens, greedy.usage.completion_tokens);
  assert.equal(s.usage.prompt_tokens, greedy.usage.prompt_tokens);
  assert.ok(s.chunks >= 3);
});

await check('seed reproducibility', async () => {
  const ask = (seed) => api.chat.completions.create({ model, messages: user('Tell me a story'), max_tokens: 16,
    temperature: 1.0, seed }).then((r) => r.choices[0].message.content);
  const [a, b, c] = [await ask(11), await ask(11), await ask(12)];
  assert.equal(a, b);
  assert.notEqual(a, c);
});

await check('stop strings', async () => {
  const full = greedy.choices[0].message.content;
  assert.ok(full.length >= 4, `greedy output too short: ${JSON.stringify(full)}`);
  const stop = full.slice(2, 4);
  const r = await api.chat.completions.create({ model, messages: user('What is 2+2?'), max_tokens: 12, temperature: 0,
    stop: [stop] });
  assert.equal(r.choices[0].message.content, full.slice(0, full.indexOf(stop)));
  assert.equal(r.choices[0].finish_reason, 'stop');
});

await check('logprobs', async () => {
  const r = await api.chat.completions.create({ model, messages: user('Hi'), max_tokens: 5, temperature: 0,
    logprobs: true, top_logprobs: 2 });
  const lp = r.choices[0].logprobs.content;
  assert.equal(lp.length, r.usage.completion_tokens);
  for (const t of lp) {
    assert.ok(t.logprob <= 0);
    assert.equal(t.top_logprobs.length, 2);
    assert.equal(t.top_logprobs[0].logprob, t.logprob, 'greedy picks the most likely token');
  }
});

await check('completions: non-stream and stream agree', async () => {
  const r = await api.completions.create({ model, prompt: 'Once upon a time', max_tokens: 10, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  assert.ok(r.choices[0].text.length > 0);
  assert.ok(r.usage.prompt_tokens > 0 && r.usage.completion_tokens <= 10);
  let text = '';
  let finish = null;
  let usage = null;
  for await (const c of await api.completions.create({ model, prompt: 'Once upon a time', max_tokens: 10,
    temperature: 0, stream: true, stream_options: { include_usage: true } })) {
    for (const ch of c.choices) { text += ch.text; finish = ch.finish_reason || finish; }
    if (c.usage) usage = c.usage;
  }
  assert.equal(text, r.choices[0].text);
  assert.equal(finish, r.choices[0].finish_reason);
  assert.deepEqual(usage.completion_tokens, r.usage.completion_tokens);
});

await check('thinking: reasoning_content split, streamed as such', async () => {
  const body = { model, messages: user('Think about 2+2'), max_tokens: 10, temperature: 0,
    chat_template_kwargs: { thinking: true } };
  const r = await api.chat.completions.create(body);
  const m = r.choices[0].message;
  assert.equal(typeof m.reasoning_content, 'string');
  assert.ok(m.reasoning_content.length + (m.content || '').length > 0);
  const s = await collectChat(await api.chat.completions.create({ ...body, stream: true }));
  assert.equal(s.reasoning, m.reasoning_content);
  assert.equal(s.content, m.content);
  // Chat mode on the same question: no reasoning field.
  const plain = await api.chat.completions.create({ ...body, chat_template_kwargs: { thinking: false } });
  assert.equal(plain.choices[0].message.reasoning_content, undefined);
});

await check('errors: 400 / 404 / 413 with OpenAI error JSON', async () => {
  const bad = await fetch(`${main.url}/v1/chat/completions`, { method: 'POST', body: '{"model": ',
    headers: { 'Content-Type': 'application/json' } });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error.message, /not valid JSON/);
  const e = await expectError(api.chat.completions.create({ model, messages: user('x'), temperature: 'hot' }), 400,
    /temperature/);
  assert.equal(e.error.param, 'temperature');
  await expectError(api.chat.completions.create({ model, messages: 'hello' }), 400, /messages/);
  await expectError(api.chat.completions.create({ model: 'gpt-4o', messages: user('x') }), 404, /does not exist/);
  const long = await expectError(api.chat.completions.create({ model, messages: user('word '.repeat(5000)) }), 400,
    /maximum context length/);
  assert.equal(long.code, 'context_length_exceeded');
  await expectError(api.chat.completions.create({ model, messages: user('y'.repeat(100_000)) }), 413);
  const route = await fetch(`${main.url}/v1/nothing`);
  assert.equal(route.status, 404);
  assert.ok((await route.json()).error.message);
  await expectError(api.chat.completions.create({ model, messages: user('x'), n: 3 }), 400, /n = 1/);
});

// The schema subset the server constrains to (type, properties, required, items, enum, maxLength,
// minItems/maxItems): a small validator, so the check does not trust the server's own code.
function validate(v, s, path = '$') {
  const fail = (why) => { throw new Error(`${path}: ${why} (${JSON.stringify(v)})`); };
  if (s.enum) { if (!s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) fail('not in enum'); return; }
  switch (s.type) {
    case 'string': if (typeof v !== 'string') fail('not a string');
      if (s.maxLength !== undefined && v.length > s.maxLength) fail('too long'); break;
    case 'integer': if (!Number.isInteger(v)) fail('not an integer'); break;
    case 'number': if (typeof v !== 'number') fail('not a number'); break;
    case 'boolean': if (typeof v !== 'boolean') fail('not a boolean'); break;
    case 'array': if (!Array.isArray(v)) fail('not an array');
      if (s.minItems !== undefined && v.length < s.minItems) fail('too few items');
      if (s.maxItems !== undefined && v.length > s.maxItems) fail('too many items');
      v.forEach((x, i) => validate(x, s.items, `${path}[${i}]`)); break;
    case 'object': if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('not an object');
      for (const k of s.required || []) if (!(k in v)) fail(`missing ${k}`);
      for (const [k, x] of Object.entries(v)) if (s.properties && s.properties[k]) validate(x, s.properties[k], `${path}.${k}`);
      break;
    default: break;
  }
}
const weatherSchema = { type: 'object', properties: {
  city: { type: 'string', maxLength: 8 }, days: { type: 'integer' },
  unit: { type: 'string', enum: ['celsius', 'fahrenheit'] }, hourly: { type: 'boolean' },
  points: { type: 'array', items: { type: 'number' }, minItems: 1, maxItems: 2 } },
  required: ['city', 'days', 'unit', 'hourly', 'points'] };
const timeSchema = { type: 'object', properties: { zone: { type: 'string', enum: ['UTC', 'CET'] },
  offset: { type: 'integer' } }, required: ['zone', 'offset'] };
const tools = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather forecast', parameters: weatherSchema } },
  { type: 'function', function: { name: 'get_time', parameters: timeSchema } }];

await check('tool_choice required: random weights still produce schema-valid tool_calls', async () => {
    for (const seed of [1, 2, 3]) {
    const r = await api.chat.completions.create({ model, messages: user('Weather in Lisbon?'), tools,
      tool_choice: 'required', temperature: 1, seed, max_tokens: 400 });
    const c = r.choices[0];
    assert.equal(c.finish_reason, 'tool_calls', JSON.stringify(c));
    assert.equal(c.message.tool_calls.length, 1);
    const call = c.message.tool_calls[0];
    assert.match(call.id, /^call_/);
    assert.equal(call.type, 'function');
    const args = JSON.parse(call.function.arguments);
    assert.ok(['get_weather', 'get_time'].includes(call.function.name), call.function.name);
    validate(args, call.function.name === 'get_weather' ? weatherSchema : timeSchema);
    assert.ok(!(c.message.content || '').includes('DSML'), 'no raw DSML in the content');
  }
});

await check('tool_choice named, streamed: incremental argument deltas assemble to valid JSON', async () => {
  const stream = await api.chat.completions.create({ model, messages: user('Weather?'), tools, temperature: 1,
    seed: 9, max_tokens: 400, stream: true,
    tool_choice: { type: 'function', function: { name: 'get_weather' } } });
  const calls = [];
  let deltas = 0;
  let finish = null;
  let content = '';
  for await (const c of stream) {
    for (const ch of c.choices) {
      finish = ch.finish_reason || finish;
      content += ch.delta.content || '';
      for (const t of ch.delta.tool_calls || []) {
        if (!calls[t.index]) calls[t.index] = { id: t.id, name: t.function.name, args: '' };
        calls[t.index].args += t.function.arguments || '';
        deltas += 1;
      }
    }
  }
  assert.equal(finish, 'tool_calls');
  assert.equal(content, '');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].name, 'get_weather');
  assert.ok(deltas >= 3, `arguments came in ${deltas} deltas`);
  validate(JSON.parse(calls[0].args), weatherSchema);
});

await check('response_format json_schema and json_object: output parses and validates', async () => {
  for (const seed of [1, 2]) {
    const r = await api.chat.completions.create({ model, messages: user('Give me JSON'), temperature: 1, seed,
      max_tokens: 400, response_format: { type: 'json_schema', json_schema: { name: 'w', schema: weatherSchema } } });
    assert.equal(r.choices[0].finish_reason, 'stop');
    validate(JSON.parse(r.choices[0].message.content), weatherSchema);
    const o = await api.chat.completions.create({ model, messages: user('Give me JSON'), temperature: 1, seed,
      max_tokens: 400, response_format: { type: 'json_object' } });
    const v = JSON.parse(o.choices[0].message.content);
    assert.equal(typeof v, 'object');
    assert.ok(!Array.isArray(v) && v !== null);
  }
  await expectError(api.chat.completions.create({ model, messages: user('x'),
    response_format: { type: 'json_schema', json_schema: { name: 'w', schema: { anyOf: [] } } } }), 400, /anyOf/);
  await expectError(api.chat.completions.create({ model, messages: user('x'), tools,
    tool_choice: { type: 'function', function: { name: 'nope' } } }), 400, /nope/);
});

let turn2;
await check('prefix reuse: cached tokens, identical greedy output with and without reuse', async () => {
  const single = await startServer(['--parallel', '1', '--ctx', '512']);
  const one = client(single);
  const first = await one.chat.completions.create({ model, messages: user('Hello there'), max_tokens: 8, temperature: 0 });
  const messages = [...user('Hello there'), { role: 'assistant', content: first.choices[0].message.content },
    ...user('And then?')];
  const reused = await one.chat.completions.create({ model, messages, max_tokens: 12, temperature: 0 });
  assert.ok(reused.usage.prompt_tokens_details.cached_tokens > first.usage.prompt_tokens / 2,
    `cached ${reused.usage.prompt_tokens_details.cached_tokens} of ${reused.usage.prompt_tokens}`);
  const fresh = await startServer(['--parallel', '1', '--ctx', '512']);
  const cold = await client(fresh).chat.completions.create({ model, messages, max_tokens: 12, temperature: 0 });
  assert.equal(cold.usage.prompt_tokens_details.cached_tokens, 0);
  assert.equal(reused.choices[0].message.content, cold.choices[0].message.content);
  await stopServer(single);
  await stopServer(fresh);
  turn2 = { messages, content: cold.choices[0].message.content };
});

await check('batched with other sessions = alone (greedy)', async () => {
  const others = ['Write a poem', 'Count to ten', 'Name a color'].map((q) =>
    api.chat.completions.create({ model, messages: user(q), max_tokens: 24, temperature: 0.7, seed: 3, stream: true })
      .then(collectChat));
  const mine = api.chat.completions.create({ model, messages: turn2.messages, max_tokens: 12, temperature: 0 });
  const [r] = await Promise.all([mine, ...others]);
  assert.equal(r.choices[0].message.content, turn2.content);
});

await check('api key: 401 without it, 200 with it', async () => {
  const locked = await startServer(['--api-key', 'sekrit']);
  await expectError(client(locked, 'wrong').chat.completions.create({ model, messages: user('x'), max_tokens: 2 }), 401);
  const r = await client(locked, 'sekrit').chat.completions.create({ model, messages: user('x'), max_tokens: 2 });
  assert.ok(r.choices.length === 1);
  assert.equal((await fetch(`${locked.url}/health`)).status, 200);
  await stopServer(locked);
});

// The server's /health, and a poll of it until `pred` holds or `ms` pass (then the last answer).
function healthWatch(server) {
  const health = async () => (await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(20_000) })).json();
  const waitFor = async (pred, ms) => {
    const t0 = Date.now();
    let h = await health();
    while (!pred(h) && Date.now() - t0 < ms) {
      await new Promise((r) => setTimeout(r, 50));
      h = await health();
    }
    return h;
  };
  return { health, waitFor };
}

await check('queue full → 429; clients that disconnect (running or queued) free their place', async () => {
  const tight = await startServer(['--parallel', '1', '--max-queue', '1', '--ctx', '1024']);
  const c = client(tight);
  const { health, waitFor } = healthWatch(tight);
  // min_tokens: neither stream may end (EOS) before the check is done with it.
  const long = (signal) => c.chat.completions.create({ model, messages: user('Go on and on'), max_tokens: 900,
    min_tokens: 900, temperature: 1, stream: true }, { signal });
  const within = (p, what) => {
    let timer;
    const limit = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), 20_000); });
    return Promise.race([p, limit]).finally(() => clearTimeout(timer));
  };
  const a = new AbortController();
  const b = new AbortController();
  const running = (await within(long(a.signal), 'stream A'))[Symbol.asyncIterator]();
  await within(running.next(), 'first chunk of A');  // the only session is busy now
  const queued = (await within(long(b.signal), 'stream B'))[Symbol.asyncIterator]();
  const before = await waitFor((h) => h.queued === 1, 5000);
  assert.equal(before.queued, 1);
  await expectError(c.chat.completions.create({ model, messages: user('x'), max_tokens: 2 }), 429);
  b.abort();
  await within(queued.next().catch(() => {}), 'B after its abort');
  await new Promise((r) => setTimeout(r, 1500));  // the queued stream's keep-alive finds the closed socket
  a.abort();
  await within(running.next().catch(() => {}), 'A after its abort');
  const t0 = Date.now();
  const h = await waitFor((x) => x.active === 0 && x.queued === 0, 10_000);
  assert.equal(h.active, 0, 'the aborted stream still holds its session');
  assert.equal(h.queued, 0);
  // On a fast machine A (900 tokens of the tiny model) may end on its own before its abort: that is one
  // completion. The cancelled queued request B must not add another.
  assert.ok(h.completed - before.completed <= 1, 'the cancelled queued request ran to completion anyway');
  console.log(`  session freed ${Date.now() - t0} ms after the disconnect`);
  const r = await c.chat.completions.create({ model, messages: user('x'), max_tokens: 2 });
  assert.equal(r.choices.length, 1);
  await stopServer(tight);
});

await check('a non-streaming client that disconnects frees its session', async () => {
  const solo = await startServer(['--parallel', '1', '--ctx', '4096']);
  const { health, waitFor } = healthWatch(solo);
  const before = await health();
  const a = new AbortController();
  // 4000 tokens: far more than any machine decodes before the abort is noticed.
  const pending = client(solo).chat.completions.create({ model, messages: user('Go on and on'), max_tokens: 4000,
    min_tokens: 4000, temperature: 1 }, { signal: a.signal }).catch(() => 'aborted');
  assert.equal((await waitFor((h) => h.active === 1, 10_000)).active, 1);
  a.abort();
  assert.equal(await pending, 'aborted');
  const t0 = Date.now();
  const h = await waitFor((x) => x.active === 0, 10_000);
  assert.equal(h.active, 0, 'the aborted request still holds its session');
  assert.equal(h.completed, before.completed, 'the aborted request ran to completion anyway');
  console.log(`  session freed ${Date.now() - t0} ms after the disconnect`);
  await stopServer(solo);
});

await stopServer(main);
clearTimeout(deadline);
console.log(`all ${passed} checks passed`);
process.exit(0);
