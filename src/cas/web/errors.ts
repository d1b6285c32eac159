/**
 * Web Access outcomes that end a request with a branded page. Expected outcomes carry a stable
 * `code` (STYLE rule 9); the root error handler maps them, and everything else, to pages that never
 * show internal detail.
 */
export type WebErrorCode = 'UNKNOWN_INSTANCE' | 'INSTANCE_UNAVAILABLE' | 'NOT_FOUND' | 'BAD_REQUEST' | 'FORBIDDEN' | 'CSRF' | 'LOGIN_REQUIRED';

const STATUS: Record<WebErrorCode, number> = {
  UNKNOWN_INSTANCE: 404, INSTANCE_UNAVAILABLE: 503, NOT_FOUND: 404, BAD_REQUEST: 400, FORBIDDEN: 403, CSRF: 403, LOGIN_REQUIRED: 401,
};

export class WebError extends Error {
  readonly statusCode: number;
  constructor(readonly code: WebErrorCode, message: string = code) {
    super(message);
    this.statusCode = STATUS[code];
  }
}

/** Instance RPC error codes that mean "the archive cannot be reached now" (503, not a bug). */
export const UNAVAILABLE_RPC_CODES = new Set(['DISCONNECTED', 'TIMEOUT', 'FROZEN', 'STORE_UNAVAILABLE']);
/** Instance answers meaning the thing asked for is not there for this user (also forged ids). */
export const NOT_FOUND_RPC_CODES = new Set(['NOT_FOUND', 'NO_PERMISSION']);
