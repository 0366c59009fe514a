// Optional enhancements only: every page works without this file.
// Countdowns tick once a minute; the server already printed them when the page was made.
(function () {
  "use strict";
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-deadline"));
      if (!isNaN(due) && due < now) { el.classList.add("overdue"); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 60000); });
})();
