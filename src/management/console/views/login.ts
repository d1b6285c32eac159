/** Login: user name and password, then the TOTP code, or the MFA enrolment (secret, otpauth URI, first code). */
import type { MfaEnrolment } from '../../admins.js';
import type { ConsoleFlash } from '../session.js';
import { csrfField, html, page } from './layout.js';
import { qrCodeSvg } from './qr-code.js';

export function loginPage(options: { csrf: string; userName?: string; flash?: ConsoleFlash }): string {
  return page({ title: 'Log on', flash: options.flash, isNarrow: true }, html`<form method="post" action="/login" class="card">${csrfField(options.csrf)}
<label for="userName">User name</label><input type="text" id="userName" name="userName" value="${options.userName ?? ''}" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<div class="actions"><button type="submit">OK</button></div></form>`);
}

const codeField = html`<label for="code">Code</label><input type="text" id="code" name="code" inputmode="numeric" pattern="[0-9 ]{6,7}" maxlength="7" autocomplete="one-time-code" required autofocus>`;

export function codePage(options: { csrf: string; userName: string; flash?: ConsoleFlash }): string {
  return page({ title: 'Multi-Factor Authentication', flash: options.flash, isNarrow: true }, html`<form method="post" action="/login/code" class="card">${csrfField(options.csrf)}
<p>Enter the code your authenticator app shows for <strong>${options.userName}</strong>.</p>${codeField}
<div class="actions"><button type="submit">OK</button><a class="button secondary" href="/login?restart=1">Cancel</a></div></form>`);
}

/** Groups of four, as authenticator apps show secrets for typing. */
function groupSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

export function enrolPage(options: { csrf: string; userName: string; enrolment: MfaEnrolment; flash?: ConsoleFlash }): string {
  return page({ title: 'Set up Multi-Factor Authentication', flash: options.flash, isNarrow: true }, html`<form method="post" action="/login/code" class="card">${csrfField(options.csrf)}
<p>MFA has been enabled for <strong>${options.userName}</strong>. Scan the QR code with a TOTP authenticator app on your phone, or enter the secret shown below it (time based, 6 digits, 30 seconds).</p>
${qrCodeSvg(options.enrolment.otpauthUri, 'QR code of the MFA secret')}
<p class="secret" id="mfa-secret" aria-label="Secret">${groupSecret(options.enrolment.secret)}</p>
<details><summary>Setup link (otpauth URI)</summary><p class="uri"><a id="mfa-uri" href="${options.enrolment.otpauthUri}">${options.enrolment.otpauthUri}</a></p></details>
<p>Then enter the code the app shows to finish the set-up.</p>${codeField}
<div class="actions"><button type="submit">OK</button><a class="button secondary" href="/login?restart=1">Cancel</a></div></form>`);
}
