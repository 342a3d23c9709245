//! `GET /openapi.json` and `GET /docs`: the spec, and a page that renders it with no network
//! access (no CDN: the renderer is the few lines of script below).

use actix_web::{HttpResponse, web};

use crate::startup::AppState;

pub async fn openapi(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(state.openapi.clone())
}

pub async fn docs() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(DOCS_PAGE)
}

const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>iSpeaker Live API</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1f2937}
h1{font-size:1.5rem} .op{border:1px solid #e5e7eb;border-radius:6px;margin:.5rem 0;padding:.5rem 1rem}
.m{display:inline-block;min-width:4rem;font-weight:700}.get{color:#2563eb}.post{color:#16a34a}.delete{color:#dc2626}.patch{color:#d97706}
code{background:#f3f4f6;padding:0 .25rem} pre{background:#f9fafb;overflow:auto;padding:.5rem;font-size:.8rem}
</style></head><body>
<h1>iSpeaker Live API</h1><p>From <a href="/api/v1/openapi.json">openapi.json</a>. Bearer-token routes are marked 🔒.</p>
<div id="ops">Loading…</div>
<script>
fetch('/api/v1/openapi.json').then(r => r.json()).then(spec => {
  const ops = document.getElementById('ops'); ops.textContent = '';
  for (const [path, item] of Object.entries(spec.paths)) for (const [method, op] of Object.entries(item)) {
    const div = document.createElement('details'); div.className = 'op';
    const summary = document.createElement('summary');
    summary.innerHTML = `<span class="m ${method}">${method.toUpperCase()}</span> <code></code> ${op.security ? '🔒' : ''} <span></span>`;
    summary.querySelector('code').textContent = path; summary.querySelector('span:last-child').textContent = op.summary || '';
    const pre = document.createElement('pre'); pre.textContent = JSON.stringify({parameters: op.parameters, requestBody: op.requestBody, responses: op.responses}, null, 2);
    div.append(summary, pre); ops.append(div);
  }
}).catch(e => { document.getElementById('ops').textContent = 'Could not load the spec: ' + e; });
</script></body></html>"#;
