/** A small HTTPS client with a cookie jar for Web Access tests, trusting only the test certificate. */
import https from 'node:https';

export interface WebResponse { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; text: string }

export class WebClient {
  cookies = new Map<string, string>();
  setCookieLines: string[] = [];
  constructor(private port: number, private ca: string, private extraHeaders: Record<string, string> = {}) {}

  request(method: string, p: string, opts: { form?: Record<string, string | string[]>; headers?: Record<string, string> } = {}): Promise<WebResponse> {
    const body = opts.form ? new URLSearchParams(Object.entries(opts.form).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]))).toString() : undefined;
    return new Promise((resolve, reject) => {
      const req = https.request({
        host: '127.0.0.1', port: this.port, path: p, method, ca: this.ca, servername: 'localhost',
        headers: {
          ...this.extraHeaders, ...opts.headers,
          ...(this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
          ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) } : {}),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          for (const line of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
            this.setCookieLines.push(line);
            const [pair] = line.split(';');
            const i = pair!.indexOf('=');
            const name = pair!.slice(0, i), value = pair!.slice(i + 1);
            if (/expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0\b/i.test(line) || value === '') this.cookies.delete(name); else this.cookies.set(name, value);
          }
          const b = Buffer.concat(chunks);
          resolve({ status: res.statusCode!, headers: res.headers, body: b, text: b.toString('utf8') });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  get(p: string, headers?: Record<string, string>) { return this.request('GET', p, { headers }); }
  post(p: string, form: Record<string, string | string[]>, headers?: Record<string, string>) { return this.request('POST', p, { form, headers }); }

  /** Steps 1 and 2 of the login; the answer to the password step (303 when in, 200 with a code field when a code is asked). */
  async login(base: string, user: string, password: string, extra: Record<string, string> = {}): Promise<WebResponse> {
    const p1 = await this.get(`${base}/login`);
    await this.post(`${base}/login`, { _csrf: csrfOf(p1.text), user });
    const p2 = await this.get(`${base}/login`);
    return this.post(`${base}/login/password`, { _csrf: csrfOf(p2.text), password, ...extra });
  }
}

export const csrfOf = (html: string): string => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
