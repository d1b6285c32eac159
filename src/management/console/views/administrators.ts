/** Security → System Administrators: list, create, configure (password, MFA), delete with confirmation. */
import type { SystemAdministratorView } from '../../admins.js';
import type { PageFrame } from './layout.js';
import { csrfField, html, page } from './layout.js';

type Frame = PageFrame & { user: { userName: string; csrf: string } };

const MFA_TEXT = { disabled: 'Disabled', pending: 'Pending', active: 'Active' } as const;

export function adminPath(userName: string, suffix = ''): string {
  return `/administrators/${encodeURIComponent(userName)}${suffix}`;
}

export function administratorsPage(frame: Frame, admins: readonly SystemAdministratorView[]): string {
  const rows = admins.map((admin) => html`<tr><td>${admin.userName}</td><td>${admin.fullName}</td><td>${admin.emailAddress}</td><td>${MFA_TEXT[admin.mfaStatus]}</td><td>${admin.hasApiPassword ? 'Yes' : 'No'}</td>
<td class="buttons"><a href="${adminPath(admin.userName)}">Configure…</a>${admin.userName.toLowerCase() === frame.user.userName.toLowerCase() ? '' : html` · <a href="${adminPath(admin.userName, '/delete')}">Delete</a>`}</td></tr>`);
  return page(frame, html`<div class="actions"><a class="button" href="/administrators/new">Create System Administrator</a></div>
<h2>System Administrators</h2>
<table><thead><tr><th scope="col">User Name</th><th scope="col">Full Name</th><th scope="col">E-mail Address</th><th scope="col">MFA</th><th scope="col">API Password</th><th scope="col"><span class="muted">Commands</span></th></tr></thead>
<tbody>${rows}</tbody></table>`);
}

export interface AdminFormValues {
  readonly userName?: string;
  readonly fullName?: string;
  readonly emailAddress?: string;
  readonly enableMfa?: boolean;
}

function profileFields(values: AdminFormValues) {
  return html`<label for="fullName">Full Name</label><input type="text" id="fullName" name="fullName" value="${values.fullName ?? ''}" maxlength="200">
<label for="emailAddress">E-mail Address</label><input type="email" id="emailAddress" name="emailAddress" value="${values.emailAddress ?? ''}" maxlength="254">`;
}

export function createAdministratorPage(frame: Frame, values: AdminFormValues = {}): string {
  return page({ ...frame, title: 'Create System Administrator' }, html`<form method="post" action="/administrators" class="card">${csrfField(frame.user.csrf)}
<h2>System Administrator Configuration</h2>
<label for="userName">User Name</label><input type="text" id="userName" name="userName" value="${values.userName ?? ''}" maxlength="64" autocomplete="off" autocapitalize="none" spellcheck="false" required>
${profileFields(values)}
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="new-password" required>
<label for="repeatPassword">Repeat Password</label><input type="password" id="repeatPassword" name="repeatPassword" autocomplete="new-password" required>
<label class="check"><input type="checkbox" name="enableMfa" value="on"${values.enableMfa ? html` checked` : ''}> Enable MFA</label>
<div class="actions"><button type="submit">OK</button><a class="button secondary" href="/administrators">Cancel</a></div></form>`);
}

export function configureAdministratorPage(frame: Frame, admin: SystemAdministratorView, values: AdminFormValues = admin): string {
  const csrf = csrfField(frame.user.csrf);
  const path = adminPath(admin.userName);
  return page({ ...frame, title: `Configure ${admin.userName}` }, html`<form method="post" action="${path}" class="card">${csrf}
<h2>System Administrator Configuration</h2>
<label for="userName">User Name</label><input type="text" id="userName" value="${admin.userName}" disabled>
${profileFields(values)}
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="new-password" aria-describedby="password-hint">
<p class="muted" id="password-hint">Leave both password fields empty to keep the current password.</p>
<label for="repeatPassword">Repeat Password</label><input type="password" id="repeatPassword" name="repeatPassword" autocomplete="new-password">
<div class="actions"><button type="submit">OK</button><a class="button secondary" href="/administrators">Cancel</a></div></form>
<section class="card"><h2>Multi-Factor Authentication</h2>
<p>Status: <span class="status" id="mfa-status">${MFA_TEXT[admin.mfaStatus]}</span></p>
<div class="actions">
${admin.mfaStatus === 'disabled'
    ? html`<form method="post" action="${path}/mfa">${csrf}<input type="hidden" name="action" value="enable"><button type="submit">Enable MFA</button></form>`
    : html`<form method="post" action="${path}/mfa">${csrf}<input type="hidden" name="action" value="disable"><button type="submit" class="danger">Disable MFA</button></form>`}
<form method="post" action="${path}/mfa">${csrf}<input type="hidden" name="action" value="reset"><button type="submit" class="secondary"${admin.mfaStatus === 'active' ? '' : html` disabled`}>Reset MFA Secret</button></form>
</div>
<p class="muted">After Enable or Reset, the administrator finishes the set-up at their next logon.</p></section>`);
}

export function deleteAdministratorPage(frame: Frame, admin: SystemAdministratorView): string {
  return page({ ...frame, title: 'Delete System Administrator' }, html`<form method="post" action="${adminPath(admin.userName, '/delete')}" class="card">${csrfField(frame.user.csrf)}
<p>Delete the system administrator <strong>${admin.userName}</strong>${admin.fullName ? html` (${admin.fullName})` : ''}?</p>
<div class="actions"><button type="submit" class="danger">OK</button><a class="button secondary" href="/administrators">Cancel</a></div></form>`);
}
