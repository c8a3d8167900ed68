// Run page: while the checks run, reload every few seconds so progress moves without a click.
(function () {
  "use strict";
  var holder = document.querySelector("[data-refresh-seconds]");
  if (!holder) {
    return;
  }
  var seconds = Number(holder.getAttribute("data-refresh-seconds")) || 3;
  window.setTimeout(function () {
    window.location.reload();
  }, seconds * 1000);
})();
