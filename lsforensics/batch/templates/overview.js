// Sort the case table by a column: numbers or text from the rows' data-* attributes (no markup is
// ever built from case text). "#sort=severity" (or "#sort=brand-asc") in the address sorts on load.
(function () {
  var table = document.getElementById("cases");
  var body = table.tBodies[0];
  var buttons = table.querySelectorAll("th button[data-sort]");
  function sortBy(key, dir) {
    var button = table.querySelector('th button[data-sort="' + key + '"]');
    if (!button) { return; }
    var num = button.getAttribute("data-type") === "num";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.getAttribute("data-" + key) || "", y = b.getAttribute("data-" + key) || "";
      var c = num ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y, "zh-Hans-CN");
      if (c === 0) { c = parseInt(a.getAttribute("data-index"), 10) - parseInt(b.getAttribute("data-index"), 10); return c; }
      return dir === "descending" ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    buttons.forEach(function (b) { b.removeAttribute("aria-sort"); });
    button.setAttribute("aria-sort", dir);
  }
  buttons.forEach(function (b) {
    b.addEventListener("click", function () {
      var now = b.getAttribute("aria-sort");
      var dir = now ? (now === "ascending" ? "descending" : "ascending") : (b.getAttribute("data-first") || "ascending");
      sortBy(b.getAttribute("data-sort"), dir);
    });
  });
  var m = /^#sort=([a-z]+)(?:-(asc|desc))?$/.exec(window.location.hash);
  if (m) {
    var first = table.querySelector('th button[data-sort="' + m[1] + '"]');
    var dir = m[2] ? (m[2] === "asc" ? "ascending" : "descending") : (first && first.getAttribute("data-first")) || "ascending";
    sortBy(m[1], dir);
  }
}());
