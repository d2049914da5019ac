// /docs: Swagger UI over this mock's spec; "Try it out" is pre-authorized with a fixture admin key.
(function () {
  "use strict";
  const ui = SwaggerUIBundle({
    url: "/docs/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    tryItOutEnabled: true,
    persistAuthorization: false,
    displayOperationId: true,
    docExpansion: "list",
    validatorUrl: null,
    onComplete: function () {
      fetch("/__mock/keys").then(function (r) { return r.ok ? r.json() : null; }).then(function (keys) {
        if (!keys || !keys.accounts || !keys.accounts.length) { return; }
        const admin = keys.accounts.find(function (a) { return a.level === "admin"; }) || keys.accounts[0];
        ui.preauthorizeApiKey("apiKey", admin.key);
        document.getElementById("docs-auth").textContent = "Try it out uses the fixture key of " + admin.name;
      }).catch(function () { /* no control API: the reader authorizes by hand */ });
    },
  });
  window.ui = ui;
})();
