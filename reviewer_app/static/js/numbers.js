/* Scores as the scripts read them: integer hundredths, so that sums and comparisons with
 * thresholds are integer arithmetic and agree with the scoring engine's exact values. Shared by
 * the consensus form (consensus-effect.js) and the scoring form (review-summary.js); loaded
 * before them. */
(function () {
  "use strict";

  window.reviewerNumbers = {
    // "3.5" -> 350 (the machine's dot, as the form sends it); anything that is not a number
    // with at most two decimals -> null.
    hundredths: function (text) {
      if (!/^\d+(\.\d{1,2})?$/.test(text || "")) {
        return null;
      }
      var parts = text.split(".");
      return parseInt(parts[0], 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
    },
  };
})();
