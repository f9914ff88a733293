// The OpenRPC document (schema/oauth-sidecar.openrpc.json) as validators, and SchemaTap, which
// validates every JSON-RPC message of a test against it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Message } from '@oauth-sidecar/client';
import { REPO } from './paths.js';

export type JsonSchema = boolean | { [keyword: string]: any };

export interface ContentDescriptor {
  name: string;
  required?: boolean;
  schema: JsonSchema;
}

export interface OpenRpcMethod {
  name: string;
  params: ContentDescriptor[];
  result?: { name: string; schema: JsonSchema };
  errors?: { $ref: string }[];
  'x-direction'?: 'server-to-client';
  'x-notification'?: boolean;
}

export interface OpenRpcDocument {
  methods: OpenRpcMethod[];
  components: { schemas?: { [name: string]: JsonSchema }; errors: { [name: string]: { code: number; message: string; data?: JsonSchema } } };
}

export const SCHEMA_PATH = join(REPO, 'schema', 'oauth-sidecar.openrpc.json');

export function loadOpenRpc(): OpenRpcDocument {
  return JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as OpenRpcDocument;
}

/** Replaces every `{ "$ref": "#/..." }` by what it points to in `doc` (the schema has no cycles). */
export function resolveRefs<T>(node: T, doc: unknown): T {
  if (Array.isArray(node)) return node.map((item) => resolveRefs(item, doc)) as T;
  if (node === null || typeof node !== 'object') return node;
  const ref = (node as { $ref?: unknown }).$ref;
  if (typeof ref === 'string') {
    if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref}`);
    const target = ref
      .slice(2)
      .split('/')
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<any>((at, part) => {
        if (at === undefined || !(part in at)) throw new Error(`$ref ${ref} points to nothing`);
        return at[part];
      }, doc);
    return resolveRefs(target, doc);
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolveRefs(v, doc)])) as T;
}

/** Compiled validators for every method's params (each content descriptor), result and errors. */
export class OpenRpcValidators {
  readonly doc: OpenRpcDocument;
  readonly methods = new Map<string, OpenRpcMethod>();
  private readonly ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  private readonly params = new Map<string, { descriptors: { name: string; required: boolean; validate: ValidateFunction }[] }>();
  private readonly results = new Map<string, ValidateFunction>();
  private readonly errorData = new Map<number, { name: string; validate?: ValidateFunction }>();

  constructor(doc: OpenRpcDocument = loadOpenRpc()) {
    this.doc = resolveRefs(doc, doc);
    for (const method of this.doc.methods) {
      this.methods.set(method.name, method);
      this.params.set(method.name, {
        descriptors: method.params.map((d) => ({ name: d.name, required: d.required === true, validate: this.ajv.compile(d.schema) })),
      });
      if (method.result) this.results.set(method.name, this.ajv.compile(method.result.schema));
    }
    for (const [name, error] of Object.entries(this.doc.components.errors)) {
      this.errorData.set(error.code, { name, validate: error.data === undefined ? undefined : this.ajv.compile(error.data) });
    }
  }

  /** Problems of `params` as the params of `method` (by name: each descriptor, no unknown member). */
  checkParams(method: string, params: unknown): string[] {
    const entry = this.params.get(method);
    if (!entry) return [`${method}: not in the schema`];
    if (params === undefined && entry.descriptors.every((d) => !d.required)) return [];
    if (params === null || typeof params !== 'object' || Array.isArray(params)) return [`${method}: params must be an object (by-name), got ${JSON.stringify(params)}`];
    const problems: string[] = [];
    const record = params as Record<string, unknown>;
    for (const d of entry.descriptors) {
      if (!(d.name in record)) {
        if (d.required) problems.push(`${method}: missing required param '${d.name}'`);
      } else if (!d.validate(record[d.name])) {
        problems.push(`${method}: param '${d.name}' ${this.ajv.errorsText(d.validate.errors)}`);
      }
    }
    for (const name of Object.keys(record)) {
      if (!entry.descriptors.some((d) => d.name === name)) problems.push(`${method}: unknown param '${name}'`);
    }
    return problems;
  }

  checkResult(method: string, result: unknown): string[] {
    const validate = this.results.get(method);
    if (!validate) return [`${method}: has no result in the schema`];
    return validate(result) ? [] : [`${method}: result ${this.ajv.errorsText(validate.errors)}`];
  }

  /** An error response: a code of components.errors, listed for the method (when known), with valid data. */
  checkError(method: string | undefined, error: { code: number; message: string; data?: unknown }): string[] {
    const known = this.errorData.get(error.code);
    if (!known) return [`${method}: error code ${error.code} is not in components.errors`];
    const problems: string[] = [];
    if (typeof error.message !== 'string' || error.message.length === 0) problems.push(`${method}: error ${error.code} has no message`);
    const listed = method === undefined ? undefined : this.methods.get(method)?.errors;
    if (listed && !listed.some((e) => (e as unknown as { code: number }).code === error.code)) {
      problems.push(`${method}: error ${error.code} (${known.name}) is not listed in the method's errors`);
    }
    if (known.validate && !known.validate(error.data)) {
      problems.push(`${method}: data of ${known.name} ${this.ajv.errorsText(known.validate.errors)}`);
    }
    return problems;
  }
}

