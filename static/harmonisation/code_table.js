// Mapping editor: "Add a row" adds a blank code -> value row to the code table (without script, the page
// comes back with blank rows after each save).
(function () {
  "use strict";
  var table = document.getElementById("code-table-rows");
  var button = document.getElementById("add-code-row");
  if (!table || !button) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    var rows = table.querySelectorAll("tr");
    var row = rows[rows.length - 1].cloneNode(true);
    var number = rows.length + 1;
    row.querySelectorAll("input").forEach(function (input) {
      input.value = "";
      input.id = input.id.replace(/\d+$/, String(number));
      input.setAttribute("aria-label", input.getAttribute("aria-label").replace(/\d+$/, String(number)));
    });
    table.appendChild(row);
    row.querySelector("input").focus();
  });
})();
