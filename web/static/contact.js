// Deflection on the contact form: while the customer types, show articles that may already answer it.
// Text from the server goes in with textContent only.
(function () {
  "use strict";
  var form = document.getElementById("contact-form");
  if (!form) return;
  var subject = document.getElementById("c-subject");
  var description = document.getElementById("c-description");
  var idField = document.getElementById("deflection-id");
  var box = document.getElementById("deflect");
  var list = document.getElementById("deflect-list");
  var timer = null, seq = 0;

  function show(data) {
    list.textContent = "";
    (data.articles || []).forEach(function (a) {
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = a.url;
      link.textContent = a.title;
      link.target = "_blank";
      link.rel = "noopener";
      var p = document.createElement("p");
      p.textContent = a.passage;
      li.appendChild(link);
      li.appendChild(p);
      list.appendChild(li);
    });
    box.hidden = !(data.articles && data.articles.length);
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
                            locale: form.getAttribute("data-lang"), deflection_id: idField.value || null})
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
