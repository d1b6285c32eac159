/** Message view: headers with real addresses, body (text, or sanitised HTML in a sandboxed frame), attachments. */
import { html, type SafeHtml } from '../html.js';
import type { PageContext } from './layout.js';
import { layout } from './layout.js';
import type { Addr } from '../../../common/mime/index.js';
import type { RenderedMessage } from '../message-render.js';
import { formatDate, formatSize, highlight } from '../format.js';
import type { Highlighter } from '../format.js';

/** "Display Name <real@address>": the real address always beside the name, so a spoofed name shows. */
export function addressList(list: Addr[], unknown: string): SafeHtml {
  if (!list.length) return html`<span class="muted">${unknown}</span>`;
  return html`${list.map((a, i) => html`${i ? ', ' : ''}${a.group
    ? html`<span class="group">${a.name ?? ''}: ${addressList(a.group, '')}</span>`
    : html`<span class="addr">${a.name ? html`<span class="name">${a.name}</span> ` : ''}<span class="email">&lt;${a.address ?? unknown}&gt;</span></span>`}`)}`;
}

export interface MessageViewModel {
  folderId: number; uid: number; folderLabel: string; msg: RenderedMessage; backHref: string;
  allowRemote: boolean; highlightQuery: string; showRaw: boolean; rawHeaders: string | null; highlight: Highlighter | null; prefix: string;
  /** Other messages of the same conversation the user may read, oldest first. */
  conversation: { href: string; from: string; subject: string; date: number; folderPath: string }[];
}

export function messageView(ctx: PageContext, m: MessageViewModel): SafeHtml {
  const { t } = ctx;
  const p = m.msg.parsed;
  const a = p.addresses;
  const self = `${m.prefix}`;
  const q = (extra: Record<string, string>) => {
    const u = new URLSearchParams({ ...(m.highlightQuery ? { hl: m.highlightQuery } : {}), ...extra });
    const s = u.toString();
    return s ? `?${s}` : '';
  };
  const retParam = { ret: m.backHref };
  const row = (label: string, value: SafeHtml | string) => html`<div class="hrow"><dt>${label}</dt><dd>${value}</dd></div>`;
  return html`<div class="msg-tools">
<a class="back" href="${m.backHref}" data-testid="back">${t('nav.back')}</a>
<a href="${self}/eml" download data-testid="download-eml">${t('msg.downloadEml')}</a>
<a href="${self}/print${q({})}" target="_blank" rel="noopener">${t('msg.print')}</a>
<a href="${self}${q({ ...retParam, ...(m.allowRemote ? { remote: '1' } : {}), ...(m.showRaw ? {} : { raw: '1' }) })}" data-testid="raw-toggle">${m.showRaw ? t('msg.hideRawHeaders') : t('msg.rawHeaders')}</a>
</div>
<h1 class="msg-subject" data-testid="msg-subject">${highlight(p.fields.subject || t('list.noSubject'), m.highlight)}</h1>
<dl class="headers">
${row(t('msg.from'), addressList(a.from, t('msg.unknown')))}
${row(t('msg.to'), addressList(a.to, t('msg.unknown')))}
${a.cc.length ? row(t('msg.cc'), addressList(a.cc, '')) : ''}
${a.bcc.length ? row(t('msg.bcc'), addressList(a.bcc, '')) : ''}
${a.replyTo.length ? row(t('msg.replyTo'), addressList(a.replyTo, '')) : ''}
${row(t('msg.date'), formatDate(ctx.locale, p.fields.date, t('msg.unknown')))}
${row(t('msg.folder'), m.folderLabel)}
</dl>
${m.showRaw && m.rawHeaders !== null ? html`<pre class="raw-headers" data-testid="raw-headers">${m.rawHeaders}</pre>` : ''}
${p.problems.length ? html`<p class="notice">${t('msg.problems')}</p>` : ''}
${m.msg.attachments.length ? html`<section class="attachments"><h2>${t('msg.attachments')}</h2><ul data-testid="attachments">
${m.msg.attachments.map((att) => html`<li><a href="${self}/part/${att.partId}" download data-part="${att.partId}">${att.filename ?? `${att.contentType} (${att.partId})`}</a> <span class="muted">${att.contentType} · ${formatSize(t, att.size)}</span></li>`)}
</ul></section>` : ''}
${m.conversation.length ? html`<details class="conversation" data-testid="conversation"><summary>${t('msg.conversation', { count: m.conversation.length })}</summary><ol>
${m.conversation.map((c) => html`<li><a href="${c.href}"><span class="from">${c.from || t('msg.unknown')}</span> · ${formatDate(ctx.locale, c.date, t('msg.unknown'))} <span class="muted">${c.folderPath}</span></a></li>`)}
</ol></details>` : ''}
${m.msg.html ? html`${m.msg.html.remoteBlocked > 0 && !m.allowRemote ? html`<p class="notice remote" data-testid="remote-blocked">${t('msg.remoteBlocked')} <a href="${self}${q({ ...retParam, remote: '1' })}" data-testid="allow-remote">${t('msg.remoteAllow')}</a></p>` : ''}
<iframe class="body-frame" sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" title="${t('msg.htmlFrame')}" src="${self}/body${q(m.allowRemote ? { remote: '1' } : {})}" data-testid="body-frame"></iframe>`
    : m.msg.text !== null ? html`<pre class="plain" data-testid="body-text">${highlight(m.msg.text, m.highlight)}</pre>`
    : html`<p class="muted">${t('msg.noBody')}</p>`}`;
}

export function printView(ctx: PageContext, msg: RenderedMessage, text: string): SafeHtml {
  const { t } = ctx;
  const p = msg.parsed;
  return layout(ctx, {
    title: p.fields.subject || t('list.noSubject'),
    bodyClass: 'print-page',
    body: html`<article class="print" data-autoprint="1"><h1>${p.fields.subject || t('list.noSubject')}</h1>
<dl class="headers"><div class="hrow"><dt>${t('msg.from')}</dt><dd>${addressList(p.addresses.from, t('msg.unknown'))}</dd></div>
<div class="hrow"><dt>${t('msg.to')}</dt><dd>${addressList(p.addresses.to, t('msg.unknown'))}</dd></div>
${p.addresses.cc.length ? html`<div class="hrow"><dt>${t('msg.cc')}</dt><dd>${addressList(p.addresses.cc, '')}</dd></div>` : ''}
<div class="hrow"><dt>${t('msg.date')}</dt><dd>${formatDate(ctx.locale, p.fields.date, t('msg.unknown'))}</dd></div></dl>
${msg.attachments.length ? html`<p>${t('msg.attachments')}: ${msg.attachments.map((a, i) => html`${i ? ', ' : ''}${a.filename ?? a.contentType}`)}</p>` : ''}
<pre class="plain">${text}</pre></article>`,
  });
}
