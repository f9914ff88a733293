#!/usr/bin/env node
// node scripts/gen-clients.mjs [--check]
//
// Generates the clients' protocol types from the OpenRPC schema (schema/oauth-sidecar.openrpc.json, itself
// generated from the C# contract by `oauth-sidecar schema`): one source for every client.
//   clients/node/src/protocol.ts                 shapes, typed requests and notifications, method lists, errors
//   clients/python/oauth_sidecar/_types.py       dataclasses, Literal types, method tables
//   clients/python/oauth_sidecar/_callbacks.py   on_<notification>() registration methods
//   clients/python/oauth_sidecar/_error_codes.py one exception class per error code
//   docs/PROTOCOL.md, clients/python/README.md   the tables of error codes (between markers)
// The outputs are committed. --check writes nothing: it lists the files that differ from what the schema
// generates and exits 1 if any does (the clients' tests run it). `npm run schema` runs this after the schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './lib.mjs';
import { protocolErrorTable, splice } from './gen-clients/docs.mjs';
import { ProtocolModel } from './gen-clients/model.mjs';
import { pythonCallbacks, pythonErrors, pythonErrorTable, pythonTypes } from './gen-clients/python.mjs';
import { typescript } from './gen-clients/typescript.mjs';

export const SCHEMA_PATH = join(ROOT, 'schema', 'oauth-sidecar.openrpc.json');

/** Every generated file: its path (from the repository root) and its content, for a given OpenRPC document. */
export function generate(doc, read = (path) => readFileSync(join(ROOT, path), 'utf8')) {
  const model = new ProtocolModel(doc);
  const spliced = (path, name, content) => ({ path, text: splice(read(path), name, content, path) });
  return [
    { path: 'clients/node/src/protocol.ts', text: typescript(model) },
    { path: 'clients/python/oauth_sidecar/_types.py', text: pythonTypes(model) },
    { path: 'clients/python/oauth_sidecar/_callbacks.py', text: pythonCallbacks(model) },
    { path: 'clients/python/oauth_sidecar/_error_codes.py', text: pythonErrors(model) },
    spliced('docs/PROTOCOL.md', 'errors', protocolErrorTable(model)),
    spliced('clients/python/README.md', 'errors', pythonErrorTable(model)),
  ];
}

/** The generated files whose committed content differs. */
export function staleFiles(doc = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'))) {
  return generate(doc).filter(({ path, text }) => {
    try {
      return readFileSync(join(ROOT, path), 'utf8') !== text;
    } catch {
      return true;
    }
  }).map(({ path }) => path);
}

function main(argv) {
  const check = argv.includes('--check');
  const doc = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'));
  if (check) {
    const stale = staleFiles(doc);
    if (stale.length) {
      process.stderr.write(`Generated from the schema but stale (run node scripts/gen-clients.mjs, or npm run schema, and commit):\n${stale.map((p) => `  ${p}`).join('\n')}\n`);
      return 1;
    }
    process.stdout.write('The generated client files are up to date with the schema.\n');
    return 0;
  }
  for (const { path, text } of generate(doc)) {
    const file = join(ROOT, path);
    let old;
    try {
      old = readFileSync(file, 'utf8');
    } catch {
      old = undefined;
    }
    if (old !== text) {
      writeFileSync(file, text);
      process.stdout.write(`wrote ${path}\n`);
    }
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
