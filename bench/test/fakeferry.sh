#!/usr/bin/env bash
# Builds /tmp/fakeferry/fakeferry.jar from FakeFerry.java (a TCP forwarder standing in for pgferry,
# for testing the bench scripts' pgferry path only; thread per connection, so keep client counts low).
set -euo pipefail
D=/tmp/fakeferry; mkdir -p "$D/classes"
javac -d "$D/classes" "$(dirname "$0")/FakeFerry.java"
jar --create --file "$D/fakeferry.jar" --main-class FakeFerry -C "$D/classes" .
echo "$D/fakeferry.jar"
