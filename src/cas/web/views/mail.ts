/** Folder tree, message list and the three-pane shell (one column with back links on phones). */
import { html, type SafeHtml, type HtmlValue } from '../html.js';
import { layout, type PageContext } from './layout.js';
import type { FolderInfo, ArchiveHit } from '../../../instance/api.js';
import { formatDate, formatSize, highlight } from '../format.js';
import type { Highlighter } from '../format.js';

interface TreeNode { name: string; path: string; folder?: FolderInfo; children: TreeNode[] }

/** Groups readable folders by user archive: own archive first as "My Archive", then "Archive of <name>". */
export function buildTree(folders: FolderInfo[], userName: string): { archive: string; own: boolean; root: TreeNode }[] {
  const byArchive = new Map<string, FolderInfo[]>();
  for (const f of folders) {
    const key = f.archive;
    if (!byArchive.has(key)) byArchive.set(key, []);
    byArchive.get(key)!.push(f);
  }
  const out = [...byArchive.entries()].map(([archive, list]) => {
    const root: TreeNode = { name: archive, path: archive, children: [] };
    const index = new Map<string, TreeNode>([[archive.toLowerCase(), root]]);
    for (const f of [...list].sort((a, b) => a.path.localeCompare(b.path))) {
      const segs = f.path.split('/');
      let node = root;
      for (let i = 1; i < segs.length; i++) {
        const p = segs.slice(0, i + 1).join('/');
        let child = index.get(p.toLowerCase());
        if (!child) { child = { name: segs[i]!, path: p, children: [] }; node.children.push(child); index.set(p.toLowerCase(), child); }
        node = child;
      }
      node.folder = f;
    }
    return { archive, own: archive.toLowerCase() === userName.toLowerCase(), root };
  });
  return out.sort((a, b) => Number(b.own) - Number(a.own) || a.archive.localeCompare(b.archive));
}

function nodeTotal(n: TreeNode): number { return (n.folder?.messages ?? 0); }

function renderNode(ctx: PageContext, n: TreeNode, label: string, currentId: number | undefined): SafeHtml {
  const count = nodeTotal(n);
  const inner = n.folder
    ? html`<a href="${ctx.base}/folder/${n.folder.id}" ${n.folder.id === currentId ? html`aria-current="page"` : ''} data-folder-id="${n.folder.id}"><span class="fname">${label}</span>${count ? html`<span class="count">${count}</span>` : ''}</a>`
    : html`<span class="fname nolink">${label}</span>`;
  return html`<li>${inner}${n.children.length ? html`<ul>${n.children.map((c) => renderNode(ctx, c, c.name, currentId))}</ul>` : ''}</li>`;
}

export function folderTree(ctx: PageContext, folders: FolderInfo[], currentId?: number): SafeHtml {
  const { t } = ctx;
  const tree = buildTree(folders, ctx.user?.userName ?? '');
  if (!tree.length) return html`<p class="muted">${t('tree.empty')}</p>`;
  return html`<ul class="tree" data-testid="folder-tree">${tree.map((a) => renderNode(ctx, a.root, a.own ? t('tree.myArchive') : t('tree.archiveOf', { name: a.archive }), currentId))}</ul>`;
}

export type Pane = 'tree' | 'list' | 'message';

/** The shell: tree | list | message. `pane` says which column a phone shows. */
export function mailShell(ctx: PageContext, p: { title: string; pane: Pane; folders: FolderInfo[]; currentFolderId?: number; list?: HtmlValue; message?: HtmlValue }): SafeHtml {
  const { t } = ctx;
  return layout(ctx, {
    title: p.title,
    bodyClass: `mail-page pane-${p.pane}`,
    body: html`<div class="mail" data-pane="${p.pane}">
<nav class="pane pane-tree" aria-label="${t('nav.folders')}"><h2 class="pane-title">${t('nav.folders')}</h2>${folderTree(ctx, p.folders, p.currentFolderId)}</nav>
<section class="pane pane-list">${p.list ?? html`<p class="muted placeholder">${t('list.chooseFolder')}</p>`}</section>
${p.message ? html`<article class="pane pane-message">${p.message}</article>` : ''}
</div>`,
  });
}

export interface ListRow { folderId: number; uid: number; from: string; subject: string; date: number | null; size: number; hasAttachments: boolean; folderPath?: string }

