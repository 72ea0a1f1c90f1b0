// The Taser report form (/taser/deployments/new): a click on the map places the use and fills the
// latitude and longitude; typed positions move the marker. Served as a file, not inline, so that the
// pages' Content Security Policy allows it. Without Leaflet the two fields are typed.
(function () {
  "use strict";

  const element = document.getElementById("taser-map");
  if (!element || typeof L === "undefined") {
    return;
  }
  const lat = document.getElementById("lat");
  const lon = document.getElementById("lon");
  const map = L.map(element).setView([52.48, -1.89], 12);
  if (element.dataset.tileUrl) {
    L.tileLayer(element.dataset.tileUrl, { attribution: element.dataset.tileAttribution }).addTo(map);
  }
  let marker = null;

  function place(latitude, longitude) {
    if (marker) {
      marker.setLatLng([latitude, longitude]);
    } else {
      marker = L.marker([latitude, longitude]).addTo(map);
    }
  }

  map.on("click", function (event) {
    lat.value = event.latlng.lat.toFixed(6);
    lon.value = event.latlng.lng.toFixed(6);
    place(event.latlng.lat, event.latlng.lng);
  });

  function typed() {
    const latitude = parseFloat(lat.value);
    const longitude = parseFloat(lon.value);
    if (Number.isFinite(latitude) && Number.isFinite(longitude)) {
      place(latitude, longitude);
      map.setView([latitude, longitude]);
    }
  }
  lat.addEventListener("change", typed);
  lon.addEventListener("change", typed);
  typed();
})();
