/* Keyboard shortcuts of the staff console (issue 14). The keys and what they do are read
   from the help overlay's list (templates/_shortcuts.html, data-keys), so the list a person
   reads is the list that works. Never inside a form field, never with Ctrl, Alt or Meta. */
(function () {
  "use strict";

  var help = document.getElementById("shortcuts");
  if (!help) { return; }
  var bindings = {};
  help.querySelectorAll("[data-keys]").forEach(function (entry) {
    bindings[entry.getAttribute("data-keys")] = entry;
  });
  var pending = "";
  var timer = null;

  // Inputs that take no typing: a focused box or button leaves the shortcuts on.
  var NOT_TYPED = ["checkbox", "radio", "button", "submit", "reset", "image", "range", "color"];

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    if (tag === "input") { return NOT_TYPED.indexOf((target.type || "").toLowerCase()) < 0; }
    return tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("table.cases tbody tr"));
  }

  function current() {
    return rows().findIndex(function (row) { return row.classList.contains("cursor"); });
  }

  function move(step) {
    var list = rows();
    if (!list.length) { return; }
    var at = current();
    var next = at < 0 ? 0 : Math.min(Math.max(at + step, 0), list.length - 1);
    list.forEach(function (row) { row.classList.remove("cursor"); row.removeAttribute("aria-current"); });
    list[next].classList.add("cursor");
    list[next].setAttribute("aria-current", "true");
    var link = list[next].querySelector("a[href]");
    if (link) { link.focus(); }
  }

  function cursorRow() {
    var at = current();
    return at < 0 ? null : rows()[at];
  }

  var actions = {
    search: function () {
      var box = document.getElementById("q");
      if (box) { box.focus(); box.select(); } else { window.location.href = "/cases#q"; }
    },
    next: function () { move(1); },
    previous: function () { move(-1); },
    open: function () {
      var row = cursorRow();
      var link = row && row.querySelector("a[href]");
      if (link) { window.location.href = link.getAttribute("href"); }
    },
    select: function () {
      var row = cursorRow();
      var box = row && row.querySelector("input[type=checkbox]");
      if (box) { box.checked = !box.checked; }
    },
    actions: function () {
      var first = document.querySelector("#actions summary, #actions a, #actions button");
      if (first) { first.focus(); first.scrollIntoView({ block: "center" }); }
    },
    help: function () {
      if (help.open) { help.close(); } else { help.showModal(); }
    }
  };

  function run(entry) {
    var href = entry.getAttribute("data-href");
    if (href) { window.location.href = href; return; }
    var action = actions[entry.getAttribute("data-do")];
    if (action) { action(); }
  }

  function startsSequence(key) {
    return Object.keys(bindings).some(function (keys) { return keys.indexOf(key + " ") === 0; });
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typing(event.target)) { pending = ""; return; }
    if (help.open && event.key !== "?") { return; }
    var key = event.key;
    if (key === "Enter") {
      // Enter on a link, button or summary does its own thing; with nothing focused it
      // opens the row under the cursor.
      var focused = document.activeElement;
      if (!cursorRow() || (focused && focused !== document.body)) { return; }
      key = "o";
    }
    var combo = pending ? pending + " " + key : key;
    clearTimeout(timer);
    if (bindings[combo]) {
      pending = "";
      event.preventDefault();
      run(bindings[combo]);
    } else if (!pending && startsSequence(key)) {
      pending = key;
      event.preventDefault();
      timer = setTimeout(function () { pending = ""; }, 1500);
    } else {
      pending = "";
    }
  });

  if (window.location.hash === "#q" && document.getElementById("q")) {
    document.getElementById("q").focus();
  }
})();
