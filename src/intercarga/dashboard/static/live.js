// The live stream: one EventSource per page; it reconnects by itself when the stream drops.
// Pages register handlers with IntercargaLive.on(kind, fn).
(function () {
  "use strict";
  var handlers = {};
  var status = document.getElementById("live-status");
  function show(on) {
    if (!status) return;
    status.hidden = false;
    status.textContent = on ? status.dataset.on : status.dataset.off;
    status.classList.toggle("on", on);
  }
  function connect() {
    var source = new EventSource("/live");
    source.onopen = function () { show(true); };
    source.onerror = function () {
      show(false);
      // A closed stream (server restart, a fall-behind) is reopened after a second.
      if (source.readyState === EventSource.CLOSED) { setTimeout(connect, 1000); }
    };
    ["evse", "station", "session", "cdr"].forEach(function (kind) {
      source.addEventListener(kind, function (message) {
        var data = JSON.parse(message.data);
        (handlers[kind] || []).forEach(function (fn) { fn(data); });
      });
    });
  }
  window.IntercargaLive = {
    on: function (kind, fn) { (handlers[kind] = handlers[kind] || []).push(fn); }
  };
  connect();
})();
