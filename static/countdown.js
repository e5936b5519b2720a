/* "Send a new code": a visible countdown until the server accepts another request.
   The server refuses early requests anyway; this only saves a pointless tap. No inline script
   (the Content-Security-Policy forbids it): the page gives the seconds as data-wait-seconds. */
(function () {
  "use strict";
  var button = document.getElementById("resend-button");
  var seconds = document.getElementById("resend-seconds");
  var notice = document.getElementById("resend-countdown");
  if (!button) { return; }
  var left = parseInt(button.getAttribute("data-wait-seconds") || "0", 10);
  if (!(left > 0)) { return; }
  button.disabled = true;
  var timer = window.setInterval(function () {
    left -= 1;
    if (seconds) { seconds.textContent = String(Math.max(left, 0)); }
    if (left <= 0) {
      window.clearInterval(timer);
      button.disabled = false;
      if (notice) { notice.hidden = true; }
    }
  }, 1000);
})();
