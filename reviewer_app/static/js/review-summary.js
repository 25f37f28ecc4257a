/* The scoring form says what the scores mean while the expert chooses them, and asks before the
 * one click that cannot be undone:
 *
 * - each criterion's threshold met or not, and the running total against the overall threshold;
 * - an error shown by the server goes away as soon as its field is fixed;
 * - the state badge says "Not saved yet" while the form holds input the server does not have;
 * - "Submit" first shows a summary (each score, the total, each threshold met or not) and submits
 *   only when the expert confirms. An incomplete form is sent at once: the server refuses it
 *   and names every missing field, which is what the expert needs then.
 *
 * Numbers: #review-rules gives thresholds in integer hundredths (scheme values have at most two
 * decimals), so the sums and comparisons here are integer arithmetic and agree with the engine.
 * The server checks the same rules when the review is submitted. Loaded before
 * review-autosave.js, so that its submit handler sees only confirmed submissions.
 */
(function () {
  "use strict";

  var form = document.getElementById("review-form");
  var source = document.getElementById("review-rules");
  if (!form || !source) {
    return;
  }
  var rules = JSON.parse(source.textContent);
  var DECIMAL = source.dataset.decimal || ".";
  var NONE = "\u2013";
  var dialog = document.getElementById("submit-dialog");
  var totalBox = document.getElementById("review-total");

  var hundredths = window.reviewerNumbers.hundredths;  // numbers.js
  // 1150 -> "11,5" (as the scores are written in the form: no trailing zeros).
  function written(value) {
    var whole = Math.floor(value / 100);
    var cents = value % 100;
    if (!cents) {
      return String(whole);
    }
    var digits = (cents < 10 ? "0" : "") + cents;
    return whole + DECIMAL + digits.replace(/0$/, "");
  }

  function chosen(key) {
    var radio = form.querySelector("[data-criterion='" + key + "'] input[type=radio]:checked");
    return radio ? hundredths(radio.value) : null;
  }
  // Long enough: every comment box of the criterion (one, or several with minimums of their own).
  function least(box) {
    return box.dataset.minChars ? parseInt(box.dataset.minChars, 10) : rules.min_chars;
  }
  function commented(key) {
    var boxes = form.querySelectorAll("textarea[data-comment-for='" + key + "']");
    return Array.prototype.every.call(boxes, function (box) {
      return box.value.trim().length >= least(box);
    });
  }

  function verdictText(meets) {
    return meets ? source.dataset.textMet : source.dataset.textNotMet;
  }
  function showVerdict(el, meets) {
    if (!el) {
      return;
    }
    el.textContent = meets === null ? "" : verdictText(meets);
    el.className = "threshold-verdict badge " + (meets === null ? "" : meets ? "text-bg-success" : "text-bg-warning");
  }

  // The state of the form as the summary shows it.
  function state() {
    var total = 0;
    var complete = true;
    var rows = rules.criteria.map(function (c) {
      var value = chosen(c.key);
      if (value === null || !commented(c.key)) {
        complete = false;
      }
      if (value !== null) {
        total += value;
      }
      return {
        criterion: c,
        value: value,
        meets: value === null || c.threshold === null ? null : value >= c.threshold,
      };
    });
    var scored = rows.every(function (row) { return row.value !== null; });
    return {
      rows: rows,
      scored: scored,
      complete: complete,
      total: scored ? total : null,
      overall: scored && rules.overall_threshold !== null ? total >= rules.overall_threshold : null,
    };
  }

  function update() {
    var now = state();
    now.rows.forEach(function (row) {
      showVerdict(form.querySelector("[data-verdict-for='" + row.criterion.key + "']"), row.meets);
    });
    if (totalBox) {
      totalBox.hidden = false;
      totalBox.querySelector("[data-value='total']").textContent = now.total === null ? NONE : written(now.total);
      showVerdict(totalBox.querySelector("[data-verdict-for='overall']"), now.overall);
    }
  }

  // An error of the server goes away once its field is fixed.
  function clearError(field) {
    var group = field.closest("[data-criterion]");
    var holder = group || field;
    if (field.type === "radio" || (field.tagName === "TEXTAREA" && field.value.trim().length >= least(field))) {
      holder.classList.remove("is-invalid");
      var next = holder.nextElementSibling;
      while (next && !next.matches("label, fieldset")) {
        var after = next.nextElementSibling;
        if (next.classList.contains("invalid-feedback")) {
          next.remove();
        }
        next = after;
      }
    }
    // Every marked field fixed: the notice above the form has nothing left to say.
    if (!form.querySelector(".is-invalid")) {
      document.querySelectorAll("[data-form-errors]").forEach(function (notice) {
        notice.hidden = true;
      });
    }
  }

  // The badge follows the input: "Not saved yet" until the server has it (autosave then says
  // "Draft").
  var badge = document.getElementById("review-state");
  function markUnsaved() {
    if (badge && badge.textContent !== badge.dataset.draft) {
      badge.textContent = source.dataset.textUnsaved;
      badge.className = "badge text-bg-warning";
    }
  }
  var hasInput = Array.prototype.some.call(form.querySelectorAll("textarea"), function (t) {
    return t.value.trim() !== "";
  }) || form.querySelector("input[type=radio]:checked") !== null;
  if (hasInput) {
    markUnsaved();  // e.g. a refused submit shows the input the server did not keep
  }

  form.addEventListener("input", function (event) {
    clearError(event.target);
    markUnsaved();
    update();
  });
  form.addEventListener("change", function (event) {
    if (event.target.type === "radio") {
      clearError(event.target);
      markUnsaved();
      update();
    }
  });

  function fillSummary(now) {
    var body = dialog.querySelector("[data-summary='rows']");
    body.textContent = "";
    now.rows.forEach(function (row) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.className = "fw-normal";
      th.textContent = row.criterion.title;
      var score = document.createElement("td");
      score.className = "text-end fw-semibold";
      score.textContent = row.value === null ? NONE : written(row.value);
      var verdict = document.createElement("td");
      if (row.criterion.threshold === null) {
        verdict.textContent = source.dataset.textNone;
      } else {
        verdict.textContent = "\u2265 " + written(row.criterion.threshold) + ": ";
        var badge = document.createElement("span");
        showVerdict(badge, row.meets);
        verdict.appendChild(badge);
      }
      tr.append(th, score, verdict);
      body.appendChild(tr);
    });
    dialog.querySelector("[data-summary='total']").textContent = written(now.total);
    var overall = dialog.querySelector("[data-summary='overall']");
    overall.textContent = "";
    if (rules.overall_threshold !== null) {
      overall.textContent = "\u2265 " + written(rules.overall_threshold) + ": ";
      var mark = document.createElement("span");
      showVerdict(mark, now.overall);
      overall.appendChild(mark);
    }
  }

  var confirmed = false;
  var pending = null;  // the submit button the expert pressed
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (confirmed || !dialog || typeof dialog.showModal !== "function" || !submitter || submitter.name !== "submit") {
      return;
    }
    var now = state();
    if (!now.complete) {
      return;  // the server names what is missing
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    pending = submitter;
    fillSummary(now);
    dialog.showModal();
    dialog.querySelector("[data-dialog='confirm']").focus();
  });
  if (dialog) {
    dialog.querySelector("[data-dialog='cancel']").addEventListener("click", function () {
      dialog.close();
    });
    dialog.querySelector("[data-dialog='confirm']").addEventListener("click", function () {
      confirmed = true;
      dialog.close();
      form.requestSubmit(pending);
    });
  }

  update();
})();
