#!/usr/bin/env node
// Cold start of the sidecar: spawn → `initialize` response, over real pipes, N runs, median and spread.
//
//   node scripts/cold-start.mjs [--runs 20] [--jit PATH.dll] [--aot PATH]
//
// Defaults: the Release JIT build (src/OAuthSidecar/bin/Release/net10.0/oauth-sidecar.dll, run by dotnet) and the
// NativeAOT build (artifacts/aot/oauth-sidecar), each measured when present. Build them with
// `npm run build` first.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const runs = Number(option('--runs', '20'));
const jit = option('--jit', path.join(root, 'src/OAuthSidecar/bin/Release/net10.0/oauth-sidecar.dll'));
const aot = option('--aot', path.join(root, 'artifacts/aot/oauth-sidecar'));

function frame(message) {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

/** One run: milliseconds from spawn to the complete `initialize` response. */
function once(command, commandArgs) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, commandArgs, { stdio: ['pipe', 'pipe', 'ignore'] });
    let buffer = Buffer.alloc(0);
    let done = false;
    child.on('error', reject);
    const timer = setTimeout(() => { child.kill(); reject(new Error('no initialize response within 30 s')); }, 30_000);
    child.stdout.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (!done) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, end).toString('latin1'))[1]);
        if (buffer.length < end + 4 + length) return;
        const message = JSON.parse(buffer.subarray(end + 4, end + 4 + length).toString('utf8'));
        buffer = buffer.subarray(end + 4 + length);
        if (message.id !== 1) continue; // a notification (window/logMessage)
        done = true;
        const elapsed = performance.now() - start;
        clearTimeout(timer);
        child.stdin.end();
        child.on('exit', () => resolve(elapsed));
      }
    });
    child.stdin.write(frame({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { clientInfo: { name: 'cold-start' } } }));
  });
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function measure(label, command, commandArgs) {
  await once(command, commandArgs); // warm-up: file cache
  const times = [];
  for (let i = 0; i < runs; i++) times.push(await once(command, commandArgs));
  times.sort((a, b) => a - b);
  const f = (x) => x.toFixed(1).padStart(7);
  console.log(`${label.padEnd(10)} median ${f(quantile(times, 0.5))} ms   min ${f(times[0])} ms   p90 ${f(quantile(times, 0.9))} ms   (${runs} runs)`);
}

console.log('Cold start: spawn → initialize response');
if (existsSync(jit)) await measure('JIT', 'dotnet', [jit]);
else console.log(`JIT        not built (${path.relative(root, jit)}): run npm run build`);
if (existsSync(aot)) await measure('NativeAOT', aot, []);
else console.log(`NativeAOT  not built (${path.relative(root, aot)}): run npm run build`);
