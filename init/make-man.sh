#!/bin/sh
# Writes edgemon(1) in roff to stdout, made from the binary's own --help
# texts so the page never drifts from the program:
#   init/make-man.sh path/to/edgemon VERSION
set -eu
bin=${1:?usage: make-man.sh EDGEMON VERSION}
version=${2:?usage: make-man.sh EDGEMON VERSION}

# Roff reads a leading '.' or "'" as a request and '\' as an escape.
escape() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

cat <<HEAD
.TH EDGEMON 1 "" "edgemon $version" "User Commands"
.SH NAME
edgemon \\- edge monitoring daemon: host metrics, store and forward, hub
.SH SYNOPSIS
.B edgemon
.I COMMAND
.RI [ OPTIONS ]
.SH DESCRIPTION
One daemon for Linux edge boards: Prometheus
.B /metrics
with node_exporter's names, InfluxDB and remote-write outputs that keep every
point in an SQLite spool through outages, a hub that agents push to, local
history with query endpoints, and power sources.
The configuration reference, every key with its default, is
.BR "edgemon config" ;
the manual is /usr/share/doc/edgemon/README.md.gz.
.SH COMMANDS
.nf
HEAD
"$bin" --help | escape
echo ".fi"
for cmd in run check collect spool config version; do
  echo ".SS $cmd"
  echo ".nf"
  "$bin" "$cmd" --help 2>&1 | escape
  echo ".fi"
done
cat <<TAIL
.SH FILES
.TP
.I /etc/edgemon/edgemon.yaml
the configuration read by the systemd unit
.TP
.I /var/lib/edgemon
the state directory: spool.db, history.db, state.db, metrics.json
.SH SEE ALSO
.BR systemctl (1),
.BR sqlite3 (1)
TAIL
