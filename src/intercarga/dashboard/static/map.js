// The map: country outlines as the basemap (no tile server), clustered location markers coloured
// by their EVSEs' live status, filters, and the location panel rendered by the server.
(function () {
  "use strict";
  var words = JSON.parse(document.getElementById("map-strings").textContent);
  var urls = document.getElementById("map").dataset;
  var map = L.map("map", { zoomSnap: 0.5, minZoom: 2, maxZoom: 16, attributionControl: true })
    .setView([-15, -65], 3);
  map.attributionControl.setPrefix("Leaflet");
  var clusters = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
  map.addLayer(clusters);
  var locations = [];
  var markers = {};
  var byKey = {};
  var form = document.getElementById("filters");
  var shown = document.getElementById("shown");
  var panel = document.getElementById("panel");

  fetch(urls.outlines, { credentials: "same-origin" })
    .then(function (answer) { return answer.json(); })
    .then(function (outlines) {
      L.geoJSON(outlines, {
        style: { color: "#8a9bb0", weight: 1, fillColor: "#e9eef4", fillOpacity: 1 },
        interactive: false
      }).addTo(map).bringToBack();
      if (outlines.features && outlines.features.length) {
        map.attributionControl.addAttribution("Natural Earth");
      }
    });

  // A location's colour: charging if any EVSE charges, else available if any is, else the worst.
  function summary(location) {
    var statuses = location.evses.map(function (e) { return e.status; });
    var order = ["CHARGING", "AVAILABLE", "RESERVED", "BLOCKED", "OUTOFORDER", "INOPERATIVE", "PLANNED", "UNKNOWN"];
    for (var i = 0; i < order.length; i++) {
      if (statuses.indexOf(order[i]) >= 0) return order[i];
    }
    return "UNKNOWN";
  }

  function icon(location) {
    var status = summary(location);
    return L.divIcon({
      className: "",
      html: '<span class="marker status-' + status + '" data-location="' + location.key +
        '" data-status="' + status + '"></span>',
      iconSize: [22, 22],
      iconAnchor: [11, 11]
    });
  }

  // Options by the words the visitor reads (a connector's name, not its OCPI code).
  function options(select, values, names) {
    values.map(function (value) { return [value, (names && names[value]) || value]; })
      .sort(function (a, b) { return a[1].localeCompare(b[1]); })
      .forEach(function (pair) {
        var option = document.createElement("option");
        option.value = pair[0];
        option.textContent = pair[1];
        select.appendChild(option);
      });
  }

  // A Set, not indexOf: ten thousand locations would make that quadratic.
  function unique(list) {
    return Array.from(new Set(list));
  }

  function matches(location) {
    var f = form.elements;
    if (f.country.value && location.country !== f.country.value) return false;
    if (f.operator.value && location.operator !== f.operator.value) return false;
    var minimum = Number(f.power.value);
    return location.evses.some(function (evse) {
      if (f.standard.value && evse.standards.indexOf(f.standard.value) < 0) return false;
      if (f.status.value && evse.status !== f.status.value) return false;
      return evse.max_kw >= minimum;
    });
  }

  function draw() {
    clusters.clearLayers();
    var visible = locations.filter(matches);
    // One bulk add: markercluster clusters them in one pass (one by one took seconds at 10,000).
    clusters.addLayers(visible.map(function (location) { return markers[location.key]; }));
    shown.textContent = words.shown.replace("%(count)s", visible.length)
      .replace("%(total)s", locations.length);
  }

  function openPanel(key, query) {
    fetch(urls.panel + key + (query || ""), { credentials: "same-origin" })
      .then(function (answer) { return answer.text(); })
      .then(function (html) {
        panel.innerHTML = new DOMParser().parseFromString(html, "text/html").body.innerHTML;
        panel.hidden = false;
        var heading = panel.querySelector("h2");
        if (heading) { heading.tabIndex = -1; heading.focus(); }
      });
  }

  panel.addEventListener("click", function (event) {
    if (event.target.closest("[data-close]")) { panel.hidden = true; }
  });
  panel.addEventListener("submit", function (event) {
    var compat = event.target.closest("form[data-compat]");
    if (!compat) return;
    event.preventDefault();
    var key = panel.querySelector("[data-location]").dataset.location;
    openPanel(key, "?vehicle=" + encodeURIComponent(compat.elements.vehicle.value));
  });

  fetch(urls.locations, { credentials: "same-origin" })
    .then(function (answer) { return answer.json(); })
    .then(function (data) {
      locations = data;
      data.forEach(function (location) {
        byKey[location.key] = location;
        var marker = L.marker([location.lat, location.lng], {
          icon: icon(location),
          title: location.name,
          alt: location.name,
          keyboard: true
        });
        marker.on("click", function () { openPanel(location.key); });
        markers[location.key] = marker;
      });
      options(form.elements.country, unique(data.map(function (l) { return l.country; })), words.countries);
      options(form.elements.operator, unique(data.map(function (l) { return l.operator; })));
      var standards = new Set();
      data.forEach(function (l) {
        l.evses.forEach(function (e) { e.standards.forEach(function (s) { standards.add(s); }); });
      });
      options(form.elements.standard, Array.from(standards), words.standards);
      draw();
      if (data.length) {
        map.fitBounds(L.latLngBounds(data.map(function (l) { return [l.lat, l.lng]; })).pad(0.3));
      }
    });

  form.addEventListener("change", draw);
  form.addEventListener("submit", function (event) { event.preventDefault(); });

  if (!window.IntercargaLive) return;  // the public map has no live stream
  window.IntercargaLive.on("evse", function (data) {
    var location = byKey[data.location];
    if (!location) return;
    location.evses.forEach(function (evse) {
      if (evse.uid === data.evse_uid) evse.status = data.status;
    });
    markers[location.key].setIcon(icon(location));
    var badge = panel.querySelector('[data-evse="' + CSS.escape(data.evse_uid) + '"]');
    if (badge) {
      badge.className = "badge status-" + data.status;
      badge.textContent = words[data.status] || data.status;
    }
    draw();
  });
})();
