// /docs: Swagger UI over /openapi.json (a file of its own, for the page's CSP).
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    tryItOutEnabled: true,
    persistAuthorization: false,  // a pasted token lives as long as the page
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
