// The web app's only script, loaded from this origin (the CSP allows nothing inline).
// 1. Counts the undo window down; without it the page still says "until HH:MM:SS".
// 2. Keeps the compose draft in this tab's sessionStorage, so a session that expires while
//    writing loses nothing: the form is filled again after signing back in.
// 3. On the manage-link page, moves the link's capability from the fragment (which the
//    browser never sends) into the form, takes it out of the address bar, and submits.
(function () {
  "use strict";

  var countdown = document.getElementById("countdown");
  var live = document.getElementById("countdown-live");
  if (countdown) {
    var deadline = Date.parse(countdown.getAttribute("data-deadline"));
    var template = countdown.getAttribute("data-template") || "{seconds}";
    var last = -1;
    var tick = function () {
      var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      if (left !== last) {
        var text = template.replace("{seconds}", String(left));
        countdown.textContent = text;
        // The live region speaks every 10 seconds and the last 5, so a screen reader is
        // told the time without being flooded once a second.
        if (live && (last === -1 || left % 10 === 0 || left <= 5)) { live.textContent = text; }
      }
      last = left;
      if (left === 0) {
        var button = document.getElementById("undo-button");
        if (button) { button.disabled = true; }
        window.setTimeout(function () { window.location.reload(); }, 1500);
        return;
      }
      window.setTimeout(tick, 250);
    };
    if (!isNaN(deadline)) {
      countdown.hidden = false;
      tick();
    }
  }

  var form = document.querySelector("form[data-keep-draft]");
  if (form && window.sessionStorage) {
    var key = "retract-draft-" + form.getAttribute("data-keep-draft");
    var names = ["to", "cc", "bcc", "subject", "body", "expires", "max_views", "delay"];
    var saved = null;
    try { saved = JSON.parse(window.sessionStorage.getItem(key) || "null"); } catch (e) { saved = null; }
    var empty = names.every(function (name) { return !form.elements[name] || !form.elements[name].value; });
    if (saved && empty) {
      names.forEach(function (name) {
        if (form.elements[name] && typeof saved[name] === "string") { form.elements[name].value = saved[name]; }
      });
    }
    var save = function () {
      var draft = {};
      names.forEach(function (name) { if (form.elements[name]) { draft[name] = form.elements[name].value; } });
      try { window.sessionStorage.setItem(key, JSON.stringify(draft)); } catch (e) { /* storage full or off */ }
    };
    form.addEventListener("input", save);
    form.addEventListener("change", save);
  }
  var manage = document.querySelector("form[data-manage-link]");
  if (manage) {
    var capability = window.location.hash.replace(/^#/, "");
    if (capability) {
      manage.elements.capability.value = capability;
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, "", window.location.pathname);
      }
      manage.submit();
    }
  }
  // A message page reached after sending: the draft is done.
  var sent = document.querySelector("[data-draft-sent]");
  if (sent && window.sessionStorage) { window.sessionStorage.removeItem("retract-draft-compose"); }
})();
