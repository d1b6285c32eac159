/**
 * RFC 5322 §3.3 date-time to milliseconds since the epoch, tolerant of what
 * is common in archives: missing day name or seconds, asctime order
 * ("Fri Feb 22 23:00:00 2008"), two-digit years
 * (RFC 5322 §4.3: < 50 → 20xx), obsolete zone names (§4.3), missing zone
 * (taken as UTC), extra text after the zone. Returns null if no date can be
 * made out. A token scanner, no backtracking regular expressions.
 */

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};

const ZONES: Record<string, number> = {
  ut: 0, utc: 0, gmt: 0, z: 0, edt: -4 * 60, est: -5 * 60, cdt: -5 * 60, cst: -6 * 60, mdt: -6 * 60, mst: -7 * 60,
  pdt: -7 * 60, pst: -8 * 60, cet: 60, cest: 120, met: 60, mest: 120, bst: 60, eet: 120, eest: 180, jst: 540,
};

export function parseMailDate(value: string | null | undefined): number | null {
  return parseMailDateZone(value)?.ms ?? null;
}

/**
 * Like parseMailDate, with the sender's zone offset in minutes east of UTC
 * (0 when missing). SENTON / SENTBEFORE / SENTSINCE compare the date as the
 * sender wrote it, "disregarding time and timezone" (RFC 3501 §6.4.4), so
 * the local day is (ms + zone * 60000) in UTC terms, as Dovecot computes it.
 */
export function parseMailDateZone(value: string | null | undefined): { ms: number; zoneMinutes: number } | null {
  if (!value) return null;
  const s = value.length > 200 ? value.slice(0, 200) : value;
  const tokens = s.replace(/\([^()]*\)/g, ' ').split(/[\s,]+/).filter((t) => t.length > 0);
  let day = -1;
  let month = -1;
  let year = -1;
  let h = 0;
  let m = 0;
  let sec = 0;
  let zone: number | null = null;
  let timeSeen = false;
  for (const tok of tokens) {
    const lower = tok.toLowerCase();
    if (!timeSeen && tok.includes(':')) {
      const [hh, mm, ss] = tok.split(':');
      h = parseInt(hh ?? '', 10);
      m = parseInt(mm ?? '', 10);
      sec = ss ? parseInt(ss, 10) : 0;
      if (![h, m, sec].every(Number.isFinite)) return null;
      timeSeen = true;
      continue;
    }
    if ((tok[0] === '+' || tok[0] === '-') && /^[+-]\d{4}$/.test(tok)) {
      const sign = tok[0] === '-' ? -1 : 1;
      zone = sign * (parseInt(tok.slice(1, 3), 10) * 60 + parseInt(tok.slice(3, 5), 10));
      continue;
    }
    const mon = MONTHS[lower.slice(0, 3)];
    if (month === -1 && mon !== undefined && /^[a-z]+\.?$/.test(lower)) {
      month = mon;
      continue;
    }
    if (/^\d+$/.test(tok)) {
      // "22 Feb 2008" (RFC 5322) and "Feb 22 ... 2008" (asctime, mbox From
      // lines): the first 1-2 digit number is the day, the next one the year.
      const v = parseInt(tok, 10);
      if (day === -1 && tok.length <= 2) day = v;
      else if (year === -1) year = tok.length <= 2 ? (v < 50 ? 2000 + v : 1900 + v) : tok.length === 3 ? 1900 + v : v;
      continue;
    }
    if (timeSeen && zone === null && ZONES[lower] !== undefined) zone = ZONES[lower]!;
  }
  if (day < 1 || day > 31 || month < 0 || year < 0 || h > 23 || m > 59 || sec > 60) {
    const fallback = Date.parse(s);
    return Number.isFinite(fallback) ? { ms: fallback, zoneMinutes: 0 } : null;
  }
  const utc = Date.UTC(year, month, day, h, m, Math.min(sec, 59));
  return { ms: utc - (zone ?? 0) * 60_000, zoneMinutes: zone ?? 0 };
}
