// Agent panel: "insert into reply" puts a passage (and its link) at the cursor of the draft reply.
(function () {
  "use strict";
  var reply = document.getElementById("reply");
  if (!reply) return;
  var origin = window.location.origin;
  document.querySelectorAll("button.insert").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var text = b.getAttribute("data-text") || "";
      var url = b.getAttribute("data-url");
      if (url) text += "\n" + origin + url;
      var at = reply.selectionStart || reply.value.length;
      reply.value = reply.value.slice(0, at) + "\n" + text + "\n" + reply.value.slice(at);
      reply.focus();
    });
  });
  var copy = document.getElementById("copy-reply");
  if (copy && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", function () { navigator.clipboard.writeText(reply.value); });
  }
})();
