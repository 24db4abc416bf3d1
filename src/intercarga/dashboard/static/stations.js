// The station list: connection badges follow the live stream.
(function () {
  "use strict";
  var words = document.getElementById("connection-words").dataset;
  window.IntercargaLive.on("station", function (data) {
    var row = document.querySelector('tr[data-station="' + CSS.escape(data.station_id) + '"]');
    if (!row) return;
    var badge = row.querySelector("[data-connection]");
    badge.textContent = data.connected ? words.online : words.offline;
    badge.className = "badge " + (data.connected ? "online" : "offline");
  });
})();
