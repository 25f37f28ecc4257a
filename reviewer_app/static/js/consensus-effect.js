/* The consensus form says, while the scores change, what they mean: each criterion against its
 * threshold, the total against the overall threshold, the change from the reviews' aggregate,
 * and a warning when the consensus crosses a threshold that the aggregate does not (or the other
 * way round), which needs a justification before the report can be final.
 *
 * The numbers come from the server (#consensus-data, computed by the scoring engine:
 * scoring/consensus.py): thresholds and weights in integer hundredths, the aggregates as exact
 * fractions and the aggregate's verdicts as the engine gave them. Everything here is integer
 * arithmetic, rounded half-up to two decimals like the server, so the page and the engine never
 * disagree on a threshold. The page arrives already showing the state of the scores it holds
 * (the same names in data-show-when); the server checks the same rules when the report is made
 * final.
 */
(function () {
  "use strict";

  var form = document.getElementById("consensus-form");
  var source = document.getElementById("consensus-data");
  if (!form || !source) {
    return;
  }
  var data = JSON.parse(source.textContent);
  var MINUS = "\u2212";  // as the server writes a negative change
  var NONE = "\u2013";
  var DECIMAL = source.getAttribute("data-decimal") || ".";  // the reader's, as the server writes

  var hundredths = window.reviewerNumbers.hundredths;  // numbers.js

  // numerator / denominator (integers, denominator > 0) as "3.83": half-up, two decimals.
  function digits(numerator, denominator) {
    var units = Math.floor((200 * Math.abs(numerator) + denominator) / (2 * denominator));
    var cents = String(units % 100);
    return Math.floor(units / 100) + DECIMAL + (cents.length < 2 ? "0" + cents : cents);
  }
  function change(numerator, denominator) {
    if (numerator === 0) {
      return "0" + DECIMAL + "00";
    }
    return (numerator > 0 ? "+" : MINUS) + digits(numerator, denominator);
  }
  // value / scale minus fraction[0] / fraction[1], written as a change.
  function changeFrom(value, scale, fraction) {
    if (value === null || !fraction) {
      return NONE;
    }
    return change(value * fraction[1] - scale * fraction[0], scale * fraction[1]);
  }

  function setValue(name, text) {
    var el = form.querySelector("[data-value='" + name + "']");
    if (el) {
      el.textContent = text;
    }
  }

  function verdict(meets) {
    return meets === null ? "unscored" : meets ? "met" : "not-met";
  }

  function update() {
    var states = {};
    var total = 0;
    var weighted = 0;
    var complete = true;
    var allMet = true;
    var crossed = false;

    data.criteria.forEach(function (c) {
      var select = form.querySelector("fieldset[data-criterion='" + c.key + "'] select");
      var value = select ? hundredths(select.value) : null;
      var meets = null;
      if (value === null) {
        complete = false;
      } else {
        total += value;
        weighted += c.weight * value;
        if (c.threshold !== null) {
          meets = value >= c.threshold;
        }
      }
      states[verdict(meets) + ":" + c.key] = true;
      if (meets === false) {
        allMet = false;
      }
      if (meets !== null && c.aggregate_meets !== null && meets !== c.aggregate_meets) {
        states["crosses:" + c.key] = true;
        crossed = true;
      }
      setValue("change:" + c.key, changeFrom(value, 100, c.aggregate));
    });

    var overall = complete && data.overall_threshold !== null ? total >= data.overall_threshold : null;
    states[verdict(overall) + ":overall"] = true;
    if (overall !== null && data.aggregate_meets_overall !== null && overall !== data.aggregate_meets_overall) {
      states["crosses:overall"] = true;
      crossed = true;
    }
    var passes = complete ? allMet && overall !== false : null;
    states[passes === null ? "incomplete" : passes ? "passes" : "fails"] = true;
    if (passes !== null && data.aggregate_passes !== null && passes !== data.aggregate_passes) {
      states[passes ? "turn:fail_to_pass" : "turn:pass_to_fail"] = true;
    } else if (crossed) {
      states.crossing = true;
    }
    if (crossed) {
      states["needs-justification"] = true;
    }

    setValue("total", complete ? digits(total, 100) : NONE);
    setValue("total-change", complete ? changeFrom(total, 100, data.aggregate_total) : NONE);
    setValue("weighted-total", complete ? digits(weighted, 10000) : NONE);
    setValue(
      "weighted-total-change",
      complete ? changeFrom(weighted, 10000, data.aggregate_weighted_total) : NONE
    );
    form.querySelectorAll("[data-show-when]").forEach(function (el) {
      el.hidden = !states[el.dataset.showWhen];
    });
  }

  form.addEventListener("change", function (event) {
    if (event.target.tagName === "SELECT") {
      update();
    }
  });
  update();
})();
