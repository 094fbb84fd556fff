/* coverage-gaps web map runtime (MIT, part of coverage-gaps).
 *
 * Every string that reaches innerHTML (popups, tooltips, labels, legend) was
 * HTML-escaped in Python before it was written into this page; names used for search
 * are only ever assigned with textContent. Nothing here loads anything from a network.
 */
(function () {
  "use strict";
  var CM = {registry: {villages: {}, groups: {}}};

  var CLASS_STYLE = {
    good: {color: "#1b5e20", fillColor: "#2e9e44", fillOpacity: 0.95, weight: 1.5},
    weak: {color: "#8a4b00", fillColor: "#ffb000", fillOpacity: 0.95, weight: 1.5},
    none: {color: "#5c0011", fillColor: "#d7191c", fillOpacity: 0.95, weight: 1.5},
    no_data: {color: "#555555", fillColor: "#ffffff", fillOpacity: 0.9, weight: 1.5, dashArray: "2 2"}
  };
  CM.CLASS_STYLE = CLASS_STYLE;

  function pane(map, name, zIndex, interactive) {
    if (!map.getPane(name)) {
      var p = map.createPane(name);
      p.style.zIndex = String(zIndex);
      if (!interactive) { p.style.pointerEvents = "none"; }
    }
    return name;
  }
  CM.pane = pane;

  CM.init = function (map) { CM.registry.map = map; };

  /* Villages: shared data {lat, lon, rank, name, popup}; per layer a class and a tooltip each. */
  CM.villages = function (map, group, key, data, classes, tips, opts) {
    var p = pane(map, "cg-villages", 640, true);
    var lp = pane(map, "cg-labels", 645, false);
    var items = [];
    data.lat.forEach(function (lat, i) {
      var st = CLASS_STYLE[classes[i]] || CLASS_STYLE.no_data;
      var rank = data.rank[i];
      var ranked = rank !== null && rank <= opts.rankLabels;
      var m = L.circleMarker([lat, data.lon[i]], L.extend({radius: ranked ? 8 : 6, pane: p}, st));
      m.bindTooltip(tips[i], {direction: "top", offset: [0, -6]});
      m.bindPopup(data.popup[i], {maxWidth: 360, maxHeight: 420});
      m.cgClass = classes[i];
      m.cgName = data.name[i];
      group.addLayer(m);
      items.push({name: data.name[i], marker: m, latlng: L.latLng(lat, data.lon[i])});
      if (ranked) {
        group.addLayer(L.marker([lat, data.lon[i]], {
          pane: lp, interactive: false, keyboard: false,
          icon: L.divIcon({className: "cg-rank", html: "<span>" + String(rank) + "</span>", iconSize: null})
        }));
      }
    });
    CM.registry.villages[key] = {group: group, items: items};
  };

  /* Communes: a GeoJSON FeatureCollection with properties {tip, label, lat, lon}. */
  CM.communes = function (map, group, data) {
    var p = pane(map, "cg-communes", 410, true);
    var lp = pane(map, "cg-commune-labels", 420, false);
    L.geoJSON(data, {
      pane: p,
      style: function () { return {color: "#37474f", weight: 1.4, fill: true, fillOpacity: 0.0, dashArray: "5 3"}; },
      onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.tip, {sticky: true}); }
    }).addTo(group);
    data.features.forEach(function (f) {
      group.addLayer(L.marker([f.properties.lat, f.properties.lon], {
        pane: lp, interactive: false, keyboard: false,
        icon: L.divIcon({className: "cg-commune-label", html: "<span>" + f.properties.label + "</span>", iconSize: null})
      }));
    });
    var toggle = function () { map.getContainer().classList.toggle("cg-zoom-labels", map.getZoom() >= 11); };
    map.on("zoomend", toggle);
    toggle();
  };

  /* Gap polygons: GeoJSON with properties {cls, popup}. */
  CM.gaps = function (map, group, data) {
    var p = pane(map, "cg-gaps", 390, true);
    var styles = {
      none: {color: "#b2182b", weight: 0.8, fillColor: "#d7191c", fillOpacity: 0.35},
      weak: {color: "#b35806", weight: 0.8, fillColor: "#ffb000", fillOpacity: 0.3},
      no_data: {color: "#616161", weight: 0.8, fillColor: "#9e9e9e", fillOpacity: 0.35, dashArray: "3 3"}
    };
    L.geoJSON(data, {
      pane: p,
      renderer: L.canvas({pane: p}),
      style: function (f) { return styles[f.properties.cls] || styles.no_data; },
      onEachFeature: function (f, layer) { layer.bindPopup(f.properties.popup, {maxWidth: 320}); }
    }).addTo(group);
  };

  /* Towers: rows [lat, lon, wedge [[lat, lon], ...] | null, onAir, tooltipHtml, popupHtml]. */
  CM.towers = function (map, group, rows, opts) {
    var p = pane(map, "cg-towers", 600, true);
    rows.forEach(function (r) {
      var style = {color: opts.color, weight: 1, fillColor: r[3] ? opts.color : "#ffffff",
                   fillOpacity: r[3] ? 0.55 : 0.8, dashArray: opts.dashed || !r[3] ? "3 2" : null, pane: p};
      var layer = r[2] ? L.polygon(r[2], style) : L.circleMarker([r[0], r[1]], L.extend({radius: 5}, style));
      layer.bindTooltip(r[4]);
      layer.bindPopup(r[5], {maxWidth: 320});
      group.addLayer(layer);
    });
  };

  /* Outage reports, clustered: rows [lat, lon, kind, tooltipHtml, popupHtml]. */
  CM.outages = function (map, group, rows) {
    var cluster = L.markerClusterGroup({showCoverageOnHover: false, maxClusterRadius: 40});
    rows.forEach(function (r) {
      var m = L.marker([r[0], r[1]], {
        icon: L.divIcon({className: "cg-outage cg-outage-" + r[2], iconSize: [12, 12]}), keyboard: false
      });
      m.bindTooltip(r[3]);
      m.bindPopup(r[4], {maxWidth: 300});
      cluster.addLayer(m);
    });
    group.addLayer(cluster);
  };

  CM.legend = function (map, _parent, html) { CM.control(map, html, "bottomright", "cg-legend"); };

  CM.title = function (map, _parent, html) {
    var div = L.DomUtil.create("div", "cg-title", map.getContainer());
    div.innerHTML = html;
    L.DomEvent.disableClickPropagation(div);
    // The title sits above the map panes: step aside while a popup is open.
    map.on("popupopen", function () { div.style.display = "none"; });
    map.on("popupclose", function () { div.style.display = ""; });
  };

  /* A fixed HTML control (legend). The HTML is built and escaped in Python. */
  CM.control = function (map, html, position, className) {
    var c = L.control({position: position});
    c.onAdd = function () {
      var div = L.DomUtil.create("div", "leaflet-control " + className);
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    c.addTo(map);
    return c;
  };

  function fold(s) {
    return String(s).normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[đĐ]/g, "d").toLowerCase().trim();
  }
  CM.fold = fold;

  /* Search box over the villages of one village layer (diacritics-insensitive). */
  CM.search = function (map, _parent, key, opts) {
    var reg = CM.registry.villages[key];
    if (!reg) { return; }
    var c = L.control({position: "topleft"});
    c.onAdd = function () {
      var div = L.DomUtil.create("div", "leaflet-control cg-search");
      var input = L.DomUtil.create("input", "", div);
      input.type = "search";
      input.placeholder = opts.placeholder;
      input.setAttribute("aria-label", opts.placeholder);
      var list = L.DomUtil.create("ul", "", div);
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      var show = function () {
        list.textContent = "";
        var q = fold(input.value);
        if (!q) { return; }
        var hits = reg.items.filter(function (it) { return fold(it.name).indexOf(q) >= 0; }).slice(0, 10);
        if (!hits.length) {
          var li0 = L.DomUtil.create("li", "cg-search-none", list);
          li0.textContent = opts.none;
          return;
        }
        hits.forEach(function (it) {
          var li = L.DomUtil.create("li", "", list);
          li.textContent = it.name;
          li.tabIndex = 0;
          var go = function () {
            if (!map.hasLayer(reg.group)) { map.addLayer(reg.group); }
            map.setView(it.latlng, Math.max(map.getZoom(), 14));
            it.marker.openPopup();
            list.textContent = "";
          };
          L.DomEvent.on(li, "click", go);
          L.DomEvent.on(li, "keydown", function (e) { if (e.key === "Enter") { go(); } });
        });
      };
      L.DomEvent.on(input, "input", show);
      L.DomEvent.on(input, "keydown", function (e) {
        if (e.key === "Enter" && list.firstChild && list.firstChild.tabIndex === 0) { list.firstChild.click(); }
      });
      return div;
    };
    c.addTo(map);
  };

  window.CoverageMap = CM;
})();
