#!/bin/sh
# Installs edgemon from this checkout as a systemd service, as the edge power
# exporter's install.sh did (use the Debian package, `make deb`, for fleets):
#   init/install.sh [--prefix DIR] [--destdir DIR] [--no-start]
# Builds if needed, installs the binary, the unit and /etc/edgemon/edgemon.yaml
# (an existing one is kept), then enables and starts the service where systemd
# runs. init/uninstall.sh undoes it.
set -eu
prefix=/usr/local
destdir=
start=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    --destdir) destdir=$2; shift 2 ;;
    --no-start) start=no; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
[ -x build/edgemon ] || make build
make install PREFIX="$prefix" DESTDIR="$destdir" >/dev/null
echo "installed $destdir$prefix/bin/edgemon and $destdir/etc/systemd/system/edgemon.service"
"$destdir$prefix/bin/edgemon" check -c "$destdir/etc/edgemon/edgemon.yaml"
if [ -z "$destdir" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  if [ "$start" = yes ]; then
    systemctl enable --now edgemon
    systemctl --no-pager --lines=0 status edgemon || true
  else
    systemctl enable edgemon
  fi
else
  echo "systemd is not running here: start it with '$prefix/bin/edgemon run -c /etc/edgemon/edgemon.yaml'"
fi
