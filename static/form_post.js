// OAuth 2.0 Form Post Response Mode: submit the response to the client at once.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("form-post-response");
  if (form) { form.submit(); }
});
