// Instant search and autocomplete for the help center. Progressive enhancement: every page works without it.
// Text from the server goes in with textContent; only `snippet` (escaped by the server, <mark> added) is HTML.
(function () {
  "use strict";

  var cfgEl = document.getElementById("kb-i18n");
  var cfg = cfgEl ? JSON.parse(cfgEl.textContent) : {strings: {}, languages: {}, categories: {}};
  var S = cfg.strings || {};
  var DEBOUNCE_MS = 200;
  var MAX_QUERY = 500;

  function fmt(text, values) {
    return String(text || "").replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }

  // A counted string: its CLDR plural forms from web/i18n.py, the form chosen by the browser's CLDR rules.
  function plural(forms, n) {
    if (typeof forms === "string") return fmt(forms, {n: n});
    var rule = window.Intl && Intl.PluralRules ? new Intl.PluralRules(cfg.lang || "en").select(n) : "other";
    return fmt(forms[rule] || forms.other, {n: n});
  }
  window.kbPlural = plural;  // contact.js says how many articles it found with the same rule

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function categoryName(slug) {
    var names = cfg.categories || {};
    if (names[slug]) return names[slug];
    var s = String(slug || "").replace(/[-_]/g, " ");
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  function withSearchId(url, searchId) {
    var hash = "";
    var i = url.indexOf("#");
    if (i >= 0) { hash = url.slice(i); url = url.slice(0, i); }
    // No `rank` here: the click is logged by the beacon, so the article page must not log it again.
    return url + (url.indexOf("?") >= 0 ? "&" : "?") + "sid=" + encodeURIComponent(searchId) + hash;
  }

  function logClick(searchId, articleId, rank) {
    var body = JSON.stringify({search_id: searchId, article_id: articleId, rank: rank});
    var sent = false;
    try {
      if (navigator.sendBeacon) sent = navigator.sendBeacon("/api/click", new Blob([body], {type: "application/json"}));
    } catch (e) { sent = false; }
    if (!sent && window.fetch) {
      fetch("/api/click", {method: "POST", body: body, keepalive: true, credentials: "same-origin",
                           headers: {"Content-Type": "application/json"}}).catch(function () {});
    }
  }

  // Text from an article carries its language when it is not the page's (the interface's words keep the page's).
  function markLang(node, locale) {
    if (locale && locale !== cfg.lang) node.lang = locale;
    return node;
  }

  function langName(code) {
    return markLang(el("span", null, (cfg.languages || {})[code] || code), code);
  }

  // A translated string with one placeholder filled by a node (a name in its own language).
  function fmtNode(node, text, key, value) {
    var parts = String(text || "").split("{" + key + "}");
    node.appendChild(document.createTextNode(parts[0]));
    if (parts.length > 1) { node.appendChild(value); node.appendChild(document.createTextNode(parts.slice(1).join(""))); }
    return node;
  }

  function resultItem(r, rank, searchId, level) {
    var li = el("li", "result");
    var h = markLang(el("h" + level, "result-title"), r.locale);
    var a = el("a", null);
    if (r.title_html) a.innerHTML = r.title_html;  // escaped by the server; only <mark> is markup
    else a.textContent = r.title;
    a.href = withSearchId(r.url, searchId);
    a.addEventListener("click", function () { logClick(searchId, r.id, rank); });
    h.appendChild(a);
    li.appendChild(h);
    var meta = el("p", "result-meta");
    meta.appendChild(el("span", "result-category", categoryName(r.category)));
    if (r.section) {
      var sep = el("span", null, " › ");
      sep.setAttribute("aria-hidden", "true");
      meta.appendChild(sep);
      meta.appendChild(markLang(el("span", "result-section", r.section), r.locale));
    }
    if (r.other_language) {
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(fmtNode(el("span", "badge"), S.other_language, "lang", langName(r.locale)));
    }
    li.appendChild(meta);
    var snip = markLang(el("p", "snippet"), r.locale);
    snip.innerHTML = r.snippet;  // escaped by the server; only <mark> is markup
    li.appendChild(snip);
    if (r.translation) {
      var p = el("p", "translation-link");
      var ta = fmtNode(el("a"), S.read_translation, "title", markLang(el("span", null, r.translation.title), r.translation.locale));
      ta.href = r.translation.url;
      ta.hreflang = r.translation.locale;
      p.appendChild(ta);
      li.appendChild(p);
    }
    return li;
  }

  function setup(form) {
    var input = form.querySelector(".search-input");
    var list = form.querySelector(".suggestions");
    var live = form.querySelector("[data-live]");
    if (!input) return;
    var panel = document.querySelector("[data-instant-results]");
    if (!panel) {
      panel = el("div", "instant-results");
      panel.hidden = true;
      form.parentNode.insertBefore(panel, form.nextSibling);
    }
    var locale = form.getAttribute("data-locale") || "";
    // Where the results carry the page's h1 (/search), they draw their own; elsewhere they sit under the page's.
    var pageHeading = panel.getAttribute("data-heading") === "h1";
    var level = 2;
    var timer = null;
    var seq = 0;
    var controller = null;
    var lastQuery = input.value.trim();

    function closeSuggestions() {
      list.hidden = true;
      list.replaceChildren();
      input.setAttribute("aria-expanded", "false");
    }

    function api(path, params, signal) {
      var qs = new URLSearchParams(params);
      return fetch(path + "?" + qs.toString(), {signal: signal, credentials: "same-origin",
                                                headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); });
    }

    function renderSuggestions(items) {
      list.replaceChildren();
      items.forEach(function (s, i) {
        var li = el("li", "suggestion suggestion--" + s.kind, s.text);
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.tabIndex = -1;
        li.addEventListener("click", function () { choose(s); });
        li.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); choose(s); } });
        li.addEventListener("focus", function () { li.setAttribute("aria-selected", "true"); });
        li.addEventListener("blur", function () { li.setAttribute("aria-selected", "false"); });
        list.appendChild(li);
      });
      list.hidden = items.length === 0;
      input.setAttribute("aria-expanded", items.length ? "true" : "false");
    }

    function choose(s) {
      if (s.kind === "article" && s.url) { window.location.assign(s.url); return; }
      input.value = s.text;
      closeSuggestions();
      input.focus();
      run();
    }

    function answerCard(a, searchId) {
      var box = el("section", "answer-card");
      var label = el("h" + level, "answer-label", S.answer_label);
      label.id = "answer-label";
      box.setAttribute("aria-labelledby", label.id);
      box.appendChild(label);
      var text = markLang(el("p", "answer-text"), a.locale);
      text.innerHTML = a.html;  // escaped by the server; only <mark> is markup
      box.appendChild(text);
      var src = el("p", "answer-source");
      var link = fmtNode(el("a"), S.answer_from, "title", markLang(el("span", null, a.title), a.locale));
      if (a.section) link.appendChild(markLang(el("span", null, " › " + a.section), a.locale));
      link.href = withSearchId(a.url, searchId);
      link.addEventListener("click", function () { logClick(searchId, a.article_id, 1); });
      src.appendChild(link);
      box.appendChild(src);
      return box;
    }

    function noAnswer(q, data) {
      var box = el("div", "no-answer");
      // On /search this is the page's h1 (the server's went with the old results); on the home page, a heading
      // under the hero's h1.
      box.appendChild(el(pageHeading ? "h1" : "h2", "results-heading", fmt(S.no_answer, {q: q})));
      box.appendChild(el("p", null, S.no_answer_sub));
      var tips = el("ul", "tips");
      (S.tips || []).forEach(function (tip) { tips.appendChild(el("li", null, tip)); });
      box.appendChild(tips);
      var ask = el("p", "ask-support");
      var button = el("a", "button", S.ask_support);
      button.href = "/contact?" + new URLSearchParams({subject: q}).toString();
      ask.appendChild(button);
      ask.appendChild(document.createTextNode(" "));
      ask.appendChild(el("span", "muted", S.ask_support_sub));
      box.appendChild(ask);
      var topics = el("p", null);
      var home = el("a", null, S.categories);
      home.href = "/";
      topics.appendChild(home);
      box.appendChild(topics);
      panel.appendChild(box);
      if (data.results.length) {
        var maybe = el("section", "maybe-related");
        var mh = el("h" + level, null, S.maybe_related);
        mh.id = "maybe-related";
        maybe.setAttribute("aria-labelledby", mh.id);
        maybe.appendChild(mh);
        var ol = el("ol", "results results--maybe");
        data.results.slice(0, 3).forEach(function (r, i) { ol.appendChild(resultItem(r, i + 1, data.search_id, level + 1)); });
        maybe.appendChild(ol);
        panel.appendChild(maybe);
      }
    }

    function renderResults(q, data) {
      panel.replaceChildren();
      panel.hidden = false;
      panel.setAttribute("data-js", "1");
      var n = data.results.length;
      if (data.corrected) {
        var c = el("p", "correction", (S.showing_for || "") + " ");
        c.appendChild(el("strong", null, data.corrected));
        panel.appendChild(c);
      }
      if (n && data.answered) {
        if (pageHeading) panel.appendChild(el("h1", "results-heading", fmt(S.results_for, {q: q})));
        if (data.answer) panel.appendChild(answerCard(data.answer, data.search_id));
        panel.appendChild(el("p", "results-count", plural(S.results_n, n)));
        var ol = el("ol", "results");
        data.results.forEach(function (r, i) { ol.appendChild(resultItem(r, i + 1, data.search_id, level)); });
        panel.appendChild(ol);
      } else {
        noAnswer(q, data);
      }
      if (live) live.textContent = (n && data.answered) ? plural(S.results_n, n) : fmt(S.no_answer, {q: q});
      try { history.replaceState(null, "", "/search?q=" + encodeURIComponent(q)); } catch (e) { /* file: or sandboxed */ }
      document.title = q + " — " + S.product;  // the address now names this search, so does the title
    }

    function run() {
      var q = input.value.replace(/\s+/g, " ").trim().slice(0, MAX_QUERY);
      if (q === lastQuery && panel.getAttribute("data-js")) return;
      lastQuery = q;
      if (controller) controller.abort();
      if (!q) {
        closeSuggestions();
        if (panel.getAttribute("data-js") && !panel.hasAttribute("data-server-rendered")) panel.hidden = true;
        if (live) live.textContent = "";
        return;
      }
      var mine = ++seq;
      controller = window.AbortController ? new AbortController() : null;
      var signal = controller ? controller.signal : undefined;
      var params = {q: q};
      if (locale) params.locale = locale;
      form.setAttribute("aria-busy", "true");
      api("/api/search", params, signal).then(function (data) {
        if (mine === seq) renderResults(q, data);
      }).catch(function () { /* the form still submits normally */ }).then(function () {
        if (mine === seq) form.removeAttribute("aria-busy");
      });
      api("/api/autocomplete", params, signal).then(function (items) {
        if (mine === seq && document.activeElement === input) renderSuggestions(items.slice(0, 8));
      }).catch(function () {});
    }

    function focusables() {
      var items = Array.prototype.slice.call(list.hidden ? [] : list.querySelectorAll("[role=option]"));
      if (!panel.hidden) items = items.concat(Array.prototype.slice.call(panel.querySelectorAll(".result-title a")));
      return items;
    }

    function onKey(e) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        var items = focusables();
        if (!items.length) return;
        var i = items.indexOf(document.activeElement);
        e.preventDefault();
        if (e.key === "ArrowDown") { items[Math.min(i + 1, items.length - 1)].focus(); }
        else if (i <= 0) { input.focus(); }
        else { items[i - 1].focus(); }
      } else if (e.key === "Escape") {
        e.preventDefault();
        // Stop what is in flight, so a late answer cannot reopen what the reader just closed.
        seq++;
        if (controller) controller.abort();
        form.removeAttribute("aria-busy");
        lastQuery = null;
        if (!list.hidden) { closeSuggestions(); }
        else if (panel.getAttribute("data-js") && !panel.hasAttribute("data-server-rendered")) { panel.hidden = true; }
        input.focus();
      }
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, DEBOUNCE_MS);
    });
    form.addEventListener("keydown", onKey);
    panel.addEventListener("keydown", onKey);
    form.addEventListener("focusout", function (e) {
      if (!e.relatedTarget || !form.contains(e.relatedTarget)) {
        setTimeout(function () { if (!form.contains(document.activeElement)) closeSuggestions(); }, 0);
      }
    });
    form.addEventListener("submit", function () { clearTimeout(timer); if (controller) controller.abort(); });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-instant]"), setup);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
