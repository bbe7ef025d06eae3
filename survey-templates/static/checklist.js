/* pds checklist form: optional enhancement (plain ES2017, no libraries).
 *
 * Without this script every item shows all its questions, and the follow-up
 * questions say "If you have had it"; the server refuses a follow-up answered
 * for a problem never had, and keeps the progress count on each page it draws.
 *
 * With it, an item's follow-up questions (how much it bothers, whether another
 * supplier solves it) appear only once "sometimes" or "often" is chosen, and are
 * emptied and hidden again for "never", so they can never contradict the answer.
 * The progress indicator counts the items answered as they are answered.
 *
 * Every word shown comes from the template: data-progress on the form, with
 * "{n}" answered of "{total}".
 */
(function () {
  'use strict';

  var form = document.querySelector('form.checklist-form');
  if (!form) {
    return;
  }
  var items = Array.prototype.slice.call(form.querySelectorAll('fieldset.item')).map(function (el) {
    return {
      el: el,
      choices: Array.prototype.slice.call(el.querySelectorAll('input[name^="experienced_"]')),
      followUps: Array.prototype.slice.call(el.querySelectorAll('fieldset.field-bother, fieldset.field-solved'))
    };
  });
  if (items.length === 0) {
    return;
  }
  document.documentElement.classList.add('js');

  var bar = document.getElementById('progress_bar');
  var label = document.getElementById('progress_text');
  var words = form.getAttribute('data-progress') || '{n} / {total}';

  function chosen(item) {
    var checked = item.choices.filter(function (c) { return c.checked; })[0];
    return checked ? checked.value : '';
  }

  function showFollowUps(item) {
    var had = chosen(item) === 'sometimes' || chosen(item) === 'often';
    item.followUps.forEach(function (fieldset) {
      if (!had) {
        Array.prototype.forEach.call(fieldset.querySelectorAll('input'), function (input) {
          input.checked = false;
        });
      }
      fieldset.hidden = !had;
    });
  }

  function showProgress() {
    var answered = items.filter(function (item) { return chosen(item) !== ''; }).length;
    var text = words.replace('{n}', String(answered)).replace('{total}', String(items.length));
    if (bar) {
      bar.value = answered;
      bar.textContent = text;
    }
    if (label && label.textContent !== text) {
      label.textContent = text;
    }
  }

  items.forEach(function (item) {
    showFollowUps(item);
    item.choices.forEach(function (choice) {
      choice.addEventListener('change', function () {
        showFollowUps(item);
        showProgress();
      });
    });
  });
  showProgress();
})();
