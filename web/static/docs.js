// Kept out of the page so the Content-Security-Policy can forbid inline scripts on /docs too.
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});
