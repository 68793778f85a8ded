// The search form: operations follow the chosen service; two ticked traces open the compare page.
"use strict";

(function () {
  const service = document.getElementById("service");
  const operation = document.getElementById("operation");
  service.addEventListener("change", function () {
    operation.replaceChildren(new Option("all", ""));
    if (!service.value) return;
    fetch("/api/services/" + encodeURIComponent(service.value) + "/operations")
      .then(function (response) { return response.json(); })
      .then(function (body) {
        for (const name of body.data || []) operation.appendChild(new Option(name, name));
      });
  });

  const compare = document.getElementById("compare");
  if (!compare) return;
  const picked = function () { return Array.from(document.querySelectorAll(".pick:checked")).map(function (box) { return box.value; }); };
  document.querySelector(".results").addEventListener("change", function () { compare.disabled = picked().length !== 2; });
  compare.addEventListener("click", function () {
    const ids = picked();
    if (ids.length === 2) location.href = "/trace/" + encodeURIComponent(ids[0]) + "..." + encodeURIComponent(ids[1]);
  });
})();
