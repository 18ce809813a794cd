#!/usr/bin/env bash
# Runs the hot-path benchmarks and reports each against the baseline that ran
# in the same invocation (median of COUNT runs), plus allocations per op.
#
#   hack/bench.sh            COUNT=5 BENCHTIME=1s by default
#
# Then the consumer runtime: 10,000 events through the in-memory source
# (events/s, allocs/event) and 500 events from a moto queue (SQS requests per
# event, consumer CPU-seconds per 1,000 events); moto_server must be installed
# (hack/moto.sh). Then eventplane dev's AWS APIs: an SQS receive + delete-batch round
# trip against it and moto (ratio), and the platform fed by an SDK producer.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT="${COUNT:-5}"
BENCHTIME="${BENCHTIME:-1s}"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT

go test -run '^$' -bench 'BenchmarkNormalize|BenchmarkRouter|BenchmarkSetRules|BenchmarkStoreItem' -benchmem \
  -count "$COUNT" -benchtime "$BENCHTIME" ./consumers/event ./consumers/route ./consumers/handlers | tee "$out"

echo
echo "== medians and ratios (baseline ns/op divided by ns/op; for the matcher's rule counts, ns/op divided by the 10-rule baseline's) =="
awk '
  /^Benchmark/ {
    name = $1; sub(/-[0-9]+$/, "", name)
    for (i = 2; i <= NF; i++) {
      if ($i == "ns/op") ns[name] = ns[name] " " $(i-1)
      if ($i == "allocs/op") allocs[name] = $(i-1)
    }
  }
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    for (name in ns) {
      group = name; sub(/\/.*/, "", group)
      med[name] = median(ns[name])
      if (name ~ /baseline/) base[group] = med[name]
    }
    for (name in med) {
      group = name; sub(/\/.*/, "", group)
      line = sprintf("%-60s %10.0f ns/op %4d allocs/op", name, med[name], allocs[name])
      if (name !~ /baseline/ && base[group] > 0 && group ~ /SetRules/) line = line sprintf("   %.2fx the time of 10 rules", med[name] / base[group])
      else if (name !~ /baseline/ && base[group] > 0) line = line sprintf("   %.1fx faster than baseline", base[group] / med[name])
      if (name ~ /Router\/router/) line = line sprintf("   %.2fM matches/s", 1000 / med[name])
      print line
    }
  }' "$out" | sort

echo
echo "== consumer runtime =="
go test -run '^$' -bench 'BenchmarkEngineMemory' -benchtime 3x ./consumers/engine | grep -E '^Benchmark'
go test -run '^$' -bench 'BenchmarkConsumerAgainstMoto' -benchtime 2x ./consumers/sqs | grep -E '^Benchmark'

echo
echo "== the consumer at the bare-SDK floor: ElasticMQ, 20,000 SNS-wrapped CloudEvents, medians of 3 (hack/bench-floor.sh) =="
hack/bench-floor.sh

echo
echo "== local platform end to end (ingest -> bus -> queue -> consumer -> embedded table), 40,000 events =="
go test -run '^$' -bench 'BenchmarkLocal' -benchtime 40000x -count 5 ./consumers/local | grep -E '^Benchmark' | tee "$out.local"
awk '/EndToEnd/ {for (i = 2; i <= NF; i++) { if ($i == "events/s") e = e " " $(i-1); if ($i == "cpu-µs/event") ec = ec " " $(i-1) }}
     /StoreBaseline/ {for (i = 2; i <= NF; i++) { if ($i == "events/s") b = b " " $(i-1); if ($i == "cpu-µs/event") bc = bc " " $(i-1) }}
     function median(list,   n, a, i, j, t) { n = split(list, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }; return a[int((n + 1) / 2)] }
     END { printf "median %.0f events/s end to end; the embedded table alone (same 100-way concurrency) %.0f writes/s: the platform runs at %.2fx its storage floor\n", median(e), median(b), median(e) / median(b)
           printf "CPU per event (moves less with the machine'"'"'s load): %.1f us end to end, %.1f us per write alone (%.1fx)\n", median(ec), median(bc), median(ec) / median(bc) }' "$out.local"
rm -f "$out.local"

aws_apis() {
  # eventplane dev's AWS APIs (consumers/local/awsapi) over loopback: a
  # consumer's poll round trip (ReceiveMessage of 10 + DeleteMessageBatch)
  # against eventplane dev's SQS and moto in the same run, and the platform
  # end to end fed by an aws-sdk-go-v2 PutEvents producer.
  echo
  echo "== AWS APIs of eventplane dev: SQS ReceiveMessage + DeleteMessageBatch round trip (10 messages), vs moto =="
  go test -run '^$' -bench 'BenchmarkSQSRoundTrip' -benchtime 50x -count 3 ./consumers/local/awsapi | grep -E '^Benchmark' | tee "$out.aws"
  awk '/RoundTrip\/eventplane/ {e = e " " $3} /RoundTrip\/moto/ {m = m " " $3}
       function median(list,   n, a, i, j, t) { n = split(list, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }; return a[int((n + 1) / 2)] }
       END { printf "median round trip: eventplane dev %.0f us, moto %.0f us: eventplane dev is %.0fx faster\n", median(e) / 1000, median(m) / 1000, median(m) / median(e) }' "$out.aws"
  rm -f "$out.aws"
  echo
  echo "== local platform end to end fed over the AWS API (SDK PutEvents, 8 clients -> rule -> queue -> consumer -> table), 20,000 events =="
  go test -run '^$' -bench 'BenchmarkAWSEndToEnd' -benchtime 20000x -count 3 ./consumers/local/awsapi | grep -E '^Benchmark'
}
aws_apis

echo
echo "== Lambda functions under the Runtime Interface Emulator =="
go test -run '^$' -bench 'BenchmarkIngestFunction' -benchtime 200x ./consumers/cmd/lambda-ingest | grep -E '^Benchmark'
go test -run '^$' -bench 'BenchmarkSQSFunction' -benchtime 200x ./consumers/cmd/lambda-sqs | grep -E '^Benchmark'
go test -run '^$' -bench 'BenchmarkFilesFunction' -benchtime 50x ./consumers/cmd/lambda-files | grep -E '^Benchmark'
hack/lambda.sh
