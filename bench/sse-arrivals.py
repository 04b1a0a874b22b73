#!/usr/bin/env python3
# Logs when each event of a Keyhold SSE stream arrives: "<epoch ms> <type> <subject>" per line, reconnecting
# (from now on) whenever the stream drops, for up to 10 minutes. Used beside bench/revocation-propagation.sh as a
# client with no validator logic: PORT=18555 bench/revocation-propagation.sh & bench/sse-arrivals.py
# http://127.0.0.1:18555/v1/events/stream arrivals.txt (docs/benchmarks.md, "Revocation propagation to validators").
import sys, time, urllib.request, json
url = sys.argv[1]
out = open(sys.argv[2], 'w', buffering=1)
deadline = time.time() + 600
while time.time() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=3600) as r:
            for raw in r:
                line = raw.decode().rstrip('\n')
                if line.startswith('data: '):
                    d = json.loads(line[6:])
                    out.write('%.1f %s %s\n' % (time.time() * 1000, d.get('type'), d.get('subject')))
    except Exception as e:
        time.sleep(0.2)
