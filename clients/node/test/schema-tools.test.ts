// The schema as third-party OpenRPC tools see it (what a new user would try): Redocly CLI lints it with no error,
// @open-rpc/schema-utils-js validates and dereferences it, and the TypeScript that @open-rpc/typings generates
// from it compiles under `strict`. The tools are pinned devDependencies of the repository (package.json).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { REPO } from './support/paths.js';
import { loadOpenRpc, SCHEMA_PATH } from './support/schema.js';

const require = createRequire(join(REPO, 'package.json'));

/** Runs a package's command-line entry with this Node. */
function runBin(pkg: string, bin: string, args: string[], cwd = REPO) {
  const manifest = require.resolve(`${pkg}/package.json`);
  const entry = (JSON.parse(readFileSync(manifest, 'utf8')).bin as Record<string, string>)[bin];
  assert.ok(entry, `${pkg} has no ${bin} command`);
  return spawnSync(process.execPath, [join(dirname(manifest), entry), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
  });
}

test('redocly lint finds no error in the schema', () => {
  const lint = runBin('@redocly/cli', 'redocly', ['lint', SCHEMA_PATH, '--format=json']);
  const report = JSON.parse(lint.stdout) as {
    totals: { errors: number; warnings: number };
    problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
  };
  const text = (p: (typeof report.problems)[number]) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`;
  assert.equal(report.totals.errors, 0, report.problems.map(text).join('\n'));
  assert.equal(lint.status, 0, lint.stderr);

  // The one kind of warning allowed: the shapes of error data are referenced from components.errors.*.data, which
  // redocly does not follow (OpenRPC leaves an error's data free-form), so it calls them unused.
  const doc = loadOpenRpc();
  const errorData = new Set(Object.values(doc.components.errors).map((e: any) => e.data?.$ref).filter(Boolean));
  for (const problem of report.problems) {
    const pointer = problem.location[0]?.pointer ?? '';
    assert.ok(problem.ruleId === 'no-unused-components' && errorData.has(pointer), `unexpected: ${text(problem)}`);
  }
});

test('@open-rpc/schema-utils-js validates the schema and resolves every $ref', async () => {
  // Loaded by name at run time: its type declarations are not part of this compilation.
  const specifier = '@open-rpc/schema-utils-js';
  const loaded: any = await import(pathToFileURL(require.resolve(specifier)).href);
  const utils = loaded.validateOpenRPCDocument ? loaded : loaded.default;
  const doc = loadOpenRpc();
  assert.equal(utils.validateOpenRPCDocument(doc), true);
  const parsed = await utils.parseOpenRPCDocument(JSON.stringify(doc), { dereference: true });
  assert.equal(parsed.methods.length, doc.methods.length);
  const createClient = parsed.methods.find((m: any) => m.name === 'createClient');
  assert.deepEqual(createClient.params.find((p: any) => p.name === 'storage').schema.oneOf[0].enum, ['keyring', 'file', 'memory']);
});

test('the TypeScript that @open-rpc/typings generates from the schema compiles (strict)', () => {
  const out = mkdtempSync(join(tmpdir(), 'openrpc-typings-'));
  try {
    const generated = runBin('@open-rpc/typings', 'open-rpc-typings', ['-d', SCHEMA_PATH, '--output-ts', out, '--name-ts', 'index']);
    assert.equal(generated.status, 0, generated.stderr + generated.stdout);
    const file = join(out, 'index.ts');
    const source = readFileSync(file, 'utf8');
    for (const name of ['TokenResult', 'ServerConfiguration', 'CreateClientResult']) assert.match(source, new RegExp(`export interface ${name} \\{`));
    assert.match(source, /export type InteractionMode = "auto" \| "browser" \| "device" \| "paste" \| "none";/);

    const program = ts.createProgram([file], { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, types: [] });
    const diagnostics = ts.getPreEmitDiagnostics(program);
    const host = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => out, getNewLine: () => '\n' };
    assert.equal(diagnostics.length, 0, ts.formatDiagnostics(diagnostics, host));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the schema keeps the rules that make it usable by tools', () => {
  // No boolean schemas, no type arrays (null is oneOf [X, null]), a title on every object schema, named shapes
  // by $ref, required params before optional ones.
  const doc: any = loadOpenRpc();
  const problems: string[] = [];
  const visit = (schema: any, at: string): void => {
    if (typeof schema !== 'object' || schema === null) return void problems.push(`${at}: a boolean schema`);
    if (Array.isArray(schema.type)) problems.push(`${at}: a type array`);
    if (schema.type === 'object' && typeof schema.title !== 'string') problems.push(`${at}: an object schema without title`);
    if (schema.title && !at.startsWith('#/components/schemas/')) problems.push(`${at}: a named shape outside components.schemas`);
    for (const [name, property] of Object.entries(schema.properties ?? {})) visit(property, `${at}/properties/${name}`);
    if (schema.items) visit(schema.items, `${at}/items`);
    if (schema.additionalProperties !== undefined && schema.additionalProperties !== false) visit(schema.additionalProperties, `${at}/additionalProperties`);
    (schema.oneOf ?? []).forEach((member: any, i: number) => visit(member, `${at}/oneOf/${i}`));
  };
  doc.methods.forEach((m: any, i: number) => {
    m.params.forEach((p: any, j: number) => visit(p.schema, `#/methods/${i}/params/${j}/schema`));
    if (m.result) visit(m.result.schema, `#/methods/${i}/result/schema`);
    const firstOptional = m.params.findIndex((p: any) => !p.required);
    if (firstOptional >= 0 && m.params.slice(firstOptional).some((p: any) => p.required)) problems.push(`${m.name}: a required param after an optional one`);
  });
  for (const [name, shape] of Object.entries(doc.components.schemas)) visit(shape, `#/components/schemas/${name}`);
  for (const [name, error] of Object.entries<any>(doc.components.errors)) if (error.data) visit(error.data, `#/components/errors/${name}/data`);
  assert.deepEqual(problems, []);
  assert.deepEqual(doc.components.schemas.StorageBackend.enum, ['keyring', 'file', 'memory']);
});
