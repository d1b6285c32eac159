/**
 * The response envelope of the Management API, as SPE sends it:
 *
 *   {"error": null | {"message", "details"}, "token": null | string, "statusVersion": int,
 *    "statusCode": "succeeded" | "running" | "failed" | "cancelled", "percentProgress": null | number,
 *    "statusText": null | string, "result": any, "logOutput": null | string}
 *
 * serialised as UTF-8 JSON *with* a byte order mark ("The response includes a UTF-8 BOM", SPE
 * docs): mssapi decodes with utf-8-sig and the PowerShell library strips it by hand, so both expect
 * it. Content-Type is plain `application/json` as SPE sends it (RFC 8259 defines no charset
 * parameter; the BOM announces UTF-8). Once a caller is authenticated the HTTP status is always 200;
 * success or failure lives in `statusCode`.
 */
import type { FastifyReply } from 'fastify';

export type StatusCode = 'succeeded' | 'running' | 'failed' | 'cancelled';

export interface ApiError {
  message: string;
  details: string | null;
}

export interface Envelope {
  error: ApiError | null;
  token: string | null;
  statusVersion: number;
  statusCode: StatusCode;
  percentProgress: number | null;
  statusText: string | null;
  result: unknown;
  logOutput: string | null;
}

/** SPE answers a call that finished at once with statusVersion 2 (its published examples). */
export const IMMEDIATE_STATUS_VERSION = 2;

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export function succeededEnvelope(result: unknown): Envelope {
  return {
    error: null,
    token: null,
    statusVersion: IMMEDIATE_STATUS_VERSION,
    statusCode: 'succeeded',
    percentProgress: null,
    statusText: null,
    result: result === undefined ? null : result,
    logOutput: null,
  };
}

export function failedEnvelope(message: string, details: string | null = null): Envelope {
  return {
    error: { message, details },
    token: null,
    statusVersion: IMMEDIATE_STATUS_VERSION,
    statusCode: 'failed',
    percentProgress: null,
    statusText: null,
    result: null,
    logOutput: null,
  };
}

/** BOM + JSON text. Throws only for values JSON cannot carry (BigInt, cycles): a bug upstream. */
export function serializeWithBom(value: unknown): Buffer {
  return Buffer.concat([UTF8_BOM, Buffer.from(JSON.stringify(value), 'utf8')]);
}

/** Headers as SPE sends them: JSON, never cached (answers carry configuration and secrets). */
export function setJsonHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .code(200)
    .header('Content-Type', 'application/json')
    .header('Cache-Control', 'no-cache, private, no-store, must-revalidate, max-stale=0')
    .header('Pragma', 'no-cache')
    .header('X-Content-Type-Options', 'nosniff');
}

/** Sends an envelope (or get-metadata's bare array) as the one 200 response of the call. */
export function sendJson(reply: FastifyReply, value: Envelope | readonly unknown[]): FastifyReply {
  return setJsonHeaders(reply).send(serializeWithBom(value));
}
