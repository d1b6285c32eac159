/**
 * The Management API as a fastify plugin (SPE wire format, port 8474 in DESIGN.md §1):
 *
 *   POST /api/invoke/<Function>   form fields -> envelope (or a status token if long-running)
 *   POST /api/get-status          token, lastKnownStatusVersion, millisecondsTimeout -> envelope
 *   POST /api/cancel-async        token -> envelope
 *   POST /api/get-metadata        -> bare JSON array of function declarations (as SPE)
 *
 * Register it without fastify-plugin: it keeps its own body parser, auth hook and error handler
 * encapsulated, so the host app is untouched. Paths are also served with doubled slashes
 * (`/api//get-status`, `//api/invoke/Ping`): published clients build URLs by concatenation and
 * send them. Once authenticated, every answer is HTTP 200 with the envelope; a bug inside a
 * function becomes `statusCode: "failed"` with a generic message and a logged reference.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyBaseLogger } from 'fastify';
import { isManagementError } from '../errors.js';
import { AsyncStatusBoard, type AsyncStatusOptions } from './async-status.js';
import { createBasicAuthHook, type BackoffOptions } from './basic-auth.js';
import { type ApiError, failedEnvelope, sendJson, succeededEnvelope } from './envelope.js';
import { createFunctionRegistry, type FunctionDeclaration } from './metadata.js';
import { parseFormFields, validateCall, type FormFields } from './validate.js';
import { fn, num, str } from './functions/declare.js';

/** What a function implementation receives besides its validated arguments. */
export interface InvokeContext<A> {
  readonly admin: A;
  /** Aborted by /api/cancel-async (long-running) or when the client goes away (others). */
  readonly signal: AbortSignal;
  /** Long-running calls: percent 0-100 and status text, seen by get-status. No-op otherwise. */
  progress(percent: number | null, text?: string): void;
  /** Long-running calls: a line of logOutput. No-op otherwise. */
  log(line: string): void;
  readonly remote: string;
}

export interface ManagementApiOptions<A> {
  /** Checks Basic credentials; null for wrong ones. Never given a user name with ':' in it by design. */
  authenticate(user: string, password: string, remote: string): Promise<A | null>;
  /** Runs a validated call. Throw ManagementError for expected failures; anything else is a bug. */
  invoke(declaration: FunctionDeclaration, args: Record<string, unknown>, context: InvokeContext<A>): Promise<unknown>;
  /** Declarations beyond the reference (tests, extensions); published by get-metadata too. */
  readonly extraFunctions?: readonly FunctionDeclaration[];
  readonly realm?: string;
  readonly backoff?: BackoffOptions;
  readonly asyncStatus?: AsyncStatusOptions;
  /** Bound on a request body: configs are small; a larger body is a mistake or an attack. */
  readonly bodyLimitBytes?: number;
}

const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
const DEFAULT_STATUS_WAIT_MS = 0;

/** The status endpoints' own arguments, validated like any function's (as the PowerShell library declares them). */
const GET_STATUS = fn('get-status', 'Get the status of a long-running call.', [
  str('token', 'Status token returned by the call.'),
  num('lastKnownStatusVersion', 'statusVersion the client already has; the server answers when it changes.', { nullable: true }),
  num('millisecondsTimeout', 'Longest time the server holds the request waiting for a change.', { nullable: true }),
]);
const CANCEL_ASYNC = fn('cancel-async', 'Cancel a long-running call.', [str('token', 'Status token returned by the call.')]);

