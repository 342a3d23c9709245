//! `GET /openapi.json`, `GET /docs` and the renderer the page runs: Redoc, vendored in
//! `api/assets/redoc` and served from the binary, so the API reference works with no network at
//! all (no CDN, no web fonts), and a content security policy holds the page to that.

use actix_web::HttpResponse;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CacheControl, CacheDirective};
use actix_web::web;

use crate::startup::AppState;

/// Where the page loads Redoc from, relative to the page (`/api/v1/docs`).
pub const REDOC_PATH: &str = "/docs/redoc.standalone.js";
const REDOC: &[u8] = include_bytes!("../assets/redoc/redoc.standalone.js");
/// The script changes only with a new build; a day keeps the page quick and an upgrade visible.
const ASSET_MAX_AGE_SECONDS: u32 = 24 * 60 * 60;

pub async fn openapi(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(state.openapi.clone())
}

pub async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((CONTENT_SECURITY_POLICY, DOCS_POLICY))
        .body(DOCS_PAGE)
}

/// The page may load nothing from another host. Redoc shows its maker's logo from a CDN in the
/// menu's footer; the policy keeps the browser from fetching it (the logo then hides itself), and
/// from fetching anything else a future Redoc might want. Redoc's styles are inline, its search
/// runs in a worker made from a blob, and the page's own script is inline.
const DOCS_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                           script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; connect-src 'self'; \
                           font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub async fn redoc() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((CACHE_CONTROL, CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(ASSET_MAX_AGE_SECONDS)])))
        .body(REDOC)
}

/// Every URL in the page is relative to `/api/v1/docs`, so it works behind any host and prefix.
/// The theme names system fonts only: Redoc's defaults are web fonts the page would have to fetch.
const DOCS_PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>iSpeaker Live API</title>
<link rel="icon" href="data:,">
<style>body { margin: 0; }</style>
</head>
<body>
<div id="redoc"><noscript>This page needs JavaScript. The document itself is <a href="openapi.json">openapi.json</a>.</noscript></div>
<script src="docs/redoc.standalone.js"></script>
<script>
Redoc.init("openapi.json", {
  expandResponses: "200,201",
  jsonSampleExpandLevel: 3,
  schemaExpansionLevel: 2,
  hideDownloadButton: false,
  sortTagsAlphabetically: false,
  pathInMiddlePanel: true,
  requiredPropsFirst: true,
  theme: {
    colors: { primary: { main: "#0f766e" } },
    typography: {
      fontFamily: "system-ui, -apple-system, 'Segoe UI', 'Noto Sans', Roboto, sans-serif",
      fontSize: "15px",
      headings: { fontFamily: "system-ui, -apple-system, 'Segoe UI', 'Noto Sans', Roboto, sans-serif", fontWeight: "600" },
      code: { fontFamily: "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace" }
    },
    sidebar: { width: "280px" },
    rightPanel: { backgroundColor: "#1f2937" }
  }
}, document.getElementById("redoc"));
</script>
</body>
</html>
"##;
