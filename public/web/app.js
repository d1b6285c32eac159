// Coffer Web Access: the little script the pages use. Pages work without it; it adds local
// times, keyboard navigation (j/k, Enter, Esc), the print dialog of the print view and the
// progress of large exports.
(function () {
  'use strict';
  var lang = document.documentElement.lang || undefined;
  var fmt;
  try { fmt = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }); } catch (e) { fmt = null; }
  if (fmt) {
    var times = document.querySelectorAll('time[datetime]');
    for (var i = 0; i < times.length; i++) {
      var d = new Date(times[i].getAttribute('datetime'));
      if (!isNaN(d.getTime())) times[i].textContent = fmt.format(d);
    }
  }

  var rows = Array.prototype.slice.call(document.querySelectorAll('.msglist .row'));
  var current = -1;
  function select(n) {
    if (!rows.length) return;
    n = Math.max(0, Math.min(rows.length - 1, n));
    if (current >= 0 && rows[current]) rows[current].classList.remove('selected');
    current = n;
    rows[n].classList.add('selected');
    var a = rows[n].querySelector('a.open');
    if (a) a.focus({ preventScroll: false });
  }
  document.addEventListener('keydown', function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var t = ev.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) {
      if (ev.key === 'Escape' && t.blur) t.blur();
      return;
    }
    if (ev.key === 'j') { select(current + 1); ev.preventDefault(); }
    else if (ev.key === 'k') { select(current < 0 ? 0 : current - 1); ev.preventDefault(); }
    else if (ev.key === 'Enter' && current >= 0 && document.activeElement === document.body) {
      var a = rows[current].querySelector('a.open'); if (a) { a.click(); ev.preventDefault(); }
    } else if (ev.key === 'Escape') {
      var back = document.querySelector('.pane-message .back, .list-head .back, .account .back');
      if (back && back.href) { location.href = back.href; ev.preventDefault(); }
    } else if (ev.key === '/') {
      var q = document.querySelector('.quick-search input'); if (q) { q.focus(); ev.preventDefault(); }
    }
  });
  rows.forEach(function (row, n) {
    row.addEventListener('focusin', function () { if (current !== n) { if (current >= 0 && rows[current]) rows[current].classList.remove('selected'); current = n; row.classList.add('selected'); } });
  });

  if (document.querySelector('[data-autoprint]')) window.addEventListener('load', function () { window.print(); });

  // Large export: fetch the file (the page stays, it is an attachment) and show how far it is.
  var job = document.querySelector('[data-export-status]');
  if (job && window.fetch) {
    var bar = job.querySelector('progress'), text = job.querySelector('[data-export-text]');
    if (job.getAttribute('data-export-state') === 'waiting') location.href = job.getAttribute('data-export-download');
    var poll = function () {
      fetch(job.getAttribute('data-export-status'), { credentials: 'same-origin', cache: 'no-store', redirect: 'manual' }).then(function (r) {
        // Signed out, or the export is gone: nothing more to show.
        if (r.type === 'opaqueredirect' || (r.status >= 400 && r.status < 500)) return null;
        if (!r.ok) throw new Error(r.status);
        return r.json();
      }).then(function (s) {
        if (!s) return;
        if (bar) { bar.value = s.percent; bar.textContent = s.percent + ' %'; }
        if (text) text.textContent = s.text;
        job.setAttribute('data-export-state', s.state);
        if (s.state === 'waiting' || s.state === 'running') setTimeout(poll, 500);
      }, function () { setTimeout(poll, 2000); });
    };
    setTimeout(poll, 300);
  }
})();
