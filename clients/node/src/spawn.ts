import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type DataCallback,
  type Message,
  type MessageReader,
  type MessageWriter,
} from 'vscode-jsonrpc/node.js';
import { SidecarClient, type SidecarProcess } from './client.js';

const EXE = process.platform === 'win32' ? '.exe' : '';
const STDERR_KEEP = 64 * 1024;

// The folder of the entry point that loaded this module (dist/esm or dist/cjs), set by
// index.ts / index.cts: the package's own folder is two levels up.
let buildDir: string | undefined;
/** @internal Called by the entry points. */
export function setBuildDir(dir: string): void {
  buildDir = dir;
}

/** Where the sidecar was found and how to start it. */
export interface SidecarLocation {
  command: string;
  args: string[];
  /** The executable or the .dll. */
  path: string;
  /** Which rule found it. */
  kind: 'option' | 'env' | 'bundled' | 'aot' | 'release' | 'debug';
}

export interface FindSidecarOptions {
  /** The sidecar: an executable, or a .dll run with `dotnet`. Relative to the current directory. */
  path?: string;
  /** Where OAUTH_SIDECAR_PATH is read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The package's folder (default: found from the module's location), for the bundled and repository builds. */
  packageRoot?: string;
}

export interface SpawnSidecarOptions extends FindSidecarOptions {
  /** Extra command-line arguments, e.g. `['--storage', 'memory']` or `['--log-level', 'debug']`. */
  args?: readonly string[];
  /** The sidecar's environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The sidecar's stderr (its log): kept in `client.process.stderr` ('pipe', the default), ours, or dropped. */
  stderr?: 'pipe' | 'inherit' | 'ignore';
  /** Sees every JSON-RPC message, sent and received, before it is handled (for logging and tests). */
  onMessage?: (direction: 'send' | 'receive', message: Message) => void;
}

/**
 * Finds the sidecar, in this order: `options.path`; the environment variable OAUTH_SIDECAR_PATH;
 * a NativeAOT executable bundled in the package (`bin/oauth-sidecar`); the repository's published
 * NativeAOT executable (`artifacts/aot/oauth-sidecar`); the repository's Release, then Debug
 * build (`src/OAuthSidecar/bin/<config>/net10.0/oauth-sidecar.dll`, run with `dotnet`).
 * Throws when a given path does not exist or nothing is found.
 */
export function findSidecar(options: FindSidecarOptions = {}): SidecarLocation {
  const explicit = (path: string, kind: 'option' | 'env', origin: string): SidecarLocation => {
    const full = isAbsolute(path) ? path : resolve(process.cwd(), path);
    if (!existsSync(full)) throw new Error(`${origin} points to ${full}, which does not exist.`);
    return locate(full, kind);
  };
  if (options.path) return explicit(options.path, 'option', 'options.path');
  const fromEnv = (options.env ?? process.env).OAUTH_SIDECAR_PATH;
  if (fromEnv) return explicit(fromEnv, 'env', 'OAUTH_SIDECAR_PATH');

  const packageRoot = options.packageRoot ?? (buildDir ? resolve(buildDir, '..', '..') : undefined);
  const candidates: [string, SidecarLocation['kind']][] = [];
  if (packageRoot) {
    candidates.push([join(packageRoot, 'bin', `oauth-sidecar${EXE}`), 'bundled']);
    const repo = findRepository(packageRoot);
    if (repo) {
      candidates.push([join(repo, 'artifacts', 'aot', `oauth-sidecar${EXE}`), 'aot']);
      for (const config of ['Release', 'Debug'] as const) {
        const dll = join(repo, 'src', 'OAuthSidecar', 'bin', config, 'net10.0', 'oauth-sidecar.dll');
        candidates.push([dll, config === 'Release' ? 'release' : 'debug']);
      }
    }
  }
  for (const [path, kind] of candidates) {
    if (existsSync(path)) return locate(path, kind);
  }
  throw new Error(
    'oauth-sidecar was not found. Set OAUTH_SIDECAR_PATH (or options.path) to the executable or to oauth-sidecar.dll, ' +
      'or build it in the repository (`npm run build`, `npm run build -- --aot`).' +
      (candidates.length ? ` Looked for: ${candidates.map(([p]) => p).join(', ')}.` : ''),
  );
}

