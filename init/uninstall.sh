#!/bin/sh
# Removes what init/install.sh installed:
#   init/uninstall.sh [--prefix DIR] [--destdir DIR] [--purge]
# Stops and disables the service, removes the binary, the unit and the docs.
# /etc/edgemon (your configuration) and /var/lib/edgemon (spool, history:
# points not yet delivered) are kept unless --purge is given.
set -eu
prefix=/usr/local
destdir=
purge=no
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    --destdir) destdir=$2; shift 2 ;;
    --purge) purge=yes; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "uninstall.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$destdir" ] && [ -d /run/systemd/system ]; then
  systemctl disable --now edgemon 2>/dev/null || true
fi
rm -f "$destdir$prefix/bin/edgemon" "$destdir/etc/systemd/system/edgemon.service"
rm -rf "$destdir$prefix/share/doc/edgemon"
if [ -z "$destdir" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
fi
if [ "$purge" = yes ]; then
  rm -rf "$destdir/etc/edgemon" "$destdir/var/lib/edgemon" "$destdir/var/log/edgemon"
  echo "removed edgemon, its configuration and its state"
else
  echo "removed edgemon; kept $destdir/etc/edgemon and $destdir/var/lib/edgemon (--purge removes them)"
fi
