// Marks the exit reason required while an exit status is chosen; the server checks it either way.
(function () {
  document.querySelectorAll("form[data-exit-statuses]").forEach(function (form) {
    var exits = form.dataset.exitStatuses.split(" ");
    var status = form.querySelector("[name=to_status]");
    var reason = form.querySelector("[name=reason]");
    if (!status || !reason) return;
    function update() {
      var required = exits.indexOf(status.value) !== -1;
      reason.required = required;
      reason.setAttribute("aria-required", required ? "true" : "false");
    }
    status.addEventListener("change", update);
    update();
  });
})();
