/* pds answer form: optional enhancement (plain ES2017, no libraries).
 *
 * Without this script the form works as sent by the server: every problem slot
 * has a "how much it matters" select (rank_N), and the customer numbers the
 * problems themselves.
 *
 * With it, the order on screen is the ranking: the slot at position i always
 * posts rank i. Each slot gets "Move up" / "Move down" buttons that swap the
 * slot's contents (text, frequency, consent, error message) with its
 * neighbour; the rank selects stay in the form (hidden) and are kept equal to
 * the positions, so the POST has exactly the same fields as without script.
 *
 * Every word shown comes from the template (data-* attributes on the form), so
 * this file needs no translation:
 *   data-move-up, data-move-down            visible button texts
 *   data-move-up-name, data-move-down-name  accessible names, "{n}" = position
 *   data-moved                              announced after a move, "{n}", "{total}"
 */
(function () {
  'use strict';

  var form = document.querySelector('form.pds-form');
  if (!form) {
    return;
  }

  document.documentElement.classList.add('js');

  function text(name, fallback) {
    var value = form.getAttribute('data-' + name);
    return value === null || value === '' ? fallback : value;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  var slotEls = Array.prototype.slice.call(form.querySelectorAll('fieldset.slot'));
  var slots = slotEls.map(function (el) {
    return {
      el: el,
      problem: el.querySelector('textarea[name^="problem_"]'),
      rank: el.querySelector('select[name^="rank_"]'),
      frequency: el.querySelector('select[name^="frequency_"]'),
      consent: el.querySelector('input[type="checkbox"][name^="consent_"]'),
      error: el.querySelector('.field-error'),
      up: null,
      down: null
    };
  });

  // Without a textarea and a rank select in every slot, the markup is not what
  // this script expects: leave the plain form alone rather than break it.
  var usable = slots.length > 0 && slots.every(function (s) {
    return s.problem && s.rank;
  });
  if (!usable) {
    document.documentElement.classList.remove('js');
    return;
  }

  var total = slots.length;

  // ---- slot contents: everything that moves with a problem ---------------

  function read(s) {
    return {
      problem: s.problem.value,
      frequency: s.frequency ? s.frequency.value : null,
      consent: s.consent ? s.consent.checked : null,
      errorHtml: s.error ? s.error.innerHTML : '',
      invalid: s.problem.getAttribute('aria-invalid') === 'true'
    };
  }

  function write(s, c) {
    s.problem.value = c.problem;
    if (s.frequency && c.frequency !== null) {
      s.frequency.value = c.frequency;
    }
    if (s.consent && c.consent !== null) {
      s.consent.checked = c.consent;
    }
    if (s.error) {
      // The message was escaped by the server when the page was rendered, and
      // is moved as the markup it already is.
      s.error.innerHTML = c.errorHtml;
    }
    if (c.invalid) {
      s.problem.setAttribute('aria-invalid', 'true');
    } else {
      s.problem.removeAttribute('aria-invalid');
    }
    s.el.classList.toggle('has-error', c.invalid || (s.error !== null && s.error.textContent.trim() !== ''));
  }

  function setRank(select, rank) {
    var wanted = String(rank);
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === wanted) {
        select.selectedIndex = i;
        return;
      }
    }
  }

  // Position i (0-based) posts rank i + 1.
  function syncRanks() {
    slots.forEach(function (s, i) {
      setRank(s.rank, i + 1);
    });
  }

  // ---- first run: show the server's ranking as an order ------------------

  // If the page came back with ranks that are a clean 1..M ordering (say, an
  // answer given earlier without script), put the slots in that order first,
  // so that nobody's ranking changes just because the script started.
  function initialOrder() {
    var seen = {};
    var order = new Array(total);
    for (var i = 0; i < total; i++) {
      var r = parseInt(slots[i].rank.value, 10);
      if (!(r >= 1 && r <= total) || seen[r]) {
        return null;
      }
      seen[r] = true;
      order[r - 1] = i;
    }
    return order;
  }

  var order = initialOrder();
  if (order) {
    var contents = slots.map(read);
    order.forEach(function (from, to) {
      if (from !== to) {
        write(slots[to], contents[from]);
      }
    });
  }
  syncRanks();

  // ---- live region for announcing moves -----------------------------------

  var status = document.createElement('p');
  status.className = 'visually-hidden';
  status.setAttribute('aria-live', 'polite');
  status.setAttribute('role', 'status');
  form.appendChild(status);

  function announce(message) {
    // Clear first so the same message twice in a row is still announced.
    status.textContent = '';
    window.setTimeout(function () {
      status.textContent = message;
    }, 50);
  }

  // ---- buttons -------------------------------------------------------------

  var upText = text('move-up', 'Move up');
  var downText = text('move-down', 'Move down');
  var upName = text('move-up-name', 'Move up, problem {n}');
  var downName = text('move-down-name', 'Move down, problem {n}');
  var movedText = text('moved', 'Moved to position {n} of {total}.');

  function makeButton(cls, label, name, position) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'move ' + cls;
    b.textContent = label;
    b.setAttribute('aria-label', fill(name, { n: position, total: total }));
    return b;
  }

  function updateDisabled() {
    slots.forEach(function (s, i) {
      s.up.setAttribute('aria-disabled', i === 0 ? 'true' : 'false');
      s.down.setAttribute('aria-disabled', i === total - 1 ? 'true' : 'false');
    });
  }

  function highlight(el) {
    el.classList.remove('just-moved');
    // Force a reflow so the animation restarts when moved twice quickly.
    void el.offsetWidth;
    el.classList.add('just-moved');
  }

  function move(from, to, direction) {
    if (to < 0 || to >= total) {
      return;
    }
    var a = read(slots[from]);
    var b = read(slots[to]);
    write(slots[from], b);
    write(slots[to], a);
    syncRanks();
    highlight(slots[to].el);
    // Keyboard focus follows the problem that moved: the same button, one slot
    // further along. It stays focusable even at the end of the list.
    slots[to][direction].focus();
    announce(fill(movedText, { n: to + 1, total: total }));
  }

  slots.forEach(function (s, i) {
    var rankField = s.rank.closest('.field-rank') || s.rank.parentNode;
    // Hidden, not removed and not disabled: the rank is still posted.
    rankField.hidden = true;

    var bar = document.createElement('div');
    bar.className = 'slot-move';
    s.up = makeButton('move-up', upText, upName, i + 1);
    s.down = makeButton('move-down', downText, downName, i + 1);
    s.up.addEventListener('click', function () {
      if (s.up.getAttribute('aria-disabled') !== 'true') {
        move(i, i - 1, 'up');
      }
    });
    s.down.addEventListener('click', function () {
      if (s.down.getAttribute('aria-disabled') !== 'true') {
        move(i, i + 1, 'down');
      }
    });
    bar.appendChild(s.up);
    bar.appendChild(s.down);
    s.el.appendChild(bar);
  });
  updateDisabled();

  // Belt and braces: whatever happened on the page (browser form restore,
  // another script), the ranks posted match the order on screen.
  form.addEventListener('submit', syncRanks);

  // Browsers that restore form fields on "back" may restore the hidden rank
  // selects too; put them right again.
  window.addEventListener('pageshow', syncRanks);

  // ---- errors --------------------------------------------------------------

  // The server's error summary is announced (role="alert"); also move focus to
  // it so keyboard users start reading there.
  var summary = document.getElementById('error-summary');
  if (summary) {
    summary.focus();
  }
}());
