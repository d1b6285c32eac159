/** Page frame of Web Access: header with brand, search and user menu, footer with provider links. */
import { html, type SafeHtml, type HtmlValue } from '../html.js';
import type { Branding } from '../branding.js';
import { LOCALES, translator, type Locale, type Translate } from '../i18n.js';

/** What every page needs to render: language, branding, and (inside an instance) the user. */
export interface PageContext {
  t: Translate;
  locale: Locale;
  branding: Branding;
  /** Content hash of app.js + app.css, so a new release is fetched at once. */
  assetVersion: string;
  /** Current request path with query, for the language switch. */
  path: string;
  /** `/<instance>` when inside an instance's Web Access. */
  base?: string;
  user?: { userName: string; fullName: string };
  csrf?: string;
  /** Text of the quick search box. */
  query?: string;
}

function langHref(path: string, locale: Locale): string {
  const u = new URL(path, 'https://x');
  u.searchParams.set('lang', locale);
  return u.pathname + u.search;
}

function langLinks(ctx: PageContext): SafeHtml {
  return html`<nav class="lang" aria-label="${ctx.t('lang.switch')}">${LOCALES.map((l) => l === ctx.locale
    ? html`<span aria-current="true">${translator(l)('lang.name')}</span>`
    : html`<a href="${langHref(ctx.path, l)}" hreflang="${l}" lang="${l}">${translator(l)('lang.name')}</a>`)}</nav>`;
}

export function layout(ctx: PageContext, p: { title: string; body: HtmlValue; bodyClass?: string }): SafeHtml {
  const b = ctx.branding;
  const { t } = ctx;
  const texts = b.texts[ctx.locale];
  return html`<!doctype html>
<html lang="${ctx.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="theme-color" content="${b.colors.primary}">
<title>${p.title} — ${b.productName}</title>
<link rel="icon" href="/branding/favicon.png?v=${b.version}">
<link rel="stylesheet" href="/static/app.css?v=${ctx.assetVersion}">
<link rel="stylesheet" href="/branding/theme.css?v=${b.version}">
<script src="/static/app.js?v=${ctx.assetVersion}" defer></script>
</head>
<body class="${p.bodyClass ?? ''}">
<a class="skip" href="#main">${t('app.skip')}</a>
<header class="topbar">
<a class="brand" href="${ctx.base ? `${ctx.base}/` : '/'}"><img src="/branding/logo.png?v=${b.version}" alt="" class="logo" width="${Math.round(b.logo.width / 2)}" height="${Math.round(b.logo.height / 2)}"><span class="product" data-testid="product-name">${b.productName}</span></a>
${ctx.user && ctx.base ? html`<form class="quick-search" role="search" method="get" action="${ctx.base}/search">
<input type="search" name="q" value="${ctx.query ?? ''}" placeholder="${t('search.quick')}" aria-label="${t('search.quick')}" maxlength="500">
<button type="submit">${t('nav.search')}</button></form>
<nav class="usermenu"><a href="${ctx.base}/search?advanced=1">${t('nav.advancedSearch')}</a>
<a href="${ctx.base}/account">${t('nav.account')}</a>
<form method="post" action="${ctx.base}/logout"><input type="hidden" name="_csrf" value="${ctx.csrf ?? ''}"><button type="submit" class="linkish">${t('nav.logout')}</button></form></nav>` : ''}
${langLinks(ctx)}
</header>
<main id="main">${p.body}</main>
<footer class="footer"><span>${texts.footer}</span>
${b.links.map((l) => html` <a href="${l.url}" rel="noopener noreferrer">${l.label}</a>`)}
${b.supportEmail ? html` <a href="mailto:${b.supportEmail}">${t('nav.support')}</a>` : ''}
<a href="/about">${t('nav.about')}</a></footer>
</body>
</html>`;
}

/** Branded error page body (404, 503, 400, 403, 500): a title, a text, a way back. */
export function errorPage(ctx: PageContext, title: string, text: string): SafeHtml {
  return layout(ctx, {
    title,
    bodyClass: 'error-page',
    body: html`<section class="card"><h1>${title}</h1><p>${text}</p><p><a href="${ctx.base ? `${ctx.base}/` : '/'}">${ctx.t('error.back')}</a></p></section>`,
  });
}
