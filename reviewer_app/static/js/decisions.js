/* Decisions page: a departure from the suggested outcome needs a rationale; say so as soon as
 * the outcome changes (the server checks the same rule). */
(function () {
  "use strict";
  document.querySelectorAll("#decisions select[data-suggested]").forEach(function (select) {
    var box = select.closest("tr").querySelector("textarea");
    function update() {
      var departs = select.value !== "" && select.value !== select.dataset.suggested;
      box.required = departs;
      box.classList.toggle("border-warning", departs && !box.value.trim());
    }
    select.addEventListener("change", update);
    box.addEventListener("input", update);
    update();
  });
})();
