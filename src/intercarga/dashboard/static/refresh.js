// Parts of a page marked data-refresh-on="session" (or "cdr") are fetched again when such an
// event arrives: the server renders them, the script only swaps them in.
(function () {
  "use strict";
  var pending = {};
  function refresh(kind) {
    if (pending[kind]) return;
    pending[kind] = setTimeout(function () {
      pending[kind] = null;
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (answer) { return answer.ok ? answer.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, "text/html");
          var selector = '[data-refresh-on="' + kind + '"]';
          var old = document.querySelectorAll(selector);
          var now = fresh.querySelectorAll(selector);
          for (var i = 0; i < old.length && i < now.length; i++) { old[i].innerHTML = now[i].innerHTML; }
        });
    }, 150);
  }
  ["session", "cdr"].forEach(function (kind) {
    if (document.querySelector('[data-refresh-on="' + kind + '"]')) {
      window.IntercargaLive.on(kind, function () { refresh(kind); });
    }
  });
})();
