/**
 * The console's whole stylesheet, served as /static/console.css (the CSP allows no inline style).
 * System fonts, no images; readable on a phone, since operators get paged.
 */
import { createHash } from 'node:crypto';

export const CONSOLE_CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d232a;background:#f4f6f8}
a{color:#0b5cad}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem;padding:.6rem 1rem;background:#1f2d3d;color:#fff}
header .product{font-weight:600;margin-right:auto}
header nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem}
header a{color:#fff;text-decoration:none;padding:.2rem 0;border-bottom:2px solid transparent}
header a[aria-current=page]{border-bottom-color:#8cc4ff}
header form{display:flex;align-items:center;gap:.5rem;margin:0}
main{max-width:60rem;margin:1.5rem auto;padding:0 1rem}
main.narrow{max-width:26rem}
h1{font-size:1.4rem;margin:0 0 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.card>h2:first-child{margin-top:0}
.card{background:#fff;border:1px solid #d5dbe1;border-radius:6px;padding:1rem 1.25rem;margin-bottom:1rem}
label{display:block;margin:.6rem 0 .2rem;font-weight:500}
label.check{display:flex;gap:.5rem;align-items:center;font-weight:400}
input[type=text],input[type=password],input[type=email]{width:100%;padding:.45rem .5rem;border:1px solid #9aa5b1;border-radius:4px;font:inherit}
input:focus,button:focus,a:focus{outline:3px solid #8cc4ff;outline-offset:1px}
button,.button{display:inline-block;padding:.4rem .9rem;border:1px solid #0b5cad;border-radius:4px;background:#0b5cad;color:#fff;font:inherit;cursor:pointer;text-decoration:none;min-height:2.2rem}
button.secondary,.button.secondary{background:#fff;color:#0b5cad}
button.danger{background:#b42318;border-color:#b42318}
button:disabled{opacity:.5;cursor:not-allowed}
header button{background:transparent;border-color:#8cc4ff;min-height:auto;padding:.15rem .6rem}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:1rem}
.inline{display:inline}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #d5dbe1}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e3e8ed;vertical-align:top}
th{background:#eef1f4;font-weight:600}
td.buttons{white-space:nowrap}
td.buttons form{display:inline}
td.buttons button{min-height:auto;padding:.15rem .6rem}
.status{font-weight:600}
.status-running{color:#067647}.status-error{color:#b42318}.status-stopped{color:#5d6b7a}
.flash{padding:.6rem .9rem;border-radius:4px;margin-bottom:1rem}
.flash-ok{background:#e3f6ea;border:1px solid #76c893}
.flash-error{background:#fdecea;border:1px solid #f1998e}
.secret{font:1.15rem/1.6 ui-monospace,monospace;letter-spacing:.05em;overflow-wrap:anywhere;background:#f4f6f8;padding:.4rem .6rem;border-radius:4px}
.qr{display:block;width:13rem;height:13rem;margin:.5rem auto}
.uri{font:.85rem ui-monospace,monospace;word-break:break-all}
.muted{color:#5d6b7a}
`;

/** Changes whenever the stylesheet does, so it can be cached for a year. */
export const CONSOLE_CSS_VERSION = createHash('sha256').update(CONSOLE_CSS).digest('hex').slice(0, 12);
