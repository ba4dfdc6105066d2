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
  var tbody = table ? table.tBodies[0] : null;
  if (!table || !tbody) return;
  var rows = Array.prototype.slice.call(tbody.rows);
  var texts = null;
  var collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true });
  var controls = document.getElementById('table-controls');
  var filterInput = document.getElementById('message-filter');
  var verdictSelect = document.getElementById('verdict-filter');
  var countOut = document.getElementById('visible-count');
  if (controls) controls.hidden = false;

  function sortKey(row, col) {
    var cell = row.cells[col];
    if (!cell) return '';
    var key = cell.getAttribute('data-sort');
    return key === null ? cell.textContent.trim() : key;
  }

  function sortBy(col, direction) {
    var keyed = rows.map(function (row, i) { return { row: row, key: sortKey(row, col), i: i }; });
    keyed.sort(function (a, b) {
      // Empty values (no date, no subject) go last whichever the direction.
      if (a.key === '' && b.key !== '') return 1;
      if (b.key === '' && a.key !== '') return -1;
      var c = collator.compare(a.key, b.key);
      if (c === 0) return a.i - b.i;
      return direction === 'ascending' ? c : -c;
    });
    var fragment = document.createDocumentFragment();
    keyed.forEach(function (k) { fragment.appendChild(k.row); });
    tbody.appendChild(fragment);
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
    var button = th.querySelector('button');
    if (!button) return;
    button.addEventListener('click', function () {
      var next = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (other) {
        if (other.hasAttribute('aria-sort')) other.setAttribute('aria-sort', 'none');
      });
      th.setAttribute('aria-sort', next);
      sortBy(col, next);
    });
  });

  function applyFilter() {
    var query = filterInput ? filterInput.value.trim().toLowerCase() : '';
    var verdict = verdictSelect ? verdictSelect.value : '';
    var words = query ? query.split(/\s+/) : [];
    if (words.length && !texts) texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
    var shown = 0;
    rows.forEach(function (row, i) {
      var ok = !verdict || row.getAttribute('data-verdict') === verdict;
      for (var w = 0; ok && w < words.length; w++) if (texts[i].indexOf(words[w]) === -1) ok = false;
      if (row.hidden === ok) row.hidden = !ok;
      if (ok) shown++;
    });
    if (countOut) {
      countOut.textContent = shown === rows.length
        ? 'Showing all ' + rows.length.toLocaleString('en') + ' messages'
        : 'Showing ' + shown.toLocaleString('en') + ' of ' + rows.length.toLocaleString('en') + ' messages';
    }
  }

  var timer = null;
  var delay = rows.length > 5000 ? 200 : 0;
  function scheduleFilter() {
    if (timer) clearTimeout(timer);
    if (delay === 0) applyFilter(); else timer = setTimeout(applyFilter, delay);
  }
  if (filterInput) filterInput.addEventListener('input', scheduleFilter);
  if (verdictSelect) verdictSelect.addEventListener('change', applyFilter);
  applyFilter();

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
