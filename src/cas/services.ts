/**
 * The user-facing services of the Client Access Server, plugged into the CAS role of
 * `coffer start`: IMAP on 143 (STARTTLS) and 993 (TLS), Web Access on 443, both with the
 * provider branding (reloaded on ReloadBranding) and routed per instance through the routing table.
 */
import path from 'node:path';
import { registerCasService } from '../server/cas-role.js';
import { casCookieSecret } from '../server/cas-secrets.js';
import { port } from '../common/config.js';
import { ImapServer } from './imap/server.js';
import { BrandingStore, defaultSampleDir } from './web/branding.js';
import { listenWebAccess } from './web/app.js';

registerCasService(async (ctx) => {
  const branding = new BrandingStore({ dir: path.join(ctx.config.dataDir, 'config', 'branding'), sampleDir: defaultSampleDir(), log: ctx.log });
  ctx.onReloadBranding(() => {
    const r = branding.reload();
    return r.ok ? { ok: true } : { ok: false, error: r.error };
  });
  const tls = () => ({ key: ctx.certificate().keyPem, cert: ctx.certificate().certPem });
  const imap = new ImapServer({
    resolveInstance: ctx.resolveInstance, tls, productName: () => branding.productName, log: ctx.log,
    host: ctx.config.host, plainPort: port(ctx.config, 'imap'), tlsPort: port(ctx.config, 'imaps'),
  });
  await imap.listen();
  const web = await listenWebAccess(
    { resolveInstance: ctx.resolveInstance, branding, cookieSecret: casCookieSecret(ctx.config), logger: ctx.log },
    { port: port(ctx.config, 'https'), host: ctx.config.host, tls: tls() },
  );
  return { close: async () => { await web.close(); await imap.close(); } };
});
