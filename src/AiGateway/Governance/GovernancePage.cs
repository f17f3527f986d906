using System.Security.Cryptography;
using System.Text.Encodings.Web;

namespace AiGateway.Governance;

/// <summary>
/// <c>GET /admin/governance/{agency}</c>: a read-only page. The HTML shell holds no data and is served openly; its
/// script asks for an admin bearer token (kept in sessionStorage only) and fetches <c>/admin/v1/governance</c>, which
/// requires it. Everything is drawn by the page's own script (SVG chart, no CDN) under a nonce-based CSP, and every
/// value is inserted as text, never as HTML (SCIM display names come from outside).
/// </summary>
internal static class GovernancePage
{
    public static Task HandleAsync(HttpContext context)
    {
        var agency = context.Request.RouteValues["agency"] as string ?? string.Empty;
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var response = context.Response;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.ContentSecurityPolicy =
            $"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        var html = Html.Replace("{{NONCE}}", nonce, StringComparison.Ordinal)
            .Replace("{{AGENCY}}", HtmlEncoder.Default.Encode(agency), StringComparison.Ordinal);
        return response.WriteAsync(html, context.RequestAborted);
    }

    private const string Html = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>AI Gateway governance</title>
        <style nonce="{{NONCE}}">
        body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1b1f24; background: #f6f8fa; }
        header { background: #0b3d91; color: #fff; padding: 12px 24px; }
        main { padding: 16px 24px; max-width: 1200px; }
        section { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 12px 16px; margin-bottom: 16px; }
        h1 { font-size: 20px; margin: 0; } h2 { font-size: 16px; margin: 0 0 8px; }
        table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaeef2; }
        #status { margin: 8px 0; } .grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
        input[type=password] { width: 420px; }
        </style>
        </head>
        <body data-agency="{{AGENCY}}" data-state="locked">
        <header><h1>AI Gateway governance — <span id="agency">{{AGENCY}}</span></h1></header>
        <main>
        <form id="login"><label>Admin bearer token <input id="token" type="password" autocomplete="off" required></label> <button id="load" type="submit">Show</button></form>
        <div id="status" role="status">Paste an admin token of this agency to see its data.</div>
        <div id="data" hidden>
        <section><h2>Usage over time (tokens per day)</h2><div id="chart"></div></section>
        <div class="grid">
        <section><h2>Access by model</h2><table id="access"><thead><tr><th>Model</th><th>Ceiling</th><th>People</th><th>Workloads</th><th>Dormant</th></tr></thead><tbody></tbody></table></section>
        <section><h2>Recent blocks by marking level</h2><table id="blocks"><thead><tr><th>Level</th><th>Blocks</th></tr></thead><tbody></tbody></table></section>
        </div>
        <section><h2>Dormant access</h2><table id="dormant"><thead><tr><th>Kind</th><th>Who</th><th>Status</th><th>Unused models</th><th>Last use</th><th>Owner</th></tr></thead><tbody></tbody></table></section>
        <section><h2>Deprovisioning events</h2><table id="deprovisioning"><thead><tr><th>When</th><th>Event</th><th>Who</th><th>Detail</th></tr></thead><tbody></tbody></table></section>
        </div>
        </main>
        <script nonce="{{NONCE}}">
        (function () {
          'use strict';
          const agency = document.body.dataset.agency;
          const key = 'aigw-admin-token:' + agency;
          const statusBox = document.getElementById('status');
          function row(table, cells) {
            const tr = document.createElement('tr');
            for (const c of cells) { const td = document.createElement('td'); td.textContent = c == null ? '' : String(c); tr.appendChild(td); }
            document.querySelector('#' + table + ' tbody').appendChild(tr);
          }
          function clear(table) { document.querySelector('#' + table + ' tbody').replaceChildren(); }
          function chart(usage) {
            const ns = 'http://www.w3.org/2000/svg', w = 720, h = 200, pad = 30;
            const svg = document.createElementNS(ns, 'svg');
            svg.setAttribute('width', w); svg.setAttribute('height', h); svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
            svg.setAttribute('role', 'img'); svg.setAttribute('aria-label', 'Tokens per day');
            const max = Math.max(1, ...usage.map(u => u.tokens));
            const step = (w - 2 * pad) / Math.max(1, usage.length);
            const axis = document.createElementNS(ns, 'line');
            axis.setAttribute('x1', pad); axis.setAttribute('y1', h - pad); axis.setAttribute('x2', w - pad); axis.setAttribute('y2', h - pad); axis.setAttribute('stroke', '#57606a');
            svg.appendChild(axis);
            usage.forEach((u, i) => {
              const bh = Math.round((h - 2 * pad) * u.tokens / max);
              const r = document.createElementNS(ns, 'rect');
              r.setAttribute('class', 'bar'); r.setAttribute('data-day', u.day); r.setAttribute('data-tokens', u.tokens);
              r.setAttribute('x', Math.round(pad + i * step + 2)); r.setAttribute('width', Math.max(2, Math.round(step - 4)));
              r.setAttribute('y', h - pad - bh); r.setAttribute('height', bh); r.setAttribute('fill', u.blocked > 0 ? '#cf222e' : '#0969da');
              const t = document.createElementNS(ns, 'title'); t.textContent = u.day + ': ' + u.tokens + ' tokens, ' + u.requests + ' requests, ' + u.blocked + ' refused';
              r.appendChild(t); svg.appendChild(r);
              if (i % Math.ceil(usage.length / 7) === 0) {
                const label = document.createElementNS(ns, 'text');
                label.setAttribute('x', Math.round(pad + i * step)); label.setAttribute('y', h - 10); label.setAttribute('font-size', '10');
                label.textContent = u.day.slice(5); svg.appendChild(label);
              }
            });
            document.getElementById('chart').replaceChildren(svg);
          }
          function render(d) {
            chart(d.usage);
            clear('access'); for (const m of d.accessByModel) row('access', [m.model, m.ceiling, m.people, m.workloads, m.dormant]);
            clear('blocks'); const levels = Object.keys(d.blocks.byLevel);
            if (levels.length === 0) row('blocks', ['none', 0]); for (const l of levels) row('blocks', [l, d.blocks.byLevel[l]]);
            clear('dormant'); for (const e of d.dormant) row('dormant', [e.kind, e.userName || e.subjectId, e.status, e.models.join(', '), e.lastUse || 'never', e.owner || '']);
            clear('deprovisioning'); for (const e of d.deprovisioning) row('deprovisioning', [e.at, e.kind, e.subject, e.detail]);
          }
          async function load(token) {
            statusBox.textContent = 'Loading…';
            let r;
            try {
              r = await fetch('/admin/v1/governance?agency=' + encodeURIComponent(agency) + '&days=14', { headers: { 'Authorization': 'Bearer ' + token }, cache: 'no-store' });
            } catch (e) { statusBox.textContent = 'The gateway could not be reached.'; return; }
            if (!r.ok) {
              sessionStorage.removeItem(key);
              document.getElementById('data').hidden = true;
              document.body.dataset.state = 'denied';
              statusBox.textContent = 'Access denied (HTTP ' + r.status + '): an admin token of agency ' + agency + ' is required.';
              return;
            }
            sessionStorage.setItem(key, token);
            render(await r.json());
            document.getElementById('data').hidden = false;
            document.body.dataset.state = 'loaded';
            statusBox.textContent = 'Data as of ' + new Date().toISOString();
          }
          document.getElementById('login').addEventListener('submit', function (e) {
            e.preventDefault();
            load(document.getElementById('token').value.trim());
          });
          const saved = sessionStorage.getItem(key);
          if (saved) load(saved);
        })();
        </script>
        </body>
        </html>
        """;
}
