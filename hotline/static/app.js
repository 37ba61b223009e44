// hotline front-end behaviour; no inline scripts (CSP). Plain JS, no libraries.
// Every page works without it; this only adds keyboard shortcuts, the caller screen-pop and small helpers.
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function isEditable(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return el.isContentEditable || tag === "TEXTAREA" || tag === "SELECT" ||
      (tag === "INPUT" && !/^(radio|checkbox|button|submit|reset)$/i.test(el.type));
  }

  function isShown(el) {
    return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  }

  function firstField(root) {
    return $all("input:not([type=hidden]), textarea, select, button", root).filter(function (el) {
      return !el.disabled && isShown(el);
    })[0];
  }

  // ---------------------------------------------------------------- shortcuts: data-hotkey="Alt+1", "Alt+P", "/"
  function comboOf(event) {
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      // event.code keeps Alt+letter readable on keyboards where Alt changes the character.
      var m = /^(?:Digit|Key)(\w)$/.exec(event.code || "");
      if (m) { return "Alt+" + m[1].toUpperCase(); }
      return null;
    }
    if (!event.altKey && !event.ctrlKey && !event.metaKey && event.key === "/") { return "/"; }
    return null;
  }

  function activate(el) {
    if (el.tagName === "INPUT" && (el.type === "radio" || el.type === "checkbox")) {
      if (!el.checked || el.type === "checkbox") { el.click(); }
      el.focus();
    } else if (el.tagName === "A" || el.tagName === "BUTTON") {
      var before = document.activeElement;
      el.click();
      // Unless the click moved the focus on itself (e.g. on to the case type after filling the caller).
      if (document.activeElement === before) { el.focus(); }
    } else {
      el.focus();
      if (el.select && el.tagName === "INPUT") { el.select(); }
    }
  }

  document.addEventListener("keydown", function (event) {
    // Ctrl+Enter (Cmd+Enter on a Mac) sends the form the focus is in.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      var form = event.target && event.target.closest ? event.target.closest("form[data-ctrl-enter]") : null;
      if (form) {
        event.preventDefault();
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      }
      return;
    }
    var combo = comboOf(event);
    if (!combo) { return; }
    if (combo === "/" && isEditable(event.target)) { return; }
    var target = $all("[data-hotkey]").filter(function (el) {
      return el.getAttribute("data-hotkey").toUpperCase() === combo.toUpperCase() && !el.disabled && isShown(el);
    })[0];
    if (target) {
      event.preventDefault();
      activate(target);
    }
  });

  // ---------------------------------------------------------------- logging page: what happens with the call
  function syncOutcome(fieldset) {
    var checked = $("input[name=outcome]:checked", fieldset);
    var value = checked ? checked.value : "register";
    $all("[data-show-for]", fieldset).forEach(function (block) {
      block.hidden = block.getAttribute("data-show-for") !== value;
      // The answer (closed on the call) and the department (dispatch) are required only when shown:
      // a hint for the browser and screen readers; the form is novalidate and the server checks.
      $all("#answer, #department", block).forEach(function (field) { field.required = !block.hidden; });
    });
  }

  $all("[data-outcome]").forEach(function (fieldset) {
    syncOutcome(fieldset);
    fieldset.addEventListener("change", function (event) {
      if (event.target.name === "outcome") { syncOutcome(fieldset); }
    });
  });

  // A confidential case cannot be cleared for broadcast: ticking one clears the other.
  var confidential = $("#confidential"), broadcast = $("#broadcast_ok");
  if (confidential && broadcast) {
    confidential.addEventListener("change", function () { if (confidential.checked) { broadcast.checked = false; } });
    broadcast.addEventListener("change", function () { if (broadcast.checked) { confidential.checked = false; } });
  }

  // ---------------------------------------------------------------- handler select filtered by department
  function filterHandlers(deptSelect) {
    var handlerSelect = document.getElementById(deptSelect.getAttribute("data-handler-select"));
    if (!handlerSelect) { return; }
    var dept = deptSelect.value;
    $all("option[data-dept]", handlerSelect).forEach(function (opt) {
      var other = !!dept && opt.getAttribute("data-dept") !== dept;
      opt.hidden = other;
      opt.disabled = other;
      if (other && opt.selected) { handlerSelect.value = ""; }
    });
  }

  $all("select[data-handler-select]").forEach(function (select) {
    filterHandlers(select);
    select.addEventListener("change", function () { filterHandlers(select); });
  });

  // ---------------------------------------------------------------- caller screen-pop
  $all("[data-caller-lookup]").forEach(function (input) {
    var box = document.getElementById(input.getAttribute("data-caller-lookup"));
    if (!box) { return; }
    var url = box.getAttribute("data-url");
    var placeholder = box.innerHTML;
    var timer = null, last = null, controller = null;

    function lookup() {
      var phone = input.value.trim();
      var digits = phone.replace(/\D/g, "");
      if (digits.length < 7) {
        last = null;
        box.innerHTML = placeholder;
        return;
      }
      if (phone === last) { return; }
      last = phone;
      if (controller) { controller.abort(); }
      controller = window.AbortController ? new AbortController() : null;
      box.setAttribute("aria-busy", "true");
      fetch(url + "?phone=" + encodeURIComponent(phone), {
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        return response.text();
      }).then(function (html) {
        box.innerHTML = html;  // server-rendered, escaped fragment
        box.removeAttribute("aria-busy");
      }).catch(function (err) {
        if (err && err.name === "AbortError") { return; }
        box.removeAttribute("aria-busy");
        last = null;
      });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 350);
    });
    input.addEventListener("blur", function () { clearTimeout(timer); lookup(); });
    if (input.value.trim()) { lookup(); }

    // The caller has an open case: "add a note to that case instead" takes what was typed as the note.
    box.addEventListener("submit", function (event) {
      var form = event.target.closest ? event.target.closest("form[data-note-instead]") : null;
      if (!form) { return; }
      var parts = ["#summary", "#detail"].map(function (sel) { var f = $(sel); return f ? f.value.trim() : ""; })
        .filter(function (v) { return v; });
      $("[name=text]", form).value = parts.length ? parts.join("\n") : form.getAttribute("data-default-text");
    });

    // "Use the caller's details": fill name, employer, district where still empty.
    box.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("[data-fill-caller]") : null;
      if (!button) { return; }
      [["caller_name", "data-name"], ["caller_employer", "data-employer"], ["caller_district", "data-district"]]
        .forEach(function (pair) {
          var field = document.getElementById(pair[0]);
          var value = button.getAttribute(pair[1]);
          if (field && value && !field.value.trim()) { field.value = value; }
        });
      var next = $("input[name=type]:checked") || $("input[name=type]") || $("#summary") || input;
      next.focus();
    });
  });

  // ---------------------------------------------------------------- tabs (queue page)
  // The server renders only the open tab's panel; a tab whose panel is not on the page is a plain
  // link to it (the request loads and renders just that tab).
  $all("[data-tabs]").forEach(function (list) {
    var tabs = $all("[role=tab]", list);
    function select(tab, focus) {
      if (!document.getElementById(tab.getAttribute("aria-controls"))) {
        window.location.href = tab.href;
        return;
      }
      tabs.forEach(function (t) {
        var on = t === tab;
        t.setAttribute("aria-selected", on ? "true" : "false");
        t.tabIndex = on ? 0 : -1;
        var panel = document.getElementById(t.getAttribute("aria-controls"));
        if (panel) { panel.hidden = !on; }
      });
      if (focus) { tab.focus(); }
      if (window.history && history.replaceState) {
        history.replaceState(null, "", "?tab=" + tab.getAttribute("aria-controls"));
      }
    }
    var current = tabs.filter(function (t) { return t.getAttribute("aria-selected") === "true"; })[0] || tabs[0];
    if (current) {
      tabs.forEach(function (t) {
        var panel = document.getElementById(t.getAttribute("aria-controls"));
        if (panel) { panel.hidden = t !== current; }
        t.tabIndex = t === current ? 0 : -1;
      });
    }
    tabs.forEach(function (tab, i) {
      tab.addEventListener("click", function (event) { event.preventDefault(); select(tab, true); });
      tab.addEventListener("keydown", function (event) {
        var step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
        if (step) {
          event.preventDefault();
          select(tabs[(i + step + tabs.length) % tabs.length], true);
        }
      });
    });
  });

  // ---------------------------------------------------------------- the top bar's menu on a phone
  $all("details[data-collapse-narrow]").forEach(function (menu) {
    if (!window.matchMedia) { return; }
    var narrow = window.matchMedia("(max-width: 700px)");
    function fit() { menu.open = !narrow.matches; }
    fit();
    if (narrow.addEventListener) { narrow.addEventListener("change", fit); }
  });

  // ---------------------------------------------------------------- action panels (case page)
  // Opening an action by keyboard or mouse puts the cursor in its first field.
  $all("details:not([data-collapse-narrow])").forEach(function (details) {
    var summary = $("summary", details);
    if (!summary) { return; }
    summary.addEventListener("click", function () {
      setTimeout(function () {
        if (details.open) {
          var field = firstField($("form", details) || details);
          if (field) { field.focus(); }
        }
      }, 0);
    });
  });

  // ---------------------------------------------------------------- live calls on the logging page
  // Short polling of /calls/live (JSON). The calls' state lives only in the database, so every poll is a
  // plain GET that any gunicorn worker answers; a poll with nothing new gets 304 (ETag). See
  // hotline/telephony/views.py for why this is not a server-sent event stream.
  $all("[data-live-url]").forEach(function (panel) {
    var url = panel.getAttribute("data-live-url");
    var list = $("[data-live-list]", panel);
    var empty = $("[data-live-empty]", panel);
    var state = $("[data-live-state]", panel);
    var linked = panel.getAttribute("data-linked") || "";
    var etag = null, timer = null, delay = 2000, failures = 0, offset = 0, lineOpen = true, calls = [];

    function t(name) { return panel.getAttribute("data-t-" + name) || ""; }

    function el(tag, cls, text) {
      var node = document.createElement(tag);
      if (cls) { node.className = cls; }
      if (text !== undefined && text !== null) { node.textContent = text; }
      return node;
    }

    function clockText(since) {
      var secs = Math.max(0, Math.round((Date.now() + offset - Date.parse(since)) / 1000));
      var m = Math.floor(secs / 60), s = secs % 60;
      return m + ":" + (s < 10 ? "0" : "") + s;
    }

    function caseLink(no) {
      var a = el("a", null, no);
      a.href = panel.getAttribute("data-case-url").replace("CASE-NO", encodeURIComponent(no));
      a.target = "_blank";
      a.rel = "noopener";
      return a;
    }

    function item(call) {
      var li = el("li", "live-call " + call.status + (call.mine ? " mine" : ""));
      li.setAttribute("data-sid", call.sid);
      var head = el("p", "caller-line");
      head.appendChild(el("strong", null, call.from));
      head.appendChild(el("span", "badge call " + call.status, call.status_label));
      var timer = el("span", "timer", clockText(call.answered_at || call.started_at));
      timer.setAttribute("data-since", call.answered_at || call.started_at);
      head.appendChild(timer);
      li.appendChild(head);
      if (!call.anonymous) {
        if (call.cases) {
          li.appendChild(el("p", null, t("cases") + ": " + call.cases + (call.open_count ? " · " + call.open_count + " " + t("open") : "")));
        } else {
          li.appendChild(el("p", "new-caller", t("new")));
        }
      }
      if (call.open_cases.length) {
        var ul = el("ul");
        call.open_cases.forEach(function (c) {
          var entry = el("li");
          entry.appendChild(caseLink(c.case_no));
          entry.appendChild(document.createTextNode(" " + c.summary));
          ul.appendChild(entry);
        });
        li.appendChild(ul);
      }
      if (call.operator && !call.mine) { li.appendChild(el("p", "muted", t("taken") + " " + call.operator)); }
      if (call.sid === linked) {
        li.appendChild(el("p", "muted", t("linked")));
      } else if (call.take_url) {
        var form = el("form");
        form.method = "post";
        form.action = call.take_url;
        var token = el("input");
        token.type = "hidden";
        token.name = "csrf_token";
        token.value = panel.getAttribute("data-csrf");
        form.appendChild(token);
        var button = el("button", "primary small", call.mine ? t("resume") : t("take"));
        // Alt+A answers without tabbing through the whole form: the list is oldest first and the
        // first visible match wins, so it is the call that has waited longest.
        button.setAttribute("data-hotkey", "Alt+A");
        form.appendChild(button);
        li.appendChild(form);
      }
      return li;
    }

    function render() {
      // Keep the focus on a "take" button across redraws when the same call is still there.
      var active = document.activeElement;
      var focusSid = active && list.contains(active) && active.closest("[data-sid]") ?
        active.closest("[data-sid]").getAttribute("data-sid") : null;
      list.textContent = "";
      calls.forEach(function (call) { list.appendChild(item(call)); });
      empty.hidden = calls.length > 0;
      empty.textContent = lineOpen ? empty.getAttribute("data-empty") : t("closed");
      if (focusSid) {
        var again = $("[data-sid='" + focusSid + "'] button", list);
        if (again) { again.focus(); }
      }
    }

    function tick() {
      $all("[data-since]", list).forEach(function (node) { node.textContent = clockText(node.getAttribute("data-since")); });
    }

    function schedule(ms) {
      clearTimeout(timer);
      timer = setTimeout(poll, ms);
    }

    function poll() {
      if (document.hidden) { return; }  // resumed by visibilitychange
      var headers = { "Accept": "application/json", "X-Requested-With": "fetch" };
      if (etag) { headers["If-None-Match"] = etag; }
      fetch(url, { credentials: "same-origin", headers: headers, cache: "no-store" }).then(function (response) {
        if (response.status === 304) { return null; }
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("json") < 0) { throw new Error("live calls: " + response.status); }
        etag = response.headers.get("ETag");
        return response.json();
      }).then(function (data) {
        if (data) {
          calls = data.calls || [];
          lineOpen = data.open !== false;
          delay = data.poll_ms || delay;
          offset = Date.parse(data.now) - Date.now();
          render();
        }
        failures = 0;
        state.textContent = t("live");
        schedule(delay);
      }).catch(function () {
        failures += 1;
        state.textContent = t("offline");
        schedule(Math.min(30000, delay * Math.pow(2, failures)));
      });
    }

    empty.setAttribute("data-empty", empty.textContent);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) { schedule(0); }
    });
    setInterval(tick, 1000);
    poll();
  });

  // After a refused submission, put the cursor on the first field in error (unless a field asked for focus).
  if (!$("[autofocus]")) {
    var invalid = $("[aria-invalid=true]");
    if (invalid && isShown(invalid)) { invalid.focus(); }
  }
})();
