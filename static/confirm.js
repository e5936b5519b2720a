/* Decisions that cannot be undone ask first. A form says so with data-confirm="question";
   this file (no inline script: the Content-Security-Policy forbids it) asks the question on
   submit and stops the submit on "Cancel". */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  }, true);
})();
