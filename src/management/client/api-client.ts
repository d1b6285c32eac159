/**
 * A Management API client speaking exactly what scripts send: HTTPS POST, HTTP Basic auth,
 * urlencoded fields, a BOM-prefixed JSON answer, and get-status polling for long-running calls.
 * Used by `coffer api` and by the tests. The server certificate is trusted either through `ca`
 * or by SHA-1 thumbprint (as SPE pins roles), checked before any credential is sent.
 */
import https from 'node:https';
import tls from 'node:tls';
import { createHash } from 'node:crypto';
import type { Envelope } from '../api/envelope.js';

export interface ManagementApiClientOptions {
  readonly host: string;
  readonly port: number;
  readonly user?: string;
  readonly password?: string;
  /** PEM of a certificate to trust (a self-signed server certificate, or its CA). */
  readonly ca?: string | Buffer;
  /** SHA-1 thumbprint (40 hex digits, separators ignored) of the server certificate to accept. */
  readonly thumbprint?: string;
  /** Per request; get-status long polls add their own wait on top. */
  readonly timeoutMs?: number;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export type ArgValue = string | number | boolean | object | null | undefined;

/** Form text of call arguments, as mssapi and PowerShell encode them (bools lower-case, JSON as text). */
export function encodeArgs(args: Readonly<Record<string, ArgValue>>): string {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(args)) {
    if (value === undefined || value === null) continue;
    form.append(name, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  return form.toString();
}

/** Parses a BOM-prefixed JSON body. */
export function parseJsonBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
}

export class ManagementApiClient {
  constructor(private readonly options: ManagementApiClientOptions) {}

  /** One POST; `path` as given (doubled slashes stay doubled). */
  async post(path: string, body: string, extraHeaders: Record<string, string> = {}, withCredentials = true): Promise<RawResponse> {
    const socket = await this.#connect();
    const headers: Record<string, string> = { 'Content-Length': String(Buffer.byteLength(body)), ...extraHeaders };
    if (body !== '' && !Object.keys(extraHeaders).some((h) => h.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    if (withCredentials && this.options.user !== undefined) {
      headers.Authorization = `Basic ${Buffer.from(`${this.options.user}:${this.options.password ?? ''}`).toString('base64')}`;
    }
    // An empty header value means "send no such header" (tests of bodies without Content-Type).
    for (const [name, value] of Object.entries(headers)) if (value === '') delete headers[name];
    return new Promise<RawResponse>((resolve, reject) => {
      const request = https.request(
        { host: this.options.host, port: this.options.port, method: 'POST', path, headers, createConnection: () => socket },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
          response.on('error', reject);
        },
      );
      request.setTimeout(this.options.timeoutMs ?? 120_000, () => request.destroy(new Error(`no answer from ${path}`)));
      request.on('error', reject);
      request.end(body);
    });
  }

  /** One call; answers the first envelope (running, for long-running functions). */
  async call(name: string, args: Readonly<Record<string, ArgValue>> = {}): Promise<Envelope> {
    return this.#envelope(await this.post(`/api/invoke/${encodeURIComponent(name)}`, encodeArgs(args)));
  }

  async getStatus(token: string, lastKnownStatusVersion: number, millisecondsTimeout: number): Promise<Envelope> {
    return this.#envelope(await this.post('/api/get-status', encodeArgs({ token, lastKnownStatusVersion, millisecondsTimeout })));
  }

  async cancel(token: string): Promise<Envelope> {
    return this.#envelope(await this.post('/api/cancel-async', encodeArgs({ token })));
  }

  async metadata(): Promise<unknown> {
    const response = await this.post('/api/get-metadata', '');
    if (response.status !== 200) throw new Error(`get-metadata: HTTP ${response.status}`);
    return parseJsonBody(response.body);
  }

  /** A call followed to its end, polling get-status as mssapi does. */
  async invoke(
    name: string,
    args: Readonly<Record<string, ArgValue>> = {},
    onStatus?: (status: Envelope) => void,
    pollWaitMs = 5_000,
  ): Promise<Envelope> {
    let status = await this.call(name, args);
    while (status.statusCode === 'running' && status.token) {
      onStatus?.(status);
      status = await this.getStatus(status.token, status.statusVersion, pollWaitMs);
    }
    return status;
  }

  #envelope(response: RawResponse): Envelope {
    if (response.status === 401) throw new Error('Authentication failed (HTTP 401); check user name and password.');
    if (response.status !== 200) throw new Error(`Unexpected HTTP ${response.status} from the Management API.`);
    return parseJsonBody(response.body) as Envelope;
  }

  #connect(): Promise<tls.TLSSocket> {
    const { host, port, ca, thumbprint } = this.options;
    const pinned = thumbprint?.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host, port, ca, servername: isIp(host) ? undefined : host, rejectUnauthorized: pinned === undefined });
      socket.once('secureConnect', () => {
        if (pinned !== undefined) {
          const der = socket.getPeerCertificate().raw;
          const actual = der ? createHash('sha1').update(der).digest('hex') : '';
          if (actual !== pinned) {
            socket.destroy();
            reject(new Error(`server certificate thumbprint ${actual.toUpperCase()} does not match ${pinned.toUpperCase()}`));
            return;
          }
        }
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
