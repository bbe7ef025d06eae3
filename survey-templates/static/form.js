/* pds answer form: optional enhancement (plain ES2017, no libraries).
 *
 * Without this script the form works as sent by the server: "+ Add another
 * problem" and the Move up / Move down buttons are submit buttons, and the
 * server shows the form again with one more box, or with two problems swapped,
 * keeping everything typed. The order of the boxes is the ranking: box i posts
 * rank_i = i.
 *
 * With it, the same buttons act in place: "add another" reveals the next box
 * and puts the cursor in it; a move swaps the contents of two boxes (text,
 * frequency, consent, error message) and focus follows the problem. Move
 * buttons show only where they do something: on a box with text, towards a
 * neighbour with text. Each box counts its characters as they are typed, and
 * says how many are too many (the server refuses, never cuts, a longer text).
 *
 * Every word shown comes from the template (data-* attributes on the form), so
 * this file needs no translation:
 *   data-moved     announced after a move, "{n}" = new position, "{total}"
 *   data-added     announced after a box is added, "{n}"
 *   data-count     the counter, "{n}" characters of "{max}"
 *   data-too-many  the counter over the limit, also "{over}"
 */
(function () {
  'use strict';

  var form = document.querySelector('form.pds-form');
  if (!form) {
    return;
  }
  var slotEls = Array.prototype.slice.call(form.querySelectorAll('fieldset.slot'));
  var slots = slotEls.map(function (el) {
    return {
      el: el,
      problem: el.querySelector('textarea[name^="problem_"]'),
      frequency: el.querySelector('select[name^="frequency_"]'),
      consent: el.querySelector('input[type="checkbox"][name^="consent_"]'),
      error: el.querySelector('.field-error[id$="_error"]'),
      counter: el.querySelector('.counter'),
      up: el.querySelector('button.move-up'),
      down: el.querySelector('button.move-down')
    };
  });
  // Without the expected markup, leave the plain form alone rather than break it.
  var usable = slots.length > 0 && slots.every(function (s) {
    return s.problem && s.up && s.down;
  });
  if (!usable) {
    return;
  }
  document.documentElement.classList.add('js');

  var boxesField = form.querySelector('input[name="boxes"]');
  var addButton = form.querySelector('#add_another');
  var limit = parseInt(form.getAttribute('data-max') || '1000', 10);

  function text(name, fallback) {
    var value = form.getAttribute('data-' + name);
    return value === null || value === '' ? fallback : value;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function visibleCount() {
    return slots.filter(function (s) { return !s.el.hidden; }).length;
  }

  function hasText(i) {
    return i >= 0 && i < slots.length && !slots[i].el.hidden && slots[i].problem.value.trim() !== '';
  }

  // ---- live region ---------------------------------------------------------

  var status = document.createElement('p');
  status.className = 'visually-hidden';
  status.setAttribute('aria-live', 'polite');
  status.setAttribute('role', 'status');
  form.appendChild(status);

  function announce(message) {
    // Cleared first so the same message twice in a row is still announced.
    status.textContent = '';
    window.setTimeout(function () {
      status.textContent = message;
    }, 50);
  }

  // ---- character counters --------------------------------------------------

  function count(s) {
    if (!s.counter) {
      return;
    }
    var n = Array.from(s.problem.value).length;
    var over = n - limit;
    s.counter.textContent = over > 0
      ? fill(text('too-many', '{n} / {max}: {over} too many'), { n: n, max: limit, over: over })
      : fill(text('count', '{n} / {max}'), { n: n, max: limit });
    s.counter.classList.toggle('over', over > 0);
  }

  // ---- move buttons ----------------------------------------------------------

  function updateMoves() {
    slots.forEach(function (s, i) {
      s.up.hidden = !(hasText(i) && hasText(i - 1));
      s.down.hidden = !(hasText(i) && hasText(i + 1));
    });
  }

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
      // Escaped by the server when the page was rendered; moved as it is.
      s.error.innerHTML = c.errorHtml;
    }
    if (c.invalid) {
      s.problem.setAttribute('aria-invalid', 'true');
    } else {
      s.problem.removeAttribute('aria-invalid');
    }
    s.el.classList.toggle('has-error', c.invalid);
    count(s);
  }

  function highlight(el) {
    el.classList.remove('just-moved');
    void el.offsetWidth; // restarts the animation when moved twice quickly
    el.classList.add('just-moved');
  }

  function move(from, to, direction) {
    var a = read(slots[from]);
    write(slots[from], read(slots[to]));
    write(slots[to], a);
    updateMoves();
    highlight(slots[to].el);
    // Focus follows the problem: the same button one box further along, or,
    // at the end of the list, the other one, or its text.
    var target = slots[to];
    var button = !target[direction].hidden ? target[direction]
      : !target[direction === 'up' ? 'down' : 'up'].hidden ? target[direction === 'up' ? 'down' : 'up']
      : target.problem;
    button.focus();
    announce(fill(text('moved', 'Moved to position {n} of {total}.'), { n: to + 1, total: visibleCount() }));
  }

  slots.forEach(function (s, i) {
    s.up.addEventListener('click', function (event) {
      event.preventDefault();
      if (i > 0) {
        move(i, i - 1, 'up');
      }
    });
    s.down.addEventListener('click', function (event) {
      event.preventDefault();
      if (i < slots.length - 1) {
        move(i, i + 1, 'down');
      }
    });
    s.problem.addEventListener('input', function () {
      count(s);
      updateMoves();
    });
    count(s);
  });
  updateMoves();

  // ---- add another -------------------------------------------------------------

  if (addButton) {
    addButton.addEventListener('click', function (event) {
      event.preventDefault();
      var next = slots.filter(function (s) { return s.el.hidden; })[0];
      if (!next) {
        return;
      }
      next.el.hidden = false;
      var shown = visibleCount();
      if (boxesField) {
        boxesField.value = String(shown);
      }
      if (shown === slots.length) {
        addButton.hidden = true;
      }
      updateMoves();
      next.problem.focus();
      announce(fill(text('added', 'Problem {n} added.'), { n: shown }));
    });
  }

  // ---- errors --------------------------------------------------------------

  // The server's error summary is announced (role="alert"); focus moves to it
  // too, so keyboard users start reading there. Its links lead to the fields.
  var summary = document.getElementById('error-summary');
  if (summary) {
    summary.focus();
  }
}());
