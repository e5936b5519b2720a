// Console queue: tick every case on the page at once, and show only the bulk fields the
// chosen action needs. The page works without this script (every field is then shown).
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input.pick").forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }
  var action = document.querySelector("#bulk-form select[name=action]");
  if (!action) return;
  var wanted = { assign: ["handler"], transfer: ["agency", "note"], note: ["note"] };
  function show() {
    ["handler", "agency", "note"].forEach(function (name) {
      var box = document.getElementById("field-" + name);
      if (box) box.hidden = !(wanted[action.value] || []).includes(name);
    });
  }
  action.addEventListener("change", show);
  show();
})();
