// Moves the link key from the URL fragment (which browsers never send to the server) into
// the form that opens the message, or that asks for a verification code, only when the
// reader presses its button.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form.needs-key");
  if (forms.length === 0) { return; }
  var key = decodeURIComponent(window.location.hash.replace(/^#/, ""));
  if (!/^[A-Za-z0-9_-]{43}$/.test(key)) {
    document.getElementById("no-key").hidden = false;
    return;
  }
  Array.prototype.forEach.call(forms, function (form) {
    var button = form.querySelector("button");
    if (button) { button.disabled = false; }
    form.addEventListener("submit", function () {
      form.querySelector("input[name=key]").value = key;
    });
  });
})();
