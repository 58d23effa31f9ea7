/* tidings console: live fragments and select-all, in the manner of htmx (written for tidings,
   MIT licence like the rest of tidings; no dependency, works offline).
   - an element with data-refresh="URL" gets its inner HTML replaced by GET URL every
     data-every milliseconds (2000 by default; at once too with data-now); a response with the
     header X-Refresh-Done stops it; while the user types in or holds a form inside it, it waits.
   - a checkbox with data-select-all="G" checks every input[name=key][data-group=G]. */
(function () {
  "use strict";
  function busy(el) {
    var active = document.activeElement;
    return active && el.contains(active) && active.tagName !== "BODY" && active.tagName !== "A";
  }
  function watch(el) {
    var every = parseInt(el.getAttribute("data-every") || "2000", 10);
    var timer = null;
    function tick() {
      if (busy(el)) { return; }
      fetch(el.getAttribute("data-refresh"), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (response.headers.get("X-Refresh-Done")) { clearInterval(timer); }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html !== null && html !== el.innerHTML) {
            var checked = {};
            el.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) { checked[box.value] = true; });
            el.innerHTML = html;
            el.querySelectorAll("input[type=checkbox]").forEach(function (box) { if (checked[box.value]) { box.checked = true; } });
            el.dispatchEvent(new CustomEvent("refreshed", { bubbles: true }));
          }
        })
        .catch(function () { /* the console went away: try again at the next tick */ });
    }
    timer = setInterval(tick, every);
    if (el.hasAttribute("data-now")) { tick(); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-refresh]").forEach(watch);
  });
  document.addEventListener("change", function (event) {
    var box = event.target;
    var group = box.getAttribute && box.getAttribute("data-select-all");
    if (!group) { return; }
    document.querySelectorAll('input[name=key][data-group="' + group + '"]').forEach(function (other) {
      other.checked = box.checked;
    });
  });
})();
