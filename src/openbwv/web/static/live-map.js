// The control room's live map (/live/map): every camera from the map's event stream
// (/api/v1/live/cameras/stream), on a Leaflet map when the set-up installed it and always in the
// list beside it; filters by unit and state; live view of a recording camera with a stated reason.
// Served as a file, not inline, so that the pages' Content Security Policy allows it.
(function () {
  "use strict";

  const root = document.getElementById("live-map-app");
  if (!root) {
    return;
  }
  const STATES = {
    recording: { label: "Recording", letter: "R" },
    idle: { label: "Not recording", letter: "N" },
    stale: { label: "Stale", letter: "S" },
  };
  const cameras = new Map();
  const markers = new Map();
  const rows = document.getElementById("camera-rows");
  const unitFilter = document.getElementById("filter-unit");
  const stateFilters = Array.from(root.querySelectorAll("input[name=state]"));
  const status = document.getElementById("live-status");
  const viewPanel = document.getElementById("live-view");
  let serverOffsetMs = 0;
  // Times are sent in UTC and shown on the force's clocks, with the zone (GMT or BST in London).
  const zone = root.dataset.timeZone || "UTC";
  const clockFormats = {
    seconds: new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short",
    }),
    minutes: new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short",
    }),
  };
  let map = null;
  let fitted = false;

  function stateOf(p) {
    // A camera gone quiet is not known to be recording, whatever it last said.
    if (p.stale) {
      return "stale";
    }
    return p.recording ? "recording" : "idle";
  }

  function isShown(p) {
    if (unitFilter.value && p.unit !== unitFilter.value) {
      return false;
    }
    return stateFilters.some((box) => box.checked && box.value === stateOf(p));
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    if (className) {
      node.className = className;
    }
    return node;
  }

  function swatch(state) {
    const outer = element("span", null, "cam-marker cam-" + state);
    outer.setAttribute("aria-hidden", "true");
    outer.appendChild(element("span", STATES[state].letter, "cam-shape"));
    return outer;
  }

  function officer(p) {
    if (!p.collar_number) {
      return "not issued";
    }
    return p.officer_name ? p.collar_number + " " + p.officer_name : p.collar_number;
  }

  function ago(p) {
    const seconds = Math.max(0, Math.round((Date.now() + serverOffsetMs - Date.parse(p.last_seen)) / 1000));
    if (seconds < 60) {
      return seconds + " s ago";
    }
    if (seconds < 3600) {
      return Math.floor(seconds / 60) + " min ago";
    }
    return Math.floor(seconds / 3600) + " h ago";
  }

  function clockTime(at, precision) {
    return clockFormats[precision].format(at);
  }

  function lastSeen(p) {
    return clockTime(new Date(p.last_seen), "seconds") + " (" + ago(p) + ")";
  }

  function liveViewButton(p) {
    const button = element("button", "Live view");
    button.type = "button";
    button.dataset.serial = p.serial;
    button.addEventListener("click", () => openLiveView(p.serial));
    return button;
  }

  function mayOfferLiveView(p) {
    return viewPanel !== null && stateOf(p) === "recording";
  }

  function row(p) {
    const state = stateOf(p);
    const tr = element("tr");
    tr.dataset.testid = "camera-row";
    tr.dataset.serial = p.serial;
    tr.dataset.state = state;
    tr.appendChild(element("td", p.serial));
    tr.appendChild(element("td", officer(p)));
    tr.appendChild(element("td", p.unit || "none"));
    const stateCell = element("td");
    stateCell.appendChild(swatch(state));
    stateCell.appendChild(document.createTextNode(STATES[state].label));
    tr.appendChild(stateCell);
    tr.appendChild(element("td", Math.round(p.battery_pct) + " %"));
    tr.appendChild(element("td", lastSeen(p), "seen"));
    const action = element("td");
    if (mayOfferLiveView(p)) {
      action.appendChild(liveViewButton(p));
    }
    tr.appendChild(action);
    return tr;
  }

  function popup(p) {
    const state = stateOf(p);
    const box = element("div", null, "cam-popup");
    box.dataset.serial = p.serial;
    box.appendChild(element("strong", p.serial));
    const facts = [
      ["Officer", officer(p)],
      ["Unit", p.unit || "none"],
      ["State", STATES[state].label],
      ["Battery", Math.round(p.battery_pct) + " %"],
      ["Last seen", lastSeen(p)],
    ];
    const list = element("dl");
    facts.forEach(([term, value]) => {
      list.appendChild(element("dt", term));
      list.appendChild(element("dd", value));
    });
    box.appendChild(list);
    if (mayOfferLiveView(p)) {
      box.appendChild(liveViewButton(p));
    }
    return box;
  }

  function icon(state) {
    return window.L.divIcon({
      className: "cam-marker cam-" + state,
      html: '<span class="cam-shape">' + STATES[state].letter + "</span>",
      iconSize: [22, 22],
      popupAnchor: [0, -12],
    });
  }

  function placeMarker(p) {
    const state = stateOf(p);
    const where = [p.lat, p.lon];
    const title = p.serial + ": " + STATES[state].label;
    let marker = markers.get(p.serial);
    if (!marker) {
      marker = window.L.marker(where, { icon: icon(state), title: title, alt: title, keyboard: true });
      // A function, so that the popup shows the camera's state when it opens or is updated.
      marker.bindPopup(() => popup(cameras.get(p.serial)));
      marker.drawnState = state;
      markers.set(p.serial, marker);
    } else {
      if (!marker.getLatLng().equals(where)) {
        marker.setLatLng(where);
      }
      if (marker.drawnState !== state) {
        marker.options.title = title;
        marker.options.alt = title;
        marker.setIcon(icon(state));
        marker.drawnState = state;
      }
      if (marker.isPopupOpen()) {
        marker.getPopup().update();
      }
    }
    const on = isShown(p);
    if (on && !map.hasLayer(marker)) {
      marker.addTo(map);
    } else if (!on && map.hasLayer(marker)) {
      marker.remove();
    }
  }

  function refreshUnits() {
    const units = Array.from(new Set(Array.from(cameras.values(), (p) => p.unit).filter(Boolean))).sort();
    const chosen = unitFilter.value;
    const present = Array.from(unitFilter.options, (o) => o.value).slice(1);
    if (present.join("\n") === units.join("\n")) {
      return;
    }
    unitFilter.length = 1;
    units.forEach((unit) => unitFilter.appendChild(new Option(unit, unit)));
    unitFilter.value = units.includes(chosen) ? chosen : "";
  }

  function render() {
    refreshUnits();
    const all = Array.from(cameras.values()).sort((a, b) => (a.serial < b.serial ? -1 : 1));
    const shown = all.filter(isShown);
    rows.replaceChildren(...shown.map(row));
    if (shown.length === 0) {
      rows.appendChild(element("tr")).appendChild(element("td", "No camera matches the filters.")).colSpan = 7;
    }
    if (map) {
      Array.from(markers.keys())
        .filter((serial) => !cameras.has(serial))
        .forEach((serial) => {
          markers.get(serial).remove();
          markers.delete(serial);
        });
      all.forEach(placeMarker);
      if (!fitted && all.length > 0) {
        map.fitBounds(
          all.map((p) => [p.lat, p.lon]),
          { maxZoom: 15, padding: [30, 30] },
        );
        fitted = true;
      }
    }
    status.textContent = shown.length + " of " + all.length + " cameras shown; updated " + clockTime(new Date(), "seconds") + ".";
  }

  function keep(feature) {
    const [lon, lat] = feature.geometry.coordinates;
    cameras.set(feature.id, Object.assign({ lat: lat, lon: lon }, feature.properties));
  }

  function tick(now) {
    serverOffsetMs = Date.parse(now) - Date.now();
  }

  function listen() {
    const source = new EventSource(root.dataset.stream);
    source.addEventListener("snapshot", (message) => {
      const data = JSON.parse(message.data);
      tick(data.now);
      cameras.clear();
      data.features.forEach(keep);
      render();
    });
    source.addEventListener("update", (message) => {
      const data = JSON.parse(message.data);
      tick(data.now);
      data.features.forEach(keep);
      data.removed.forEach((serial) => cameras.delete(serial));
      render();
    });
    source.addEventListener("heartbeat", (message) => tick(JSON.parse(message.data).now));
    source.addEventListener("error", () => {
      status.textContent =
        source.readyState === EventSource.CLOSED
          ? "Disconnected: reload the page (you may need to sign in again)."
          : "Connection lost; reconnecting…";
    });
  }

  function drawGrid(layer) {
    // Without tiles: a latitude/longitude grid, about four to forty lines across the view.
    layer.clearLayers();
    const bounds = map.getBounds();
    const span = Math.max(bounds.getNorth() - bounds.getSouth(), bounds.getEast() - bounds.getWest(), 1e-6);
    const step = Math.pow(10, Math.floor(Math.log10(span / 4)));
    const line = { color: "#b8c0ca", weight: 1, interactive: false };
    const south = Math.max(bounds.getSouth(), -85);
    const north = Math.min(bounds.getNorth(), 85);
    for (let lat = Math.ceil(south / step) * step; lat <= north; lat += step) {
      window.L.polyline([[lat, bounds.getWest()], [lat, bounds.getEast()]], line).addTo(layer);
    }
    for (let lon = Math.ceil(bounds.getWest() / step) * step; lon <= bounds.getEast(); lon += step) {
      window.L.polyline([[south, lon], [north, lon]], line).addTo(layer);
    }
  }

  function startMap() {
    if (root.dataset.leaflet !== "yes" || !window.L) {
      return;
    }
    map = window.L.map("live-map", { worldCopyJump: true }).setView([0, 0], 2);
    const tiles = root.dataset.tileUrl;
    if (tiles) {
      window.L.tileLayer(tiles, { attribution: root.dataset.tileAttribution, maxZoom: 19 }).addTo(map);
    } else {
      const grid = window.L.layerGroup().addTo(map);
      map.on("moveend", () => drawGrid(grid));
      drawGrid(grid);
    }
  }

  function refusal(detail) {
    if (typeof detail === "string") {
      return detail;
    }
    if (Array.isArray(detail)) {
      return detail.map((e) => (e.loc || []).slice(1).join(".") + ": " + e.msg).join("; ");
    }
    if (detail && detail.message) {
      return detail.message;
    }
    return "The live view was refused.";
  }

  let reasonsLoaded = null;

  function loadReasons() {
    if (!reasonsLoaded) {
      const select = document.getElementById("live-view-reason");
      reasonsLoaded = fetch("/api/v1/live/reasons", { headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : []))
        .then((reasons) => {
          reasons
            .filter((r) => r.permits_live_view && !r.forbids_live_view)
            .forEach((r) => select.appendChild(new Option(r.label + " (" + r.code + ")", r.code)));
        });
    }
    return reasonsLoaded;
  }

  function openLiveView(serial) {
    if (!viewPanel) {
      return;
    }
    document.getElementById("live-view-serial").textContent = serial;
    viewPanel.dataset.serial = serial;
    document.getElementById("live-view-result").textContent = "";
    viewPanel.hidden = false;
    loadReasons().then(() => document.getElementById("live-view-reason").focus());
  }

  function requestLiveView(event) {
    event.preventDefault();
    const result = document.getElementById("live-view-result");
    const value = (id) => document.getElementById(id).value.trim() || null;
    const token = document.querySelector("meta[name=csrf-token]").content;
    fetch("/api/v1/live/views", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": token },
      body: JSON.stringify({
        camera_serial: viewPanel.dataset.serial,
        reason_code: value("live-view-reason"),
        incident_number: value("live-view-incident"),
        details: value("live-view-details"),
      }),
    })
      .then((response) => response.json().then((body) => ({ response: response, body: body })))
      .then(({ response, body }) => {
        result.replaceChildren();
        if (!response.ok) {
          result.className = "error";
          result.textContent = refusal(body.detail);
          return;
        }
        result.className = "ok";
        result.textContent = "Live view open until " + clockTime(new Date(body.expires_at), "minutes") + "; it is audited. ";
        // The live view's own page plays the stream, with the banner and the renew and end forms.
        const link = element("a", "Watch");
        link.href = "/live/views/" + body.id;
        result.appendChild(link);
      })
      .catch(() => {
        result.className = "error";
        result.textContent = "The server could not be reached; try again.";
      });
  }

  unitFilter.addEventListener("change", render);
  stateFilters.forEach((box) => box.addEventListener("change", render));
  if (viewPanel) {
    document.getElementById("live-view-form").addEventListener("submit", requestLiveView);
    document.getElementById("live-view-cancel").addEventListener("click", () => {
      viewPanel.hidden = true;
    });
  }
  // Ages move on between messages.
  window.setInterval(() => {
    rows.querySelectorAll("tr[data-serial]").forEach((tr) => {
      const p = cameras.get(tr.dataset.serial);
      if (p) {
        tr.querySelector(".seen").textContent = lastSeen(p);
      }
    });
  }, 5000);
  startMap();
  listen();
})();
