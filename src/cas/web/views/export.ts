/**
 * Progress page of a large export. Without script it offers the download link and shows the state
 * at each reload; with app.js it starts the download at once and polls the status (CSP: no inline
 * script, the URLs travel in data attributes).
 */
import { html, type SafeHtml } from '../html.js';
import { layout, type PageContext } from './layout.js';
import type { ExportFormat, ExportState } from '../export-jobs.js';

export interface ExportProgressModel { statusHref: string; downloadHref: string; percent: number; format: ExportFormat; total: number; state: ExportState }

/** `job` null: only a message (too many exports open, or this one already fetched). */
export function exportProgressPage(ctx: PageContext, job: ExportProgressModel | null, p: { back: string; text: string }): SafeHtml {
  const { t } = ctx;
  return layout(ctx, {
    title: t('export.progressTitle'),
    bodyClass: 'export-page',
    body: html`<section class="card export-progress"${job ? html` data-export-status="${job.statusHref}" data-export-download="${job.downloadHref}" data-export-state="${job.state}"` : ''}>
<a class="back" href="${p.back}">${t('nav.back')}</a>
<h1>${t('export.progressTitle')}</h1>
${job ? html`<p>${job.format === 'zip' ? t('export.zip') : t('export.mbox')} · ${t('list.count', { count: job.total.toLocaleString(ctx.locale) })}</p>
<progress max="100" value="${job.percent}" data-testid="export-progress">${job.percent} %</progress>` : ''}
<p role="status" aria-live="polite" data-export-text data-testid="export-text">${p.text}</p>
${job && job.state === 'waiting' ? html`<noscript><p><a href="${job.downloadHref}">${t('export.download')}</a> · ${t('export.reloadHint')}</p></noscript>` : ''}
</section>`,
  });
}
