import { ResponseError } from 'vscode-jsonrpc';
import { ErrorCodes, type ErrorDataByCode } from './protocol.js';

// The package ships an ESM and a CommonJS build, and a program can load both (one dependency
// imports it, another requires it): two SidecarError classes then exist. `instanceof` checks this
// brand instead of the prototype chain, so an error from either build matches both classes.
const BRAND = Symbol.for('@oauth-sidecar/client.SidecarError');

/**
 * An error response of the sidecar (or of the connection: vscode-jsonrpc's -32097 when the
 * connection is gone, -32099 when a message could not be written). `code` is one of
 * {@link ErrorCodes}; `data` is the error's details (`data.field` for -32602, ...).
 */
export class SidecarError extends Error {
  override name = 'SidecarError';
  readonly code: number;
  readonly data?: unknown;
  /** The method of the request that failed, when known. */
  readonly method?: string;

  constructor(code: number, message: string, data?: unknown, options?: { method?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (data !== undefined) this.data = data;
    if (options?.method !== undefined) this.method = options.method;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses keep the ordinary prototype check.
    if (this !== SidecarError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }
}

/** `err` is a SidecarError, with `code` (and then a typed `data`) when given. */
export function isSidecarError<C extends keyof ErrorDataByCode>(err: unknown, code: C): err is SidecarError & { code: C; data: ErrorDataByCode[C] };
export function isSidecarError(err: unknown): err is SidecarError;
export function isSidecarError(err: unknown, code?: number): boolean {
  return err instanceof SidecarError && (code === undefined || err.code === code);
}

/** A ResponseError of vscode-jsonrpc becomes a SidecarError; anything else is returned as is. */
export function toSidecarError(err: unknown, method?: string): unknown {
  if (err instanceof SidecarError) return err;
  if (err instanceof ResponseError) return new SidecarError(err.code, err.message, err.data, { method, cause: err });
  return err;
}

/** The error of a call whose AbortSignal fired before it was sent (as the sidecar's -32800). */
export function cancelledError(method: string, signal: AbortSignal): SidecarError {
  return new SidecarError(ErrorCodes.RequestCancelled, `${method} was cancelled before it was sent.`, undefined, {
    method,
    cause: signal.reason,
  });
}
