#!/usr/bin/env bash
# Copy of ../shared/pg/compare.sh carried in the repo (quick ad-hoc comparisons; bench/run.sh is the full run).
# Side-by-side pgbench: compare.sh "name=port ..." "mode:clients:script ..." [reps] [seconds]
# mode: simple|extended|prepared; script: S (select-only) or B (tpcb-like). Targets run interleaved
# (A B A B ...) so drift hits all alike. Prints one line per scenario: median tps per target, and the
# ratio of each target to the first. User postgres/secret, database bench (tools/pgenv.sh).
set -uo pipefail
targets=($1); scen=($2); reps=${3:-3}; secs=${4:-8}
export PGPASSWORD=${PGPASSWORD:-secret}
ulimit -n 20000
median() { sort -n | awk '{a[NR]=$1} END{ if(NR==0){print 0} else if(NR%2){print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2} }'; }
for s in "${scen[@]}"; do
  IFS=: read -r mode clients script <<<"$s"
  flag=""; [ "$script" = S ] && flag="-S"
  declare -A res=(); declare -A errs=()
  for r in $(seq "$reps"); do
    for t in "${targets[@]}"; do
      port=${t#*=}
      out=$(timeout $((secs+120)) pgbench -M "$mode" $flag -n -c "$clients" -j 2 -T "$secs" -h 127.0.0.1 -p "$port" -U postgres bench 2>&1)
      tps=$(grep -oP '^tps = \K[0-9.]+' <<<"$out" | head -1)
      [ -z "$tps" ] && { tps=0; errs[$t]=$(grep -m1 -i error <<<"$out" | cut -c1-120); }
      res[$t]="${res[$t]:-} $tps"
    done
  done
  line="$mode c=$clients $script:"
  base=""
  for t in "${targets[@]}"; do
    m=$(tr ' ' '\n' <<<"${res[$t]}" | grep -v '^$' | median)
    [ -z "$base" ] && base=$m
    ratio=$(awk -v a="$m" -v b="$base" 'BEGIN{ if(b>0) printf "%.2f", a/b; else print "n/a"}')
    line="$line ${t%%=*}=${m%.*}tps(x$ratio)"
    [ -n "${errs[$t]:-}" ] && line="$line[${errs[$t]}]"
  done
  echo "$line"
  unset res errs
done
