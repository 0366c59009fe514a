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

// The report form: choosing another community lists its grids and buildings at once (without
// this, the "show its grids and buildings" button reloads the page), and what was typed stays.
(function () {
  "use strict";
  function fill(select, items) {
    if (!select) { return; }
    while (select.options.length > 1) { select.remove(1); }  // keep the "not sure" option
    items.forEach(function (item) { select.add(new Option(item.name, String(item.id))); });
    select.value = "";
  }
  document.addEventListener("DOMContentLoaded", function () {
    var chooser = document.querySelector("[data-community-chooser]");
    var form = document.querySelector("form.intake");
    if (!chooser || !form || !window.fetch) { return; }
    var select = chooser.querySelector("select[name=community_id]");
    var button = chooser.querySelector("[data-choose]");
    if (button) { button.hidden = true; }
    select.addEventListener("change", function () {
      var hidden = form.querySelector("input[name=community_id]");
      var note = form.querySelector("[data-community-name]");
      hidden.value = select.value;
      if (note) { note.hidden = true; }
      if (!select.value) { fill(form.querySelector("select[name=grid_id]"), []); fill(form.querySelector("select[name=building_id]"), []); return; }
      fetch("/api/v1/communities/" + encodeURIComponent(select.value), { headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (c) {
          fill(form.querySelector("select[name=grid_id]"), c.grids);
          fill(form.querySelector("select[name=building_id]"), c.buildings);
        })
        .catch(function () { if (button) { button.hidden = false; } });
    });
  });
})();
