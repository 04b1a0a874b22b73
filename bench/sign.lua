-- wrk script: POST /v1/issuers/<issuer>/sign as signer (Basic auth). Set ISSUER in the environment.
local issuer = os.getenv("ISSUER")
wrk.method = "POST"
wrk.path = "/v1/issuers/" .. issuer .. "/sign"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic c2lnbmVyOmtleWhvbGQtZGV2" -- signer:keyhold-dev
wrk.body = '{"claims":{"sub":"user-1","aud":"api://' .. issuer .. '","scope":"read write"}}'

-- No response() callback: with one, wrk hands every response's headers and body to Lua, load-generator work
-- on the same cores as the server. Non-2xx answers are counted by wrk itself (summary.errors.status).
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f requests=%d non2xx=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
