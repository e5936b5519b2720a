/* Keeps what the tourist typed in the complaint form across a reload or a lost connection.
   The draft lives in this browser only (localStorage), for one day, per form address, and is
   restored over the defaults of a fresh page, and only into empty fields of a page shown
   again with errors (the server's values win there). The tracking page removes drafts once a complaint is filed
   (<script data-clear-drafts>). Files, tokens and the submission key are never stored. */
(function () {
  "use strict";
  var PREFIX = "anxin-draft:";
  var MAX_AGE_MS = 24 * 60 * 60 * 1000;
  var script = document.currentScript;
  var storage;
  try { storage = window.localStorage; } catch (e) { return; }
  if (!storage) { return; }

  if (script && script.hasAttribute("data-clear-drafts")) {
    for (var i = storage.length - 1; i >= 0; i -= 1) {
      var name = storage.key(i);
      if (name && name.indexOf(PREFIX) === 0) { storage.removeItem(name); }
    }
    return;
  }

  var form = document.querySelector("form[data-draft]");
  if (!form) { return; }
  var key = PREFIX + window.location.pathname;
  // A fresh page (GET) holds only defaults: the draft wins. A page shown again after an
  // error holds what the server received: the draft fills only what is still empty.
  var restoreAll = form.getAttribute("data-draft-restore") === "all";
  var SKIP = { csrf_token: true, submission_key: true, switch_lang: true };

  function fields() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !SKIP[el.name] && el.type !== "file" && el.type !== "hidden" &&
        el.type !== "submit" && el.type !== "button";
    });
  }

  function save() {
    var values = {};
    fields().forEach(function (el) {
      values[el.name] = (el.type === "checkbox" || el.type === "radio") ? (el.checked ? el.value : values[el.name] || "") : el.value;
    });
    try { storage.setItem(key, JSON.stringify({ at: Date.now(), values: values })); } catch (e) { /* full or private mode */ }
  }

  function restore() {
    var saved;
    try { saved = JSON.parse(storage.getItem(key) || "null"); } catch (e) { saved = null; }
    if (!saved || !saved.values || Date.now() - saved.at > MAX_AGE_MS) { storage.removeItem(key); return; }
    fields().forEach(function (el) {
      var value = saved.values[el.name];
      if (value === undefined || value === "") { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        if (!form.querySelector("[name='" + el.name + "']:checked")) { el.checked = el.value === value; }
      } else if (restoreAll || !el.value) {
        el.value = value;
      }
    });
  }

  restore();
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
