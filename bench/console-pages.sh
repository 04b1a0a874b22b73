#!/usr/bin/env bash
# Console pages (docs/benchmarks.md, "Console"). Goal: each page renders in < 200 ms server time with
# 1,000 issuers and 10,000 open requests; a live update reaches an open page within 1 s of the commit.
#
# Data, all through the API: [issuers] issuers (admin), each with a rotation (a KEY_ACTIVATION request, its key
# generated in SoftHSM2) and a proposed policy change (a POLICY_CHANGE request). The schema allows one live request
# per issuer and kind (activation_request_one_live_per_issuer_kind), so 1,000 issuers hold at most 4,000 open requests
# and this API path gives 2 per issuer; pages are timed at [issuers] issuers, then again after more issuers are added
# the same way until [requests] open requests exist ([requests] / 2 issuers in all).
# Timing: the console's own form login (alice, custodian of every issuer; auditor for the audit pages), each page
# fetched [n] times after 3 untimed, one client: curl's total time on localhost, and the server's own mean from
# Keyhold's http_server_requests_seconds metric (/q/metrics) for that page.
# Live update: a page follows GET /v1/events/stream and, on an event it shows, fetches itself again (console.js).
# Emulated without a browser: a stream reader is open; a policy change is proposed (POST .../policy-changes, which
# opens a request); the latency is the time from sending that POST until the event arrived on the stream plus the time to
# fetch /console/requests again; [n] times.
#
# Usage: bench/console-pages.sh [issuers=1000] [requests=10000] [n=20]
set -euo pipefail
cd "$(dirname "$0")/.."
ISSUERS=${1:-1000}
REQUESTS=${2:-10000}
N=${3:-20}
. bench/sign-setup.sh
machine
add_issuers() { # from to: issuers cp-from..cp-to, each with an open key activation and an open policy change
  local t0
  t0=$(date +%s)
  # Each call's status is printed and counted: a failed call is reported, not hidden.
  # (xargs would replace a literal {} body too: the empty JSON object comes from the environment)
  seq "$1" "$2" | EMPTY_JSON='{}' xargs -P4 -I{} sh -c '
    curl -s -o /dev/null -w "create %{http_code}\n" -u admin:keyhold-dev -H "Content-Type: application/json" "$0/v1/issuers" -d "{\"id\":\"cp-{}\",
      \"issuerUri\":\"https://cp-{}.example\",\"algorithm\":\"ES256\",\"audiences\":[\"api://cp-{}\"],
      \"custodians\":[\"alice\",\"bob\",\"carol\"],\"approvalsRequired\":2,\"signers\":[\"signer\"],\"publishLead\":\"PT2S\",
      \"rotationPeriod\":\"P30D\",\"tokenTtl\":\"PT1H\"}"
    curl -s -o /dev/null -w "rotation %{http_code}\n" -u scheduler:keyhold-dev -H "Content-Type: application/json" -d "$EMPTY_JSON" "$0/v1/issuers/cp-{}/rotations"
    curl -s -o /dev/null -w "policy-change %{http_code}\n" -u admin:keyhold-dev -H "Content-Type: application/json" "$0/v1/issuers/cp-{}/policy-changes" \
      -d "{\"audiences\":[\"api://cp-{}\",\"api://cp-{}/v2\"],\"reason\":\"bench\"}"' "$BASE" | sort | uniq -c | sed 's/^/  /'
  echo "issuers cp-$1..cp-$2 added through the API in $(( $(date +%s) - t0 )) s; now $(sql "select count(*) from issuer") issuers," \
    "$(sql "select count(*) from activation_request where state = 'OPEN'") open requests"
}
login() { # user cookie-jar
  curl -fs -o /dev/null -c "$2" -b "$2" "$BASE/console/login"
  curl -s -o /dev/null -c "$2" -b "$2" -d "j_username=$1&j_password=keyhold-dev" "$BASE/console/j_security_check"
  curl -fs -o /dev/null -b "$2" "$BASE/console/requests" || { echo "console login as $1 failed" >&2; exit 1; }
}
metric() { # uri: "count sum" of http_server_requests_seconds for GET uri with status 200
  curl -fs "$BASE/q/metrics" | awk -v u="uri=\"$1\"" 'index($0, "http_server_requests_seconds_") == 1 && index($0, u) && index($0, "method=\"GET\"") \
    && index($0, "status=\"200\"") { if ($0 ~ /^http_server_requests_seconds_count/) c += $NF; if ($0 ~ /^http_server_requests_seconds_sum/) s += $NF }
    END { print c + 0, s + 0 }'
}
page() { # label cookie-jar path metric-uri
  local i
  for i in 1 2 3; do curl -fs -o /dev/null -b "$2" "$BASE$3"; done
  read -r C0 S0 < <(metric "$4")
  : >"$WORK/times"
  for i in $(seq 1 "$N"); do
    curl -fs -o "$WORK/page.html" -w '%{time_total}\n' -b "$2" "$BASE$3" >>"$WORK/times"
  done
  read -r C1 S1 < <(metric "$4")
  sort -g "$WORK/times" | awk -v l="$1" -v b="$(wc -c <"$WORK/page.html")" -v c=$((C1 - C0)) -v s0="$S0" -v s1="$S1" '{v[NR] = $1 * 1000} END {
    printf "  %-34s %7d bytes: curl p50 %6.1f ms, p95 %6.1f ms, max %6.1f ms; server mean %s\n", l, b, v[int((NR + 1) / 2)],
      v[int(NR * 0.95 + 0.999)], v[NR], (c > 0 ? sprintf("%.1f ms (%d requests)", (s1 - s0) * 1000 / c, c) : "n/a") }'
}
pages() {
  machine
  login alice "$WORK/alice"
  login auditor "$WORK/auditor"
  KID=$(sql "select kid from signing_key where issuer_id = 'cp-1' order by created_at limit 1")
  page "requests (alice, custodian of all)" "$WORK/alice" /console/requests /console/requests
  page "requests (auditor: all)" "$WORK/auditor" /console/requests /console/requests
  page "issuers (alice)" "$WORK/alice" /console/issuers /console/issuers
  page "issuer cp-1 (alice)" "$WORK/alice" /console/issuers/cp-1 "/console/issuers/{id}"
  page "key (auditor: with timeline)" "$WORK/auditor" "/console/keys/$KID" "/console/keys/{kid}"
  page "audit (auditor)" "$WORK/auditor" /console/audit /console/audit
  REQ=$(sql "select id from activation_request where issuer_id = 'cp-1' and state = 'OPEN' limit 1")
  page "request (alice)" "$WORK/alice" "/console/requests/$REQ" "/console/requests/{id}"
}

