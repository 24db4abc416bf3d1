// The station page: live connection and EVSE status, and the command forms sent with fetch.
(function () {
  "use strict";
  var badge = document.getElementById("connection");
  var station = badge.dataset.station;
  var statusWords = {};
  document.querySelectorAll("[data-evse]").forEach(function (el) {
    statusWords[el.dataset.status] = el.textContent;
  });
  var words = JSON.parse(document.getElementById("status-words").textContent);
  window.IntercargaLive.on("station", function (data) {
    if (data.station_id !== station) return;
    badge.textContent = data.connected ? badge.dataset.online : badge.dataset.offline;
    badge.className = "badge big " + (data.connected ? "online" : "offline");
  });
  window.IntercargaLive.on("evse", function (data) {
    document.querySelectorAll('[data-evse="' + CSS.escape(data.evse_uid) + '"]').forEach(function (el) {
      el.dataset.status = data.status;
      el.className = "badge status-" + data.status;
      el.textContent = words[data.status] || data.status;
    });
  });
  document.querySelectorAll("form[data-command]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var output = form.querySelector("output");
      var button = form.querySelector("button");
      form.querySelectorAll("[aria-invalid]").forEach(function (el) {
        el.removeAttribute("aria-invalid");
      });
      form.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
      button.disabled = true;
      output.className = "result busy";
      output.textContent = "…";
      var body = new URLSearchParams(new FormData(form));
      fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRF-Token": form.elements.csrf.value }
      })
        .then(function (answer) { return answer.json(); })
        .then(function (answer) {
          output.className = "result " + (answer.ok ? "ok" : "error");
          var text = answer.message;
          if (answer.result) { text += " " + JSON.stringify(answer.result); }
          output.textContent = text;
          (answer.errors || []).forEach(function (error) {
            var field = form.elements[error.field];
            if (!field || !field.id) return;
            field.setAttribute("aria-invalid", "true");
            var note = document.createElement("span");
            note.className = "field-error";
            note.id = field.id + "-error";
            note.textContent = field.labels[0].textContent + ": " + error.message;
            field.setAttribute("aria-describedby", note.id);
            field.insertAdjacentElement("afterend", note);
          });
        })
        .catch(function () {
          output.className = "result error";
          output.textContent = "✕";
        })
        .finally(function () { button.disabled = false; });
    });
  });
})();
