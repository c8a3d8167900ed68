// Draws each plotly figure the page holds as JSON, and makes its download buttons save it with plotly.js's own
// image export (SVG, PNG). The table beside each figure carries the same numbers for those who cannot see it.
(function () {
  "use strict";
  if (!window.Plotly) {
    return;
  }
  var config = {
    displaylogo: false,
    responsive: true,
    modeBarButtonsToRemove: ["zoom2d", "pan2d", "select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d"],
  };
  document.querySelectorAll("[data-figure]").forEach(function (holder) {
    var source = document.getElementById(holder.getAttribute("data-figure"));
    if (!source) {
      return;
    }
    var figure = JSON.parse(source.textContent);
    var options = Object.assign({}, config, {
      toImageButtonOptions: { filename: holder.getAttribute("data-filename") || "figure" },
    });
    window.Plotly.newPlot(holder, figure.data, figure.layout, options).then(function () {
      holder.setAttribute("data-drawn", "true");
    });
  });
  document.querySelectorAll("[data-download]").forEach(function (button) {
    button.addEventListener("click", function () {
      var holder = document.getElementById(button.getAttribute("data-download"));
      window.Plotly.downloadImage(holder, {
        format: button.getAttribute("data-format"),
        filename: holder.getAttribute("data-filename") || "figure",
        width: holder.clientWidth || 1000,
        height: holder._fullLayout ? holder._fullLayout.height : 600,
      });
    });
  });
})();
