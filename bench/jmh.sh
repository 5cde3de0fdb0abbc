#!/usr/bin/env bash
# Microbenchmarks of pgferry's relay hot path (framing, SQL inspection, per-lease parameter check).
# Usage: bench/jmh.sh [JMH options], e.g. bench/jmh.sh -prof gc   (allocation per operation)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -B test-compile dependency:build-classpath -Dmdep.outputFile=target/jmh.classpath -Dmdep.includeScope=test
exec java -cp "target/test-classes:target/classes:$(cat target/jmh.classpath)" org.openjdk.jmh.Main HotPathBenchmark "$@"
