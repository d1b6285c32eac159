/** "Your MFA Settings": status, enable / reset secret / disable, and the API password (shown once). */
import type { SystemAdministratorView } from '../../admins.js';
import type { PageFrame } from './layout.js';
import { csrfField, html, page } from './layout.js';

const STATUS_TEXT = { disabled: 'Disabled', pending: 'Pending (finish the set-up at your next logon)', active: 'Active' } as const;

export function mfaSettingsPage(frame: PageFrame & { user: { userName: string; csrf: string } }, me: SystemAdministratorView, newApiPassword?: string): string {
  const csrf = csrfField(frame.user.csrf);
  const isEnabled = me.mfaStatus !== 'disabled';
  const apiPassword = newApiPassword
    ? html`<p>Your new API password. Copy it now: it cannot be shown again.</p><p class="secret" id="api-password">${newApiPassword}</p>`
    : html`<p>${me.hasApiPassword ? 'An API password has been generated; it cannot be shown again.' : 'No API password has been generated.'}</p>`;
  return page(frame, html`<section class="card" aria-labelledby="mfa-general"><h2 id="mfa-general">General</h2>
<label class="check"><input type="checkbox" disabled${isEnabled ? html` checked` : ''}> MFA Enabled</label>
<p>Status: <span class="status" id="mfa-status">${STATUS_TEXT[me.mfaStatus]}</span></p>
<div class="actions">
${isEnabled ? '' : html`<form method="post" action="/mfa/enable">${csrf}<button type="submit">Enable MFA</button></form>`}
<form method="post" action="/mfa/reset">${csrf}<button type="submit" class="secondary"${me.mfaStatus === 'active' ? '' : html` disabled`}>Reset Secret</button></form>
${isEnabled ? html`<form method="post" action="/mfa/disable">${csrf}<button type="submit" class="danger">Disable MFA</button></form>` : ''}
</div>
${me.mfaStatus === 'pending' ? html`<p class="muted">Log out and log on again: the logon shows the secret for your authenticator app and asks for its first code.</p>` : ''}
</section>
<section class="card" aria-labelledby="mfa-api"><h2 id="mfa-api">API Password</h2>
<p class="muted">While MFA is enabled, the Management API accepts only the API password, not your regular password. One API password per account; a new one replaces the old.</p>
${apiPassword}
<form method="post" action="/mfa/api-password">${csrf}<div class="actions"><button type="submit">Generate New API Password</button></div></form>
</section>`);
}
