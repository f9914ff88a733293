import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
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
  /**
   * Which rule found it: `option` (options.path), `env` (OAUTH_SIDECAR_PATH), `package` (the platform package,
   * e.g. `@oauth-sidecar/linux-x64`), `aot` / `release` / `debug` (the build folders of the repository this
   * client lives in), `path` (`oauth-sidecar` on PATH).
   */
  kind: 'option' | 'env' | 'package' | 'aot' | 'release' | 'debug' | 'path';
}

export interface FindSidecarOptions {
  /** The sidecar: an executable, or a .dll run with `dotnet`. Relative to the current directory. */
  path?: string;
  /** Where OAUTH_SIDECAR_PATH and PATH are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The package's folder (default: found from the module's location), for the platform package and the repository builds. */
  packageRoot?: string;
  /** The platform, `${process.platform}-${process.arch}` by default (e.g. `linux-x64`, `darwin-arm64`, `win32-x64`). */
  platform?: string;
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

/** The npm package that carries the NativeAOT sidecar for a platform: `@oauth-sidecar/linux-x64`, … */
export function platformPackageName(platform = `${process.platform}-${process.arch}`): string {
  return `@oauth-sidecar/${platform}`;
}

/**
 * Finds the sidecar, in this order:
 * 1. `options.path`;
 * 2. the environment variable OAUTH_SIDECAR_PATH (an executable, or a .dll run with `dotnet`);
 * 3. the platform package, an optional dependency of this one (`@oauth-sidecar/linux-x64`, `…/darwin-arm64`,
 *    `…/win32-x64`, `…/linux-arm64`: `bin/oauth-sidecar`), resolved from this package's folder;
 * 4. only when this client runs from inside the oauth-sidecar repository: its NativeAOT executable
 *    (`artifacts/aot/oauth-sidecar`), then its Release and Debug builds (`src/OAuthSidecar/bin/<config>/net10.0/
 *    oauth-sidecar.dll`, run with `dotnet`), so a checkout uses its own build rather than an installed one;
 * 5. `oauth-sidecar` on PATH (e.g. the dotnet tool, or an unpacked release archive).
 *
 * Throws when a given path does not exist or nothing is found; the message names the platform package to install.
 */
export function findSidecar(options: FindSidecarOptions = {}): SidecarLocation {
  const env = options.env ?? process.env;
  const explicit = (path: string, kind: 'option' | 'env', origin: string): SidecarLocation => {
    const full = isAbsolute(path) ? path : resolve(process.cwd(), path);
    if (!existsSync(full)) throw new Error(`${origin} points to ${full}, which does not exist.`);
    return locate(full, kind);
  };
  if (options.path) return explicit(options.path, 'option', 'options.path');
  if (env.OAUTH_SIDECAR_PATH) return explicit(env.OAUTH_SIDECAR_PATH, 'env', 'OAUTH_SIDECAR_PATH');

  const platformPackage = platformPackageName(options.platform);
  const tried: string[] = [];
  const packageRoot = options.packageRoot ?? (buildDir ? resolve(buildDir, '..', '..') : undefined);
  if (packageRoot) {
    const fromPackage = platformBinary(packageRoot, platformPackage);
    tried.push(fromPackage ?? `${platformPackage} (not installed)`);
    if (fromPackage && existsSync(fromPackage)) return locate(executable(fromPackage), 'package');

    const repo = findRepository(packageRoot);
    if (repo) {
      const builds: [string, SidecarLocation['kind']][] = [
        [join(repo, 'artifacts', 'aot', `oauth-sidecar${EXE}`), 'aot'],
        [join(repo, 'src', 'OAuthSidecar', 'bin', 'Release', 'net10.0', 'oauth-sidecar.dll'), 'release'],
        [join(repo, 'src', 'OAuthSidecar', 'bin', 'Debug', 'net10.0', 'oauth-sidecar.dll'), 'debug'],
      ];
      for (const [path, kind] of builds) {
        tried.push(path);
        if (existsSync(path)) return locate(path, kind);
      }
    }
  }
  const onPath = findOnPath('oauth-sidecar', env);
  tried.push('oauth-sidecar on PATH');
  if (onPath) return locate(onPath, 'path');
  throw new Error(
    `oauth-sidecar was not found. Install the sidecar for this platform with \`npm install ${platformPackage}\` ` +
      '(an optional dependency of @oauth-sidecar/client, left out by --omit=optional or an unsupported platform), ' +
      'or put oauth-sidecar on PATH (`dotnet tool install --global oauth-sidecar`, or a release archive), ' +
      'or set OAUTH_SIDECAR_PATH (or options.path) to the executable or to oauth-sidecar.dll. ' +
      `Looked for: ${tried.join(', ')}.`,
  );
}

function locate(path: string, kind: SidecarLocation['kind']): SidecarLocation {
  return path.toLowerCase().endsWith('.dll')
    ? { command: 'dotnet', args: [path], path, kind }
    : { command: path, args: [], path, kind };
}

/** The executable of the platform package `name` as seen from `packageRoot`, or undefined when it is not installed. */
function platformBinary(packageRoot: string, name: string): string | undefined {
  try {
    const manifest = createRequire(join(packageRoot, 'package.json')).resolve(`${name}/package.json`);
    return join(dirname(manifest), 'bin', `oauth-sidecar${EXE}`);
  } catch {
    return undefined;
  }
}

/** Some unpackers (a VSIX, a zip) drop the executable bit: put it back when we may. */
function executable(path: string): string {
  if (process.platform === 'win32') return path;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    try {
      chmodSync(path, statSync(path).mode | 0o111);
    } catch {
      /* spawn reports it */
    }
  }
  return path;
}

/** `name` in a folder of PATH (with PATHEXT on Windows), as a shell would find it. */
function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const pathVar = env.PATH ?? env.Path ?? '';
  const extensions = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean) : [''];
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    for (const ext of extensions) {
      const candidate = join(dir, name + ext);
      try {
        if (!statSync(candidate).isFile()) continue;
        if (process.platform !== 'win32') accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        /* not here */
      }
    }
  }
  return undefined;
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