function locate(path: string, kind: SidecarLocation['kind']): SidecarLocation {
  return path.toLowerCase().endsWith('.dll')
    ? { command: 'dotnet', args: [path], path, kind }
    : { command: path, args: [], path, kind };
}

/** The repository (the folder with OAuthSidecar.sln) that holds `dir`, if any. */
function findRepository(dir: string): string | undefined {
  for (let current = dir, i = 0; i < 6; i++, current = dirname(current)) {
    if (existsSync(join(current, 'OAuthSidecar.sln'))) return current;
    if (dirname(current) === current) break;
  }
  return undefined;
}

/**
 * Starts the sidecar (see {@link findSidecar}) with stdin/stdout as the JSON-RPC channel (LSP
 * framing) and returns a SidecarClient on it. stdout is always a private pipe. dispose() on the
 * client ends the process (shutdown, exit, end of stdin, then a kill if it lingers).
 */
export async function spawnSidecar(options: SpawnSidecarOptions = {}): Promise<SidecarClient> {
  const location = findSidecar(options);
  const args = [...location.args, ...(options.args ?? [])];
  const child = spawn(location.command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['pipe', 'pipe', options.stderr ?? 'pipe'],
    windowsHide: true,
  });
  await new Promise<void>((resolvePromise, reject) => {
    child.once('spawn', resolvePromise);
    child.once('error', (err) => reject(new Error(`Could not start the sidecar (${location.command}): ${err.message}`, { cause: err })));
  });

  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_KEEP);
  });
  child.stdin!.on('error', () => { /* the sidecar went away; pending calls fail with the connection */ });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise) => {
    if (child.exitCode !== null || child.signalCode !== null) resolvePromise({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolvePromise({ code, signal }));
  });

  let reader: MessageReader = new StreamMessageReader(child.stdout!);
  let writer: MessageWriter = new StreamMessageWriter(child.stdin!);
  if (options.onMessage) {
    reader = tapReader(reader, (message) => options.onMessage!('receive', message));
    writer = tapWriter(writer, (message) => options.onMessage!('send', message));
  }
  const sidecarProcess: SidecarProcess = {
    child,
    location,
    args,
    get stderr() {
      return stderr;
    },
    exited,
  };
  return new SidecarClient(createMessageConnection(reader, writer), {
    process: sidecarProcess,
    onDispose: () => stopProcess(child, exited),
  });
}

/** After `exit`: end stdin (the sidecar stops at its end), then SIGTERM, then SIGKILL. */
async function stopProcess(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
  child.stdin?.end();
  if (await within(2000)) return;
  child.kill('SIGTERM');
  if (await within(2000)) return;
  child.kill('SIGKILL');
  await exited;
}

// Observers that must never break the connection.
function safely(observe: (message: Message) => void, message: Message): void {
  try {
    observe(message);
  } catch {
    /* an observer's bug is not the protocol's */
  }
}

function tapReader(inner: MessageReader, observe: (message: Message) => void): MessageReader {
  return {
    onError: inner.onError,
    onClose: inner.onClose,
    onPartialMessage: inner.onPartialMessage,
    listen: (callback: DataCallback) =>
      inner.listen((message) => {
        safely(observe, message);
        callback(message);
      }),
    dispose: () => inner.dispose(),
  };
}

function tapWriter(inner: MessageWriter, observe: (message: Message) => void): MessageWriter {
  return {
    onError: inner.onError,
    onClose: inner.onClose,
    write: (message: Message) => {
      safely(observe, message);
      return inner.write(message);
    },
    end: () => inner.end(),
    dispose: () => inner.dispose(),
  };
}
