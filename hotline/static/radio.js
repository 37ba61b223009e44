// Radio console and digest editor behaviour; no inline scripts (CSP). Plain JS, no libraries.
// Every page works without it: the queue then refreshes on each action instead of every few seconds.
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function isEditable(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return el.isContentEditable || tag === "TEXTAREA" || tag === "SELECT" || tag === "INPUT";
  }

  function mmss(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  // ---------------------------------------------------------------- the server's clock
  // The page counts from the server's time (which tests and HOTLINE_NOW may pin), not the browser's.
  var head = $("[data-server-now]");
  var offset = 0;
  if (head) { offset = Date.parse(head.getAttribute("data-server-now")) - Date.now(); }
  function serverNow() { return Date.now() + offset; }

  function tick() {
    $all("[data-on-air-since]").forEach(function (el) {
      el.textContent = mmss((serverNow() - Date.parse(el.getAttribute("data-on-air-since"))) / 1000);
    });
    var clockEl = $("[data-show-clock]");
    if (head && clockEl) {
      var left = (Date.parse(head.getAttribute("data-show-ends")) - serverNow()) / 1000;
      clockEl.textContent = mmss(left);
      clockEl.classList.toggle("ending", left > 0 && left < 300);
    }
  }
  if ($("[data-on-air-since]") || $("[data-show-clock]")) {
    tick();
    window.setInterval(tick, 1000);
  }

  // ---------------------------------------------------------------- polling the queue
  var box = $("[data-poll-url]");
  if (box) {
    var url = box.getAttribute("data-poll-url");
    var every = parseInt(box.getAttribute("data-poll-ms"), 10) || 3000;
    var etag = null;
    var busy = false;

    var userIsWorking = function () {
      var active = document.activeElement;
      if (active && box.contains(active) && isEditable(active)) { return true; }
      return $all("details[open]", box).length > 0;
    };

    var poll = function () {
      if (busy || document.hidden || userIsWorking()) { return; }
      busy = true;
      var headers = { "X-Requested-With": "fetch" };
      if (etag) { headers["If-None-Match"] = etag; }
      fetch(url, { credentials: "same-origin", headers: headers }).then(function (response) {
        if (response.status === 304) { return null; }
        if (!response.ok) { return null; }
        etag = response.headers.get("ETag");
        return response.text();
      }).then(function (html) {
        if (html === null || html === undefined || userIsWorking()) { return; }
        var focusedId = document.activeElement && document.activeElement.closest &&
          document.activeElement.closest("[data-card]") ? document.activeElement.closest("[data-card]").id : null;
        box.innerHTML = html;
        tick();
        if (focusedId && document.getElementById(focusedId)) { document.getElementById(focusedId).focus(); }
      }).catch(function () { /* offline for a moment: the next poll tries again */ }).then(function () {
        busy = false;
      });
    };
    window.setInterval(poll, every);
  }

  // ---------------------------------------------------------------- J / K between call cards
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || isEditable(event.target)) { return; }
    if (event.key !== "j" && event.key !== "k") { return; }
    var cards = $all("[data-card]");
    if (!cards.length) { return; }
    var current = document.activeElement && document.activeElement.closest ?
      document.activeElement.closest("[data-card]") : null;
    var index = cards.indexOf(current);
    index = event.key === "j" ? Math.min(index + 1, cards.length - 1) : Math.max(index - 1, 0);
    event.preventDefault();
    cards[index].focus();
    cards[index].scrollIntoView({ block: "nearest" });
  });

  // ---------------------------------------------------------------- confirmations, printing
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  }, true);

  $all("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  // ---------------------------------------------------------------- characters and reading time while typing
  $all("form[data-count-chars] textarea[data-rate]").forEach(function (area) {
    var label = area.closest(".field") ? $("[data-char-count]", area.closest(".field")) : null;
    if (!label) { return; }
    var rate = parseInt(area.getAttribute("data-rate"), 10) || 250;
    var update = function () {
      var n = area.value.replace(/\s+/g, "").length;
      label.textContent = "(" + n + " · " + mmss(Math.ceil(n * 60 / rate)) + ")";
    };
    update();
    area.addEventListener("input", update);
  });
}());
