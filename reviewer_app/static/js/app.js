/* Behaviour every page shares. The Content-Security-Policy allows no inline script or style,
 * so what used to be an inline handler or a style attribute is declared with a data attribute
 * and wired here.
 *
 * - data-submit-on-change on a form control: send its form when the value changes.
 * - data-confirm="question" on a form: ask before sending it (irreversible steps).
 * - data-width="42" on an element: its width in percent (progress bars).
 * - every password field gets a button that shows what was typed (OWASP ASVS 2.1.12).
 * - every form sent with POST: while the server works, its buttons are disabled (no second
 *   click sends it twice) and the pressed one shows a spinner; a page shown again from the
 *   browser's history gets its buttons back.
 * - data-reason="text" on a button: a tap shows the text below it, a second tap hides it (a
 *   title alone needs a mouse to hover; phones and tablets have none).
 * - data-download on a link to a file the server makes while one waits (a PDF: a second or
 *   more): the link shows a spinner and takes no second click until the file has come. Where
 *   the answer is a page (a redirect with a message, a sign-in), the browser simply follows
 *   the link, so the server says it again.
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

  // A spinner at the start of a busy button or link, named for screen readers.
  function addSpinner(element) {
    var spinner = document.createElement("span");
    spinner.className = "spinner-border spinner-border-sm me-1";
    spinner.setAttribute("role", "status");
    var label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = texts.textWorking;
    spinner.appendChild(label);
    element.prepend(spinner);
    return spinner;
  }

  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      // After every handler has had its say (a confirmation declined, a summary shown first):
      // only a submission that goes ahead makes the form busy. The form's data is already taken,
      // so disabling the pressed button does not drop its name from what is sent.
      setTimeout(function () {
        if (event.defaultPrevented) {
          return;
        }
        form.setAttribute("aria-busy", "true");
        form.querySelectorAll("button[type=submit], input[type=submit], button:not([type])").forEach(function (button) {
          if (!button.disabled) {
            button.disabled = true;
            button.dataset.busy = button.tagName === "INPUT" ? button.value : "";
          }
        });
        if (submitter && submitter.tagName === "INPUT") {
          submitter.value = texts.textWorking;  // an input holds no spinner: its label says it
        } else if (submitter && submitter.tagName === "BUTTON" && !submitter.querySelector(".spinner-border")) {
          addSpinner(submitter);
        }
      }, 0);
    });
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) {
      return;
    }
    document.querySelectorAll("form[aria-busy]").forEach(function (form) {
      form.removeAttribute("aria-busy");
      form.querySelectorAll("[data-busy]").forEach(function (button) {
        button.disabled = false;
        if (button.tagName === "INPUT") {
          button.value = button.dataset.busy;
        }
        delete button.dataset.busy;
      });
      form.querySelectorAll(".spinner-border").forEach(function (spinner) {
        spinner.remove();
      });
    });
  });

  // The server's file name: RFC 6266 allows it quoted, bare (Werkzeug's choice for a plain
  // name) or encoded as filename*=UTF-8''...
  function fileName(response) {
    var disposition = response.headers.get("Content-Disposition") || "";
    var encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
    if (encoded) {
      return decodeURIComponent(encoded[1]);
    }
    var match = /filename="?([^";]+)"?/i.exec(disposition);
    return match ? match[1] : "download";
  }

  document.querySelectorAll("a[data-download]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
        return;  // a new tab or window: the browser's own download
      }
      event.preventDefault();
      if (link.getAttribute("aria-busy") === "true") {
        return;
      }
      link.setAttribute("aria-busy", "true");
      link.setAttribute("aria-disabled", "true");
      var spinner = addSpinner(link);
      function done() {
        spinner.remove();
        link.removeAttribute("aria-busy");
        link.removeAttribute("aria-disabled");
      }
      fetch(link.href, { credentials: "same-origin", redirect: "manual" })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (response.type === "opaqueredirect") {
            // The server sent us elsewhere with a message (a report it cannot make yet, a
            // session that ended): the message is waiting; this page shows it, or signs in.
            window.location.reload();
            return null;
          }
          if (!response.ok || type.indexOf("text/html") === 0) {
            window.location.href = link.href;  // an error page: the browser shows it
            return null;
          }
          return response.blob().then(function (blob) {
            var url = URL.createObjectURL(blob);
            var save = document.createElement("a");
            save.href = url;
            save.download = fileName(response);
            document.body.appendChild(save);
            save.click();
            save.remove();
            setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
          });
        })
        .catch(function () {
          window.location.href = link.href;
        })
        .then(done, done);
    });
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
