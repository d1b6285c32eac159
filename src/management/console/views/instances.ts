/** Instances overview: status from GetInstances, Start / Stop / Restart as POST forms. */
import type { InstanceView } from '../../instances/instance-lifecycle.js';
import type { PageFrame } from './layout.js';
import { csrfField, html, page } from './layout.js';

type Frame = PageFrame & { user: { userName: string; csrf: string } };

const RUNNING_LIKE = new Set(['running', 'frozen', 'safeMode', 'starting']);

export function instancesPage(frame: Frame, instances: readonly InstanceView[] | null): string {
  if (instances === null) return page(frame, html`<p>The instance list is not available right now.</p>`);
  if (instances.length === 0) return page(frame, html`<p>There are no instances yet. Create one with the Management API (<code>CreateInstance</code>).</p>`);
  const csrf = csrfField(frame.user.csrf);
  const button = (id: string, action: 'start' | 'stop' | 'restart', label: string, isEnabled: boolean) =>
    html`<form method="post" action="/instances/${encodeURIComponent(id)}/${action}">${csrf}<button type="submit" class="secondary"${isEnabled ? '' : html` disabled`} aria-label="${label} ${id}">${label}</button></form>`;
  const rows = instances.map((instance) => {
    const isUp = RUNNING_LIKE.has(instance.status);
    return html`<tr data-instance="${instance.instanceID}"><td>${instance.instanceID}</td><td>${instance.alias ?? ''}</td><td>${instance.displayName}</td><td>${instance.instanceHost}</td>
<td><span class="status status-${instance.status}">${instance.status}</span>${instance.startStopError ? html`<br><span class="muted">${instance.startStopError}</span>` : ''}</td><td>${instance.startMode}</td>
<td class="buttons">${button(instance.instanceID, 'start', 'Start', !isUp)} ${button(instance.instanceID, 'stop', 'Stop', isUp || instance.status === 'error')} ${button(instance.instanceID, 'restart', 'Restart', isUp)}</td></tr>`;
  });
  return page(frame, html`<table><thead><tr><th scope="col">Instance ID</th><th scope="col">Alias</th><th scope="col">Display Name</th><th scope="col">Instance Host</th><th scope="col">Status</th><th scope="col">Start Mode</th><th scope="col"><span class="muted">Commands</span></th></tr></thead>
<tbody>${rows}</tbody></table>`);
}
