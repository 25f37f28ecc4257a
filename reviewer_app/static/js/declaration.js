/* The declaration form asks for a reason only with a conflict, and for confidentiality only
 * without one, and says what the chosen answer commits to before it is sent. Without this
 * script everything stays visible and the server checks the same rules. */
(function () {
  "use strict";
  var form = document.getElementById("declaration-form");
  if (!form) {
    return;
  }
  function update() {
    var chosen = form.querySelector("input[name=has_conflict]:checked");
    form.querySelectorAll("[data-shown-for]").forEach(function (group) {
      group.hidden = !!chosen && group.dataset.shownFor !== chosen.value;
    });
    form.querySelectorAll("[data-commit-for]").forEach(function (text) {
      text.hidden = !chosen || text.dataset.commitFor !== chosen.value;
    });
  }
  form.addEventListener("change", update);
  update();
})();
