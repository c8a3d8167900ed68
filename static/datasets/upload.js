// Upload page: send the file to the API with a progress bar, then open the new version's page.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) {
    return; // Without script the form posts to the page itself.
  }
  var row = document.getElementById("upload-progress-row");
  var bar = document.getElementById("upload-progress");
  var text = document.getElementById("upload-progress-text");
  var error = document.getElementById("upload-error");
  var submit = document.getElementById("upload-submit");
  var identical = document.getElementById("upload-identical");

  function showIdentical(version) {
    // Nothing new was stored: say so here, with the way to the version that holds this content.
    identical.textContent = version.message + " ";
    var link = document.createElement("a");
    link.href = form.dataset.versionUrl.replace(/\/0\/$/, "/" + version.id + "/");
    link.textContent = "Open version " + version.number;
    identical.appendChild(link);
    identical.hidden = false;
    submit.disabled = false;
    row.hidden = true;
  }

  function showError(message) {
    error.textContent = message;
    error.hidden = false;
    submit.disabled = false;
    row.hidden = true;
  }

  function errorMessage(xhr) {
    try {
      return JSON.parse(xhr.responseText).error.message;
    } catch (ignored) {
      return "The upload failed (HTTP " + xhr.status + "). Try again.";
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.apiUrl);
    xhr.setRequestHeader("X-CSRFToken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (progress) {
      if (progress.lengthComputable) {
        var percent = Math.round((progress.loaded / progress.total) * 100);
        bar.value = percent;
        bar.textContent = percent + "%";
        text.textContent = percent + "%" + (percent === 100 ? ": checking the file…" : "");
      }
    });
    xhr.addEventListener("load", function () {
      if (xhr.status === 200 && JSON.parse(xhr.responseText).message) {
        showIdentical(JSON.parse(xhr.responseText));
      } else if (xhr.status === 200 || xhr.status === 202) {
        var version = JSON.parse(xhr.responseText);
        window.location.href = form.dataset.versionUrl.replace(/\/0\/$/, "/" + version.id + "/");
      } else {
        showError(errorMessage(xhr));
      }
    });
    xhr.addEventListener("error", function () {
      showError("The connection was lost during the upload. Try again: a file already received is not stored twice.");
    });
    error.hidden = true;
    identical.hidden = true;
    submit.disabled = true;
    row.hidden = false;
    xhr.send(data);
  });
})();
