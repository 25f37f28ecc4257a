/* Behaviour every page shares. The Content-Security-Policy allows no inline script or style,
 * so what used to be an inline handler or a style attribute is declared with a data attribute
 * and wired here.
 *
 * - data-submit-on-change on a form control: send its form when the value changes.
 * - data-confirm="question" on a form: ask before sending it (irreversible steps).
 * - data-width="42" on an element: its width in percent (progress bars).
 * - every password field gets a button that shows what was typed (OWASP ASVS 2.1.12).
 * - data-reason="text" on a button: a tap shows the text below it, a second tap hides it (a
 *   title alone needs a mouse to hover; phones and tablets have none).
 */
(function () {
  "use strict";

  document.querySelectorAll("[data-submit-on-change]").forEach(function (control) {
    control.addEventListener("change", function () {
      if (control.form) {
        control.form.requestSubmit ? control.form.requestSubmit() : control.form.submit();
      }
    });
  });

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  });

  var texts = document.body.dataset;
  document.querySelectorAll("input[type=password]").forEach(function (input) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-link btn-sm px-0 password-toggle";
    button.textContent = texts.textShowPassword;
    button.setAttribute("aria-pressed", "false");
    if (input.id) {
      button.setAttribute("aria-controls", input.id);
    }
    button.addEventListener("click", function () {
      var shown = input.type === "text";
      input.type = shown ? "password" : "text";
      button.textContent = shown ? texts.textShowPassword : texts.textHidePassword;
      button.setAttribute("aria-pressed", shown ? "false" : "true");
    });
    input.insertAdjacentElement("afterend", button);
  });

  document.querySelectorAll("button[data-reason]").forEach(function (button) {
    button.addEventListener("click", function () {
      var shown = button.nextElementSibling;
      if (shown && shown.classList.contains("reason-text")) {
        shown.remove();
        button.setAttribute("aria-expanded", "false");
        return;
      }
      var text = document.createElement("span");
      text.className = "reason-text d-block small text-body-secondary";
      text.setAttribute("role", "note");
      text.textContent = button.dataset.reason;
      button.insertAdjacentElement("afterend", text);
      button.setAttribute("aria-expanded", "true");
    });
  });

  document.querySelectorAll("[data-width]").forEach(function (el) {
    var value = parseFloat(el.dataset.width);
    if (!isNaN(value)) {
      el.style.width = Math.max(0, Math.min(100, value)) + "%";
    }
  });
})();
