// Postdesk panel: small progressive enhancements. Every page works without
// this script; it only asks before removals.
document.addEventListener("submit", function (ev) {
  var form = ev.target;
  var msg = form.getAttribute && form.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    ev.preventDefault();
  }
});
