/**
 * The report's only script, inlined and allowed by its sha256 in the page's Content-Security-
 * Policy. Plain ES2017 for any browser; it never reads text from the page into markup (only
 * textContent, attributes it set itself, and the `hidden`/`open` properties).
 *
 * Without it the page is complete: every row is rendered server-side and every detail section
 * opens with a click. With it: sortable columns, a text filter, a verdict filter, and detail
 * sections that open when a link to them is followed.
 */
export const CLIENT_SCRIPT = String.raw`(function () {
  'use strict';
  var table = document.getElementById('message-table');
  if (!table || !table.tHead) return;
  // Rows live in bodies of a fixed size, each laid out only when it is on screen. Sorting and
  // filtering re-deal the matching rows, in order, into those bodies; rows that do not match
  // are taken out of the document (and kept here).
  var bodies = Array.prototype.slice.call(table.tBodies);
  var perBody = Number(table.getAttribute('data-rows-per-body')) || 500;
  var rows = [];
  bodies.forEach(function (body) {
    Array.prototype.forEach.call(body.rows, function (row) { if (row.hasAttribute('data-verdict')) rows.push(row); });
  });
  var order = rows.map(function (_, i) { return i; });
  var keys = {};
  var texts = null;
  var collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true });
  var controls = document.getElementById('table-controls');
  var filterInput = document.getElementById('message-filter');
  var verdictSelect = document.getElementById('verdict-filter');
  var countOut = document.getElementById('visible-count');
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  if (controls) controls.hidden = false;

  function keysFor(col) {
    if (!keys[col]) {
      keys[col] = rows.map(function (row) {
        var cell = row.cells[col];
        if (!cell) return '';
        var key = cell.getAttribute('data-sort');
        return key === null ? cell.textContent.trim() : key;
      });
    }
    return keys[col];
  }

  function matching() {
    var query = filterInput ? filterInput.value.trim().toLowerCase() : '';
    var verdict = verdictSelect ? verdictSelect.value : '';
    var words = query ? query.split(/\s+/) : [];
    if (words.length && !texts) texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
    return order.filter(function (i) {
      if (verdict && rows[i].getAttribute('data-verdict') !== verdict) return false;
      for (var w = 0; w < words.length; w++) if (texts[i].indexOf(words[w]) === -1) return false;
      return true;
    });
  }

  function render() {
    var shown = matching();
    bodies.forEach(function (body, b) {
      var fragment = document.createDocumentFragment();
      var end = Math.min(shown.length, (b + 1) * perBody);
      for (var k = b * perBody; k < end; k++) fragment.appendChild(rows[shown[k]]);
      body.textContent = '';
      body.appendChild(fragment);
      body.hidden = end <= b * perBody;
    });
    showCount(shown.length);
  }

  function showCount(shown) {
    if (!countOut) return;
    countOut.textContent = shown === rows.length
      ? 'Showing all ' + rows.length.toLocaleString('en') + ' messages'
      : 'Showing ' + shown.toLocaleString('en') + ' of ' + rows.length.toLocaleString('en') + ' messages';
  }

  headers.forEach(function (th, col) {
    var button = th.querySelector('button');
    if (!button) return;
    button.addEventListener('click', function () {
      var direction = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
      headers.forEach(function (other) { other.setAttribute('aria-sort', 'none'); });
      th.setAttribute('aria-sort', direction);
      var k = keysFor(col);
      order = rows.map(function (_, i) { return i; });
      order.sort(function (a, b) {
        // Empty values (no date, no subject) go last whichever the direction.
        if (k[a] === '' && k[b] !== '') return 1;
        if (k[b] === '' && k[a] !== '') return -1;
        var c = collator.compare(k[a], k[b]);
        if (c === 0) return a - b;
        return direction === 'ascending' ? c : -c;
      });
      render();
    });
  });

  var timer = null;
  var delay = rows.length > 5000 ? 250 : 0;
  function scheduleRender() {
    if (timer) clearTimeout(timer);
    if (delay === 0) render(); else timer = setTimeout(render, delay);
  }
  if (filterInput) filterInput.addEventListener('input', scheduleRender);
  if (verdictSelect) verdictSelect.addEventListener('change', render);
  // A browser may restore the controls' values on reload: honour them.
  if ((filterInput && filterInput.value) || (verdictSelect && verdictSelect.value)) render(); else showCount(rows.length);

  function openTarget() {
    var id = location.hash ? decodeURIComponent(location.hash.slice(1)) : '';
    var target = id ? document.getElementById(id) : null;
    if (target && target.tagName === 'DETAILS') {
      target.open = true;
      target.scrollIntoView();
    }
  }
  window.addEventListener('hashchange', openTarget);
  openTarget();

  var expand = document.getElementById('expand-all');
  var collapse = document.getElementById('collapse-all');
  var toggles = document.getElementById('detail-toggles');
  if (toggles) toggles.hidden = false;
  function setAll(open) {
    Array.prototype.forEach.call(document.querySelectorAll('details.msg'), function (d) { d.open = open; });
  }
  if (expand) expand.addEventListener('click', function () { setAll(true); });
  if (collapse) collapse.addEventListener('click', function () { setAll(false); });
})();
`;