export async function managementApiPlugin<A>(app: FastifyInstance, options: ManagementApiOptions<A>): Promise<void> {
  const registry = createFunctionRegistry(options.extraFunctions);
  const board = new AsyncStatusBoard(options.asyncStatus);
  const admins = new WeakMap<FastifyRequest, A>();
  const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  app.addHook('onClose', async () => board.close());

  const { hook } = createBasicAuthHook(
    { authenticate: options.authenticate, realm: options.realm, backoff: options.backoff },
    (request, admin) => admins.set(request, admin),
  );
  app.addHook('onRequest', hook);

  // SPE takes urlencoded forms; curl without -d sends no Content-Type and no body, some scripts
  // send a body with no Content-Type. Other types are refused in the handler with a clear message.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendJson(reply, failedEnvelope(`The request body exceeds ${bodyLimit} bytes.`));
    }
    if (error.statusCode !== undefined && error.statusCode < 500) {
      return sendJson(reply, failedEnvelope(`The request could not be read: ${error.message}`));
    }
    return sendJson(reply, failedEnvelope(describeFailure(error, request.log, 'request').message));
  });

  const readFields = (request: FastifyRequest): FormFields | string => {
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const body = typeof request.body === 'string' ? request.body : '';
    if (contentType !== '' && contentType !== 'application/x-www-form-urlencoded' && body !== '') {
      return `The Management API expects arguments as application/x-www-form-urlencoded, not ${contentType}.`;
    }
    return parseFormFields(body);
  };

  const adminOf = (request: FastifyRequest): A => {
    const admin = admins.get(request);
    if (admin === undefined) throw new Error('management API: handler reached without an authenticated admin');
    return admin;
  };

  const handleInvoke = async (request: FastifyRequest<{ Params: { function: string } }>, reply: FastifyReply) => {
    const name = request.params.function;
    const declaration = registry.find(name);
    if (!declaration) {
      return sendJson(reply, failedEnvelope(`Unknown function '${name.slice(0, 80)}'. POST /api/get-metadata lists the available functions.`));
    }
    const fields = readFields(request);
    if (typeof fields === 'string') return sendJson(reply, failedEnvelope(fields));
    const validation = validateCall(declaration, fields);
    if (!validation.ok) return sendJson(reply, failedEnvelope(validation.message));

    const admin = adminOf(request);
    const log = request.log.child({ fn: declaration.name });
    if (declaration.isLongRunning) {
      const initial = board.start(
        (job) => options.invoke(declaration, validation.args, { admin, signal: job.signal, progress: job.progress, log: job.log, remote: request.ip }),
        (error) => describeFailure(error, log, declaration.name),
      );
      if (!initial) return sendJson(reply, failedEnvelope('Too many long-running calls are in progress; try again when some have finished.'));
      log.info({ token: initial.token }, 'management API: long-running call started');
      return sendJson(reply, initial);
    }

    const gone = new AbortController();
    reply.raw.once('close', () => gone.abort(new Error('client closed the connection')));
    try {
      const result = await options.invoke(declaration, validation.args, {
        admin,
        signal: gone.signal,
        progress: () => {},
        log: () => {},
        remote: request.ip,
      });
      return sendJson(reply, succeededEnvelope(result));
    } catch (error) {
      const failure = describeFailure(error, log, declaration.name);
      return sendJson(reply, failedEnvelope(failure.message, failure.details));
    }
  };

  const handleGetStatus = async (request: FastifyRequest, reply: FastifyReply) => {
    const fields = readFields(request);
    if (typeof fields === 'string') return sendJson(reply, failedEnvelope(fields));
    const validation = validateCall(GET_STATUS, fields);
    if (!validation.ok) return sendJson(reply, failedEnvelope(validation.message));
    const token = validation.args.token as string;
    const gone = new AbortController();
    reply.raw.once('close', () => gone.abort());
    const status = await board.waitForChange(
      token,
      validation.args.lastKnownStatusVersion as number | undefined,
      (validation.args.millisecondsTimeout as number | undefined) ?? DEFAULT_STATUS_WAIT_MS,
      gone.signal,
    );
    return sendJson(reply, status ?? unknownToken(token));
  };

  const handleCancel = async (request: FastifyRequest, reply: FastifyReply) => {
    const fields = readFields(request);
    if (typeof fields === 'string') return sendJson(reply, failedEnvelope(fields));
    const validation = validateCall(CANCEL_ASYNC, fields);
    if (!validation.ok) return sendJson(reply, failedEnvelope(validation.message));
    const token = validation.args.token as string;
    const status = board.cancel(token);
    if (status) request.log.info({ token }, 'management API: cancel requested');
    return sendJson(reply, status ?? unknownToken(token));
  };

  const handleMetadata = async (_request: FastifyRequest, reply: FastifyReply) => sendJson(reply, registry.toWireMetadata());

  for (const url of withDoubledSlashes(['api', 'invoke', ':function'])) app.post(url, handleInvoke);
  for (const url of withDoubledSlashes(['api', 'get-status'])) app.post(url, handleGetStatus);
  for (const url of withDoubledSlashes(['api', 'cancel-async'])) app.post(url, handleCancel);
  for (const url of withDoubledSlashes(['api', 'get-metadata'])) app.post(url, handleMetadata);
}

function unknownToken(token: string) {
  return failedEnvelope(
    `Unknown status token '${token.slice(0, 80)}': the call finished too long ago and its status was dropped, or the token is wrong.`,
  );
}

/** Every spelling of the path with each separator written as '/' or '//'. */
export function withDoubledSlashes(segments: readonly string[]): string[] {
  let urls = [''];
  for (const segment of segments) {
    urls = urls.flatMap((prefix) => [`${prefix}/${segment}`, `${prefix}//${segment}`]);
  }
  return urls;
}

/**
 * The one error boundary: expected failures (ManagementError) show their message; anything else
 * is logged with a reference and answered without internals (STYLE.md rule 8).
 */
export function describeFailure(error: unknown, log: FastifyBaseLogger, what: string): ApiError {
  if (isManagementError(error)) return { message: error.message, details: error.details };
  const reference = randomBytes(4).toString('hex');
  log.error({ err: error, reference, fn: what }, 'management API: internal error');
  return {
    message: `Internal error in ${what} (reference ${reference}); the management server log has the details.`,
    details: null,
  };
}
