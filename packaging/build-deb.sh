#!/bin/sh
# Build softfax_<version>_<arch>.deb with dpkg-deb: the binary, the systemd unit, the default
# configuration (a conffile), the spool folder and a system user made at install time.
#   packaging/build-deb.sh [BINARY [OUTDIR]]   (default: target/release/softfax, target/deb)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=${1:-$root/target/release/softfax}
out=${2:-$root/target/deb}
[ -x "$bin" ] || { echo "build-deb: no binary at $bin (cargo build --release)" >&2; exit 2; }
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg="$stage/softfax"
# Stripped, as Debian ships binaries; the debug info stays in the build tree.
install -D -m 0755 -s "$bin" "$pkg/usr/bin/softfax"
install -D -m 0644 "$here/softfax.service" "$pkg/lib/systemd/system/softfax.service"
install -D -m 0640 "$here/softfax.toml" "$pkg/etc/softfax/softfax.toml"
install -d -m 0750 "$pkg/var/spool/softfax"
install -D -m 0644 "$root/docs/operations.md" "$pkg/usr/share/doc/softfax/operations.md"
install -D -m 0644 "$root/README.md" "$pkg/usr/share/doc/softfax/README.md"
install -d "$pkg/DEBIAN"
size=$(du -sk "$pkg" | cut -f1)
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: softfax
Version: $version
Architecture: $arch
Maintainer: softfax <softfax@example.invalid>
Installed-Size: $size
Depends: libc6, adduser
Section: comm
Priority: optional
Description: soft-modem fax engine and e-mail-to-fax gateway
 An ESMTP off-ramp (RFC 2304/2305, XACCOUNTING) that sends fax-mail as T.30
 fax calls over DAHDI lines, with a spool, DSNs, RADIUS accounting and
 Prometheus metrics; runs as the systemd service softfax.service.
CONTROL
echo /etc/softfax/softfax.toml > "$pkg/DEBIAN/conffiles"
cat > "$pkg/DEBIAN/postinst" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    if ! getent passwd softfax >/dev/null; then
        adduser --system --group --home /var/spool/softfax --no-create-home \
            --gecos "softfax gateway" softfax >/dev/null
    fi
    getent group dialout >/dev/null && adduser softfax dialout >/dev/null 2>&1 || true
    chown softfax:softfax /var/spool/softfax
    chmod 0750 /var/spool/softfax
    chown root:softfax /etc/softfax/softfax.toml
    chmod 0640 /etc/softfax/softfax.toml
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload >/dev/null || true
        # Enabled by the administrator once the lines are set (docs/operations.md).
        systemctl try-restart softfax.service >/dev/null || true
    fi
fi
exit 0
SCRIPT
cat > "$pkg/DEBIAN/prerm" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
    systemctl stop softfax.service >/dev/null 2>&1 || true
fi
exit 0
SCRIPT
cat > "$pkg/DEBIAN/postrm" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
fi
# The spool (queued faxes, the accounting log) and the user stay after a purge, as mail
# spools do; remove them by hand when they are no longer wanted.
exit 0
SCRIPT
chmod 0755 "$pkg/DEBIAN/postinst" "$pkg/DEBIAN/prerm" "$pkg/DEBIAN/postrm"
mkdir -p "$out"
deb="$out/softfax_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zgzip --build "$pkg" "$deb" >/dev/null
echo "$deb"