let shared: OpenRpcValidators | undefined;
export function validators(): OpenRpcValidators {
  shared ??= new OpenRpcValidators();
  return shared;
}

type Direction = 'send' | 'receive';

/**
 * Validates every JSON-RPC message of a connection against the schema (pass `tap.observe` as
 * spawnSidecar's onMessage): params of requests and notifications both ways, results and errors
 * of responses both ways, and that each notification or request goes in its schema direction.
 * Call `assertClean()` at the end of a test.
 */
export class SchemaTap {
  readonly problems: string[] = [];
  /** Problems of messages sent invalid on purpose (see allowInvalidParams). */
  readonly expectedProblems: string[] = [];
  private readonly invalidOnPurpose: string[] = [];
  readonly messages: { direction: Direction; message: any }[] = [];
  readonly counts = { requests: 0, notifications: 0, results: 0, errors: 0 };
  private readonly outgoing = new Map<number | string, string>(); // our requests: id → method
  private readonly incoming = new Map<number | string, string>(); // the sidecar's requests: id → method

  constructor(
    private readonly v: OpenRpcValidators = validators(),
    /** Methods the test sends on purpose although the schema does not know them. */
    private readonly unknownOnPurpose: readonly string[] = [],
  ) {}

  /** The next request of `method` is sent with invalid params on purpose: its problems go to expectedProblems. */
  allowInvalidParams(method: string): void {
    this.invalidOnPurpose.push(method);
  }

  readonly observe = (direction: Direction, message: Message): void => {
    const m = message as any;
    this.messages.push({ direction, message: m });
    let sink = this.problems;
    const problem = (text: string) => sink.push(`${direction === 'send' ? '→' : '←'} ${text}`);
    if (m.jsonrpc !== '2.0') problem(`not JSON-RPC 2.0: ${JSON.stringify(m)}`);

    if (typeof m.method === 'string') {
      const method: OpenRpcMethod | undefined = this.v.methods.get(m.method);
      const isRequest = m.id !== undefined;
      if (isRequest) {
        this.counts.requests++;
        const onPurpose = direction === 'send' ? this.invalidOnPurpose.indexOf(m.method) : -1;
        if (onPurpose >= 0) {
          this.invalidOnPurpose.splice(onPurpose, 1);
          sink = this.expectedProblems;
        }
        (direction === 'send' ? this.outgoing : this.incoming).set(m.id, m.method);
      } else {
        this.counts.notifications++;
      }
      if (!method) {
        if (!(direction === 'send' && this.unknownOnPurpose.includes(m.method))) problem(`${m.method}: not in the schema`);
        return;
      }
      const fromServer = method['x-direction'] === 'server-to-client';
      if (fromServer !== (direction === 'receive')) problem(`${m.method}: goes the wrong way`);
      if ((method['x-notification'] === true) === isRequest) problem(`${m.method}: ${isRequest ? 'sent as a request but is a notification' : 'sent as a notification but is a request'}`);
      for (const p of this.v.checkParams(m.method, m.params)) problem(p);
      return;
    }

    // A response: to one of our requests when received, to one of the sidecar's when sent.
    const pending = direction === 'receive' ? this.outgoing : this.incoming;
    if (!pending.has(m.id)) {
      problem(`response to an unknown request id ${JSON.stringify(m.id)}`);
      return;
    }
    const method = pending.get(m.id)!;
    pending.delete(m.id);
    if ('error' in m) {
      this.counts.errors++;
      const known = this.v.methods.has(method);
      for (const p of this.v.checkError(known ? method : undefined, m.error)) problem(p);
    } else if ('result' in m) {
      this.counts.results++;
      if (this.v.methods.has(method)) for (const p of this.v.checkResult(method, m.result)) problem(p);
      else problem(`${method}: a result for a method the schema does not know`);
    } else {
      problem(`response without result or error: ${JSON.stringify(m)}`);
    }
  };

  /** The messages of one method and direction. */
  sent(method: string): any[] {
    return this.messages.filter((e) => e.direction === 'send' && e.message.method === method).map((e) => e.message);
  }

  received(method: string): any[] {
    return this.messages.filter((e) => e.direction === 'receive' && e.message.method === method).map((e) => e.message);
  }

  /** Throws when a message broke the schema. */
  assertClean(): void {
    if (this.problems.length) throw new Error(`messages that do not match the schema:\n  ${this.problems.join('\n  ')}`);
  }
}
