// tidings docs search: matches names and descriptions in window.TIDINGS_SEARCH (no network).
(function () {
  "use strict";
  var input = document.getElementById("search");
  var list = document.getElementById("results");
  var root = document.body.getAttribute("data-root") || "";
  var entries = window.TIDINGS_SEARCH || [];
  function score(entry, words) {
    var name = entry.name.toLowerCase(), text = (entry.text || "").toLowerCase(), total = 0;
    for (var i = 0; i < words.length; i++) {
      var w = words[i];
      if (name === w) total += 100;
      else if (name.indexOf(w) === 0) total += 50;
      else if (name.indexOf(w) >= 0) total += 20;
      else if (text.indexOf(w) >= 0) total += 5;
      else return 0;
    }
    return total;
  }
  function show() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    list.textContent = "";
    if (!words.length) return;
    var hits = [];
    for (var i = 0; i < entries.length; i++) {
      var s = score(entries[i], words);
      if (s) hits.push([s, entries[i]]);
    }
    hits.sort(function (a, b) { return b[0] - a[0] || (a[1].name < b[1].name ? -1 : 1); });
    hits.slice(0, 20).forEach(function (hit) {
      var li = document.createElement("li"), a = document.createElement("a"), small = document.createElement("small");
      a.href = root + hit[1].url;
      a.textContent = hit[1].name;
      small.textContent = hit[1].kind + (hit[1].text ? " · " + hit[1].text : "");
      li.appendChild(a); li.appendChild(small); list.appendChild(li);
    });
    if (!hits.length) { var li = document.createElement("li"); li.textContent = "No match."; list.appendChild(li); }
  }
  input.addEventListener("input", show);
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter") { var first = list.querySelector("a"); if (first) window.location.href = first.href; }
    if (e.key === "Escape") { input.value = ""; show(); }
  });
})();