export function rowsFromHits(hits: ArchiveHit[]): ListRow[] {
  return hits.map((h) => ({ folderId: h.folderId, uid: h.uid, from: h.from, subject: h.subject, date: h.date, size: h.size, hasAttachments: h.hasAttachments, folderPath: h.folderPath }));
}

/** Message list with selection for export, keyboard focus rows, and keyset paging links. */
export function messageList(ctx: PageContext, p: {
  heading: HtmlValue; total: number; rows: ListRow[]; nextHref: string | null; firstHref: string | null; backHref: string; ret: string;
  highlight?: Highlighter | null; canExport: boolean; canRestore?: boolean;
  /** Search results come from many folders: say which. */
  showFolder?: boolean; exportScope?: { kind: 'folder'; folderId: number } | { kind: 'search'; params: Record<string, string> };
  sortLinks?: HtmlValue; countKey?: 'list.count' | 'search.results';
  /** Search words passed on to the message view for highlighting. */
  hlQuery?: string;
  /** Pager link texts; default "Older messages" / "Newest messages" (lists newest first). */
  pagerLabels?: { next: string; first: string };
}): SafeHtml {
  const { t } = ctx;
  const href = (r: ListRow) => `${ctx.base}/message/${r.folderId}/${r.uid}?${p.hlQuery ? `hl=${encodeURIComponent(p.hlQuery)}&` : ''}ret=${encodeURIComponent(p.ret)}`;
  const count = t(p.countKey ?? 'list.count', { count: p.total.toLocaleString(ctx.locale) });
  return html`<div class="list-head">
<a class="back" href="${p.backHref}">${t('nav.back')}</a>
<h1 class="list-title">${p.heading}</h1>
<p class="count" data-testid="result-count" data-count="${p.total}">${count}</p>
${p.sortLinks ?? ''}
</div>
${p.canExport ? html`<form id="export-form" class="export" method="post" action="${ctx.base}/export">
<input type="hidden" name="_csrf" value="${ctx.csrf ?? ''}">
${p.exportScope?.kind === 'folder' ? html`<input type="hidden" name="folderId" value="${p.exportScope.folderId}">` : ''}
${p.exportScope?.kind === 'search' ? Object.entries(p.exportScope.params).map(([k, v]) => html`<input type="hidden" name="q_${k}" value="${v}">`) : ''}
<label>${t('export.title')} <select name="format"><option value="zip">${t('export.zip')}</option><option value="mbox">${t('export.mbox')}</option></select></label>
<button type="submit" name="scope" value="selected">${t('export.selected')}</button>
${p.canRestore ? html`<button type="submit" formaction="${ctx.base}/restore" data-testid="restore">${t('restore.button')}</button>` : ''}
<button type="submit" name="scope" value="${p.exportScope?.kind === 'search' ? 'search' : 'folder'}">${p.exportScope?.kind === 'search' ? t('export.results') : t('export.folder')}</button>
</form>` : ''}
${p.rows.length === 0 ? html`<p class="muted">${t('list.empty')}</p>` : html`<ol class="msglist" data-testid="message-list">
${p.rows.map((r) => html`<li class="row" data-href="${href(r)}">
${p.canExport ? html`<label class="selbox"><input type="checkbox" class="sel" name="m" value="${r.folderId}:${r.uid}" form="export-form" aria-label="${t('list.select')}"></label>` : ''}
<a class="open" href="${href(r)}">
<span class="from">${highlight(r.from || t('msg.unknown'), p.highlight ?? null)}</span>
<span class="subject">${highlight(r.subject || t('list.noSubject'), p.highlight ?? null)}</span>
<span class="meta">${p.showFolder && r.folderPath ? html`<span class="folder">${r.folderPath}</span> · ` : ''}${r.hasAttachments ? html`<span class="att" title="${t('list.attachment')}"><span class="sr">${t('list.attachment')}</span></span>` : ''}${formatDate(ctx.locale, r.date, t('msg.unknown'))} · <span class="size">${formatSize(t, r.size)}</span></span>
</a></li>`)}
</ol>`}
<nav class="pager">${p.firstHref ? html`<a href="${p.firstHref}">${p.pagerLabels?.first ?? t('list.first')}</a>` : ''}${p.nextHref ? html`<a href="${p.nextHref}" rel="next" data-testid="next-page">${p.pagerLabels?.next ?? t('list.next')}</a>` : ''}</nav>`;
}
