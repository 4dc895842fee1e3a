// Deflection on the contact form: while the customer types, show articles that may already answer it.
// Text from the server goes in with textContent only. The list sits beside the form (below Send on a phone); the
// line under the description says how many were found, and only that line is announced.
(function () {
  "use strict";
  var form = document.getElementById("contact-form");
  if (!form) return;
  var subject = document.getElementById("c-subject");
  var description = document.getElementById("c-description");
  var idField = document.getElementById("deflection-id");
  var box = document.getElementById("deflect");
  var list = document.getElementById("deflect-list");
  var summary = document.getElementById("deflect-summary");
  var cfgEl = document.getElementById("kb-i18n");
  var cfg = cfgEl ? JSON.parse(cfgEl.textContent) : {strings: {}};
  var lang = form.getAttribute("data-lang");
  var timer = null, seq = 0, lastCount = -1;

  function count(n) {
    var forms = (cfg.strings || {}).deflect_n || "{n}";
    return window.kbPlural ? window.kbPlural(forms, n) : String(n);
  }

  function show(data) {
    var articles = data.articles || [];
    list.textContent = "";
    articles.forEach(function (a) {
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = a.url;
      link.textContent = a.title;
      link.target = "_blank";
      link.rel = "noopener";
      var p = document.createElement("p");
      p.textContent = a.passage;
      if (a.locale && a.locale !== lang) { link.lang = a.locale; p.lang = a.locale; }
      li.appendChild(link);
      li.appendChild(p);
      list.appendChild(li);
    });
    box.hidden = !articles.length;
    // The status line changes only when the number does: typing on must not repeat the announcement.
    if (articles.length !== lastCount) {
      lastCount = articles.length;
      summary.textContent = "";
      if (articles.length) {
        var jump = document.createElement("a");
        jump.href = "#deflect";
        jump.textContent = count(articles.length);
        summary.appendChild(jump);
      }
    }
    if (data.deflection_id) idField.value = data.deflection_id;
  }

  function ask() {
    var text = (subject.value + " " + description.value).trim();
    if (text.length < 8) return;
    var mine = ++seq;
    fetch("/api/deflect", {
      method: "POST",
      headers: {"content-type": "application/json"},
      body: JSON.stringify({subject: subject.value, description: description.value,
                            locale: lang, deflection_id: idField.value || null})
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && mine === seq) show(data); })
      .catch(function () {});
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, 500);
  }
  subject.addEventListener("input", later);
  description.addEventListener("input", later);
  // Arrived from a search nobody could answer, with the query as the subject: look for articles at once.
  if (subject.value.trim()) ask();
})();
