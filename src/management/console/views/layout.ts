/**
 * The page frame of the console: header with navigation and logout, flash message, main area.
 * All markup goes through the escaping `html` template of Web Access (`src/cas/web/html.ts`).
 */
import { html, type SafeHtml, type HtmlValue } from '../../../cas/web/html.js';
import { CONSOLE_CSS_VERSION } from '../styles.js';
import type { ConsoleFlash } from '../session.js';

export { html, type SafeHtml, type HtmlValue };

export const PRODUCT_NAME = 'Coffer Management Console';

export type Section = 'instances' | 'administrators' | 'mfa';

export interface PageFrame {
  readonly title: string;
  /** Logged on: shows navigation and the logout button. */
  readonly user?: { readonly userName: string; readonly csrf: string };
  readonly section?: Section;
  readonly flash?: ConsoleFlash;
  /** Login pages: a narrow column. */
  readonly isNarrow?: boolean;
}

const NAV: readonly { section: Section; href: string; label: string }[] = [
  { section: 'instances', href: '/instances', label: 'Instances' },
  { section: 'administrators', href: '/administrators', label: 'System Administrators' },
  { section: 'mfa', href: '/mfa', label: 'Your MFA Settings' },
];

export function csrfField(csrf: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${csrf}">`;
}

export function flashBox(flash: ConsoleFlash | undefined): SafeHtml {
  if (!flash) return html``;
  return html`<div class="flash flash-${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}">${flash.text}</div>`;
}

export function page(frame: PageFrame, body: HtmlValue): string {
  const header = frame.user
    ? html`<header><span class="product">${PRODUCT_NAME}</span>
<nav aria-label="Main">${NAV.map((item) => html`<a href="${item.href}"${item.section === frame.section ? html` aria-current="page"` : ''}>${item.label}</a>`)}</nav>
<form method="post" action="/logout"><span>${frame.user.userName}</span>${csrfField(frame.user.csrf)}<button type="submit">Logout</button></form></header>`
    : html`<header><span class="product">${PRODUCT_NAME}</span></header>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} – ${PRODUCT_NAME}</title>
<link rel="stylesheet" href="/static/console-${CONSOLE_CSS_VERSION}.css"></head>
<body>${header}
<main${frame.isNarrow ? html` class="narrow"` : ''}><h1>${frame.title}</h1>${flashBox(frame.flash)}${body}</main>
</body></html>
`.value;
}
