/**
 * `buildManagementApiApp(config)`: the Management API's own fastify app (HTTPS, port 8474 by
 * default), separate from the code that listens and shuts down (STYLE.md rule 10). The plugin is
 * registered encapsulated; the root handlers answer anything outside it without internals.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { managementApiPlugin, type ManagementApiOptions } from './plugin.js';

export interface ManagementApiAppConfig<A> {
  readonly tls: { readonly key: string | Buffer; readonly cert: string | Buffer };
  readonly api: ManagementApiOptions<A>;
  /** pino logger; request logs get a request id (`reqId`). Omit for silence (tests). */
  readonly logger?: Logger;
  /** Bound on a whole request, longer than the longest get-status wait (60 s). */
  readonly requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;

export async function buildManagementApiApp<A>(config: ManagementApiAppConfig<A>): Promise<FastifyInstance> {
  const app = Fastify({
    https: { key: config.tls.key, cert: config.tls.cert, minVersion: 'TLSv1.2' },
    ...(config.logger ? { loggerInstance: config.logger } : { logger: false }),
    requestTimeout: config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  app.setNotFoundHandler((_request, reply) => reply.code(404).type('text/plain; charset=utf-8').send('Not found.\n'));
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const statusCode = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (statusCode === 500) request.log.error({ err: error }, 'management API app: internal error');
    return reply.code(statusCode).type('text/plain; charset=utf-8').send(statusCode === 500 ? 'Internal error.\n' : `${error.message}\n`);
  });
  await app.register(managementApiPlugin<A>, config.api);
  return app;
}
