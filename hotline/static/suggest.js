/* The registration form's suggestion panel (templates/knowledge/_suggest_panel.html).
   While the summary is typed, asks the server (POST /knowledge/suggest, the service behind POST /api/v1/suggest)
   and shows what it suggests. Nothing on the form changes until the operator presses a button. */
(function () {
  "use strict";
  var DELAY = 120; // ms after the last key press; the answer comes well within 300 ms
  var panel = document.getElementById("suggest-panel");
  var form = document.getElementById("case-form");
  if (!panel || !form) { return; }
  var body = panel.querySelector("[data-suggest-body]");
  var summary = document.getElementById("summary");
  var t = function (name) { return panel.getAttribute("data-t-" + name) || ""; };
  var timer = null;
  var controller = null;
  var lastKey = "";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function value(id) {
    var input = document.getElementById(id);
    return input ? input.value.trim() : "";
  }

  function percent(x) { return Math.round(x * 100) + "%"; }

  function fire(input) {
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function applyChoice(field, code) {
    if (field === "type") {
      var radio = document.getElementById("type-" + code);
      if (radio) { radio.checked = true; fire(radio); radio.focus(); }
    } else if (field === "category") {
      var select = document.getElementById("category");
      if (select) { select.value = code; fire(select); }
    } else if (field === "department") {
      var dispatch = document.getElementById("outcome-dispatch");
      var dept = document.getElementById("department");
      if (dispatch && dept) { dispatch.checked = true; fire(dispatch); dept.value = code; fire(dept); }
    }
  }

  function useArticle(article, button) {
    var answer = document.getElementById("answer");
    var close = document.getElementById("outcome-close");
    if (close) { close.checked = true; fire(close); }
    if (answer) { answer.value = article.answer; fire(answer); }
    panel.querySelector("[data-article-input]").value = String(article.id);
    button.textContent = t("used");
    if (answer) { answer.focus(); }
  }

  function choiceRow(field, label, choice) {
    var row = el("li", { "class": "suggest-choice" });
    row.appendChild(el("span", { "class": "label" }, label + "："));
    row.appendChild(el("strong", {}, choice.name));
    row.appendChild(el("span", { "class": "muted" }, " " + percent(choice.confidence)));
    var button = el("button", { type: "button", "class": "small", "data-field": field }, t("apply"));
    button.addEventListener("click", function () { applyChoice(field, choice.code); });
    row.appendChild(document.createTextNode(" "));
    row.appendChild(button);
    (choice.alternatives || []).forEach(function (alt) {
      var other = el("button", { type: "button", "class": "link small" }, alt.name + " " + percent(alt.confidence));
      other.addEventListener("click", function () { applyChoice(field, alt.code); });
      row.appendChild(document.createTextNode(" "));
      row.appendChild(other);
    });
    return row;
  }

  function render(data) {
    body.textContent = "";
    if (data.group_alert) {
      var alert = el("div", { "class": "flash warn group-alert", role: "alert" });
      alert.appendChild(el("strong", {}, t("group") + "：" + data.group_alert.employer));
      alert.appendChild(el("p", {}, data.group_alert.message));
      var links = el("p", {});
      data.group_alert.cases.slice(0, 8).forEach(function (no) {
        links.appendChild(el("a", { href: panel.getAttribute("data-case-url").replace("CASE-NO", no), target: "_blank" }, no));
        links.appendChild(document.createTextNode(" "));
      });
      alert.appendChild(links);
      body.appendChild(alert);
    }
    (data.notes || []).forEach(function (note) { body.appendChild(el("p", { "class": "hint" }, note)); });
    var choices = el("ul", { "class": "suggest-choices" });
    [["type", t("type")], ["category", t("category")], ["department", t("department")]].forEach(function (pair) {
      if (data[pair[0]]) { choices.appendChild(choiceRow(pair[0], pair[1], data[pair[0]])); }
    });
    body.appendChild(choices);
    body.appendChild(el("p", { "class": "hint" }, data.source === "model" ? t("learnt") : t("keywords")));
    body.appendChild(el("h3", {}, t("articles")));
    if (!data.articles.length) { body.appendChild(el("p", { "class": "muted" }, t("none"))); }
    data.articles.forEach(function (article) {
      var box = el("article", { "class": "suggest-article" });
      box.appendChild(el("h4", {}, article.title));
      box.appendChild(el("p", { "class": "answer" }, article.answer));
      box.appendChild(el("p", { "class": "hint" }, t("basis") + "：" + article.legal_basis));
      var use = el("button", { type: "button", "class": "primary small" }, t("use"));
      use.addEventListener("click", function () { useArticle(article, use); });
      box.appendChild(use);
      body.appendChild(box);
    });
    if (data.similar_cases.length) {
      body.appendChild(el("h3", {}, t("similar")));
      var list = el("ul", { "class": "suggest-similar" });
      data.similar_cases.forEach(function (c) {
        var item = el("li", {});
        item.appendChild(el("a", { href: panel.getAttribute("data-case-url").replace("CASE-NO", c.case_no), target: "_blank" }, c.case_no));
        item.appendChild(document.createTextNode(" " + c.summary + " "));
        item.appendChild(el("span", { "class": "badge" }, c.reason === "employer" ? t("same-employer") : t("same-topic")));
        list.appendChild(item);
      });
      body.appendChild(list);
    }
  }

  function ask() {
    var payload = { summary: value("summary"), detail: value("detail"), employer: value("caller_employer"),
                    phone: value("phone") };
    var key = JSON.stringify(payload);
    if (!payload.summary || key === lastKey) { return; }
    lastKey = key;
    if (controller) { controller.abort(); }
    controller = window.AbortController ? new AbortController() : null;
    fetch(panel.getAttribute("data-suggest-url"), {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json", "X-CSRFToken": panel.getAttribute("data-csrf") },
      body: key, signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      if (result.ok) { render(result.data); panel.setAttribute("data-ready", "1"); }
      else if (result.data && result.data.error) { body.textContent = ""; body.appendChild(el("p", { "class": "hint" }, result.data.error.message)); }
    }).catch(function (err) {
      if (err && err.name === "AbortError") { return; }
      body.textContent = "";
      body.appendChild(el("p", { "class": "muted" }, t("error")));
    });
  }

  function later() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(ask, DELAY);
  }

  ["summary", "detail", "caller_employer", "phone"].forEach(function (id) {
    var input = document.getElementById(id);
    if (input) { input.addEventListener("input", later); }
  });
  if (summary && summary.value.trim()) { later(); }
}());
