// Postdesk panel: small progressive enhancements. Every page works without
// this script; it only asks before removals.
document.addEventListener("submit", function (ev) {
  var form = ev.target;
  var msg = form.getAttribute && form.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    ev.preventDefault();
  }
});

// Webmail: a "select all" box over a message list, and address completion
// in the recipient fields from the domain's directory (the datalist works
// without this script for the first address; with it, for each address
// typed after a comma, and for names past the first 200).
document.querySelectorAll("table.messages .select-all").forEach(function (box) {
  box.hidden = false;
  box.addEventListener("change", function () {
    box.closest("table").querySelectorAll("tbody input[type=checkbox]").forEach(function (b) {
      b.checked = box.checked;
    });
  });
});

document.querySelectorAll("input[data-complete]").forEach(function (input) {
  var list = document.getElementById(input.getAttribute("list"));
  if (!list) {
    return;
  }
  var timer = null;
  input.addEventListener("input", function () {
    var value = input.value;
    var cut = value.lastIndexOf(",");
    var head = cut >= 0 ? value.slice(0, cut + 1) + " " : "";
    var term = value.slice(cut + 1).trim();
    clearTimeout(timer);
    if (term.length < 1) {
      return;
    }
    timer = setTimeout(function () {
      fetch(input.getAttribute("data-complete") + "?q=" + encodeURIComponent(term), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (entries) {
          list.textContent = "";
          entries.forEach(function (e) {
            var o = document.createElement("option");
            o.value = head + e.value;
            o.label = e.label;
            list.appendChild(o);
          });
        })
        .catch(function () {});
    }, 150);
  });
});
