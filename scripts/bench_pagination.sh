#!/usr/bin/env bash
# Keyset pagination benchmark: is page 1,000 as cheap as page 1?
#
# Seeds ROWS organizations (default 100,000) into a scratch database, serves
# the release build on PORT, walks PAGES pages (default 1,000) of LIMIT
# (default 50) through GET /v1/organizations following next_cursor, and
# prints the latency of the first and the last pages, then the query plans of
# page 1 and of the last page (rows and buffers read should match).
#
# Needs: cargo, psql, python3 (for the HTTP walk) and a PostgreSQL
# server reachable as ADMIN_URL (default postgres://postgres@127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-100000}
PAGES=${PAGES:-1000}
LIMIT=${LIMIT:-50}
PORT=${PORT:-18080}
SORT=${SORT:-name}
ADMIN_URL=${ADMIN_URL:-postgres://postgres@127.0.0.1:5432}
DB=ar_bench_$$
export DATABASE_URL="$ADMIN_URL/$DB"

cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  psql -q "$ADMIN_URL/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
}
trap cleanup EXIT

cargo build --release --quiet
bin=target/release/alliance-registry
"$bin" migrate >/dev/null
token=$("$bin" keys create --name bench --scopes read 2>/dev/null)

echo "seeding $ROWS organizations"
psql -q "$DATABASE_URL" <<SQL
INSERT INTO organizations (id, name, kind, other_names, created_at, updated_at)
SELECT gen_random_uuid(),
       'Unit ' || md5(i::text),
       (ARRAY['enterprise', 'party_branch', 'science_park'])[1 + i % 3],
       jsonb_build_array(jsonb_build_object('name', '单位' || i, 'lang', 'zh')),
       now() - make_interval(secs => $ROWS - i),
       now()
FROM generate_series(1, $ROWS) AS i;
VACUUM ANALYZE organizations;
SQL

BIND_ADDR=127.0.0.1:$PORT RUST_LOG=warn "$bin" serve &
server=$!
for _ in $(seq 1 100); do
  python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$PORT/health/ready')" 2>/dev/null && break
  sleep 0.1
done

python3 - "$PORT" "$PAGES" "$LIMIT" "$SORT" "$token" <<'PY'
import json, statistics, sys, time, urllib.request
port, pages, limit, sort, token = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
url = f"http://127.0.0.1:{port}/v1/organizations?sort={sort}&limit={limit}"
times, cursor, seen = [], None, set()
for page in range(pages):
    target = url + (f"&cursor={cursor}" if cursor else "")
    start = time.perf_counter()
    request = urllib.request.Request(target, headers={"Authorization": f"Bearer {token}"})
    body = json.load(urllib.request.urlopen(request))
    times.append((time.perf_counter() - start) * 1000)
    for item in body["items"]:
        assert item["id"] not in seen, "duplicate"
        seen.add(item["id"])
    cursor = body["next_cursor"]
    if cursor is None:
        break
first = statistics.median(times[:10])
last = statistics.median(times[-10:])
print(f"walked {len(times)} pages of {limit} ({len(seen)} distinct records)")
print(f"median latency, pages 1-10:            {first:.2f} ms")
print(f"median latency, last 10 pages ({len(times)-9}-{len(times)}): {last:.2f} ms")
print(f"ratio last/first: {last / first:.2f}")
with open("/tmp/ar_bench_cursor", "w") as f:
    f.write(json.dumps({"last_item": body["items"][-1]["name"]}))
PY

# The query a deep page runs: a range scan from the cursor, same cost as page 1.
last_name=$(python3 -c "import json; print(json.load(open('/tmp/ar_bench_cursor'))['last_item'])")
echo
echo "plan, page 1:"
psql -q "$DATABASE_URL" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, SUMMARY OFF)
  SELECT * FROM organizations WHERE deleted_at IS NULL ORDER BY name, id LIMIT $((LIMIT + 1))"
echo "plan, page after '$last_name':"
psql -q "$DATABASE_URL" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, SUMMARY OFF)
  SELECT * FROM organizations WHERE deleted_at IS NULL
    AND (name, id) > ('$last_name', '00000000-0000-0000-0000-000000000000')
  ORDER BY name, id LIMIT $((LIMIT + 1))"
