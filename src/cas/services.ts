/**
 * The user-facing services of the Client Access Server, plugged into the CAS role of
 * `coffer start`: IMAP on 143 (STARTTLS) and 993 (TLS), Web Access on 443, both with the
 * provider branding (reloaded on ReloadBranding) and routed per instance through the routing table.
 */
import path from 'node:path';
import { watch } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { loadOrCreateRoleCertificate } from '../common/certs.js';

/** Quiet time after a change in the certificate folder before the files are read. */
const CERT_SETTLE_MS = 500;
import { registerCasService } from '../server/cas-role.js';
import { casCookieSecret } from '../server/cas-secrets.js';
import { port, redactUrl } from '../common/config.js';
import { ImapServer } from './imap/server.js';
import { BrandingStore, defaultSampleDir } from './web/branding.js';
import { listenWebAccess } from './web/app.js';
import { RedisSessionStore } from './web/redis-session-store.js';
import type { WebSessionStoreFactory } from './web/session-store.js';

/** How long start-up waits for Redis before going on (requests get the 503 page until it is there). */
const SESSION_STORE_STARTUP_WAIT_MS = 5_000;

registerCasService(async (ctx) => {
  const branding = new BrandingStore({ dir: path.join(ctx.config.dataDir, 'config', 'branding'), sampleDir: defaultSampleDir(), log: ctx.log });
  ctx.onReloadBranding(() => {
    const r = branding.reload();
    return r.ok ? { ok: true } : { ok: false, error: r.error };
  });
  // Client-facing TLS (IMAP, Web Access) reads the CAS certificate from disk, so an operator's
  // replaced PEM files take effect without a restart (watched below).
  const certDir = path.join(ctx.config.dataDir, 'certs');
  let current = loadOrCreateRoleCertificate(certDir, 'cas');
  const tls = () => ({ key: current.keyPem, cert: current.certPem });
  const imap = new ImapServer({
    resolveInstance: ctx.resolveInstance, tls, productName: () => branding.productName, log: ctx.log,
    host: ctx.config.host, plainPort: port(ctx.config, 'imap'), tlsPort: port(ctx.config, 'imaps'),
  });
  await imap.listen();
  const clientOf = async (instanceId: string) => {
    const r = await ctx.resolveInstance(instanceId);
    if (!r.ok) throw new Error(r.message);
    return r.client;
  };
  const result = async (fn: () => Promise<unknown>) => {
    try { await fn(); return { ok: true as const }; } catch (e) { return { ok: false as const, message: (e as Error).message }; }
  };
  // Several CASes behind one name share their sessions in Redis (--web-session-store redis://…),
  // and must share <data>/cas/cookie-secret too; one CAS keeps them in memory.
  const storeConfig = ctx.config.webSessionStore;
  const redisUrl = storeConfig.kind === 'redis' ? storeConfig.url : null;
  const redisStores: RedisSessionStore[] = [];
  const sessionStore: WebSessionStoreFactory | undefined = redisUrl
    ? (binding) => { const s = new RedisSessionStore({ url: redisUrl, ...binding }); redisStores.push(s); return s; }
    : undefined;
  ctx.log.info({ sessionStore: redisUrl ? redactUrl(redisUrl) : 'memory' }, 'Web Access session store');
  const web = await listenWebAccess(
    {
      resolveInstance: ctx.resolveInstance, branding, cookieSecret: casCookieSecret(ctx.config), logger: ctx.log, sessionStore,
      // Audit entries go to the instance's own audit log.
      audit: async (instanceId, session, action, details) => {
        try { await (await clientOf(instanceId)).audit({ session, action, details }); }
        catch (err) { ctx.log.warn({ instance: instanceId, action, err: (err as Error).message }, 'audit entry could not be written to the instance'); }
      },
      account: {
        changePassword: (c, p) => result(() => c.client.changePassword({ session: c.session, ...p })),
        mfaStatus: async (c) => (await c.client.mfaStatus({ session: c.session })).status,
        mfaEnable: (c, p) => result(() => c.client.mfaEnable({ session: c.session, secret: p.secret })),
        mfaDisable: (c) => result(() => c.client.mfaDisable({ session: c.session })),
      },
      restore: {
        smtpSettings: async (instanceId, session) => {
          const s = await (await clientOf(instanceId)).smtpForRestore({ session });
          if (!s) return null;
          const protocol = s.protocol ?? 'SMTP-TLS';
          return {
            host: s.hostname, port: s.port ?? (protocol === 'SMTPS' ? 465 : protocol === 'SMTP' ? 25 : 587), secure: protocol === 'SMTPS', requireTls: protocol === 'SMTP-TLS',
            user: s.authenticationRequired ? s.username ?? undefined : undefined, password: s.password ?? undefined,
            from: s.fromEmailAddress ?? `archive@${s.hostname}`, allowInvalidCertificate: s.ignoreSslPolicyErrors === true,
          };
        },
      },
    },
    { port: port(ctx.config, 'https'), host: ctx.config.host, tls: tls() },
  );
  // Redis down at start-up does not stop the CAS (IMAP does not need it): the store says so and reconnects.
  for (const store of redisStores) {
    if (!(await store.waitUntilReady(SESSION_STORE_STARTUP_WAIT_MS))) {
      ctx.log.error({ redis: redactUrl(redisUrl!) }, 'Web Access session store: Redis not reachable at start-up; Web Access answers 503 "sessions unavailable" until it is (reconnecting)');
    }
  }
  let reloadTimer: NodeJS.Timeout | null = null;
  const watcher = watch(certDir, () => {
    if (reloadTimer) clearTimeout(reloadTimer);
    // Editors and cp write in steps: wait until the files have settled.
    reloadTimer = setTimeout(() => {
      try {
        const next = loadOrCreateRoleCertificate(certDir, 'cas');
        if (next.thumbprint === current.thumbprint) return;
        // Check the pair before use: a key that does not match its certificate is refused and the old pair stays.
        createSecureContext({ key: next.keyPem, cert: next.certPem });
        current = next;
        imap.reloadCertificate();
        (web.app.server as unknown as import('node:tls').Server).setSecureContext({ key: next.keyPem, cert: next.certPem });
        ctx.log.info({ thumbprint: next.thumbprint }, 'CAS certificate reloaded from disk');
      } catch (err) {
        ctx.log.error({ err: (err as Error).message }, 'new CAS certificate refused; the previous one stays in use');
      }
    }, CERT_SETTLE_MS);
  });
  return { close: async () => { watcher.close(); if (reloadTimer) clearTimeout(reloadTimer); await web.close(); await imap.close(); } };
});
