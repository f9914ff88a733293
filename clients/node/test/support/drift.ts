// Compares src/protocol.ts with the OpenRPC document through the TypeScript compiler API: every
// method has one namespace (`XxxRequest` / `XxxNotification` with `method` and `type`) and vice
// versa, of the right kind, and the params and result types of its `type` match the schema
// property by property: names, optionality, nullability, and types (recursively).
import { join } from 'node:path';
import ts from 'typescript';
import { PACKAGE } from './paths.js';
import { resolveRefs, type JsonSchema, type OpenRpcDocument } from './schema.js';

export interface DriftReport {
  /** Every difference, as `method.params.field: what`. */
  problems: string[];
  /** Paths where the type is a union of literals where the schema says string / number. */
  narrowed: string[];
}

interface TypedMethod {
  namespace: string;
  kind: 'RequestType' | 'RequestType0' | 'NotificationType' | 'NotificationType0';
  params?: ts.Type;
  result?: ts.Type;
}

let compiled: { checker: ts.TypeChecker; source: ts.SourceFile } | undefined;

function compile() {
  if (compiled) return compiled;
  const file = join(PACKAGE, 'src', 'protocol.ts');
  const program = ts.createProgram([file], {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
    noEmit: true,
  });
  const errors = ts.getPreEmitDiagnostics(program);
  if (errors.length) throw new Error(ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => PACKAGE, getNewLine: () => '\n' }));
  compiled = { checker: program.getTypeChecker(), source: program.getSourceFile(file)! };
  return compiled;
}

/** The namespaces of protocol.ts, by the method they declare. */
function typedMethods(): Map<string, TypedMethod[]> {
  const { checker, source } = compile();
  const found = new Map<string, TypedMethod[]>();
  for (const statement of source.statements) {
    if (!ts.isModuleDeclaration(statement) || !statement.body || !ts.isModuleBlock(statement.body)) continue;
    const consts = new Map<string, ts.VariableDeclaration>();
    for (const inner of statement.body.statements) {
      if (ts.isVariableStatement(inner)) for (const d of inner.declarationList.declarations) if (ts.isIdentifier(d.name)) consts.set(d.name.text, d);
    }
    const methodDecl = consts.get('method');
    const typeDecl = consts.get('type');
    if (!methodDecl || !typeDecl) continue;
    const methodType = checker.getTypeAtLocation(methodDecl.name);
    if (!methodType.isStringLiteral()) throw new Error(`${statement.name.getText()}.method is not a string literal`);
    const type = checker.getTypeAtLocation(typeDecl.name);
    const kind = type.getSymbol()?.getName() as TypedMethod['kind'];
    const isReference = (type.flags & ts.TypeFlags.Object) !== 0 && ((type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) !== 0;
    const args = isReference ? checker.getTypeArguments(type as ts.TypeReference) : [];
    const entry: TypedMethod = { namespace: statement.name.getText(), kind };
    if (kind === 'RequestType') [entry.params, entry.result] = args;
    else if (kind === 'RequestType0') [entry.result] = args;
    else if (kind === 'NotificationType') [entry.params] = args;
    const list = found.get(methodType.value) ?? [];
    list.push(entry);
    found.set(methodType.value, list);
  }
  return found;
}

function interfaceType(name: string): ts.Type | undefined {
  const { checker, source } = compile();
  const decl = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name);
  return decl ? checker.getTypeAtLocation(decl.name) : undefined;
}