add_issuers 1 "$ISSUERS"
echo "pages with $ISSUERS issuers:"
pages
MORE=$(( (REQUESTS + 1) / 2 ))
if [ "$MORE" -gt "$ISSUERS" ]; then
  add_issuers $((ISSUERS + 1)) "$MORE"
  echo "pages with $MORE issuers:"
  pages
fi

echo "live update (emulated page: event on /v1/events/stream, then /console/requests fetched again):"
for i in $(seq 1 "$N"); do create_issuer "live-$i" ES256; done
python3 - "$BASE" "$N" "$WORK/alice" <<'PY'
import base64, http.cookiejar, sys, threading, time, urllib.request
base, n, jar = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cj = http.cookiejar.MozillaCookieJar(jar)
cj.load(ignore_discard=True, ignore_expires=True)
page = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cj))
arrived = {}
armed = set()  # issuers whose rotation has been sent: only events after that count (the stream replays history first)
last_seen = [time.time()]
cond = threading.Condition()
def follow():
    with urllib.request.urlopen(urllib.request.Request(base + "/v1/events/stream", headers={"Accept": "text/event-stream"})) as r:
        ev = None
        for raw in r:
            line = raw.decode().strip()
            last_seen[0] = time.time()
            if line.startswith("event:"):
                ev = line[6:].strip()
            elif line.startswith("data:") and ev:
                for i in range(1, n + 1):
                    if (('/issuers/live-%d"' % i) in line or ('"live-%d"' % i) in line) and i in armed and i not in arrived:
                        with cond:
                            arrived[i] = (time.time(), ev)
                            cond.notify_all()
threading.Thread(target=follow, daemon=True).start()
# wait until the replayed history has been read (no line for 2 s), so only live events remain
time.sleep(2)
while time.time() - last_seen[0] < 2:
    time.sleep(0.5)
lat = []
for i in range(1, n + 1):
    # a proposed policy change: always a new open request (a rotation may find the key the sweep already prepared)
    body = ('{"audiences":["api://live-%d","api://live-%d/v2"],"reason":"live update"}' % (i, i)).encode()
    req = urllib.request.Request(base + "/v1/issuers/live-%d/policy-changes" % i, data=body, method="POST")
    req.add_header("Authorization", "Basic " + base64.b64encode(b"admin:keyhold-dev").decode())
    req.add_header("Content-Type", "application/json")
    t0 = time.time()
    with cond:
        armed.add(i)
    urllib.request.urlopen(req).read()
    with cond:
        cond.wait_for(lambda: i in arrived, timeout=30)
    if i not in arrived:
        print("  live-%d: no event within 30 s" % i)
        continue
    page.open(base + "/console/requests").read()
    t2 = time.time()
    lat.append((arrived[i][0] - t0, t2 - t0))
    time.sleep(0.3)
ev = sorted(x[0] * 1000 for x in lat)
tot = sorted(x[1] * 1000 for x in lat)
pick = lambda v, p: v[min(len(v) - 1, max(0, int(round(p / 100 * len(v) + 0.4999)) - 1))]
print("  %d commits: event on the stream p50 %.0f ms, max %.0f ms; page updated (event + refetch) p50 %.0f ms, p95 %.0f ms, max %.0f ms"
      % (len(lat), pick(ev, 50), ev[-1], pick(tot, 50), pick(tot, 95), tot[-1]))
PY
machine
