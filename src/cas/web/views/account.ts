/** Account page: change password, two-factor authentication (TOTP) enrolment and removal. */
import { html, type SafeHtml } from '../html.js';
import { layout, type PageContext } from './layout.js';

export interface AccountViewModel {
  canChangePassword: 'yes' | 'noPrivilege' | 'unavailable' | 'afterEnrolment';
  mfa: 'on' | 'off' | 'unavailable';
  mfaPending?: { secret: string; uri: string };
  /** The instance requires MFA: it cannot be turned off. */
  mfaRequired: boolean;
  /** Login led here: MFA must be set up before anything else opens. */
  enrolment: boolean;
  message?: { kind: 'ok' | 'error'; text: string };
}

export function accountPage(ctx: PageContext, m: AccountViewModel): SafeHtml {
  const { t } = ctx;
  const csrf = html`<input type="hidden" name="_csrf" value="${ctx.csrf ?? ''}">`;
  return layout(ctx, {
    title: t('account.title'),
    bodyClass: 'account-page',
    body: html`<section class="card account">
${m.enrolment ? '' : html`<a class="back" href="${ctx.base}/folders">${t('nav.back')}</a>`}
<h1>${t('account.title')}</h1>
${m.enrolment ? html`<p class="notice" role="status" data-testid="mfa-required-notice">${t('account.mfaRequiredNotice')}</p>` : ''}
<p>${t('account.user', { user: ctx.user?.fullName ? `${ctx.user.fullName} (${ctx.user.userName})` : ctx.user?.userName ?? '' })}</p>
${m.message ? html`<p class="${m.message.kind === 'ok' ? 'notice' : 'error'}" role="status" data-testid="account-message">${m.message.text}</p>` : ''}
${m.canChangePassword === 'afterEnrolment' ? '' : html`<h2>${t('account.changePassword')}</h2>`}
${m.canChangePassword === 'afterEnrolment' ? '' : m.canChangePassword === 'yes' ? html`<form method="post" action="${ctx.base}/account/password" class="stack">${csrf}
<label for="old">${t('account.oldPassword')}</label><input id="old" name="oldPassword" type="password" autocomplete="current-password" required maxlength="1024">
<label for="new1">${t('account.newPassword')}</label><input id="new1" name="newPassword" type="password" autocomplete="new-password" required maxlength="1024">
<label for="new2">${t('account.repeatPassword')}</label><input id="new2" name="repeatPassword" type="password" autocomplete="new-password" required maxlength="1024">
<button type="submit" class="primary">${t('account.save')}</button></form>`
    : html`<p class="muted">${m.canChangePassword === 'noPrivilege' ? t('account.noPrivilege') : t('account.notAvailable')}</p>`}
<h2>${t('account.mfa')}</h2>
${m.mfa === 'unavailable' ? html`<p class="muted">${t('account.notAvailable')}</p>`
    : m.mfaPending ? html`<p>${t('account.mfaScan')}</p><p>${t('account.mfaSecret')}: <code class="secret" data-testid="mfa-secret">${m.mfaPending.secret}</code></p>
<p class="muted small"><code>${m.mfaPending.uri}</code></p>
<form method="post" action="${ctx.base}/account/mfa/confirm" class="stack">${csrf}<label for="code">${t('login.totp')}</label>
<input id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" required autocomplete="one-time-code"><button type="submit" class="primary">${t('account.mfaConfirm')}</button></form>`
    : m.mfa === 'on' && m.mfaRequired ? html`<p>${t('account.mfaOn')}</p><p class="muted">${t('account.mfaRequiredOn')}</p>`
    : m.mfa === 'on' ? html`<p>${t('account.mfaOn')}</p><form method="post" action="${ctx.base}/account/mfa/remove">${csrf}<button type="submit">${t('account.mfaRemove')}</button></form>`
    : html`<p>${t('account.mfaOff')}</p><form method="post" action="${ctx.base}/account/mfa/start">${csrf}<button type="submit">${t('account.mfaEnrol')}</button></form>`}
</section>`,
  });
}