export function checkProtocol(document: OpenRpcDocument): DriftReport {
  const doc = resolveRefs(document, document);
  const { checker, source } = compile();
  const report: DriftReport = { problems: [], narrowed: [] };
  const problem = (text: string): void => {
    report.problems.push(text);
  };
  const show = (type: ts.Type) => checker.typeToString(type);

  const compare = (type: ts.Type, schema: JsonSchema, path: string): void => {
    if (schema === true || (typeof schema === 'object' && Object.keys(schema).length === 0)) {
      if (!(type.flags & (ts.TypeFlags.Unknown | ts.TypeFlags.Any))) problem(`${path}: the schema allows any JSON value, the type is ${show(type)}`);
      return;
    }
    if (schema === false) return problem(`${path}: the schema allows nothing`);
    if (Array.isArray(schema.anyOf)) return compareAnyOf(type, schema.anyOf, path);
    const schemaTypes: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    const parts = (type.isUnion() ? type.types : [type]).filter((t) => !(t.flags & ts.TypeFlags.Undefined));
    const typeNull = parts.some((t) => t.flags & ts.TypeFlags.Null);
    const schemaNull = schemaTypes.includes('null');
    if (typeNull !== schemaNull) problem(`${path}: ${schemaNull ? 'the schema allows null, the type does not' : 'the type allows null, the schema does not'} (${show(type)})`);
    const kinds = schemaTypes.filter((t) => t !== 'null');
    const rest = parts.filter((t) => !(t.flags & ts.TypeFlags.Null));
    if (kinds.length === 0) {
      if (rest.length) problem(`${path}: the schema says null, the type is ${show(type)}`);
      return;
    }
    if (kinds.length !== 1) return problem(`${path}: schema type ${JSON.stringify(schema.type)} is not supported by this check`);
    const is = (flags: ts.TypeFlags) => rest.length > 0 && rest.every((t) => t.flags & flags);
    const literal = (plain: ts.TypeFlags, literals: ts.TypeFlags, what: string) => {
      if (is(plain)) return;
      if (is(plain | literals)) report.narrowed.push(path);
      else problem(`${path}: the schema says ${what}, the type is ${show(type)}`);
    };
    switch (kinds[0]) {
      case 'string':
        return literal(ts.TypeFlags.String, ts.TypeFlags.StringLiteral, 'string');
      case 'integer':
      case 'number':
        return literal(ts.TypeFlags.Number, ts.TypeFlags.NumberLiteral, kinds[0]);
      case 'boolean':
        if (!is(ts.TypeFlags.BooleanLike) || rest.length !== 2) problem(`${path}: the schema says boolean, the type is ${show(type)}`);
        return;
      case 'array':
        if (rest.length !== 1 || !checker.isArrayType(rest[0])) return problem(`${path}: the schema says array, the type is ${show(type)}`);
        return compare(checker.getTypeArguments(rest[0] as ts.TypeReference)[0], schema.items ?? true, `${path}[]`);
      case 'object':
        if (rest.length !== 1 || !(rest[0].flags & ts.TypeFlags.Object) || checker.isArrayType(rest[0])) {
          return problem(`${path}: the schema says object, the type is ${show(type)}`);
        }
        return compareObject(rest[0], schema, path);
      default:
        return problem(`${path}: schema type ${kinds[0]} is not supported by this check`);
    }
  };

  // anyOf (e.g. createClient's dpop: boolean | { alg }): each branch needs its part of the TS union and each part a
  // branch. Branches of type null, boolean, string, array and object are supported.
  const compareAnyOf = (type: ts.Type, branches: JsonSchema[], path: string): void => {
    const parts = (type.isUnion() ? type.types : [type]).filter((t) => !(t.flags & ts.TypeFlags.Undefined));
    const kindOf = (branch: JsonSchema) => (typeof branch === 'object' && typeof branch.type === 'string' ? branch.type : undefined);
    const schemaNull = branches.some((b) => kindOf(b) === 'null');
    if (parts.some((t) => t.flags & ts.TypeFlags.Null) !== schemaNull) {
      problem(`${path}: ${schemaNull ? 'the schema allows null, the type does not' : 'the type allows null, the schema does not'} (${show(type)})`);
    }
    const rest = parts.filter((t) => !(t.flags & ts.TypeFlags.Null));
    const used = new Set<ts.Type>();
    const take = (what: string, pick: (t: ts.Type) => boolean, count?: number): ts.Type[] => {
      const found = rest.filter(pick);
      if (found.length === 0 || (count !== undefined && found.length !== count)) problem(`${path}: the schema allows ${what}, the type does not (${show(type)})`);
      found.forEach((t) => used.add(t));
      return found;
    };
    for (const branch of branches) {
      const kind = kindOf(branch);
      if (kind === 'null') continue;
      if (kind === 'boolean') take('a boolean', (t) => (t.flags & ts.TypeFlags.BooleanLiteral) !== 0, 2);
      else if (kind === 'string') take('a string', (t) => (t.flags & ts.TypeFlags.StringLike) !== 0);
      else if (kind === 'array') take('an array', (t) => checker.isArrayType(t), 1).forEach((t) => compare(checker.getTypeArguments(t as ts.TypeReference)[0], (branch as any).items ?? true, `${path}[]`));
      else if (kind === 'object') take('an object', (t) => (t.flags & ts.TypeFlags.Object) !== 0 && !checker.isArrayType(t), 1).forEach((t) => compareObject(t, branch as { [k: string]: any }, path));
      else problem(`${path}: anyOf branch ${JSON.stringify(branch)} is not supported by this check`);
    }
    for (const t of rest) if (!used.has(t)) problem(`${path}: ${show(t)} in the type matches no branch of the schema's anyOf`);
  };

  const compareObject = (type: ts.Type, schema: { [k: string]: any }, path: string): void => {
    const properties: { [name: string]: JsonSchema } = schema.properties ?? {};
    const required = new Set<string>(schema.required ?? []);
    const members = checker.getPropertiesOfType(type);
    for (const [name, sub] of Object.entries(properties)) {
      const member = members.find((m) => m.getName() === name);
      if (!member) {
        problem(`${path}.${name}: in the schema, missing in the type`);
        continue;
      }
      const optional = (member.flags & ts.SymbolFlags.Optional) !== 0;
      if (optional === required.has(name)) {
        problem(`${path}.${name}: ${required.has(name) ? 'required in the schema, optional in the type' : 'optional in the schema, required in the type'}`);
      }
      compare(checker.getTypeOfSymbolAtLocation(member, source), sub, `${path}.${name}`);
    }
    for (const member of members) {
      if (!(member.getName() in properties)) problem(`${path}.${member.getName()}: in the type, not in the schema`);
    }
    const index = checker.getIndexInfoOfType(type, ts.IndexKind.String);
    const additional = schema.additionalProperties;
    if (additional !== undefined && additional !== false) {
      if (!index) problem(`${path}: the schema allows any member name (additionalProperties), the type has no index signature`);
      else compare(index.type, additional, `${path}[name]`);
    } else if (index) {
      problem(`${path}: the type has an index signature, the schema lists its members`);
    }
  };

  // Methods ↔ namespaces.
  const typed = typedMethods();
  for (const method of doc.methods) {
    const entries = typed.get(method.name) ?? [];
    if (entries.length !== 1) {
      problem(`${method.name}: ${entries.length === 0 ? 'no typed request or notification in protocol.ts' : `declared by ${entries.map((e) => e.namespace).join(', ')}`}`);
      continue;
    }
    const [entry] = entries;
    const notification = method['x-notification'] === true;
    const expectedKind = `${notification ? 'NotificationType' : 'RequestType'}${method.params.length === 0 ? '0' : ''}`;
    if (entry.kind !== expectedKind) problem(`${method.name}: ${entry.namespace}.type is a ${entry.kind}, the schema calls for a ${expectedKind}`);
    const suffix = notification ? 'Notification' : 'Request';
    if (!entry.namespace.endsWith(suffix)) problem(`${method.name}: ${entry.namespace} should end with ${suffix}`);
    if (entry.params && method.params.length) {
      const schema = {
        type: 'object',
        properties: Object.fromEntries(method.params.map((d) => [d.name, d.schema])),
        required: method.params.filter((d) => d.required).map((d) => d.name),
        additionalProperties: false,
      };
      compareObject(entry.params, schema, `${method.name}.params`);
    }
    if (method.result && entry.result) compare(entry.result, method.result.schema, `${method.name}.result`);
    if (!notification && !method.result) problem(`${method.name}: a request without a result in the schema`);
  }
  for (const [name, entries] of typed) {
    if (!doc.methods.some((m) => m.name === name)) problem(`${name}: ${entries.map((e) => e.namespace).join(', ')} in protocol.ts, not in the schema`);
  }

  // Error data: components.errors.X.data ↔ interface XData.
  for (const [name, error] of Object.entries(doc.components.errors)) {
    const type = interfaceType(`${name}Data`);
    if (error.data === undefined) {
      if (type) problem(`errors.${name}: ${name}Data in protocol.ts, but the error has no data in the schema`);
    } else if (!type) {
      problem(`errors.${name}: the error has data in the schema, protocol.ts has no interface ${name}Data`);
    } else {
      compare(type, error.data, `errors.${name}.data`);
    }
  }
  return report;
}
