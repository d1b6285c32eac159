/** Two-step login (as SPE): user name first, then what the instance asks for (password, code). */
import { html, type SafeHtml } from '../html.js';
import { layout, type PageContext } from './layout.js';

export function loginUserPage(ctx: PageContext, p: { csrf: string; user?: string; notice?: string }): SafeHtml {
  const { t } = ctx;
  return layout(ctx, {
    title: t('login.title'),
    bodyClass: 'login-page',
    body: html`<section class="card login">
<h1>${t('login.title')}</h1>
<p class="welcome">${ctx.branding.texts[ctx.locale].loginWelcome}</p>
${p.notice ? html`<p class="notice" role="status">${p.notice}</p>` : ''}
<form method="post" action="${ctx.base}/login" class="stack">
<input type="hidden" name="_csrf" value="${p.csrf}">
<label for="user">${t('login.userName')}</label>
<input id="user" name="user" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="255" autofocus value="${p.user ?? ''}">
<button type="submit" class="primary">${t('login.next')}</button>
</form></section>`,
  });
}

export function loginPasswordPage(ctx: PageContext, p: { csrf: string; user: string; error?: string; needTotp?: boolean }): SafeHtml {
  const { t } = ctx;
  return layout(ctx, {
    title: t('login.title'),
    bodyClass: 'login-page',
    body: html`<section class="card login">
<h1>${t('login.title')}</h1>
<p>${t('login.signingInAs', { user: p.user })} · <a href="${ctx.base}/login?change=1">${t('login.otherUser')}</a></p>
${p.error ? html`<p class="error" role="alert" data-testid="login-error">${p.error}</p>` : ''}
<form method="post" action="${ctx.base}/login/password" class="stack">
<input type="hidden" name="_csrf" value="${p.csrf}">
<input type="text" name="username" value="${p.user}" autocomplete="username" hidden readonly>
<label for="password">${t('login.password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024" autofocus>
${p.needTotp ? html`<label for="totp">${t('login.totp')}</label>
<p class="hint">${t('login.mfaRequired')}</p>
<input id="totp" name="totp" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required>
<label class="check"><input type="checkbox" name="trust" value="1" data-testid="trust-device"> ${t('login.trustDevice')}</label>` : ''}
<button type="submit" class="primary">${t('login.submit')}</button>
</form></section>`,
  });
}
