// Moves the link key from the URL fragment (which browsers never send to the server) into
// the form that opens the message, only when the reader presses "Open message".
(function () {
  "use strict";
  var form = document.getElementById("open-form");
  if (!form) { return; }
  var key = decodeURIComponent(window.location.hash.replace(/^#/, ""));
  var button = document.getElementById("open-button");
  if (!/^[A-Za-z0-9_-]{43}$/.test(key)) {
    document.getElementById("no-key").hidden = false;
    return;
  }
  button.disabled = false;
  form.addEventListener("submit", function () {
    document.getElementById("key").value = key;
  });
})();
