/** Advanced search form (the quick box is in the page header). */
import { html, type SafeHtml } from '../html.js';
import type { PageContext } from './layout.js';
import type { FolderInfo } from '../../../instance/api.js';
import type { SearchParams } from '../search-query.js';

export function searchForm(ctx: PageContext, p: SearchParams, folders: FolderInfo[], open: boolean): SafeHtml {
  const { t } = ctx;
  const field = (name: keyof SearchParams, label: string, type = 'text') =>
    html`<label><span>${label}</span><input name="${name}" type="${type}" value="${p[name] ?? ''}" ${type === 'text' ? html`maxlength="500"` : ''}></label>`;
  return html`<details class="advanced" ${open ? html`open` : ''}><summary>${t('nav.advancedSearch')}</summary>
<form method="get" action="${ctx.base}/search" class="grid" data-testid="advanced-search">
${field('q', t('search.text'))}${field('from', t('search.from'))}${field('to', t('search.to'))}${field('cc', t('search.cc'))}${field('bcc', t('search.bcc'))}
${field('subject', t('search.subject'))}${field('body', t('search.body'))}${field('attachmentNames', t('search.attachmentNames'))}${field('attachmentContents', t('search.attachmentContents'))}
${field('dateFrom', t('search.dateFrom'), 'date')}${field('dateTo', t('search.dateTo'), 'date')}
<label><span>${t('search.folder')}</span><select name="folderId"><option value="">${t('search.allFolders')}</option>
${folders.map((f) => html`<option value="${f.id}" ${String(f.id) === p.folderId ? html`selected` : ''}>${f.path}</option>`)}</select></label>
<label class="check"><input type="checkbox" name="includeSubfolders" value="1" ${p.includeSubfolders === '1' ? html`checked` : ''}> ${t('search.includeSubfolders')}</label>
<label class="check"><input type="checkbox" name="hasAttachments" value="1" ${p.hasAttachments === '1' ? html`checked` : ''}> ${t('search.hasAttachments')}</label>
<p class="hint">${t('search.hint')}</p>
<button type="submit" class="primary">${t('search.submit')}</button>
</form></details>`;
}
