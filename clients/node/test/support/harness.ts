// Starting the real sidecar and the real test provider (tests/idp), and small helpers.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { spawnSidecar, type Event, type SidecarClient, type SpawnSidecarOptions } from '@oauth-sidecar/client';
import { REPO, sidecarUnderTest } from './paths.js';
import { SchemaTap, validators } from './schema.js';

export const SCOPES = ['openid', 'offline_access', 'profile'];

export interface Sidecar {
  client: SidecarClient;
  /** Every message of this sidecar, validated against the schema. */
  tap: SchemaTap;
  /** dispose(), then: every message matched the schema and the process exited with 0. */
  close(): Promise<void>;
}

/**
 * Spawns the sidecar under test with the in-memory store and a SchemaTap on every message. It is
 * disposed after the test in any case; call close() at the end of a test to check it too.
 */
export async function startSidecar(
  t: TestContext,
  options: SpawnSidecarOptions & { unknownOnPurpose?: string[] } = {},
): Promise<Sidecar> {
  const tap = new SchemaTap(validators(), options.unknownOnPurpose);
  const client = await spawnSidecar({ path: sidecarUnderTest(), args: ['--storage', 'memory'], ...options, onMessage: tap.observe });
  t.after(() => client.dispose());
  return {
    client,
    tap,
    async close() {
      await client.dispose();
      tap.assertClean();
      assert.ok(tap.counts.results > 0, 'the tap saw no result at all');
      const exit = await client.process!.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, `the sidecar's exit; its stderr:\n${client.process!.stderr}`);
    },
  };
}

export interface Idp {
  issuer: string;
  control: string;
  close(): Promise<void>;
}

/** The test OpenID provider, in this process (tests/idp/provider.mjs), polling interval 1 s; `options` as startProvider's (e.g. `{ dpop: 'on', par: 'advertised' }`). */
export async function startIdp(options: { [name: string]: unknown } = {}): Promise<Idp> {
  const { startProvider } = await import(pathToFileURL(join(REPO, 'tests', 'idp', 'provider.mjs')).href);
  return startProvider({ deviceInterval: 1, ...options });
}

/** POST to the provider's control API (/__test/...), which plays the user. */
export async function control<T = any>(idp: Idp, path: string, body: object): Promise<T> {
  const res = await fetch(`${idp.control}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const json = (await res.json().catch(() => ({}))) as any;
  if (!res.ok) throw new Error(`control ${path}: HTTP ${res.status} ${json.error ?? ''}`);
  return json as T;
}

/** Every value `event` fires from now on. */
export function collect<T>(event: Event<T>): T[] {
  const seen: T[] = [];
  event((value) => seen.push(value));
  return seen;
}

/** The next value of `event` that matches, within `timeoutMs`. */
export function nextEvent<T>(event: Event<T>, match: (value: T) => boolean = () => true, timeoutMs = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error(`no matching event within ${timeoutMs} ms`));
    }, timeoutMs);
    const subscription = event((value) => {
      if (!match(value)) return;
      clearTimeout(timer);
      subscription.dispose();
      resolve(value);
    });
  });
}

/** Asserts that `promise` rejects with a SidecarError of `code`, and returns the error. */
export async function rejectsWith(promise: Promise<unknown>, code: number): Promise<any> {
  let caught: any;
  await assert.rejects(promise, (err: any) => {
    caught = err;
    return true;
  });
  assert.equal(caught?.name, 'SidecarError', `expected a SidecarError, got ${caught?.stack ?? caught}`);
  assert.equal(caught.code, code, `expected code ${code}, got ${caught.code}: ${caught.message}`);
  return caught;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
