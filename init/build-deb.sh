#!/bin/sh
# Builds a Debian package of edgemon from a finished build directory:
#   init/build-deb.sh BUILD_DIR OUT_DIR
# The binary (stripped), the systemd unit, /etc/edgemon/edgemon.yaml as a
# conffile (kept on upgrade, removed on purge), a system user and the state
# directory made by postinst, the README and a man page made from --help.
# Plain dpkg-deb: no debhelper on the boards' build machines, and nothing
# here needs it. `make deb` runs this; lintian checks the result in the tests.
set -eu

build=${1:?usage: build-deb.sh BUILD_DIR OUT_DIR}
out=${2:?usage: build-deb.sh BUILD_DIR OUT_DIR}
src=$(cd "$(dirname "$0")/.." && pwd)
bin="$build/edgemon"
[ -x "$bin" ] || { echo "build-deb.sh: $bin not built (make build)" >&2; exit 1; }

# DEB_VERSION overrides the binary's own (a rebuild for the fleet: 0.1.0+site1).
version=${DEB_VERSION:-$("$bin" version | awk '{print $2}')}
# Who builds this fleet's package: set DEB_MAINTAINER to your team's address.
maintainer=${DEB_MAINTAINER:-edgemon maintainers <packaging@edgemon.invalid>}
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
doc="$root/usr/share/doc/edgemon"

install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/edgemon" \
  "$doc" "$root/usr/share/man/man1"
install -m 0755 -s "$bin" "$root/usr/bin/edgemon"
sed -e 's|/usr/local/bin/|/usr/bin/|g' \
    -e 's|^Documentation=.*|Documentation=man:edgemon(1) file:///usr/share/doc/edgemon/README.md.gz|' \
    -e 's|`make install` puts this in /etc/systemd/system/.|the Debian package puts this in /lib/systemd/system/.|' \
    "$src/init/edgemon.service" > "$root/lib/systemd/system/edgemon.service"
chmod 0644 "$root/lib/systemd/system/edgemon.service"
install -m 0644 "$src/etc/edgemon.yaml" "$root/etc/edgemon/edgemon.yaml"
gzip -9n -c "$src/README.md" > "$doc/README.md.gz"
sh "$src/init/make-man.sh" "$bin" "$version" | gzip -9n > "$root/usr/share/man/man1/edgemon.1.gz"

# Native package: its changelog is the project's, kept short.
date_r=$(date -R -d "@$(git -C "$src" log -1 --format=%ct 2>/dev/null || date +%s)")
cat > "$stage/changelog" <<CHANGES
edgemon ($version) unstable; urgency=medium

  * Built from revision $("$bin" version | sed -n 's/.*revision \([0-9a-f]*\).*/\1/p').
    See /usr/share/doc/edgemon/README.md.gz.

 -- $maintainer  $date_r
CHANGES
gzip -9n -c "$stage/changelog" > "$doc/changelog.gz"

{
  cat <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: edgemon

Files: *
Copyright: 2026 the edgemon authors
License: edgemon
 The authors have not published edgemon under a licence yet; until they do,
 this package is for the fleets it was built for and may not be
 redistributed.

Files: libstdc++ and libgcc (linked in statically)
Copyright: Free Software Foundation, Inc.
License: GPL-3+ with GCC-exception-3.1
 GCC's runtime libraries, under the GCC Runtime Library Exception 3.1, which
 lets a program compiled with GCC carry them under the program's own terms.
 On Debian systems the GPL-3 is in /usr/share/common-licenses/GPL-3.

Files: llhttp (linked in statically)
Copyright: Fedor Indutny and other llhttp contributors
License: Expat
COPYRIGHT
  # The licence text of the llhttp sources compiled in, as Debian ships it.
  sed -n '/^License: Expat/,/^$/p' /usr/share/doc/node-llhttp/copyright 2>/dev/null | tail -n +2
} > "$doc/copyright"
chmod 0644 "$doc"/*

echo /etc/edgemon/edgemon.yaml > "$root/DEBIAN/conffiles"

# Runtime dependencies: the package of every library the binary links, at
# least the version installed here. libssl3 is loaded only when an https://
# output or a Shelly with a password is configured, libsnappy1v5 and
# libprotobuf-c1 only when a remote_write output is.
depends=$(ldd "$bin" | awk '/=> \//{print $3}' | while read -r lib; do
  real=$(readlink -f "$lib")
  pkg=$(dpkg -S "$real" 2>/dev/null | head -n1 | cut -d: -f1) || true
  [ -n "$pkg" ] || pkg=$(dpkg -S "$lib" 2>/dev/null | head -n1 | cut -d: -f1) || true
  [ -n "$pkg" ] || continue
  ver=$(dpkg-query -W -f='${Version}' "$pkg" | sed 's/-[^-]*$//')
  echo "$pkg (>= $ver)"
done | sort -u | paste -sd, - | sed 's/,/, /g')
installed_kib=$(du -sk --exclude=DEBIAN "$root" | cut -f1)

cat > "$root/DEBIAN/control" <<CONTROL
Package: edgemon
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_kib
Depends: adduser, $depends
Recommends: libssl3, libsnappy1v5, libprotobuf-c1
Section: admin
Priority: optional
Homepage: https://localhost/edgemon
Description: edge monitoring daemon: host metrics, store and forward, hub
 One small daemon for Linux edge boards (Jetson, Raspberry Pi, x86 boxes):
 Prometheus /metrics with node_exporter's names, InfluxDB and remote-write
 outputs that keep every point in an SQLite spool through outages, a hub
 that agents push to, local history with query endpoints, and power sources
 (tegrastats, RAPL, hwmon, power_supply, Shelly plugs).
CONTROL

cat > "$root/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  # A static system user, which the unit's DynamicUser= then uses as is.
  if ! getent passwd edgemon >/dev/null; then
    adduser --system --group --home /var/lib/edgemon --no-create-home \
      --gecos "edgemon daemon" edgemon >/dev/null
  fi
  install -d -o edgemon -g edgemon -m 0750 /var/lib/edgemon
fi
if [ "$1" = configure ] || [ "$1" = abort-upgrade ] || [ "$1" = abort-deconfigure ] ||
   [ "$1" = abort-remove ]; then
  # As debhelper's dh_installsystemd does: enabled on first install, an
  # operator's disable kept on upgrades.
  deb-systemd-helper unmask edgemon.service >/dev/null || true
  if deb-systemd-helper --quiet was-enabled edgemon.service; then
    deb-systemd-helper enable edgemon.service >/dev/null || true
  else
    deb-systemd-helper update-state edgemon.service >/dev/null || true
  fi
  if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null || true
    if [ -n "${2:-}" ]; then
      deb-systemd-invoke try-restart edgemon.service >/dev/null || true
    else
      deb-systemd-invoke start edgemon.service >/dev/null || true
    fi
  fi
fi
exit 0
POSTINST

cat > "$root/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
  deb-systemd-invoke stop edgemon.service >/dev/null || true
fi
exit 0
PRERM

cat > "$root/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = remove ]; then
  deb-systemd-helper mask edgemon.service >/dev/null || true
fi
if [ "$1" = purge ]; then
  deb-systemd-helper purge edgemon.service >/dev/null || true
  deb-systemd-helper unmask edgemon.service >/dev/null || true
  # The spool, history and state go with a purge; the user stays (Debian
  # does not remove system users: files may still be owned by it).
  rm -rf /var/lib/edgemon /var/log/edgemon
fi
exit 0
POSTRM
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"

(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z |
  xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control" "$root/DEBIAN/conffiles"

mkdir -p "$out"
deb="$out/edgemon_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
