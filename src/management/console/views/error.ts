/** Error pages: short, no internals; a reference the operator can find in the log for bugs. */
import { html, page } from './layout.js';

export function errorPage(title: string, text: string, isLoggedOn: boolean): string {
  return page({ title, isNarrow: true }, html`<p>${text}</p><p><a href="${isLoggedOn ? '/instances' : '/login'}">${isLoggedOn ? 'Back to the console' : 'Log on'}</a></p>`);
}
