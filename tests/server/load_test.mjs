// Bounded load test of `dsv4 serve` on loopback: CLIENTS concurrent streaming clients × REQUESTS requests
// each, through the official `openai` client. Reports failures, throughput and the server's RSS before and
// after; exits non-zero on any failure or when memory grew beyond the allowance.
//   node tests/server/load_test.mjs <dsv4 binary> <model dir> [--clients 16] [--requests 10]
//        [--parallel 4] [--max-tokens 16] [--rss-allowance-mib 64]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

let OpenAI;
try {
  ({ OpenAI } = await import('openai'));
} catch (e) {
  console.error(`the 'openai' npm package is missing (run scripts/setup.sh, which runs npm ci): ${e.message}`);
  process.exit(2);
}

const args = process.argv.slice(2);
const [bin, modelDir] = args;
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const clients = opt('clients', 16);
const requests = opt('requests', 10);
const parallel = opt('parallel', 4);
const maxTokens = opt('max-tokens', 16);
const allowanceMiB = opt('rss-allowance-mib', 64);

const proc = spawn(bin, ['serve', '-m', modelDir, '--port', '0', '--parallel', String(parallel), '--ctx', '512',
  '--max-queue', String(clients * 2)], { stdio: ['ignore', 'pipe', 'pipe'] });
process.on('exit', () => proc.kill('SIGKILL'));
setTimeout(() => { console.error('FAIL: global timeout'); process.exit(1); }, 600_000);
let err = '';
proc.stderr.on('data', (d) => (err += d));
const port = await new Promise((resolve, reject) => {
  let out = '';
  proc.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    if (m) resolve(Number(m[1]));
  });
  proc.on('exit', (code) => reject(new Error(`server exited (${code}): ${err}`)));
});
const rssMiB = () => {
  const m = readFileSync(`/proc/${proc.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]) / 1024;
};
const model = modelDir.split('/').filter(Boolean).pop();
const api = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'none', maxRetries: 0, timeout: 120_000 });

async function one(client, i) {
  const stream = await api.chat.completions.create({
    model, messages: [{ role: 'user', content: `Client ${client} asks question ${i}: tell me something.` }],
    max_tokens: maxTokens, temperature: 0.8, seed: client * 1000 + i, stream: true,
    stream_options: { include_usage: true } });
  let tokens = 0;
  let finish = null;
  for await (const c of stream) {
    if (c.usage) tokens = c.usage.completion_tokens;
    for (const ch of c.choices) finish = ch.finish_reason || finish;
  }
  if (!finish) throw new Error('no finish_reason');
  return tokens;
}

async function round(label, requests) {
  let failures = 0;
  let tokens = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    for (let i = 0; i < requests; i += 1) {
      try {
        const t = await one(c, i);
        tokens += t;
      } catch (e) {
        failures += 1;
        console.error(`${label}: client ${c} request ${i}: ${e.message}`);
      }
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  return { failures, tokens, seconds };
}

// A short warm-up (one request per client) brings every session and thread pool to its working size before the baseline.
await round('warm-up', 1);
const before = rssMiB();
const r = await round('load', requests);
const after = rssMiB();
const health = await (await fetch(`http://127.0.0.1:${port}/health`)).json();
const n = clients * requests;
console.log(`load: ${clients} clients x ${requests} streaming requests (parallel ${parallel}, max_tokens ${maxTokens}): ` +
  `${n - r.failures}/${n} ok, ${r.failures} failed, ${r.seconds.toFixed(2)} s, ${(n / r.seconds).toFixed(1)} req/s, ` +
  `${(r.tokens / r.seconds).toFixed(1)} generated tok/s`);
console.log(`server RSS: ${before.toFixed(1)} MiB before, ${after.toFixed(1)} MiB after ` +
  `(${(after - before >= 0 ? '+' : '')}${(after - before).toFixed(1)} MiB); active ${health.active}, queued ${health.queued}`);
proc.kill('SIGTERM');
if (r.failures > 0 || after - before > allowanceMiB || health.active !== 0 || health.queued !== 0) {
  console.error('FAIL');
  process.exit(1);
}
console.log('load test passed');
process.exit(0);
