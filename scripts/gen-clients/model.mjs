// The OpenRPC document (schema/oauth-sidecar.openrpc.json) read into what the client generators need, in the
// spirit of vscode-languageserver-node's metaModel: the named shapes (components.schemas), the methods with their
// direction, kind, params and result, and the error codes (components.errors). Only the subset of JSON Schema the
// schema generator writes is understood; anything else stops the generation with a message, so a schema change
// that the generators do not handle cannot slip through.

const REF = '#/components/schemas/';

export class ProtocolModel {
  constructor(doc) {
    this.doc = doc;
    /** @type {Map<string, object>} components.schemas by name. */
    this.shapes = new Map(Object.entries(doc.components?.schemas ?? {}));
    this.methods = doc.methods.map((m) => ({
      name: m.name,
      summary: m.summary ?? '',
      fromServer: m['x-direction'] === 'server-to-client',
      notification: m['x-notification'] === true,
      params: m.params ?? [],
      result: m.result?.schema,
      errors: (m.errors ?? []).map((e) => e.$ref?.slice('#/components/errors/'.length) ?? e.name),
    }));
    this.errors = Object.entries(doc.components?.errors ?? {}).map(([name, e]) => ({ name, code: e.code, message: e.message, data: e.data }));
    for (const [name, shape] of this.shapes) {
      if (shape.title !== name) throw new Error(`components.schemas.${name} has title ${shape.title}: they must be the same`);
    }
    this.uses = this.#collectUses();
  }

  /** The name a `$ref` points to, or undefined. */
  static refName(schema) {
    const ref = schema?.$ref;
    if (ref === undefined) return undefined;
    if (!ref.startsWith(REF)) throw new Error(`unsupported $ref ${ref}`);
    return ref.slice(REF.length);
  }

  /** `oneOf [X, { type: null }]` → X; anything else → undefined. */
  static nullableOf(schema) {
    const members = schema?.oneOf;
    if (!Array.isArray(members) || members.length !== 2) return undefined;
    const nulls = members.filter((m) => m.type === 'null');
    return nulls.length === 1 ? members.find((m) => m.type !== 'null') : undefined;
  }

  /** What kind of shape a component is: object (with properties), map, any-object, enum or union. */
  kindOf(name) {
    const shape = this.shapes.get(name);
    if (!shape) throw new Error(`$ref to ${name}, which is not in components.schemas`);
    if (Array.isArray(shape.enum)) return 'enum';
    if (Array.isArray(shape.oneOf)) return 'union';
    if (shape.type !== 'object') throw new Error(`components.schemas.${name}: unsupported type ${shape.type}`);
    if (shape.properties) return 'object';
    if (shape.additionalProperties && typeof shape.additionalProperties === 'object') return 'map';
    return 'any-object';
  }

  /** Named shapes that a schema refers to, directly or through arrays, maps and nullables. */
  refsOf(schema, out = new Set()) {
    if (!schema || typeof schema !== 'object') return out;
    const name = ProtocolModel.refName(schema);
    if (name) out.add(name);
    for (const member of schema.oneOf ?? []) this.refsOf(member, out);
    if (schema.items) this.refsOf(schema.items, out);
    if (schema.additionalProperties && typeof schema.additionalProperties === 'object') this.refsOf(schema.additionalProperties, out);
    for (const property of Object.values(schema.properties ?? {})) this.refsOf(property, out);
    return out;
  }

  /** Every shape reachable from the given roots (transitively). */
  reachable(roots) {
    const seen = new Set();
    const visit = (name) => {
      if (seen.has(name)) return;
      seen.add(name);
      for (const next of this.refsOf(this.shapes.get(name))) visit(next);
    };
    for (const root of roots) for (const name of this.refsOf(root)) visit(name);
    return seen;
  }

  /** Shapes used only in what the caller sends (request params): their arrays can be readonly. */
  inputOnlyShapes() {
    const sent = this.methods.filter((m) => !m.fromServer).flatMap((m) => m.params.map((p) => p.schema));
    const received = [
      ...this.methods.filter((m) => m.fromServer).flatMap((m) => m.params.map((p) => p.schema)),
      ...this.methods.filter((m) => !m.fromServer && m.result).map((m) => m.result),
      ...this.errors.filter((e) => e.data).map((e) => e.data),
    ];
    const inbound = this.reachable(received);
    return new Set([...this.reachable(sent)].filter((n) => !inbound.has(n)));
  }

  /** Shapes that are the data of an error code. */
  errorDataShapes() {
    return new Set(this.errors.flatMap((e) => (e.data ? [...this.refsOf(e.data)] : [])));
  }

  /** A shape's shapes in dependency order (a shape after the shapes its properties refer to). */
  ordered(names) {
    const out = [];
    const done = new Set();
    const visit = (name, path = []) => {
      if (done.has(name)) return;
      if (path.includes(name)) throw new Error(`recursive shapes are not supported: ${[...path, name].join(' -> ')}`);
      for (const next of [...this.refsOf(this.shapes.get(name))].sort()) if (names.has(next)) visit(next, [...path, name]);
      done.add(name);
      out.push(name);
    };
    for (const name of [...names].sort()) visit(name);
    return out;
  }

  /** Where a shape is used, for documentation: "result of `createClient`", "`data` of -32001 (Timeout)"... */
  #collectUses() {
    const uses = new Map();
    const add = (schema, where) => {
      for (const name of this.refsOf({ oneOf: [schema, { type: 'null' }] })) {
        if (!uses.has(name)) uses.set(name, []);
        uses.get(name).push(where);
      }
    };
    for (const m of this.methods) {
      for (const p of m.params) add(p.schema, `\`${m.name}\`'s \`${p.name}\``);
      if (m.result) add(m.result, `the result of \`${m.name}\``);
    }
    for (const e of this.errors) if (e.data) add(e.data, `\`data\` of ${e.code} (${e.name})`);
    for (const [name, shape] of this.shapes) {
      for (const [property, schema] of Object.entries(shape.properties ?? {})) {
        // Only direct references: a shape's own members, not the members of the members.
        const direct = ProtocolModel.refName(schema) ?? ProtocolModel.refName(ProtocolModel.nullableOf(schema)) ?? ProtocolModel.refName(schema.items);
        if (direct) {
          if (!uses.has(direct)) uses.set(direct, []);
          uses.get(direct).push(`\`${name}.${property}\``);
        }
      }
    }
    return uses;
  }

  /** One line on where a shape is used (at most three places). */
  usedIn(name) {
    const places = this.uses.get(name) ?? [];
    if (places.length === 0) return '';
    const shown = places.slice(0, 3).join(', ');
    return places.length > 3 ? `${shown} and ${places.length - 3} more` : shown;
  }
}

/** `createClient` → `CreateClient`, `window/logMessage` → `LogMessage`, `$/cancelRequest` → `CancelRequest`. */
export function pascalOfMethod(method) {
  const last = method.split('/').pop();
  return last.charAt(0).toUpperCase() + last.slice(1);
}

/** `clientHandle` → `client_handle` (as the Python client's `snake_case`). */
export function snakeCase(name) {
  return name.split('/').pop().replace(/(?<!^)(?=[A-Z])/g, '_').toLowerCase();
}

/** `client_handle` → `clientHandle` (as the Python client's `camel_case`). */
export function camelCase(name) {
  const [head, ...rest] = name.split('_');
  return head + rest.map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');
}
