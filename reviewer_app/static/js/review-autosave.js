/* The scoring form never loses typed text.
 *
 * - Autosave: a draft with unsaved changes is posted every 20 seconds and when the page is left
 *   or hidden; the server answers with the new version, which the form carries from then on so
 *   that its own next save is not mistaken for a stale one.
 * - A copy of unsaved input is kept in this browser (localStorage) and offered back on the next
 *   load of the same review version, e.g. after a lost connection or a closed tab.
 * - Descriptors of the chosen score and the length of each comment are shown while typing.
 */
(function () {
  "use strict";

  var AUTOSAVE_MS = 20000;
  var lang = document.documentElement.lang || undefined;

  function localiseTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) {
        el.textContent = when.toLocaleString(lang, { dateStyle: "short", timeStyle: "short" });
      }
    });
  }

  function storageGet(key) {
    try {
      return JSON.parse(window.localStorage.getItem(key) || "null");
    } catch (e) {
      return null;
    }
  }
  function storageSet(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (e) { /* private mode or full: the server copy still exists */ }
  }
  function storageRemove(key) {
    try {
      window.localStorage.removeItem(key);
    } catch (e) { /* nothing to remove */ }
  }

  localiseTimes(document);
  var readonly = document.getElementById("review-readonly");
  if (readonly) {
    // A submitted or closed review needs no local copy; confidential text should not linger.
    storageRemove(readonly.dataset.storageKey);
    return;
  }
  var form = document.getElementById("review-form");
  if (!form) {
    return;
  }

  var key = form.dataset.storageKey;
  var versionInput = form.querySelector("input[name=version]");
  var csrfInput = form.querySelector("input[name=csrf_token]");
  var statusEl = document.getElementById("autosave-status");
  var descriptors = JSON.parse(document.getElementById("scale-descriptors").textContent);
  var minChars = parseInt(form.dataset.minChars || "0", 10);

  // Edits since the page loaded; input restored after a sign-in is not on the server yet.
  var changes = form.hasAttribute("data-unsaved") ? 1 : 0;
  var savedChanges = 0;  // edits the server has
  var inflight = null;
  // After a stale or locked answer only a deliberate click may replace the other version.
  var stopped = form.hasAttribute("data-autosave-paused");
  var submitting = false;

  function fields() {
    var values = {};
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token" && name !== "version" && name !== "_stash") {
        values[name] = value;
      }
    });
    return values;
  }

  function apply(values) {
    Object.keys(values).forEach(function (name) {
      form.querySelectorAll("[name='" + CSS.escape(name) + "']").forEach(function (el) {
        if (el.type === "radio") {
          el.checked = el.value === values[name];
        } else {
          el.value = values[name];
        }
      });
    });
    // Radios left out of ``values`` were not chosen in the copy.
    form.querySelectorAll("input[type=radio]").forEach(function (el) {
      if (!(el.name in values)) {
        el.checked = false;
      }
    });
    refreshAll();
  }

  function same(a, b) {
    var keys = Object.keys(a).concat(Object.keys(b));
    return keys.every(function (k) { return (a[k] || "") === (b[k] || ""); });
  }

  function setStatus(text, tone) {
    statusEl.textContent = text;
    statusEl.className = "small ms-auto " + (tone === "error" ? "text-danger fw-semibold" : "text-body-secondary");
  }

  function refreshDescriptor(radio) {
    var target = form.querySelector("[data-descriptor-for='" + radio.closest("[data-criterion]").dataset.criterion + "']");
    if (target) {
      target.textContent = descriptors[radio.value] || "";
    }
  }

  function refreshCounter(textarea) {
    var counter = form.querySelector("[data-counter-for='" + textarea.id + "']");
    // A box of its own (strengths, weaknesses) may have its own minimum.
    var least = textarea.dataset.minChars ? parseInt(textarea.dataset.minChars, 10) : minChars;
    if (!counter || !least) {
      return;
    }
    var count = textarea.value.trim().length;
    counter.textContent = form.dataset.textCount.replace("{count}", count).replace("{min}", least);
    counter.classList.toggle("text-success", count >= least);
  }

  function refreshAll() {
    form.querySelectorAll("input[type=radio]:checked").forEach(refreshDescriptor);
    form.querySelectorAll("textarea").forEach(refreshCounter);
  }

  // The copy is written a moment after the last keystroke (not on every one), and at once when
  // the page is hidden or left: a tab closed inside that moment must not lose the input.
  var keepTimer = null;
  function writeLocalCopy() {
    clearTimeout(keepTimer);
    keepTimer = null;
    storageSet(key, { base: versionInput.value, at: Date.now(), fields: fields() });
  }
  function keepLocalCopy() {
    clearTimeout(keepTimer);
    keepTimer = setTimeout(writeLocalCopy, 300);
  }
  function flushLocalCopy() {
    if (keepTimer !== null) {
      writeLocalCopy();
    }
  }

  function onEdit(event) {
    changes += 1;
    if (event.target.type === "radio") {
      refreshDescriptor(event.target);
    } else if (event.target.tagName === "TEXTAREA") {
      refreshCounter(event.target);
    }
    keepLocalCopy();
  }

  function autosave(keepalive) {
    if (stopped || submitting || inflight || changes === savedChanges) {
      return inflight || Promise.resolve();
    }
    var sentChanges = changes;
    var body = new URLSearchParams(new FormData(form));
    setStatus(form.dataset.textSaving);
    inflight = fetch(form.dataset.autosaveUrl, {
      method: "POST",
      body: body,
      headers: { "X-CSRFToken": csrfInput ? csrfInput.value : "", Accept: "application/json" },
      credentials: "same-origin",
      redirect: "manual",  // a redirect means signed out: the sign-in page is not a save
      keepalive: !!keepalive,
    })
      .then(function (response) {
        var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        return (json ? response.json() : Promise.resolve(null)).then(function (data) {
          if (response.ok && data && data.ok) {
            versionInput.value = data.version;
            savedChanges = sentChanges;
            if (changes === savedChanges) {
              clearTimeout(keepTimer);
              keepTimer = null;
              storageRemove(key);
            } else {
              keepLocalCopy();
            }
            var state = document.getElementById("review-state");
            if (state) {
              state.textContent = state.dataset.draft;
              state.className = "badge text-bg-info";
            }
            var when = new Date(data.saved_at);
            setStatus(form.dataset.textSaved.replace("{time}", when.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" })));
          } else if (data && response.status === 409) {
            stopped = true;
            setStatus(data.message, "error");
          } else {
            setStatus((data && data.message) || form.dataset.textFailed, "error");
          }
        });
      })
      .catch(function () {
        setStatus(form.dataset.textFailed, "error");
      })
      .finally(function () {
        inflight = null;
      });
    return inflight;
  }

  // Offer back what this browser kept, if it was typed on top of the version now shown.
  var banner = document.getElementById("local-copy");
  var copy = storageGet(key);
  if (copy && copy.fields && String(copy.base) === versionInput.value) {
    var server = fields();
    if (!same(copy.fields, server)) {
      apply(copy.fields);
      changes += 1;  // the restored input is not on the server yet
      banner.classList.remove("d-none");
      document.getElementById("local-copy-discard").addEventListener("click", function () {
        apply(server);
        storageRemove(key);
        savedChanges = changes;
        banner.classList.add("d-none");
      });
    } else {
      storageRemove(key);
    }
  } else if (copy) {
    storageRemove(key);  // typed on an older version: the stale-save rules decide, not this copy
  }
  refreshAll();

  form.addEventListener("input", onEdit);
  form.addEventListener("change", function (event) {
    if (event.target.type === "radio") {
      onEdit(event);
    }
  });

  form.addEventListener("submit", function (event) {
    if (inflight) {
      // Let the background save finish first, so that this save carries its version.
      event.preventDefault();
      var submitter = event.submitter;
      inflight.then(function () {
        form.requestSubmit(submitter);
      });
      return;
    }
    submitting = true;
  });

  setInterval(autosave, AUTOSAVE_MS);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      flushLocalCopy();
      autosave(true);
    }
  });
  window.addEventListener("pagehide", function () {
    flushLocalCopy();
    autosave(true);
  });
})();
